//! Incidents: facts that may be recorded and resolved whatever the release's status.

use entity::enums::ReleaseEventKind;
use entity::{deployment, incident, release};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, NotSet, Set};

use entity::change::ChangeKind;

use super::{Change, EventDetail, lock_release, record_change, record_event, visible_program};
use crate::auth::{Role, Viewer};
use crate::domain::validate;
use crate::error::{ApiError, ApiResult};
use crate::events::Published;
use crate::graphql::incident::{RecordIncidentInput, ResolveIncidentInput};
use crate::ids::{self, NodeType};

pub async fn record(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &RecordIncidentInput,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let title = validate::name("title", &input.title)?;
    let opened_at = input.opened_at.micros();
    let resolved_at = input.resolved_at.map(|t| t.micros());
    if let Some(resolved) = resolved_at {
        validate::not_before("resolvedAt", resolved, "openedAt", opened_at)?;
    }
    let release_id = input
        .release_id
        .as_ref()
        .map(|id| ids::decode(id, NodeType::Release, "releaseId"))
        .transpose()?;
    let deployment_id = input
        .deployment_id
        .as_ref()
        .map(|id| ids::decode(id, NodeType::Deployment, "deploymentId"))
        .transpose()?;
    if input.program_key.is_none() && release_id.is_none() && deployment_id.is_none() {
        return Err(ApiError::bad_input(
            "programKey",
            "is required unless releaseId or deploymentId is given",
        ));
    }

    // The deployment names its release, the release its program; what is given must agree.
    let deployment = match deployment_id {
        Some(id) => Some(
            deployment::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or_else(|| ApiError::NotFound("deployment".into()))?,
        ),
        None => None,
    };
    // Lock (and so scope-check) the release before comparing ids, so that a deployment
    // outside the caller's programs answers NOT_FOUND, not a hint that it exists.
    let release: Option<release::Model> =
        match deployment.as_ref().map(|d| d.release_id).or(release_id) {
            Some(id) => Some(lock_release(txn, viewer, id, None).await?),
            None => None,
        };
    if let (Some(locked), Some(given)) = (&release, release_id)
        && locked.id != given
    {
        return Err(ApiError::bad_input(
            "releaseId",
            "is not the release of deploymentId",
        ));
    }

    let program_id = match (&release, &input.program_key) {
        (Some(r), Some(key)) => {
            let program = visible_program(txn, viewer, "programKey", key).await?;
            if program.id != r.program_id {
                return Err(ApiError::bad_input(
                    "programKey",
                    "is not the program of the release",
                ));
            }
            program.id
        }
        (Some(r), None) => r.program_id,
        (None, Some(key)) => visible_program(txn, viewer, "programKey", key).await?.id,
        (None, None) => return Err(ApiError::Internal("an incident without a program".into())),
    };
    let incident = incident::ActiveModel {
        id: NotSet,
        program_id: Set(program_id),
        release_id: Set(release.as_ref().map(|r| r.id)),
        deployment_id: Set(deployment.as_ref().map(|d| d.id)),
        title: Set(title),
        severity: Set(input.severity.into()),
        caused_by_change: Set(input.caused_by_change.unwrap_or(true)),
        opened_at: Set(opened_at),
        resolved_at: Set(resolved_at),
    }
    .insert(txn)
    .await?;
    let event = incident_event(
        txn,
        viewer,
        release.as_ref(),
        &incident,
        ReleaseEventKind::IncidentRecorded,
    )
    .await?;
    Ok(Change::new(incident, event))
}

pub async fn resolve(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &ResolveIncidentInput,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let id = ids::decode(&input.incident_id, NodeType::Incident, "incidentId")?;
    let found = incident::Entity::find_by_id(id)
        .one(txn)
        .await?
        .filter(|i| viewer.scope.contains(i.program_id))
        .ok_or_else(|| ApiError::NotFound("incident".into()))?;
    let resolved_at = input.resolved_at.micros();
    validate::not_before("resolvedAt", resolved_at, "openedAt", found.opened_at)?;
    if found.resolved_at.is_some() {
        return Err(ApiError::InvalidTransition(
            "the incident is already resolved".into(),
        ));
    }
    let release = match found.release_id {
        Some(release_id) => Some(lock_release(txn, viewer, release_id, None).await?),
        None => None,
    };
    let mut model = found.into_active_model();
    model.resolved_at = Set(Some(resolved_at));
    let incident = model.update(txn).await?;
    let event = incident_event(
        txn,
        viewer,
        release.as_ref(),
        &incident,
        ReleaseEventKind::IncidentResolved,
    )
    .await?;
    Ok(Change::new(incident, event))
}

/// The audit event of an incident of `release`; an incident without a release has no audit
/// trail, only a change for the metrics of other processes.
async fn incident_event(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    release: Option<&release::Model>,
    incident: &incident::Model,
    kind: ReleaseEventKind,
) -> ApiResult<Option<Published>> {
    match release {
        Some(release) => Ok(Some(
            record_event(txn, viewer, release, kind, EventDetail::default()).await?,
        )),
        None => {
            record_change(txn, ChangeKind::Incident, None, Some(incident.id)).await?;
            Ok(None)
        }
    }
}
