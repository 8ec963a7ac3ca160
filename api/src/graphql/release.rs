//! Releases: the object, its list with filters and ordering, and lookups.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use entity::release_party::PartyRole;
use entity::{release, release_event};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::commands;
use crate::domain::gates::GateState;
use crate::domain::readiness::readiness;
use crate::domain::release_notes::release_notes;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, db, loaders, visible};
use crate::graphql::deployment::Deployment;
use crate::graphql::enums::{DeploymentStrategy, ItemKind, ReleaseStatus, ReleaseType, RiskLevel};
use crate::graphql::event::ReleaseEventConnection;
use crate::graphql::incident::Incident;
use crate::graphql::input::patch;
use crate::graphql::loaders::{children, required};
use crate::graphql::pagination::{PageArgs, connection, paged};
use crate::graphql::program::Program;
use crate::graphql::quality::{Approval, QualityGate, Readiness, ReleaseItem};
use crate::graphql::review::ReleaseOutcome;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries::derived;
use crate::queries::page::{Key, Ordering, Position};
use crate::queries::releases::{self, ReleaseSort};

/// A planned, scheduled or shipped release of a program.
#[derive(Clone)]
pub struct Release(pub release::Model);

impl Release {
    async fn parties(&self, ctx: &Context<'_>, role: PartyRole) -> ApiResult<Vec<String>> {
        let mut parties = children(&loaders(ctx)?.parties, self.0.id).await?;
        parties.retain(|p| p.role == role);
        parties.sort_by_key(|p| (p.position, p.id));
        Ok(parties.into_iter().map(|p| p.name).collect())
    }

    /// The release's gates with their latest results.
    pub async fn gate_states(&self, ctx: &Context<'_>) -> ApiResult<Vec<GateState>> {
        let loaders = loaders(ctx)?;
        let gates = children(&loaders.gates, self.0.id).await?;
        let results = loaders
            .gate_results
            .load_many(gates.iter().map(|g| g.id))
            .await?;
        let results: Vec<_> = results.into_values().flatten().collect();
        Ok(derived::gate_states(gates, &results))
    }
}

