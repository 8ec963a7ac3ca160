//! Live release events for subscriptions, delivered only after commit, in commit order.
//!
//! With SQLite one process owns the database: a write publishes its event to an in-process
//! channel right after it commits, under a lock so that events leave in commit order. With
//! PostgreSQL several relm processes may share the database: a write sends `pg_notify` with
//! the event's id inside its transaction (PostgreSQL delivers notifications on commit, in
//! commit order) and every process, this one included, listens and fans the event out to its
//! own subscribers. When the listening connection is lost (a restart, a failover, an
//! operator ending it), the listener connects again and catches up on the events committed
//! meanwhile, so subscribers miss none of them.

use std::sync::Arc;

use entity::{release, release_event};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast, watch};

use crate::error::ApiResult;

/// The PostgreSQL channel that carries event ids is this prefix and the schema's name, so
/// that relm databases sharing one PostgreSQL database in different schemas stay apart.
pub const CHANNEL_PREFIX: &str = "relm_events_";
/// Events a slow subscriber may fall behind by before it misses some.
const BUFFER: usize = 1024;

/// An event with the program it belongs to, for scoping.
#[derive(Debug, Clone)]
pub struct Published {
    pub event: release_event::Model,
    pub program_id: i64,
}

/// Fans committed events out to this process's subscribers.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Published>>,
    in_process: bool,
    writer: Arc<Mutex<()>>,
    closing: Arc<watch::Sender<bool>>,
}

impl EventBus {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
            in_process: backend != DbBackend::Postgres,
            writer: Arc::new(Mutex::new(())),
            closing: Arc::new(watch::channel(false).0),
        }
    }

    /// Tells every subscription to end: the process is shutting down.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once [`close`](Self::close) has been called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.sender.subscribe()
    }

    /// SQLite's one writer of this process: held from a write's `BEGIN IMMEDIATE` until its
    /// event is published, so concurrent writes queue here rather than meet SQLite's lock,
    /// and in-process events leave in commit order. PostgreSQL needs none (row locks
    /// order writes, and NOTIFY is delivered in commit order).
    pub async fn writer(&self) -> Option<OwnedMutexGuard<()>> {
        if self.in_process {
            Some(self.writer.clone().lock_owned().await)
        } else {
            None
        }
    }

    /// Publishes an event whose transaction has committed (in-process mode only; with
    /// PostgreSQL the listener publishes it).
    pub fn committed(&self, published: Published) {
        if self.in_process {
            let _ = self.sender.send(Arc::new(published));
        }
    }

    /// With PostgreSQL, sends the event's id on the schema's channel inside the writing
    /// transaction.
    pub async fn notify_in(db: &impl ConnectionTrait, event_id: i64) -> ApiResult<()> {
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1 || current_schema(), $2)",
                [CHANNEL_PREFIX.into(), event_id.to_string().into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// With PostgreSQL, listens on the schema's channel until the bus closes and publishes
    /// every event committed by any relm process sharing the database.
    pub async fn listen(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        if self.in_process {
            return Ok(());
        }
        let schema = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_schema()",
            ))
            .await?
            .map(|row| row.try_get_by_index::<String>(0))
            .transpose()?
            .unwrap_or_default();
        let channel = format!("{CHANNEL_PREFIX}{schema}");
        let mut listener = listener_on(db, &channel).await?;
        // Listening from now: a catch-up starts after the latest event committed before.
        let latest: Option<i64> = release_event::Entity::find()
            .select_only()
            .column_as(release_event::Column::Id.max(), "latest")
            .into_tuple()
            .one(db)
            .await?
            .flatten();
        let bus = self.clone();
        let db = db.clone();
        tokio::spawn(async move {
            let mut published = Seen::new(latest.unwrap_or(0));
            loop {
                // On shutdown the listener is dropped, which hands its connection back, so
                // closing the pool does not wait for it.
                let received = tokio::select! {
                    received = listener.try_recv() => received,
                    () = bus.closed() => break,
                };
                match received {
                    Ok(Some(notification)) => {
                        let Ok(id) = notification.payload().parse::<i64>() else {
                            continue;
                        };
                        bus.publish_ids(&db, &[id], &mut published).await;
                    }
                    // The connection was lost and is listening again: what was committed
                    // meanwhile was notified to no one.
                    Ok(None) => {
                        tracing::warn!("event listener reconnected; catching up");
                        bus.catch_up(&db, &mut published).await;
                    }
                    // A new listener, then what was committed while there was none.
                    Err(err) => {
                        tracing::warn!(%err, "event listener interrupted; reconnecting");
                        loop {
                            tokio::select! {
                                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                                () = bus.closed() => return,
                            }
                            match listener_on(&db, &channel).await {
                                Ok(new) => break listener = new,
                                Err(err) => tracing::warn!(%err, "event listener still down"),
                            }
                        }
                        bus.catch_up(&db, &mut published).await;
                    }
                }
            }
        });
        Ok(())
    }

    /// Loads and publishes the events `ids` not published before.
    async fn publish_ids(&self, db: &DatabaseConnection, ids: &[i64], seen: &mut Seen) {
        for &id in ids {
            if !seen.first_time(id) {
                continue;
            }
            match load(db, id).await {
                Ok(Some(published)) => {
                    let _ = self.sender.send(Arc::new(published));
                }
                Ok(None) => {}
                Err(err) => tracing::warn!(%err, id, "cannot load a notified event"),
            }
        }
    }

    /// Publishes the events committed while nobody listened, in id order. Ids are taken in
    /// insert order, not commit order, so the look starts [`OVERLAP`] ids before the latest
    /// published (those already published are passed over), and goes on page by page.
    async fn catch_up(&self, db: &DatabaseConnection, seen: &mut Seen) {
        let mut after = (seen.latest - OVERLAP).max(seen.floor);
        loop {
            let missed: Result<Vec<i64>, _> = release_event::Entity::find()
                .select_only()
                .column(release_event::Column::Id)
                .filter(release_event::Column::Id.gt(after))
                .order_by_asc(release_event::Column::Id)
                .limit(CATCH_UP_PAGE)
                .into_tuple()
                .all(db)
                .await;
            match missed {
                Ok(ids) if ids.is_empty() => break,
                Ok(ids) => {
                    after = ids.last().copied().unwrap_or(after);
                    self.publish_ids(db, &ids, seen).await;
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot catch up on events");
                    break;
                }
            }
        }
    }
}

