//! A deployment of a release to an environment.

use sea_orm::entity::prelude::*;

use crate::enums::{DeploymentStatus, DeploymentStrategy};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    pub environment_id: i64,
    pub status: DeploymentStatus,
    pub strategy: DeploymentStrategy,
    pub stage: Option<String>,
    pub is_rollback: bool,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The sender's id of an ingested deployment, unique per source.
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
