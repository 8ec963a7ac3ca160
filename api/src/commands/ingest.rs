//! Applying a delivery (ingestion.md): store it, match it to a release, and run the command
//! a person would run, as `ingest:{key}`. A refusal of the lifecycle rules makes the
//! delivery REJECTED and changes nothing else: the command runs under a savepoint that is
//! rolled back, while the delivery row stays. Everything happens in the caller's one
//! transaction, so a database failure stores nothing and the sender's retry applies it.
//!
//! Replays (ingestion.md): the delivery id and the fact are unique per source, so a
//! request seen before applies nothing; an event that occurred before the last one applied
//! to the same deployment or incident is stale and IGNORED, so it cannot undo a later
//! state.

use entity::enums::{DeliveryStatus, DeploymentStatus, EnvironmentTier};
use entity::{delivery, deployment, environment, incident, ingest_alias, ingest_source, release};
use sea_orm::Condition;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, NotSet, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::deployment::{Completion, NewDeployment, Rollback};
use super::incident::{NewIncident, Resolution};
use super::{Change, Origin, record_delivery_change};
use crate::auth::{Role, Scope, Viewer};
use crate::domain::validate::{Name, Text};
use crate::error::{ApiError, ApiResult, conflict_on_duplicate};
use crate::events::Published;
use crate::ids::{self, NodeType};
use crate::ingest::{
    DeploymentFact, EnvironmentName, Fact, Headers, IncidentChange, IncidentFact, Incoming,
    OpenedIncident, Proof, ReleaseHints, version_of_ref,
};
use crate::queries::derived::unplanned;
use crate::queries::{OrNotFound, Visible};
use crate::time;

/// A delivery as received, from a source that proved itself.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub source: ingest_source::Model,
    pub incoming: Incoming,
    pub payload: String,
    /// `ingest::Headers::kept` of the request.
    pub headers: String,
    pub received_at: i64,
}

/// `linkDelivery`: an UNMATCHED or REJECTED delivery applied to a release.
#[derive(Debug, Clone)]
pub struct Link {
    pub delivery_id: i64,
    pub release_id: i64,
}

/// The caller an ingested event acts as: a release manager of the source's program, named
/// `ingest:{key}` in the audit trail.
pub fn viewer_of(source: &ingest_source::Model) -> Viewer {
    Viewer {
        subject: format!("ingest:{}", source.key),
        role: Role::ReleaseManager,
        program_keys: None,
        scope: Scope::Programs(vec![source.program_id]),
        expires_at: None,
    }
}

/// The message of a delivery id received before; the handler answers with the first
/// delivery instead.
pub const ALREADY_RECEIVED: &str = "this delivery id was already received";

/// What applying a fact came to.
#[derive(Default)]
struct Applied {
    status: Option<DeliveryStatus>,
    reason: Option<String>,
    error_code: Option<String>,
    release_id: Option<i64>,
    deployment_id: Option<i64>,
    incident_id: Option<i64>,
    /// The environment a deployment event resolved to.
    environment_id: Option<i64>,
    events: Vec<Published>,
}

