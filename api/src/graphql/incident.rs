//! Production incidents.

use async_graphql::{Context, ID, Object};
use entity::incident;

use crate::error::ApiResult;
use crate::graphql::context::loaders;
use crate::graphql::deployment::Deployment;
use crate::graphql::enums::Severity;
use crate::graphql::loaders::required;
use crate::graphql::program::Program;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// A production incident, attributed to a release or deployment when known.
#[derive(Clone)]
pub struct Incident(pub incident::Model);

#[Object]
impl Incident {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Incident, self.0.id)
    }

    async fn program(&self, ctx: &Context<'_>) -> ApiResult<Program> {
        Ok(Program(
            required(&loaders(ctx)?.program, self.0.program_id).await?,
        ))
    }

    async fn release(&self, ctx: &Context<'_>) -> ApiResult<Option<Release>> {
        match self.0.release_id {
            Some(id) => Ok(Some(Release(required(&loaders(ctx)?.release, id).await?))),
            None => Ok(None),
        }
    }

    /// The deployment that caused it, when known.
    async fn deployment(&self, ctx: &Context<'_>) -> ApiResult<Option<Deployment>> {
        match self.0.deployment_id {
            Some(id) => Ok(Some(Deployment(
                required(&loaders(ctx)?.deployment, id).await?,
            ))),
            None => Ok(None),
        }
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn severity(&self) -> Severity {
        self.0.severity.into()
    }

    /// False for incidents not caused by a change (e.g. a provider outage).
    async fn caused_by_change(&self) -> bool {
        self.0.caused_by_change
    }

    async fn opened_at(&self) -> Timestamp {
        Timestamp(self.0.opened_at)
    }

    async fn resolved_at(&self) -> Option<Timestamp> {
        self.0.resolved_at.map(Timestamp)
    }
}
