//! Incidents: facts that may be recorded and resolved whatever the release's status.

use entity::enums::{ReleaseEventKind, Severity};
use entity::{incident, release};
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, NotSet, Set};

use entity::change::ChangeKind;

use super::work::{Changed, Work};
use super::{Change, EventDetail, Origin, record_change, visible_program};
use crate::auth::{Role, Viewer};
use crate::domain::validate::{self, Name};
use crate::error::{ApiError, ApiResult};
use crate::queries::{OrNotFound, Visible};

/// An incident; `program_key` is needed unless a release or deployment names the program.
/// Timestamps are Unix microseconds.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub program_key: Option<String>,
    pub release_id: Option<i64>,
    pub deployment_id: Option<i64>,
    pub title: Name,
    pub severity: Severity,
    pub caused_by_change: bool,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    /// Set for an ingested incident.
    pub origin: Option<Origin>,
    /// Added to the audit event.
    pub note: Option<String>,
}

/// The end of an open incident.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub incident_id: i64,
    pub resolved_at: i64,
    /// Added to the audit event.
    pub note: Option<String>,
}

pub async fn record(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewIncident,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
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
    let mut work = Work::new(txn, viewer);
    let visible = Visible::new(txn, viewer);
    let deployment = match deployment_id {
        Some(id) => Some(visible.deployment(id).await?.or_not_found("deployment")?),
        None => None,
    };
    let release: Option<release::Model> =
        match deployment.as_ref().map(|d| d.release_id).or(release_id) {
            Some(id) => Some(work.lock(id, None).await?),
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
        title: Set(input.title.to_string()),
        severity: Set(input.severity),
        caused_by_change: Set(input.caused_by_change),
        opened_at: Set(opened_at),
        resolved_at: Set(resolved_at),
        source_id: Set(input.origin.as_ref().map(|o| o.source_id)),
        external_id: Set(input.origin.as_ref().map(|o| o.external_id.clone())),
        last_event_at: Set(input.origin.as_ref().map(|o| o.occurred_at)),
    }
    .insert(txn)
    .await?;
    let note = input.note.clone();
    incident_event(
        work,
        release.as_ref(),
        incident,
        ReleaseEventKind::IncidentRecorded,
        note,
    )
    .await
}

pub async fn resolve(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &Resolution,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let found = Visible::new(txn, viewer)
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
    let mut work = Work::new(txn, viewer);
    let release = lock_release_of(&mut work, &found).await?;
    let mut model = found.into_active_model();
    model.resolved_at = Set(Some(resolved_at));
    let incident = model.update(txn).await?;
    let note = input.note.clone();
    incident_event(
        work,
        release.as_ref(),
        incident,
        ReleaseEventKind::IncidentResolved,
        note,
    )
    .await
}

/// `updateIncident`: corrections to what attribution guessed; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct IncidentChanges {
    pub incident_id: i64,
    pub title: Option<Name>,
    pub severity: Option<Severity>,
    pub caused_by_change: Option<bool>,
    /// A deployment of the incident's program; the incident then takes its release.
    pub deployment_id: Option<i64>,
}

/// Corrects an incident. Moved to another deployment's release, it touches two releases:
/// each is locked once (in id order) and gets its own INCIDENT_UPDATED event, the one it
/// leaves as well as the one it joins.
pub async fn update(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &IncidentChanges,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let title = input.title.clone().map(String::from);
    let visible = Visible::new(txn, viewer);
    let found = visible
        .incident(input.incident_id)
        .await?
        .or_not_found("incident")?;
    let deployment = match input.deployment_id {
        Some(id) => {
            let deployment = visible.deployment(id).await?.or_not_found("deployment")?;
            let release = visible
                .release(deployment.release_id)
                .await?
                .or_not_found("release")?;
            if release.program_id != found.program_id {
                return Err(ApiError::bad_input(
                    "deploymentId",
                    "is not a deployment of the incident's program",
                ));
            }
            Some(deployment)
        }
        None => None,
    };
    let joins = deployment.as_ref().map(|d| d.release_id);
    let mut touched: Vec<i64> = joins.into_iter().chain(found.release_id).collect();
    touched.sort_unstable();
    touched.dedup();
    let mut work = Work::new(txn, viewer);
    let mut releases = Vec::with_capacity(touched.len());
    for id in touched {
        releases.push(work.lock(id, None).await?);
    }
    let mut changed = Changed::default();
    let mut model = found.into_active_model();
    if let Some(title) = title {
        changed.set("title", &mut model.title, title);
    }
    if let Some(severity) = input.severity {
        changed.set("severity", &mut model.severity, severity);
    }
    if let Some(caused) = input.caused_by_change {
        changed.set("causedByChange", &mut model.caused_by_change, caused);
    }
    if let Some(deployment) = &deployment {
        model.release_id = Set(Some(deployment.release_id));
        changed.set("deployment", &mut model.deployment_id, Some(deployment.id));
    }
    let incident = model.update(txn).await?;
    let note = changed.note();
    if releases.is_empty() {
        record_change(txn, ChangeKind::Incident, None, Some(incident.id)).await?;
    }
    for release in &releases {
        let detail = EventDetail::note(note.clone());
        work.finish(release, ReleaseEventKind::IncidentUpdated, detail)
            .await?;
    }
    work.into_change(incident)
}

/// Clears the resolvedAt of a resolved incident (its incident tool reopened it).
pub async fn reopen(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    incident_id: i64,
    note: Option<String>,
) -> ApiResult<Change<incident::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let found = Visible::new(txn, viewer)
        .incident(incident_id)
        .await?
        .or_not_found("incident")?;
    if found.resolved_at.is_none() {
        return Err(ApiError::InvalidTransition("the incident is open".into()));
    }
    let mut work = Work::new(txn, viewer);
    let release = lock_release_of(&mut work, &found).await?;
    let mut model = found.into_active_model();
    model.resolved_at = Set(None);
    let incident = model.update(txn).await?;
    let note = Some(match note {
        Some(note) => format!("reopened; {note}"),
        None => "reopened".to_owned(),
    });
    incident_event(
        work,
        release.as_ref(),
        incident,
        ReleaseEventKind::IncidentUpdated,
        note,
    )
    .await
}

/// Locks the incident's release, when it has one, for a change to the incident.
async fn lock_release_of<C: ConnectionTrait>(
    work: &mut Work<'_, C>,
    incident: &incident::Model,
) -> ApiResult<Option<release::Model>> {
    match incident.release_id {
        Some(release_id) => Ok(Some(work.lock(release_id, None).await?)),
        None => Ok(None),
    }
}

/// The change of an incident of `release`, with its audit event; an incident without a
/// release has no audit trail, only a change for the metrics of other processes.
async fn incident_event<C: ConnectionTrait>(
    mut work: Work<'_, C>,
    release: Option<&release::Model>,
    incident: incident::Model,
    kind: ReleaseEventKind,
    note: Option<String>,
) -> ApiResult<Change<incident::Model>> {
    match release {
        Some(release) => work.finish(release, kind, EventDetail::note(note)).await?,
        None => {
            record_change(
                work.connection(),
                ChangeKind::Incident,
                None,
                Some(incident.id),
            )
            .await?
        }
    }
    work.into_change(incident)
}
