//! Deployments of releases to environments.

use async_graphql::{Context, ID, InputObject, Object};
use entity::deployment;

use crate::commands;
use crate::domain::validate::{Name, Text};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, loaders, visible};
use crate::graphql::enums::{DeploymentStatus, DeploymentStrategy};
use crate::graphql::environment::Environment;
use crate::graphql::ingest::IngestSource;
use crate::graphql::loaders::required;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries;

/// A deployment of a release to an environment.
#[derive(Clone)]
pub struct Deployment(pub deployment::Model);

#[Object]
impl Deployment {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Deployment, self.0.id).into()
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

    /// The sender's id for an ingested deployment.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    /// The source an ingested deployment came from; ANALYST and up, like every read of
    /// ingest sources.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<IngestSource>> {
        match queries::ingest::source_of(&visible(ctx)?, &self.0)? {
            Some(id) => Ok(Some(IngestSource(
                required(&loaders(ctx)?.source, id).await?,
            ))),
            None => Ok(None),
        }
    }

    async fn finished_at(&self) -> Option<Timestamp> {
        self.0.finished_at.map(Timestamp)
    }
}

/// A deployment of a release to an environment.
#[derive(InputObject)]
pub struct RecordDeploymentInput {
    pub release_id: ID,
    pub environment: String,
    pub status: DeploymentStatus,
    /// Defaults to the release's strategy.
    pub strategy: Option<DeploymentStrategy>,
    pub stage: Option<String>,
    pub started_at: Timestamp,
    /// Required unless status is IN_PROGRESS; must not be before startedAt.
    pub finished_at: Option<Timestamp>,
}

/// The end of an IN_PROGRESS deployment.
#[derive(InputObject)]
pub struct CompleteDeploymentInput {
    pub deployment_id: ID,
    pub status: DeploymentStatus,
    pub finished_at: Timestamp,
}

/// A rollback of a release in one environment.
#[derive(InputObject)]
pub struct RollbackReleaseInput {
    pub release_id: ID,
    pub environment: String,
    pub reason: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

impl TryFrom<RecordDeploymentInput> for commands::deployment::NewDeployment {
    type Error = ApiError;

    fn try_from(input: RecordDeploymentInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            environment: input.environment,
            status: input.status.into(),
            strategy: input.strategy.map(Into::into),
            stage: Name::optional("stage", input.stage.as_deref())?,
            started_at: input.started_at.micros(),
            finished_at: input.finished_at.map(Timestamp::micros),
            origin: None,
            note: None,
        })
    }
}

impl TryFrom<CompleteDeploymentInput> for commands::deployment::Completion {
    type Error = ApiError;

    fn try_from(input: CompleteDeploymentInput) -> ApiResult<Self> {
        Ok(Self {
            deployment_id: ids::decode(&input.deployment_id, NodeType::Deployment, "deploymentId")?,
            status: input.status.into(),
            finished_at: input.finished_at.micros(),
            note: None,
        })
    }
}

impl TryFrom<RollbackReleaseInput> for commands::deployment::Rollback {
    type Error = ApiError;

    fn try_from(input: RollbackReleaseInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            environment: input.environment,
            reason: Text::parse("reason", &input.reason)?,
            started_at: input.started_at.micros(),
            finished_at: input.finished_at.micros(),
        })
    }
}

#[derive(Default)]
pub struct DeploymentMutation;

#[Object]
impl DeploymentMutation {
    /// Records a deployment; production deployments move the release along (lifecycle.md).
    async fn record_deployment(
        &self,
        ctx: &Context<'_>,
        input: RecordDeploymentInput,
    ) -> ApiResult<Deployment> {
        let input = commands::deployment::NewDeployment::try_from(input)?;
        command!(ctx, commands::deployment::record, input).map(Deployment)
    }

    /// Finishes an IN_PROGRESS deployment.
    async fn complete_deployment(
        &self,
        ctx: &Context<'_>,
        input: CompleteDeploymentInput,
    ) -> ApiResult<Deployment> {
        let input = commands::deployment::Completion::try_from(input)?;
        command!(ctx, commands::deployment::complete, input).map(Deployment)
    }

    /// Records a rollback deployment and moves the release to ROLLED_BACK.
    async fn rollback_release(
        &self,
        ctx: &Context<'_>,
        input: RollbackReleaseInput,
    ) -> ApiResult<Release> {
        let input = commands::deployment::Rollback::try_from(input)?;
        command!(ctx, commands::deployment::rollback, input).map(Release)
    }
}
