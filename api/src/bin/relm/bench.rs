//! `relm bench`: how fast `Query.metrics` answers on the data in the database, and, on
//! PostgreSQL, how that compares with the four DORA figures computed by SQL
//! (`percentile_cont`), the way metrics tools commonly compute them.
//!
//! It runs the full metrics query over the last two years (MONTH trend and byProgram)
//! through the real schema: cold (a process's first query, loading the store), warm, and the
//! first query after a write (which it makes through `addReleaseItem`, so the benchmark adds
//! items to the newest release); and what continuous improvement adds (`improvement`) and
//! forecasts (`forecast`).

mod feed;
mod forecast;
mod http;
mod improvement;
pub mod ingest;
pub mod notifications;
pub mod read;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryOrder,
    Statement,
};
use serde_json::{Value, json};

use crate::output::outln;
use api::app::AppState;
use api::app::{self, limits::RequestMeta};
use api::auth::{Caller, Role, Scope, Viewer};
use api::ids::{self, NodeType};
use api::progress::Progress;
use api::time::{self, DAY_MICROS};

const METRICS: &str = "query($filter: MetricsFilter!) { metrics(filter: $filter) {
  deploymentFrequency { deployments deploymentDays perDay band }
  leadTime { hours { count mean median p90 p95 min max } band }
  changeFailureRate { deployments failed rate band }
  timeToRestore { hours { count mean median p90 p95 min max } band }
  reworkRate { deployments rework rate }
  delivery { releasesDelivered onTimeRate slippageDays { count median } rollbackRate gateFirstPassRate reviewCompletionRate actionsOpen actionsOverdue actionsClosed }
  trend { start end deployments failedDeployments changeFailureRate leadTimeMedianHours timeToRestoreMedianHours releasesDelivered onTimeRate }
  byProgram { programKey deploymentFrequency { deployments perDay band } leadTime { hours { median } band } changeFailureRate { rate band } timeToRestore { hours { median } band } delivery { releasesDelivered onTimeRate } }
} }";

fn admin() -> Caller {
    Caller::Authenticated(Viewer {
        subject: "relm-bench".into(),
        role: Role::Admin,
        program_keys: None,
        scope: Scope::All,
        expires_at: None,
    })
}

/// Runs `query` as an admin along the path of every request (`app::execute`).
async fn execute(state: &AppState, query: &str, variables: Value) -> async_graphql::Response {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    let meta = Arc::new(RequestMeta::default());
    match app::execute(state, admin(), request, meta).await {
        Ok(response) => response,
        Err(refusal) => async_graphql::Response::from_errors(vec![
            async_graphql::Error::from(refusal.error).into_server_error(Default::default()),
        ]),
    }
}

async fn run(state: &AppState, query: &str, variables: Value) -> anyhow::Result<Value> {
    let response = execute(state, query, variables).await;
    anyhow::ensure!(
        response.errors.is_empty(),
        "query failed: {:?}",
        response.errors
    );
    Ok(serde_json::to_value(response.data)?)
}

async fn timed(state: &AppState, filter: &Value) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let data = run(state, METRICS, json!({ "filter": filter })).await?;
    Ok((started.elapsed(), data))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints the throughput and latencies of `what` over `seconds`, and the first failures;
/// any failure fails the benchmark.
fn report(
    what: &str,
    seconds: u64,
    latencies: Vec<Duration>,
    failures: &[String],
) -> anyhow::Result<()> {
    let total = latencies.len();
    outln!(
        "{total} {what}, {:.0} {what}/s; latency {}",
        total as f64 / seconds.max(1) as f64,
        summary(latencies)
    );
    outln!("failed {what}: {}", failures.len());
    for failure in failures.iter().take(5) {
        outln!("  {failure}");
    }
    anyhow::ensure!(failures.is_empty(), "{} {what} failed", failures.len());
    Ok(())
}

