//! Reads of ingestion (ingestion.md): sources and deliveries, for ANALYST and up; a
//! delivery's raw payload for RELEASE_MANAGER and up. Whatever asks for them through a
//! [`Visible`] gets `FORBIDDEN` below those roles.

use std::collections::HashMap;

use entity::enums::DeliveryStatus;
use entity::{delivery, ingest_alias, ingest_source};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::Visible;
use crate::auth::Role;
use crate::error::ApiResult;

/// Narrows a list of deliveries; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// One source's deliveries.
    pub source_id: Option<i64>,
    pub source_keys: Option<Vec<String>>,
    pub statuses: Option<Vec<DeliveryStatus>>,
    /// receivedAt in `[from, to)`.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// The source with `key`, enabled or not, for the ingest handler (which has no caller
/// yet: the key and the signature are what it checks).
pub async fn source_by_key<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<ingest_source::Model>, DbErr> {
    ingest_source::Entity::find()
        .filter(ingest_source::Column::Key.eq(key))
        .one(db)
        .await
}

/// The delivery of `source` received first with this delivery id or fact: what a repeat
/// is answered with.
pub async fn first_delivery<C: ConnectionTrait>(
    db: &C,
    source: i64,
    delivery_id: &str,
    fact_id: Option<&str>,
) -> Result<Option<delivery::Model>, DbErr> {
    let mut seen = Condition::any().add(delivery::Column::ExternalId.eq(delivery_id));
    if let Some(fact_id) = fact_id {
        seen = seen.add(delivery::Column::FactId.eq(fact_id));
    }
    delivery::Entity::find()
        .filter(delivery::Column::SourceId.eq(source))
        .filter(seen)
        .order_by_asc(delivery::Column::Id)
        .one(db)
        .await
}

/// The sources in scope, by key.
pub async fn sources<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
) -> ApiResult<Vec<ingest_source::Model>> {
    Ok(visible
        .ingest_sources()?
        .order_by_asc(ingest_source::Column::Key)
        .all(visible.db())
        .await?)
}

/// The deliveries in scope that `filter` keeps.
pub fn deliveries<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    filter: DeliveryFilter,
) -> ApiResult<Select<delivery::Entity>> {
    let mut select = visible.deliveries()?;
    if let Some(id) = filter.source_id {
        select = select.filter(delivery::Column::SourceId.eq(id));
    }
    if let Some(keys) = filter.source_keys {
        select = select.filter(
            delivery::Column::SourceId.in_subquery(
                Query::select()
                    .column(ingest_source::Column::Id)
                    .from(ingest_source::Entity)
                    .and_where(ingest_source::Column::Key.is_in(keys))
                    .to_owned(),
            ),
        );
    }
    if let Some(statuses) = filter.statuses {
        select = select.filter(delivery::Column::Status.is_in(statuses));
    }
    if let Some(from) = filter.from {
        select = select.filter(delivery::Column::ReceivedAt.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(delivery::Column::ReceivedAt.lt(to));
    }
    Ok(select)
}

/// A delivery's raw body: RELEASE_MANAGER and up.
pub fn payload<'d, C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    delivery: &'d delivery::Model,
) -> ApiResult<&'d str> {
    visible.require(Role::ReleaseManager)?;
    Ok(&delivery.payload)
}

/// The source an ingested deployment came from: ANALYST and up, like every read of sources.
pub fn source_of<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    deployment: &entity::deployment::Model,
) -> ApiResult<Option<i64>> {
    visible.require(Role::Analyst)?;
    Ok(deployment.source_id)
}

/// The environment aliases of many sources at once, each source's by external name.
pub async fn aliases(
    db: &impl ConnectionTrait,
    sources: &[i64],
) -> ApiResult<HashMap<i64, Vec<ingest_alias::Model>>> {
    let rows = ingest_alias::Entity::find()
        .filter(ingest_alias::Column::SourceId.is_in(sources.iter().copied()))
        .order_by_asc(ingest_alias::Column::External)
        .all(db)
        .await?;
    let mut by_source: HashMap<i64, Vec<ingest_alias::Model>> =
        sources.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        by_source.entry(row.source_id).or_default().push(row);
    }
    Ok(by_source)
}

/// When each of many sources last delivered (sources without deliveries left out).
pub async fn last_deliveries(
    db: &impl ConnectionTrait,
    sources: &[i64],
) -> ApiResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, Option<i64>)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::SourceId)
        .column_as(delivery::Column::ReceivedAt.max(), "latest")
        .filter(delivery::Column::SourceId.is_in(sources.iter().copied()))
        .group_by(delivery::Column::SourceId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(source, latest)| Some((source, latest?)))
        .collect())
}
