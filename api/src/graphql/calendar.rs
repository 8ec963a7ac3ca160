//! The release calendar: releases, deployments and freeze windows on one time line.

use async_graphql::{Context, Enum, Object, SimpleObject};
use entity::{deployment, release};
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{loaders, visible};
use crate::graphql::deployment::Deployment;
use crate::graphql::freeze::{self, FreezeWindow};
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;

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
        if to <= from {
            return Err(ApiError::bad_input("to", "must be after from"));
        }
        if to.micros() - from.micros() > MAX_RANGE_DAYS * 86_400_000_000 {
            return Err(ApiError::bad_input(
                "to",
                format!("the range may cover at most {MAX_RANGE_DAYS} days"),
            ));
        }
        let loaders = loaders(ctx)?;
        let mut visible = visible(ctx)?;
        if let Some(keys) = &program_keys {
            visible = visible.narrowed("programKeys", keys).await?;
        }
        let db = visible.db();
        let (from_us, to_us) = (from.micros(), to.micros());

        let releases = visible
            .releases()
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
        let deployments = visible
            .deployments()
            .filter(deployment::Column::StartedAt.lt(to_us))
            .filter(
                Condition::any()
                    .add(deployment::Column::FinishedAt.is_null())
                    .add(deployment::Column::FinishedAt.gte(from_us)),
            )
            .all(db)
            .await?;
        let freezes = visible
            .freeze_windows()
            .filter(freeze::overlapping(Some(from), Some(to)))
            .all(db)
            .await?;

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
