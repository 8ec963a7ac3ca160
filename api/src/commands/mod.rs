//! Every write of the contract, as plain functions over a transaction.
//!
//! A command checks the caller's role, validates its input, locks what it changes, applies
//! the rules of lifecycle.md and writes exactly one event for each release it touches
//! ([`work::Work`]).
//! [`transaction::run`] gives it one transaction, retries transient conflicts, commits, and
//! only then publishes the event. A command that fails has changed nothing.

pub mod benchmark;
pub mod calendar_feed;
pub mod dependency;
pub mod deployment;
pub mod incident;
pub mod ingest;
pub mod notification;
pub mod program;
pub mod quality;
pub mod release;
pub mod review;
pub mod source;
pub mod transaction;
pub mod work;

use entity::change::ChangeKind;
use entity::enums::ReleaseStatus;
use entity::program as programs;
use entity::{change, environment};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use crate::auth::Viewer;
use crate::error::ApiResult;
use crate::events::Published;
use crate::queries::{Visible, not_found};
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
