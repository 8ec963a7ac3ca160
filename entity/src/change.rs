//! The change feed that keeps in-memory analytics fresh in every relm process.

use sea_orm::entity::prelude::*;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ChangeKind {
    /// A release or anything that belongs to it (`release_id`).
    #[sea_orm(string_value = "RELEASE")]
    Release,
    /// An incident without a release (`incident_id`).
    #[sea_orm(string_value = "INCIDENT")]
    Incident,
    /// A delivery (`delivery_id`), for compliance.
    #[sea_orm(string_value = "DELIVERY")]
    Delivery,
    /// The list of programs.
    #[sea_orm(string_value = "PROGRAM")]
    Program,
    /// The benchmark editions.
    #[sea_orm(string_value = "BENCHMARK")]
    Benchmark,
    /// Anything, in bulk (demo data): reload everything.
    #[sea_orm(string_value = "BULK")]
    Bulk,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: ChangeKind,
    pub release_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub at: i64,
    pub delivery_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
