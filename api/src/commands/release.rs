//! Release commands: create, update, move along the lifecycle, add scope.

use entity::enums::{
    DeploymentStrategy, ItemKind, ReleaseEventKind, ReleaseStatus, ReleaseType, RiskLevel,
};
use entity::release_party::PartyRole;
use entity::{release, release_item, release_party};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, Set,
};

use super::work::{Changed, Work};
use super::{Change, EventDetail, Patch, visible_program};
use crate::auth::{Role, Viewer};
use crate::domain::lifecycle::{check_transition, check_writable, freeze_conflict};
use crate::domain::validate::{self, Commit, Name, Names, Text};
use crate::error::{ApiError, ApiResult, conflict_on_duplicate};
use crate::queries::derived::{current_readiness, freeze_covering};
use crate::time;

/// A new release; it starts PLANNED with revision 1. Timestamps are Unix microseconds.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub program_key: String,
    pub version: Name,
    pub name: Name,
    pub description: Option<Text>,
    pub release_type: ReleaseType,
    pub risk: RiskLevel,
    pub strategy: DeploymentStrategy,
    pub owner: Option<Name>,
    pub teams: Names,
    pub suppliers: Names,
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
    pub rollback_plan: Option<Text>,
    /// The commit the release is built from.
    pub source_revision: Option<Commit>,
}

/// Changes to a release at `expected_revision`; `None` and `Patch::Keep` leave a field as
/// it is, and lists replace the whole list.
#[derive(Debug, Clone, Default)]
pub struct ReleaseChanges {
    pub release_id: i64,
    pub expected_revision: i32,
    pub name: Option<Name>,
    pub description: Patch<Text>,
    pub risk: Option<RiskLevel>,
    pub strategy: Option<DeploymentStrategy>,
    pub owner: Patch<Name>,
    pub teams: Option<Names>,
    pub suppliers: Option<Names>,
    pub planned_start: Patch<i64>,
    pub planned_end: Patch<i64>,
    pub rollback_plan: Patch<Text>,
    pub source_revision: Patch<Commit>,
}

/// A move along the lifecycle; `override_freeze` counts only with a note.
#[derive(Debug, Clone)]
pub struct Transition {
    pub release_id: i64,
    pub to: ReleaseStatus,
    pub note: Option<Text>,
    pub expected_revision: Option<i32>,
    pub override_freeze: bool,
}

/// A unit of scope to add to a release.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub release_id: i64,
    pub title: Name,
    pub kind: ItemKind,
    pub reference: Option<Name>,
    pub committed_at: Option<i64>,
}

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
    input: &NewRelease,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let version = input.version.to_string();
    let (planned_start, planned_end) = (input.planned_start, input.planned_end);
    check_planned(planned_start, planned_end)?;
    let now = time::now_micros();
    let mut model = release::ActiveModel {
        id: NotSet,
        program_id: NotSet,
        version: Set(version.clone()),
        name: Set(input.name.to_string()),
        description: Set(input.description.clone().map(String::from)),
        release_type: Set(input.release_type),
        risk: Set(input.risk),
        strategy: Set(input.strategy),
        status: Set(ReleaseStatus::Planned),
        owner: Set(input.owner.clone().map(String::from)),
        planned_start: Set(planned_start),
        planned_end: Set(planned_end),
        rollback_plan: Set(input.rollback_plan.clone().map(String::from)),
        revision: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        source_revision: Set(input.source_revision.clone().map(String::from)),
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
    set_parties(txn, release.id, PartyRole::Team, &input.teams).await?;
    set_parties(txn, release.id, PartyRole::Supplier, &input.suppliers).await?;
    work.created(&release);
    work.finish(&release, ReleaseEventKind::Created, EventDetail::default())
        .await?;
    work.into_change(release)
}

