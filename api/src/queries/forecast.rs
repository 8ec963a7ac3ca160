//! Forecasts of releases under way and their accuracy (metrics.md, *Forecast* and *Forecast
//! accuracy*), from this process's analytics store.

use std::ops::RangeInclusive;

use analytics::{Accuracy, AccuracyQuery, Forecast, ForecastQuery, Subject};
use entity::enums as db;
use entity::release;
use sea_orm::ConnectionTrait;

use super::Visible;
use crate::auth::{Role, Scope};
use crate::error::{ApiError, ApiResult};
use crate::metrics::cache::Snapshot;
use crate::queries::metrics::programs_in_scope;

/// Who may read forecast accuracy (lifecycle.md); forecasts themselves are for every role.
pub const READER: Role = Role::Analyst;

/// The days before plannedEnd `leadDays` may ask for.
pub const LEAD_DAYS: RangeInclusive<i32> = 1..=90;

/// `leadDays` when left out or null.
pub const DEFAULT_LEAD_DAYS: i32 = 7;

/// The statuses of releases under way, which have a forecast when they have a plannedEnd.
pub const UNDER_WAY: [db::ReleaseStatus; 6] = [
    db::ReleaseStatus::Planned,
    db::ReleaseStatus::Scheduled,
    db::ReleaseStatus::InBuild,
    db::ReleaseStatus::InTest,
    db::ReleaseStatus::Approved,
    db::ReleaseStatus::Deploying,
];

/// `leadDays` checked.
pub fn lead_days(days: i32) -> ApiResult<u32> {
    if LEAD_DAYS.contains(&days) {
        Ok(days.unsigned_abs())
    } else {
        Err(ApiError::bad_input(
            "leadDays",
            format!("must be from {} to {}", LEAD_DAYS.start(), LEAD_DAYS.end()),
        ))
    }
}

/// The release as its forecast needs it.
pub fn subject(release: &release::Model) -> Subject {
    Subject {
        release: release.id,
        program: release.program_id,
        kind: match release.release_type {
            db::ReleaseType::Major => analytics::ReleaseType::Major,
            db::ReleaseType::Minor => analytics::ReleaseType::Minor,
            db::ReleaseType::Patch => analytics::ReleaseType::Patch,
            db::ReleaseType::Emergency => analytics::ReleaseType::Emergency,
        },
        status: status(release.status),
        created_at: release.created_at,
        planned_end: release.planned_end,
    }
}

fn status(status: db::ReleaseStatus) -> analytics::ReleaseStatus {
    use analytics::ReleaseStatus as A;
    match status {
        db::ReleaseStatus::Planned => A::Planned,
        db::ReleaseStatus::Scheduled => A::Scheduled,
        db::ReleaseStatus::InBuild => A::InBuild,
        db::ReleaseStatus::InTest => A::InTest,
        db::ReleaseStatus::Approved => A::Approved,
        db::ReleaseStatus::Deploying => A::Deploying,
        db::ReleaseStatus::Deployed => A::Deployed,
        db::ReleaseStatus::Reviewed => A::Reviewed,
        db::ReleaseStatus::RolledBack => A::RolledBack,
        db::ReleaseStatus::Cancelled => A::Cancelled,
    }
}

/// The stored spelling of a forecast's stage.
pub fn stored_status(status: analytics::ReleaseStatus) -> db::ReleaseStatus {
    use analytics::ReleaseStatus as A;
    match status {
        A::Planned => db::ReleaseStatus::Planned,
        A::Scheduled => db::ReleaseStatus::Scheduled,
        A::InBuild => db::ReleaseStatus::InBuild,
        A::InTest => db::ReleaseStatus::InTest,
        A::Approved => db::ReleaseStatus::Approved,
        A::Deploying => db::ReleaseStatus::Deploying,
        A::Deployed => db::ReleaseStatus::Deployed,
        A::Reviewed => db::ReleaseStatus::Reviewed,
        A::RolledBack => db::ReleaseStatus::RolledBack,
        A::Cancelled => db::ReleaseStatus::Cancelled,
    }
}

/// The programs of `scope`, None for all.
fn visible_programs(scope: &Scope) -> Option<Vec<i64>> {
    match scope {
        Scope::All => None,
        Scope::Programs(ids) => Some(ids.clone()),
    }
}

/// The forecast of each of `releases` (releases the caller of `scope` may see) at `now`, in
/// their order, in one pass; the TYPE class spans the programs of `scope`.
pub async fn forecasts(
    snapshot: &Snapshot,
    scope: &Scope,
    now: i64,
    releases: Vec<Subject>,
) -> ApiResult<Vec<Option<Forecast>>> {
    if releases.is_empty() {
        return Ok(Vec::new());
    }
    snapshot
        .forecasts(ForecastQuery {
            now,
            visible: visible_programs(scope),
            releases,
        })
        .await
}

/// Forecast accuracy over releases delivered in `[from, to)` of the programs `keys` names
/// (all the caller may see when None), forecast `lead_days` before their plannedEnd;
/// ANALYST and up.
pub async fn accuracy<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    snapshot: &Snapshot,
    from: i64,
    to: i64,
    keys: Option<&[String]>,
    lead_days: u32,
) -> ApiResult<Accuracy> {
    visible.require(READER)?;
    accuracy_in_scope(snapshot, visible.scope(), from, to, keys, lead_days).await
}

/// [`accuracy`] for a caller whose role was checked where it came in (the command line).
pub async fn accuracy_in_scope(
    snapshot: &Snapshot,
    scope: &Scope,
    from: i64,
    to: i64,
    keys: Option<&[String]>,
    lead_days: u32,
) -> ApiResult<Accuracy> {
    if to <= from {
        return Err(ApiError::bad_input("to", "must be after from"));
    }
    let programs = programs_in_scope(&snapshot.programs, scope, keys)
        .map_err(|missing| ApiError::NotFound(format!("programKeys: program {missing}")))?;
    snapshot
        .forecast_accuracy(AccuracyQuery {
            from,
            to,
            programs: programs.into_iter().map(|p| p.id).collect(),
            visible: visible_programs(scope),
            lead_days,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_days_run_from_one_to_ninety() {
        assert_eq!((lead_days(1).ok(), lead_days(90).ok()), (Some(1), Some(90)));
        for days in [0, 91, -7] {
            assert!(matches!(lead_days(days), Err(ApiError::BadUserInput(_))));
        }
    }

    #[test]
    fn every_status_reads_back_as_stored() {
        use sea_orm::Iterable;
        for stored in db::ReleaseStatus::iter() {
            assert_eq!(stored_status(status(stored)), stored);
        }
    }
}
