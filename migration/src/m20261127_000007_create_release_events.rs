use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReleaseEvents::Table)
                    .col(big_pk_auto(ReleaseEvents::Id))
                    .col(big_integer(ReleaseEvents::ReleaseId))
                    .col(string(ReleaseEvents::Kind))
                    .col(string(ReleaseEvents::Actor))
                    .col(big_integer(ReleaseEvents::At))
                    .col(string_null(ReleaseEvents::FromStatus))
                    .col(string_null(ReleaseEvents::ToStatus))
                    .col(text_null(ReleaseEvents::Note))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_release_events_release")
                            .from(ReleaseEvents::Table, ReleaseEvents::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_release_events_release")
                    .table(ReleaseEvents::Table)
                    .col(ReleaseEvents::ReleaseId)
                    .col(ReleaseEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReleaseEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReleaseEvents {
    Table,
    Id,
    ReleaseId,
    Kind,
    Actor,
    At,
    FromStatus,
    ToStatus,
    Note,
}
