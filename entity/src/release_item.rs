//! A unit of scope that ships in a release.

use sea_orm::entity::prelude::*;

use crate::enums::ItemKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    pub title: String,
    pub kind: ItemKind,
    pub reference: Option<String>,
    pub committed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
