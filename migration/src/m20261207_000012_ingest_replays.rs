use sea_orm_migration::{prelude::*, schema::*};

/// Replays (ingestion.md): a delivery remembers the fact it reported (GitHub's
/// `deployment_status.id`, GitLab's deployment and status, PagerDuty's event id), unique per
/// source, so a captured request resent under a new delivery id applies nothing; a
/// deployment or incident remembers when the last event relm applied to it occurred, so an
/// older event cannot undo a later state.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(string_null(Deliveries::FactId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_source_fact")
                    .table(Deliveries::Table)
                    .col(Deliveries::SourceId)
                    .col(Deliveries::FactId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for table in [Deployments::Table.into_iden(), Incidents::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(big_integer_null(LastEventAt))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Deployments::Table.into_iden(), Incidents::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(LastEventAt)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("deliveries_source_fact")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .drop_column(Deliveries::FactId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    SourceId,
    FactId,
}

#[derive(DeriveIden)]
enum Deployments {
    Table,
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
}

#[derive(DeriveIden)]
struct LastEventAt;
