//! Every write of the contract, as plain functions over a transaction.
//!
//! A command checks the caller's role, validates its input, locks what it changes, applies
//! the rules of lifecycle.md and writes exactly one release event when it touches a release.
//! [`transaction::run`] gives it one transaction, retries transient conflicts, commits, and
//! only then publishes the event. A command that fails has changed nothing.

pub mod deployment;
pub mod incident;
pub mod ingest;
pub mod program;
pub mod quality;
pub mod release;
pub mod review;
pub mod source;
pub mod transaction;

use entity::change::ChangeKind;
use entity::enums::{ReleaseEventKind, ReleaseStatus};
use entity::{change, environment, release_event};
use entity::{program as programs, release as releases};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use crate::auth::{Role, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::events::{EventBus, Published};
use crate::queries::{OrNotFound, Visible, not_found};
use crate::time;

/// A clearable field of a change: left as it is, cleared, or set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// The new value when the field changes (`Some(None)` clears it), `None` to keep it.
    pub fn change(self) -> Option<Option<T>> {
        match self {
            Self::Keep => None,
            Self::Clear => Some(None),
            Self::Set(value) => Some(Some(value)),
        }
    }
}

/// Where an ingested deployment or incident came from: its source, and the sender's id for
/// it (unique per source, so a later event about it finds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source_id: i64,
    pub external_id: String,
    /// When the reported event occurred, by the sender's clock.
    pub occurred_at: i64,
}

/// What a command produced, and the events it recorded (one per release it touched).
pub struct Change<T> {
    pub value: T,
    pub events: Vec<Published>,
}

impl<T> Change<T> {
    pub fn new(value: T, event: Option<Published>) -> Self {
        Self {
            value,
            events: event.into_iter().collect(),
        }
    }
}

/// Locks a release for a change: bumps its revision (only from `expected`, when given) and
/// returns the fresh row. With PostgreSQL the update holds the row lock until commit, so
/// concurrent changes to one release queue up and each sees the one before it.
pub async fn lock_release(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    release_id: i64,
    expected: Option<i32>,
) -> ApiResult<releases::Model> {
    viewer.require(Role::ReleaseManager)?;
    let mut update = releases::Entity::update_many()
        .col_expr(
            releases::Column::Revision,
            Expr::col(releases::Column::Revision).add(1),
        )
        .col_expr(releases::Column::UpdatedAt, Expr::value(time::now_micros()))
        .filter(releases::Column::Id.eq(release_id));
    if let Some(expected) = expected {
        update = update.filter(releases::Column::Revision.eq(expected));
    }
    let updated = update.exec(txn).await?.rows_affected;
    let release = Visible::new(txn, viewer)
        .release(release_id)
        .await?
        .or_not_found("release")?;
    if updated == 0 {
        return Err(ApiError::Conflict(format!(
            "the release is at revision {}, not {}; reload it and try again",
            release.revision,
            expected.unwrap_or_default()
        )));
    }
    Ok(release)
}

/// What an event says besides its kind.
#[derive(Default)]
pub struct EventDetail {
    pub from: Option<ReleaseStatus>,
    pub to: Option<ReleaseStatus>,
    pub note: Option<String>,
    pub overrode_freeze: bool,
}

impl EventDetail {
    pub fn status(from: ReleaseStatus, to: ReleaseStatus) -> Self {
        Self {
            from: Some(from),
            to: Some(to),
            ..Self::default()
        }
    }

    pub fn note(note: Option<String>) -> Self {
        Self {
            note,
            ..Self::default()
        }
    }

    pub fn with_note(mut self, note: Option<String>) -> Self {
        self.note = note;
        self
    }
}

/// Appends one event to a release's audit trail, as the caller.
pub async fn record_event(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    release: &releases::Model,
    kind: ReleaseEventKind,
    detail: EventDetail,
) -> ApiResult<Published> {
    let event = release_event::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        kind: Set(kind),
        actor: Set(viewer.subject.clone()),
        at: Set(time::now_micros()),
        from_status: Set(detail.from),
        to_status: Set(detail.to),
        note: Set(detail.note),
        overrode_freeze: Set(detail.overrode_freeze),
    }
    .insert(txn)
    .await?;
    record_change(txn, ChangeKind::Release, Some(release.id), None).await?;
    EventBus::notify_in(txn, event.id).await?;
    Ok(Published {
        event,
        program_id: release.program_id,
    })
}

/// Appends to the change feed that keeps every process's analytics fresh.
pub async fn record_change(
    txn: &impl ConnectionTrait,
    kind: ChangeKind,
    release_id: Option<i64>,
    incident_id: Option<i64>,
) -> ApiResult<()> {
    change::ActiveModel {
        id: NotSet,
        kind: Set(kind),
        release_id: Set(release_id),
        incident_id: Set(incident_id),
        at: Set(time::now_micros()),
        delivery_id: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Tells every process's analytics that a delivery was stored or changed.
pub async fn record_delivery_change(txn: &impl ConnectionTrait, delivery_id: i64) -> ApiResult<()> {
    change::ActiveModel {
        id: NotSet,
        kind: Set(ChangeKind::Delivery),
        release_id: Set(None),
        incident_id: Set(None),
        at: Set(time::now_micros()),
        delivery_id: Set(Some(delivery_id)),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Moves a locked release to `to`.
pub async fn set_status(
    txn: &impl ConnectionTrait,
    release: &mut releases::Model,
    to: ReleaseStatus,
) -> ApiResult<()> {
    releases::Entity::update_many()
        .col_expr(releases::Column::Status, Expr::value(to))
        .filter(releases::Column::Id.eq(release.id))
        .exec(txn)
        .await?;
    release.status = to;
    Ok(())
}

/// The program with `key` if the caller may see it, else `NOT_FOUND`.
pub async fn visible_program(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    field: &str,
    key: &str,
) -> ApiResult<programs::Model> {
    Visible::new(txn, viewer)
        .program_by_key(key)
        .await?
        .ok_or_else(|| not_found(format!("{field}: program {key}")))
}

/// The environment called `name`, else `NOT_FOUND`.
pub async fn environment_named(
    txn: &impl ConnectionTrait,
    name: &str,
) -> ApiResult<environment::Model> {
    environment::Entity::find()
        .filter(environment::Column::Name.eq(name))
        .one(txn)
        .await?
        .ok_or_else(|| not_found(format!("environment: {name}")))
}
