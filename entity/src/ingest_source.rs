//! A sender of deployment or incident events, bound to one program (ingestion.md).

use sea_orm::entity::prelude::*;

use crate::enums::IngestKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ingest_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique; the endpoint is `POST /v1/ingest/{key}`.
    #[sea_orm(unique)]
    pub key: String,
    pub kind: IngestKind,
    pub program_id: i64,
    pub enabled: bool,
    pub attribution_window_hours: i32,
    /// Hex of 32 random bytes; never leaves the server after it is first shown.
    pub secret: String,
    /// The secret before the latest rotation, valid until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
