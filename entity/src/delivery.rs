//! One request an ingest source sent, and what it became.

use sea_orm::entity::prelude::*;

use crate::enums::DeliveryStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: i64,
    /// The source's program, for lists and scoping.
    pub program_id: i64,
    /// The sender's delivery id, unique per source.
    pub external_id: String,
    /// The fact the delivery reported (GitHub's status id, GitLab's deployment and status,
    /// PagerDuty's event id), unique per source: a request resent under a new delivery id
    /// is a repeat.
    pub fact_id: Option<String>,
    pub event_type: String,
    pub received_at: i64,
    pub status: DeliveryStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub error_code: Option<String>,
    pub release_id: Option<i64>,
    pub deployment_id: Option<i64>,
    pub incident_id: Option<i64>,
    /// The relm environment a deployment event named, when it resolved to one.
    pub environment_id: Option<i64>,
    /// The raw body as received.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// The headers relm read the body with (never a signature or token), as a JSON object,
    /// so the delivery can be read again when it is linked to a release.
    #[sea_orm(column_type = "Text")]
    pub headers: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
