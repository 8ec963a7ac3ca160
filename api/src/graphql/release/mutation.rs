//! Release mutations and their inputs, turned into the commands' plain values.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use super::Release;
use crate::commands;
use crate::domain::validate::{Commit, Name, Names, Text};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::command;
use crate::graphql::enums::{DeploymentStrategy, ItemKind, ReleaseStatus, ReleaseType, RiskLevel};
use crate::graphql::input::{checked_patch, patch};
use crate::graphql::quality::ReleaseItem;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// A new release; it starts PLANNED with revision 1.
#[derive(InputObject)]
pub struct CreateReleaseInput {
    pub program_key: String,
    pub version: String,
    pub name: String,
    pub description: Option<String>,
    #[graphql(name = "type")]
    pub release_type: ReleaseType,
    #[graphql(default_with = "Some(RiskLevel::Medium)")]
    pub risk: Option<RiskLevel>,
    #[graphql(default_with = "Some(DeploymentStrategy::BigBang)")]
    pub strategy: Option<DeploymentStrategy>,
    pub owner: Option<String>,
    pub teams: Option<Vec<String>>,
    pub suppliers: Option<Vec<String>>,
    pub planned_start: Option<Timestamp>,
    pub planned_end: Option<Timestamp>,
    pub rollback_plan: Option<String>,
    pub source_revision: Option<String>,
}

/// Fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateReleaseInput {
    pub release_id: ID,
    pub expected_revision: i32,
    pub name: Option<String>,
    /// null clears it.
    pub description: MaybeUndefined<String>,
    pub risk: Option<RiskLevel>,
    pub strategy: Option<DeploymentStrategy>,
    /// null clears it.
    pub owner: MaybeUndefined<String>,
    /// Replaces the teams; [] removes them all.
    pub teams: Option<Vec<String>>,
    /// Replaces the suppliers; [] removes them all.
    pub suppliers: Option<Vec<String>>,
    /// null clears it.
    pub planned_start: MaybeUndefined<Timestamp>,
    /// null clears it.
    pub planned_end: MaybeUndefined<Timestamp>,
    /// null clears it.
    pub rollback_plan: MaybeUndefined<String>,
    /// null clears it.
    pub source_revision: MaybeUndefined<String>,
}

/// A move along the lifecycle.
#[derive(InputObject)]
pub struct TransitionReleaseInput {
    pub release_id: ID,
    pub to: ReleaseStatus,
    pub note: Option<String>,
    /// When given, fails with CONFLICT unless it equals the current revision.
    pub expected_revision: Option<i32>,
    /// Allows SCHEDULED/APPROVED/DEPLOYING inside a freeze window; the note must say why.
    #[graphql(default_with = "Some(false)")]
    pub override_freeze: Option<bool>,
}

/// A unit of scope to add to a release.
#[derive(InputObject)]
pub struct AddReleaseItemInput {
    pub release_id: ID,
    pub title: String,
    pub kind: ItemKind,
    pub reference: Option<String>,
    pub committed_at: Option<Timestamp>,
}

impl TryFrom<CreateReleaseInput> for commands::release::NewRelease {
    type Error = ApiError;

    fn try_from(input: CreateReleaseInput) -> ApiResult<Self> {
        Ok(Self {
            program_key: input.program_key,
            version: Name::parse("version", &input.version)?,
            name: Name::parse("name", &input.name)?,
            description: Text::optional("description", input.description.as_deref())?,
            release_type: input.release_type.into(),
            risk: input.risk.unwrap_or(RiskLevel::Medium).into(),
            strategy: input.strategy.unwrap_or(DeploymentStrategy::BigBang).into(),
            owner: Name::optional("owner", input.owner.as_deref())?,
            teams: Names::parse("teams", &input.teams.unwrap_or_default())?,
            suppliers: Names::parse("suppliers", &input.suppliers.unwrap_or_default())?,
            planned_start: input.planned_start.map(Timestamp::micros),
            planned_end: input.planned_end.map(Timestamp::micros),
            rollback_plan: Text::optional("rollbackPlan", input.rollback_plan.as_deref())?,
            source_revision: Commit::optional("sourceRevision", input.source_revision.as_deref())?,
        })
    }
}

impl TryFrom<UpdateReleaseInput> for commands::release::ReleaseChanges {
    type Error = ApiError;

    fn try_from(input: UpdateReleaseInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            expected_revision: input.expected_revision,
            name: input.name.map(|n| Name::parse("name", &n)).transpose()?,
            description: checked_patch("description", input.description, Text::optional)?,
            risk: input.risk.map(Into::into),
            strategy: input.strategy.map(Into::into),
            owner: checked_patch("owner", input.owner, Name::optional)?,
            teams: input.teams.map(|t| Names::parse("teams", &t)).transpose()?,
            suppliers: input
                .suppliers
                .map(|s| Names::parse("suppliers", &s))
                .transpose()?,
            planned_start: patch(input.planned_start, Timestamp::micros),
            planned_end: patch(input.planned_end, Timestamp::micros),
            rollback_plan: checked_patch("rollbackPlan", input.rollback_plan, Text::optional)?,
            source_revision: checked_patch(
                "sourceRevision",
                input.source_revision,
                Commit::optional,
            )?,
        })
    }
}

impl TryFrom<TransitionReleaseInput> for commands::release::Transition {
    type Error = ApiError;

    fn try_from(input: TransitionReleaseInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            to: input.to.into(),
            note: Text::optional("note", input.note.as_deref())?,
            expected_revision: input.expected_revision,
            override_freeze: input.override_freeze.unwrap_or(false),
        })
    }
}

impl TryFrom<AddReleaseItemInput> for commands::release::NewItem {
    type Error = ApiError;

    fn try_from(input: AddReleaseItemInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            title: Name::parse("title", &input.title)?,
            kind: input.kind.into(),
            reference: Name::optional("reference", input.reference.as_deref())?,
            committed_at: input.committed_at.map(Timestamp::micros),
        })
    }
}

#[derive(Default)]
pub struct ReleaseMutation;

#[Object]
impl ReleaseMutation {
    /// RELEASE_MANAGER of the program, or ADMIN; new releases start PLANNED with revision 1
    async fn create_release(
        &self,
        ctx: &Context<'_>,
        input: CreateReleaseInput,
    ) -> ApiResult<Release> {
        let input = commands::release::NewRelease::try_from(input)?;
        command!(ctx, commands::release::create, input).map(Release)
    }

    /// Fails with CONFLICT unless expectedRevision equals the current revision.
    async fn update_release(
        &self,
        ctx: &Context<'_>,
        input: UpdateReleaseInput,
    ) -> ApiResult<Release> {
        let input = commands::release::ReleaseChanges::try_from(input)?;
        command!(ctx, commands::release::update, input).map(Release)
    }

    /// Moves a release along its lifecycle; see lifecycle.md.
    async fn transition_release(
        &self,
        ctx: &Context<'_>,
        input: TransitionReleaseInput,
    ) -> ApiResult<Release> {
        let input = commands::release::Transition::try_from(input)?;
        command!(ctx, commands::release::transition, input).map(Release)
    }

    /// Adds a unit of scope to a release that is not REVIEWED or CANCELLED.
    async fn add_release_item(
        &self,
        ctx: &Context<'_>,
        input: AddReleaseItemInput,
    ) -> ApiResult<ReleaseItem> {
        let input = commands::release::NewItem::try_from(input)?;
        command!(ctx, commands::release::add_item, input).map(ReleaseItem)
    }
}
