//! Releases: the object (here), its list with filters, ordering and lookups (`list`), and
//! the mutations with their inputs (`mutation`).

mod list;
mod mutation;

use async_graphql::{Context, ID, Object};
use entity::release_party::PartyRole;
use entity::{release, release_event};

use crate::domain::gates::GateState;
use crate::domain::readiness::readiness;
use crate::domain::release_notes::release_notes;
use crate::error::ApiResult;
use crate::graphql::context::{loaders, reads, viewer};
use crate::graphql::dependency::ReleaseDependency;
use crate::graphql::deployment::Deployment;
use crate::graphql::enums::{DeploymentStrategy, ReleaseStatus, ReleaseType, RiskLevel};
use crate::graphql::event::ReleaseEventConnection;
use crate::graphql::forecast::{ReleaseForecast, release_forecast};
use crate::graphql::incident::Incident;
use crate::graphql::loaders::{children, required};
use crate::graphql::pagination::{PageArgs, paged};
use crate::graphql::program::Program;
use crate::graphql::quality::{Approval, QualityGate, Readiness, ReleaseItem};
use crate::graphql::review::ReleaseOutcome;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries::dependencies::{Direction, Link};
use crate::queries::page::{Key, Ordering, Position};
use crate::queries::{self, derived};

pub use list::{ReleaseConnection, ReleaseFilter, ReleaseOrder, ReleaseQuery, release_connection};
pub use mutation::ReleaseMutation;

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

    /// The release's dependency links in `direction`, visible or not.
    async fn links(&self, ctx: &Context<'_>, direction: Direction) -> ApiResult<Vec<Link>> {
        let loaders = loaders(ctx)?;
        let loader = match direction {
            Direction::DependsOn => &loaders.depends_on,
            Direction::Dependents => &loaders.dependents,
        };
        Ok(loader.load_one(self.0.id).await?.unwrap_or_default())
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
        ids::encode(NodeType::Release, self.0.id).into()
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

    /// When it will be delivered, from comparable releases (metrics.md, Forecast); null
    /// unless under way with a plannedEnd and enough comparable releases.
    async fn forecast(&self, ctx: &Context<'_>) -> ApiResult<Option<ReleaseForecast>> {
        release_forecast(ctx, &self.0).await
    }

    /// The commit the release is built from (a git sha); ingested deployments match on it.
    async fn source_revision(&self) -> Option<&str> {
        self.0.source_revision.as_deref()
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
        let scope = &viewer(ctx)?.scope;
        let open = self
            .links(ctx, Direction::DependsOn)
            .await?
            .iter()
            .filter(|link| !link.met())
            .map(|link| link.blocker(scope))
            .collect();
        Ok(Readiness(readiness(
            &gates,
            &approvals,
            self.0.rollback_plan.as_deref(),
            open,
        )))
    }

    /// Releases that must reach production before this one.
    async fn depends_on(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReleaseDependency>> {
        let scope = &viewer(ctx)?.scope;
        let links = self.links(ctx, Direction::DependsOn).await?;
        Ok(links
            .into_iter()
            .filter(|link| scope.contains(link.other.program_id))
            .map(|link| ReleaseDependency {
                release: self.0.clone(),
                depends_on: link.other,
                row: link.row,
            })
            .collect())
    }

    /// Releases waiting on this one.
    async fn dependents(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReleaseDependency>> {
        let scope = &viewer(ctx)?.scope;
        let links = self.links(ctx, Direction::Dependents).await?;
        Ok(links
            .into_iter()
            .filter(|link| scope.contains(link.other.program_id))
            .map(|link| ReleaseDependency {
                release: link.other,
                depends_on: self.0.clone(),
                row: link.row,
            })
            .collect())
    }

    /// Dependencies on releases the caller may not see.
    async fn hidden_dependencies(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let scope = &viewer(ctx)?.scope;
        let links = self.links(ctx, Direction::DependsOn).await?;
        let hidden = links
            .iter()
            .filter(|link| !scope.contains(link.other.program_id))
            .count();
        Ok(i32::try_from(hidden).unwrap_or(i32::MAX))
    }

    /// The audit trail, oldest first.
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ReleaseEventConnection> {
        let select = queries::events_of(self.0.id);
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
        let page = paged(ctx, reads(ctx)?, select, &ordering, "ID_ASC", &page).await?;
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
