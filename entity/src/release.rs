//! A release of a program; its version is unique within the program.

use sea_orm::entity::prelude::*;

use crate::enums::{DeploymentStrategy, ReleaseStatus, ReleaseType, RiskLevel};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_id: i64,
    pub version: String,
    pub name: String,
    pub description: Option<String>,
    #[sea_orm(column_name = "type")]
    pub release_type: ReleaseType,
    pub risk: RiskLevel,
    pub strategy: DeploymentStrategy,
    pub status: ReleaseStatus,
    pub owner: Option<String>,
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
    pub rollback_plan: Option<String>,
    pub revision: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// The commit the release is built from; ingested deployments match on it.
    pub source_revision: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
