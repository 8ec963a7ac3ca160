use sea_orm_migration::{prelude::*, schema::*};

/// Notifications (communication.md): channels that send release events out of relm, the
/// programs each belongs to (none: every program), and the outbox, one row per event and
/// channel written with the event, which is also the delivery log. `claimed_until` is the
/// lease of the process sending a row, so that one process sends it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationChannels::Table)
                    .col(big_pk_auto(NotificationChannels::Id))
                    .col(string(NotificationChannels::Name))
                    .col(string(NotificationChannels::Kind))
                    .col(text(NotificationChannels::Url))
                    .col(string(NotificationChannels::UrlHint))
                    .col(text_null(NotificationChannels::Secret))
                    .col(boolean(NotificationChannels::EveryProgram))
                    .col(text_null(NotificationChannels::Kinds))
                    .col(boolean(NotificationChannels::Enabled))
                    .col(string_null(NotificationChannels::DisabledReason))
                    .col(integer(NotificationChannels::FailedAttempts).default(0))
                    .col(big_integer(NotificationChannels::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationChannelPrograms::Table)
                    .col(big_integer(NotificationChannelPrograms::ChannelId))
                    .col(big_integer(NotificationChannelPrograms::ProgramId))
                    .primary_key(
                        Index::create()
                            .col(NotificationChannelPrograms::ChannelId)
                            .col(NotificationChannelPrograms::ProgramId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_channel_programs_channel")
                            .from(
                                NotificationChannelPrograms::Table,
                                NotificationChannelPrograms::ChannelId,
                            )
                            .to(NotificationChannels::Table, NotificationChannels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_channel_programs_program")
                            .from(
                                NotificationChannelPrograms::Table,
                                NotificationChannelPrograms::ProgramId,
                            )
                            .to(Programs::Table, Programs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_channel_programs_program")
                    .table(NotificationChannelPrograms::Table)
                    .col(NotificationChannelPrograms::ProgramId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(big_integer(Notifications::ChannelId))
                    .col(big_integer_null(Notifications::EventId))
                    .col(string(Notifications::Status))
                    .col(integer(Notifications::Attempts))
                    .col(big_integer_null(Notifications::NextAttemptAt))
                    .col(big_integer_null(Notifications::LastAttemptAt))
                    .col(integer_null(Notifications::LastHttpStatus))
                    .col(text_null(Notifications::LastError))
                    .col(big_integer_null(Notifications::ClaimedUntil))
                    .col(big_integer(Notifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_channel")
                            .from(Notifications::Table, Notifications::ChannelId)
                            .to(NotificationChannels::Table, NotificationChannels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_event")
                            .from(Notifications::Table, Notifications::EventId)
                            .to(ReleaseEvents::Table, ReleaseEvents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The head of each channel's queue, and the log of a channel newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_channel_status")
                    .table(Notifications::Table)
                    .col(Notifications::ChannelId)
                    .col(Notifications::Status)
                    .col(Notifications::Id)
                    .to_owned(),
            )
            .await?;
        // What is due, across channels.
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_status_due")
                    .table(Notifications::Table)
                    .col(Notifications::Status)
                    .col(Notifications::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Notifications::Table.into_iden(),
            NotificationChannelPrograms::Table.into_iden(),
            NotificationChannels::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum NotificationChannels {
    Table,
    Id,
    Name,
    Kind,
    Url,
    UrlHint,
    Secret,
    EveryProgram,
    Kinds,
    Enabled,
    DisabledReason,
    FailedAttempts,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationChannelPrograms {
    Table,
    ChannelId,
    ProgramId,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    ChannelId,
    EventId,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastHttpStatus,
    LastError,
    ClaimedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReleaseEvents {
    Table,
    Id,
}
