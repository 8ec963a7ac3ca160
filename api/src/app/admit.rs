//! Who is calling, decided before anything runs: a request without a valid token, or over
//! its caller's budget, is refused here with the error it gets (and its HTTP status follows
//! from the error's code, `http::status_of`).

use std::net::IpAddr;

use async_graphql::ErrorExtensions;

use super::AppState;
use crate::auth::{Caller, Credentials};
use crate::error::ApiError;
use crate::guard::{CallerKey, retry_after_seconds};

/// A request refused before it ran.
#[derive(Debug)]
pub struct Refusal {
    pub error: ApiError,
    /// Seconds until the caller's budget allows another request.
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub fn new(error: ApiError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }

    /// The error as GraphQL's `{"message", "extensions"}`.
    pub fn error_json(&self) -> serde_json::Value {
        let error = self.error.extend();
        serde_json::json!({
            "message": error.message,
            "extensions": error.extensions,
        })
    }
}

/// Whose budget a request spends and who it is, or why it may not run at all: the
/// caller's budget is spent before the database is asked about the caller.
pub async fn admit(
    state: &AppState,
    authorization: Option<&str>,
    address: Option<IpAddr>,
) -> Result<Caller, Refusal> {
    let credentials = Credentials::read(state.tokens(), authorization).await;
    let key = CallerKey::of(credentials.subject(), address);
    if let Err(wait) = state.limiter.check(&key) {
        return Err(Refusal {
            error: ApiError::RateLimited(format!(
                "more than {} requests per second; try again shortly",
                state.limits.rate_limit
            )),
            retry_after: Some(retry_after_seconds(wait)),
        });
    }
    let caller = crate::db::once_more_if_lost(&state.db, || {
        credentials.clone().caller(&state.db, &state.program_ids)
    })
    .await
    .map_err(Refusal::new)?;
    match caller.viewer() {
        Ok(_) => Ok(caller),
        Err(err) => Err(Refusal::new(err)),
    }
}
