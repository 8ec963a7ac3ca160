//! Deployments of releases to environments.

use async_graphql::{Context, ID, Object};
use entity::deployment;

use crate::error::ApiResult;
use crate::graphql::context::loaders;
use crate::graphql::enums::{DeploymentStatus, DeploymentStrategy};
use crate::graphql::environment::Environment;
use crate::graphql::loaders::required;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// A deployment of a release to an environment.
#[derive(Clone)]
pub struct Deployment(pub deployment::Model);

#[Object]
impl Deployment {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Deployment, self.0.id)
    }

    async fn release(&self, ctx: &Context<'_>) -> ApiResult<Release> {
        Ok(Release(
            required(&loaders(ctx)?.release, self.0.release_id).await?,
        ))
    }

    async fn environment(&self, ctx: &Context<'_>) -> ApiResult<Environment> {
        Ok(Environment(
            required(&loaders(ctx)?.environment, self.0.environment_id).await?,
        ))
    }

    async fn status(&self) -> DeploymentStatus {
        self.0.status.into()
    }

    async fn strategy(&self) -> DeploymentStrategy {
        self.0.strategy.into()
    }

    /// Free-form stage of a staged, pilot or canary rollout, e.g. 'pilot 5%'.
    async fn stage(&self) -> Option<&str> {
        self.0.stage.as_deref()
    }

    /// True for a deployment that restores a previous version.
    async fn is_rollback(&self) -> bool {
        self.0.is_rollback
    }

    async fn started_at(&self) -> Timestamp {
        Timestamp(self.0.started_at)
    }

    async fn finished_at(&self) -> Option<Timestamp> {
        self.0.finished_at.map(Timestamp)
    }
}
