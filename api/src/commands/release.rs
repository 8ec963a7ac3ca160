//! Release commands: create, update, move along the lifecycle, add scope.

use entity::enums::{ReleaseEventKind, ReleaseStatus, ReleaseType};
use entity::release_party::PartyRole;
use entity::{
    approval, freeze_window, gate_result, quality_gate, release, release_item, release_party,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    NotSet, QueryFilter, Set,
};

use super::{Change, EventDetail, lock_release, record_event, set_status, visible_program};
use crate::auth::{Role, Viewer};
use crate::domain::gates::GateState;
use crate::domain::lifecycle::{check_transition, check_writable, covering, freeze_conflict};
use crate::domain::readiness::{Readiness, readiness};
use crate::domain::validate;
use crate::error::{ApiError, ApiResult, conflict_on_duplicate};
use crate::graphql::enums::{DeploymentStrategy, RiskLevel};
use crate::graphql::release::{
    AddReleaseItemInput, CreateReleaseInput, TransitionReleaseInput, UpdateReleaseInput,
};
use crate::ids::{self, NodeType};
use crate::time;

/// Replaces the teams or suppliers of a release.
async fn set_parties(
    txn: &impl ConnectionTrait,
    release_id: i64,
    role: PartyRole,
    names: &[String],
) -> ApiResult<()> {
    release_party::Entity::delete_many()
        .filter(release_party::Column::ReleaseId.eq(release_id))
        .filter(release_party::Column::Role.eq(role))
        .exec(txn)
        .await?;
    if names.is_empty() {
        return Ok(());
    }
    let rows = names
        .iter()
        .enumerate()
        .map(|(position, name)| release_party::ActiveModel {
            id: NotSet,
            release_id: Set(release_id),
            role: Set(role),
            name: Set(name.clone()),
            position: Set(position as i32),
        });
    release_party::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

fn check_planned(start: Option<i64>, end: Option<i64>) -> ApiResult<()> {
    match (start, end) {
        (Some(start), Some(end)) => validate::not_before("plannedEnd", end, "plannedStart", start),
        _ => Ok(()),
    }
}

pub async fn create(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &CreateReleaseInput,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let version = validate::name("version", &input.version)?;
    let teams = validate::names("teams", input.teams.as_deref().unwrap_or_default())?;
    let suppliers = validate::names("suppliers", input.suppliers.as_deref().unwrap_or_default())?;
    let planned_start = input.planned_start.map(|t| t.micros());
    let planned_end = input.planned_end.map(|t| t.micros());
    check_planned(planned_start, planned_end)?;
    let now = time::now_micros();
    let mut model = release::ActiveModel {
        id: NotSet,
        program_id: NotSet,
        version: Set(version.clone()),
        name: Set(validate::name("name", &input.name)?),
        description: Set(validate::optional_text(
            "description",
            input.description.as_deref(),
        )?),
        release_type: Set(input.release_type.into()),
        risk: Set(input.risk.unwrap_or(RiskLevel::Medium).into()),
        strategy: Set(input.strategy.unwrap_or(DeploymentStrategy::BigBang).into()),
        status: Set(ReleaseStatus::Planned),
        owner: Set(validate::optional_name("owner", input.owner.as_deref())?),
        planned_start: Set(planned_start),
        planned_end: Set(planned_end),
        rollback_plan: Set(validate::optional_text(
            "rollbackPlan",
            input.rollback_plan.as_deref(),
        )?),
        revision: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let program = visible_program(txn, viewer, "programKey", &input.program_key).await?;
    model.program_id = Set(program.id);
    let duplicate = format!("release {} {version} already exists", program.key);
    let existing = release::Entity::find()
        .filter(release::Column::ProgramId.eq(program.id))
        .filter(release::Column::Version.eq(&version))
        .one(txn)
        .await?;
    if existing.is_some() {
        return Err(ApiError::Conflict(duplicate));
    }
    let release = model
        .insert(txn)
        .await
        .map_err(conflict_on_duplicate(duplicate))?;
    set_parties(txn, release.id, PartyRole::Team, &teams).await?;
    set_parties(txn, release.id, PartyRole::Supplier, &suppliers).await?;
    let event = record_event(
        txn,
        viewer,
        &release,
        ReleaseEventKind::Created,
        EventDetail::default(),
    )
    .await?;
    Ok(Change::new(release, Some(event)))
}

pub async fn update(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &UpdateReleaseInput,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let id = ids::decode(&input.release_id, NodeType::Release, "releaseId")?;
    // Validate everything before touching the database.
    let name = input
        .name
        .as_deref()
        .map(|n| validate::name("name", n))
        .transpose()?;
    let description = input
        .description
        .as_opt_deref()
        .map(|d| validate::optional_text("description", d))
        .transpose()?;
    let owner = input
        .owner
        .as_opt_deref()
        .map(|o| validate::optional_name("owner", o))
        .transpose()?;
    let rollback_plan = input
        .rollback_plan
        .as_opt_deref()
        .map(|p| validate::optional_text("rollbackPlan", p))
        .transpose()?;
    let teams = input
        .teams
        .as_deref()
        .map(|t| validate::names("teams", t))
        .transpose()?;
    let suppliers = input
        .suppliers
        .as_deref()
        .map(|s| validate::names("suppliers", s))
        .transpose()?;

    let locked = lock_release(txn, viewer, id, Some(input.expected_revision)).await?;
    check_writable(locked.status)?;
    let mut changed = Vec::new();
    let mut model = locked.clone().into_active_model();
    if let Some(name) = name {
        model.name = Set(name);
        changed.push("name");
    }
    if let Some(risk) = input.risk {
        model.risk = Set(risk.into());
        changed.push("risk");
    }
    if let Some(strategy) = input.strategy {
        model.strategy = Set(strategy.into());
        changed.push("strategy");
    }
    // Clearable fields: null clears them, leaving them out keeps them.
    if !input.description.is_undefined() {
        model.description = Set(description.flatten());
        changed.push("description");
    }
    if !input.owner.is_undefined() {
        model.owner = Set(owner.flatten());
        changed.push("owner");
    }
    if !input.rollback_plan.is_undefined() {
        model.rollback_plan = Set(rollback_plan.flatten());
        changed.push("rollbackPlan");
    }
    let mut planned_start = locked.planned_start;
    let mut planned_end = locked.planned_end;
    if !input.planned_start.is_undefined() {
        planned_start = input
            .planned_start
            .as_opt_ref()
            .flatten()
            .map(|t| t.micros());
        model.planned_start = Set(planned_start);
        changed.push("plannedStart");
    }
    if !input.planned_end.is_undefined() {
        planned_end = input.planned_end.as_opt_ref().flatten().map(|t| t.micros());
        model.planned_end = Set(planned_end);
        changed.push("plannedEnd");
    }
    check_planned(planned_start, planned_end)?;
    let release = model.update(txn).await?;
    if let Some(teams) = &teams {
        set_parties(txn, release.id, PartyRole::Team, teams).await?;
        changed.push("teams");
    }
    if let Some(suppliers) = &suppliers {
        set_parties(txn, release.id, PartyRole::Supplier, suppliers).await?;
        changed.push("suppliers");
    }
    let note = (!changed.is_empty()).then(|| format!("changed {}", changed.join(", ")));
    let event = record_event(
        txn,
        viewer,
        &release,
        ReleaseEventKind::Updated,
        EventDetail::note(note),
    )
    .await?;
    Ok(Change::new(release, Some(event)))
}

/// Freeze windows of a program and the global ones.
pub async fn freeze_windows(
    txn: &impl ConnectionTrait,
    program_id: i64,
) -> ApiResult<Vec<freeze_window::Model>> {
    Ok(freeze_window::Entity::find()
        .filter(
            Condition::any()
                .add(freeze_window::Column::ProgramId.is_null())
                .add(freeze_window::Column::ProgramId.eq(program_id)),
        )
        .all(txn)
        .await?)
}

/// `FREEZE_CONFLICT` when `at` (named `what`) falls in a freeze window of the release's
/// program or a global one; EMERGENCY releases are exempt.
pub async fn check_freeze(
    txn: &impl ConnectionTrait,
    release: &release::Model,
    what: &str,
    at: i64,
    can_override: bool,
) -> ApiResult<()> {
    if release.release_type == ReleaseType::Emergency {
        return Ok(());
    }
    match covering(&freeze_windows(txn, release.program_id).await?, at) {
        Some(window) => Err(freeze_conflict(what, at, window, can_override)),
        None => Ok(()),
    }
}

/// The readiness of a release as stored now.
pub async fn current_readiness(
    txn: &impl ConnectionTrait,
    release: &release::Model,
) -> ApiResult<Readiness> {
    let gates = quality_gate::Entity::find()
        .filter(quality_gate::Column::ReleaseId.eq(release.id))
        .all(txn)
        .await?;
    let results = gate_result::Entity::find()
        .filter(gate_result::Column::GateId.is_in(gates.iter().map(|g| g.id)))
        .all(txn)
        .await?;
    let states: Vec<GateState> = gates
        .into_iter()
        .filter_map(|gate| {
            let own: Vec<_> = results
                .iter()
                .filter(|r| r.gate_id == gate.id)
                .cloned()
                .collect();
            GateState::from_results(gate, &own)
        })
        .collect();
    let approvals = approval::Entity::find()
        .filter(approval::Column::ReleaseId.eq(release.id))
        .all(txn)
        .await?;
    Ok(readiness(
        &states,
        &approvals,
        release.rollback_plan.as_deref(),
    ))
}

pub async fn transition(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &TransitionReleaseInput,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let id = ids::decode(&input.release_id, NodeType::Release, "releaseId")?;
    let note = validate::optional_text("note", input.note.as_deref())?;
    let mut release = lock_release(txn, viewer, id, input.expected_revision).await?;
    let (from, to) = (release.status, ReleaseStatus::from(input.to));
    check_transition(from, to)?;

    let overridden = input.override_freeze.unwrap_or(false) && note.is_some();
    match to {
        ReleaseStatus::Scheduled => {
            let planned_end = release.planned_end.ok_or_else(|| {
                ApiError::bad_input("plannedEnd", "must be set before the release is SCHEDULED")
            })?;
            if !overridden {
                check_freeze(txn, &release, "plannedEnd", planned_end, true).await?;
            }
        }
        ReleaseStatus::Approved => {
            let readiness = current_readiness(txn, &release).await?;
            if !readiness.ready {
                return Err(ApiError::GatesNotPassed(format!(
                    "the release is not ready for approval: {}",
                    readiness.blockers.join("; ")
                )));
            }
        }
        ReleaseStatus::Deploying => {
            let now = time::now_micros();
            if !overridden {
                check_freeze(txn, &release, "now", now, true).await?;
            }
        }
        _ => {}
    }
    set_status(txn, &mut release, to).await?;
    let detail = EventDetail::status(from, to).with_note(note);
    let event = record_event(
        txn,
        viewer,
        &release,
        ReleaseEventKind::StatusChanged,
        detail,
    )
    .await?;
    Ok(Change::new(release, Some(event)))
}

pub async fn add_item(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &AddReleaseItemInput,
) -> ApiResult<Change<release_item::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let id = ids::decode(&input.release_id, NodeType::Release, "releaseId")?;
    let title = validate::name("title", &input.title)?;
    let reference = validate::optional_name("reference", input.reference.as_deref())?;
    let release = lock_release(txn, viewer, id, None).await?;
    check_writable(release.status)?;
    let item = release_item::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        title: Set(title),
        kind: Set(input.kind.into()),
        reference: Set(reference),
        committed_at: Set(input.committed_at.map(|t| t.micros())),
    }
    .insert(txn)
    .await?;
    let event = record_event(
        txn,
        viewer,
        &release,
        ReleaseEventKind::ItemAdded,
        EventDetail::default(),
    )
    .await?;
    Ok(Change::new(item, Some(event)))
}
