//! Connections kept for reads, handed back without a test.
//!
//! sqlx's pool tests every connection it takes back with a round trip to the database (on
//! SQLite, two hand-offs between threads) and cannot be told not to. A lookup by key is one
//! statement, so that test was half of its database work. The reads of GraphQL requests go
//! through [`Reads`] instead: connections of their own, taken and given back in memory.
//! Only a connection idle for [`PING_IDLE_AFTER`] is tested before use, and only one whose
//! statement was abandoned midway (a request stopped at its deadline) is tested when it
//! comes back, once that statement has finished. Writes keep sea-orm's pool and its
//! transactions: `Reads` refuses to execute, and on PostgreSQL its connections are
//! read-only. Closing the pool closes the reads too.
//!
//! Faults: a connection whose statement failed is tested before it is used again. One that
//! the server ended or the network dropped ([`crate::error::sqlx_connection_lost`]) says
//! the others are likely gone too (a restart or failover ends them all): the idle ones are
//! dropped, and the read is tried once more on a freshly opened connection, so the first
//! reads after an outage answer instead of failing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx::{
    self, AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool, SqliteConnection,
    SqlitePool,
};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement, Values,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ACQUIRE_TIMEOUT, PING_IDLE_AFTER};

/// How long an abandoned statement may take to finish before its connection is closed.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// At most `connections` connections for reads, opened as they are first needed with the
/// pool's own settings (WAL and foreign keys, the statement timeout) and kept open.
#[derive(Clone)]
pub struct Reads(Arc<Shared>);

struct Shared {
    pool: Pool,
    idle: Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
    max: usize,
    statements: AtomicU64,
}

/// The pool whose settings the reads connect with, and whose closing closes them.
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

enum Raw {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

struct Idle {
    raw: Raw,
    since: Instant,
    /// Its last statement failed: test it before the next.
    suspect: bool,
}

/// A connection taken for one statement. Dropped without [`Lease::give_back`], its
/// statement was abandoned: the connection is tested once that statement finishes, and
/// counts against the limit until then, so abandoned statements cannot pile up on the
/// database beyond it.
struct Lease {
    raw: Option<Raw>,
    reads: Reads,
    permit: Option<OwnedSemaphorePermit>,
}

impl Reads {
    /// Reads on the database of `db`, with the settings its pool connects with.
    pub fn new(db: &DatabaseConnection, connections: usize) -> Self {
        let pool = match db.get_database_backend() {
            DbBackend::Postgres => Pool::Postgres(db.get_postgres_connection_pool().clone()),
            _ => Pool::Sqlite(db.get_sqlite_connection_pool().clone()),
        };
        Self(Arc::new(Shared {
            pool,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(connections)),
            max: connections,
            statements: AtomicU64::new(0),
        }))
    }

    /// The statements run so far, for `/metrics` and tests.
    pub fn statements(&self) -> u64 {
        self.0.statements.load(Ordering::Relaxed)
    }

    /// Open connections and idle ones, for `/metrics`.
    pub fn connections(&self) -> (usize, usize) {
        let idle = self.0.idle.lock().map_or(0, |idle| idle.len());
        let busy = self.0.max - self.0.permits.available_permits();
        (idle + busy, idle)
    }

