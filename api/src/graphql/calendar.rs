//! The release calendar: releases, deployments and freeze windows on one time line.

use async_graphql::{Context, Enum, Object, SimpleObject};
use entity::{deployment, freeze_window, release};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::auth::Scope;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{db, loaders, viewer};
use crate::graphql::deployment::Deployment;
use crate::graphql::freeze::{self, FreezeWindow};
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::metrics::cache::programs;
use crate::metrics::select_programs;

/// The longest range one calendar request may cover.
const MAX_RANGE_DAYS: i64 = 400;

/// What a calendar entry shows.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CalendarEntryKind {
    Release,
    Deployment,
    Freeze,
}

/// One entry of the release calendar.
#[derive(SimpleObject, Clone)]
pub struct CalendarEntry {
    pub kind: CalendarEntryKind,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub release: Option<Release>,
    pub deployment: Option<Deployment>,
    pub freeze_window: Option<FreezeWindow>,
}

impl CalendarEntry {
    fn new(kind: CalendarEntryKind, title: String, starts_at: i64, ends_at: Option<i64>) -> Self {
        Self {
            kind,
            title,
            starts_at: Timestamp(starts_at),
            ends_at: ends_at.map(Timestamp),
            release: None,
            deployment: None,
            freeze_window: None,
        }
    }
}

/// The releases the calendar shows: of the programs asked for (already within the caller's
/// scope), or of every program the caller may see.
fn program_condition(scope: &Scope, asked: Option<&[i64]>) -> Condition {
    let ids = match (asked, scope) {
        (Some(ids), _) => ids,
        (None, Scope::Programs(ids)) => ids.as_slice(),
        (None, Scope::All) => return Condition::all(),
    };
    Condition::all().add(release::Column::ProgramId.is_in(ids.iter().copied()))
}

#[derive(Default)]
pub struct CalendarQuery;

#[Object]
impl CalendarQuery {
    /// Releases, deployments and freeze windows overlapping [from, to), ordered by start.
    /// A release spans plannedStart (or plannedEnd) to plannedEnd; releases without
    /// plannedEnd are not on the calendar. The range may cover at most 400 days.
    async fn release_calendar(
        &self,
        ctx: &Context<'_>,
        from: Timestamp,
        to: Timestamp,
        program_keys: Option<Vec<String>>,
    ) -> ApiResult<Vec<CalendarEntry>> {
        let viewer = viewer(ctx)?;
        if to <= from {
            return Err(ApiError::bad_input("to", "must be after from"));
        }
        if to.micros() - from.micros() > MAX_RANGE_DAYS * 86_400_000_000 {
            return Err(ApiError::bad_input(
                "to",
                format!("the range may cover at most {MAX_RANGE_DAYS} days"),
            ));
        }
        let db = db(ctx)?;
        let loaders = loaders(ctx)?;
        // A key the caller may not see is NOT_FOUND, exactly like a key that does not exist.
        let asked = match program_keys.as_deref() {
            None => None,
            Some(keys) => Some(
                select_programs(&programs(db).await?, &viewer.scope, Some(keys))
                    .map_err(|missing| {
                        ApiError::NotFound(format!("programKeys: program {missing}"))
                    })?
                    .into_iter()
                    .map(|p| p.id)
                    .collect::<Vec<_>>(),
            ),
        };
        let programs = program_condition(&viewer.scope, asked.as_deref());
        let (from_us, to_us) = (from.micros(), to.micros());

        let releases = release::Entity::find()
            .filter(programs.clone())
            .filter(release::Column::PlannedEnd.gte(from_us))
            .filter(
                Condition::any()
                    .add(release::Column::PlannedStart.lt(to_us))
                    .add(
                        Condition::all()
                            .add(release::Column::PlannedStart.is_null())
                            .add(release::Column::PlannedEnd.lt(to_us)),
                    ),
            )
            .all(db)
            .await?;
        let deployments = deployment::Entity::find()
            .filter(deployment::Column::StartedAt.lt(to_us))
            .filter(
                Condition::any()
                    .add(deployment::Column::FinishedAt.is_null())
                    .add(deployment::Column::FinishedAt.gte(from_us)),
            )
            .filter(
                deployment::Column::ReleaseId.in_subquery(
                    Query::select()
                        .column(release::Column::Id)
                        .from(release::Entity)
                        .cond_where(programs)
                        .to_owned(),
                ),
            )
            .all(db)
            .await?;
        let mut freezes = freeze_window::Entity::find()
            .filter(freeze::visible(&viewer.scope))
            .filter(freeze::overlapping(Some(from), Some(to)));
        if let Some(ids) = &asked {
            freezes = freezes.filter(
                Condition::any()
                    .add(freeze_window::Column::ProgramId.is_null())
                    .add(freeze_window::Column::ProgramId.is_in(ids.iter().copied())),
            );
        }
        let freezes = freezes.all(db).await?;

        let deployment_releases = loaders
            .release
            .load_many(deployments.iter().map(|d| d.release_id))
            .await?;
        let program_ids = releases
            .iter()
            .chain(deployment_releases.values())
            .map(|r| r.program_id);
        let program_keys_by_id = loaders.program.load_many(program_ids).await?;
        let environments = loaders
            .environment
            .load_many(deployments.iter().map(|d| d.environment_id))
            .await?;
        let key_of = |program_id: i64| {
            program_keys_by_id
                .get(&program_id)
                .map(|p| p.key.as_str())
                .unwrap_or_default()
        };

        let mut entries = Vec::with_capacity(releases.len() + deployments.len() + freezes.len());
        for r in releases {
            let Some(end) = r.planned_end else { continue };
            let title = format!("{} {}: {}", key_of(r.program_id), r.version, r.name);
            let mut entry = CalendarEntry::new(
                CalendarEntryKind::Release,
                title,
                r.planned_start.unwrap_or(end),
                Some(end),
            );
            entry.release = Some(Release(r));
            entries.push(entry);
        }
        for d in deployments {
            let release = deployment_releases.get(&d.release_id);
            let title = format!(
                "{} {} to {}",
                release.map(|r| key_of(r.program_id)).unwrap_or_default(),
                release.map(|r| r.version.as_str()).unwrap_or_default(),
                environments
                    .get(&d.environment_id)
                    .map(|e| e.name.as_str())
                    .unwrap_or_default(),
            );
            let mut entry = CalendarEntry::new(
                CalendarEntryKind::Deployment,
                title,
                d.started_at,
                d.finished_at,
            );
            entry.release = release.cloned().map(Release);
            entry.deployment = Some(Deployment(d));
            entries.push(entry);
        }
        for f in freezes {
            let mut entry = CalendarEntry::new(
                CalendarEntryKind::Freeze,
                f.name.clone(),
                f.starts_at,
                Some(f.ends_at),
            );
            entry.freeze_window = Some(FreezeWindow(f));
            entries.push(entry);
        }
        entries.sort_by(|a, b| {
            (a.starts_at, a.kind as u8, &a.title).cmp(&(b.starts_at, b.kind as u8, &b.title))
        });
        Ok(entries)
    }
}
