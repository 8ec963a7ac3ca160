//! Post-implementation reviews and improvement actions, which stay editable after review.

use chrono::NaiveDate;
use entity::enums::{ActionStatus, MetricName, OutcomeResult, ReleaseEventKind, ReleaseStatus};
use entity::{improvement_action, outcome};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, Set,
};

use super::work::Work;
use super::{Change, EventDetail, Patch};
use crate::auth::{Role, Viewer};
use crate::domain::validate::{self, Name, Text};
use crate::error::{ApiError, ApiResult, conflict_on_duplicate};
use crate::queries::{OrNotFound, Visible};
use crate::time;

/// The post-implementation review of a release; `reviewed_at` defaults to now.
#[derive(Debug, Clone)]
pub struct NewOutcome {
    pub release_id: i64,
    pub result: OutcomeResult,
    pub objectives_met: bool,
    pub defects_escaped: i32,
    pub customer_impact: Option<Text>,
    pub summary: Text,
    pub lessons_learned: Option<Text>,
    pub reviewed_at: Option<i64>,
}

/// A new improvement action for a reviewed release.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub release_id: i64,
    pub title: Name,
    pub owner: Option<Name>,
    pub due_date: Option<NaiveDate>,
    /// The metric it sets out to move.
    pub target: Option<MetricName>,
    /// When it took effect (Unix microseconds); None means closedAt once DONE.
    pub effective_at: Option<i64>,
}

/// Changes to an improvement action; `closed_at` defaults to now when it closes.
#[derive(Debug, Clone, Default)]
pub struct ActionChanges {
    pub action_id: i64,
    pub status: Option<ActionStatus>,
    pub owner: Patch<Name>,
    pub due_date: Patch<NaiveDate>,
    pub closed_at: Option<i64>,
    pub target: Patch<MetricName>,
    /// Cleared, the closedAt default applies again.
    pub effective_at: Patch<i64>,
}

async fn outcome_of(
    txn: &impl ConnectionTrait,
    release_id: i64,
) -> ApiResult<Option<outcome::Model>> {
    Ok(outcome::Entity::find()
        .filter(outcome::Column::ReleaseId.eq(release_id))
        .one(txn)
        .await?)
}

pub async fn record_outcome(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewOutcome,
) -> ApiResult<Change<outcome::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let summary = input.summary.to_string();
    let customer_impact = input.customer_impact.clone().map(String::from);
    let lessons_learned = input.lessons_learned.clone().map(String::from);
    let defects_escaped = input.defects_escaped;
    if defects_escaped < 0 {
        return Err(ApiError::bad_input(
            "defectsEscaped",
            "must not be negative",
        ));
    }
    let mut release = work.lock(input.release_id, None).await?;
    let duplicate = "the release already has an outcome";
    if outcome_of(txn, release.id).await?.is_some() {
        return Err(ApiError::Conflict(duplicate.into()));
    }
    if !matches!(
        release.status,
        ReleaseStatus::Deployed | ReleaseStatus::RolledBack
    ) {
        return Err(ApiError::InvalidTransition(format!(
            "an outcome is recorded for a DEPLOYED or ROLLED_BACK release; it is {}",
            release.status.as_str()
        )));
    }
    let outcome = outcome::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        result: Set(input.result),
        objectives_met: Set(input.objectives_met),
        defects_escaped: Set(defects_escaped),
        customer_impact: Set(customer_impact),
        summary: Set(summary),
        lessons_learned: Set(lessons_learned),
        reviewed_at: Set(input.reviewed_at.unwrap_or_else(time::now_micros)),
        reviewed_by: Set(viewer.subject.clone()),
    }
    .insert(txn)
    .await
    .map_err(conflict_on_duplicate(duplicate))?;
    let from = release.status;
    work.set_status(&mut release, ReleaseStatus::Reviewed)
        .await?;
    let detail = EventDetail::status(from, ReleaseStatus::Reviewed);
    work.finish(&release, ReleaseEventKind::OutcomeRecorded, detail)
        .await?;
    work.into_change(outcome)
}

pub async fn add_action(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewAction,
) -> ApiResult<Change<improvement_action::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let title = input.title.to_string();
    let owner = input.owner.clone().map(String::from);
    let release = work.lock(input.release_id, None).await?;
    if outcome_of(txn, release.id).await?.is_none() {
        return Err(ApiError::InvalidTransition(
            "improvement actions come from the review: record the release's outcome first".into(),
        ));
    }
    let action = improvement_action::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        title: Set(title),
        owner: Set(owner),
        due_date: Set(input.due_date),
        status: Set(ActionStatus::Open),
        created_at: Set(time::now_micros()),
        closed_at: Set(None),
        target: Set(input.target),
        effective_at: Set(input.effective_at),
    }
    .insert(txn)
    .await?;
    work.finish(
        &release,
        ReleaseEventKind::ActionAdded,
        EventDetail::default(),
    )
    .await?;
    work.into_change(action)
}

fn is_closed(status: ActionStatus) -> bool {
    matches!(status, ActionStatus::Done | ActionStatus::Dropped)
}

pub async fn update_action(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &ActionChanges,
) -> ApiResult<Change<improvement_action::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let owner = input.owner.clone().change().map(|o| o.map(String::from));
    let found = Visible::new(txn, viewer)
        .improvement_action(input.action_id)
        .await?
        .or_not_found("improvement action")?;
    let release = work.lock(found.release_id, None).await?;

    let status = input.status.unwrap_or(found.status);
    // closedAt is set when the action closes (now unless given) and cleared on reopening.
    let closed_at = match (is_closed(status), input.closed_at) {
        (false, Some(_)) => {
            return Err(ApiError::bad_input(
                "closedAt",
                "only a DONE or DROPPED action is closed",
            ));
        }
        (false, None) => None,
        (true, Some(at)) => Some(at),
        (true, None) if is_closed(found.status) => found.closed_at,
        (true, None) => Some(time::now_micros()),
    };
    if let Some(closed) = closed_at {
        validate::not_before("closedAt", closed, "createdAt", found.created_at)?;
    }
    let mut model = found.clone().into_active_model();
    model.status = Set(status);
    model.closed_at = Set(closed_at);
    if let Some(owner) = owner {
        model.owner = Set(owner);
    }
    if let Some(due_date) = input.due_date.change() {
        model.due_date = Set(due_date);
    }
    if let Some(target) = input.target.change() {
        model.target = Set(target);
    }
    if let Some(effective_at) = input.effective_at.change() {
        model.effective_at = Set(effective_at);
    }
    let action = model.update(txn).await?;
    let note = (status != found.status)
        .then(|| format!("{} to {}", found.status.as_str(), status.as_str()));
    work.finish(
        &release,
        ReleaseEventKind::ActionUpdated,
        EventDetail::note(note),
    )
    .await?;
    work.into_change(action)
}
