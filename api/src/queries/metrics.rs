//! The window of a metrics query (`Query.metrics`) or a trend report: one checked type for
//! GraphQL and the exports, so both refuse the same windows with the same words; and the
//! programs such a query covers, resolved once from the caller's scope.

use analytics::{Granularity, MetricName, Metrics, ProgramRef};
use entity::enums as db;
use strum::IntoEnumIterator;

use crate::auth::Scope;
use crate::error::ApiError;

/// `[from, to)` cut into buckets of `granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
    pub granularity: Granularity,
}

/// Why a window was refused: the field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowError {
    pub field: &'static str,
    pub message: String,
}

impl From<WindowError> for ApiError {
    fn from(err: WindowError) -> Self {
        ApiError::bad_input(err.field, err.message)
    }
}

impl Window {
    /// `to` must be after `from`, and the window cut into at most [`MAX_BUCKETS`] buckets.
    pub fn new(from: i64, to: i64, granularity: Granularity) -> Result<Self, WindowError> {
        if to <= from {
            return Err(WindowError {
                field: "to",
                message: "must be after from".into(),
            });
        }
        let window = Self {
            from,
            to,
            granularity,
        };
        if window.buckets() > MAX_BUCKETS {
            return Err(WindowError {
                field: "granularity",
                message: format!(
                    "the window would have more than {MAX_BUCKETS} buckets; choose a coarser one"
                ),
            });
        }
        Ok(window)
    }

    /// How many buckets the window has.
    pub fn buckets(&self) -> usize {
        analytics::buckets(self.from, self.to, self.granularity).len()
    }
}

/// A figure of the whole window that rests on fewer observations than asked for
/// (metrics.md, *Sample warnings*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub metric: MetricName,
    pub observations: u64,
    pub message: String,
}

/// The fewest observations `minimumSample` may ask for, and the most.
pub const MINIMUM_SAMPLE: std::ops::RangeInclusive<i32> = 1..=1000;

/// The warnings of `metrics` for `minimum` observations, in the order of the metrics.
pub fn warnings(metrics: &Metrics, minimum: u64) -> Vec<Warning> {
    MetricName::iter()
        .filter_map(|metric| {
            let observations = metrics.observations(metric);
            (observations < minimum).then(|| Warning {
                metric,
                observations,
                message: format!(
                    "{} rests on {observations} observation{}, fewer than {minimum}",
                    describe(metric),
                    if observations == 1 { "" } else { "s" },
                ),
            })
        })
        .collect()
}

/// A metric in words.
fn describe(metric: MetricName) -> &'static str {
    match metric {
        MetricName::DeploymentFrequency => "deployment frequency",
        MetricName::LeadTime => "lead time",
        MetricName::ChangeFailureRate => "change failure rate",
        MetricName::TimeToRestore => "time to restore",
        MetricName::ReworkRate => "rework rate",
        MetricName::OnTimeRate => "on-time rate",
        MetricName::GateFirstPassRate => "gate first pass rate",
        MetricName::UnplannedRate => "unplanned rate",
    }
}

/// A stored metric name as the analytics crate knows it.
pub fn metric(name: db::MetricName) -> MetricName {
    match name {
        db::MetricName::DeploymentFrequency => MetricName::DeploymentFrequency,
        db::MetricName::LeadTime => MetricName::LeadTime,
        db::MetricName::ChangeFailureRate => MetricName::ChangeFailureRate,
        db::MetricName::TimeToRestore => MetricName::TimeToRestore,
        db::MetricName::ReworkRate => MetricName::ReworkRate,
        db::MetricName::OnTimeRate => MetricName::OnTimeRate,
        db::MetricName::GateFirstPassRate => MetricName::GateFirstPassRate,
        db::MetricName::UnplannedRate => MetricName::UnplannedRate,
    }
}

