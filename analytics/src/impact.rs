//! Did an improvement action move its target metric? (metrics.md, *Improvement impact*)
//!
//! The target figure of the action's program before and after the action took effect,
//! from the production tier's derived rows (the rows `metrics` counts, so each figure has
//! one definition: a test holds these values to `metrics` over the same window), with its
//! interval, verdict, and the same change over every other program the caller may see.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use crate::intervals::{Interval, bootstrap_medians, newcombe, welch};
use crate::model::MetricName;
use crate::rules::{DAY, rate};
use crate::timeline::{COUNTED, FAILED, ON_TIME, PLANNED, Programs, REWORK, SUCCEEDED, Timelines};

/// What to compute: actions of programs, seen by a caller who may see `visible`.
#[derive(Debug, Clone)]
pub struct ImpactQuery {
    pub now: i64,
    pub window_days: u32,
    /// The program ids the caller may see; None for every program.
    pub visible: Option<Vec<i64>>,
    pub actions: Vec<ActionRef>,
}

/// An action with a target, as far as its impact goes.
#[derive(Debug, Clone, Copy)]
pub struct ActionRef {
    /// Its release's program.
    pub program: i64,
    pub target: MetricName,
    pub effective_at: i64,
    /// The bootstrap's seed (metrics.md: from the action's global id).
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Improved,
    Worsened,
    NoDetectableChange,
    InsufficientData,
}

/// One side of an action's effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactWindow {
    pub from: i64,
    pub to: i64,
    pub value: Option<f64>,
    pub observations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impact {
    pub metric: MetricName,
    pub effective_at: i64,
    pub window_days: u32,
    pub before: ImpactWindow,
    pub after: ImpactWindow,
    pub partial: bool,
    pub change: Option<f64>,
    pub relative_change: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub verdict: Verdict,
    pub baseline_change: Option<f64>,
    pub net_change: Option<f64>,
}

/// The fewest observations a side needs for a verdict, and the fewest whole days for
/// deployment frequency.
const MINIMUM: u64 = 10;
const MINIMUM_DAYS: u64 = 7;

/// A figure over one window, with what its interval needs.
struct Side {
    value: Option<f64>,
    observations: u64,
    /// The rate's successes and trials.
    counts: (u64, u64),
    /// Durations ascending, or deployments per whole day.
    values: Vec<f64>,
}

impl Side {
    fn rate(part: u64, whole: u64, observations: u64) -> Self {
        Self {
            value: rate(part, whole),
            observations,
            counts: (part, whole),
            values: Vec::new(),
        }
    }
}

/// The target figure of `programs` over `[from, to)`. With `own`, also the values an
/// interval needs (only the action's program has one).
fn side(
    t: &Timelines,
    metric: MetricName,
    programs: &Programs,
    own: Option<u32>,
    from: i64,
    to: i64,
) -> Side {
    match metric {
        MetricName::DeploymentFrequency => {
            // Counts per whole day from the window's start; a shorter last day is left out.
            let days = ((to - from) / DAY).max(0) as u64;
            let end = from + days as i64 * DAY;
            let (_, flags) = t.deploys.count(programs, from, end);
            let values = own
                .and_then(|p| t.deploys.programs.get(p as usize))
                .map(|own| {
                    let mut per_day = vec![0.0; days as usize];
                    for time in own.times(from, end, SUCCEEDED) {
                        per_day[((time - from) / DAY) as usize] += 1.0;
                    }
                    per_day
                })
                .unwrap_or_default();
            Side {
                value: (days > 0).then(|| flags[SUCCEEDED] as f64 / days as f64),
                observations: days,
                counts: (0, 0),
                values,
            }
        }
        MetricName::LeadTime | MetricName::TimeToRestore => {
            let durations = if metric == MetricName::LeadTime {
                &t.leads
            } else {
                &t.restores
            };
            let (value, observations) = durations.median(programs, from, to);
            Side {
                value,
                observations,
                counts: (0, 0),
                values: own
                    .map(|p| durations.of_program(p, from, to))
                    .unwrap_or_default(),
            }
        }
        MetricName::ChangeFailureRate => {
            let (_, f) = t.deploys.count(programs, from, to);
            Side::rate(f[FAILED], f[COUNTED], f[COUNTED])
        }
        MetricName::ReworkRate => {
            let (_, f) = t.deploys.count(programs, from, to);
            Side::rate(f[REWORK], f[SUCCEEDED], f[SUCCEEDED])
        }
        MetricName::OnTimeRate => {
            let (_, f) = t.delivered.count(programs, from, to);
            Side::rate(f[ON_TIME], f[PLANNED], f[PLANNED])
        }
        MetricName::GateFirstPassRate => {
            let (gates, f) = t.gates.count(programs, from, to);
            Side::rate(f[0], gates, gates)
        }
        MetricName::UnplannedRate => {
            let (production, _) = t.deploys.count(programs, from, to);
            let (unplanned, _) = t.unplanned.count(programs, from, to);
            let observations = production + unplanned;
            Side::rate(unplanned, observations, observations)
        }
    }
}

