use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QualityGates::Table)
                    .col(big_pk_auto(QualityGates::Id))
                    .col(big_integer(QualityGates::ReleaseId))
                    .col(string(QualityGates::Name))
                    .col(string(QualityGates::Kind))
                    .col(boolean(QualityGates::Required))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quality_gates_release")
                            .from(QualityGates::Table, QualityGates::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_quality_gates_release_name")
                    .table(QualityGates::Table)
                    .col(QualityGates::ReleaseId)
                    .col(QualityGates::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GateResults::Table)
                    .col(big_pk_auto(GateResults::Id))
                    .col(big_integer(GateResults::GateId))
                    .col(string(GateResults::Status))
                    .col(text_null(GateResults::EvidenceUrl))
                    .col(text_null(GateResults::Note))
                    .col(big_integer(GateResults::CheckedAt))
                    .col(string(GateResults::CheckedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_gate_results_gate")
                            .from(GateResults::Table, GateResults::GateId)
                            .to(QualityGates::Table, QualityGates::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_gate_results_gate")
                    .table(GateResults::Table)
                    .col(GateResults::GateId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Approvals::Table)
                    .col(big_pk_auto(Approvals::Id))
                    .col(big_integer(Approvals::ReleaseId))
                    .col(string(Approvals::Approver))
                    .col(string(Approvals::Decision))
                    .col(text_null(Approvals::Comment))
                    .col(big_integer(Approvals::DecidedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_approvals_release")
                            .from(Approvals::Table, Approvals::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_approvals_release")
                    .table(Approvals::Table)
                    .col(Approvals::ReleaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Approvals::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(GateResults::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(QualityGates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum QualityGates {
    Table,
    Id,
    ReleaseId,
    Name,
    Kind,
    Required,
}

#[derive(DeriveIden)]
enum GateResults {
    Table,
    Id,
    GateId,
    Status,
    EvidenceUrl,
    Note,
    CheckedAt,
    CheckedBy,
}

#[derive(DeriveIden)]
enum Approvals {
    Table,
    Id,
    ReleaseId,
    Approver,
    Decision,
    Comment,
    DecidedAt,
}
