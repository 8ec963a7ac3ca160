//! A continuous-improvement action raised by a review.

use sea_orm::entity::prelude::*;

use crate::enums::{ActionStatus, MetricName};

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
    /// The metric it sets out to move (`MetricName`'s spelling).
    pub target: Option<MetricName>,
    /// When it took effect; None means closedAt once DONE.
    pub effective_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
