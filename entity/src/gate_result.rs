//! One recorded result of a quality gate; every result is kept.

use sea_orm::entity::prelude::*;

use crate::enums::GateStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gate_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub gate_id: i64,
    pub status: GateStatus,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
    pub checked_at: i64,
    pub checked_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
