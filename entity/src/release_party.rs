//! A team or supplier that takes part in a release, in the order given.

use sea_orm::entity::prelude::*;

/// Whether the party is one of the release's teams or one of its suppliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PartyRole {
    #[sea_orm(string_value = "TEAM")]
    Team,
    #[sea_orm(string_value = "SUPPLIER")]
    Supplier,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_parties")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    pub role: PartyRole,
    pub name: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