pub async fn update(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &ReleaseChanges,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let name = input.name.clone().map(String::from);
    let description = input
        .description
        .clone()
        .change()
        .map(|d| d.map(String::from));
    let owner = input.owner.clone().change().map(|o| o.map(String::from));
    let rollback_plan = input
        .rollback_plan
        .clone()
        .change()
        .map(|p| p.map(String::from));
    let source_revision = input
        .source_revision
        .clone()
        .change()
        .map(|r| r.map(String::from));
    let (teams, suppliers) = (&input.teams, &input.suppliers);

    let locked = work
        .lock(input.release_id, Some(input.expected_revision))
        .await?;
    check_writable(locked.status)?;
    let mut changed = Changed::default();
    let mut model = locked.clone().into_active_model();
    if let Some(name) = name {
        changed.set("name", &mut model.name, name);
    }
    if let Some(risk) = input.risk {
        changed.set("risk", &mut model.risk, risk);
    }
    if let Some(strategy) = input.strategy {
        changed.set("strategy", &mut model.strategy, strategy);
    }
    // Clearable fields: null clears them, leaving them out keeps them.
    if let Some(description) = description {
        changed.set("description", &mut model.description, description);
    }
    if let Some(owner) = owner {
        changed.set("owner", &mut model.owner, owner);
    }
    if let Some(rollback_plan) = rollback_plan {
        changed.set("rollbackPlan", &mut model.rollback_plan, rollback_plan);
    }
    if let Some(source_revision) = source_revision {
        changed.set(
            "sourceRevision",
            &mut model.source_revision,
            source_revision,
        );
    }
    let mut planned_start = locked.planned_start;
    let mut planned_end = locked.planned_end;
    if let Some(start) = input.planned_start.change() {
        planned_start = start;
        changed.set("plannedStart", &mut model.planned_start, start);
    }
    if let Some(end) = input.planned_end.change() {
        planned_end = end;
        changed.set("plannedEnd", &mut model.planned_end, end);
    }
    check_planned(planned_start, planned_end)?;
    let release = model.update(txn).await?;
    if let Some(teams) = teams {
        set_parties(txn, release.id, PartyRole::Team, teams).await?;
        changed.mark("teams");
    }
    if let Some(suppliers) = suppliers {
        set_parties(txn, release.id, PartyRole::Supplier, suppliers).await?;
        changed.mark("suppliers");
    }
    let note = changed.note();
    work.finish(&release, ReleaseEventKind::Updated, EventDetail::note(note))
        .await?;
    work.into_change(release)
}

/// `FREEZE_CONFLICT` when `at` (named `what`) falls in a freeze window that binds the
/// release (`queries::derived::freeze_covering`).
pub async fn check_freeze(
    txn: &impl ConnectionTrait,
    release: &release::Model,
    what: &str,
    at: i64,
    can_override: bool,
) -> ApiResult<()> {
    match freeze_covering(txn, release, at).await? {
        Some(window) => Err(freeze_conflict(what, at, &window, can_override)),
        None => Ok(()),
    }
}

/// `FREEZE_CONFLICT` when `at` falls in a freeze window, unless the caller overrides it;
/// says whether an override went through a freeze.
async fn guard_freeze(
    txn: &impl ConnectionTrait,
    release: &release::Model,
    what: &str,
    at: i64,
    overridden: bool,
) -> ApiResult<bool> {
    if !overridden {
        check_freeze(txn, release, what, at, true).await?;
        return Ok(false);
    }
    Ok(freeze_covering(txn, release, at).await?.is_some())
}

pub async fn transition(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &Transition,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let note = input.note.clone().map(String::from);
    let mut release = work.lock(input.release_id, input.expected_revision).await?;
    let (from, to) = (release.status, input.to);
    check_transition(from, to)?;

    let overridden = input.override_freeze && note.is_some();
    let mut overrode_freeze = false;
    match to {
        ReleaseStatus::Scheduled => {
            let planned_end = release.planned_end.ok_or_else(|| {
                ApiError::bad_input("plannedEnd", "must be set before the release is SCHEDULED")
            })?;
            overrode_freeze =
                guard_freeze(txn, &release, "plannedEnd", planned_end, overridden).await?;
        }
        ReleaseStatus::Approved => {
            let readiness = current_readiness(txn, &release, &viewer.scope).await?;
            if !readiness.ready {
                return Err(ApiError::GatesNotPassed(format!(
                    "the release is not ready for approval: {}",
                    readiness.blockers.join("; ")
                )));
            }
        }
        ReleaseStatus::Deploying => {
            super::dependency::check_met(txn, &release, &viewer.scope).await?;
            let now = time::now_micros();
            overrode_freeze = guard_freeze(txn, &release, "now", now, overridden).await?;
        }
        _ => {}
    }
    work.set_status(&mut release, to).await?;
    let detail = EventDetail {
        overrode_freeze,
        ..EventDetail::status(from, to).with_note(note)
    };
    work.finish(&release, ReleaseEventKind::StatusChanged, detail)
        .await?;
    work.into_change(release)
}

pub async fn add_item(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewItem,
) -> ApiResult<Change<release_item::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let release = work.lock(input.release_id, None).await?;
    check_writable(release.status)?;
    let item = release_item::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        title: Set(input.title.to_string()),
        kind: Set(input.kind),
        reference: Set(input.reference.clone().map(String::from)),
        committed_at: Set(input.committed_at),
    }
    .insert(txn)
    .await?;
    work.finish(
        &release,
        ReleaseEventKind::ItemAdded,
        EventDetail::default(),
    )
    .await?;
    work.into_change(item)
}
