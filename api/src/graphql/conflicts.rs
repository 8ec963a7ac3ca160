//! Schedule conflicts: `Query.scheduleConflicts`.

use async_graphql::{Context, Enum, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::context::{viewer, visible};
use crate::graphql::freeze::FreezeWindow;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::queries::conflicts::{self, ConflictKind};
use crate::time;

/// What is wrong with a release's plan.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScheduleConflictKind {
    Freeze,
    DependencyOrder,
    Overdue,
    CrowdedDay,
}

/// One problem of one release's plan.
#[derive(SimpleObject, Clone)]
pub struct ScheduleConflict {
    pub kind: ScheduleConflictKind,
    pub release: Release,
    /// The other release, for DEPENDENCY_ORDER.
    pub other: Option<Release>,
    /// The freeze window, for FREEZE.
    pub freeze_window: Option<FreezeWindow>,
    pub message: String,
}

impl From<conflicts::Conflict> for ScheduleConflict {
    fn from(conflict: conflicts::Conflict) -> Self {
        Self {
            kind: match conflict.kind {
                ConflictKind::Freeze => ScheduleConflictKind::Freeze,
                ConflictKind::DependencyOrder => ScheduleConflictKind::DependencyOrder,
                ConflictKind::Overdue => ScheduleConflictKind::Overdue,
                ConflictKind::CrowdedDay => ScheduleConflictKind::CrowdedDay,
            },
            release: Release(conflict.release),
            other: conflict.other.map(Release),
            freeze_window: conflict.freeze_window.map(FreezeWindow),
            message: conflict.message,
        }
    }
}

#[derive(Default)]
pub struct ConflictQuery;

#[Object]
impl ConflictQuery {
    /// What is wrong with the plans of releases under way whose span overlaps [from, to)
    /// (at most 366 days): FREEZE, DEPENDENCY_ORDER, OVERDUE and CROWDED_DAY (more than
    /// maxReleasesPerDay, 1–1000, of one program planned to end on one UTC day), ordered
    /// by plannedEnd then release.
    async fn schedule_conflicts(
        &self,
        ctx: &Context<'_>,
        from: Timestamp,
        to: Timestamp,
        program_keys: Option<Vec<String>>,
        #[graphql(default = 5)] max_releases_per_day: Option<i32>,
    ) -> ApiResult<Vec<ScheduleConflict>> {
        let caller = &viewer(ctx)?.scope;
        let mut visible = visible(ctx)?;
        if let Some(keys) = &program_keys {
            visible = visible.narrowed("programKeys", keys).await?;
        }
        let max = max_releases_per_day.unwrap_or(conflicts::DEFAULT_MAX_PER_DAY);
        let found = conflicts::conflicts(
            &visible,
            caller,
            from.micros(),
            to.micros(),
            max,
            time::now_micros(),
        )
        .await?;
        Ok(found.into_iter().map(ScheduleConflict::from).collect())
    }
}
