//! A channel that sends release events out of relm (communication.md, *Notifications*).

use sea_orm::entity::prelude::*;

use crate::enums::NotificationKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_channels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: NotificationKind,
    /// Sealed with the server key: chat webhook URLs are bearer secrets.
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// The URL with its path and query replaced by `…`.
    pub url_hint: String,
    /// WEBHOOK only: the sealed `whsec_` secret.
    #[sea_orm(column_type = "Text", nullable)]
    pub secret: Option<String>,
    /// A channel for every program; otherwise its programs are its rows of
    /// `notification_channel_programs`.
    pub every_program: bool,
    /// The event kinds it gets, as `,KIND,KIND,`; `None` for all of them.
    #[sea_orm(column_type = "Text", nullable)]
    pub kinds: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Attempts that failed since the last success (or since it was enabled).
    pub failed_attempts: i32,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
