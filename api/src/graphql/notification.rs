//! Notification channels (communication.md, *Notifications*): the channels, their delivery
//! log, and managing both. Reads go through `queries::notifications`, writes through
//! `commands::notification`; sending is `notify`'s.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::enums as db;
use entity::{notification, release_event};

use crate::auth::Role;
use crate::commands;
use crate::commands::notification::{Channel, ChannelChanges, NewChannel, Rotation, WithSecret};
use crate::domain::validate::Name;
use crate::error::ApiResult;
use crate::graphql::context::{command, data, viewer, visible};
use crate::graphql::enums::ReleaseEventKind;
use crate::graphql::event::ReleaseEvent;
use crate::graphql::input::patch;
use crate::graphql::pagination::{PageArgs, connection, paged};
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::notify::Outbound;
use crate::notify::body;
use crate::queries;
use crate::queries::page::{Key, Ordering, Position};
use crate::secrets::Purpose;

/// Where a channel sends, and in which shape.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::NotificationKind")]
pub enum NotificationKind {
    /// JSON signed per Standard Webhooks.
    Webhook,
    /// A Slack incoming-webhook URL.
    Slack,
    /// A Teams incoming-webhook or workflow URL.
    Teams,
}

/// Where a notification stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::NotificationStatus")]
pub enum NotificationStatus {
    Pending,
    Sent,
    Failed,
}

/// A channel that sends release events out of relm.
#[derive(Clone)]
pub struct NotificationChannel(pub Channel);

#[Object]
impl NotificationChannel {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::NotificationChannel, self.0.model.id).into()
    }

    async fn name(&self) -> &str {
        &self.0.model.name
    }

    async fn kind(&self) -> NotificationKind {
        self.0.model.kind.into()
    }

    /// The URL with its path and query replaced by …, e.g. https://hooks.slack.com/…
    async fn url_hint(&self) -> &str {
        &self.0.model.url_hint
    }

    /// Omitted: every program.
    async fn program_keys(&self) -> Option<&[String]> {
        self.0.program_keys.as_deref()
    }

    async fn kinds(&self) -> Option<Vec<ReleaseEventKind>> {
        self.0.model.kinds.as_deref().map(|kinds| {
            kinds
                .split(',')
                .filter_map(db::ReleaseEventKind::parse)
                .map(Into::into)
                .collect()
        })
    }

    async fn enabled(&self) -> bool {
        self.0.model.enabled
    }

    async fn disabled_reason(&self) -> Option<&str> {
        self.0.model.disabled_reason.as_deref()
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.model.created_at)
    }

    /// Attempts, newest first.
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, None, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<NotificationStatus>,
    ) -> ApiResult<NotificationDeliveryConnection> {
        let visible = visible(ctx)?;
        let select = queries::notifications::deliveries(self.0.model.id, status.map(Into::into));
        let ordering = Ordering {
            column: Some(notification::Column::CreatedAt),
            nullable: false,
            ascending: false,
            id: notification::Column::Id,
            position: |n: &notification::Model| Position {
                key: Key::Int(n.created_at),
                id: n.id,
            },
        };
        let page = PageArgs {
            first,
            after,
            last: None,
            before: None,
        };
        let page = paged(
            ctx,
            visible.db(),
            select,
            &ordering,
            "CREATED_AT_DESC",
            &page,
        )
        .await?;
        Ok(NotificationDeliveryConnection::new(
            page,
            NotificationDelivery,
        ))
    }
}

/// One notification of a channel and its attempts.
#[derive(Clone)]
pub struct NotificationDelivery(pub notification::Model);

#[Object]
impl NotificationDelivery {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::NotificationDelivery, self.0.id).into()
    }

    /// Null for a test notification.
    async fn event(&self, ctx: &Context<'_>) -> ApiResult<Option<ReleaseEvent>> {
        match self.0.event_id {
            Some(id) => Ok(visible(ctx)?
                .release_child::<release_event::Entity>(id, |e| e.release_id)
                .await?
                .map(ReleaseEvent)),
            None => Ok(None),
        }
    }

    async fn status(&self) -> NotificationStatus {
        self.0.status.into()
    }

    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    async fn last_attempt_at(&self) -> Option<Timestamp> {
        self.0.last_attempt_at.map(Timestamp)
    }

    async fn next_attempt_at(&self) -> Option<Timestamp> {
        self.0.next_attempt_at.map(Timestamp)
    }

    async fn last_http_status(&self) -> Option<i32> {
        self.0.last_http_status
    }

    /// Why the last attempt failed; never the receiver's answer, never the secret.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
}

connection!(
    NotificationDeliveryConnection,
    NotificationDeliveryEdge,
    NotificationDelivery,
    "A page of a channel's notifications, newest first."
);

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// RELEASE_MANAGER and ADMIN: the channels of their programs.
    async fn notification_channels(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<NotificationChannel>> {
        let channels = queries::notifications::list(&visible(ctx)?).await?;
        Ok(channels
            .into_iter()
            .map(|(model, program_keys)| {
                NotificationChannel(Channel {
                    model,
                    program_keys,
                })
            })
            .collect())
    }
}

#[derive(InputObject)]
pub struct CreateNotificationChannelInput {
    pub name: String,
    pub kind: NotificationKind,
    pub url: String,
    pub program_keys: Option<Vec<String>>,
    pub kinds: Option<Vec<ReleaseEventKind>>,
    #[graphql(default_with = "Some(true)")]
    pub enabled: Option<bool>,
}

#[derive(InputObject)]
pub struct UpdateNotificationChannelInput {
    pub channel_id: ID,
    pub name: Option<String>,
    pub url: Option<String>,
    /// Null: every kind.
    pub kinds: MaybeUndefined<Vec<ReleaseEventKind>>,
    pub enabled: Option<bool>,
}

