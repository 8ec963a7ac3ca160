//! The audit trail of releases.

use async_graphql::{Context, ID, Object};
use entity::release_event;

use crate::error::ApiResult;
use crate::graphql::context::loaders;
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
        ids::encode(NodeType::ReleaseEvent, self.0.id)
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
