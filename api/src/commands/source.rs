//! Ingest sources (ingestion.md): creating them, changing them, rotating their secret. A
//! secret is 32 random bytes, hex-encoded, returned once and never logged or audited;
//! after a rotation the previous one keeps working for 24 hours.

use std::collections::HashSet;

use entity::admin_event::AdminAction;
use entity::enums::IngestKind;
use entity::{environment, ingest_alias, ingest_source};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, Set,
};

use super::program::audit;
use super::{Change, visible_program};
use crate::auth::{Role, Viewer};
use crate::error::{ApiError, ApiResult, conflict_on_duplicate};
use crate::queries::{OrNotFound, Visible, not_found};
use crate::time;

/// How long the secret before a rotation keeps working.
pub const PREVIOUS_SECRET_HOURS: i64 = 24;

/// A sender's environment name and the relm environment it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub external: String,
    pub environment: String,
}

#[derive(Debug, Clone)]
pub struct NewSource {
    pub program_key: String,
    pub key: String,
    pub kind: IngestKind,
    pub aliases: Vec<Alias>,
    pub attribution_window_hours: i32,
}

/// Changes to a source; `None` leaves a field as it is, aliases replace all of them.
#[derive(Debug, Clone, Default)]
pub struct SourceChanges {
    pub source_id: i64,
    pub enabled: Option<bool>,
    pub aliases: Option<Vec<Alias>>,
    pub attribution_window_hours: Option<i32>,
}

/// A source with the secret it was just given.
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub source: ingest_source::Model,
    pub secret: String,
}

fn check_key(key: &str) -> ApiResult<String> {
    let key = key.trim();
    let valid = (3..=40).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(key.to_owned())
    } else {
        Err(ApiError::bad_input(
            "key",
            "must be 3 to 40 characters of a-z, 0-9 and -",
        ))
    }
}

fn check_window(hours: i32) -> ApiResult<i32> {
    if (1..=720).contains(&hours) {
        Ok(hours)
    } else {
        Err(ApiError::bad_input(
            "attributionWindowHours",
            format!("must be between 1 and 720, got {hours}"),
        ))
    }
}

