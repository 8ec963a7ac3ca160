//! Logging set-up and the counters behind `/metrics` (Prometheus text format).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

/// Starts logging to stderr with `filter` (RELM_LOG), as JSON lines when `json`.
pub fn init_logging(filter: &str, json: bool) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid RELM_LOG filter '{filter}': {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counters {
    requests: BTreeMap<&'static str, u64>,
    latency: BTreeMap<&'static str, Histogram>,
    errors: BTreeMap<String, u64>,
}

/// Request counters of one process.
#[derive(Default)]
pub struct Telemetry {
    counters: Mutex<Counters>,
}

impl Telemetry {
    /// Records one GraphQL request of `operation` and the codes of its errors.
    pub fn record(&self, operation: &'static str, elapsed: Duration, error_codes: &[String]) {
        let Ok(mut c) = self.counters.lock() else {
            return;
        };
        *c.requests.entry(operation).or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let histogram = c.latency.entry(operation).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        for code in error_codes {
            *c.errors.entry(code.clone()).or_default() += 1;
        }
    }

    /// The Prometheus exposition of the counters and the database pool.
    pub fn render(&self, pool_size: u32, pool_idle: usize) -> String {
        let mut out = String::new();
        if let Ok(c) = self.counters.lock() {
            out.push_str(
                "# HELP relm_graphql_requests_total GraphQL requests by operation type.\n",
            );
            out.push_str("# TYPE relm_graphql_requests_total counter\n");
            for (op, n) in &c.requests {
                let _ = writeln!(out, "relm_graphql_requests_total{{operation=\"{op}\"}} {n}");
            }
            out.push_str("# HELP relm_graphql_request_duration_seconds GraphQL request latency.\n");
            out.push_str("# TYPE relm_graphql_request_duration_seconds histogram\n");
            for (op, h) in &c.latency {
                for (bound, n) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        out,
                        "relm_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    out,
                    "relm_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}\nrelm_graphql_request_duration_seconds_sum{{operation=\"{op}\"}} {}\nrelm_graphql_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
            out.push_str("# HELP relm_graphql_errors_total GraphQL errors by code.\n");
            out.push_str("# TYPE relm_graphql_errors_total counter\n");
            for (code, n) in &c.errors {
                let _ = writeln!(out, "relm_graphql_errors_total{{code=\"{code}\"}} {n}");
            }
        }
        out.push_str("# HELP relm_db_pool_connections Open database connections.\n");
        out.push_str("# TYPE relm_db_pool_connections gauge\n");
        let _ = writeln!(out, "relm_db_pool_connections {pool_size}");
        out.push_str("# HELP relm_db_pool_idle_connections Idle database connections.\n");
        out.push_str("# TYPE relm_db_pool_idle_connections gauge\n");
        let _ = writeln!(out, "relm_db_pool_idle_connections {pool_idle}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_buckets_and_errors() {
        let t = Telemetry::default();
        t.record("query", Duration::from_millis(20), &[]);
        t.record("query", Duration::from_millis(300), &["NOT_FOUND".into()]);
        let text = t.render(4, 3);
        assert!(text.contains("relm_graphql_requests_total{operation=\"query\"} 2"));
        assert!(text.contains("le=\"0.025\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("relm_graphql_errors_total{code=\"NOT_FOUND\"} 1"));
        assert!(text.contains("relm_db_pool_connections 4"));
    }
}