/// Median, 95th and 99th percentiles and maximum of durations, in milliseconds.
fn summary(mut samples: Vec<Duration>) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    let at = |p: f64| millis(samples[((samples.len() - 1) as f64 * p).round() as usize]);
    format!(
        "median {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0),
        samples.len()
    )
}

/// The process's resident memory and the peak so far, in MiB, from Linux's `/proc`
/// (elsewhere nothing).
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |field: &str| -> Option<u64> {
        let line = status.lines().find_map(|l| l.strip_prefix(field))?;
        line.trim().trim_end_matches("kB").trim().parse().ok()
    };
    Some((kib("VmRSS:")? / 1024, kib("VmHWM:")? / 1024))
}

fn print_memory(when: &str) {
    if let Some((resident, peak)) = memory() {
        outln!("memory {when}: resident {resident} MiB, peak {peak} MiB");
    }
}

/// The four DORA figures by SQL on PostgreSQL, as other tools compute them.
const BASELINE: [&str; 4] = [
    "SELECT count(*)::float8, count(DISTINCT d.finished_at / 86400000000)::float8 FROM deployments d \
     JOIN environments e ON e.id = d.environment_id WHERE e.tier = 'PRODUCTION' AND NOT d.is_rollback \
     AND d.status = 'SUCCEEDED' AND d.finished_at >= $1 AND d.finished_at < $2",
    "WITH delivered AS (SELECT d.release_id, min(d.finished_at) AS at FROM deployments d \
     JOIN environments e ON e.id = d.environment_id WHERE e.tier = 'PRODUCTION' AND NOT d.is_rollback \
     AND d.status = 'SUCCEEDED' GROUP BY d.release_id) \
     SELECT count(*)::float8, percentile_cont(0.5) WITHIN GROUP (ORDER BY (dl.at - i.committed_at) / 3600000000.0) \
     FROM delivered dl JOIN release_items i ON i.release_id = dl.release_id \
     WHERE dl.at >= $1 AND dl.at < $2 AND i.committed_at IS NOT NULL AND dl.at >= i.committed_at",
    "WITH prod AS (SELECT d.id, d.release_id, d.status, d.finished_at FROM deployments d \
     JOIN environments e ON e.id = d.environment_id WHERE e.tier = 'PRODUCTION' AND NOT d.is_rollback \
     AND d.status IN ('SUCCEEDED', 'FAILED', 'ROLLED_BACK') AND d.finished_at IS NOT NULL), \
     failed AS (SELECT i.deployment_id AS id FROM incidents i WHERE i.caused_by_change AND i.deployment_id IS NOT NULL \
     UNION SELECT latest.id FROM incidents i CROSS JOIN LATERAL (SELECT d.id FROM deployments d \
     JOIN environments e ON e.id = d.environment_id WHERE d.release_id = i.release_id AND e.tier = 'PRODUCTION' \
     AND NOT d.is_rollback AND d.status IN ('SUCCEEDED', 'FAILED', 'ROLLED_BACK') AND d.finished_at <= i.opened_at \
     ORDER BY d.finished_at DESC, d.id DESC LIMIT 1) latest \
     WHERE i.caused_by_change AND i.deployment_id IS NULL AND i.release_id IS NOT NULL) \
     SELECT count(*)::float8, (count(*) FILTER (WHERE p.status <> 'SUCCEEDED' OR p.id IN (SELECT id FROM failed)))::float8 \
     FROM prod p WHERE p.finished_at >= $1 AND p.finished_at < $2",
    "SELECT count(*)::float8, percentile_cont(0.5) WITHIN GROUP (ORDER BY (resolved_at - opened_at) / 3600000000.0) \
     FROM incidents WHERE opened_at >= $1 AND opened_at < $2 AND resolved_at IS NOT NULL",
];

async fn baseline(
    db: &DatabaseConnection,
    from: i64,
    to: i64,
) -> anyhow::Result<(Duration, Vec<(f64, Option<f64>)>)> {
    let started = Instant::now();
    let mut figures = Vec::new();
    for sql in BASELINE {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                [from.into(), to.into()],
            ))
            .await?
            .context("no row")?;
        figures.push((
            row.try_get_by_index::<f64>(0)?,
            row.try_get_by_index::<Option<f64>>(1)?,
        ));
    }
    Ok((started.elapsed(), figures))
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

