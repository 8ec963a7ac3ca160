use sea_orm_migration::{prelude::*, schema::*};

/// The audit trail of ADMIN commands (programs, environments, freeze windows): who did
/// what to which object, and when. Release changes have theirs in `release_events`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdminEvents::Table)
                    .col(big_pk_auto(AdminEvents::Id))
                    .col(string(AdminEvents::Action))
                    .col(string(AdminEvents::Subject))
                    .col(string(AdminEvents::Actor))
                    .col(text(AdminEvents::Detail))
                    .col(big_integer(AdminEvents::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("admin_events_at")
                    .table(AdminEvents::Table)
                    .col(AdminEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdminEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AdminEvents {
    Table,
    Id,
    Action,
    Subject,
    Actor,
    Detail,
    At,
}