impl Applied {
    fn status(status: DeliveryStatus, reason: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// Stores `input` and applies it; `CONFLICT` with [`ALREADY_RECEIVED`] when the source sent
/// this delivery id before (the unique index decides, also under concurrent retries).
pub async fn deliver(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    input: &NewDelivery,
) -> ApiResult<Change<delivery::Model>> {
    let source = &input.source;
    let row = delivery::ActiveModel {
        id: NotSet,
        source_id: Set(source.id),
        program_id: Set(source.program_id),
        external_id: Set(input.incoming.delivery_id.clone()),
        fact_id: Set(input.incoming.fact_id.clone()),
        event_type: Set(input.incoming.event_type.clone()),
        received_at: Set(input.received_at),
        status: Set(DeliveryStatus::Ignored),
        reason: Set(None),
        error_code: Set(None),
        release_id: Set(None),
        deployment_id: Set(None),
        incident_id: Set(None),
        environment_id: Set(None),
        payload: Set(input.payload.clone()),
        headers: Set(input.headers.clone()),
    }
    .insert(txn)
    .await
    .map_err(conflict_on_duplicate(ALREADY_RECEIVED))?;
    let note = format!("delivery {}", ids::encode(NodeType::Delivery, row.id));
    let applied = under_savepoint(txn, viewer, source, &input.incoming.fact, &note).await?;
    let stored = finish(txn, row, applied.0).await?;
    Ok(Change {
        value: stored,
        events: applied.1,
    })
}

/// Applies an UNMATCHED or REJECTED delivery to the release the caller chose, as the
/// caller, under the usual rules; it can be REJECTED again.
pub async fn link(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    input: &Link,
) -> ApiResult<Change<delivery::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let visible = Visible::new(txn, viewer);
    let found = visible
        .delivery(input.delivery_id)
        .await?
        .or_not_found("delivery")?;
    if !matches!(
        found.status,
        DeliveryStatus::Unmatched | DeliveryStatus::Rejected
    ) {
        return Err(ApiError::InvalidTransition(format!(
            "the delivery is {}; only an UNMATCHED or REJECTED delivery is linked",
            found.status.as_str()
        )));
    }
    let release = visible
        .release(input.release_id)
        .await?
        .or_not_found("release")?;
    if release.program_id != found.program_id {
        return Err(ApiError::bad_input(
            "releaseId",
            "is not a release of the delivery's program",
        ));
    }
    let source = ingest_source::Entity::find_by_id(found.source_id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::Internal("a delivery's source is missing".into()))?;
    let headers = Headers::from_kept(&found.headers);
    // The delivery proved itself when it arrived, and only the headers it was read with
    // then are kept, so it is read again as fully trusted.
    let incoming = crate::ingest::read(
        source.kind,
        &Proof::Token,
        &headers,
        found.payload.as_bytes(),
    )
    .map_err(|e| ApiError::Internal(format!("a stored delivery no longer reads: {e}")))?;
    let Fact::Deployment(fact) = &incoming.fact else {
        return Err(ApiError::InvalidTransition(
            "only a deployment delivery is linked to a release".into(),
        ));
    };
    let note = format!("delivery {}", ids::encode(NodeType::Delivery, found.id));
    let environment = environment_of(txn, &source, &fact.environment).await?;
    let savepoint = txn.begin().await?;
    let result = deploy(
        &savepoint,
        viewer,
        &source,
        fact,
        &environment,
        &note,
        Some(&release),
    )
    .await;
    let (applied, events) = settle(savepoint, result, compliance_of(fact, &environment)).await?;
    let stored = finish(txn, found, applied).await?;
    Ok(Change {
        value: stored,
        events,
    })
}

/// Runs the fact's command under a savepoint: kept when it applies, rolled back when the
/// rules refuse it (the delivery becomes REJECTED with the refusal's code).
async fn under_savepoint(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    source: &ingest_source::Model,
    fact: &Fact,
    note: &str,
) -> ApiResult<(Applied, Vec<Published>)> {
    let environment = match fact {
        Fact::Deployment(fact) => environment_of(txn, source, &fact.environment).await?,
        _ => None,
    };
    let rejected = match fact {
        Fact::Deployment(fact) => compliance_of(fact, &environment),
        _ => Applied::default(),
    };
    let savepoint = txn.begin().await?;
    let result = match fact {
        Fact::Ignored(reason) => Ok(Applied::status(DeliveryStatus::Ignored, reason.clone())),
        Fact::Deployment(fact) => {
            deploy(&savepoint, viewer, source, fact, &environment, note, None).await
        }
        Fact::Incident(fact) => incident(&savepoint, viewer, source, fact, note).await,
    };
    settle(savepoint, result, rejected).await
}

/// What compliance counts of a deployment event whatever became of it: the environment
/// it resolved to, unless it is a rollback (metrics.md, unplanned deployments).
fn compliance_of(fact: &DeploymentFact, environment: &Option<environment::Model>) -> Applied {
    Applied {
        environment_id: environment
            .as_ref()
            .filter(|_| !fact.rollback)
            .map(|e| e.id),
        ..Applied::default()
    }
}

/// Keeps the savepoint of an applied fact, or rolls back a refused one: the delivery is
/// then REJECTED, keeping what `rejected` says of it (the environment it resolved to).
async fn settle(
    savepoint: DatabaseTransaction,
    result: ApiResult<Applied>,
    rejected: Applied,
) -> ApiResult<(Applied, Vec<Published>)> {
    match result {
        Ok(mut applied) => {
            savepoint.commit().await?;
            let events = std::mem::take(&mut applied.events);
            Ok((applied, events))
        }
        Err(refusal) if refused_by_rules(&refusal) => {
            savepoint.rollback().await?;
            let applied = Applied {
                status: Some(DeliveryStatus::Rejected),
                reason: Some(refusal.to_string()),
                error_code: Some(refusal.code().to_owned()),
                ..rejected
            };
            Ok((applied, Vec::new()))
        }
        Err(other) => Err(other),
    }
}

/// Errors that are the lifecycle's answer to the event, not a failure to store it.
fn refused_by_rules(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::NotFound(_)
            | ApiError::BadUserInput(_)
            | ApiError::InvalidTransition(_)
            | ApiError::GatesNotPassed(_)
            | ApiError::FreezeConflict(_)
            | ApiError::Conflict(_)
            | ApiError::Forbidden(_)
    )
}

