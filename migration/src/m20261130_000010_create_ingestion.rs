use sea_orm_migration::{prelude::*, schema::*};

/// Ingestion (ingestion.md): the sources that post events, their environment aliases, and
/// every delivery they sent with what it became. Deployments and incidents remember the
/// source and the sender's id they came with (unique per source, so a repeated event finds
/// them); releases gain the commit they are built from, which deliveries match on.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IngestSources::Table)
                    .col(big_pk_auto(IngestSources::Id))
                    .col(string_uniq(IngestSources::Key))
                    .col(string(IngestSources::Kind))
                    .col(big_integer(IngestSources::ProgramId))
                    .col(boolean(IngestSources::Enabled))
                    .col(integer(IngestSources::AttributionWindowHours))
                    .col(string(IngestSources::Secret))
                    .col(string_null(IngestSources::PreviousSecret))
                    .col(big_integer_null(IngestSources::PreviousSecretExpiresAt))
                    .col(big_integer(IngestSources::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ingest_sources_program")
                            .from(IngestSources::Table, IngestSources::ProgramId)
                            .to(Programs::Table, Programs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IngestAliases::Table)
                    .col(big_pk_auto(IngestAliases::Id))
                    .col(big_integer(IngestAliases::SourceId))
                    .col(string(IngestAliases::External))
                    .col(big_integer(IngestAliases::EnvironmentId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ingest_aliases_source")
                            .from(IngestAliases::Table, IngestAliases::SourceId)
                            .to(IngestSources::Table, IngestSources::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ingest_aliases_environment")
                            .from(IngestAliases::Table, IngestAliases::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ingest_aliases_source_external")
                    .table(IngestAliases::Table)
                    .col(IngestAliases::SourceId)
                    .col(IngestAliases::External)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(big_pk_auto(Deliveries::Id))
                    .col(big_integer(Deliveries::SourceId))
                    .col(big_integer(Deliveries::ProgramId))
                    .col(string(Deliveries::ExternalId))
                    .col(string(Deliveries::EventType))
                    .col(big_integer(Deliveries::ReceivedAt))
                    .col(string(Deliveries::Status))
                    .col(text_null(Deliveries::Reason))
                    .col(string_null(Deliveries::ErrorCode))
                    .col(big_integer_null(Deliveries::ReleaseId))
                    .col(big_integer_null(Deliveries::DeploymentId))
                    .col(big_integer_null(Deliveries::IncidentId))
                    .col(big_integer_null(Deliveries::EnvironmentId))
                    .col(text(Deliveries::Payload))
                    .col(text(Deliveries::Headers))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliveries_source")
                            .from(Deliveries::Table, Deliveries::SourceId)
                            .to(IngestSources::Table, IngestSources::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Exactly once: a second delivery with the same id fails here, not in a read.
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_source_external")
                    .table(Deliveries::Table)
                    .col(Deliveries::SourceId)
                    .col(Deliveries::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_program_status_received")
                    .table(Deliveries::Table)
                    .col(Deliveries::ProgramId)
                    .col(Deliveries::Status)
                    .col(Deliveries::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        // A source's latest delivery, read instead of kept on the source's row, which every
        // delivery of a busy sender would otherwise queue on.
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_source_received")
                    .table(Deliveries::Table)
                    .col(Deliveries::SourceId)
                    .col(Deliveries::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_received")
                    .table(Deliveries::Table)
                    .col(Deliveries::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        // The change feed names deliveries too, so compliance stays fresh in every process.
        manager
            .alter_table(
                Table::alter()
                    .table(Changes::Table)
                    .add_column(big_integer_null(Changes::DeliveryId))
                    .to_owned(),
            )
            .await?;
        // Freeze overrides are counted by compliance (metrics.md).
        manager
            .alter_table(
                Table::alter()
                    .table(ReleaseEvents::Table)
                    .add_column(boolean(ReleaseEvents::OverrodeFreeze).default(false))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for (table, column) in [
            (
                Releases::Table.into_iden(),
                Releases::SourceRevision.into_iden(),
            ),
            (
                Deployments::Table.into_iden(),
                Deployments::ExternalId.into_iden(),
            ),
            (
                Incidents::Table.into_iden(),
                Incidents::ExternalId.into_iden(),
            ),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(string_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for table in [Deployments::Table.into_iden(), Incidents::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(big_integer_null(Deployments::SourceId))
                        .to_owned(),
                )
                .await?;
        }
        for (name, table) in [
            (
                "idx_deployments_source_external",
                Deployments::Table.into_iden(),
            ),
            (
                "idx_incidents_source_external",
                Incidents::Table.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(Deployments::SourceId)
                        .col(Deployments::ExternalId)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (
                "idx_deployments_source_external",
                Deployments::Table.into_iden(),
            ),
            (
                "idx_incidents_source_external",
                Incidents::Table.into_iden(),
            ),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            (Changes::Table.into_iden(), Changes::DeliveryId.into_iden()),
            (
                ReleaseEvents::Table.into_iden(),
                ReleaseEvents::OverrodeFreeze.into_iden(),
            ),
            (
                Releases::Table.into_iden(),
                Releases::SourceRevision.into_iden(),
            ),
            (
                Deployments::Table.into_iden(),
                Deployments::ExternalId.into_iden(),
            ),
            (
                Deployments::Table.into_iden(),
                Deployments::SourceId.into_iden(),
            ),
            (
                Incidents::Table.into_iden(),
                Incidents::ExternalId.into_iden(),
            ),
            (
                Incidents::Table.into_iden(),
                Deployments::SourceId.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        for table in [
            Deliveries::Table.into_iden(),
            IngestAliases::Table.into_iden(),
            IngestSources::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum IngestSources {
    Table,
    Id,
    Key,
    Kind,
    ProgramId,
    Enabled,
    AttributionWindowHours,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IngestAliases {
    Table,
    Id,
    SourceId,
    External,
    EnvironmentId,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    SourceId,
    ProgramId,
    ExternalId,
    EventType,
    ReceivedAt,
    Status,
    Reason,
    ErrorCode,
    ReleaseId,
    DeploymentId,
    IncidentId,
    EnvironmentId,
    Payload,
    Headers,
}

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Environments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Releases {
    Table,
    SourceRevision,
}

#[derive(DeriveIden)]
enum Deployments {
    Table,
    SourceId,
    ExternalId,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    DeliveryId,
}

#[derive(DeriveIden)]
enum ReleaseEvents {
    Table,
    OverrodeFreeze,
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    ExternalId,
}