#[Object]
impl Release {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Release, self.0.id)
    }

    async fn program(&self, ctx: &Context<'_>) -> ApiResult<Program> {
        Ok(Program(
            required(&loaders(ctx)?.program, self.0.program_id).await?,
        ))
    }

    /// Unique within its program, e.g. 2026.11.0
    async fn version(&self) -> &str {
        &self.0.version
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    #[graphql(name = "type")]
    async fn release_type(&self) -> ReleaseType {
        self.0.release_type.into()
    }

    async fn risk(&self) -> RiskLevel {
        self.0.risk.into()
    }

    async fn strategy(&self) -> DeploymentStrategy {
        self.0.strategy.into()
    }

    async fn status(&self) -> ReleaseStatus {
        self.0.status.into()
    }

    async fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }

    /// Teams that coordinate on this release.
    async fn teams(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        self.parties(ctx, PartyRole::Team).await
    }

    /// Third-party suppliers whose deliverables are part of this release.
    async fn suppliers(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        self.parties(ctx, PartyRole::Supplier).await
    }

    async fn planned_start(&self) -> Option<Timestamp> {
        self.0.planned_start.map(Timestamp)
    }

    /// Planned go-live: the deadline that on-time delivery is measured against.
    async fn planned_end(&self) -> Option<Timestamp> {
        self.0.planned_end.map(Timestamp)
    }

    /// finishedAt of the earliest non-rollback PRODUCTION deployment whose status is SUCCEEDED.
    async fn deployed_at(&self, ctx: &Context<'_>) -> ApiResult<Option<Timestamp>> {
        let loaders = loaders(ctx)?;
        let deployments = children(&loaders.deployments, self.0.id).await?;
        let environments = loaders
            .environment
            .load_many(deployments.iter().map(|d| d.environment_id))
            .await?;
        let tier = |id| environments.get(&id).map(|e| e.tier);
        Ok(derived::deployed_at(&deployments, tier).map(Timestamp))
    }

    async fn rollback_plan(&self) -> Option<&str> {
        self.0.rollback_plan.as_deref()
    }

    /// Optimistic-concurrency revision; starts at 1 and grows by one with every change.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }

    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }

    /// The scope of the release, in the order it was added.
    async fn items(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReleaseItem>> {
        let items = children(&loaders(ctx)?.items, self.0.id).await?;
        Ok(items.into_iter().map(ReleaseItem).collect())
    }

    /// The latest result of each gate, by gate name.
    async fn quality_gates(&self, ctx: &Context<'_>) -> ApiResult<Vec<QualityGate>> {
        let mut gates = self.gate_states(ctx).await?;
        gates.sort_by(|a, b| a.gate.name.cmp(&b.gate.name));
        Ok(gates.into_iter().map(QualityGate).collect())
    }

    /// Go/no-go decisions, oldest first.
    async fn approvals(&self, ctx: &Context<'_>) -> ApiResult<Vec<Approval>> {
        let mut approvals = children(&loaders(ctx)?.approvals, self.0.id).await?;
        approvals.sort_by_key(|a| (a.decided_at, a.id));
        Ok(approvals.into_iter().map(Approval).collect())
    }

    /// Deployments of the release, by start time.
    async fn deployments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Deployment>> {
        let mut deployments = children(&loaders(ctx)?.deployments, self.0.id).await?;
        deployments.sort_by_key(|d| (d.started_at, d.id));
        Ok(deployments.into_iter().map(Deployment).collect())
    }

    /// Incidents attributed to the release, by opening time.
    async fn incidents(&self, ctx: &Context<'_>) -> ApiResult<Vec<Incident>> {
        let mut incidents = children(&loaders(ctx)?.incidents, self.0.id).await?;
        incidents.sort_by_key(|i| (i.opened_at, i.id));
        Ok(incidents.into_iter().map(Incident).collect())
    }

    /// The post-implementation review, once recorded.
    async fn outcome(&self, ctx: &Context<'_>) -> ApiResult<Option<ReleaseOutcome>> {
        let outcomes = children(&loaders(ctx)?.outcomes, self.0.id).await?;
        Ok(outcomes.into_iter().next().map(ReleaseOutcome))
    }

    /// What stands between the release and APPROVED.
    async fn readiness(&self, ctx: &Context<'_>) -> ApiResult<Readiness> {
        let gates = self.gate_states(ctx).await?;
        let approvals = children(&loaders(ctx)?.approvals, self.0.id).await?;
        Ok(Readiness(readiness(
            &gates,
            &approvals,
            self.0.rollback_plan.as_deref(),
        )))
    }

    /// The audit trail, oldest first.
    #[graphql(complexity = "crate::graphql::limits::page_cost(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ReleaseEventConnection> {
        let select =
            release_event::Entity::find().filter(release_event::Column::ReleaseId.eq(self.0.id));
        let page = PageArgs {
            first,
            after,
            ..PageArgs::default()
        };
        let ordering = Ordering {
            column: None,
            nullable: false,
            ascending: true,
            id: release_event::Column::Id,
            position: |e: &release_event::Model| Position {
                key: Key::Null,
                id: e.id,
            },
        };
        let page = paged(ctx, db(ctx)?, select, &ordering, "ID_ASC", &page).await?;
        Ok(ReleaseEventConnection::new(page, Into::into))
    }

    /// Release notes built from the items, grouped by kind, as Markdown.
    async fn release_notes(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let loaders = loaders(ctx)?;
        let program = required(&loaders.program, self.0.program_id).await?;
        let items = children(&loaders.items, self.0.id).await?;
        Ok(release_notes(
            &program.name,
            &self.0.version,
            &self.0.name,
            &items,
        ))
    }
}

connection!(
    ReleaseConnection,
    ReleaseEdge,
    Release,
    "A page of releases."
);

/// Narrows a list of releases; every condition given must hold.
#[derive(InputObject, Default)]
pub struct ReleaseFilter {
    pub program_keys: Option<Vec<String>>,
    pub statuses: Option<Vec<ReleaseStatus>>,
    pub types: Option<Vec<ReleaseType>>,
    /// Releases whose plannedEnd is in [plannedFrom, plannedTo).
    pub planned_from: Option<Timestamp>,
    pub planned_to: Option<Timestamp>,
    pub team: Option<String>,
    /// Case-insensitive match on version, name or description.
    pub search: Option<String>,
}

