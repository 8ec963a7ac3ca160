//! The audit trail of ADMIN commands (programs, environments, freeze windows) and of the
//! management of ingest sources and notification channels.

use sea_orm::entity::prelude::*;

/// What an ADMIN (or, for ingest sources, a release manager) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum AdminAction {
    #[sea_orm(string_value = "PROGRAM_CREATED")]
    ProgramCreated,
    #[sea_orm(string_value = "ENVIRONMENT_CREATED")]
    EnvironmentCreated,
    #[sea_orm(string_value = "FREEZE_WINDOW_CREATED")]
    FreezeWindowCreated,
    #[sea_orm(string_value = "INGEST_SOURCE_CREATED")]
    IngestSourceCreated,
    #[sea_orm(string_value = "INGEST_SOURCE_UPDATED")]
    IngestSourceUpdated,
    #[sea_orm(string_value = "INGEST_SECRET_ROTATED")]
    IngestSecretRotated,
    #[sea_orm(string_value = "NOTIFICATION_CHANNEL_CREATED")]
    NotificationChannelCreated,
    #[sea_orm(string_value = "NOTIFICATION_CHANNEL_UPDATED")]
    NotificationChannelUpdated,
    #[sea_orm(string_value = "NOTIFICATION_SECRET_ROTATED")]
    NotificationSecretRotated,
    #[sea_orm(string_value = "NOTIFICATION_CHANNEL_DELETED")]
    NotificationChannelDeleted,
    #[sea_orm(string_value = "BENCHMARK_DEFINED")]
    BenchmarkDefined,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admin_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub action: AdminAction,
    /// The object: a program key, an environment name, a freeze window's id or an ingest
    /// source's key.
    pub subject: String,
    /// The caller's token subject.
    pub actor: String,
    /// The object as created, as JSON.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
