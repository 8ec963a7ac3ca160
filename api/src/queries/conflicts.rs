//! Schedule conflicts (communication.md, `Query.scheduleConflicts`): what is wrong with the
//! plan of the releases under way in a window, one entry per problem.

use std::collections::HashMap;

use entity::enums::{ReleaseEventKind, ReleaseStatus, ReleaseType};
use entity::{freeze_window, release, release_event};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Visible;
use super::calendar::freeze_overlapping;
use super::dependencies::{self, Direction};
use super::span::{Ends, Span};
use crate::auth::Scope;
use crate::domain::lifecycle::covering;
use crate::error::{ApiError, ApiResult};
use crate::time::{self, DAY_MICROS};

/// The longest window one request may cover.
pub const MAX_RANGE_DAYS: i64 = 366;
/// `maxReleasesPerDay` when not given.
pub const DEFAULT_MAX_PER_DAY: i32 = 5;

/// The statuses of a release under way.
pub const UNDER_WAY: [ReleaseStatus; 6] = [
    ReleaseStatus::Planned,
    ReleaseStatus::Scheduled,
    ReleaseStatus::InBuild,
    ReleaseStatus::InTest,
    ReleaseStatus::Approved,
    ReleaseStatus::Deploying,
];

/// The kinds of problem, in the order one release's problems are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConflictKind {
    Freeze,
    DependencyOrder,
    Overdue,
    CrowdedDay,
}

#[derive(Debug, Clone)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub release: release::Model,
    /// The release depended on, for DEPENDENCY_ORDER.
    pub other: Option<release::Model>,
    /// The window, for FREEZE.
    pub freeze_window: Option<freeze_window::Model>,
    pub message: String,
}

