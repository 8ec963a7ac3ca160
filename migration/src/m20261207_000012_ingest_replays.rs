use sea_orm_migration::{prelude::*, schema::*};

/// Replays (ingestion.md): a delivery remembers the fact it reported (GitHub's
/// `deployment_status.id`, GitLab's deployment and status, PagerDuty's event id), unique per
/// source, so a captured request resent under a new delivery id applies nothing; a
/// deployment or incident remembers when the last event relm applied to it occurred, so an
/// older event cannot undo a later state. Rows from before are given what can be known
/// without reading payloads: PagerDuty's fact is its delivery id, and an ingested
/// deployment's or incident's last event is its latest time.
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
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE deliveries SET fact_id = external_id WHERE source_id IN \
             (SELECT id FROM ingest_sources WHERE kind = 'PAGERDUTY')",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE deployments SET last_event_at = COALESCE(finished_at, started_at) \
             WHERE source_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE incidents SET last_event_at = COALESCE(resolved_at, opened_at) \
             WHERE source_id IS NOT NULL",
        )
        .await?;
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
