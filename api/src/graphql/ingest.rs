//! Ingestion (ingestion.md): sources, their deliveries, and managing both.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{delivery, ingest_source};

use crate::commands;
use crate::commands::source::{Alias, NewSource, Rotation, SourceChanges, WithSecret};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, data, loaders, visible};
use crate::graphql::deployment::Deployment;
use crate::graphql::enums::{DeliveryStatus, IngestKind};
use crate::graphql::environment::Environment;
use crate::graphql::incident::Incident;
use crate::graphql::loaders::required;
use crate::graphql::pagination::{PageArgs, connection, paged};
use crate::graphql::program::Program;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries;
use crate::queries::page::{Key, Ordering, Position};
use crate::secrets::{Cipher, NewSecret, Purpose};

/// A sender of deployment or incident events, bound to one program.
#[derive(Clone)]
pub struct IngestSource(pub ingest_source::Model);

/// A sender's name for a relm environment.
#[derive(SimpleObject, Clone)]
pub struct EnvironmentAlias {
    /// The sender's name for the environment, e.g. production.
    pub external: String,
    pub environment: Environment,
}

/// Newest first: the order of every list of deliveries.
fn newest_first() -> Ordering<delivery::Entity> {
    Ordering {
        column: Some(delivery::Column::ReceivedAt),
        nullable: false,
        ascending: false,
        id: delivery::Column::Id,
        position: |d| Position {
            key: Key::Int(d.received_at),
            id: d.id,
        },
    }
}

#[Object]
impl IngestSource {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::IngestSource, self.0.id).into()
    }

    /// Unique; the endpoint is POST /v1/ingest/{key}.
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn kind(&self) -> IngestKind {
        self.0.kind.into()
    }

    async fn program(&self, ctx: &Context<'_>) -> ApiResult<Program> {
        Ok(Program(
            required(&loaders(ctx)?.program, self.0.program_id).await?,
        ))
    }

    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    async fn environment_aliases(&self, ctx: &Context<'_>) -> ApiResult<Vec<EnvironmentAlias>> {
        let loaders = loaders(ctx)?;
        let aliases = loaders
            .aliases
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let mut environments = loaders
            .environment
            .load_many(aliases.iter().map(|a| a.environment_id))
            .await?;
        aliases
            .into_iter()
            .map(|alias| {
                let environment = environments.remove(&alias.environment_id).ok_or_else(|| {
                    ApiError::Internal("an alias names an environment that is missing".into())
                })?;
                Ok(EnvironmentAlias {
                    external: alias.external,
                    environment: Environment(environment),
                })
            })
            .collect()
    }

    async fn attribution_window_hours(&self) -> i32 {
        self.0.attribution_window_hours
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }

    async fn last_delivery_at(&self, ctx: &Context<'_>) -> ApiResult<Option<Timestamp>> {
        let latest = loaders(ctx)?.last_delivery.load_one(self.0.id).await?;
        Ok(latest.map(Timestamp))
    }

    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, last, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        statuses: Option<Vec<DeliveryStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<DeliveryConnection> {
        let filter = queries::ingest::DeliveryFilter {
            source_id: Some(self.0.id),
            statuses: statuses.map(|s| s.into_iter().map(Into::into).collect()),
            ..Default::default()
        };
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        deliveries(ctx, None, filter, page).await
    }
}

/// One request a source sent, and what it became.
#[derive(Clone)]
pub struct Delivery(pub delivery::Model);

