//! What keeps one caller from starving the others: a request budget per caller and a
//! deadline per request (interface.md, "Limits").

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// `RELM_REQUEST_TIMEOUT`'s default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// `RELM_RATE_LIMIT`'s default, in requests per second.
pub const DEFAULT_RATE_LIMIT: u32 = 50;
/// How often (in checks) callers idle long enough to have a full budget are forgotten, so
/// the table holds only recent callers.
const PRUNE_EVERY: u64 = 4_096;

/// The default of every wait on a client: for a request's headers (and for the next
/// request on a kept-alive connection), for its body, for a WebSocket's `connection_init`,
/// and for a report's reader to read on.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The configured limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a GraphQL request may run before it gets `TIMEOUT`.
    pub request_timeout: Duration,
    /// Requests per second per caller, with bursts of twice that; 0 for no limit.
    pub rate_limit: u32,
    /// How long a connection may take to send a request's headers, counted from when it
    /// starts waiting for them (so it also closes idle kept-alive connections).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body, or stop reading a report.
    pub body_read_timeout: Duration,
    /// How long a WebSocket may go without `connection_init`.
    pub ws_init_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limit: DEFAULT_RATE_LIMIT,
            header_read_timeout: DEFAULT_CLIENT_TIMEOUT,
            body_read_timeout: DEFAULT_CLIENT_TIMEOUT,
            ws_init_timeout: DEFAULT_CLIENT_TIMEOUT,
        }
    }
}

/// Whose budget a request spends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// A valid token's `sub`.
    Subject(String),
    /// An ingest source (by id), for a delivery it signed.
    Source(i64),
    /// A calendar feed (by id), for a request with its key.
    Feed(i64),
    /// The client address of a request without a valid token or signature.
    Address(Option<IpAddr>),
}

impl CallerKey {
    /// The subject of a valid token, else the client's address.
    pub fn of(subject: Option<&str>, address: Option<IpAddr>) -> Self {
        match subject {
            Some(subject) => Self::Subject(subject.to_owned()),
            None => Self::Address(address),
        }
    }
}

/// Per-caller token buckets (GCRA, from `governor`).
pub struct RateLimiter {
    buckets: Option<DefaultKeyedRateLimiter<CallerKey>>,
    checks: AtomicU64,
}

impl RateLimiter {
    /// `per_second` requests per second with bursts of twice that; 0 for no limit.
    pub fn new(per_second: u32) -> Self {
        let buckets = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
            DefaultKeyedRateLimiter::dashmap(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            buckets,
            checks: AtomicU64::new(0),
        }
    }

    /// Spends one request of `key`'s budget, or says how long until one is available.
    pub fn check(&self, key: &CallerKey) -> Result<(), Duration> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            buckets.retain_recent();
        }
        buckets
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The `Retry-After` value for a wait: whole seconds, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_of_twice_the_rate_then_refuses() {
        let limiter = RateLimiter::new(5);
        let alice = CallerKey::Subject("alice".into());
        let allowed = (0..20).filter(|_| limiter.check(&alice).is_ok()).count();
        assert_eq!(allowed, 10);
        let wait = limiter.check(&alice).unwrap_err();
        assert!(wait <= Duration::from_millis(200), "{wait:?}");
        assert!(
            limiter.check(&CallerKey::Subject("bob".into())).is_ok(),
            "budgets are per caller"
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        let key = CallerKey::Address(None);
        assert!((0..10_000).all(|_| limiter.check(&key).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(20)), 1);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2_100)), 3);
    }
}