/// 32 random bytes from the operating system, hex-encoded.
fn new_secret() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("no randomness for a secret: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Replaces the aliases of `source_id`; each environment must exist.
async fn set_aliases(
    txn: &impl ConnectionTrait,
    source_id: i64,
    aliases: &[Alias],
) -> ApiResult<()> {
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(aliases.len());
    for alias in aliases {
        let external = alias.external.trim();
        if external.is_empty() || external.chars().count() > 200 {
            return Err(ApiError::bad_input(
                "environmentAliases.external",
                "must be 1 to 200 characters",
            ));
        }
        if !seen.insert(external.to_owned()) {
            return Err(ApiError::bad_input(
                "environmentAliases.external",
                format!("{external} is given twice"),
            ));
        }
        let environment = environment::Entity::find()
            .filter(environment::Column::Name.eq(alias.environment.trim()))
            .one(txn)
            .await?
            .ok_or_else(|| {
                not_found(format!(
                    "environmentAliases.environment: environment {}",
                    alias.environment.trim()
                ))
            })?;
        rows.push(ingest_alias::ActiveModel {
            id: NotSet,
            source_id: Set(source_id),
            external: Set(external.to_owned()),
            environment_id: Set(environment.id),
        });
    }
    ingest_alias::Entity::delete_many()
        .filter(ingest_alias::Column::SourceId.eq(source_id))
        .exec(txn)
        .await?;
    if !rows.is_empty() {
        ingest_alias::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn detail(source: &ingest_source::Model, aliases: Option<&[Alias]>) -> serde_json::Value {
    serde_json::json!({
        "kind": source.kind.as_str(), "programId": source.program_id, "enabled": source.enabled,
        "attributionWindowHours": source.attribution_window_hours,
        "environmentAliases": aliases.map(|a| a.iter().map(|a| serde_json::json!({
            "external": a.external, "environment": a.environment,
        })).collect::<Vec<_>>()),
    })
}

/// RELEASE_MANAGER of the program, or ADMIN.
pub async fn create(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewSource,
) -> ApiResult<Change<WithSecret>> {
    viewer.require(Role::ReleaseManager)?;
    let key = check_key(&input.key)?;
    let window = check_window(input.attribution_window_hours)?;
    let program = visible_program(txn, viewer, "programKey", &input.program_key).await?;
    let duplicate = format!("an ingest source with key {key} already exists");
    if ingest_source::Entity::find()
        .filter(ingest_source::Column::Key.eq(&key))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(duplicate));
    }
    let secret = new_secret()?;
    let source = ingest_source::ActiveModel {
        id: NotSet,
        key: Set(key),
        kind: Set(input.kind),
        program_id: Set(program.id),
        enabled: Set(true),
        attribution_window_hours: Set(window),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        created_at: Set(time::now_micros()),
    }
    .insert(txn)
    .await
    .map_err(conflict_on_duplicate(duplicate))?;
    set_aliases(txn, source.id, &input.aliases).await?;
    let detail = detail(&source, Some(&input.aliases));
    audit(
        txn,
        viewer,
        AdminAction::IngestSourceCreated,
        &source.key,
        detail,
    )
    .await?;
    Ok(Change::new(WithSecret { source, secret }, None))
}

/// The source `id` if the caller may manage it, else `NOT_FOUND`.
async fn managed(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<ingest_source::Model> {
    viewer.require(Role::ReleaseManager)?;
    Visible::new(txn, &viewer.scope)
        .ingest_source(id)
        .await?
        .or_not_found("ingest source")
}

pub async fn update(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &SourceChanges,
) -> ApiResult<Change<ingest_source::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let window = input
        .attribution_window_hours
        .map(check_window)
        .transpose()?;
    let found = managed(txn, viewer, input.source_id).await?;
    let mut model = found.into_active_model();
    if let Some(enabled) = input.enabled {
        model.enabled = Set(enabled);
    }
    if let Some(window) = window {
        model.attribution_window_hours = Set(window);
    }
    let source = model.update(txn).await?;
    if let Some(aliases) = &input.aliases {
        set_aliases(txn, source.id, aliases).await?;
    }
    let detail = detail(&source, input.aliases.as_deref());
    audit(
        txn,
        viewer,
        AdminAction::IngestSourceUpdated,
        &source.key,
        detail,
    )
    .await?;
    Ok(Change::new(source, None))
}

/// A new secret; the one it replaces keeps working for [`PREVIOUS_SECRET_HOURS`].
pub async fn rotate_secret(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    source_id: &i64,
) -> ApiResult<Change<WithSecret>> {
    let found = managed(txn, viewer, *source_id).await?;
    let secret = new_secret()?;
    let previous = found.secret.clone();
    let mut model = found.into_active_model();
    model.secret = Set(secret.clone());
    model.previous_secret = Set(Some(previous));
    model.previous_secret_expires_at = Set(Some(
        time::now_micros() + PREVIOUS_SECRET_HOURS * time::HOUR_MICROS,
    ));
    let source = model.update(txn).await?;
    let detail = serde_json::json!({ "previousSecretHours": PREVIOUS_SECRET_HOURS });
    audit(
        txn,
        viewer,
        AdminAction::IngestSecretRotated,
        &source.key,
        detail,
    )
    .await?;
    Ok(Change::new(WithSecret { source, secret }, None))
}

/// The secrets a delivery may be signed with now: the current one, and the previous one
/// until it expires.
pub fn valid_secrets(source: &ingest_source::Model, now: i64) -> Vec<&str> {
    let mut secrets = vec![source.secret.as_str()];
    if let (Some(previous), Some(until)) =
        (&source.previous_secret, source.previous_secret_expires_at)
        && now < until
    {
        secrets.push(previous);
    }
    secrets
}
