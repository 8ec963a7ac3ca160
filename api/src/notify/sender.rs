//! The sender: a task in each `relm serve` that drains the outbox.
//!
//! It wakes when an event commits (any process's, through the event bus) and at least
//! every `poll`, claims the notifications that head their channel's queue and are due
//! (`commands::notification::claim`: with PostgreSQL `FOR UPDATE SKIP LOCKED` and a lease,
//! so that of several processes one sends each), and sends each channel's queue in order,
//! one notification at a time, up to [`CHANNELS_AT_ONCE`] channels at once. Stopping lets
//! the attempts under way finish and gives back what was claimed and not yet sent.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Outbound;
use super::body::Message;
use crate::commands::notification::{self as outbox, Attempt};
use crate::commands::{Change, transaction};
use crate::error::ApiResult;
use crate::events::EventBus;
use crate::ids::{self, NodeType};
use crate::queries;
use crate::time;

/// Channels whose queues are sent at once.
pub const CHANNELS_AT_ONCE: usize = 32;

/// How long a claim holds a notification: longer than an attempt may take, so that
/// another process sends it only if this one stopped.
const LEASE: Duration = Duration::from_secs(60);

/// A running sender; [`Sender::stop`] ends it.
pub struct Sender {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// What each queue's task shares.
#[derive(Clone)]
struct Shared {
    db: DatabaseConnection,
    bus: EventBus,
    outbound: Arc<Outbound>,
    stop: watch::Receiver<bool>,
}

impl Sender {
    /// Starts sending what the outbox of `db` holds.
    pub fn spawn(db: DatabaseConnection, bus: EventBus, outbound: Arc<Outbound>) -> Self {
        let (stop, stopping) = watch::channel(false);
        let shared = Shared {
            db,
            bus,
            outbound,
            stop: stopping,
        };
        Self {
            stop,
            task: tokio::spawn(run(shared)),
        }
    }

    /// Stops claiming, lets the attempts under way finish, and returns once it has.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "the notification sender ended abnormally");
        }
    }
}

async fn run(shared: Shared) {
    let mut events = shared.bus.subscribe();
    let mut stop = shared.stop.clone();
    let mut queues = JoinSet::new();
    loop {
        let free = CHANNELS_AT_ONCE.saturating_sub(queues.len());
        if free > 0 {
            match claim(&shared, free).await {
                Ok(ids) => {
                    for id in ids {
                        queues.spawn(drain(shared.clone(), id));
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not claim notifications"),
            }
        }
        tokio::select! {
            _ = stop.wait_for(|stopping| *stopping) => break,
            _ = events.recv() => {
                // One claim for a burst of events.
                while events.try_recv().is_ok() {}
            }
            Some(_) = queues.join_next(), if !queues.is_empty() => {}
            () = tokio::time::sleep(shared.outbound.settings().poll) => {}
        }
    }
    while queues.join_next().await.is_some() {}
}

fn lease_until(now: i64) -> i64 {
    now + i64::try_from(LEASE.as_micros()).unwrap_or(i64::MAX / 4)
}

async fn claim(shared: &Shared, limit: usize) -> ApiResult<Vec<i64>> {
    let limit = u64::try_from(limit).unwrap_or(1);
    transaction::run(&shared.db, &shared.bus, move |txn| {
        Box::pin(async move {
            let now = time::now_micros();
            let ids = outbox::claim(txn, now, lease_until(now), limit).await?;
            Ok(Change::new(ids, None))
        })
    })
    .await
}

/// Sends a channel's queue from its claimed head `id`, one notification after the other,
/// until none is due or the sender stops.
async fn drain(shared: Shared, first: i64) {
    let mut next = Some(first);
    while let Some(id) = next {
        if *shared.stop.borrow() {
            give_back(&shared, id).await;
            return;
        }
        let attempt = match attempt(&shared, id).await {
            Ok(Some(attempt)) => attempt,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, notification = id, "could not read a notification");
                give_back(&shared, id).await;
                return;
            }
        };
        next = match record(&shared, id, attempt).await {
            Ok(next) => next,
            Err(err) => {
                // The lease runs out and the notification is sent again: at least once.
                tracing::warn!(error = %err, notification = id, "could not record an attempt");
                None
            }
        };
    }
}

/// One attempt at notification `id`; `None` when there is nothing left to send it for.
async fn attempt(shared: &Shared, id: i64) -> ApiResult<Option<Attempt>> {
    let Some(out) = queries::notifications::outgoing(&shared.db, id).await? else {
        return Ok(None);
    };
    let message = Message {
        event: &out.event,
        release: &out.release,
        program_key: &out.program_key,
        public_url: shared.outbound.settings().public_url.as_deref(),
    };
    let body = message.body(out.channel.kind);
    let webhook_id = ids::encode(NodeType::NotificationDelivery, id);
    Ok(Some(
        shared.outbound.send(&out.channel, &webhook_id, body).await,
    ))
}

async fn record(shared: &Shared, id: i64, attempt: Attempt) -> ApiResult<Option<i64>> {
    let retries = Arc::new(shared.outbound.settings().retries.clone());
    let attempt = Arc::new(attempt);
    transaction::run(&shared.db, &shared.bus, move |txn| {
        let (retries, attempt) = (retries.clone(), attempt.clone());
        Box::pin(async move {
            let now = time::now_micros();
            let next = outbox::record(txn, id, &attempt, &retries, lease_until(now)).await?;
            Ok(Change::new(next, None))
        })
    })
    .await
}

async fn give_back(shared: &Shared, id: i64) {
    let released = transaction::run(&shared.db, &shared.bus, move |txn| {
        Box::pin(async move {
            outbox::release_claims(txn, &[id]).await?;
            Ok(Change::new((), None))
        })
    })
    .await;
    if let Err(err) = released {
        tracing::warn!(error = %err, notification = id, "could not give a notification back");
    }
}
