//! A unit of work for release writes (lifecycle.md, *Concurrency and audit*): each release a
//! command changes is locked once, so its revision grows by exactly one, and gets exactly one
//! event, written with its change row by [`Work::finish`]. [`Work::into_change`] refuses to
//! hand back a change that locked a release without finishing it, so a command that forgets
//! its event fails the first test that runs it; a second lock of one release is the first
//! one again, and a second event for it is refused.
//!
//! Locking and recording events are only possible through a `Work`: `lock_release` and
//! `record_event` are its own.

use entity::change::ChangeKind;
use entity::enums::{ReleaseEventKind, ReleaseStatus};
use entity::{release, release_event};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use super::{Change, EventDetail, record_change};
use crate::auth::{Role, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::events::{EventBus, Published};
use crate::queries::{OrNotFound, Visible};
use crate::time;

/// The releases one command locked, each with its event once finished.
pub struct Work<'t, C> {
    txn: &'t C,
    viewer: &'t Viewer,
    releases: Vec<(i64, Option<Published>)>,
}

impl<'t, C: ConnectionTrait> Work<'t, C> {
    pub fn new(txn: &'t C, viewer: &'t Viewer) -> Self {
        Self {
            txn,
            viewer,
            releases: Vec::new(),
        }
    }

    /// Locks a release for the change: bumps its revision (only from `expected`, when
    /// given) and returns the fresh row. A release this work locked already is not bumped
    /// again. With PostgreSQL the update holds the row lock until commit, so concurrent
    /// changes to one release queue up and each sees the one before it.
    pub async fn lock(
        &mut self,
        release_id: i64,
        expected: Option<i32>,
    ) -> ApiResult<release::Model> {
        self.viewer.require(Role::ReleaseManager)?;
        let visible = Visible::new(self.txn, self.viewer);
        if self.releases.iter().any(|(id, _)| *id == release_id) {
            return visible.release(release_id).await?.or_not_found("release");
        }
        let mut update = release::Entity::update_many()
            .col_expr(
                release::Column::Revision,
                Expr::col(release::Column::Revision).add(1),
            )
            .col_expr(release::Column::UpdatedAt, Expr::value(time::now_micros()))
            .filter(release::Column::Id.eq(release_id));
        if let Some(expected) = expected {
            update = update.filter(release::Column::Revision.eq(expected));
        }
        let updated = update.exec(self.txn).await?.rows_affected;
        let release = visible.release(release_id).await?.or_not_found("release")?;
        if updated == 0 {
            return Err(ApiError::Conflict(format!(
                "the release is at revision {}, not {}; reload it and try again",
                release.revision,
                expected.unwrap_or_default()
            )));
        }
        self.releases.push((release_id, None));
        Ok(release)
    }

    /// The transaction the work writes in.
    pub fn connection(&self) -> &'t C {
        self.txn
    }

    /// A release this command created (at revision 1): it is the command's to finish.
    pub fn created(&mut self, release: &release::Model) {
        self.releases.push((release.id, None));
    }

    /// Moves a locked release to `to`.
    pub async fn set_status(
        &self,
        release: &mut release::Model,
        to: ReleaseStatus,
    ) -> ApiResult<()> {
        self.locked(release.id)?;
        release::Entity::update_many()
            .col_expr(release::Column::Status, Expr::value(to))
            .filter(release::Column::Id.eq(release.id))
            .exec(self.txn)
            .await?;
        release.status = to;
        Ok(())
    }

    /// Appends the release's one event to its audit trail, as the caller, with the change
    /// row that tells every process's analytics and the notifications of the channels that
    /// want it (the outbox).
    pub async fn finish(
        &mut self,
        release: &release::Model,
        kind: ReleaseEventKind,
        detail: EventDetail,
    ) -> ApiResult<()> {
        let slot = self.locked(release.id)?;
        if self.releases[slot].1.is_some() {
            return Err(ApiError::Internal(format!(
                "a second event for release {} in one change",
                release.id
            )));
        }
        let event = release_event::ActiveModel {
            id: NotSet,
            release_id: Set(release.id),
            kind: Set(kind),
            actor: Set(self.viewer.subject.clone()),
            at: Set(time::now_micros()),
            from_status: Set(detail.from),
            to_status: Set(detail.to),
            note: Set(detail.note),
            overrode_freeze: Set(detail.overrode_freeze),
        }
        .insert(self.txn)
        .await?;
        record_change(self.txn, ChangeKind::Release, Some(release.id), None).await?;
        super::notification::enqueue(self.txn, &event, release.program_id).await?;
        EventBus::notify_in(self.txn, event.id).await?;
        self.releases[slot].1 = Some(Published {
            event,
            program_id: release.program_id,
        });
        Ok(())
    }

    /// The change a command produced: `value` with the events of every release it locked,
    /// in the order it locked them. A release locked without its event is an error.
    pub fn into_change<T>(self, value: T) -> ApiResult<Change<T>> {
        let mut events = Vec::with_capacity(self.releases.len());
        for (id, event) in self.releases {
            events.push(event.ok_or_else(|| {
                ApiError::Internal(format!("release {id} was changed without its event"))
            })?);
        }
        Ok(Change { value, events })
    }

    fn locked(&self, release_id: i64) -> ApiResult<usize> {
        self.releases
            .iter()
            .position(|(id, _)| *id == release_id)
            .ok_or_else(|| ApiError::Internal(format!("release {release_id} was not locked")))
    }
}

/// What a change set, named for its event's note: each setter sets a field and notes it, so
/// the note cannot leave out what changed.
#[derive(Debug, Default)]
pub struct Changed(Vec<&'static str>);

impl Changed {
    /// Sets `field` (named `name` in the contract) to `value`, and notes it.
    pub fn set<V: Into<sea_orm::Value>>(
        &mut self,
        name: &'static str,
        field: &mut sea_orm::ActiveValue<V>,
        value: V,
    ) {
        *field = Set(value);
        self.0.push(name);
    }

    /// Notes `name` for a change made another way (the rows of a list).
    pub fn mark(&mut self, name: &'static str) {
        self.0.push(name);
    }

    /// `changed a, b` for the event, or nothing when nothing changed.
    pub fn note(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| format!("changed {}", self.0.join(", ")))
    }
}