/// The problems of the plans of the releases under way in `visible` whose span overlaps
/// `[from, to)` (the calendar's rule), ordered by plannedEnd then id. A dependency on a
/// release outside `caller` (the caller's whole scope) is left out.
pub async fn conflicts<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    caller: &Scope,
    from: i64,
    to: i64,
    max_per_day: i32,
    now: i64,
) -> ApiResult<Vec<Conflict>> {
    if to <= from {
        return Err(ApiError::bad_input("to", "must be after from"));
    }
    if to - from > MAX_RANGE_DAYS * DAY_MICROS {
        return Err(ApiError::bad_input(
            "to",
            format!("the range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    if !(1..=1000).contains(&max_per_day) {
        return Err(ApiError::bad_input(
            "maxReleasesPerDay",
            "must be between 1 and 1000",
        ));
    }
    let db = visible.db();
    let planned_end = Expr::col(release::Column::PlannedEnd);
    let releases = visible
        .releases()
        .filter(release::Column::Status.is_in(UNDER_WAY))
        .filter(release::Column::PlannedEnd.is_not_null())
        .filter(Span::new(Some(from), Some(to)).overlaps(
            Expr::col(release::Column::PlannedStart).if_null(planned_end.clone()),
            planned_end,
            Ends::At,
        ))
        .all(db)
        .await?;
    if releases.is_empty() {
        return Ok(Vec::new());
    }
    let keys = super::program_keys(db, releases.iter().map(|r| r.program_id)).await?;
    let name = |r: &release::Model| {
        format!(
            "{} {}",
            keys.get(&r.program_id).map_or("", String::as_str),
            r.version
        )
    };
    let ends = releases.iter().filter_map(|r| r.planned_end);
    let (first_end, last_end) = (ends.clone().min(), ends.max());
    let (Some(first_end), Some(last_end)) = (first_end, last_end) else {
        return Ok(Vec::new());
    };

    let mut found = Vec::new();
    let windows = visible
        .freeze_windows()
        .filter(freeze_overlapping(Span::new(
            Some(first_end),
            Some(last_end + 1),
        )))
        .all(db)
        .await?;
    let overrides = freeze_overrides(db, &releases).await?;
    for r in &releases {
        let Some(end) = r.planned_end else { continue };
        if r.release_type == ReleaseType::Emergency || overrides.contains(&r.id) {
            continue;
        }
        let binding: Vec<freeze_window::Model> = windows
            .iter()
            .filter(|w| w.program_id.is_none_or(|p| p == r.program_id))
            .cloned()
            .collect();
        if let Some(window) = covering(&binding, end) {
            found.push(Conflict {
                kind: ConflictKind::Freeze,
                release: r.clone(),
                other: None,
                freeze_window: Some(window.clone()),
                message: format!(
                    "{} is planned to end at {}, in freeze window '{}'",
                    name(r),
                    time::rfc3339(end),
                    window.name
                ),
            });
        }
    }

    let ids: Vec<i64> = releases.iter().map(|r| r.id).collect();
    let links = dependencies::links(db, &ids, Direction::DependsOn).await?;
    for r in &releases {
        let Some(end) = r.planned_end else { continue };
        for link in links.get(&r.id).into_iter().flatten() {
            let other = &link.other;
            let later = other.planned_end.is_some_and(|theirs| end < theirs);
            if link.met() || !later || !caller.contains(other.program_id) {
                continue;
            }
            found.push(Conflict {
                kind: ConflictKind::DependencyOrder,
                release: r.clone(),
                other: Some(other.clone()),
                freeze_window: None,
                message: format!(
                    "{} is planned to end before {} {}, which it depends on",
                    name(r),
                    link.other_program,
                    other.version
                ),
            });
        }
        if end < now {
            found.push(Conflict {
                kind: ConflictKind::Overdue,
                release: r.clone(),
                other: None,
                freeze_window: None,
                message: format!("{} was planned to end at {}", name(r), time::rfc3339(end)),
            });
        }
    }

    // A day counts every release of the program ending on it, in the window or not.
    let day_of = |at: i64| at.div_euclid(DAY_MICROS);
    let ending: Vec<(i64, Option<i64>)> = visible
        .releases()
        .select_only()
        .column(release::Column::ProgramId)
        .column(release::Column::PlannedEnd)
        .filter(release::Column::Status.is_in(UNDER_WAY))
        .filter(release::Column::PlannedEnd.gte(day_of(first_end) * DAY_MICROS))
        .filter(release::Column::PlannedEnd.lt((day_of(last_end) + 1) * DAY_MICROS))
        .into_tuple()
        .all(db)
        .await?;
    let mut per_day: HashMap<(i64, i64), i64> = HashMap::new();
    for (program, end) in ending {
        if let Some(end) = end {
            *per_day.entry((program, day_of(end))).or_default() += 1;
        }
    }
    for r in &releases {
        let Some(end) = r.planned_end else { continue };
        let count = per_day
            .get(&(r.program_id, day_of(end)))
            .copied()
            .unwrap_or_default();
        if count > i64::from(max_per_day) {
            let day = time::rfc3339(day_of(end) * DAY_MICROS);
            found.push(Conflict {
                kind: ConflictKind::CrowdedDay,
                release: r.clone(),
                other: None,
                freeze_window: None,
                message: format!(
                    "{count} releases of {} are planned to end on {}, more than {max_per_day}",
                    keys.get(&r.program_id).map_or("", String::as_str),
                    day.get(..10).unwrap_or(&day)
                ),
            });
        }
    }
    found.sort_by_key(|c| (c.release.planned_end, c.release.id, c.kind));
    Ok(found)
}

/// The releases whose latest move to SCHEDULED overrode a freeze for the plannedEnd they
/// still have: no update has set plannedEnd since.
async fn freeze_overrides(
    db: &impl ConnectionTrait,
    releases: &[release::Model],
) -> ApiResult<Vec<i64>> {
    let events = release_event::Entity::find()
        .filter(release_event::Column::ReleaseId.is_in(releases.iter().map(|r| r.id)))
        .filter(
            release_event::Column::ToStatus
                .eq(ReleaseStatus::Scheduled)
                .or(release_event::Column::Kind.eq(ReleaseEventKind::Updated)),
        )
        .order_by_asc(release_event::Column::Id)
        .all(db)
        .await?;
    let mut overridden: HashMap<i64, bool> = HashMap::new();
    for event in events {
        if event.to_status == Some(ReleaseStatus::Scheduled) {
            overridden.insert(event.release_id, event.overrode_freeze);
        } else if event
            .note
            .as_deref()
            .is_some_and(|note| note.contains("plannedEnd"))
        {
            overridden.insert(event.release_id, false);
        }
    }
    Ok(overridden
        .into_iter()
        .filter_map(|(id, overrode)| overrode.then_some(id))
        .collect())
}
