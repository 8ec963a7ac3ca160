use sea_orm_migration::{prelude::*, schema::*};

/// Continuous improvement (metrics.md): benchmark editions an ADMIN defines, one row each
/// with its twelve thresholds; and what an improvement action sets out to move (`target`,
/// a metric's name) and when it took effect (`effective_at`).
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The threshold columns: each metric's elite, high and medium.
const THRESHOLDS: [Benchmarks; 12] = [
    Benchmarks::DeploymentFrequencyElite,
    Benchmarks::DeploymentFrequencyHigh,
    Benchmarks::DeploymentFrequencyMedium,
    Benchmarks::LeadTimeElite,
    Benchmarks::LeadTimeHigh,
    Benchmarks::LeadTimeMedium,
    Benchmarks::ChangeFailureRateElite,
    Benchmarks::ChangeFailureRateHigh,
    Benchmarks::ChangeFailureRateMedium,
    Benchmarks::TimeToRestoreElite,
    Benchmarks::TimeToRestoreHigh,
    Benchmarks::TimeToRestoreMedium,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Benchmarks::Table)
            .col(big_pk_auto(Benchmarks::Id))
            .col(string_uniq(Benchmarks::Name));
        for column in THRESHOLDS {
            table.col(double(column));
        }
        table
            .col(string(Benchmarks::DefinedBy))
            .col(big_integer(Benchmarks::DefinedAt));
        manager.create_table(table.to_owned()).await?;
        for column in [
            string_null(ImprovementActions::Target),
            big_integer_null(ImprovementActions::EffectiveAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ImprovementActions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ImprovementActions::Target, ImprovementActions::EffectiveAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ImprovementActions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Benchmarks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Benchmarks {
    Table,
    Id,
    Name,
    DeploymentFrequencyElite,
    DeploymentFrequencyHigh,
    DeploymentFrequencyMedium,
    LeadTimeElite,
    LeadTimeHigh,
    LeadTimeMedium,
    ChangeFailureRateElite,
    ChangeFailureRateHigh,
    ChangeFailureRateMedium,
    TimeToRestoreElite,
    TimeToRestoreHigh,
    TimeToRestoreMedium,
    DefinedBy,
    DefinedAt,
}

#[derive(DeriveIden)]
enum ImprovementActions {
    Table,
    Target,
    EffectiveAt,
}
