//! Deployments: recording them, finishing them, rolling back.

use entity::enums::{
    DeploymentStatus, DeploymentStrategy, EnvironmentTier, ReleaseEventKind, ReleaseStatus,
};
use entity::{deployment, environment, release};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, QueryOrder, Set,
};

use super::release::check_freeze;
use super::work::Work;
use super::{Change, EventDetail, Origin, environment_named};
use crate::auth::{Role, Viewer};
use crate::domain::lifecycle::{after_production_deployment, check_deployable, check_writable};
use crate::domain::validate::{self, Name, Text};
use crate::error::{ApiError, ApiResult};
use crate::queries::{OrNotFound, Visible};

/// A deployment of a release to the environment named `environment`; timestamps are Unix
/// microseconds, and `strategy` defaults to the release's.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub release_id: i64,
    pub environment: String,
    pub status: DeploymentStatus,
    pub strategy: Option<DeploymentStrategy>,
    pub stage: Option<Name>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Set for an ingested deployment.
    pub origin: Option<Origin>,
    /// Added to the audit event.
    pub note: Option<String>,
}

/// The end of an IN_PROGRESS deployment.
#[derive(Debug, Clone)]
pub struct Completion {
    pub deployment_id: i64,
    pub status: DeploymentStatus,
    pub finished_at: i64,
    /// Added to the audit event.
    pub note: Option<String>,
}

/// A rollback of a release in one environment.
#[derive(Debug, Clone)]
pub struct Rollback {
    pub release_id: i64,
    pub environment: String,
    pub reason: Text,
    pub started_at: i64,
    pub finished_at: i64,
}

/// ROLLED_BACK is the mark `rollbackRelease` leaves; a deployment is not recorded as one.
fn recordable(field: &str, status: DeploymentStatus) -> ApiResult<()> {
    if status == DeploymentStatus::RolledBack {
        Err(ApiError::bad_input(
            field,
            "a deployment becomes ROLLED_BACK through rollbackRelease",
        ))
    } else {
        Ok(())
    }
}

/// Applies the status change a production deployment causes, and says what it was.
async fn follow_production<C: ConnectionTrait>(
    work: &Work<'_, C>,
    release: &mut release::Model,
    environment: &environment::Model,
    deployment: &deployment::Model,
) -> ApiResult<EventDetail> {
    let from = release.status;
    let next = (environment.tier == EnvironmentTier::Production && !deployment.is_rollback)
        .then(|| after_production_deployment(from, deployment.status))
        .flatten();
    match next {
        Some(to) => {
            work.set_status(release, to).await?;
            Ok(EventDetail::status(from, to))
        }
        None => Ok(EventDetail::default()),
    }
}

pub async fn record(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewDeployment,
) -> ApiResult<Change<deployment::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let status = input.status;
    recordable("status", status)?;
    let stage = input.stage.clone().map(String::from);
    let started_at = input.started_at;
    let finished_at = match (status, input.finished_at) {
        (DeploymentStatus::InProgress, Some(_)) => {
            return Err(ApiError::bad_input(
                "finishedAt",
                "must be empty while the deployment is IN_PROGRESS",
            ));
        }
        (DeploymentStatus::InProgress, None) => None,
        (_, None) => {
            return Err(ApiError::bad_input(
                "finishedAt",
                "is required unless status is IN_PROGRESS",
            ));
        }
        (_, Some(finished)) => {
            validate::not_before("finishedAt", finished, "startedAt", started_at)?;
            Some(finished)
        }
    };
    let environment = environment_named(txn, input.environment.trim()).await?;
    let release = work.lock(input.release_id, None).await?;
    let production = environment.tier == EnvironmentTier::Production;
    check_deployable(release.status, production)?;
    if production {
        check_freeze(txn, &release, "startedAt", started_at, false).await?;
        super::dependency::check_met(txn, &release, &viewer.scope).await?;
    }
    let deployment = deployment::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        environment_id: Set(environment.id),
        status: Set(status),
        strategy: Set(input.strategy.unwrap_or(release.strategy)),
        stage: Set(stage),
        is_rollback: Set(false),
        started_at: Set(started_at),
        finished_at: Set(finished_at),
        source_id: Set(input.origin.as_ref().map(|o| o.source_id)),
        external_id: Set(input.origin.as_ref().map(|o| o.external_id.clone())),
        last_event_at: Set(input.origin.as_ref().map(|o| o.occurred_at)),
    }
    .insert(txn)
    .await?;
    let note = input.note.clone();
    deployment_recorded(work, release, &environment, deployment, note).await
}