/// Runs the benchmark and prints its report.
pub async fn bench(
    db: &DatabaseConnection,
    keys: &api::auth::JwtKeys,
    cipher: &api::secrets::Cipher,
    iterations: usize,
    writes: usize,
) -> anyhow::Result<()> {
    let production = entity::deployment::Entity::find().count(db).await?;
    anyhow::ensure!(
        production > 0,
        "the database has no deployments: run `relm seed --demo --scale 100` first"
    );
    let to = time::now_micros().div_euclid(DAY_MICROS) * DAY_MICROS;
    let from = to - 730 * DAY_MICROS;
    let filter =
        json!({"from": time::rfc3339(from), "to": time::rfc3339(to), "granularity": "MONTH"});
    outln!(
        "relm bench on {:?}: {production} deployments in all; window {} to {}",
        db.get_database_backend(),
        time::rfc3339(from),
        time::rfc3339(to)
    );

    let state = AppState::new(db.clone(), keys.clone(), cipher.clone(), false);
    let (cold, data) = timed(&state, &filter).await?;
    let m = &data["metrics"];
    outln!(
        "figures: {} production deployments in the window, lead time median {:.2} h, change failure rate {:.4}, time to restore median {:.2} h, {} programs",
        m["deploymentFrequency"]["deployments"],
        m["leadTime"]["hours"]["median"]
            .as_f64()
            .unwrap_or_default(),
        m["changeFailureRate"]["rate"].as_f64().unwrap_or_default(),
        m["timeToRestore"]["hours"]["median"]
            .as_f64()
            .unwrap_or_default(),
        m["byProgram"].as_array().map_or(0, Vec::len),
    );
    outln!(
        "cold (first query of a process, store loaded from the database): {:.1} ms",
        millis(cold)
    );
    print_memory("with the store loaded");
    let footprint = state.analytics.snapshot(db).await?.store.footprint();
    let mebibytes = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    outln!(
        "the analytics store holds {:.1} MiB: tables {:.1} MiB, derived rows {:.1} MiB",
        mebibytes(footprint.frames + footprint.derived),
        mebibytes(footprint.frames),
        mebibytes(footprint.derived)
    );

    let progress = Progress::of(Some(iterations as u64), "warm queries");
    let mut warm = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        warm.push(timed(&state, &filter).await?.0);
        progress.add(1);
    }
    progress.finish();
    outln!("warm: {}", summary(warm.clone()));
    print_memory("after the warm queries");
    improvement::bench(&state, iterations, &filter).await?;
    forecast::bench(&state, iterations).await?;

    let newest = entity::release::Entity::find()
        .order_by_desc(entity::release::Column::Id)
        .one(db)
        .await?
        .context("no release")?;
    let release_id = ids::encode(NodeType::Release, newest.id);
    let progress = Progress::of(Some(writes as u64), "writes and queries");
    let mut after_write = Vec::with_capacity(writes);
    for n in 0..writes {
        let input = json!({"input": {"releaseId": release_id, "title": format!("bench item {n}"), "kind": "CHORE"}});
        run(
            &state,
            "mutation($input: AddReleaseItemInput!) { addReleaseItem(input: $input) { id } }",
            input,
        )
        .await?;
        after_write.push(timed(&state, &filter).await?.0);
        progress.add(1);
    }
    progress.finish();
    outln!("first query after one write: {}", summary(after_write));
    print_memory("after the writes");

    if db.get_database_backend() == DbBackend::Postgres {
        let mut sql = Vec::new();
        let mut figures = Vec::new();
        for _ in 0..3 {
            let (elapsed, f) = baseline(db, from, to).await?;
            sql.push(elapsed);
            figures = f;
        }
        outln!(
            "SQL baseline (the four DORA figures only, percentile_cont): {}",
            summary(sql.clone())
        );
        sql.sort();
        warm.sort();
        outln!(
            "warm relm is {:.1}x faster than the SQL baseline (medians)",
            sql[sql.len() / 2].as_secs_f64() / warm[warm.len() / 2].as_secs_f64()
        );
        let (_, data) = timed(&state, &filter).await?;
        let m = &data["metrics"];
        let f = |v: &Value| v.as_f64();
        let agree = same(
            Some(figures[0].0),
            f(&m["deploymentFrequency"]["deployments"]),
        ) && same(figures[0].1, f(&m["deploymentFrequency"]["deploymentDays"]))
            && same(Some(figures[1].0), f(&m["leadTime"]["hours"]["count"]))
            && same(figures[1].1, f(&m["leadTime"]["hours"]["median"]))
            && same(
                Some(figures[2].0),
                f(&m["changeFailureRate"]["deployments"]),
            )
            && same(figures[2].1, f(&m["changeFailureRate"]["failed"]))
            && same(Some(figures[3].0), f(&m["timeToRestore"]["hours"]["count"]))
            && same(figures[3].1, f(&m["timeToRestore"]["hours"]["median"]));
        outln!(
            "relm's figures {} the SQL baseline's: {figures:?}",
            if agree { "equal" } else { "DIFFER from" }
        );
        anyhow::ensure!(agree, "relm and the SQL baseline disagree");
    }
    Ok(())
}

