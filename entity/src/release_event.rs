//! One entry of a release's audit trail; never updated or deleted.

use sea_orm::entity::prelude::*;

use crate::enums::{ReleaseEventKind, ReleaseStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    pub kind: ReleaseEventKind,
    pub actor: String,
    pub at: i64,
    pub from_status: Option<ReleaseStatus>,
    pub to_status: Option<ReleaseStatus>,
    pub note: Option<String>,
    /// A transition into SCHEDULED or DEPLOYING that overrode a freeze window.
    pub overrode_freeze: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
