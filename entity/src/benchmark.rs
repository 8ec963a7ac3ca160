//! A benchmark edition an ADMIN defined (metrics.md, *Benchmark editions*); the built-in
//! ones are not stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "benchmarks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub deployment_frequency_elite: f64,
    pub deployment_frequency_high: f64,
    pub deployment_frequency_medium: f64,
    pub lead_time_elite: f64,
    pub lead_time_high: f64,
    pub lead_time_medium: f64,
    pub change_failure_rate_elite: f64,
    pub change_failure_rate_high: f64,
    pub change_failure_rate_medium: f64,
    pub time_to_restore_elite: f64,
    pub time_to_restore_high: f64,
    pub time_to_restore_medium: f64,
    /// The token subject of the ADMIN who defined it last.
    pub defined_by: String,
    pub defined_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
