use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outcomes::Table)
                    .col(big_pk_auto(Outcomes::Id))
                    .col(big_integer_uniq(Outcomes::ReleaseId))
                    .col(string(Outcomes::Result))
                    .col(boolean(Outcomes::ObjectivesMet))
                    .col(integer(Outcomes::DefectsEscaped))
                    .col(text_null(Outcomes::CustomerImpact))
                    .col(text(Outcomes::Summary))
                    .col(text_null(Outcomes::LessonsLearned))
                    .col(big_integer(Outcomes::ReviewedAt))
                    .col(string(Outcomes::ReviewedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outcomes_release")
                            .from(Outcomes::Table, Outcomes::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ImprovementActions::Table)
                    .col(big_pk_auto(ImprovementActions::Id))
                    .col(big_integer(ImprovementActions::ReleaseId))
                    .col(string(ImprovementActions::Title))
                    .col(string_null(ImprovementActions::Owner))
                    .col(date_null(ImprovementActions::DueDate))
                    .col(string(ImprovementActions::Status))
                    .col(big_integer(ImprovementActions::CreatedAt))
                    .col(big_integer_null(ImprovementActions::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_improvement_actions_release")
                            .from(ImprovementActions::Table, ImprovementActions::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_improvement_actions_release")
                    .table(ImprovementActions::Table)
                    .col(ImprovementActions::ReleaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImprovementActions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Outcomes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outcomes {
    Table,
    Id,
    ReleaseId,
    Result,
    ObjectivesMet,
    DefectsEscaped,
    CustomerImpact,
    Summary,
    LessonsLearned,
    ReviewedAt,
    ReviewedBy,
}

#[derive(DeriveIden)]
enum ImprovementActions {
    Table,
    Id,
    ReleaseId,
    Title,
    Owner,
    DueDate,
    Status,
    CreatedAt,
    ClosedAt,
}