/// A field to order releases by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReleaseOrderField {
    PlannedEnd,
    CreatedAt,
    UpdatedAt,
    Version,
}

/// Ascending or descending.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderDirection {
    Asc,
    Desc,
}

/// How to order releases; ties are broken by creation order. Releases without a plannedEnd
/// come last when ordering by PLANNED_END, whichever the direction.
#[derive(InputObject, Clone, Copy)]
pub struct ReleaseOrder {
    pub field: ReleaseOrderField,
    pub direction: OrderDirection,
}

/// The default order: newest first.
const DEFAULT_ORDER: ReleaseOrder = ReleaseOrder {
    field: ReleaseOrderField::CreatedAt,
    direction: OrderDirection::Desc,
};

impl From<ReleaseFilter> for releases::ReleaseFilter {
    fn from(filter: ReleaseFilter) -> Self {
        Self {
            program_keys: filter.program_keys,
            statuses: filter
                .statuses
                .map(|s| s.into_iter().map(Into::into).collect()),
            types: filter
                .types
                .map(|t| t.into_iter().map(Into::into).collect()),
            planned_from: filter.planned_from.map(Timestamp::micros),
            planned_to: filter.planned_to.map(Timestamp::micros),
            team: filter.team,
            search: filter.search,
        }
    }
}

impl ReleaseOrder {
    fn sort(self) -> ReleaseSort {
        match self.field {
            ReleaseOrderField::PlannedEnd => ReleaseSort::PlannedEnd,
            ReleaseOrderField::CreatedAt => ReleaseSort::CreatedAt,
            ReleaseOrderField::UpdatedAt => ReleaseSort::UpdatedAt,
            ReleaseOrderField::Version => ReleaseSort::Version,
        }
    }

    /// The name of the ordering in cursors, e.g. `UPDATED_AT_DESC`.
    fn name(self) -> String {
        let field: &'static str = self.sort().into();
        let direction = match self.direction {
            OrderDirection::Asc => "ASC",
            OrderDirection::Desc => "DESC",
        };
        format!("{field}_{direction}")
    }
}

/// Releases the caller may see (of one program when `program_id` is given, which the caller
/// may see), filtered, ordered and paged.
pub async fn release_connection(
    ctx: &Context<'_>,
    program_id: Option<i64>,
    filter: ReleaseFilter,
    order: Option<ReleaseOrder>,
    page: PageArgs,
) -> ApiResult<ReleaseConnection> {
    let visible = visible(ctx)?;
    let mut select = releases::ReleaseFilter::from(filter).apply(visible.releases());
    if let Some(id) = program_id {
        select = select.filter(release::Column::ProgramId.eq(id));
    }
    let order = order.unwrap_or(DEFAULT_ORDER);
    let ordering = order
        .sort()
        .ordering(order.direction == OrderDirection::Asc);
    let page = paged(ctx, visible.db(), select, &ordering, &order.name(), &page).await?;
    let rows: Vec<&release::Model> = page.edges.iter().map(|(_, r)| r).collect();
    prefetch(ctx, &rows).await?;
    Ok(ReleaseConnection::new(page, Release))
}

