//! Quality gates and go/no-go approvals.

use entity::enums::{ApprovalDecision, GateKind, GateStatus, ReleaseEventKind};
use entity::{approval, gate_result, quality_gate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use super::work::Work;
use super::{Change, EventDetail};
use crate::auth::{Role, Viewer};
use crate::domain::gates::GateState;
use crate::domain::lifecycle::check_writable;
use crate::domain::validate::{Name, Text, Url};
use crate::error::{ApiError, ApiResult};
use crate::time;

/// A result of the gate called `name`; `checked_at` (Unix microseconds) defaults to now.
#[derive(Debug, Clone)]
pub struct GateRecording {
    pub release_id: i64,
    pub name: Name,
    pub kind: GateKind,
    pub required: bool,
    pub status: GateStatus,
    pub evidence_url: Option<Url>,
    pub note: Option<Text>,
    pub checked_at: Option<i64>,
}

/// A go/no-go decision by the caller; `decided_at` defaults to now.
#[derive(Debug, Clone)]
pub struct NewApproval {
    pub release_id: i64,
    pub decision: ApprovalDecision,
    pub comment: Option<Text>,
    pub decided_at: Option<i64>,
}

/// Records a gate result, creating the gate on first use; the gate's kind and `required`
/// follow the latest recording.
pub async fn record_gate(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &GateRecording,
) -> ApiResult<Change<GateState>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let name = input.name.to_string();
    let evidence_url = input.evidence_url.clone().map(String::from);
    let note = input.note.clone().map(String::from);
    let release = work.lock(input.release_id, None).await?;
    check_writable(release.status)?;

    let existing = quality_gate::Entity::find()
        .filter(quality_gate::Column::ReleaseId.eq(release.id))
        .filter(quality_gate::Column::Name.eq(&name))
        .one(txn)
        .await?;
    let (kind, required) = (input.kind, input.required);
    let gate = match existing {
        Some(gate) => {
            let mut gate: quality_gate::ActiveModel = gate.into();
            gate.kind = Set(kind);
            gate.required = Set(required);
            gate.update(txn).await?
        }
        None => {
            quality_gate::ActiveModel {
                id: NotSet,
                release_id: Set(release.id),
                name: Set(name),
                kind: Set(kind),
                required: Set(required),
            }
            .insert(txn)
            .await?
        }
    };
    gate_result::ActiveModel {
        id: NotSet,
        gate_id: Set(gate.id),
        status: Set(input.status),
        evidence_url: Set(evidence_url),
        note: Set(note),
        checked_at: Set(input.checked_at.unwrap_or_else(time::now_micros)),
        checked_by: Set(viewer.subject.clone()),
    }
    .insert(txn)
    .await?;
    let results = gate_result::Entity::find()
        .filter(gate_result::Column::GateId.eq(gate.id))
        .all(txn)
        .await?;
    let state = GateState::from_results(gate, &results)
        .ok_or_else(|| ApiError::Internal("a gate without results after recording one".into()))?;
    work.finish(
        &release,
        ReleaseEventKind::GateRecorded,
        EventDetail::default(),
    )
    .await?;
    work.into_change(state)
}

pub async fn record_approval(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewApproval,
) -> ApiResult<Change<approval::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let mut work = Work::new(txn, viewer);
    let comment = input.comment.clone().map(String::from);
    let release = work.lock(input.release_id, None).await?;
    check_writable(release.status)?;
    let approval = approval::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        approver: Set(viewer.subject.clone()),
        decision: Set(input.decision),
        comment: Set(comment),
        decided_at: Set(input.decided_at.unwrap_or_else(time::now_micros)),
    }
    .insert(txn)
    .await?;
    work.finish(
        &release,
        ReleaseEventKind::ApprovalRecorded,
        EventDetail::default(),
    )
    .await?;
    work.into_change(approval)
}
