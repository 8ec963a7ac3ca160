use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Programs::Table)
                    .col(big_pk_auto(Programs::Id))
                    .col(string_uniq(Programs::Key))
                    .col(string(Programs::Name))
                    .col(text_null(Programs::Description))
                    .col(string_null(Programs::Owner))
                    .col(text_null(Programs::BusinessObjective))
                    .col(big_integer(Programs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Environments::Table)
                    .col(big_pk_auto(Environments::Id))
                    .col(string_uniq(Environments::Name))
                    .col(string(Environments::Tier))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Environments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Programs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
    Key,
    Name,
    Description,
    Owner,
    BusinessObjective,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Environments {
    Table,
    Id,
    Name,
    Tier,
}