/// Writes what the delivery became; the change feed hears of it when compliance counts it
/// now or counted it before.
async fn finish(
    txn: &impl ConnectionTrait,
    row: delivery::Model,
    applied: Applied,
) -> ApiResult<delivery::Model> {
    let counted_before = unplanned(row.status);
    let mut model = row.into_active_model();
    model.status = Set(applied.status.unwrap_or(DeliveryStatus::Applied));
    model.reason = Set(applied.reason);
    model.error_code = Set(applied.error_code);
    model.release_id = Set(applied.release_id);
    model.deployment_id = Set(applied.deployment_id);
    model.incident_id = Set(applied.incident_id);
    model.environment_id = Set(applied.environment_id);
    let stored = model.update(txn).await?;
    if counted_before || unplanned(stored.status) {
        record_delivery_change(txn, stored.id).await?;
    }
    Ok(stored)
}

/// The relm environment a sender's name stands for: an alias of the source, else an
/// environment of that name; for a tier, the one environment of that tier.
async fn environment_of(
    txn: &impl ConnectionTrait,
    source: &ingest_source::Model,
    name: &EnvironmentName,
) -> ApiResult<Option<environment::Model>> {
    match name {
        EnvironmentName::Named(name) => {
            let alias = ingest_alias::Entity::find()
                .filter(ingest_alias::Column::SourceId.eq(source.id))
                .filter(ingest_alias::Column::External.eq(name.as_str()))
                .one(txn)
                .await?;
            let found = match alias {
                Some(alias) => environment::Entity::find_by_id(alias.environment_id),
                None => environment::Entity::find().filter(environment::Column::Name.eq(name)),
            };
            Ok(found.one(txn).await?)
        }
        EnvironmentName::Tier(tier) => {
            let mut of_tier = environment::Entity::find()
                .filter(environment::Column::Tier.eq(*tier))
                .limit(2)
                .all(txn)
                .await?;
            Ok((of_tier.len() == 1).then(|| of_tier.remove(0)))
        }
    }
}

fn environment_label(name: &EnvironmentName) -> String {
    match name {
        EnvironmentName::Named(name) => name.clone(),
        EnvironmentName::Tier(tier) => tier.as_str().to_owned(),
    }
}

