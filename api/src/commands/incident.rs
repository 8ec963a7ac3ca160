//! Incidents: facts that may be recorded and resolved whatever the release's status.

use entity::enums::{ReleaseEventKind, Severity};
use entity::{incident, release};
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, NotSet, Set};

use entity::change::ChangeKind;

use super::{Change, EventDetail, lock_release, record_change, record_event, visible_program};
use crate::auth::{Role, Viewer};
use crate::domain::validate;
use crate::error::{ApiError, ApiResult};
use crate::events::Published;
use crate::queries::{OrNotFound, Visible};

/// An incident; `program_key` is needed unless a release or deployment names the program.
/// Timestamps are Unix microseconds.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub program_key: Option<String>,
    pub release_id: Option<i64>,
    pub deployment_id: Option<i64>,
    pub title: String,
    pub severity: Severity,
    pub caused_by_change: bool,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
}

/// The end of an open incident.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub incident_id: i64,
    pub resolved_at: i64,
}

pub async fn record(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewIncident,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let title = validate::name("title", &input.title)?;
    let (opened_at, resolved_at) = (input.opened_at, input.resolved_at);
    if let Some(resolved) = resolved_at {
        validate::not_before("resolvedAt", resolved, "openedAt", opened_at)?;
    }
    let (release_id, deployment_id) = (input.release_id, input.deployment_id);
    if input.program_key.is_none() && release_id.is_none() && deployment_id.is_none() {
        return Err(ApiError::bad_input(
            "programKey",
            "is required unless releaseId or deploymentId is given",
        ));
    }

    // The deployment names its release, the release its program; what is given must agree.
    let visible = Visible::new(txn, &viewer.scope);
    let deployment = match deployment_id {
        Some(id) => Some(visible.deployment(id).await?.or_not_found("deployment")?),
        None => None,
    };
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
        severity: Set(input.severity),
        caused_by_change: Set(input.caused_by_change),
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
    input: &Resolution,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let found = Visible::new(txn, &viewer.scope)
        .incident(input.incident_id)
        .await?
        .or_not_found("incident")?;
    let resolved_at = input.resolved_at;
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
