//! Lists of releases: the filter and ordering inputs, the connection, and the lookups.

use async_graphql::{Context, Enum, InputObject, Object};
use entity::release;
use sea_orm::{ColumnTrait, QueryFilter};

use super::Release;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{loaders, visible};
use crate::graphql::enums::{ReleaseStatus, ReleaseType};
use crate::graphql::pagination::{PageArgs, connection, paged};
use crate::graphql::scalars::Timestamp;
use crate::queries::releases::{self, ReleaseSort};

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
    let dependencies = async {
        if wants("readiness") || wants("dependsOn") || wants("hiddenDependencies") {
            loaders.depends_on.load_many(ids()).await?;
        }
        if wants("dependents") {
            loaders.dependents.load_many(ids()).await?;
        }
        Ok(())
    };
    let forecasts = async {
        if wants("forecast") {
            crate::graphql::forecast::prefetch(ctx, rows).await?;
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
        outcomes,
        dependencies,
        forecasts
    )?;
    Ok(())
}

#[derive(Default)]
pub struct ReleaseQuery;

#[Object]
impl ReleaseQuery {
    /// Releases the caller may see; newest first unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments, reason = "the contract's arguments")]
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, last, child_complexity)")]
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

    /// The teams named on releases the caller may see (of these programs when given), by
    /// name: the values `ReleaseFilter.team` and `MetricsFilter.team` can take.
    async fn teams(
        &self,
        ctx: &Context<'_>,
        program_keys: Option<Vec<String>>,
    ) -> ApiResult<Vec<String>> {
        let mut visible = visible(ctx)?;
        if let Some(keys) = &program_keys {
            visible = visible.narrowed("programKeys", keys).await?;
        }
        visible.team_names().await
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
