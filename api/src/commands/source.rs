//! Ingest sources (ingestion.md): creating them, changing them, rotating their secret. A
//! secret is 32 random bytes, hex-encoded, returned once and never logged or audited, and
//! stored sealed with the server key (`secrets`); after a rotation the previous one keeps
//! working for 24 hours. The caller makes the secret (`secrets::Cipher::new_secret`), so
//! commands never hold the key.

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
use crate::secrets::{Cipher, NewSecret, Purpose};
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
    pub secret: NewSecret,
}

/// A new secret for a source.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub source_id: i64,
    pub secret: NewSecret,
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

/// Whether `key` is a source key: 3 to 40 characters of `a-z`, `0-9` and `-`.
pub fn valid_key(key: &str) -> bool {
    (3..=40).contains(&key.len())
        && key
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

fn check_key(key: &str) -> ApiResult<String> {
    let key = key.trim();
    if valid_key(key) {
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
    // Keys are unique across programs; the answer says nothing of whose the key is.
    let duplicate = format!("the key {key} is not available; choose another");
    if ingest_source::Entity::find()
        .filter(ingest_source::Column::Key.eq(&key))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(duplicate));
    }
    let source = ingest_source::ActiveModel {
        id: NotSet,
        key: Set(key),
        kind: Set(input.kind),
        program_id: Set(program.id),
        enabled: Set(true),
        attribution_window_hours: Set(window),
        secret: Set(input.secret.sealed.clone()),
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
    let secret = input.secret.plain.clone();
    Ok(Change::new(WithSecret { source, secret }, None))
}

/// The source `id` if the caller may manage it, else `NOT_FOUND`.
async fn managed(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<ingest_source::Model> {
    viewer.require(Role::ReleaseManager)?;
    Visible::new(txn, viewer)
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
    input: &Rotation,
) -> ApiResult<Change<WithSecret>> {
    let found = managed(txn, viewer, input.source_id).await?;
    let previous = found.secret.clone();
    let mut model = found.into_active_model();
    model.secret = Set(input.secret.sealed.clone());
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
    let secret = input.secret.plain.clone();
    Ok(Change::new(WithSecret { source, secret }, None))
}

/// The secrets a delivery to `source` may be signed with at `now`: the current one, and
/// the previous one until it expires. Every request is checked against two secrets, opened
/// the same way, known key or not: where there is no source (an unknown key) or no valid
/// previous secret, `stand_in` (a value sealed with the same key whose secret no sender
/// knows) takes its place, so the time an answer takes says nothing of the key. A stored
/// secret that does not open (a wrong server key) is `None`: it matches nothing.
pub fn secrets_to_check(
    source: Option<&ingest_source::Model>,
    cipher: &Cipher,
    stand_in: &str,
    now: i64,
) -> [Option<String>; 2] {
    let previous = source
        .filter(|s| {
            s.previous_secret_expires_at
                .is_some_and(|until| now < until)
        })
        .and_then(|s| s.previous_secret.as_deref());
    [source.map(|s| s.secret.as_str()), previous].map(|sealed| {
        let opened = cipher.open(Purpose::IngestSource, sealed.unwrap_or(stand_in));
        if opened.is_none() {
            tracing::error!("a stored ingest secret does not open with the server key");
        }
        opened
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(previous_until: Option<i64>) -> ingest_source::Model {
        let cipher = cipher();
        let sealed = |plain: &str| {
            cipher
                .seal(Purpose::IngestSource, plain)
                .unwrap_or_default()
        };
        ingest_source::Model {
            id: 1,
            key: "pay-ci".into(),
            kind: IngestKind::Generic,
            program_id: 1,
            enabled: true,
            attribution_window_hours: 24,
            secret: sealed("current"),
            previous_secret: Some(sealed("previous")),
            previous_secret_expires_at: previous_until,
            created_at: 0,
        }
    }

    fn cipher() -> Cipher {
        Cipher::from_text(&"11".repeat(32)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Known key or not, two secrets are opened and checked, so the answer's time says
    /// nothing of the key.
    #[test]
    fn every_request_is_checked_against_two_secrets() {
        let cipher = cipher();
        let stand_in = cipher
            .seal(Purpose::IngestSource, "nobody-knows")
            .unwrap_or_default();
        let opened = |source: Option<&ingest_source::Model>| {
            secrets_to_check(source, &cipher, &stand_in, 100).map(|s| s.unwrap_or_default())
        };
        let stand = "nobody-knows".to_owned();
        assert_eq!(opened(None), [stand.clone(), stand.clone()]);
        assert_eq!(
            opened(Some(&source(Some(200)))),
            ["current".to_owned(), "previous".to_owned()]
        );
        assert_eq!(
            opened(Some(&source(Some(100)))),
            ["current".to_owned(), stand],
            "the previous secret has expired"
        );
        let other = Cipher::from_text(&"22".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        let unreadable = secrets_to_check(Some(&source(None)), &other, &stand_in, 100);
        assert_eq!(
            unreadable,
            [None, None],
            "a secret that does not open matches nothing"
        );
    }
}