#[derive(InputObject)]
pub struct NotificationChannelRef {
    pub channel_id: ID,
}

impl NotificationChannelRef {
    fn id(&self) -> ApiResult<i64> {
        ids::decode(&self.channel_id, NodeType::NotificationChannel, "channelId")
    }
}

/// A channel, and for WEBHOOK its secret, shown once.
#[derive(SimpleObject)]
pub struct NotificationChannelPayload {
    pub channel: NotificationChannel,
    /// WEBHOOK only, shown once.
    pub secret: Option<String>,
}

impl From<WithSecret> for NotificationChannelPayload {
    fn from(made: WithSecret) -> Self {
        Self {
            channel: NotificationChannel(made.channel),
            secret: made.secret,
        }
    }
}

fn outbound<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<Outbound>> {
    data::<Arc<Outbound>>(ctx)
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// RELEASE_MANAGER or ADMIN of every program named; a channel for every program needs
    /// an ADMIN without programs. The URL's host is resolved and checked now, and again at
    /// each send.
    async fn create_notification_channel(
        &self,
        ctx: &Context<'_>,
        input: CreateNotificationChannelInput,
    ) -> ApiResult<NotificationChannelPayload> {
        // Who may is said before anything of the URL is looked at.
        viewer(ctx)?.require(Role::ReleaseManager)?;
        let name = Name::parse("name", &input.name)?;
        let outbound = outbound(ctx)?;
        let url = outbound.check(&input.url).await?;
        let secret = match input.kind {
            NotificationKind::Webhook => Some(
                data::<crate::secrets::Cipher>(ctx)?
                    .new_webhook_secret(Purpose::NotificationChannel)?,
            ),
            NotificationKind::Slack | NotificationKind::Teams => None,
        };
        let input = NewChannel {
            name,
            kind: input.kind.into(),
            url,
            secret,
            program_keys: input.program_keys,
            kinds: input
                .kinds
                .map(|kinds| kinds.into_iter().map(Into::into).collect()),
            enabled: input.enabled.unwrap_or(true),
        };
        command!(ctx, commands::notification::create, input).map(Into::into)
    }

    /// Fields left out stay as they are. Disabling fails the pending notifications with
    /// `channel disabled`; enabling starts the count of failures afresh.
    async fn update_notification_channel(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationChannelInput,
    ) -> ApiResult<NotificationChannel> {
        viewer(ctx)?.require(Role::ReleaseManager)?;
        let channel_id = ids::decode(
            &input.channel_id,
            NodeType::NotificationChannel,
            "channelId",
        )?;
        let name = input
            .name
            .as_deref()
            .map(|name| Name::parse("name", name))
            .transpose()?;
        let url = match &input.url {
            Some(url) => Some(outbound(ctx)?.check(url).await?),
            None => None,
        };
        let input = ChannelChanges {
            channel_id,
            name,
            url,
            kinds: patch(input.kinds, |kinds| {
                kinds.into_iter().map(Into::into).collect()
            }),
            enabled: input.enabled,
        };
        command!(ctx, commands::notification::update, input).map(NotificationChannel)
    }

    /// A new secret for a WEBHOOK channel, shown once; the old one signs nothing more.
    async fn rotate_notification_secret(
        &self,
        ctx: &Context<'_>,
        input: NotificationChannelRef,
    ) -> ApiResult<NotificationChannelPayload> {
        let input = Rotation {
            channel_id: input.id()?,
            secret: data::<crate::secrets::Cipher>(ctx)?
                .new_webhook_secret(Purpose::NotificationChannel)?,
        };
        command!(ctx, commands::notification::rotate_secret, input).map(Into::into)
    }

    /// Returns the id of the channel deleted.
    async fn delete_notification_channel(
        &self,
        ctx: &Context<'_>,
        input: NotificationChannelRef,
    ) -> ApiResult<ID> {
        let id = input.id()?;
        let deleted = command!(ctx, commands::notification::delete, id)?;
        Ok(ids::encode(NodeType::NotificationChannel, deleted).into())
    }

    /// Sends one `relm.test` notification now, outside the queue (never retried, not
    /// counted), and returns the attempt.
    async fn test_notification_channel(
        &self,
        ctx: &Context<'_>,
        input: NotificationChannelRef,
    ) -> ApiResult<NotificationDelivery> {
        let id = input.id()?;
        let channel = queries::notifications::channel(&visible(ctx)?, id)
            .await?
            .ok_or_else(|| queries::not_found("notification channel"))?;
        let at = crate::time::now_micros();
        let body = body::test(channel.kind, &channel.name, at);
        let webhook_id = format!("test_{}", uuid::Uuid::new_v4().simple());
        // The attempt is made before any transaction opens: a slow receiver holds no lock.
        let attempt = outbound(ctx)?.send(&channel, &webhook_id, body).await;
        command!(ctx, commands::notification::record_test, (id, attempt)).map(NotificationDelivery)
    }
}

/// A channel by id for `node`, with its program keys.
pub async fn node_channel(ctx: &Context<'_>, id: i64) -> ApiResult<Option<NotificationChannel>> {
    let visible = visible(ctx)?;
    let Some(model) = queries::notifications::channel(&visible, id).await? else {
        return Ok(None);
    };
    let channel = commands::notification::with_keys(visible.db(), model).await?;
    Ok(Some(NotificationChannel(channel)))
}

/// A notification by id for `node`.
pub async fn node_delivery(ctx: &Context<'_>, id: i64) -> ApiResult<Option<NotificationDelivery>> {
    Ok(queries::notifications::delivery(&visible(ctx)?, id)
        .await?
        .map(NotificationDelivery))
}
