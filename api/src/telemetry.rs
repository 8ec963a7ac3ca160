//! Logging set-up and the counters behind `/metrics` (Prometheus text format).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use crate::db;
use crate::guard::Limits;

/// Starts logging to stderr with `filter` (RELM_LOG), as JSON lines when `json`.
pub fn init_logging(filter: &str, json: bool) -> anyhow::Result<()> {
    let text = filter;
    let mut filter = EnvFilter::try_new(text)
        .map_err(|e| anyhow::anyhow!("invalid RELM_LOG filter '{text}': {e}"))?;
    // One line per fact at start-up: not one per migration step, and not PostgreSQL's
    // notices ("relation already exists"), unless the filter asks for them by name.
    for target in QUIET_TARGETS {
        if !text.contains(target)
            && let Ok(directive) = format!("{target}=warn").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    // Colours only on a terminal: a log file or journal gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}

/// Targets that log at `info` what an operator does not need to read.
const QUIET_TARGETS: [&str; 3] = [
    "sea_orm_migration",
    "sqlx::postgres::notice",
    "sea_orm::driver",
];

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
    /// Exports by dataset, format and outcome.
    exports: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    export_rows: u64,
    /// GraphQL requests stopped at their deadline.
    timeouts: u64,
    /// Ingested deliveries by source kind and status (`DUPLICATE` for a repeat).
    deliveries: BTreeMap<(&'static str, &'static str), u64>,
    /// Deliveries refused with 401 (unknown source, disabled, bad signature).
    signature_failures: u64,
    /// Calendar feed requests by outcome.
    feeds: BTreeMap<&'static str, u64>,
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

    /// Records one report request of `dataset` in `format`: its outcome (`ok`, `refused`
    /// or `failed`) and the rows written.
    pub fn record_export(
        &self,
        dataset: &'static str,
        format: &'static str,
        outcome: &'static str,
        rows: usize,
    ) {
        let Ok(mut c) = self.counters.lock() else {
            return;
        };
        *c.exports.entry((dataset, format, outcome)).or_default() += 1;
        c.export_rows += rows as u64;
    }

    /// Records one ingested delivery of a source of `kind` that became `status`.
    pub fn record_delivery(&self, kind: &'static str, status: &'static str) {
        if let Ok(mut c) = self.counters.lock() {
            *c.deliveries.entry((kind, status)).or_default() += 1;
        }
    }

    /// Records a delivery refused for its key or signature.
    pub fn record_signature_failure(&self) {
        if let Ok(mut c) = self.counters.lock() {
            c.signature_failures += 1;
        }
    }

    /// Records one calendar feed request: `ok`, `not_found`, `rate_limited` or `failed`.
    pub fn record_feed(&self, outcome: &'static str) {
        if let Ok(mut c) = self.counters.lock() {
            *c.feeds.entry(outcome).or_default() += 1;
        }
    }

    /// Records a GraphQL request stopped at its deadline.
    pub fn record_timeout(&self) {
        if let Ok(mut c) = self.counters.lock() {
            c.timeouts += 1;
        }
    }

    /// The Prometheus exposition of the counters, the limits and the database connections.
    /// Requests refused over their budget count as `RATE_LIMITED` errors.
    pub fn render(&self, db: &db::Stats, store_loads: u64, limits: &Limits) -> String {
        let mut text = String::new();
        let out = &mut text;
        single(
            out,
            "relm_analytics_store_loads_total",
            "counter",
            "Full loads of the analytics store.",
            store_loads,
        );
        single(
            out,
            "relm_rate_limit_per_second",
            "gauge",
            "Requests per second allowed per caller (0: no limit).",
            limits.rate_limit,
        );
        single(
            out,
            "relm_request_timeout_seconds",
            "gauge",
            "The deadline of a GraphQL request.",
            limits.request_timeout.as_secs_f64(),
        );
        if let Ok(c) = self.counters.lock() {
            single(
                out,
                "relm_graphql_timeouts_total",
                "counter",
                "GraphQL requests stopped at their deadline.",
                c.timeouts,
            );
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
            out.push_str(
                "# HELP relm_export_requests_total Report exports by dataset, format and outcome.\n",
            );
            out.push_str("# TYPE relm_export_requests_total counter\n");
            for ((dataset, format, outcome), n) in &c.exports {
                let _ = writeln!(
                    out,
                    "relm_export_requests_total{{dataset=\"{dataset}\",format=\"{format}\",outcome=\"{outcome}\"}} {n}"
                );
            }
            single(
                out,
                "relm_export_rows_total",
                "counter",
                "Rows written by report exports.",
                c.export_rows,
            );
            out.push_str(
                "# HELP relm_ingest_deliveries_total Ingested deliveries by source kind and status.\n",
            );
            out.push_str("# TYPE relm_ingest_deliveries_total counter\n");
            for ((kind, status), n) in &c.deliveries {
                let _ = writeln!(
                    out,
                    "relm_ingest_deliveries_total{{kind=\"{kind}\",status=\"{status}\"}} {n}"
                );
            }
            single(
                out,
                "relm_ingest_signature_failures_total",
                "counter",
                "Deliveries refused with 401.",
                c.signature_failures,
            );
            out.push_str(
                "# HELP relm_calendar_feed_requests_total Calendar feed requests by outcome.\n",
            );
            out.push_str("# TYPE relm_calendar_feed_requests_total counter\n");
            for (outcome, n) in &c.feeds {
                let _ = writeln!(
                    out,
                    "relm_calendar_feed_requests_total{{outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        let gauges = [
            (
                "relm_db_pool_connections",
                "Open database connections.",
                db.pool_open,
            ),
            (
                "relm_db_pool_idle_connections",
                "Idle database connections.",
                db.pool_idle,
            ),
            (
                "relm_db_read_connections",
                "Open connections for the reads of GraphQL requests.",
                db.reads_open,
            ),
            (
                "relm_db_read_idle_connections",
                "Idle connections for reads.",
                db.reads_idle,
            ),
        ];
        for (name, help, value) in gauges {
            single(out, name, "gauge", help, value);
        }
        single(
            out,
            "relm_db_read_statements_total",
            "counter",
            "Statements run for reads.",
            db.read_statements,
        );
        text
    }
}

/// A metric of one value, with its help and type lines.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_buckets_and_errors() {
        let t = Telemetry::default();
        t.record("query", Duration::from_millis(20), &[]);
        t.record("query", Duration::from_millis(300), &["NOT_FOUND".into()]);
        let connections = db::Stats {
            pool_open: 4,
            reads_open: 2,
            read_statements: 7,
            ..db::Stats::default()
        };
        let text = t.render(&connections, 2, &Limits::default());
        assert!(text.contains("relm_analytics_store_loads_total 2"));
        assert!(text.contains("relm_rate_limit_per_second 50"));
        assert!(text.contains("relm_request_timeout_seconds 30"));
        assert!(text.contains("relm_graphql_requests_total{operation=\"query\"} 2"));
        assert!(text.contains("le=\"0.025\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("relm_graphql_errors_total{code=\"NOT_FOUND\"} 1"));
        assert!(text.contains("relm_db_pool_connections 4"));
        assert!(text.contains("relm_db_read_connections 2"));
        assert!(text.contains("relm_db_read_statements_total 7"));
        assert!(text.contains("relm_export_rows_total 0"));
    }

    #[test]
    fn counts_exports_by_dataset_format_and_outcome() {
        let t = Telemetry::default();
        t.record_export("deployments", "csv", "ok", 10);
        t.record_export("deployments", "csv", "ok", 5);
        t.record_export("trend", "json", "refused", 0);
        let text = t.render(&db::Stats::default(), 0, &Limits::default());
        assert!(text.contains(
            "relm_export_requests_total{dataset=\"deployments\",format=\"csv\",outcome=\"ok\"} 2"
        ));
        assert!(text.contains(
            "relm_export_requests_total{dataset=\"trend\",format=\"json\",outcome=\"refused\"} 1"
        ));
        assert!(text.contains("relm_export_rows_total 15"));
    }
}
