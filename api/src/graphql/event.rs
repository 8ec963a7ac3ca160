//! The audit trail of releases.

use async_graphql::{Context, ID, Object, Subscription};
use entity::release_event;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{bus, loaders, visible};
use crate::graphql::enums::{ReleaseEventKind, ReleaseStatus};
use crate::graphql::loaders::required;
use crate::graphql::pagination::connection;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// One entry of a release's audit trail.
#[derive(Clone)]
pub struct ReleaseEvent(pub release_event::Model);

impl From<release_event::Model> for ReleaseEvent {
    fn from(model: release_event::Model) -> Self {
        Self(model)
    }
}

#[Object]
impl ReleaseEvent {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ReleaseEvent, self.0.id).into()
    }

    async fn release(&self, ctx: &Context<'_>) -> ApiResult<Release> {
        Ok(Release(
            required(&loaders(ctx)?.release, self.0.release_id).await?,
        ))
    }

    async fn kind(&self) -> ReleaseEventKind {
        self.0.kind.into()
    }

    /// JWT subject of the caller who made the change.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    async fn at(&self) -> Timestamp {
        Timestamp(self.0.at)
    }

    async fn from_status(&self) -> Option<ReleaseStatus> {
        self.0.from_status.map(Into::into)
    }

    async fn to_status(&self) -> Option<ReleaseStatus> {
        self.0.to_status.map(Into::into)
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

connection!(
    ReleaseEventConnection,
    ReleaseEventEdge,
    ReleaseEvent,
    "A page of a release's events."
);

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Every new ReleaseEvent the caller may see, optionally narrowed to some programs.
    /// Events arrive after their change commits, in commit order for each release.
    async fn release_events(
        &self,
        ctx: &Context<'_>,
        program_keys: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = ReleaseEvent>, ApiError> {
        let mut visible = visible(ctx)?;
        if let Some(keys) = &program_keys {
            visible = visible.narrowed("programKeys", keys).await?;
        }
        let programs = visible.scope().clone();
        let loaders = loaders(ctx)?.clone();
        let bus = bus(ctx)?.clone();
        let receiver = bus.subscribe();
        let closed = Box::pin(async move { bus.closed().await });
        let events = futures_util::stream::unfold(receiver, move |mut receiver| {
            let (programs, loaders) = (programs.clone(), loaders.clone());
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(published) if programs.contains(published.program_id) => {
                            // Nested fields of each event read fresh rows.
                            loaders.clear();
                            return Some((ReleaseEvent(published.event.clone()), receiver));
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "a subscriber fell behind and missed events");
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(futures_util::StreamExt::take_until(events, closed))
    }
}