    /// A connection for one statement: an idle one (tested if it failed last time or sat
    /// idle long), or with `fresh` a newly opened one.
    async fn take(&self, fresh: bool) -> Result<Lease, DbErr> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.0.permits.clone().acquire_owned())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
            .map_err(|_| closed())?;
        if self.0.pool.is_closed() {
            self.0.idle.lock().map(|mut idle| idle.clear()).ok();
            return Err(closed());
        }
        self.0.statements.fetch_add(1, Ordering::Relaxed);
        let idle = if fresh {
            None
        } else {
            self.0.idle.lock().ok().and_then(|mut idle| idle.pop())
        };
        let raw = match idle {
            Some(idle) if !idle.suspect && idle.since.elapsed() < PING_IDLE_AFTER => idle.raw,
            Some(Idle { mut raw, .. }) => match raw.ping().await {
                Ok(()) => raw,
                Err(_) => self.open().await?,
            },
            None => self.open().await?,
        };
        Ok(Lease {
            raw: Some(raw),
            reads: self.clone(),
            permit: Some(permit),
        })
    }

    async fn open(&self) -> Result<Raw, DbErr> {
        let opening = async {
            match &self.0.pool {
                Pool::Sqlite(pool) => pool.connect_options().connect().await.map(Raw::Sqlite),
                // The database itself refuses a write on these connections.
                Pool::Postgres(pool) => {
                    let options = pool.connect_options().as_ref().clone();
                    let options = options.options([("default_transaction_read_only", "on")]);
                    options.connect().await.map(Raw::Postgres)
                }
            }
        };
        match tokio::time::timeout(ACQUIRE_TIMEOUT, opening).await {
            Ok(opened) => opened.map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))),
            Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }

    fn keep(&self, raw: Raw, suspect: bool) {
        if let Ok(mut idle) = self.0.idle.lock() {
            idle.push(Idle {
                raw,
                since: Instant::now(),
                suspect,
            });
        }
    }

    /// Drops every idle connection: one was found lost, and the rest went with it.
    fn forget_idle(&self) {
        if let Ok(mut idle) = self.0.idle.lock() {
            idle.clear();
        }
    }

    /// The rows of `stmt`, at most one when `one`; tried once more on a fresh connection
    /// when the first one turns out lost.
    async fn fetch(&self, stmt: Statement, one: bool) -> Result<Vec<QueryResult>, DbErr> {
        match self.fetch_on(stmt.clone(), one, false).await {
            Err(lost) if lost.is_lost() => {
                self.forget_idle();
                self.fetch_on(stmt, one, true)
                    .await
                    .map_err(Failure::into_db)
            }
            other => other.map_err(Failure::into_db),
        }
    }

    async fn fetch_on(
        &self,
        stmt: Statement,
        one: bool,
        fresh: bool,
    ) -> Result<Vec<QueryResult>, Failure> {
        let mut lease = self.take(fresh).await.map_err(Failure::Other)?;
        // A lease holds its connection until it is given back or closed.
        let Some(raw) = lease.raw.as_mut() else {
            return Err(Failure::Other(closed()));
        };
        let fetched = raw.fetch(stmt, one).await;
        match fetched {
            Ok(rows) => {
                lease.give_back(false);
                Ok(rows)
            }
            Err(e) if crate::error::sqlx_connection_lost(&e) => {
                lease.close();
                Err(Failure::Lost(query_err(e)))
            }
            // The database answered: the connection is in a known state, tested before
            // its next statement all the same.
            Err(e @ sqlx::Error::Database(_)) => {
                lease.give_back(true);
                Err(Failure::Other(query_err(e)))
            }
            Err(e) => {
                lease.close();
                Err(Failure::Other(query_err(e)))
            }
        }
    }
}

/// Why a read failed: its connection was lost (worth one more try on a fresh one), or
/// anything else.
enum Failure {
    Lost(DbErr),
    Other(DbErr),
}

impl Failure {
    fn is_lost(&self) -> bool {
        matches!(self, Self::Lost(_))
    }

    fn into_db(self) -> DbErr {
        match self {
            Self::Lost(e) | Self::Other(e) => e,
        }
    }
}

impl Pool {
    fn is_closed(&self) -> bool {
        match self {
            Pool::Sqlite(pool) => pool.is_closed(),
            Pool::Postgres(pool) => pool.is_closed(),
        }
    }
}

impl Raw {
    async fn fetch(&mut self, stmt: Statement, one: bool) -> Result<Vec<QueryResult>, sqlx::Error> {
        let values = SqlxValues(stmt.values.unwrap_or(Values(Vec::new())));
        match self {
            Raw::Sqlite(conn) => rows(conn, stmt.sql, values, one).await,
            Raw::Postgres(conn) => rows(conn, stmt.sql, values, one).await,
        }
    }

    async fn ping(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Raw::Sqlite(conn) => conn.ping().await,
            Raw::Postgres(conn) => conn.ping().await,
        }
    }
}

impl Lease {
    fn give_back(mut self, suspect: bool) {
        if let Some(raw) = self.raw.take() {
            self.reads.keep(raw, suspect);
        }
    }

    fn close(mut self) {
        self.raw = None;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (Some(mut raw), Ok(runtime)) = (self.raw.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let reads = self.reads.clone();
        let permit = self.permit.take();
        runtime.spawn(async move {
            if let Ok(Ok(())) = tokio::time::timeout(SETTLE_TIMEOUT, raw.ping()).await {
                reads.keep(raw, false);
            }
            drop(permit);
        });
    }
}

/// The rows of `sql` bound to `values` on `conn`, at most one when `one`.
async fn rows<'c, DB, E>(
    conn: E,
    sql: String,
    values: SqlxValues,
    one: bool,
) -> Result<Vec<QueryResult>, sqlx::Error>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    SqlxValues: sqlx::IntoArguments<DB>,
    QueryResult: From<DB::Row>,
{
    let query = sqlx::query_with(AssertSqlSafe(sql), values);
    Ok(if one {
        let row = query.fetch_optional(conn).await?;
        row.into_iter().map(Into::into).collect()
    } else {
        let rows = query.fetch_all(conn).await?;
        rows.into_iter().map(Into::into).collect()
    })
}

fn closed() -> DbErr {
    DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

#[async_trait::async_trait]
impl ConnectionTrait for Reads {
    fn get_database_backend(&self) -> DbBackend {
        match self.0.pool {
            Pool::Sqlite(_) => DbBackend::Sqlite,
            Pool::Postgres(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, _: Statement) -> Result<ExecResult, DbErr> {
        Err(read_only())
    }

    async fn execute_unprepared(&self, _: &str) -> Result<ExecResult, DbErr> {
        Err(read_only())
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.fetch(stmt, true).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.fetch(stmt, false).await
    }
}

fn read_only() -> DbErr {
    DbErr::Custom("reads cannot execute statements: write in a transaction".into())
}
