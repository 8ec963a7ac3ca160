//! Notification channels (communication.md, *Notifications*): managing them, the outbox
//! written with each event, and what the sender records of its attempts.
//!
//! The caller seals a channel's URL and makes its secret (`secrets::Cipher`), and checks the
//! URL's egress (`notify::egress`) before the command runs, so commands hold no key and
//! resolve no names inside a transaction.

use entity::admin_event::AdminAction;
use entity::enums::{NotificationKind, NotificationStatus, ReleaseEventKind};
use entity::{notification, notification_channel, notification_channel_program, release_event};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    NotSet, QueryFilter, Set, Statement,
};

use super::program::audit;
use super::{Change, Patch, visible_program};
use crate::auth::{Role, Scope, Viewer};
use crate::domain::validate::Name;
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::queries::{self, OrNotFound, Visible};
use crate::secrets::NewSecret;
use crate::time;

/// How many attempts in a row may fail before a channel is disabled.
pub const FAILURES_TO_DISABLE: i32 = 50;
/// Why pending notifications of a disabled channel failed.
pub const CHANNEL_DISABLED: &str = "channel disabled";

/// A URL sealed with the server key, and what a channel shows of it.
#[derive(Debug, Clone)]
pub struct SealedUrl {
    pub sealed: String,
    pub hint: String,
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub name: Name,
    pub kind: NotificationKind,
    pub url: SealedUrl,
    /// WEBHOOK only.
    pub secret: Option<NewSecret>,
    /// `None`: every program.
    pub program_keys: Option<Vec<String>>,
    /// `None`: every kind.
    pub kinds: Option<Vec<ReleaseEventKind>>,
    pub enabled: bool,
}

/// Changes to a channel; `None` and `Keep` leave a field as it is.
#[derive(Debug, Clone)]
pub struct ChannelChanges {
    pub channel_id: i64,
    pub name: Option<Name>,
    pub url: Option<SealedUrl>,
    /// Cleared: every kind.
    pub kinds: Patch<Vec<ReleaseEventKind>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Rotation {
    pub channel_id: i64,
    pub secret: NewSecret,
}

/// A channel with its program keys (`None`: every program).
#[derive(Debug, Clone)]
pub struct Channel {
    pub model: notification_channel::Model,
    pub program_keys: Option<Vec<String>>,
}

/// A channel with the secret it was just given, shown once.
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub channel: Channel,
    pub secret: Option<String>,
}

/// `,KIND,KIND,`: what `enqueue` matches a kind in.
fn stored_kinds(kinds: &[ReleaseEventKind]) -> ApiResult<String> {
    if kinds.is_empty() {
        return Err(ApiError::bad_input(
            "kinds",
            "must name at least one kind, or be left out for all",
        ));
    }
    let mut names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    Ok(format!(",{},", names.join(",")))
}

fn detail(channel: &Channel) -> serde_json::Value {
    let c = &channel.model;
    serde_json::json!({
        "name": c.name, "kind": c.kind.as_str(), "urlHint": c.url_hint,
        "programKeys": channel.program_keys, "kinds": c.kinds, "enabled": c.enabled,
    })
}

fn subject(id: i64) -> String {
    ids::encode(NodeType::NotificationChannel, id)
}

