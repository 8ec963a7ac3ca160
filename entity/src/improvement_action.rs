//! A continuous-improvement action raised by a review.

use sea_orm::entity::prelude::*;

use crate::enums::ActionStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "improvement_actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    pub title: String,
    pub owner: Option<String>,
    pub due_date: Option<Date>,
    pub status: ActionStatus,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
