//! Calendar feeds: `CalendarFeed`, `Query.calendarFeeds`, `createCalendarFeed` and
//! `revokeCalendarFeed`. The feed itself is served at `/v1/calendar/{feedKey}.ics`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::calendar_feed;

use crate::commands;
use crate::commands::calendar_feed::{FeedSettings, NewFeed};
use crate::domain::validate::Name;
use crate::error::ApiResult;
use crate::graphql::context::{command, data, reads, viewer};
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries::calendar_feeds::{self, keys_of};

/// A calendar feed of releases and freeze windows, read as the token that made it.
#[derive(Clone)]
pub struct CalendarFeed(pub calendar_feed::Model);

#[Object]
impl CalendarFeed {
    pub async fn id(&self) -> ID {
        ID(ids::encode(NodeType::CalendarFeed, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Omitted: every program its token sees.
    async fn program_keys(&self) -> Option<Vec<String>> {
        keys_of(self.0.program_keys.as_deref())
    }

    /// The JWT subject that created it.
    async fn owner(&self) -> &str {
        &self.0.owner
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }

    async fn expires_at(&self) -> Timestamp {
        Timestamp(self.0.expires_at)
    }
}

/// A feed just made, with its URL: shown once.
#[derive(SimpleObject)]
pub struct CalendarFeedPayload {
    pub feed: CalendarFeed,
    pub url: String,
}

#[derive(InputObject)]
pub struct CreateCalendarFeedInput {
    pub name: String,
    pub program_keys: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct RevokeCalendarFeedInput {
    pub feed_id: ID,
}

#[derive(Default)]
pub struct CalendarFeedQuery;

#[Object]
impl CalendarFeedQuery {
    /// The caller's own feeds (by JWT issuer and subject); every feed for an ADMIN without
    /// programs. Never the key.
    async fn calendar_feeds(&self, ctx: &Context<'_>) -> ApiResult<Vec<CalendarFeed>> {
        let feeds = calendar_feeds::listed(reads(ctx)?, viewer(ctx)?).await?;
        Ok(feeds.into_iter().map(CalendarFeed).collect())
    }
}

#[derive(Default)]
pub struct CalendarFeedMutation;

#[Object]
impl CalendarFeedMutation {
    /// Any role, VIEWER included: a feed of what the caller's token sees (within
    /// `programKeys`), for RELM_CALENDAR_FEED_TTL. Its URL is shown once.
    async fn create_calendar_feed(
        &self,
        ctx: &Context<'_>,
        input: CreateCalendarFeedInput,
    ) -> ApiResult<CalendarFeedPayload> {
        let settings = data::<Arc<FeedSettings>>(ctx)?.clone();
        let input = NewFeed {
            name: Name::parse("name", &input.name)?,
            program_keys: input.program_keys,
            ttl_micros: i64::try_from(settings.ttl.as_micros()).unwrap_or(i64::MAX),
        };
        let created = command!(ctx, commands::calendar_feed::create, input)?;
        Ok(CalendarFeedPayload {
            url: settings.url(&created.key),
            feed: CalendarFeed(created.feed),
        })
    }

    /// Ends a feed: its owner, or an ADMIN without programs (NOT_FOUND otherwise).
    async fn revoke_calendar_feed(
        &self,
        ctx: &Context<'_>,
        input: RevokeCalendarFeedInput,
    ) -> ApiResult<ID> {
        let id = ids::decode(&input.feed_id, NodeType::CalendarFeed, "feedId")?;
        let revoked = command!(ctx, commands::calendar_feed::revoke, id)?;
        Ok(ID(ids::encode(NodeType::CalendarFeed, revoked.id)))
    }
}
