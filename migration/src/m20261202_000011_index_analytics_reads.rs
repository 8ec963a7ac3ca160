use sea_orm_migration::prelude::*;

/// Partial indexes for the two analytics reads that otherwise scan a large table for a
/// few rows: release events that overrode a freeze window, and deliveries that stayed
/// UNMATCHED or REJECTED. Each holds only the rows the read wants.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("release_events_overrode_freeze")
                    .table(ReleaseEvents::Table)
                    .col(ReleaseEvents::ReleaseId)
                    .and_where(Expr::col(ReleaseEvents::OverrodeFreeze).eq(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_unplanned")
                    .table(Deliveries::Table)
                    .col(Deliveries::Id)
                    .and_where(Expr::col(Deliveries::Status).is_in(["UNMATCHED", "REJECTED"]))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("deliveries_unplanned")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("release_events_overrode_freeze")
                    .table(ReleaseEvents::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ReleaseEvents {
    Table,
    ReleaseId,
    OverrodeFreeze,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    Status,
}
