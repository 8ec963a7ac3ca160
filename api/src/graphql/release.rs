//! Releases: the object, its list with filters and ordering, and lookups.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use entity::enums::{DeploymentStatus as DbDeploymentStatus, EnvironmentTier as DbTier};
use entity::release_party::PartyRole;
use entity::{program, release, release_event, release_party};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, NullOrdering, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder};

use crate::auth::Scope;
use crate::commands;
use crate::domain::gates::GateState;
use crate::domain::readiness::readiness;
use crate::domain::release_notes::release_notes;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, db, loaders, viewer};
use crate::graphql::deployment::Deployment;
use crate::graphql::enums::{DeploymentStrategy, ItemKind, ReleaseStatus, ReleaseType, RiskLevel};
use crate::graphql::event::ReleaseEventConnection;
use crate::graphql::incident::Incident;
use crate::graphql::loaders::{children, required};
use crate::graphql::pagination::{PageArgs, connection, fetch_page};
use crate::graphql::program::{Program, find_by_key};
use crate::graphql::quality::{Approval, QualityGate, Readiness, ReleaseItem};
use crate::graphql::review::ReleaseOutcome;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

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
        let mut results = loaders
            .gate_results
            .load_many(gates.iter().map(|g| g.id))
            .await?;
        Ok(gates
            .into_iter()
            .filter_map(|gate| {
                let rows = results.remove(&gate.id).unwrap_or_default();
                GateState::from_results(gate, &rows)
            })
            .collect())
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
        let candidates: Vec<_> = deployments
            .into_iter()
            .filter(|d| !d.is_rollback && d.status == DbDeploymentStatus::Succeeded)
            .collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let environments = loaders
            .environment
            .load_many(candidates.iter().map(|d| d.environment_id))
            .await?;
        Ok(candidates
            .iter()
            .filter(|d| {
                environments
                    .get(&d.environment_id)
                    .is_some_and(|e| e.tier == DbTier::Production)
            })
            .filter_map(|d| d.finished_at)
            .min()
            .map(Timestamp))
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
        let select = release_event::Entity::find()
            .filter(release_event::Column::ReleaseId.eq(self.0.id))
            .order_by_asc(release_event::Column::Id);
        let page = PageArgs {
            first,
            after,
            ..PageArgs::default()
        };
        let (rows, window, total) = fetch_page(db(ctx)?, select, &page).await?;
        Ok(ReleaseEventConnection::new(
            rows.into_iter().map(Into::into).collect(),
            window,
            total,
        ))
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

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The condition of `filter` on releases.
fn filter_condition(filter: &ReleaseFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(keys) = &filter.program_keys {
        condition = condition.add(
            release::Column::ProgramId.in_subquery(
                Query::select()
                    .column(program::Column::Id)
                    .from(program::Entity)
                    .and_where(program::Column::Key.is_in(keys.iter().cloned()))
                    .to_owned(),
            ),
        );
    }
    if let Some(statuses) = &filter.statuses {
        let statuses = statuses
            .iter()
            .map(|s| entity::enums::ReleaseStatus::from(*s));
        condition = condition.add(release::Column::Status.is_in(statuses));
    }
    if let Some(types) = &filter.types {
        let types = types.iter().map(|t| entity::enums::ReleaseType::from(*t));
        condition = condition.add(release::Column::ReleaseType.is_in(types));
    }
    if let Some(from) = filter.planned_from {
        condition = condition.add(release::Column::PlannedEnd.gte(from.micros()));
    }
    if let Some(to) = filter.planned_to {
        condition = condition.add(release::Column::PlannedEnd.lt(to.micros()));
    }
    if let Some(team) = &filter.team {
        condition = condition.add(
            release::Column::Id.in_subquery(
                Query::select()
                    .column(release_party::Column::ReleaseId)
                    .from(release_party::Entity)
                    .and_where(release_party::Column::Role.eq(PartyRole::Team))
                    .and_where(release_party::Column::Name.eq(team.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        let pattern = like_pattern(search);
        let matches = |column: release::Column| {
            Func::lower(Expr::col((release::Entity, column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any()
                .add(matches(release::Column::Version))
                .add(matches(release::Column::Name))
                .add(matches(release::Column::Description)),
        );
    }
    condition
}

/// Releases the caller may see, optionally of one program, filtered, ordered and paged.
pub async fn release_connection(
    ctx: &Context<'_>,
    program_id: Option<i64>,
    filter: ReleaseFilter,
    order: Option<ReleaseOrder>,
    page: PageArgs,
) -> ApiResult<ReleaseConnection> {
    let viewer = viewer(ctx)?;
    let mut select = release::Entity::find().filter(filter_condition(&filter));
    if let Scope::Programs(ids) = &viewer.scope {
        select = select.filter(release::Column::ProgramId.is_in(ids.iter().copied()));
    }
    if let Some(id) = program_id {
        select = select.filter(release::Column::ProgramId.eq(id));
    }
    let order = order.unwrap_or(DEFAULT_ORDER);
    let direction = match order.direction {
        OrderDirection::Asc => Order::Asc,
        OrderDirection::Desc => Order::Desc,
    };
    select = match order.field {
        ReleaseOrderField::PlannedEnd => select.order_by_with_nulls(
            release::Column::PlannedEnd,
            direction.clone(),
            NullOrdering::Last,
        ),
        ReleaseOrderField::CreatedAt => {
            select.order_by(release::Column::CreatedAt, direction.clone())
        }
        ReleaseOrderField::UpdatedAt => {
            select.order_by(release::Column::UpdatedAt, direction.clone())
        }
        ReleaseOrderField::Version => select.order_by(release::Column::Version, direction.clone()),
    };
    select = select.order_by(release::Column::Id, direction);
    let (rows, window, total) = fetch_page(db(ctx)?, select, &page).await?;
    prefetch(ctx, &rows).await?;
    Ok(ReleaseConnection::new(
        rows.into_iter().map(Release).collect(),
        window,
        total,
    ))
}

/// Loads, with one query per table, every child of a page of releases that the query asks
/// for, so the nested resolvers find them in the loaders' caches.
async fn prefetch(ctx: &Context<'_>, rows: &[release::Model]) -> ApiResult<()> {
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
        let Some(program) = find_by_key(ctx, &program_key).await? else {
            return Ok(None);
        };
        let found = release::Entity::find()
            .filter(release::Column::ProgramId.eq(program.id))
            .filter(release::Column::Version.eq(version))
            .one(db(ctx)?)
            .await?;
        Ok(found.map(Release))
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_match_text_literally() {
        assert_eq!(like_pattern("Pay"), "%pay%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
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
        command!(ctx, commands::release::create, input).map(Release)
    }

    /// Fails with CONFLICT unless expectedRevision equals the current revision.
    async fn update_release(
        &self,
        ctx: &Context<'_>,
        input: UpdateReleaseInput,
    ) -> ApiResult<Release> {
        command!(ctx, commands::release::update, input).map(Release)
    }

    /// Moves a release along its lifecycle; see lifecycle.md.
    async fn transition_release(
        &self,
        ctx: &Context<'_>,
        input: TransitionReleaseInput,
    ) -> ApiResult<Release> {
        command!(ctx, commands::release::transition, input).map(Release)
    }

    /// Adds a unit of scope to a release that is not REVIEWED or CANCELLED.
    async fn add_release_item(
        &self,
        ctx: &Context<'_>,
        input: AddReleaseItemInput,
    ) -> ApiResult<ReleaseItem> {
        command!(ctx, commands::release::add_item, input).map(ReleaseItem)
    }
}
