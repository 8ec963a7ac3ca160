use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deployments::Table)
                    .col(big_pk_auto(Deployments::Id))
                    .col(big_integer(Deployments::ReleaseId))
                    .col(big_integer(Deployments::EnvironmentId))
                    .col(string(Deployments::Status))
                    .col(string(Deployments::Strategy))
                    .col(string_null(Deployments::Stage))
                    .col(boolean(Deployments::IsRollback))
                    .col(big_integer(Deployments::StartedAt))
                    .col(big_integer_null(Deployments::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deployments_release")
                            .from(Deployments::Table, Deployments::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deployments_environment")
                            .from(Deployments::Table, Deployments::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deployments_release")
                    .table(Deployments::Table)
                    .col(Deployments::ReleaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deployments_finished_at")
                    .table(Deployments::Table)
                    .col(Deployments::FinishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deployments_started_at")
                    .table(Deployments::Table)
                    .col(Deployments::StartedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Incidents::Table)
                    .col(big_pk_auto(Incidents::Id))
                    .col(big_integer(Incidents::ProgramId))
                    .col(big_integer_null(Incidents::ReleaseId))
                    .col(big_integer_null(Incidents::DeploymentId))
                    .col(string(Incidents::Title))
                    .col(string(Incidents::Severity))
                    .col(boolean(Incidents::CausedByChange))
                    .col(big_integer(Incidents::OpenedAt))
                    .col(big_integer_null(Incidents::ResolvedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incidents_program")
                            .from(Incidents::Table, Incidents::ProgramId)
                            .to(Programs::Table, Programs::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incidents_release")
                            .from(Incidents::Table, Incidents::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_incidents_deployment")
                            .from(Incidents::Table, Incidents::DeploymentId)
                            .to(Deployments::Table, Deployments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_incidents_program", Incidents::ProgramId),
            ("idx_incidents_release", Incidents::ReleaseId),
            ("idx_incidents_opened_at", Incidents::OpenedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Incidents::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Incidents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Deployments::Table).to_owned())
            .await
    }
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
    Id,
}

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Id,
    ReleaseId,
    EnvironmentId,
    Status,
    Strategy,
    Stage,
    IsRollback,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    Id,
    ProgramId,
    ReleaseId,
    DeploymentId,
    Title,
    Severity,
    CausedByChange,
    OpenedAt,
    ResolvedAt,
}
