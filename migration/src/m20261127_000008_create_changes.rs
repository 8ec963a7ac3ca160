use sea_orm_migration::{prelude::*, schema::*};

/// The change feed: one row per committed change that metrics depend on, so that every
/// relm process can refresh its in-memory analytics by reading what is new.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Changes::Table)
                    .col(big_pk_auto(Changes::Id))
                    .col(string(Changes::Kind))
                    .col(big_integer_null(Changes::ReleaseId))
                    .col(big_integer_null(Changes::IncidentId))
                    .col(big_integer(Changes::At))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Changes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    Id,
    Kind,
    ReleaseId,
    IncidentId,
    At,
}