pub async fn complete(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &Completion,
) -> ApiResult<Change<deployment::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let status = input.status;
    if status == DeploymentStatus::InProgress {
        return Err(ApiError::bad_input(
            "status",
            "completing needs SUCCEEDED or FAILED",
        ));
    }
    recordable("status", status)?;
    let found = Visible::new(txn, viewer)
        .deployment(input.deployment_id)
        .await?
        .or_not_found("deployment")?;
    let release = work.lock(found.release_id, None).await?;
    check_writable(release.status)?;
    if found.status != DeploymentStatus::InProgress {
        return Err(ApiError::InvalidTransition(format!(
            "the deployment is {}; only an IN_PROGRESS deployment can be completed",
            found.status.as_str()
        )));
    }
    validate::not_before(
        "finishedAt",
        input.finished_at,
        "startedAt",
        found.started_at,
    )?;
    let environment = environment::Entity::find_by_id(found.environment_id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::Internal("a deployment's environment is missing".into()))?;
    let mut model = found.into_active_model();
    model.status = Set(status);
    model.finished_at = Set(Some(input.finished_at));
    let deployment = model.update(txn).await?;
    let note = input.note.clone();
    deployment_recorded(work, release, &environment, deployment, note).await
}

pub async fn rollback(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &Rollback,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let reason = input.reason.to_string();
    let (started_at, finished_at) = (input.started_at, input.finished_at);
    validate::not_before("finishedAt", finished_at, "startedAt", started_at)?;
    let environment = environment_named(txn, input.environment.trim()).await?;
    let mut release = work.lock(input.release_id, None).await?;
    if !matches!(
        release.status,
        ReleaseStatus::Deploying | ReleaseStatus::Deployed
    ) {
        return Err(ApiError::InvalidTransition(format!(
            "rollbackRelease needs the release DEPLOYING or DEPLOYED; it is {}",
            release.status.as_str()
        )));
    }
    let latest = deployment::Entity::find()
        .filter(deployment::Column::ReleaseId.eq(release.id))
        .filter(deployment::Column::EnvironmentId.eq(environment.id))
        .filter(deployment::Column::IsRollback.eq(false))
        .order_by_desc(deployment::Column::StartedAt)
        .order_by_desc(deployment::Column::Id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            ApiError::InvalidTransition(format!(
                "the release has no deployment to {} to roll back",
                environment.name
            ))
        })?;
    let mut marked = latest.into_active_model();
    marked.status = Set(DeploymentStatus::RolledBack);
    marked.update(txn).await?;
    deployment::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        environment_id: Set(environment.id),
        status: Set(DeploymentStatus::Succeeded),
        strategy: Set(release.strategy),
        stage: Set(None),
        is_rollback: Set(true),
        started_at: Set(started_at),
        finished_at: Set(Some(finished_at)),
        source_id: Set(None),
        external_id: Set(None),
        last_event_at: Set(None),
    }
    .insert(txn)
    .await?;
    let from = release.status;
    work.set_status(&mut release, ReleaseStatus::RolledBack)
        .await?;
    let detail = EventDetail::status(from, ReleaseStatus::RolledBack).with_note(Some(reason));
    work.finish(&release, ReleaseEventKind::RolledBack, detail)
        .await?;
    work.into_change(release)
}

/// Moves the release with its production deployment and records the event.
async fn deployment_recorded<C: ConnectionTrait>(
    mut work: Work<'_, C>,
    mut release: release::Model,
    environment: &environment::Model,
    deployment: deployment::Model,
    note: Option<String>,
) -> ApiResult<Change<deployment::Model>> {
    let detail = follow_production(&work, &mut release, environment, &deployment)
        .await?
        .with_note(note);
    work.finish(&release, ReleaseEventKind::DeploymentRecorded, detail)
        .await?;
    work.into_change(deployment)
}
