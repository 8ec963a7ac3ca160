//! Reads of notification channels (communication.md, *Notifications*): a channel exists
//! for a RELEASE_MANAGER or ADMIN whose token covers every one of its programs, and a
//! channel for every program only for an ADMIN without `programs`; for anyone else it and
//! its deliveries do not exist, and VIEWER and ANALYST are refused the list.

use std::collections::HashMap;

use entity::enums::NotificationStatus;
use entity::{
    notification, notification_channel, notification_channel_program, program, release,
    release_event,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select,
};

use super::Visible;
use crate::auth::{Role, Scope};
use crate::error::ApiResult;

/// The channels the caller may manage.
pub fn channels<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
) -> ApiResult<Select<notification_channel::Entity>> {
    use notification_channel::Column;
    visible.require(Role::ReleaseManager)?;
    let select = notification_channel::Entity::find();
    Ok(match visible.scope() {
        Scope::All if visible.role() == Role::Admin => select,
        Scope::All => select.filter(Column::EveryProgram.eq(false)),
        Scope::Programs(ids) => select.filter(Column::EveryProgram.eq(false)).filter(
            Column::Id.not_in_subquery(
                Query::select()
                    .column(notification_channel_program::Column::ChannelId)
                    .from(notification_channel_program::Entity)
                    .and_where(
                        notification_channel_program::Column::ProgramId
                            .is_not_in(ids.iter().copied()),
                    )
                    .to_owned(),
            ),
        ),
    })
}

/// The channels the caller may manage, oldest first, with their program keys.
pub async fn list<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
) -> ApiResult<Vec<(notification_channel::Model, Option<Vec<String>>)>> {
    let channels = channels(visible)?
        .order_by_asc(notification_channel::Column::Id)
        .all(visible.db())
        .await?;
    let mut keys = program_keys(visible.db(), channels.iter().map(|c| c.id)).await?;
    Ok(channels
        .into_iter()
        .map(|c| {
            let programs = (!c.every_program).then(|| keys.remove(&c.id).unwrap_or_default());
            (c, programs)
        })
        .collect())
}

/// The channel `id`, if the caller may manage it.
pub async fn channel<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    id: i64,
) -> ApiResult<Option<notification_channel::Model>> {
    Ok(channels(visible)?
        .filter(notification_channel::Column::Id.eq(id))
        .one(visible.db())
        .await?)
}

/// The program keys of each channel of `ids`, sorted.
pub async fn program_keys<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> ApiResult<HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, i64)> = notification_channel_program::Entity::find()
        .select_only()
        .column(notification_channel_program::Column::ChannelId)
        .column(notification_channel_program::Column::ProgramId)
        .filter(notification_channel_program::Column::ChannelId.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    let names: HashMap<i64, String> = program::Entity::find()
        .select_only()
        .column(program::Column::Id)
        .column(program::Column::Key)
        .filter(program::Column::Id.is_in(rows.iter().map(|(_, p)| *p)))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut keys: HashMap<i64, Vec<String>> = HashMap::new();
    for (channel, program) in rows {
        if let Some(key) = names.get(&program) {
            keys.entry(channel).or_default().push(key.clone());
        }
    }
    for list in keys.values_mut() {
        list.sort_unstable();
    }
    Ok(keys)
}

/// A channel's notifications, of `status` when given (pages order them newest first).
pub fn deliveries(
    channel_id: i64,
    status: Option<NotificationStatus>,
) -> Select<notification::Entity> {
    let select =
        notification::Entity::find().filter(notification::Column::ChannelId.eq(channel_id));
    match status {
        Some(status) => select.filter(notification::Column::Status.eq(status)),
        None => select,
    }
}

/// The notification `id`, if the caller may manage its channel.
pub async fn delivery<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    id: i64,
) -> ApiResult<Option<notification::Model>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::Id.eq(id))
        .filter(
            notification::Column::ChannelId.in_subquery(
                channels(visible)?
                    .select_only()
                    .column(notification_channel::Column::Id)
                    .into_query(),
            ),
        )
        .one(visible.db())
        .await?)
}

/// What the sender needs to send a notification: its channel, and its event with the
/// release and program key the message names. `None` when any of it is gone (a channel
/// deleted meanwhile).
pub struct Outgoing {
    pub channel: notification_channel::Model,
    pub event: release_event::Model,
    pub release: release::Model,
    pub program_key: String,
}

/// [`Outgoing`] of notification `id`, for the sender (which acts for no caller).
pub async fn outgoing<C: ConnectionTrait>(db: &C, id: i64) -> ApiResult<Option<Outgoing>> {
    let Some(notification) = notification::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let Some(event_id) = notification.event_id else {
        return Ok(None);
    };
    let Some(channel) = notification_channel::Entity::find_by_id(notification.channel_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(event) = release_event::Entity::find_by_id(event_id).one(db).await? else {
        return Ok(None);
    };
    let Some(release) = release::Entity::find_by_id(event.release_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(program) = program::Entity::find_by_id(release.program_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Outgoing {
        channel,
        event,
        release,
        program_key: program.key,
    }))
}
