//! A production incident, attributed to a release or deployment when known.

use sea_orm::entity::prelude::*;

use crate::enums::Severity;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_id: i64,
    pub release_id: Option<i64>,
    pub deployment_id: Option<i64>,
    pub title: String,
    pub severity: Severity,
    pub caused_by_change: bool,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    /// The sender's id of an ingested incident, unique per source.
    pub external_id: Option<String>,
    /// The ingest source it came from.
    pub source_id: Option<i64>,
    /// When the last event an ingest source reported about it occurred (the event's own
    /// time); an older event is stale and changes nothing.
    pub last_event_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