/// The release the hints name, first hit wins; `Err` with the reason when none or, by
/// commit, more than one does.
async fn match_release(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    hints: &ReleaseHints,
) -> ApiResult<Result<release::Model, String>> {
    let visible = Visible::new(txn, viewer);
    let by_version = |version: String| {
        visible
            .releases()
            .filter(release::Column::Version.eq(version))
            .one(txn)
    };
    if let Some(version) = &hints.version
        && let Some(found) = by_version(version.clone()).await?
    {
        return Ok(Ok(found));
    }
    if let Some(reference) = &hints.reference
        && let Some(found) = by_version(version_of_ref(reference).to_owned()).await?
    {
        return Ok(Ok(found));
    }
    let commit = hints
        .commit
        .as_deref()
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| c.len() >= 7 && c.chars().all(|ch| ch.is_ascii_hexdigit()));
    if let Some(commit) = &commit {
        let candidates = visible
            .releases()
            .filter(release::Column::SourceRevision.starts_with(commit.as_str()))
            .order_by_asc(release::Column::Version)
            .limit(6)
            .all(txn)
            .await?;
        match candidates.as_slice() {
            [only] => return Ok(Ok(only.clone())),
            [] => {}
            many => {
                let versions: Vec<&str> = many.iter().map(|r| r.version.as_str()).collect();
                return Ok(Err(format!(
                    "commit {commit} matches several releases: {}",
                    versions.join(", ")
                )));
            }
        }
    }
    let mut tried = Vec::new();
    if let Some(version) = &hints.version {
        tried.push(format!("version {version}"));
    }
    if let Some(reference) = &hints.reference {
        tried.push(format!("ref {reference}"));
    }
    if let Some(commit) = &commit {
        tried.push(format!("commit {commit}"));
    }
    Ok(Err(if tried.is_empty() {
        "the event names no release version, ref or commit".to_owned()
    } else {
        format!("no release of the program matches {}", tried.join(", "))
    }))
}

/// A deployment event: completes the deployment it names, or matches a release (or takes
/// `chosen`) and records the deployment or the rollback.
async fn deploy(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    source: &ingest_source::Model,
    fact: &DeploymentFact,
    environment: &Option<environment::Model>,
    note: &str,
    chosen: Option<&release::Model>,
) -> ApiResult<Applied> {
    let environment_id = compliance_of(fact, environment).environment_id;
    let note = Some(note.to_owned());
    let known = deployment::Entity::find()
        .filter(deployment::Column::SourceId.eq(source.id))
        .filter(deployment::Column::ExternalId.eq(fact.external_id.as_str()))
        .one(txn)
        .await?;
    if let Some(known) = known {
        if let Some(stale) = stale(fact.occurred_at, known.last_event_at) {
            return Ok(Applied {
                release_id: Some(known.release_id),
                deployment_id: Some(known.id),
                environment_id,
                ..Applied::status(DeliveryStatus::Ignored, stale)
            });
        }
        if known.status != DeploymentStatus::InProgress
            || fact.status == DeploymentStatus::InProgress
        {
            return Ok(Applied {
                release_id: Some(known.release_id),
                deployment_id: Some(known.id),
                environment_id,
                ..Applied::status(
                    DeliveryStatus::Ignored,
                    format!("the deployment is already {}", known.status.as_str()),
                )
            });
        }
        let completion = Completion {
            deployment_id: known.id,
            status: fact.status,
            finished_at: fact.finished_at.unwrap_or(fact.started_at),
            note,
        };
        let done = super::deployment::complete(txn, viewer, &completion).await?;
        let columns = (deployment::Column::Id, deployment::Column::LastEventAt);
        applied_at::<deployment::Entity>(txn, columns, done.value.id, fact.occurred_at).await?;
        return Ok(Applied {
            release_id: Some(done.value.release_id),
            deployment_id: Some(done.value.id),
            environment_id,
            events: done.events,
            ..Applied::default()
        });
    }
    let release = match chosen {
        Some(release) => release.clone(),
        None => match match_release(txn, viewer, &fact.release).await? {
            Ok(release) => release,
            Err(reason) => {
                return Ok(Applied {
                    environment_id,
                    ..Applied::status(DeliveryStatus::Unmatched, reason)
                });
            }
        },
    };
    let environment = environment.clone().ok_or_else(|| {
        ApiError::NotFound(format!(
            "environment: {}",
            environment_label(&fact.environment)
        ))
    })?;
    if fact.rollback {
        let latest = deployment::Entity::find()
            .filter(deployment::Column::ReleaseId.eq(release.id))
            .filter(deployment::Column::EnvironmentId.eq(environment.id))
            .filter(deployment::Column::IsRollback.eq(false))
            .order_by_desc(deployment::Column::StartedAt)
            .one(txn)
            .await?;
        if let Some(stale) = stale(fact.occurred_at, latest.map(|d| d.started_at)) {
            return Ok(Applied {
                release_id: Some(release.id),
                ..Applied::status(DeliveryStatus::Ignored, stale)
            });
        }
        let rollback = Rollback {
            release_id: release.id,
            environment: environment.name,
            reason: Text::parse(
                "reason",
                &format!("rolled back, reported by ingest:{}", source.key),
            )?,
            started_at: fact.started_at,
            finished_at: fact.finished_at.unwrap_or(fact.started_at),
        };
        let done = super::deployment::rollback(txn, viewer, &rollback).await?;
        return Ok(Applied {
            release_id: Some(done.value.id),
            events: done.events,
            ..Applied::default()
        });
    }
    let recording = NewDeployment {
        release_id: release.id,
        environment: environment.name,
        status: fact.status,
        strategy: fact.strategy,
        stage: Name::optional("stage", fact.stage.as_deref())?,
        started_at: fact.started_at,
        finished_at: fact.finished_at,
        origin: Some(Origin {
            source_id: source.id,
            external_id: fact.external_id.clone(),
            occurred_at: fact.occurred_at,
        }),
        note,
    };
    let done = super::deployment::record(txn, viewer, &recording).await?;
    Ok(Applied {
        release_id: Some(release.id),
        deployment_id: Some(done.value.id),
        environment_id,
        events: done.events,
        ..Applied::default()
    })
}

