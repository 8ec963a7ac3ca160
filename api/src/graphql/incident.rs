//! Production incidents.

use async_graphql::{Context, ID, InputObject, Object};
use entity::incident;
use sea_orm::QueryFilter;

use crate::commands;
use crate::domain::validate::Name;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, loaders, visible};
use crate::graphql::deployment::Deployment;
use crate::graphql::enums::Severity;
use crate::graphql::loaders::required;
use crate::graphql::pagination::{PageArgs, connection, paged};
use crate::graphql::program::Program;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries::page::{Key, Ordering, Position};
use crate::queries::span::Span;

/// A production incident, attributed to a release or deployment when known.
#[derive(Clone)]
pub struct Incident(pub incident::Model);

#[Object]
impl Incident {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Incident, self.0.id).into()
    }

    async fn program(&self, ctx: &Context<'_>) -> ApiResult<Program> {
        Ok(Program(
            required(&loaders(ctx)?.program, self.0.program_id).await?,
        ))
    }

    async fn release(&self, ctx: &Context<'_>) -> ApiResult<Option<Release>> {
        match self.0.release_id {
            Some(id) => Ok(Some(Release(required(&loaders(ctx)?.release, id).await?))),
            None => Ok(None),
        }
    }

    /// The deployment that caused it, when known.
    async fn deployment(&self, ctx: &Context<'_>) -> ApiResult<Option<Deployment>> {
        match self.0.deployment_id {
            Some(id) => Ok(Some(Deployment(
                required(&loaders(ctx)?.deployment, id).await?,
            ))),
            None => Ok(None),
        }
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn severity(&self) -> Severity {
        self.0.severity.into()
    }

    /// False for incidents not caused by a change (e.g. a provider outage).
    async fn caused_by_change(&self) -> bool {
        self.0.caused_by_change
    }

    async fn opened_at(&self) -> Timestamp {
        Timestamp(self.0.opened_at)
    }

    async fn resolved_at(&self) -> Option<Timestamp> {
        self.0.resolved_at.map(Timestamp)
    }
}

/// An incident, attributed to a program, a release or a deployment.
#[derive(InputObject)]
pub struct RecordIncidentInput {
    /// Required unless releaseId or deploymentId is given.
    pub program_key: Option<String>,
    pub release_id: Option<ID>,
    pub deployment_id: Option<ID>,
    pub title: String,
    pub severity: Severity,
    #[graphql(default_with = "Some(true)")]
    pub caused_by_change: Option<bool>,
    pub opened_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

/// The end of an incident.
#[derive(InputObject)]
pub struct ResolveIncidentInput {
    pub incident_id: ID,
    pub resolved_at: Timestamp,
}

impl TryFrom<RecordIncidentInput> for commands::incident::NewIncident {
    type Error = ApiError;

    fn try_from(input: RecordIncidentInput) -> ApiResult<Self> {
        let release_id = input.release_id.as_ref();
        let deployment_id = input.deployment_id.as_ref();
        Ok(Self {
            program_key: input.program_key,
            release_id: release_id
                .map(|id| ids::decode(id, NodeType::Release, "releaseId"))
                .transpose()?,
            deployment_id: deployment_id
                .map(|id| ids::decode(id, NodeType::Deployment, "deploymentId"))
                .transpose()?,
            title: Name::parse("title", &input.title)?,
            severity: input.severity.into(),
            caused_by_change: input.caused_by_change.unwrap_or(true),
            opened_at: input.opened_at.micros(),
            resolved_at: input.resolved_at.map(Timestamp::micros),
            origin: None,
            note: None,
        })
    }
}

impl TryFrom<ResolveIncidentInput> for commands::incident::Resolution {
    type Error = ApiError;

    fn try_from(input: ResolveIncidentInput) -> ApiResult<Self> {
        Ok(Self {
            incident_id: ids::decode(&input.incident_id, NodeType::Incident, "incidentId")?,
            resolved_at: input.resolved_at.micros(),
            note: None,
        })
    }
}

/// Fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateIncidentInput {
    pub incident_id: ID,
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub caused_by_change: Option<bool>,
    /// Must be a deployment of the incident's program; the incident then takes its release.
    pub deployment_id: Option<ID>,
}

