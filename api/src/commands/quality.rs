//! Quality gates and go/no-go approvals.

use entity::enums::ReleaseEventKind;
use entity::{approval, gate_result, quality_gate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use super::{Change, EventDetail, lock_release, record_event};
use crate::auth::{Role, Viewer};
use crate::domain::gates::GateState;
use crate::domain::lifecycle::check_writable;
use crate::domain::validate;
use crate::error::{ApiError, ApiResult};
use crate::graphql::quality::{RecordApprovalInput, RecordQualityGateInput};
use crate::ids::{self, NodeType};
use crate::time;

/// Records a gate result, creating the gate on first use; the gate's kind and `required`
/// follow the latest recording.
pub async fn record_gate(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &RecordQualityGateInput,
) -> ApiResult<Change<GateState>> {
    viewer.require(Role::ReleaseManager)?;
    let id = ids::decode(&input.release_id, NodeType::Release, "releaseId")?;
    let name = validate::name("name", &input.name)?;
    let evidence_url = input
        .evidence_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| validate::http_url("evidenceUrl", u))
        .transpose()?;
    let note = validate::optional_text("note", input.note.as_deref())?;
    let release = lock_release(txn, viewer, id, None).await?;
    check_writable(release.status)?;

    let existing = quality_gate::Entity::find()
        .filter(quality_gate::Column::ReleaseId.eq(release.id))
        .filter(quality_gate::Column::Name.eq(&name))
        .one(txn)
        .await?;
    let (kind, required) = (input.kind.into(), input.required.unwrap_or(true));
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
        status: Set(input.status.into()),
        evidence_url: Set(evidence_url),
        note: Set(note),
        checked_at: Set(input
            .checked_at
            .map_or_else(time::now_micros, |t| t.micros())),
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
    let event = record_event(
        txn,
        viewer,
        &release,
        ReleaseEventKind::GateRecorded,
        EventDetail::default(),
    )
    .await?;
    Ok(Change::new(state, Some(event)))
}

pub async fn record_approval(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &RecordApprovalInput,
) -> ApiResult<Change<approval::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let id = ids::decode(&input.release_id, NodeType::Release, "releaseId")?;
    let comment = validate::optional_text("comment", input.comment.as_deref())?;
    let release = lock_release(txn, viewer, id, None).await?;
    check_writable(release.status)?;
    let approval = approval::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        approver: Set(viewer.subject.clone()),
        decision: Set(input.decision.into()),
        comment: Set(comment),
        decided_at: Set(input
            .decided_at
            .map_or_else(time::now_micros, |t| t.micros())),
    }
    .insert(txn)
    .await?;
    let event = record_event(
        txn,
        viewer,
        &release,
        ReleaseEventKind::ApprovalRecorded,
        EventDetail::default(),
    )
    .await?;
    Ok(Change::new(approval, Some(event)))
}
