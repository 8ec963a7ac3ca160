//! Errors at the API boundary.
//!
//! Policy: start-up and the command line use `anyhow` and print one line; domain code returns
//! [`ApiError`]; resolvers return [`ApiError`] too, so every error that reaches a client carries
//! one of the contract's codes in `extensions.code`. A database error never reaches a client:
//! it becomes [`ApiError::Internal`], logged once with a request id that the client also gets.
//! Do not use `?` on a `DbErr` inside a resolver without going through `From<DbErr>` here,
//! or async-graphql's blanket conversion would send SQL text to the client.

use sea_orm::DbErr;

/// An error a client may see, with its stable contract code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    GatesNotPassed(String),
    #[error("{0}")]
    FreezeConflict(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    RateLimited(String),
    /// A request named a trusted document the manifest does not have.
    #[error("{0}")]
    PersistedQueryNotFound(String),
    /// A caller that may run only trusted documents sent another.
    #[error("{0}")]
    PersistedQueryRequired(String),
    /// A transient database conflict (SQLite busy, PostgreSQL serialization failure or
    /// deadlock); writes retry it, and a client that still meets it gets `TIMEOUT`.
    #[error("the database is busy; try again")]
    Busy(String),
    /// The database connection failed (the server ended it, or could not be reached):
    /// nothing on it committed, so writes retry on another connection, and a client that
    /// still meets it gets `TIMEOUT`.
    #[error("the database is unavailable; try again")]
    Unavailable(String),
    /// An unexpected failure; the message is for the log only.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::InvalidTransition(_) => "INVALID_TRANSITION",
            Self::GatesNotPassed(_) => "GATES_NOT_PASSED",
            Self::FreezeConflict(_) => "FREEZE_CONFLICT",
            Self::Conflict(_) => "CONFLICT",
            Self::Timeout(_) | Self::Busy(_) | Self::Unavailable(_) => "TIMEOUT",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::PersistedQueryNotFound(_) => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryRequired(_) => "PERSISTED_QUERY_REQUIRED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn bad_input(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::BadUserInput(format!("{field}: {problem}"))
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if is_statement_timeout(&err) {
            Self::Timeout("the database took too long to answer".into())
        } else if connection_lost(&err) {
            Self::Unavailable(format!("database: {err}"))
        } else if is_transient(&err) {
            Self::Busy(format!("database: {err}"))
        } else {
            Self::Internal(format!("database: {err}"))
        }
    }
}

/// SQLite's busy and locked codes (plain and extended), PostgreSQL's serialization failure
/// and deadlock, and a pool with no free connection: conflicts that a retry can resolve.
fn is_transient(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error;
    match err {
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            Error::Database(db) => matches!(
                db.code().as_deref(),
                Some("5" | "6" | "261" | "262" | "517" | "40001" | "40P01")
            ),
            Error::PoolTimedOut => true,
            _ => false,
        },
        _ => false,
    }
}

/// Whether `err` says the connection itself failed: the server ended it (PostgreSQL's
/// connection exceptions, class 08, and its shutdown codes 57P01 to 57P03, which
/// `pg_terminate_backend` and a restart send), or the network or protocol broke. Nothing
/// on that connection can be trusted, and another connection may well succeed.
pub fn connection_lost(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_connection_lost(e),
        _ => false,
    }
}

/// [`connection_lost`] for sqlx's own error.
pub fn sqlx_connection_lost(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_) | Error::Tls(_) | Error::Protocol(_) => true,
        Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// PostgreSQL's `query_canceled`, which `statement_timeout` raises.
fn is_statement_timeout(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(e.as_ref(), sea_orm::sqlx::Error::Database(db) if db.code().as_deref() == Some("57014"))
        }
        _ => false,
    }
}

/// Maps a unique-constraint violation to `CONFLICT` with `message`; anything else as usual.
pub fn conflict_on_duplicate(message: impl Into<String>) -> impl FnOnce(DbErr) -> ApiError {
    move |err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict(message.into()),
        _ => err.into(),
    }
}

/// The result type of resolvers and domain functions.
pub type ApiResult<T> = Result<T, ApiError>;
