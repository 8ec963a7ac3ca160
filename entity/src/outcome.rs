//! The post-implementation review of a release; at most one per release.

use sea_orm::entity::prelude::*;

use crate::enums::OutcomeResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outcomes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub release_id: i64,
    pub result: OutcomeResult,
    pub objectives_met: bool,
    pub defects_escaped: i32,
    pub customer_impact: Option<String>,
    pub summary: String,
    pub lessons_learned: Option<String>,
    pub reviewed_at: i64,
    pub reviewed_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