/// How many ids before the latest one published a catch-up looks again: events whose
/// transaction took its id earlier but committed later. Fewer than [`BUFFER`], the ids
/// [`Seen`] remembers.
const OVERLAP: i64 = 256;

/// Events read at a time by a catch-up.
const CATCH_UP_PAGE: u64 = 1_000;

/// The ids of events this process published lately, so that one both notified and caught up
/// on is published once.
struct Seen {
    recent: std::collections::VecDeque<i64>,
    latest: i64,
    /// The latest event committed before listening began: none up to it is published.
    floor: i64,
}

impl Seen {
    fn new(latest: i64) -> Self {
        Self {
            recent: std::collections::VecDeque::with_capacity(BUFFER),
            latest,
            floor: latest,
        }
    }

    /// Whether `id` was not seen before (among the last [`BUFFER`]); notes it.
    fn first_time(&mut self, id: i64) -> bool {
        if self.recent.contains(&id) {
            return false;
        }
        if self.recent.len() == BUFFER {
            self.recent.pop_front();
        }
        self.recent.push_back(id);
        self.latest = self.latest.max(id);
        true
    }
}

/// A listener on `channel`, on a connection of `db`'s pool.
async fn listener_on(
    db: &DatabaseConnection,
    channel: &str,
) -> Result<sea_orm::sqlx::postgres::PgListener, sea_orm::sqlx::Error> {
    let mut listener =
        sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool())
            .await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// The event `id` with its program.
async fn load(db: &DatabaseConnection, id: i64) -> Result<Option<Published>, sea_orm::DbErr> {
    crate::db::once_more_if_lost(db, || load_once(db, id)).await
}

async fn load_once(db: &DatabaseConnection, id: i64) -> Result<Option<Published>, sea_orm::DbErr> {
    let Some(event) = release_event::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let release = release::Entity::find_by_id(event.release_id)
        .one(db)
        .await?;
    Ok(release.map(|r| Published {
        event,
        program_id: r.program_id,
    }))
}
