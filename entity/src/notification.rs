//! One notification of a channel: an outbox row written with its event, and then the log
//! of its attempts. A test notification has no event.

use sea_orm::entity::prelude::*;

use crate::enums::NotificationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    pub event_id: Option<i64>,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_http_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// Until when a process holds it to send it.
    pub claimed_until: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