/// An analytics metric name as stored and served.
pub fn stored(name: MetricName) -> db::MetricName {
    match name {
        MetricName::DeploymentFrequency => db::MetricName::DeploymentFrequency,
        MetricName::LeadTime => db::MetricName::LeadTime,
        MetricName::ChangeFailureRate => db::MetricName::ChangeFailureRate,
        MetricName::TimeToRestore => db::MetricName::TimeToRestore,
        MetricName::ReworkRate => db::MetricName::ReworkRate,
        MetricName::OnTimeRate => db::MetricName::OnTimeRate,
        MetricName::GateFirstPassRate => db::MetricName::GateFirstPassRate,
        MetricName::UnplannedRate => db::MetricName::UnplannedRate,
    }
}

/// A stored severity as the analytics crate knows it.
pub fn severity(severity: db::Severity) -> analytics::Severity {
    match severity {
        db::Severity::Sev1 => analytics::Severity::Sev1,
        db::Severity::Sev2 => analytics::Severity::Sev2,
        db::Severity::Sev3 => analytics::Severity::Sev3,
        db::Severity::Sev4 => analytics::Severity::Sev4,
    }
}

/// The most trend buckets one query may ask for.
pub const MAX_BUCKETS: usize = 2_000;

/// The programs a query covers: those of `all` the caller may see, narrowed to `keys` when
/// given. A key naming no program the caller may see is the error, so a program out of
/// scope answers exactly as one that does not exist.
pub fn programs_in_scope<'k>(
    all: &[ProgramRef],
    scope: &Scope,
    keys: Option<&'k [String]>,
) -> Result<Vec<ProgramRef>, &'k str> {
    let visible = all.iter().filter(|p| scope.contains(p.id));
    let Some(keys) = keys else {
        return Ok(visible.cloned().collect());
    };
    let visible: Vec<&ProgramRef> = visible.collect();
    if let Some(missing) = keys.iter().find(|k| !visible.iter().any(|p| &p.key == *k)) {
        return Err(missing);
    }
    Ok(visible
        .into_iter()
        .filter(|p| keys.contains(&p.key))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_runs_forward_and_has_few_enough_buckets() {
        let day = crate::time::DAY_MICROS;
        assert!(Window::new(0, 30 * day, Granularity::Day).is_ok());
        assert_eq!(
            Window::new(day, day, Granularity::Day).unwrap_err().field,
            "to"
        );
        let long = Window::new(0, 3_000 * day, Granularity::Day).unwrap_err();
        assert_eq!(long.field, "granularity");
        assert!(Window::new(0, 3_000 * day, Granularity::Month).is_ok());
    }

    fn programs() -> Vec<ProgramRef> {
        [(1, "MOB"), (2, "PAY"), (3, "WEB")]
            .map(|(id, key)| ProgramRef {
                id,
                key: key.into(),
            })
            .to_vec()
    }

    fn keys(selected: &[ProgramRef]) -> Vec<&str> {
        selected.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn selects_the_visible_programs_named() {
        let all = programs();
        let scope = Scope::Programs(vec![1, 2]);
        assert_eq!(
            keys(&programs_in_scope(&all, &scope, None).unwrap()),
            ["MOB", "PAY"]
        );
        let wanted = ["PAY".to_owned()];
        assert_eq!(
            keys(&programs_in_scope(&all, &scope, Some(&wanted)).unwrap()),
            ["PAY"]
        );
        assert_eq!(programs_in_scope(&all, &Scope::All, None).unwrap(), all);
    }

    #[test]
    fn out_of_scope_and_unknown_keys_fail_alike() {
        let all = programs();
        let scope = Scope::Programs(vec![1]);
        let hidden = ["MOB".to_owned(), "WEB".to_owned()];
        assert_eq!(programs_in_scope(&all, &scope, Some(&hidden)), Err("WEB"));
        let unknown = ["NOPE".to_owned()];
        assert_eq!(programs_in_scope(&all, &scope, Some(&unknown)), Err("NOPE"));
    }
}
