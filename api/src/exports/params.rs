//! The parameters of a report, checked: the same for `GET /v1/exports/…` and `relm export`.
//!
//! `from` and `to` mean what they mean in the GraphQL API: for releases, plannedEnd in
//! `[from, to)` (ReleaseFilter); for deployments, incidents and actions, a life span that
//! overlaps `[from, to)` (as on the release calendar); for the trend, the metrics window.

use analytics::Granularity;
use sea_orm::{DatabaseConnection, DbErr};

use super::{Dataset, Export, Format};
use crate::auth::Scope;
use crate::db::MaybeLost;
use crate::error::ApiError;
use crate::metrics::cache;
use crate::queries::impact;
use crate::queries::metrics::Window;
use crate::queries::metrics::programs_in_scope;
use crate::time;

/// The most rows a trend report may have (programs × buckets).
pub const MAX_TREND_ROWS: usize = 500_000;

/// The parameters as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub from: Option<String>,
    pub to: Option<String>,
    pub program_keys: Vec<String>,
    pub granularity: Option<String>,
    pub window_days: Option<String>,
}

/// A parameter that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct ParamError {
    /// The parameter's name in the query string: from, to, programKey, granularity or
    /// windowDays.
    pub parameter: String,
    pub message: String,
}

fn bad(parameter: &str, message: impl Into<String>) -> ParamError {
    ParamError {
        parameter: parameter.into(),
        message: message.into(),
    }
}

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl MaybeLost for ExportError {
    fn lost(&self) -> bool {
        matches!(self, Self::Failed(err) if err.lost())
    }
}

impl From<DbErr> for ExportError {
    fn from(err: DbErr) -> Self {
        Self::Failed(err.into())
    }
}

impl Params {
    /// Reads query-string pairs. An unknown parameter, or `from`, `to` or `granularity`
    /// given twice, is an error: a typo must not quietly widen a report.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ParamError> {
        let mut params = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "programKey" => {
                    params.program_keys.push(value);
                    continue;
                }
                "from" => &mut params.from,
                "to" => &mut params.to,
                "granularity" => &mut params.granularity,
                "windowDays" => &mut params.window_days,
                _ => {
                    return Err(bad(
                        &name,
                        "unknown parameter; the parameters are from, to, programKey, granularity and windowDays",
                    ));
                }
            };
            if slot.replace(value).is_some() {
                return Err(bad(&name, "given more than once"));
            }
        }
        Ok(params)
    }
}

fn timestamp(parameter: &str, text: Option<&str>) -> Result<Option<i64>, ParamError> {
    text.map(|text| {
        time::parse_rfc3339(text).ok_or_else(|| {
            // A query string decodes an unescaped '+' of an offset as a space.
            let hint = if text.contains(' ') {
                "; in a URL, write the + of an offset as %2B"
            } else {
                ""
            };
            bad(
                parameter,
                format!(
                    "'{text}' is not an RFC 3339 timestamp with an offset, e.g. \
                     2026-11-27T10:00:00Z{hint}"
                ),
            )
        })
    })
    .transpose()
}

fn granularity(text: &str) -> Result<Granularity, ParamError> {
    text.parse().map_err(|_| {
        bad(
            "granularity",
            format!("'{text}' is not one of DAY, WEEK, MONTH or QUARTER"),
        )
    })
}

