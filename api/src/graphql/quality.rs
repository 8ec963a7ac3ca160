//! Scope and readiness of a release: items, quality gates, approvals.

use async_graphql::{Context, ID, InputObject, Object};
use entity::{approval, release_item};

use crate::commands;
use crate::domain::gates::GateState;
use crate::domain::readiness;
use crate::domain::validate::{Name, Text, Url};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::command;
use crate::graphql::enums::{ApprovalDecision, GateKind, GateStatus, ItemKind};
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// A unit of scope: a work item, pull request or change that ships in the release.
#[derive(Clone)]
pub struct ReleaseItem(pub release_item::Model);

#[Object]
impl ReleaseItem {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ReleaseItem, self.0.id).into()
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn kind(&self) -> ItemKind {
        self.0.kind.into()
    }

    /// External reference, e.g. PAY-123 or a pull-request URL.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }

    /// Time of the first commit of the change; the start of its lead time.
    async fn committed_at(&self) -> Option<Timestamp> {
        self.0.committed_at.map(Timestamp)
    }
}

/// A check a release must pass before approval, with its latest result.
#[derive(Clone)]
pub struct QualityGate(pub GateState);

#[Object]
impl QualityGate {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::QualityGate, self.0.gate.id).into()
    }

    /// Unique within the release, e.g. security-scan
    async fn name(&self) -> &str {
        &self.0.gate.name
    }

    async fn kind(&self) -> GateKind {
        self.0.gate.kind.into()
    }

    async fn required(&self) -> bool {
        self.0.gate.required
    }

    async fn status(&self) -> GateStatus {
        self.0.status().into()
    }

    /// How many results have been recorded for this gate.
    async fn attempts(&self) -> i32 {
        i32::try_from(self.0.attempts).unwrap_or(i32::MAX)
    }

    async fn evidence_url(&self) -> Option<&str> {
        self.0.latest.evidence_url.as_deref()
    }

    async fn note(&self) -> Option<&str> {
        self.0.latest.note.as_deref()
    }

    async fn checked_at(&self) -> Option<Timestamp> {
        Some(Timestamp(self.0.latest.checked_at))
    }

    async fn checked_by(&self) -> Option<&str> {
        Some(&self.0.latest.checked_by)
    }
}

/// A go/no-go decision.
#[derive(Clone)]
pub struct Approval(pub approval::Model);

#[Object]
impl Approval {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Approval, self.0.id).into()
    }

    async fn approver(&self) -> &str {
        &self.0.approver
    }

    async fn decision(&self) -> ApprovalDecision {
        self.0.decision.into()
    }

    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    async fn decided_at(&self) -> Timestamp {
        Timestamp(self.0.decided_at)
    }
}

/// What stands between the release and APPROVED.
pub struct Readiness(pub readiness::Readiness);

#[Object]
impl Readiness {
    async fn ready(&self) -> bool {
        self.0.ready
    }

    /// Human-readable reasons, e.g. 'gate security-scan is FAILED', 'no rollback plan'.
    async fn blockers(&self) -> &[String] {
        &self.0.blockers
    }
}

/// A result of a quality gate.
#[derive(InputObject)]
pub struct RecordQualityGateInput {
    pub release_id: ID,
    pub name: String,
    pub kind: GateKind,
    #[graphql(default_with = "Some(true)")]
    pub required: Option<bool>,
    pub status: GateStatus,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
    /// Defaults to now.
    pub checked_at: Option<Timestamp>,
}

/// A go/no-go decision by the caller.
#[derive(InputObject)]
pub struct RecordApprovalInput {
    pub release_id: ID,
    pub decision: ApprovalDecision,
    pub comment: Option<String>,
    /// Defaults to now.
    pub decided_at: Option<Timestamp>,
}

impl TryFrom<RecordQualityGateInput> for commands::quality::GateRecording {
    type Error = ApiError;

    fn try_from(input: RecordQualityGateInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            name: Name::parse("name", &input.name)?,
            kind: input.kind.into(),
            required: input.required.unwrap_or(true),
            status: input.status.into(),
            evidence_url: Url::optional("evidenceUrl", input.evidence_url.as_deref())?,
            note: Text::optional("note", input.note.as_deref())?,
            checked_at: input.checked_at.map(Timestamp::micros),
        })
    }
}

impl TryFrom<RecordApprovalInput> for commands::quality::NewApproval {
    type Error = ApiError;

    fn try_from(input: RecordApprovalInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            decision: input.decision.into(),
            comment: Text::optional("comment", input.comment.as_deref())?,
            decided_at: input.decided_at.map(Timestamp::micros),
        })
    }
}

#[derive(Default)]
pub struct QualityMutation;

#[Object]
impl QualityMutation {
    /// Records a result for a gate, creating the gate on first use.
    async fn record_quality_gate(
        &self,
        ctx: &Context<'_>,
        input: RecordQualityGateInput,
    ) -> ApiResult<QualityGate> {
        let input = commands::quality::GateRecording::try_from(input)?;
        command!(ctx, commands::quality::record_gate, input).map(QualityGate)
    }

    /// Records a go/no-go decision; the approver is the caller.
    async fn record_approval(
        &self,
        ctx: &Context<'_>,
        input: RecordApprovalInput,
    ) -> ApiResult<Approval> {
        let input = commands::quality::NewApproval::try_from(input)?;
        command!(ctx, commands::quality::record_approval, input).map(Approval)
    }
}
