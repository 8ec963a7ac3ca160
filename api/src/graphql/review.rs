//! Post-implementation reviews and the improvement actions they raise.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use entity::{improvement_action, outcome};

use crate::commands;
use crate::domain::validate::{Name, Text};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, loaders};
use crate::graphql::enums::{ActionStatus, MetricName, OutcomeResult};
use crate::graphql::impact::{ActionImpact, action_impact};
use crate::graphql::input::{checked_patch, patch};
use crate::graphql::loaders::{children, required};
use crate::graphql::release::Release;
use crate::graphql::scalars::{Date, Timestamp};
use crate::ids::{self, NodeType};
use crate::queries::impact::DEFAULT_WINDOW_DAYS;

/// The post-implementation review of a release.
#[derive(Clone)]
pub struct ReleaseOutcome(pub outcome::Model);

#[Object]
impl ReleaseOutcome {
    async fn result(&self) -> OutcomeResult {
        self.0.result.into()
    }

    async fn objectives_met(&self) -> bool {
        self.0.objectives_met
    }

    async fn defects_escaped(&self) -> i32 {
        self.0.defects_escaped
    }

    async fn customer_impact(&self) -> Option<&str> {
        self.0.customer_impact.as_deref()
    }

    async fn summary(&self) -> &str {
        &self.0.summary
    }

    async fn lessons_learned(&self) -> Option<&str> {
        self.0.lessons_learned.as_deref()
    }

    async fn reviewed_at(&self) -> Timestamp {
        Timestamp(self.0.reviewed_at)
    }

    async fn reviewed_by(&self) -> &str {
        &self.0.reviewed_by
    }

    /// Improvement actions raised for the release, oldest first.
    async fn actions(&self, ctx: &Context<'_>) -> ApiResult<Vec<ImprovementAction>> {
        let actions = children(&loaders(ctx)?.actions, self.0.release_id).await?;
        Ok(actions.into_iter().map(ImprovementAction).collect())
    }
}

/// A continuous-improvement action raised by a post-release review.
#[derive(Clone)]
pub struct ImprovementAction(pub improvement_action::Model);

#[Object]
impl ImprovementAction {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ImprovementAction, self.0.id).into()
    }

    async fn release(&self, ctx: &Context<'_>) -> ApiResult<Release> {
        Ok(Release(
            required(&loaders(ctx)?.release, self.0.release_id).await?,
        ))
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }

    async fn due_date(&self) -> Option<Date> {
        self.0.due_date.map(Date)
    }

    async fn status(&self) -> ActionStatus {
        self.0.status.into()
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }

    async fn closed_at(&self) -> Option<Timestamp> {
        self.0.closed_at.map(Timestamp)
    }

    async fn target(&self) -> Option<MetricName> {
        self.0.target.map(Into::into)
    }

    /// When the change took effect; defaults to closedAt once DONE.
    async fn effective_at(&self) -> Option<Timestamp> {
        crate::queries::impact::effective_at(&self.0).map(Timestamp)
    }

    /// Did the action move its target metric? ANALYST and up.
    async fn impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(DEFAULT_WINDOW_DAYS)")] window_days: Option<i32>,
    ) -> ApiResult<Option<ActionImpact>> {
        let release = required(&loaders(ctx)?.release, self.0.release_id).await?;
        action_impact(
            ctx,
            &self.0,
            release.program_id,
            window_days.unwrap_or(DEFAULT_WINDOW_DAYS),
        )
        .await
    }
}

/// The post-implementation review of a release.
#[derive(InputObject)]
pub struct RecordOutcomeInput {
    pub release_id: ID,
    pub result: OutcomeResult,
    pub objectives_met: bool,
    #[graphql(default_with = "Some(0)")]
    pub defects_escaped: Option<i32>,
    pub customer_impact: Option<String>,
    pub summary: String,
    pub lessons_learned: Option<String>,
    /// Defaults to now.
    pub reviewed_at: Option<Timestamp>,
}

