use sea_orm_migration::{prelude::*, schema::*};

/// Coordination (communication.md): which release waits on which, across programs; and
/// calendar feeds, each known by the SHA-256 of its key, with the role and programs of the
/// token that made it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReleaseDependencies::Table)
                    .col(big_pk_auto(ReleaseDependencies::Id))
                    .col(big_integer(ReleaseDependencies::ReleaseId))
                    .col(big_integer(ReleaseDependencies::DependsOnId))
                    .col(text_null(ReleaseDependencies::Note))
                    .col(string(ReleaseDependencies::CreatedBy))
                    .col(big_integer(ReleaseDependencies::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseDependencies::Table, ReleaseDependencies::ReleaseId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReleaseDependencies::Table, ReleaseDependencies::DependsOnId)
                            .to(Releases::Table, Releases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("release_dependencies_pair")
                    .table(ReleaseDependencies::Table)
                    .col(ReleaseDependencies::ReleaseId)
                    .col(ReleaseDependencies::DependsOnId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("release_dependencies_depends_on")
                    .table(ReleaseDependencies::Table)
                    .col(ReleaseDependencies::DependsOnId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeeds::Table)
                    .col(big_pk_auto(CalendarFeeds::Id))
                    .col(string(CalendarFeeds::Name))
                    .col(string_uniq(CalendarFeeds::KeyHash))
                    .col(string(CalendarFeeds::Owner))
                    .col(string(CalendarFeeds::Role))
                    .col(text_null(CalendarFeeds::ProgramKeys))
                    .col(text_null(CalendarFeeds::TokenPrograms))
                    .col(big_integer(CalendarFeeds::CreatedAt))
                    .col(big_integer(CalendarFeeds::ExpiresAt))
                    .col(big_integer_null(CalendarFeeds::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("calendar_feeds_owner")
                    .table(CalendarFeeds::Table)
                    .col(CalendarFeeds::Owner)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CalendarFeeds::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ReleaseDependencies::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ReleaseDependencies {
    Table,
    Id,
    ReleaseId,
    DependsOnId,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    Id,
    Name,
    KeyHash,
    Owner,
    Role,
    ProgramKeys,
    TokenPrograms,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}
