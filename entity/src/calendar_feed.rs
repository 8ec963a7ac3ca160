//! An iCalendar feed (communication.md): its key is stored only as its SHA-256, and it sees
//! what the token that made it saw.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_feeds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Hex SHA-256 of the feed key.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// The subject (within its issuer) of the token that made it.
    pub owner: String,
    /// That token's role claim.
    pub role: String,
    /// The programs the feed shows, as a JSON array of keys; `None` for every program.
    pub program_keys: Option<String>,
    /// The programs of the token that made it, as a JSON array of keys; `None` for every
    /// program: the feed never sees more.
    pub token_programs: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