/// An incident event: records, resolves or reopens the incident the sender names.
async fn incident(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    source: &ingest_source::Model,
    fact: &IncidentFact,
    note: &str,
) -> ApiResult<Applied> {
    let known = incident::Entity::find()
        .filter(incident::Column::SourceId.eq(source.id))
        .filter(incident::Column::ExternalId.eq(fact.external_id.as_str()))
        .one(txn)
        .await?;
    let note = Some(note.to_owned());
    let ignored = |known: &incident::Model, why: &str| Applied {
        incident_id: Some(known.id),
        release_id: known.release_id,
        ..Applied::status(DeliveryStatus::Ignored, why)
    };
    if let Some(known) = &known
        && let Some(stale) = stale(fact.occurred_at, known.last_event_at)
            .or_else(|| reopening_too_early(fact, known))
    {
        return Ok(ignored(known, &stale));
    }
    let change = match (&fact.change, known) {
        (IncidentChange::Opened(opened), None) => {
            return open(txn, viewer, source, fact, opened, note).await;
        }
        (IncidentChange::Opened(opened), Some(known)) => {
            match (opened.resolved_at, known.resolved_at) {
                (Some(at), None) => IncidentMove::Resolve(known, at),
                (None, Some(_)) => IncidentMove::Reopen(known),
                _ => return Ok(ignored(&known, "the incident is already recorded")),
            }
        }
        (IncidentChange::Resolved { .. }, Some(known)) if known.resolved_at.is_some() => {
            return Ok(ignored(&known, "the incident is already resolved"));
        }
        (IncidentChange::Resolved { at }, Some(known)) => IncidentMove::Resolve(known, *at),
        (IncidentChange::Reopened, Some(known)) if known.resolved_at.is_none() => {
            return Ok(ignored(&known, "the incident is open"));
        }
        (IncidentChange::Reopened, Some(known)) => IncidentMove::Reopen(known),
        (_, None) => {
            return Ok(Applied::status(
                DeliveryStatus::Ignored,
                format!("no incident {} from this source", fact.external_id),
            ));
        }
    };
    let done = match change {
        IncidentMove::Resolve(known, at) => {
            let resolution = Resolution {
                incident_id: known.id,
                resolved_at: at.max(known.opened_at),
                note,
            };
            super::incident::resolve(txn, viewer, &resolution).await?
        }
        IncidentMove::Reopen(known) => super::incident::reopen(txn, viewer, known.id, note).await?,
    };
    let columns = (incident::Column::Id, incident::Column::LastEventAt);
    applied_at::<incident::Entity>(txn, columns, done.value.id, fact.occurred_at).await?;
    Ok(Applied {
        incident_id: Some(done.value.id),
        release_id: done.value.release_id,
        deployment_id: done.value.deployment_id,
        events: done.events,
        ..Applied::default()
    })
}

/// What an event does to an incident already recorded.
enum IncidentMove {
    Resolve(incident::Model, i64),
    Reopen(incident::Model),
}