/// Checks `params` for a report of `dataset` and resolves the programs in it: those
/// `scope` may see, narrowed to the `programKey`s. A key naming no program the caller may
/// see is an error, the same whether the program exists or not.
pub async fn resolve(
    db: &DatabaseConnection,
    scope: &Scope,
    dataset: Dataset,
    format: Format,
    params: Params,
) -> Result<Export, ExportError> {
    let from = timestamp("from", params.from.as_deref())?;
    let to = timestamp("to", params.to.as_deref())?;
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(bad("to", "must be after from").into());
    }
    let granularity = match (&params.granularity, dataset) {
        (Some(text), Dataset::Trend) => granularity(text)?,
        (None, _) => Granularity::Month,
        (Some(_), _) => {
            return Err(bad("granularity", "only the trend dataset has buckets").into());
        }
    };
    let window_days = match (&params.window_days, dataset) {
        (Some(text), Dataset::Impact) => text
            .parse::<i32>()
            .ok()
            .and_then(|days| impact::window_days(days).ok())
            .ok_or_else(|| {
                bad(
                    "windowDays",
                    format!(
                        "'{text}' is not a number of days from {} to {}",
                        impact::WINDOW_DAYS.start(),
                        impact::WINDOW_DAYS.end()
                    ),
                )
            })?,
        (None, _) => impact::DEFAULT_WINDOW_DAYS.unsigned_abs(),
        (Some(_), _) => {
            return Err(bad("windowDays", "only the impact dataset has windows").into());
        }
    };
    if dataset == Dataset::Forecast
        && let Some(given) = [("from", from), ("to", to)]
            .iter()
            .find(|(_, t)| t.is_some())
    {
        return Err(bad(
            given.0,
            "the forecast dataset is of the releases under way now and takes no window",
        )
        .into());
    }
    let all = cache::programs(db).await?;
    let keys = (!params.program_keys.is_empty()).then_some(params.program_keys.as_slice());
    let programs = programs_in_scope(&all, scope, keys)
        .map_err(|key| bad("programKey", format!("no program '{key}'")))?;
    let every_program = programs.len() == all.len();

    if dataset.computed() {
        let required = format!("required for the {} dataset", dataset.name());
        let from = from.ok_or_else(|| bad("from", required.clone()))?;
        let to = to.ok_or_else(|| bad("to", required))?;
        if dataset == Dataset::Impact && to - from > impact::MAX_LIST_DAYS * time::DAY_MICROS {
            return Err(bad(
                "to",
                format!("the window may span at most {} days", impact::MAX_LIST_DAYS),
            )
            .into());
        }
    }
    if dataset == Dataset::Trend
        && let (Some(from), Some(to)) = (from, to)
    {
        let buckets = Window::new(from, to, granularity)
            .map_err(|e| bad(e.field, e.message))?
            .buckets();
        if buckets * programs.len() > MAX_TREND_ROWS {
            return Err(bad(
                "granularity",
                format!(
                    "the report would have {buckets} buckets for each of {} programs; \
                     choose a coarser granularity, a shorter window or fewer programs",
                    programs.len()
                ),
            )
            .into());
        }
    }
    Ok(Export {
        dataset,
        format,
        from,
        to,
        programs,
        every_program,
        granularity,
        scope: scope.clone(),
        window_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_repeated_program_keys() {
        let params = Params::from_pairs(pairs(&[
            ("programKey", "PAY"),
            ("from", "2026-01-01T00:00:00Z"),
            ("programKey", "MOB"),
        ]))
        .unwrap();
        assert_eq!(params.program_keys, ["PAY", "MOB"]);
        assert_eq!(params.from.as_deref(), Some("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn names_unknown_and_repeated_parameters() {
        let err = Params::from_pairs(pairs(&[("program", "PAY")])).unwrap_err();
        assert_eq!(err.parameter, "program");
        let err = Params::from_pairs(pairs(&[("to", "a"), ("to", "b")])).unwrap_err();
        assert_eq!(err.parameter, "to");
        assert_eq!(err.message, "given more than once");
    }

    #[test]
    fn timestamps_need_an_offset() {
        assert_eq!(
            timestamp("from", Some("2026-01-01T00:00:00+01:00")).unwrap(),
            time::parse_rfc3339("2025-12-31T23:00:00Z")
        );
        assert_eq!(
            timestamp("from", Some("2026-01-01")).unwrap_err().parameter,
            "from"
        );
        assert_eq!(timestamp("to", None).unwrap(), None);
        let unescaped = timestamp("from", Some("2026-01-01T00:00:00 01:00")).unwrap_err();
        assert!(
            unescaped
                .message
                .ends_with("write the + of an offset as %2B")
        );
    }

    #[test]
    fn granularity_is_one_of_four() {
        assert_eq!(granularity("week").unwrap(), Granularity::Week);
        assert_eq!(granularity("QUARTER").unwrap(), Granularity::Quarter);
        assert_eq!(granularity("YEAR").unwrap_err().parameter, "granularity");
    }
}