impl TryFrom<UpdateIncidentInput> for commands::incident::IncidentChanges {
    type Error = ApiError;

    fn try_from(input: UpdateIncidentInput) -> ApiResult<Self> {
        Ok(Self {
            incident_id: ids::decode(&input.incident_id, NodeType::Incident, "incidentId")?,
            title: input.title.map(|t| Name::parse("title", &t)).transpose()?,
            severity: input.severity.map(Into::into),
            caused_by_change: input.caused_by_change,
            deployment_id: input
                .deployment_id
                .as_ref()
                .map(|id| ids::decode(id, NodeType::Deployment, "deploymentId"))
                .transpose()?,
        })
    }
}

#[derive(Default)]
pub struct IncidentMutation;

#[Object]
impl IncidentMutation {
    /// Records an incident; allowed whatever the release's status.
    async fn record_incident(
        &self,
        ctx: &Context<'_>,
        input: RecordIncidentInput,
    ) -> ApiResult<Incident> {
        let input = commands::incident::NewIncident::try_from(input)?;
        command!(ctx, commands::incident::record, input).map(Incident)
    }

    /// Resolves an open incident.
    async fn resolve_incident(
        &self,
        ctx: &Context<'_>,
        input: ResolveIncidentInput,
    ) -> ApiResult<Incident> {
        let input = commands::incident::Resolution::try_from(input)?;
        command!(ctx, commands::incident::resolve, input).map(Incident)
    }

    /// Corrects an incident's attribution or description; RELEASE_MANAGER of the program, or ADMIN.
    async fn update_incident(
        &self,
        ctx: &Context<'_>,
        input: UpdateIncidentInput,
    ) -> ApiResult<Incident> {
        let input = commands::incident::IncidentChanges::try_from(input)?;
        command!(ctx, commands::incident::update, input).map(Incident)
    }
}

connection!(
    IncidentConnection,
    IncidentEdge,
    Incident,
    "A page of incidents."
);

/// Which incidents Query.incidents lists.
#[derive(InputObject, Default)]
pub struct IncidentFilter {
    pub program_keys: Option<Vec<String>>,
    /// Incidents opened in [from, to); both optional.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub severities: Option<Vec<Severity>>,
    pub caused_by_change: Option<bool>,
    /// True for unresolved incidents only, false for resolved only.
    pub open: Option<bool>,
}

#[derive(Default)]
pub struct IncidentQuery;

#[Object]
impl IncidentQuery {
    /// Incidents the caller may see, newest opened first (keyset pages, at most 100).
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, None, child_complexity)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        filter: Option<IncidentFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IncidentConnection> {
        let filter = filter.unwrap_or_default();
        let mut visible = visible(ctx)?;
        if let Some(keys) = &filter.program_keys {
            visible = visible.narrowed("programKeys", keys).await?;
        }
        let narrowing = crate::queries::incidents::IncidentFilter {
            opened: Span::new(
                filter.from.map(Timestamp::micros),
                filter.to.map(Timestamp::micros),
            ),
            severities: filter
                .severities
                .map(|s| s.into_iter().map(Into::into).collect()),
            caused_by_change: filter.caused_by_change,
            open: filter.open,
        };
        let ordering = Ordering {
            column: Some(incident::Column::OpenedAt),
            nullable: false,
            ascending: false,
            id: incident::Column::Id,
            position: |i: &incident::Model| Position {
                key: Key::Int(i.opened_at),
                id: i.id,
            },
        };
        let page = PageArgs {
            first,
            after,
            last: None,
            before: None,
        };
        let select = visible.incidents().filter(narrowing.condition());
        let page = paged(
            ctx,
            visible.db(),
            select,
            &ordering,
            "OPENED_AT_DESC",
            &page,
        )
        .await?;
        Ok(IncidentConnection::new(page, Incident))
    }
}
