//! The release calendar: releases, deployments and freeze windows on one time line.

use async_graphql::{Context, Enum, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::context::visible;
use crate::graphql::deployment::Deployment;
use crate::graphql::freeze::FreezeWindow;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::queries::calendar;

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
        let mut visible = visible(ctx)?;
        if let Some(keys) = &program_keys {
            visible = visible.narrowed("programKeys", keys).await?;
        }
        let entries = calendar::entries(&visible, from.micros(), to.micros()).await?;
        Ok(entries.into_iter().map(CalendarEntry::from).collect())
    }
}

impl From<calendar::Entry> for CalendarEntry {
    fn from(entry: calendar::Entry) -> Self {
        Self {
            kind: match entry.kind {
                calendar::EntryKind::Release => CalendarEntryKind::Release,
                calendar::EntryKind::Deployment => CalendarEntryKind::Deployment,
                calendar::EntryKind::Freeze => CalendarEntryKind::Freeze,
            },
            title: entry.title,
            starts_at: Timestamp(entry.starts_at),
            ends_at: entry.ends_at.map(Timestamp),
            release: entry.release.map(Release),
            deployment: entry.deployment.map(Deployment),
            freeze_window: entry.freeze_window.map(FreezeWindow),
        }
    }
}
