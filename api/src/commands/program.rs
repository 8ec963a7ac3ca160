//! ADMIN commands: programs, environments and freeze windows.

use entity::admin_event::{self, AdminAction};
use entity::enums::EnvironmentTier;
use entity::{environment, freeze_window, program};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter,
    Set,
};

use entity::change::ChangeKind;

use super::{Change, record_change, visible_program};
use crate::auth::{Role, Viewer};
use crate::domain::validate::{Name, ProgramKey, Text};
use crate::error::{ApiError, ApiResult, conflict_on_duplicate};
use crate::time;

/// A new program.
#[derive(Debug, Clone)]
pub struct NewProgram {
    pub key: ProgramKey,
    pub name: Name,
    pub description: Option<Text>,
    pub owner: Option<Name>,
    pub business_objective: Option<Text>,
}

/// A new deployment target.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    pub name: Name,
    pub tier: EnvironmentTier,
}

/// A freeze over [starts_at, ends_at) (Unix microseconds), of one program or, without a
/// key, of all.
#[derive(Debug, Clone)]
pub struct NewFreezeWindow {
    pub name: Name,
    pub reason: Option<Text>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub program_key: Option<String>,
}

pub async fn create_program(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewProgram,
) -> ApiResult<Change<program::Model>> {
    viewer.require_global_admin()?;
    let key = input.key.to_string();
    let model = program::ActiveModel {
        id: NotSet,
        name: Set(input.name.to_string()),
        description: Set(input.description.clone().map(String::from)),
        owner: Set(input.owner.clone().map(String::from)),
        business_objective: Set(input.business_objective.clone().map(String::from)),
        created_at: Set(time::now_micros()),
        key: Set(key.clone()),
    };
    let duplicate = format!("a program with key {key} already exists");
    if program::Entity::find()
        .filter(program::Column::Key.eq(&key))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(duplicate));
    }
    let program = model
        .insert(txn)
        .await
        .map_err(conflict_on_duplicate(duplicate))?;
    record_change(txn, ChangeKind::Program, None, None).await?;
    let detail = serde_json::json!({
        "name": program.name, "description": program.description, "owner": program.owner,
        "businessObjective": program.business_objective,
    });
    audit(
        txn,
        viewer,
        AdminAction::ProgramCreated,
        &program.key,
        detail,
    )
    .await?;
    Ok(Change::new(program, None))
}

pub async fn create_environment(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewEnvironment,
) -> ApiResult<Change<environment::Model>> {
    viewer.require_global_admin()?;
    let name = input.name.to_string();
    let duplicate = format!("an environment named {name} already exists");
    if environment::Entity::find()
        .filter(environment::Column::Name.eq(&name))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(duplicate));
    }
    let environment = environment::ActiveModel {
        id: NotSet,
        name: Set(name),
        tier: Set(input.tier),
    }
    .insert(txn)
    .await
    .map_err(conflict_on_duplicate(duplicate))?;
    let detail = serde_json::json!({ "tier": environment.tier.to_value() });
    audit(
        txn,
        viewer,
        AdminAction::EnvironmentCreated,
        &environment.name,
        detail,
    )
    .await?;
    Ok(Change::new(environment, None))
}

pub async fn create_freeze_window(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewFreezeWindow,
) -> ApiResult<Change<freeze_window::Model>> {
    viewer.require(Role::Admin)?;
    let name = input.name.to_string();
    let reason = input.reason.clone().map(String::from);
    if input.ends_at <= input.starts_at {
        return Err(ApiError::bad_input("endsAt", "must be after startsAt"));
    }
    // A freeze of every program binds programs a scoped ADMIN does not administer.
    let program_id = match &input.program_key {
        Some(key) => Some(visible_program(txn, viewer, "programKey", key).await?.id),
        None => {
            viewer.require_global_admin()?;
            None
        }
    };
    let window = freeze_window::ActiveModel {
        id: NotSet,
        name: Set(name),
        reason: Set(reason),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        program_id: Set(program_id),
    }
    .insert(txn)
    .await?;
    let detail = serde_json::json!({
        "name": window.name, "reason": window.reason, "programKey": input.program_key,
        "startsAt": time::rfc3339(window.starts_at), "endsAt": time::rfc3339(window.ends_at),
    });
    audit(
        txn,
        viewer,
        AdminAction::FreezeWindowCreated,
        &window.id.to_string(),
        detail,
    )
    .await?;
    Ok(Change::new(window, None))
}

/// Records who did an ADMIN command, in the same transaction as the command.
pub(super) async fn audit(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    action: AdminAction,
    subject: &str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    admin_event::ActiveModel {
        id: NotSet,
        action: Set(action),
        subject: Set(subject.to_owned()),
        actor: Set(viewer.subject.clone()),
        detail: Set(detail.to_string()),
        at: Set(time::now_micros()),
    }
    .insert(txn)
    .await?;
    Ok(())
}
