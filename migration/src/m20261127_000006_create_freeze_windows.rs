use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FreezeWindows::Table)
                    .col(big_pk_auto(FreezeWindows::Id))
                    .col(string(FreezeWindows::Name))
                    .col(text_null(FreezeWindows::Reason))
                    .col(big_integer(FreezeWindows::StartsAt))
                    .col(big_integer(FreezeWindows::EndsAt))
                    .col(big_integer_null(FreezeWindows::ProgramId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_freeze_windows_program")
                            .from(FreezeWindows::Table, FreezeWindows::ProgramId)
                            .to(Programs::Table, Programs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_freeze_windows_starts_at")
                    .table(FreezeWindows::Table)
                    .col(FreezeWindows::StartsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FreezeWindows::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FreezeWindows {
    Table,
    Id,
    Name,
    Reason,
    StartsAt,
    EndsAt,
    ProgramId,
}