/// Records a new incident, attributed to the program's latest production deployment that
/// succeeded within the source's window before it opened.
async fn open(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    source: &ingest_source::Model,
    fact: &IncidentFact,
    opened: &OpenedIncident,
    note: Option<String>,
) -> ApiResult<Applied> {
    let release = match_release(txn, viewer, &opened.release).await?.ok();
    let window = i64::from(source.attribution_window_hours) * time::HOUR_MICROS;
    let mut latest = Visible::new(txn, viewer)
        .deployments()
        .filter(deployment::Column::IsRollback.eq(false))
        .filter(deployment::Column::Status.eq(DeploymentStatus::Succeeded))
        .filter(deployment::Column::FinishedAt.lte(opened.opened_at))
        .filter(deployment::Column::FinishedAt.gte(opened.opened_at - window))
        .filter(
            deployment::Column::EnvironmentId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(environment::Column::Id)
                    .from(environment::Entity)
                    .and_where(environment::Column::Tier.eq(EnvironmentTier::Production))
                    .to_owned(),
            ),
        );
    if let Some(release) = &release {
        latest = latest.filter(deployment::Column::ReleaseId.eq(release.id));
    }
    let latest = latest
        .order_by_desc(deployment::Column::FinishedAt)
        .order_by_desc(deployment::Column::Id)
        .one(txn)
        .await?;
    let program = Visible::new(txn, viewer)
        .program(source.program_id)
        .await?
        .ok_or_else(|| ApiError::Internal("an ingest source's program is missing".into()))?;
    let recording = NewIncident {
        program_key: Some(program.key),
        release_id: latest
            .as_ref()
            .map(|d| d.release_id)
            .or(release.as_ref().map(|r| r.id)),
        deployment_id: latest.as_ref().map(|d| d.id),
        title: Name::parse("title", &opened.title)?,
        severity: opened.severity,
        caused_by_change: opened.caused_by_change.unwrap_or(latest.is_some()),
        opened_at: opened.opened_at,
        resolved_at: opened.resolved_at.map(|at| at.max(opened.opened_at)),
        origin: Some(Origin {
            source_id: source.id,
            external_id: fact.external_id.clone(),
            occurred_at: fact.occurred_at,
        }),
        note,
    };
    let done = super::incident::record(txn, viewer, &recording).await?;
    Ok(Applied {
        incident_id: Some(done.value.id),
        release_id: done.value.release_id,
        deployment_id: done.value.deployment_id,
        events: done.events,
        ..Applied::default()
    })
}

/// `Some(reason)` when an event that occurred at `occurred_at` is older than the last change
/// applied (`last`): it is stale and changes nothing.
fn stale(occurred_at: i64, last: Option<i64>) -> Option<String> {
    let last = last.filter(|last| occurred_at < *last)?;
    Some(format!(
        "stale: the event occurred at {}, before the last change applied at {}",
        time::rfc3339(occurred_at),
        time::rfc3339(last)
    ))
}

/// A reopening that did not occur after the resolution it would undo.
fn reopening_too_early(fact: &IncidentFact, known: &incident::Model) -> Option<String> {
    let reopens = match &fact.change {
        IncidentChange::Reopened => true,
        IncidentChange::Opened(opened) => opened.resolved_at.is_none(),
        IncidentChange::Resolved { .. } => false,
    };
    let resolved = known
        .resolved_at
        .filter(|at| reopens && fact.occurred_at <= *at)?;
    Some(format!(
        "stale: the incident was resolved at {}, and the event occurred at {}",
        time::rfc3339(resolved),
        time::rfc3339(fact.occurred_at)
    ))
}

/// Notes that an event that occurred at `at` was applied to the row `id` of `E` (a
/// deployment or an incident), given its id and `last_event_at` columns.
async fn applied_at<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    (id_column, last): (E::Column, E::Column),
    id: i64,
    at: i64,
) -> ApiResult<()> {
    E::update_many()
        .col_expr(last, Expr::value(at))
        .filter(id_column.eq(id))
        .filter(Condition::any().add(last.lt(at)).add(last.is_null()))
        .exec(txn)
        .await?;
    Ok(())
}