fn difference(after: Option<f64>, before: Option<f64>) -> Option<f64> {
    Some(after? - before?)
}

/// Intervals of the bootstrap already computed, by what they were computed from: a result
/// depends only on its seed and values, and an unchanged window gives the same again.
#[derive(Default)]
pub struct Bootstraps(Mutex<HashMap<u64, Interval>>);

/// The most intervals remembered; past it they are forgotten and computed again.
const REMEMBERED: usize = 100_000;

impl Bootstraps {
    fn interval(&self, after: &[f64], before: &[f64], seed: u64) -> Option<Interval> {
        let mut key = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut key);
        for side in [after, before] {
            side.len().hash(&mut key);
            side.iter().for_each(|v| v.to_bits().hash(&mut key));
        }
        let key = key.finish();
        if let Some(known) = self
            .0
            .lock()
            .ok()
            .and_then(|known| known.get(&key).copied())
        {
            return Some(known);
        }
        let interval = bootstrap_medians(after, before, seed)?;
        if let Ok(mut known) = self.0.lock() {
            if known.len() >= REMEMBERED {
                known.clear();
            }
            known.insert(key, interval);
        }
        Some(interval)
    }
}

/// The verdict of an interval of after − before: none without one; a change when the
/// whole interval lies on one side of zero (an interval touching zero is no change).
fn verdict(interval: Option<Interval>, lower_is_better: bool) -> Verdict {
    let Some((low, high)) = interval else {
        return Verdict::InsufficientData;
    };
    let (fell, rose) = (high < 0.0, low > 0.0);
    match (fell, rose, lower_is_better) {
        (true, _, true) | (_, true, false) => Verdict::Improved,
        (_, true, true) | (true, _, false) => Verdict::Worsened,
        _ => Verdict::NoDetectableChange,
    }
}

/// The impact of one action whose program has the number `own` (None: a program with no
/// rows yet), over timelines of the production tier.
pub fn impact(
    t: &Timelines,
    bootstraps: &Bootstraps,
    q: &ImpactQuery,
    action: &ActionRef,
    own: Option<u32>,
    others: &Programs,
) -> Impact {
    let metric = action.target;
    let e = action.effective_at;
    let span = i64::from(q.window_days) * DAY;
    let (before_from, after_to) = (e - span, (e + span).min(q.now));
    let mine = Programs::Only(own.into_iter().collect());
    let before = side(t, metric, &mine, own, before_from, e);
    let after = side(t, metric, &mine, own, e, after_to);
    let change = difference(after.value, before.value);
    let relative_change = match (change, before.value) {
        (Some(c), Some(b)) if b != 0.0 => Some(c / b),
        _ => None,
    };
    let minimum = if metric == MetricName::DeploymentFrequency {
        MINIMUM_DAYS
    } else {
        MINIMUM
    };
    let enough = before.observations >= minimum && after.observations >= minimum;
    let interval = if !enough {
        None
    } else if metric.is_rate() {
        newcombe(after.counts, before.counts)
    } else if metric == MetricName::DeploymentFrequency {
        welch(&after.values, &before.values)
    } else {
        bootstraps.interval(&after.values, &before.values, action.seed)
    };
    let verdict = verdict(interval, metric.lower_is_better());
    let baseline_change = match others {
        Programs::Only(none) if none.is_empty() => None,
        others => difference(
            side(t, metric, others, None, e, after_to).value,
            side(t, metric, others, None, before_from, e).value,
        ),
    };
    Impact {
        metric,
        effective_at: e,
        window_days: q.window_days,
        before: ImpactWindow {
            from: before_from,
            to: e,
            value: before.value,
            observations: before.observations,
        },
        after: ImpactWindow {
            from: e,
            to: after_to,
            value: after.value,
            observations: after.observations,
        },
        partial: q.now < e + span,
        change,
        relative_change,
        low: interval.map(|i| i.0),
        high: interval.map(|i| i.1),
        verdict,
        baseline_change,
        net_change: difference(change, baseline_change),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_needs_the_whole_interval_on_one_side_of_zero() {
        use Verdict::*;
        for (interval, lower, higher) in [
            (None, InsufficientData, InsufficientData),
            (Some((-2.0, -1e-9)), Improved, Worsened),
            (Some((1e-9, 2.0)), Worsened, Improved),
            (Some((-2.0, 0.0)), NoDetectableChange, NoDetectableChange),
            (Some((0.0, 2.0)), NoDetectableChange, NoDetectableChange),
            (Some((0.0, 0.0)), NoDetectableChange, NoDetectableChange),
            (Some((-1.0, 1.0)), NoDetectableChange, NoDetectableChange),
        ] {
            assert_eq!(
                verdict(interval, true),
                lower,
                "{interval:?}, lower is better"
            );
            assert_eq!(
                verdict(interval, false),
                higher,
                "{interval:?}, higher is better"
            );
        }
    }
}
