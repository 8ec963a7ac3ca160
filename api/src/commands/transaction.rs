//! Running a command in one transaction, retrying transient conflicts, then publishing.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use super::Change;
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;

/// How many times a command is tried before the client is told to try again.
const ATTEMPTS: u32 = 8;

/// A command's future, borrowing its transaction.
pub type CommandFuture<'t, T> = Pin<Box<dyn Future<Output = ApiResult<Change<T>>> + Send + 't>>;

/// Runs `command` in a transaction and commits it, then publishes its event; a failure rolls
/// everything back. A transient conflict (busy SQLite, PostgreSQL serialization failure or
/// deadlock) runs the whole command again after a short, growing pause, up to [`ATTEMPTS`]
/// times; after that the client gets `TIMEOUT`, never `INTERNAL`.
pub async fn run<T, F>(db: &DatabaseConnection, bus: &EventBus, mut command: F) -> ApiResult<T>
where
    F: for<'t> FnMut(&'t DatabaseTransaction) -> CommandFuture<'t, T>,
{
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
        }
        match once(db, bus, &mut command).await {
            Err(ApiError::Busy(why)) => last = why,
            other => return other,
        }
    }
    tracing::warn!(reason = %last, "a write gave up after {ATTEMPTS} attempts");
    Err(ApiError::Timeout(
        "the database stayed busy; try the change again".into(),
    ))
}

/// Runs `function(txn, &viewer, &input)`, a command of `commands`, as `viewer` with plain
/// input, in one transaction by [`run`]; evaluates to the command's value:
/// `relm_command!(&db, &bus, &viewer, commands::release::create, new_release)`.
#[macro_export]
macro_rules! relm_command {
    ($db:expr, $bus:expr, $viewer:expr, $function:path, $input:expr) => {{
        let viewer = std::sync::Arc::new(::std::clone::Clone::clone($viewer));
        let input = std::sync::Arc::new($input);
        $crate::commands::transaction::run($db, $bus, move |txn| {
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
async fn once<T, F>(db: &DatabaseConnection, bus: &EventBus, command: &mut F) -> ApiResult<T>
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
        Ok(change) => {
            txn.commit().await?;
            if let Some(event) = change.event {
                bus.committed(event);
            }
            Ok(change.value)
        }
        Err(err) => {
            txn.rollback().await.ok();
            Err(err)
        }
    }
}
