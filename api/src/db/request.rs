//! Where one request's reads go.
//!
//! A query reads through the process's read connections ([`Reads`]). A mutation's
//! transaction stays open until the mutation's answer is built: its nested fields read
//! through that transaction, on the connection that wrote, and it commits before the
//! response leaves ([`RequestReads::commit_pending`]). So an answer always shows what was
//! written, and a write that committed never answers with an error because a read after it
//! failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::sync::Mutex;

use super::Reads;
use crate::error::ApiResult;

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
    /// A mutation request's slot for the write of the mutation that ran last.
    pending: Option<Arc<Pending>>,
}

#[derive(Default)]
struct Pending {
    open: Mutex<Option<Box<dyn OpenWrite>>>,
    /// Whether `open` holds a write, checked without the lock.
    held: AtomicBool,
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

    /// Reads go through `open` until it is committed. Mutations run one after another, so
    /// the one before has been committed by [`Self::commit_pending`] first.
    pub async fn park(&self, open: Box<dyn OpenWrite>) {
        if let Some(pending) = &self.pending {
            let mut slot = pending.open.lock().await;
            *slot = Some(open);
            pending.held.store(true, Ordering::Release);
        }
    }

    /// Commits the write left open, if any.
    pub async fn commit_pending(&self) -> ApiResult<()> {
        match self.take().await {
            Some(open) => open.commit().await,
            None => Ok(()),
        }
    }

    /// Rolls back the write left open, if any (the request ran out of time).
    pub async fn discard_pending(&self) {
        if let Some(open) = self.take().await {
            open.rollback().await;
        }
    }

    async fn take(&self) -> Option<Box<dyn OpenWrite>> {
        let pending = self.pending.as_ref()?;
        let open = pending.open.lock().await.take();
        pending.held.store(false, Ordering::Release);
        open
    }

    async fn fetch(&self, stmt: Statement, one: bool) -> Result<Vec<QueryResult>, DbErr> {
        if let Some(pending) = &self.pending
            && pending.held.load(Ordering::Acquire)
        {
            let open = pending.open.lock().await;
            if let Some(open) = open.as_ref() {
                let txn = open.transaction();
                return if one {
                    Ok(txn.query_one_raw(stmt).await?.into_iter().collect())
                } else {
                    txn.query_all_raw(stmt).await
                };
            }
        }
        if one {
            Ok(self.reads.query_one_raw(stmt).await?.into_iter().collect())
        } else {
            self.reads.query_all_raw(stmt).await
        }
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
