//! Running a command in one transaction, retrying transient conflicts, then publishing.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

use super::Change;
use crate::db::OpenWrite;
use crate::error::{ApiError, ApiResult};
use crate::events::{EventBus, Published};

/// How many times a command is tried before the client is told to try again.
const ATTEMPTS: u32 = 8;

/// A command's future, borrowing its transaction.
pub type CommandFuture<'t, T> = Pin<Box<dyn Future<Output = ApiResult<Change<T>>> + Send + 't>>;

/// Runs `command` in a transaction and commits it, then publishes its events; a failure
/// rolls everything back. See [`run_open`] for the retries; a commit refused as busy
/// committed nothing, so the command runs again then too.
pub async fn run<T, F>(db: &DatabaseConnection, bus: &EventBus, mut command: F) -> ApiResult<T>
where
    F: for<'t> FnMut(&'t DatabaseTransaction) -> CommandFuture<'t, T>,
{
    attempts(db, bus, &mut command, true)
        .await
        .map(|(value, _)| value)
}

/// Runs `command` in a transaction and leaves it open, for its caller to read what it
/// answers with through the same transaction before [`Open::commit`]. A transient conflict
/// (busy SQLite, PostgreSQL serialization failure or deadlock) or a lost connection runs
/// the whole command again after a short, growing pause, up to [`ATTEMPTS`] times; after a
/// lost connection the pool's idle connections are dropped first, since a restarted server
/// ended them all. After that the client gets `TIMEOUT`, never `INTERNAL`.
pub async fn run_open<T, F>(
    db: &DatabaseConnection,
    bus: &EventBus,
    mut command: F,
) -> ApiResult<(T, Open)>
where
    F: for<'t> FnMut(&'t DatabaseTransaction) -> CommandFuture<'t, T>,
{
    let (value, open) = attempts(db, bus, &mut command, false).await?;
    let open =
        open.ok_or_else(|| ApiError::Internal("a write was left without its transaction".into()))?;
    Ok((value, open))
}

/// The attempts of [`run`] (`commit`) and [`run_open`] (not): the value, with the open
/// transaction unless it was committed.
async fn attempts<T, F>(
    db: &DatabaseConnection,
    bus: &EventBus,
    command: &mut F,
    commit: bool,
) -> ApiResult<(T, Option<Open>)>
where
    F: for<'t> FnMut(&'t DatabaseTransaction) -> CommandFuture<'t, T>,
{
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
        }
        let (value, open) = match once(db, bus, command).await {
            Ok(done) => done,
            Err(ApiError::Busy(why)) => {
                last = why;
                continue;
            }
            // Lost before the commit was sent: nothing committed.
            Err(ApiError::Unavailable(why)) => {
                crate::db::forget_idle(db);
                last = why;
                continue;
            }
            Err(other) => return Err(other),
        };
        if !commit {
            return Ok((value, Some(open)));
        }
        // A commit refused as busy committed nothing; one whose connection was lost may
        // have committed, so it is not tried again.
        match open.commit().await {
            Ok(()) => return Ok((value, None)),
            Err(ApiError::Busy(why)) => last = why,
            Err(other) => return Err(other),
        }
    }
    tracing::warn!(reason = %last, "a write gave up after {ATTEMPTS} attempts");
    Err(ApiError::Timeout(
        "the database stayed busy; try the change again".into(),
    ))
}

/// A command's transaction, done but not committed yet: what the command changed is seen
/// by reads through [`Open::transaction`] and by no one else until [`Open::commit`].
/// Dropped without a commit, it rolls back.
pub struct Open {
    txn: DatabaseTransaction,
    /// SQLite: this process's writer lock, held until commit.
    _writer: Option<OwnedMutexGuard<()>>,
    events: Vec<Published>,
    bus: EventBus,
}

impl Open {
    /// Commits, then publishes the command's events.
    pub async fn commit(self) -> ApiResult<()> {
        self.txn.commit().await?;
        for event in self.events {
            self.bus.committed(event);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl OpenWrite for Open {
    fn transaction(&self) -> &DatabaseTransaction {
        &self.txn
    }

    async fn commit(self: Box<Self>) -> ApiResult<()> {
        Open::commit(*self).await
    }

    async fn rollback(self: Box<Self>) {
        self.txn.rollback().await.ok();
    }
}

/// Runs `function(txn, &viewer, &input)`, a command of `commands`, as `viewer` with plain
/// input, in one transaction by [`run`]; evaluates to the command's value:
/// `relm_command!(&db, &bus, &viewer, commands::release::create, new_release)`. With
/// `open` first, the transaction is left open ([`run_open`]) and the value comes with its
/// [`Open`].
#[macro_export]
macro_rules! relm_command {
    ($db:expr, $bus:expr, $viewer:expr, $function:path, $input:expr) => {
        $crate::relm_command!(@run run, $db, $bus, $viewer, $function, $input)
    };
    (open $db:expr, $bus:expr, $viewer:expr, $function:path, $input:expr) => {
        $crate::relm_command!(@run run_open, $db, $bus, $viewer, $function, $input)
    };
    (@run $runner:ident, $db:expr, $bus:expr, $viewer:expr, $function:path, $input:expr) => {{
        let viewer = std::sync::Arc::new(::std::clone::Clone::clone($viewer));
        let input = std::sync::Arc::new($input);
        $crate::commands::transaction::$runner($db, $bus, move |txn| {
            let (viewer, input) = (viewer.clone(), input.clone());
            Box::pin(async move { $function(txn, &viewer, &input).await })
        })
        .await
    }};
}

/// On SQLite the transaction takes the write lock at `BEGIN` (`IMMEDIATE`), inside this
/// process's writer lock: a deferred transaction that reads first and writes later cannot
/// wait for the lock (SQLite answers busy at once to avoid a deadlock), while `BEGIN
/// IMMEDIATE` waits for another process's writer for the whole busy timeout.
async fn once<T, F>(
    db: &DatabaseConnection,
    bus: &EventBus,
    command: &mut F,
) -> ApiResult<(T, Open)>
where
    F: for<'t> FnMut(&'t DatabaseTransaction) -> CommandFuture<'t, T>,
{
    let writer = bus.writer().await;
    let txn = if writer.is_some() {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?
    } else {
        db.begin().await?
    };
    match command(&txn).await {
        Ok(change) => Ok((
            change.value,
            Open {
                txn,
                _writer: writer,
                events: change.events,
                bus: bus.clone(),
            },
        )),
        Err(err) => {
            txn.rollback().await.ok();
            Err(err)
        }
    }
}
