//! Where one request's reads go.
//!
//! A query reads through the process's read connections ([`Reads`]). A mutation's write is
//! left open while its answer is built: the answer's fields read through the write's own
//! transaction, on the connection that wrote, and the write commits when its answer is
//! complete ([`RequestReads::finish`], called for each mutation field by
//! `app::commit`). So an answer shows what was written, a write that committed is never
//! answered with an error because a read after it failed, and a write whose answer could not
//! be built is rolled back rather than reported as failed while committed.
//!
//! A write is held open at most [`ANSWER_WINDOW`]: past it, it commits, and the rest of its
//! answer reads the committed rows through the read connections, so an expensive answer
//! cannot keep other writers waiting.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::sync::Mutex;

use super::Reads;
use crate::error::{ApiError, ApiResult};

/// The longest a write stays open while its answer is built.
pub const ANSWER_WINDOW: Duration = Duration::from_secs(1);

/// A write whose transaction is done but not committed (`commands::transaction::Open`).
#[async_trait::async_trait]
pub trait OpenWrite: Send + Sync {
    /// The transaction, to read what the write changed before anyone else sees it.
    fn transaction(&self) -> &DatabaseTransaction;
    /// Commits, then tells whoever waits for the write's events.
    async fn commit(self: Box<Self>) -> ApiResult<()>;
    /// Rolls back: nothing the write did happens.
    async fn rollback(self: Box<Self>);
}

/// The reads of one request (cheap to clone: clones share the pending write).
#[derive(Clone)]
pub struct RequestReads {
    reads: Reads,
    /// A mutation request's pending write.
    pending: Option<Arc<Pending>>,
}

#[derive(Default)]
struct Pending {
    slot: Mutex<Slot>,
    /// Whether `slot` holds an open write, checked without the lock.
    held: AtomicBool,
}

#[derive(Default)]
struct Slot {
    open: Option<Box<dyn OpenWrite>>,
    /// Counts the writes parked, so a window's timer commits only its own.
    parked: u64,
    /// A read through the open write failed: PostgreSQL then rolls the transaction back
    /// whatever `COMMIT` says, so the write must not be reported as committed.
    failed: Option<ApiError>,
    /// The outcome of a commit the window forced before the answer was complete.
    committed_early: Option<ApiResult<()>>,
}

impl RequestReads {
    /// Reads for a query or subscription: the read connections.
    pub fn of_query(reads: &Reads) -> Self {
        Self {
            reads: reads.clone(),
            pending: None,
        }
    }

    /// Reads for a mutation request, which may keep a write open.
    pub fn of_mutation(reads: &Reads) -> Self {
        Self {
            reads: reads.clone(),
            pending: Some(Arc::default()),
        }
    }

    /// Whether a write may be left open for this request to read through.
    pub fn keeps_writes(&self) -> bool {
        self.pending.is_some()
    }

    /// Reads go through `open` until [`Self::finish`] (or the window) commits it. Mutations
    /// run one after another, each finished before the next starts.
    pub async fn park(&self, open: Box<dyn OpenWrite>) {
        let Some(pending) = &self.pending else {
            return;
        };
        let mut slot = pending.slot.lock().await;
        slot.open = Some(open);
        slot.parked += 1;
        slot.failed = None;
        slot.committed_early = None;
        pending.held.store(true, Ordering::Release);
        let (parked, weak) = (slot.parked, Arc::downgrade(pending));
        tokio::spawn(async move {
            tokio::time::sleep(ANSWER_WINDOW).await;
            commit_early(weak, parked).await;
        });
    }

    /// Ends the write of a mutation whose answer is built: commits it when `keep` (its
    /// answer is not null) and no read through it failed, rolls it back otherwise. The
    /// commit runs in a task of its own, so a request dropped at its deadline cannot cut it
    /// in half: it completes, and its events are published.
    pub async fn finish(&self, keep: bool) -> ApiResult<()> {
        let Some(pending) = &self.pending else {
            return Ok(());
        };
        let (open, failed, early) = {
            let mut slot = pending.slot.lock().await;
            pending.held.store(false, Ordering::Release);
            (
                slot.open.take(),
                slot.failed.take(),
                slot.committed_early.take(),
            )
        };
        match (open, failed) {
            (Some(open), Some(failed)) => {
                open.rollback().await;
                Err(failed)
            }
            (Some(open), None) if keep => tokio::spawn(open.commit())
                .await
                .map_err(|e| ApiError::Internal(format!("a commit did not finish: {e}")))?,
            (Some(open), None) => {
                open.rollback().await;
                Ok(())
            }
            (None, _) => early.unwrap_or(Ok(())),
        }
    }

    /// Commits a write still open (none is, once every mutation field has finished).
    pub async fn commit_pending(&self) -> ApiResult<()> {
        self.finish(true).await
    }

    /// Rolls back a write still open (the request ran out of time before its answer was
    /// built).
    pub async fn discard_pending(&self) {
        if let Some(pending) = &self.pending {
            let open = pending.slot.lock().await.open.take();
            pending.held.store(false, Ordering::Release);
            if let Some(open) = open {
                open.rollback().await;
            }
        }
    }

    /// Whether a write is open for this request's reads (the process keeps no row read
    /// through one: it may yet be rolled back).
    pub fn reads_uncommitted(&self) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|p| p.held.load(Ordering::Acquire))
    }

    async fn fetch(&self, stmt: Statement, one: bool) -> Result<Vec<QueryResult>, DbErr> {
        if let Some(pending) = &self.pending
            && pending.held.load(Ordering::Acquire)
        {
            let mut slot = pending.slot.lock().await;
            if let Some(open) = slot.open.as_ref() {
                let txn = open.transaction();
                let fetched = if one {
                    txn.query_one_raw(stmt)
                        .await
                        .map(|row| row.into_iter().collect())
                } else {
                    txn.query_all_raw(stmt).await
                };
                if let Err(err) = &fetched
                    && slot.failed.is_none()
                {
                    slot.failed = Some(ApiError::from(err.clone()));
                }
                return fetched;
            }
        }
        if one {
            Ok(self.reads.query_one_raw(stmt).await?.into_iter().collect())
        } else {
            self.reads.query_all_raw(stmt).await
        }
    }
}

/// The window's end: commits the write parked `parked`-th if it is still open.
async fn commit_early(pending: Weak<Pending>, parked: u64) {
    let Some(pending) = pending.upgrade() else {
        return;
    };
    let mut slot = pending.slot.lock().await;
    if slot.parked != parked || slot.open.is_none() || slot.failed.is_some() {
        return;
    }
    pending.held.store(false, Ordering::Release);
    if let Some(open) = slot.open.take() {
        slot.committed_early = Some(open.commit().await);
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for RequestReads {
    fn get_database_backend(&self) -> DbBackend {
        self.reads.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.reads.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.reads.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.fetch(stmt, true).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.fetch(stmt, false).await
    }
}
