//! Connecting to SQLite or PostgreSQL with the same settings everywhere.

use std::time::Duration;

use anyhow::Context;
use futures_util::TryStreamExt;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, QueryResult,
    Statement, StreamTrait,
};

use crate::config::{Backend, redact};

mod reads;
mod request;
pub use reads::Reads;
pub use request::{OpenWrite, RequestReads};

/// How long a pooled connection may sit idle before it is tested on checkout: long enough
/// for a busy server never to test, short enough to find a connection that a restarted
/// database server or a proxy dropped meanwhile.
pub const PING_IDLE_AFTER: Duration = Duration::from_secs(30);

/// How long a statement waits for a free connection before it is answered busy.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connections of a SQLite pool.
pub const SQLITE_CONNECTIONS: u32 = 8;

/// The connections a process keeps for the reads of GraphQL requests, beside its pool.
pub const READ_CONNECTIONS: usize = 8;

/// Connects to `url`. SQLite runs in WAL mode with foreign keys on and a busy timeout, so
/// readers never block the writer and a busy writer waits instead of failing.
///
/// The pool tests a connection before handing it out only when it has been idle for
/// [`PING_IDLE_AFTER`]: the pool already pings every connection when it comes back, so a
/// ping on every checkout too made each statement three round trips instead of two.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, None).await
}

/// Connects like [`connect`]; on PostgreSQL every statement is also cancelled by the
/// server after `statement_timeout`, so a request stopped at its deadline stops there too.
pub async fn connect_with(
    url: &str,
    statement_timeout: Option<Duration>,
) -> anyhow::Result<DatabaseConnection> {
    let backend = Backend::of(url)?;
    if backend == Backend::Sqlite {
        owner_only_database(url)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire_if_idle_for(PING_IDLE_AFTER);
    match backend {
        Backend::Sqlite => {
            options
                .max_connections(SQLITE_CONNECTIONS)
                .min_connections(1);
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        }
        Backend::Postgres => {
            options.max_connections(16).min_connections(1);
            if let Some(timeout) = statement_timeout {
                let milliseconds = timeout.as_millis().max(1).to_string();
                options.map_sqlx_postgres_opts(move |o| {
                    o.options([("statement_timeout", milliseconds.as_str())])
                });
            }
        }
    }
    Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {}", redact(url), one_line(&e)))
}

/// Makes a SQLite database file readable by its owner alone, creating it so when the URL
/// asks for it to be created (`mode=rwc`): it holds every release and the sealed secrets.
/// SQLite gives its `-wal` and `-shm` files the database file's permissions.
fn owner_only_database(url: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let Ok(path) = crate::config::sqlite_file(url) else {
        return Ok(()); // in memory
    };
    if url.contains("mode=rwc") {
        let created = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path);
        if let Err(err) = created {
            // SQLite names the problem better (a missing directory, say).
            tracing::debug!(%err, path = %path.display(), "cannot create the database file");
        }
    }
    let Ok(metadata) = std::fs::metadata(&path) else {
        return Ok(());
    };
    let permissions = metadata.permissions();
    if permissions.mode() & 0o077 != 0 {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} owner-only", path.display()))?;
    }
    Ok(())
}

/// A new file (replacing any of that name) that only its owner may read: what relm writes
/// beside a database holds its data.
pub fn owner_only_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let pending = Migrator::get_pending_migrations(db)
        .await
        .context("migration failed")?
        .len();
    Migrator::up(db, None).await.context("migration failed")?;
    tracing::info!(
        applied = pending,
        migrations = Migrator::migrations().len(),
        "database schema up to date"
    );
    Ok(())
}

/// Drops the pool's idle connections: one was found lost (the server ended it), and a
/// restart or failover ended the others too, so the next statement opens a fresh one
/// instead of failing on each of them in turn.
pub fn forget_idle(db: &DatabaseConnection) {
    fn drain<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) {
        while let Some(mut idle) = pool.try_acquire() {
            idle.close_on_drop();
        }
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => drain(db.get_sqlite_connection_pool()),
        DbBackend::Postgres => drain(db.get_postgres_connection_pool()),
        _ => {}
    }
}

/// An error that may say a connection was lost.
pub trait MaybeLost {
    fn lost(&self) -> bool;
}

impl MaybeLost for DbErr {
    fn lost(&self) -> bool {
        crate::error::connection_lost(self)
    }
}

impl MaybeLost for crate::error::ApiError {
    fn lost(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Runs `work` on `db`'s pool, and once more after [`forget_idle`] when the first run found
/// its connection lost: the reads after an outage answer instead of failing on each dead
/// connection the pool still holds.
pub async fn once_more_if_lost<T, E, Work, Run>(
    db: &DatabaseConnection,
    mut work: Work,
) -> Result<T, E>
where
    E: MaybeLost,
    Work: FnMut() -> Run,
    Run: Future<Output = Result<T, E>>,
{
    match work().await {
        Err(err) if err.lost() => {
            forget_idle(db);
            work().await
        }
        other => other,
    }
}

/// Whether the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// What `/metrics` shows of the database connections.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub pool_open: usize,
    pub pool_idle: usize,
    pub reads_open: usize,
    pub reads_idle: usize,
    pub read_statements: u64,
}

/// The pool's and the reads' connections now.
pub fn stats(db: &DatabaseConnection, reads: &Reads) -> Stats {
    let (pool_open, pool_idle) = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size() as usize, pool.num_idle())
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size() as usize, pool.num_idle())
        }
        _ => (0, 0),
    };
    let (reads_open, reads_idle) = reads.connections();
    Stats {
        pool_open,
        pool_idle,
        reads_open,
        reads_idle,
        read_statements: reads.statements(),
    }
}

fn one_line(err: &impl std::fmt::Display) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Streams the rows of `sql`, handing each to `push`, without holding them all. Each row
/// counts against tokio's cooperative budget, so a long read (an export, the analytics
/// load) lets other requests on the same worker run: SQLite's rows arrive through a
/// channel that would otherwise never make the task yield.
pub async fn each_row<C>(
    db: &C,
    sql: String,
    mut push: impl FnMut(QueryResult) -> Result<(), DbErr>,
) -> Result<(), DbErr>
where
    C: ConnectionTrait + StreamTrait,
{
    let statement = Statement::from_string(ConnectionTrait::get_database_backend(db), sql);
    let rows = db.stream_raw(statement).await?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.try_next().await? {
        push(row)?;
        tokio::task::consume_budget().await;
    }
    Ok(())
}

/// Ids for an SQL `IN (…)` list: formatted integers, never user text. An empty list matches
/// nothing.
pub fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let list: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    if list.is_empty() {
        "NULL".into()
    } else {
        list.join(",")
    }
}