#[Object]
impl Delivery {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Delivery, self.0.id).into()
    }

    async fn source(&self, ctx: &Context<'_>) -> ApiResult<IngestSource> {
        Ok(IngestSource(
            required(&loaders(ctx)?.source, self.0.source_id).await?,
        ))
    }

    /// The sender's delivery id, unique per source.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }

    /// e.g. deployment_status, Deployment Hook, incident.triggered, dev.cdevents.service.deployed.0.2.0
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    async fn received_at(&self) -> Timestamp {
        Timestamp(self.0.received_at)
    }

    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }

    /// Why it was UNMATCHED, REJECTED or IGNORED.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// The contract error code of a REJECTED delivery.
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }

    async fn release(&self, ctx: &Context<'_>) -> ApiResult<Option<Release>> {
        match self.0.release_id {
            Some(id) => Ok(loaders(ctx)?.release.load_one(id).await?.map(Release)),
            None => Ok(None),
        }
    }

    async fn deployment(&self, ctx: &Context<'_>) -> ApiResult<Option<Deployment>> {
        match self.0.deployment_id {
            Some(id) => Ok(loaders(ctx)?.deployment.load_one(id).await?.map(Deployment)),
            None => Ok(None),
        }
    }

    async fn incident(&self, ctx: &Context<'_>) -> ApiResult<Option<Incident>> {
        match self.0.incident_id {
            Some(id) => Ok(loaders(ctx)?.incident.load_one(id).await?.map(Incident)),
            None => Ok(None),
        }
    }

    /// The raw body as received. RELEASE_MANAGER or ADMIN only (FORBIDDEN otherwise).
    async fn payload(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        queries::ingest::payload(&visible(ctx)?, &self.0)
    }
}

connection!(
    DeliveryConnection,
    DeliveryEdge,
    Delivery,
    "A page of deliveries, newest first."
);

/// Narrows a list of deliveries; every condition given must hold.
#[derive(InputObject, Default)]
pub struct DeliveryFilter {
    pub program_keys: Option<Vec<String>>,
    pub source_keys: Option<Vec<String>>,
    pub statuses: Option<Vec<DeliveryStatus>>,
    /// receivedAt in [from, to).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl From<DeliveryFilter> for queries::ingest::DeliveryFilter {
    fn from(filter: DeliveryFilter) -> Self {
        Self {
            source_id: None,
            source_keys: filter.source_keys,
            statuses: filter
                .statuses
                .map(|s| s.into_iter().map(Into::into).collect()),
            from: filter.from.map(Timestamp::micros),
            to: filter.to.map(Timestamp::micros),
        }
    }
}

/// Deliveries the caller may see (of `program_keys` when given) that `filter` keeps,
/// newest first.
async fn deliveries(
    ctx: &Context<'_>,
    program_keys: Option<Vec<String>>,
    filter: queries::ingest::DeliveryFilter,
    page: PageArgs,
) -> ApiResult<DeliveryConnection> {
    let mut visible = visible(ctx)?;
    if let Some(keys) = &program_keys {
        visible = visible.narrowed("filter.programKeys", keys).await?;
    }
    let select = queries::ingest::deliveries(&visible, filter)?;
    let ordering = newest_first();
    let page = paged(
        ctx,
        visible.db(),
        select,
        &ordering,
        "RECEIVED_AT_DESC",
        &page,
    )
    .await?;
    Ok(DeliveryConnection::new(page, Delivery))
}

#[derive(Default)]
pub struct IngestQuery;

#[Object]
impl IngestQuery {
    /// ANALYST or above.
    async fn ingest_sources(
        &self,
        ctx: &Context<'_>,
        program_key: Option<String>,
    ) -> ApiResult<Vec<IngestSource>> {
        let mut visible = visible(ctx)?;
        if let Some(key) = program_key {
            visible = visible.narrowed("programKey", &[key]).await?;
        }
        let sources = queries::ingest::sources(&visible).await?;
        Ok(sources.into_iter().map(IngestSource).collect())
    }

    /// ANALYST or above; newest first.
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, last, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        filter: Option<DeliveryFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<DeliveryConnection> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        let filter = filter.unwrap_or_default();
        let program_keys = filter.program_keys.clone();
        deliveries(ctx, program_keys, filter.into(), page).await
    }
}

#[derive(InputObject)]
pub struct EnvironmentAliasInput {
    pub external: String,
    /// A relm environment name.
    pub environment: String,
}

impl From<EnvironmentAliasInput> for Alias {
    fn from(input: EnvironmentAliasInput) -> Self {
        Self {
            external: input.external,
            environment: input.environment,
        }
    }
}

#[derive(InputObject)]
pub struct CreateIngestSourceInput {
    pub program_key: String,
    pub key: String,
    pub kind: IngestKind,
    #[graphql(default_with = "Some(Vec::new())")]
    pub environment_aliases: Option<Vec<EnvironmentAliasInput>>,
    #[graphql(default_with = "Some(24)")]
    pub attribution_window_hours: Option<i32>,
}

/// Fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateIngestSourceInput {
    pub source_id: ID,
    pub enabled: Option<bool>,
    /// Replaces every alias when given.
    pub environment_aliases: Option<Vec<EnvironmentAliasInput>>,
    pub attribution_window_hours: Option<i32>,
}

#[derive(InputObject)]
pub struct RotateIngestSecretInput {
    pub source_id: ID,
}

#[derive(InputObject)]
pub struct LinkDeliveryInput {
    /// An UNMATCHED or REJECTED delivery (INVALID_TRANSITION otherwise).
    pub delivery_id: ID,
    pub release_id: ID,
}

/// The source and its secret; the secret is shown here once and never again.
#[derive(SimpleObject)]
pub struct IngestSecretPayload {
    pub source: IngestSource,
    pub secret: String,
}

impl From<WithSecret> for IngestSecretPayload {
    fn from(created: WithSecret) -> Self {
        Self {
            source: IngestSource(created.source),
            secret: created.secret,
        }
    }
}

impl NewSource {
    fn of(input: CreateIngestSourceInput, secret: NewSecret) -> Self {
        Self {
            secret,
            program_key: input.program_key,
            key: input.key,
            kind: input.kind.into(),
            aliases: input
                .environment_aliases
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            attribution_window_hours: input.attribution_window_hours.unwrap_or(24),
        }
    }
}

impl TryFrom<UpdateIngestSourceInput> for SourceChanges {
    type Error = ApiError;

    fn try_from(input: UpdateIngestSourceInput) -> ApiResult<Self> {
        Ok(Self {
            source_id: ids::decode(&input.source_id, NodeType::IngestSource, "sourceId")?,
            enabled: input.enabled,
            aliases: input
                .environment_aliases
                .map(|a| a.into_iter().map(Into::into).collect()),
            attribution_window_hours: input.attribution_window_hours,
        })
    }
}

impl TryFrom<LinkDeliveryInput> for commands::ingest::Link {
    type Error = ApiError;

    fn try_from(input: LinkDeliveryInput) -> ApiResult<Self> {
        Ok(Self {
            delivery_id: ids::decode(&input.delivery_id, NodeType::Delivery, "deliveryId")?,
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
        })
    }
}

#[derive(Default)]
pub struct IngestMutation;

#[Object]
impl IngestMutation {
    /// RELEASE_MANAGER of the program, or ADMIN.
    async fn create_ingest_source(
        &self,
        ctx: &Context<'_>,
        input: CreateIngestSourceInput,
    ) -> ApiResult<IngestSecretPayload> {
        let secret = data::<Cipher>(ctx)?.new_secret(Purpose::IngestSource)?;
        let input = NewSource::of(input, secret);
        command!(ctx, commands::source::create, input).map(Into::into)
    }

    async fn update_ingest_source(
        &self,
        ctx: &Context<'_>,
        input: UpdateIngestSourceInput,
    ) -> ApiResult<IngestSource> {
        let input = SourceChanges::try_from(input)?;
        command!(ctx, commands::source::update, input).map(IngestSource)
    }

    /// A new secret; the previous one keeps working for 24 hours.
    async fn rotate_ingest_secret(
        &self,
        ctx: &Context<'_>,
        input: RotateIngestSecretInput,
    ) -> ApiResult<IngestSecretPayload> {
        let input = Rotation {
            source_id: ids::decode(&input.source_id, NodeType::IngestSource, "sourceId")?,
            secret: data::<Cipher>(ctx)?.new_secret(Purpose::IngestSource)?,
        };
        command!(ctx, commands::source::rotate_secret, input).map(Into::into)
    }

    /// Applies an UNMATCHED or REJECTED delivery to the given release, under the usual rules.
    async fn link_delivery(
        &self,
        ctx: &Context<'_>,
        input: LinkDeliveryInput,
    ) -> ApiResult<Delivery> {
        let input = commands::ingest::Link::try_from(input)?;
        command!(ctx, commands::ingest::link, input).map(Delivery)
    }
}