/// Loads, with one query per table, every child of a page of releases that the query asks
/// for, so the nested resolvers find them in the loaders' caches.
async fn prefetch(ctx: &Context<'_>, rows: &[&release::Model]) -> ApiResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let look = ctx.look_ahead();
    let nodes = [look.field("nodes"), look.field("edges").field("node")];
    let wants = |field: &str| nodes.iter().any(|n| n.field(field).exists());
    let wants_within =
        |field: &str, inner: &str| nodes.iter().any(|n| n.field(field).field(inner).exists());
    let loaders = loaders(ctx)?;
    let ids = || rows.iter().map(|r| r.id);

    let programs = async {
        if wants("program") || wants("releaseNotes") {
            loaders
                .program
                .load_many(rows.iter().map(|r| r.program_id))
                .await?;
        }
        Ok::<_, ApiError>(())
    };
    let parties = async {
        if wants("teams") || wants("suppliers") {
            loaders.parties.load_many(ids()).await?;
        }
        Ok(())
    };
    let items = async {
        if wants("items") || wants("releaseNotes") {
            loaders.items.load_many(ids()).await?;
        }
        Ok(())
    };
    let gates = async {
        if wants("qualityGates") || wants("readiness") {
            let gates = loaders.gates.load_many(ids()).await?;
            let gate_ids = gates.values().flatten().map(|g| g.id);
            loaders.gate_results.load_many(gate_ids).await?;
        }
        Ok(())
    };
    let approvals = async {
        if wants("approvals") || wants("readiness") {
            loaders.approvals.load_many(ids()).await?;
        }
        Ok(())
    };
    let deployments = async {
        if wants("deployments") || wants("deployedAt") {
            let deployments = loaders.deployments.load_many(ids()).await?;
            if wants("deployedAt") || wants_within("deployments", "environment") {
                let environments = deployments.values().flatten().map(|d| d.environment_id);
                loaders.environment.load_many(environments).await?;
            }
        }
        Ok(())
    };
    let incidents = async {
        if wants("incidents") {
            loaders.incidents.load_many(ids()).await?;
        }
        Ok(())
    };
    let outcomes = async {
        if wants("outcome") {
            loaders.outcomes.load_many(ids()).await?;
        }
        Ok(())
    };
    futures_util::try_join!(
        programs,
        parties,
        items,
        gates,
        approvals,
        deployments,
        incidents,
        outcomes
    )?;
    Ok(())
}

#[derive(Default)]
pub struct ReleaseQuery;

#[Object]
impl ReleaseQuery {
    /// Releases the caller may see; newest first unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments, reason = "the contract's arguments")]
    #[graphql(complexity = "crate::graphql::limits::page_cost(first, last, child_complexity)")]
    async fn releases(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReleaseFilter>,
        order_by: Option<ReleaseOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<ReleaseConnection> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        release_connection(ctx, None, filter.unwrap_or_default(), order_by, page).await
    }

    /// The release with this version in this program, or null.
    async fn release(
        &self,
        ctx: &Context<'_>,
        program_key: String,
        version: String,
    ) -> ApiResult<Option<Release>> {
        let found = visible(ctx)?
            .release_by_version(&program_key, &version)
            .await?;
        Ok(found.map(Release))
    }
}

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

impl From<CreateReleaseInput> for commands::release::NewRelease {
    fn from(input: CreateReleaseInput) -> Self {
        Self {
            program_key: input.program_key,
            version: input.version,
            name: input.name,
            description: input.description,
            release_type: input.release_type.into(),
            risk: input.risk.unwrap_or(RiskLevel::Medium).into(),
            strategy: input.strategy.unwrap_or(DeploymentStrategy::BigBang).into(),
            owner: input.owner,
            teams: input.teams.unwrap_or_default(),
            suppliers: input.suppliers.unwrap_or_default(),
            planned_start: input.planned_start.map(Timestamp::micros),
            planned_end: input.planned_end.map(Timestamp::micros),
            rollback_plan: input.rollback_plan,
        }
    }
}

impl TryFrom<UpdateReleaseInput> for commands::release::ReleaseChanges {
    type Error = ApiError;

    fn try_from(input: UpdateReleaseInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            expected_revision: input.expected_revision,
            name: input.name,
            description: patch(input.description, |d| d),
            risk: input.risk.map(Into::into),
            strategy: input.strategy.map(Into::into),
            owner: patch(input.owner, |o| o),
            teams: input.teams,
            suppliers: input.suppliers,
            planned_start: patch(input.planned_start, Timestamp::micros),
            planned_end: patch(input.planned_end, Timestamp::micros),
            rollback_plan: patch(input.rollback_plan, |p| p),
        })
    }
}

impl TryFrom<TransitionReleaseInput> for commands::release::Transition {
    type Error = ApiError;

    fn try_from(input: TransitionReleaseInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            to: input.to.into(),
            note: input.note,
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
            title: input.title,
            kind: input.kind.into(),
            reference: input.reference,
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
        let input = commands::release::NewRelease::from(input);
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