/// `relm bench --writers N`: N tasks write as fast as they can for `seconds`, half of the
/// writes creating releases (a command that reads before it writes), half adding items,
/// into a program `BENCHW` made for it. Prints the throughput, the latencies and every
/// failed write by code: the target is none.
pub async fn writes(
    db: DatabaseConnection,
    keys: api::auth::JwtKeys,
    cipher: api::secrets::Cipher,
    writers: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let state = AppState::new(db.clone(), keys, cipher, false);
    let exists = run(&state, "{ program(key: \"BENCHW\") { key } }", json!({})).await?;
    if exists["program"].is_null() {
        run(
            &state,
            "mutation { createProgram(input: { key: \"BENCHW\", name: \"relm bench writes\" }) { key } }",
            json!({}),
        )
        .await?;
    }
    let stamp = time::now_micros();
    let mut releases = Vec::with_capacity(writers);
    for writer in 0..writers {
        let input = json!({"i": {"programKey": "BENCHW", "version": format!("{stamp}.{writer}.0"), "name": "bench", "type": "MINOR"}});
        let created = run(&state, CREATE_RELEASE, input).await?;
        releases.push(
            created["createRelease"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    outln!(
        "relm bench: {writers} concurrent writers for {seconds} s on {:?}",
        db.get_database_backend()
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for (writer, release) in releases.into_iter().enumerate() {
        let state = state.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut failures: Vec<String> = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let (query, input) = if n.is_multiple_of(2) {
                    let version = format!("{stamp}.{writer}.{}", n + 1);
                    (CREATE_RELEASE, json!({"i": {"programKey": "BENCHW", "version": version, "name": "bench", "type": "MINOR"}}))
                } else {
                    (ADD_ITEM, json!({"i": {"releaseId": release, "title": format!("bench {n}"), "kind": "CHORE"}}))
                };
                let started = Instant::now();
                let response = execute(&state, query, input).await;
                latencies.push(started.elapsed());
                if let Some(error) = response.errors.first() {
                    let code = error
                        .extensions
                        .as_ref()
                        .and_then(|e| e.get("code"))
                        .map_or_else(|| "none".to_owned(), |c| c.to_string());
                    failures.push(format!("{code}: {}", error.message));
                }
                n += 1;
            }
            (latencies, failures)
        });
    }
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for (l, f) in tasks.join_all().await {
        latencies.extend(l);
        failures.extend(f);
    }
    report("writes", seconds, latencies, &failures)
}

const CREATE_RELEASE: &str =
    "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }";
const ADD_ITEM: &str = "mutation($i: AddReleaseItemInput!) { addReleaseItem(input: $i) { id } }";
