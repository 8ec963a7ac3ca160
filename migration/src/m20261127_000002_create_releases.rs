use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Releases::Table)
                    .col(big_pk_auto(Releases::Id))
                    .col(big_integer(Releases::ProgramId))
                    .col(string(Releases::Version))
                    .col(string(Releases::Name))
                    .col(text_null(Releases::Description))
                    .col(string(Releases::Type))
                    .col(string(Releases::Risk))
                    .col(string(Releases::Strategy))
                    .col(string(Releases::Status))
                    .col(string_null(Releases::Owner))
                    .col(big_integer_null(Releases::PlannedStart))
                    .col(big_integer_null(Releases::PlannedEnd))
                    .col(text_null(Releases::RollbackPlan))
                    .col(integer(Releases::Revision))
                    .col(big_integer(Releases::CreatedAt))
                    .col(big_integer(Releases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_releases_program")
                            .from(Releases::Table, Releases::ProgramId)
                            .to(Programs::Table, Programs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ux_releases_program_version",
                &[Releases::ProgramId, Releases::Version][..],
            ),
            (
                "idx_releases_program_status",
                &[Releases::ProgramId, Releases::Status],
            ),
            ("idx_releases_planned_end", &[Releases::PlannedEnd]),
            ("idx_releases_created_at", &[Releases::CreatedAt]),
            ("idx_releases_updated_at", &[Releases::UpdatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Releases::Table);
            for column in columns {
                index.col(*column);
            }
            if name.starts_with("ux_") {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ReleaseParties::Table)
                    .col(big_pk_auto(ReleaseParties::Id))
                    .col(big_integer(ReleaseParties::ReleaseId))
                    .col(string(ReleaseParties::Role))
                    .col(string(ReleaseParties::Name))
                    .col(integer(ReleaseParties::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_release_parties_release")
                            .from(ReleaseParties::Table, ReleaseParties::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_release_parties_release")
                    .table(ReleaseParties::Table)
                    .col(ReleaseParties::ReleaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_release_parties_name")
                    .table(ReleaseParties::Table)
                    .col(ReleaseParties::Role)
                    .col(ReleaseParties::Name)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReleaseItems::Table)
                    .col(big_pk_auto(ReleaseItems::Id))
                    .col(big_integer(ReleaseItems::ReleaseId))
                    .col(string(ReleaseItems::Title))
                    .col(string(ReleaseItems::Kind))
                    .col(string_null(ReleaseItems::Reference))
                    .col(big_integer_null(ReleaseItems::CommittedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_release_items_release")
                            .from(ReleaseItems::Table, ReleaseItems::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_release_items_release")
                    .table(ReleaseItems::Table)
                    .col(ReleaseItems::ReleaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReleaseItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ReleaseParties::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Releases::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Releases {
    Table,
    Id,
    ProgramId,
    Version,
    Name,
    Description,
    Type,
    Risk,
    Strategy,
    Status,
    Owner,
    PlannedStart,
    PlannedEnd,
    RollbackPlan,
    Revision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReleaseParties {
    Table,
    Id,
    ReleaseId,
    Role,
    Name,
    Position,
}

#[derive(DeriveIden)]
enum ReleaseItems {
    Table,
    Id,
    ReleaseId,
    Title,
    Kind,
    Reference,
    CommittedAt,
}
