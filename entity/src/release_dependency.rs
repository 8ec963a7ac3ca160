//! A release that may only reach production after another has (communication.md).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "release_dependencies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The release that waits.
    pub release_id: i64,
    /// The release it waits on.
    pub depends_on_id: i64,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
