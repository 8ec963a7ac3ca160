//! The release calendar: releases, deployments and freeze windows on one time line, for the
//! caller's programs.

use std::collections::HashMap;

use entity::{deployment, environment, freeze_window, release};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Visible;
use super::span::{Ends, Span};
use crate::error::{ApiError, ApiResult};
use crate::time::DAY_MICROS;

/// The longest range one calendar request may cover.
pub const MAX_RANGE_DAYS: i64 = 400;

/// What an entry shows, in the order entries that start together are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Release,
    Deployment,
    Freeze,
}

/// One entry of the calendar.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    pub title: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub release: Option<release::Model>,
    pub deployment: Option<deployment::Model>,
    pub freeze_window: Option<freeze_window::Model>,
}

impl Entry {
    fn new(kind: EntryKind, title: String, starts_at: i64, ends_at: Option<i64>) -> Self {
        Self {
            kind,
            title,
            starts_at,
            ends_at,
            release: None,
            deployment: None,
            freeze_window: None,
        }
    }
}

/// Releases (from plannedStart, or plannedEnd, to plannedEnd; releases without plannedEnd
/// are not on the calendar), deployments (from start to finish, open while running) and
/// freeze windows overlapping `[from, to)`, ordered by start, then kind, then title.
pub async fn entries<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    from: i64,
    to: i64,
) -> ApiResult<Vec<Entry>> {
    if to <= from {
        return Err(ApiError::bad_input("to", "must be after from"));
    }
    if to - from > MAX_RANGE_DAYS * DAY_MICROS {
        return Err(ApiError::bad_input(
            "to",
            format!("the range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let db = visible.db();
    let range = Span::new(Some(from), Some(to));
    let planned_end = Expr::col(release::Column::PlannedEnd);
    let releases = visible
        .releases()
        .filter(release::Column::PlannedEnd.is_not_null())
        .filter(range.overlaps(
            Expr::col(release::Column::PlannedStart).if_null(planned_end.clone()),
            planned_end,
            Ends::At,
        ))
        .all(db)
        .await?;
    let deployments = visible
        .deployments()
        .filter(range.overlaps(
            Expr::col(deployment::Column::StartedAt),
            Expr::col(deployment::Column::FinishedAt),
            Ends::At,
        ))
        .all(db)
        .await?;
    let freezes = visible
        .freeze_windows()
        .filter(freeze_overlapping(range))
        .all(db)
        .await?;

    // What titles name: the releases deployed, their programs and the environments.
    let deployed = by_id(
        release::Entity::find()
            .filter(release::Column::Id.is_in(deployments.iter().map(|d| d.release_id)))
            .all(db)
            .await?,
        |r| r.id,
    );
    let program_ids = releases
        .iter()
        .chain(deployed.values())
        .map(|r| r.program_id);
    let keys = super::program_keys(db, program_ids).await?;
    let environments: HashMap<i64, String> = environment::Entity::find()
        .filter(environment::Column::Id.is_in(deployments.iter().map(|d| d.environment_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect();
    let key_of = |program_id: i64| keys.get(&program_id).map_or("", String::as_str);

    let mut entries = Vec::with_capacity(releases.len() + deployments.len() + freezes.len());
    for r in releases {
        let Some(end) = r.planned_end else { continue };
        let title = format!("{} {}: {}", key_of(r.program_id), r.version, r.name);
        let mut entry = Entry::new(
            EntryKind::Release,
            title,
            r.planned_start.unwrap_or(end),
            Some(end),
        );
        entry.release = Some(r);
        entries.push(entry);
    }
    for d in deployments {
        let release = deployed.get(&d.release_id);
        let title = format!(
            "{} {} to {}",
            release.map_or("", |r| key_of(r.program_id)),
            release.map_or("", |r| r.version.as_str()),
            environments
                .get(&d.environment_id)
                .map_or("", String::as_str),
        );
        let mut entry = Entry::new(EntryKind::Deployment, title, d.started_at, d.finished_at);
        entry.release = release.cloned();
        entry.deployment = Some(d);
        entries.push(entry);
    }
    for f in freezes {
        let mut entry = Entry::new(
            EntryKind::Freeze,
            f.name.clone(),
            f.starts_at,
            Some(f.ends_at),
        );
        entry.freeze_window = Some(f);
        entries.push(entry);
    }
    entries.sort_by(|a, b| (a.starts_at, a.kind, &a.title).cmp(&(b.starts_at, b.kind, &b.title)));
    Ok(entries)
}

/// The freeze windows in scope overlapping `range`, by start.
pub async fn freeze_windows<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    range: Span,
) -> ApiResult<Vec<freeze_window::Model>> {
    Ok(visible
        .freeze_windows()
        .filter(freeze_overlapping(range))
        .order_by_asc(freeze_window::Column::StartsAt)
        .order_by_asc(freeze_window::Column::Id)
        .all(visible.db())
        .await?)
}

/// Freeze windows overlapping `range`: they cover `[startsAt, endsAt)`.
pub fn freeze_overlapping(range: Span) -> sea_orm::Condition {
    range.overlaps(
        Expr::col(freeze_window::Column::StartsAt),
        Expr::col(freeze_window::Column::EndsAt),
        Ends::Before,
    )
}

fn by_id<T>(rows: Vec<T>, id: impl Fn(&T) -> i64) -> HashMap<i64, T> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}