/// A new improvement action for a reviewed release.
#[derive(InputObject)]
pub struct AddImprovementActionInput {
    pub release_id: ID,
    pub title: String,
    pub owner: Option<String>,
    pub due_date: Option<Date>,
    /// The metric the action sets out to move.
    pub target: Option<MetricName>,
    /// When the change took effect; defaults to closedAt once DONE.
    pub effective_at: Option<Timestamp>,
}

/// Changes to an improvement action; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateImprovementActionInput {
    pub action_id: ID,
    pub status: Option<ActionStatus>,
    /// null clears it.
    pub owner: MaybeUndefined<String>,
    /// null clears it.
    pub due_date: MaybeUndefined<Date>,
    /// Defaults to now when status becomes DONE or DROPPED.
    pub closed_at: Option<Timestamp>,
    /// null removes the target.
    pub target: MaybeUndefined<MetricName>,
    /// null brings back the closedAt default.
    pub effective_at: MaybeUndefined<Timestamp>,
}

impl TryFrom<RecordOutcomeInput> for commands::review::NewOutcome {
    type Error = ApiError;

    fn try_from(input: RecordOutcomeInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            result: input.result.into(),
            objectives_met: input.objectives_met,
            defects_escaped: input.defects_escaped.unwrap_or(0),
            customer_impact: Text::optional("customerImpact", input.customer_impact.as_deref())?,
            summary: Text::parse("summary", &input.summary)?,
            lessons_learned: Text::optional("lessonsLearned", input.lessons_learned.as_deref())?,
            reviewed_at: input.reviewed_at.map(Timestamp::micros),
        })
    }
}

impl TryFrom<AddImprovementActionInput> for commands::review::NewAction {
    type Error = ApiError;

    fn try_from(input: AddImprovementActionInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            title: Name::parse("title", &input.title)?,
            owner: Name::optional("owner", input.owner.as_deref())?,
            due_date: input.due_date.map(|d| d.0),
            target: input.target.map(Into::into),
            effective_at: input.effective_at.map(Timestamp::micros),
        })
    }
}

impl TryFrom<UpdateImprovementActionInput> for commands::review::ActionChanges {
    type Error = ApiError;

    fn try_from(input: UpdateImprovementActionInput) -> ApiResult<Self> {
        Ok(Self {
            action_id: ids::decode(&input.action_id, NodeType::ImprovementAction, "actionId")?,
            status: input.status.map(Into::into),
            owner: checked_patch("owner", input.owner, Name::optional)?,
            due_date: patch(input.due_date, |d| d.0),
            closed_at: input.closed_at.map(Timestamp::micros),
            target: patch(input.target, Into::into),
            effective_at: patch(input.effective_at, Timestamp::micros),
        })
    }
}

#[derive(Default)]
pub struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// Records the post-implementation review; the release must be DEPLOYED or ROLLED_BACK and becomes REVIEWED.
    async fn record_outcome(
        &self,
        ctx: &Context<'_>,
        input: RecordOutcomeInput,
    ) -> ApiResult<ReleaseOutcome> {
        let input = commands::review::NewOutcome::try_from(input)?;
        command!(ctx, commands::review::record_outcome, input).map(ReleaseOutcome)
    }

    /// Adds an improvement action to a release that has an outcome.
    async fn add_improvement_action(
        &self,
        ctx: &Context<'_>,
        input: AddImprovementActionInput,
    ) -> ApiResult<ImprovementAction> {
        let input = commands::review::NewAction::try_from(input)?;
        command!(ctx, commands::review::add_action, input).map(ImprovementAction)
    }

    /// Changes an improvement action; it stays editable after the release is REVIEWED.
    async fn update_improvement_action(
        &self,
        ctx: &Context<'_>,
        input: UpdateImprovementActionInput,
    ) -> ApiResult<ImprovementAction> {
        let input = commands::review::ActionChanges::try_from(input)?;
        command!(ctx, commands::review::update_action, input).map(ImprovementAction)
    }
}