/// RELEASE_MANAGER or ADMIN of every program named; a channel for every program needs an
/// ADMIN without `programs`.
pub async fn create(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewChannel,
) -> ApiResult<Change<WithSecret>> {
    viewer.require(Role::ReleaseManager)?;
    let mut programs = Vec::new();
    match &input.program_keys {
        None if viewer.role == Role::Admin && viewer.scope == Scope::All => {}
        None => {
            return Err(ApiError::Forbidden(
                "a channel for every program needs an ADMIN token without programs".into(),
            ));
        }
        Some(keys) if keys.is_empty() => {
            return Err(ApiError::bad_input(
                "programKeys",
                "must name at least one program, or be left out for every program",
            ));
        }
        Some(keys) => {
            for key in keys {
                let program = visible_program(txn, viewer, "programKeys", key).await?;
                if !programs.contains(&program.id) {
                    programs.push(program.id);
                }
            }
        }
    }
    let kinds = input.kinds.as_deref().map(stored_kinds).transpose()?;
    if (input.kind == NotificationKind::Webhook) != input.secret.is_some() {
        return Err(ApiError::Internal(
            "a WEBHOOK channel needs a secret, and only it".into(),
        ));
    }
    let model = notification_channel::ActiveModel {
        id: NotSet,
        name: Set(input.name.to_string()),
        kind: Set(input.kind),
        url: Set(input.url.sealed.clone()),
        url_hint: Set(input.url.hint.clone()),
        secret: Set(input.secret.as_ref().map(|s| s.sealed.clone())),
        every_program: Set(input.program_keys.is_none()),
        kinds: Set(kinds),
        enabled: Set(input.enabled),
        disabled_reason: Set(None),
        failed_attempts: Set(0),
        created_at: Set(time::now_micros()),
    }
    .insert(txn)
    .await?;
    if !programs.is_empty() {
        notification_channel_program::Entity::insert_many(programs.iter().map(|&program_id| {
            notification_channel_program::ActiveModel {
                channel_id: Set(model.id),
                program_id: Set(program_id),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    let channel = with_keys(txn, model).await?;
    audit(
        txn,
        viewer,
        AdminAction::NotificationChannelCreated,
        &subject(channel.model.id),
        detail(&channel),
    )
    .await?;
    Ok(Change::new(
        WithSecret {
            channel,
            secret: input.secret.as_ref().map(|s| s.plain.clone()),
        },
        None,
    ))
}

/// A channel with the keys of its programs.
pub async fn with_keys(
    txn: &impl ConnectionTrait,
    model: notification_channel::Model,
) -> ApiResult<Channel> {
    let program_keys = if model.every_program {
        None
    } else {
        let mut keys = queries::notifications::program_keys(txn, [model.id]).await?;
        Some(keys.remove(&model.id).unwrap_or_default())
    };
    Ok(Channel {
        model,
        program_keys,
    })
}

/// The channel `id` if the caller may manage it, else `NOT_FOUND` (or `FORBIDDEN` below
/// RELEASE_MANAGER).
async fn managed(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<notification_channel::Model> {
    queries::notifications::channel(&Visible::new(txn, viewer), id)
        .await?
        .or_not_found("notification channel")
}

/// Renames, moves, narrows, disables or enables a channel. Disabling fails its pending
/// notifications; enabling starts its count of failures afresh.
pub async fn update(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &ChannelChanges,
) -> ApiResult<Change<Channel>> {
    let current = managed(txn, viewer, input.channel_id).await?;
    let mut model = current.clone().into_active_model();
    if let Some(name) = &input.name {
        model.name = Set(name.to_string());
    }
    if let Some(url) = &input.url {
        model.url = Set(url.sealed.clone());
        model.url_hint = Set(url.hint.clone());
    }
    if let Some(kinds) = input.kinds.clone().change() {
        model.kinds = Set(kinds.as_deref().map(stored_kinds).transpose()?);
    }
    match input.enabled {
        Some(false) if current.enabled => {
            model.enabled = Set(false);
            model.disabled_reason = Set(Some(format!("disabled by {}", viewer.subject)));
            fail_pending(txn, current.id, CHANNEL_DISABLED).await?;
        }
        Some(true) if !current.enabled => {
            model.enabled = Set(true);
            model.disabled_reason = Set(None);
            model.failed_attempts = Set(0);
        }
        _ => {}
    }
    let updated = model.update(txn).await?;
    let channel = with_keys(txn, updated).await?;
    audit(
        txn,
        viewer,
        AdminAction::NotificationChannelUpdated,
        &subject(channel.model.id),
        detail(&channel),
    )
    .await?;
    Ok(Change::new(channel, None))
}

/// A new secret for a WEBHOOK channel; the old one signs nothing more.
pub async fn rotate_secret(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &Rotation,
) -> ApiResult<Change<WithSecret>> {
    let current = managed(txn, viewer, input.channel_id).await?;
    if current.kind != NotificationKind::Webhook {
        return Err(ApiError::bad_input(
            "channelId",
            format!(
                "a {} channel has no secret; only WEBHOOK channels are signed",
                current.kind.as_str()
            ),
        ));
    }
    let mut model = current.into_active_model();
    model.secret = Set(Some(input.secret.sealed.clone()));
    let channel = with_keys(txn, model.update(txn).await?).await?;
    audit(
        txn,
        viewer,
        AdminAction::NotificationSecretRotated,
        &subject(channel.model.id),
        serde_json::json!({}),
    )
    .await?;
    Ok(Change::new(
        WithSecret {
            channel,
            secret: Some(input.secret.plain.clone()),
        },
        None,
    ))
}

/// Deletes a channel and its log.
pub async fn delete(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    channel_id: &i64,
) -> ApiResult<Change<i64>> {
    let channel = with_keys(txn, managed(txn, viewer, *channel_id).await?).await?;
    notification::Entity::delete_many()
        .filter(notification::Column::ChannelId.eq(channel.model.id))
        .exec(txn)
        .await?;
    notification_channel_program::Entity::delete_many()
        .filter(notification_channel_program::Column::ChannelId.eq(channel.model.id))
        .exec(txn)
        .await?;
    notification_channel::Entity::delete_by_id(channel.model.id)
        .exec(txn)
        .await?;
    audit(
        txn,
        viewer,
        AdminAction::NotificationChannelDeleted,
        &subject(channel.model.id),
        detail(&channel),
    )
    .await?;
    Ok(Change::new(channel.model.id, None))
}

/// Writes a notification for every enabled channel that wants `event` of a release of
/// `program_id`, in the event's own transaction: one statement, however many channels.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    event: &release_event::Model,
    program_id: i64,
) -> ApiResult<()> {
    use notification_channel::Column as C;
    let now = time::now_micros();
    let wanted = Query::select()
        .column(C::Id)
        .expr(Expr::val(event.id))
        .expr(Expr::val(NotificationStatus::Pending.as_str()))
        .expr(Expr::val(0))
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from(notification_channel::Entity)
        .and_where(C::Enabled.eq(true))
        .and_where(
            Expr::col(C::Kinds)
                .is_null()
                .or(Expr::col(C::Kinds).like(format!("%,{},%", event.kind.as_str()))),
        )
        .and_where(
            Expr::col(C::EveryProgram).eq(true).or(C::Id.in_subquery(
                Query::select()
                    .column(notification_channel_program::Column::ChannelId)
                    .from(notification_channel_program::Entity)
                    .and_where(notification_channel_program::Column::ProgramId.eq(program_id))
                    .to_owned(),
            )),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(notification::Entity)
        .columns([
            notification::Column::ChannelId,
            notification::Column::EventId,
            notification::Column::Status,
            notification::Column::Attempts,
            notification::Column::NextAttemptAt,
            notification::Column::CreatedAt,
        ])
        .select_from(wanted)
        .map_err(|e| ApiError::Internal(format!("the outbox insert: {e}")))?
        .to_owned();
    let backend = txn.get_database_backend();
    txn.execute_raw(backend.build(&insert)).await?;
    Ok(())
}

/// Fails the pending notifications of a channel with `reason`.
async fn fail_pending(txn: &impl ConnectionTrait, channel_id: i64, reason: &str) -> ApiResult<()> {
    notification::Entity::update_many()
        .col_expr(
            notification::Column::Status,
            Expr::value(NotificationStatus::Failed),
        )
        .col_expr(notification::Column::LastError, Expr::value(reason))
        .col_expr(
            notification::Column::NextAttemptAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            notification::Column::ClaimedUntil,
            Expr::value(Option::<i64>::None),
        )
        .filter(notification::Column::ChannelId.eq(channel_id))
        .filter(notification::Column::Status.eq(NotificationStatus::Pending))
        .exec(txn)
        .await?;
    Ok(())
}

/// SQL with `$1`-style parameters, in SQLite's `?1` form when that is the backend.
fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// With PostgreSQL, rows another process is claiming are skipped, not waited for.
fn skip_locked(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    }
}

/// Claims up to `limit` notifications due at `now` that head their channel's queue (a
/// later one waits while an earlier one is pending), until `lease_until`: no other
/// process takes them meanwhile. Their ids, oldest first.
pub async fn claim(
    txn: &impl ConnectionTrait,
    now: i64,
    lease_until: i64,
    limit: u64,
) -> ApiResult<Vec<i64>> {
    let backend = txn.get_database_backend();
    let sql = format!(
        "SELECT n.id FROM notifications n \
         WHERE n.id IN (SELECT MIN(h.id) FROM notifications h WHERE h.status = 'PENDING' \
                        GROUP BY h.channel_id) \
         AND n.status = 'PENDING' AND n.next_attempt_at <= $1 \
         AND (n.claimed_until IS NULL OR n.claimed_until < $1) \
         ORDER BY n.id LIMIT $2{}",
        skip_locked(backend)
    );
    let rows = txn
        .query_all_raw(statement(
            backend,
            &sql,
            vec![now.into(), (limit as i64).into()],
        ))
        .await?;
    let ids = rows
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0))
        .collect::<Result<Vec<_>, _>>()?;
    lease(txn, &ids, lease_until).await?;
    Ok(ids)
}

async fn lease(txn: &impl ConnectionTrait, ids: &[i64], until: i64) -> ApiResult<()> {
    if !ids.is_empty() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ClaimedUntil, Expr::value(until))
            .filter(notification::Column::Id.is_in(ids.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: i64,
    pub http_status: Option<i32>,
    /// Why it failed; `None` when it succeeded.
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Records the attempt of notification `id` (claimed by this process): SENT, due again
/// after the next delay of `retries`, or FAILED when none is left; then counts it for the
/// channel, which is disabled after [`FAILURES_TO_DISABLE`] failures in a row. After a
/// success the channel's next notification, when it is due, is claimed until
/// `lease_until` and returned, so a channel's queue drains without waiting for a poll.
pub async fn record(
    txn: &impl ConnectionTrait,
    id: i64,
    attempt: &Attempt,
    retries: &[std::time::Duration],
    lease_until: i64,
) -> ApiResult<Option<i64>> {
    let Some(current) = notification::Entity::find_by_id(id).one(txn).await? else {
        return Ok(None);
    };
    if current.status != NotificationStatus::Pending {
        // Failed meanwhile, because its channel was disabled.
        return Ok(None);
    }
    let attempts = current.attempts + 1;
    let delay = usize::try_from(current.attempts)
        .ok()
        .and_then(|done| retries.get(done));
    let (status, next) = match (attempt.succeeded(), delay) {
        (true, _) => (NotificationStatus::Sent, None),
        (false, Some(delay)) => (
            NotificationStatus::Pending,
            Some(attempt.at + i64::try_from(delay.as_micros()).unwrap_or(i64::MAX / 2)),
        ),
        (false, None) => (NotificationStatus::Failed, None),
    };
    let mut model = current.clone().into_active_model();
    model.status = Set(status);
    model.attempts = Set(attempts);
    model.last_attempt_at = Set(Some(attempt.at));
    model.last_http_status = Set(attempt.http_status);
    model.last_error = Set(attempt.error.clone());
    model.next_attempt_at = Set(next);
    model.claimed_until = Set(None);
    model.update(txn).await?;
    let channel = current.channel_id;
    if attempt.succeeded() {
        notification_channel::Entity::update_many()
            .col_expr(notification_channel::Column::FailedAttempts, Expr::value(0))
            .filter(notification_channel::Column::Id.eq(channel))
            .filter(notification_channel::Column::FailedAttempts.ne(0))
            .exec(txn)
            .await?;
        return next_of(txn, channel, attempt.at, lease_until).await;
    }
    notification_channel::Entity::update_many()
        .col_expr(
            notification_channel::Column::FailedAttempts,
            Expr::col(notification_channel::Column::FailedAttempts).add(1),
        )
        .filter(notification_channel::Column::Id.eq(channel))
        .exec(txn)
        .await?;
    let disabled = notification_channel::Entity::update_many()
        .col_expr(notification_channel::Column::Enabled, Expr::value(false))
        .col_expr(
            notification_channel::Column::DisabledReason,
            Expr::value(format!(
                "the last {FAILURES_TO_DISABLE} attempts failed; the last: {}",
                attempt.error.as_deref().unwrap_or_default()
            )),
        )
        .filter(notification_channel::Column::Id.eq(channel))
        .filter(notification_channel::Column::Enabled.eq(true))
        .filter(notification_channel::Column::FailedAttempts.gte(FAILURES_TO_DISABLE))
        .exec(txn)
        .await?
        .rows_affected;
    if disabled > 0 {
        fail_pending(txn, channel, CHANNEL_DISABLED).await?;
    }
    Ok(None)
}

/// The head of a channel's queue, claimed, when it is due and nobody holds it.
async fn next_of(
    txn: &impl ConnectionTrait,
    channel: i64,
    now: i64,
    lease_until: i64,
) -> ApiResult<Option<i64>> {
    let backend = txn.get_database_backend();
    let sql = format!(
        "SELECT id, next_attempt_at, claimed_until FROM notifications \
         WHERE channel_id = $1 AND status = 'PENDING' ORDER BY id LIMIT 1{}",
        skip_locked(backend)
    );
    let Some(row) = txn
        .query_one_raw(statement(backend, &sql, vec![channel.into()]))
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get_by_index(0)?;
    let due: Option<i64> = row.try_get_by_index(1)?;
    let held: Option<i64> = row.try_get_by_index(2)?;
    if due.is_some_and(|due| due <= now) && held.is_none_or(|held| held < now) {
        lease(txn, &[id], lease_until).await?;
        Ok(Some(id))
    } else {
        Ok(None)
    }
}

/// Gives claimed notifications back (the process is stopping before it sends them).
pub async fn release_claims(txn: &impl ConnectionTrait, ids: &[i64]) -> ApiResult<()> {
    if !ids.is_empty() {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::ClaimedUntil,
                Expr::value(Option::<i64>::None),
            )
            .filter(notification::Column::Id.is_in(ids.iter().copied()))
            .filter(notification::Column::Status.eq(NotificationStatus::Pending))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Logs the attempt of `testNotificationChannel` on a channel the caller may manage: a
/// notification without an event, never retried and not counted.
pub async fn record_test(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &(i64, Attempt),
) -> ApiResult<Change<notification::Model>> {
    let (channel_id, attempt) = input;
    let channel = managed(txn, viewer, *channel_id).await?;
    let status = if attempt.succeeded() {
        NotificationStatus::Sent
    } else {
        NotificationStatus::Failed
    };
    let logged = notification::ActiveModel {
        id: NotSet,
        channel_id: Set(channel.id),
        event_id: Set(None),
        status: Set(status),
        attempts: Set(1),
        next_attempt_at: Set(None),
        last_attempt_at: Set(Some(attempt.at)),
        last_http_status: Set(attempt.http_status),
        last_error: Set(attempt.error.clone()),
        claimed_until: Set(None),
        created_at: Set(attempt.at),
    }
    .insert(txn)
    .await?;
    Ok(Change::new(logged, None))
}
