//! `Query.metrics` over a history built through the mutations, against figures worked out by
//! hand from metrics.md; freshness after writes, also from another process; scoping.

use std::io::{Read, Write};
use std::net::TcpStream;

use api::auth::Role;
use serde_json::{Value, json};

use crate::support::{OtherProcess, TestApp, data, error_code, run_in, token};

const METRICS: &str = "query($filter: MetricsFilter!) { metrics(filter: $filter) {
  from to
  deploymentFrequency { deployments deploymentDays perDay band }
  leadTime { hours { count mean median p90 p95 min max } band }
  changeFailureRate { deployments failed rate band }
  timeToRestore { hours { count median min max } band }
  reworkRate { deployments rework rate }
  delivery { releasesDelivered onTimeRate slippageDays { count min max median } rollbackRate gateFirstPassRate reviewCompletionRate actionsOpen actionsOverdue actionsClosed }
  trend { start end deployments failedDeployments changeFailureRate leadTimeMedianHours timeToRestoreMedianHours releasesDelivered onTimeRate }
  byProgram { programKey deploymentFrequency { deployments band } leadTime { band } changeFailureRate { deployments failed rate band } timeToRestore { hours { count median } band } delivery { releasesDelivered } }
} }";

fn march() -> Value {
    json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"})
}

pub(crate) async fn rm(app: &TestApp, mutation: &str, input: Value) -> Value {
    data(
        app.run_as(
            Role::ReleaseManager,
            None,
            mutation,
            json!({ "input": input }),
        )
        .await,
    )
}

/// Creates a release and takes it to APPROVED.
/// A release to create, with its scope and the time its gates and approval were recorded.
pub(crate) struct Plan<'a> {
    pub(crate) program: &'a str,
    pub(crate) version: &'a str,
    pub(crate) planned_end: &'a str,
    pub(crate) commits: &'a [&'a str],
    pub(crate) gates: &'a [&'a str],
    pub(crate) checked: &'a str,
    pub(crate) teams: &'a [&'a str],
}

pub(crate) async fn approved(app: &TestApp, plan: Plan<'_>) -> String {
    let Plan {
        program,
        version,
        planned_end,
        commits,
        gates,
        checked,
        teams,
    } = plan;
    let created = rm(app, "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id } }",
        json!({"programKey": program, "version": version, "name": version, "type": "MINOR", "plannedEnd": planned_end,
               "rollbackPlan": "Redeploy", "teams": teams})).await;
    let id = created["createRelease"]["id"].as_str().unwrap().to_owned();
    for to in ["SCHEDULED", "IN_BUILD"] {
        rm(app, "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { status } }", json!({"releaseId": id, "to": to})).await;
    }
    for committed in commits {
        rm(app, "mutation($input: AddReleaseItemInput!) { addReleaseItem(input: $input) { id } }",
            json!({"releaseId": id, "title": "change", "kind": "FEATURE", "committedAt": committed})).await;
    }
    rm(
        app,
        "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { status } }",
        json!({"releaseId": id, "to": "IN_TEST"}),
    )
    .await;
    for status in gates {
        rm(app, "mutation($input: RecordQualityGateInput!) { recordQualityGate(input: $input) { status } }",
            json!({"releaseId": id, "name": "unit-tests", "kind": "UNIT_TEST", "status": status, "checkedAt": checked})).await;
    }
    rm(
        app,
        "mutation($input: RecordApprovalInput!) { recordApproval(input: $input) { decision } }",
        json!({"releaseId": id, "decision": "GO", "decidedAt": checked}),
    )
    .await;
    rm(
        app,
        "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { status } }",
        json!({"releaseId": id, "to": "APPROVED"}),
    )
    .await;
    id
}

pub(crate) async fn deploy(
    app: &TestApp,
    release: &str,
    status: &str,
    started: &str,
    finished: &str,
) -> String {
    rm(app, "mutation($input: RecordDeploymentInput!) { recordDeployment(input: $input) { id } }",
        json!({"releaseId": release, "environment": "prod-eu", "status": status, "startedAt": started, "finishedAt": finished}))
        .await["recordDeployment"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn incident(app: &TestApp, input: Value) {
    rm(
        app,
        "mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }",
        input,
    )
    .await;
}

/// PAY 1.0: on time, lead times 47 h and 23 h, its gate failed first.
/// PAY 2.0: a day late, lead time 48 h, failed by an incident through its release (2 h).
/// MOB 5.0: failed in production and rolled back; never delivered.
/// MOB: a provider outage of 1 h, not caused by a change.
async fn history() -> (TestApp, String) {
    let app = TestApp::empty().await;
    for key in ["PAY", "MOB"] {
        app.admin(
            "mutation($input: CreateProgramInput!) { createProgram(input: $input) { key } }",
            json!({"input": {"key": key, "name": key}}),
        )
        .await;
    }
    for (name, tier) in [("staging", "STAGING"), ("prod-eu", "PRODUCTION")] {
        app.admin("mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { name } }", json!({"input": {"name": name, "tier": tier}})).await;
    }
    let a = approved(
        &app,
        Plan {
            program: "PAY",
            version: "1.0",
            planned_end: "2026-03-10T12:00:00Z",
            commits: &["2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z"],
            gates: &["FAILED", "PASSED"],
            checked: "2026-03-09T13:00:00Z",
            teams: &["payments-core"],
        },
    )
    .await;
    let a_deployment = deploy(
        &app,
        &a,
        "SUCCEEDED",
        "2026-03-10T10:00:00Z",
        "2026-03-10T11:00:00Z",
    )
    .await;
    rm(&app, "mutation($input: RecordOutcomeInput!) { recordOutcome(input: $input) { result } }",
        json!({"releaseId": a, "result": "SUCCESSFUL", "objectivesMet": true, "summary": "Fine", "reviewedAt": "2026-03-12T10:00:00Z"})).await;

    let b = approved(
        &app,
        Plan {
            program: "PAY",
            version: "2.0",
            planned_end: "2026-03-15T12:00:00Z",
            commits: &["2026-03-14T12:00:00Z"],
            gates: &["PASSED"],
            checked: "2026-03-15T08:00:00Z",
            teams: &["risk"],
        },
    )
    .await;
    deploy(
        &app,
        &b,
        "SUCCEEDED",
        "2026-03-16T11:00:00Z",
        "2026-03-16T12:00:00Z",
    )
    .await;
    incident(&app, json!({"releaseId": b, "title": "Errors", "severity": "SEV2", "openedAt": "2026-03-16T13:00:00Z", "resolvedAt": "2026-03-16T15:00:00Z"})).await;

    let c = approved(
        &app,
        Plan {
            program: "MOB",
            version: "5.0",
            planned_end: "2026-03-20T12:00:00Z",
            commits: &["2026-03-18T12:00:00Z"],
            gates: &["PASSED"],
            checked: "2026-03-19T08:00:00Z",
            teams: &[],
        },
    )
    .await;
    deploy(
        &app,
        &c,
        "FAILED",
        "2026-03-20T09:00:00Z",
        "2026-03-20T10:00:00Z",
    )
    .await;
    rm(&app, "mutation($input: RollbackReleaseInput!) { rollbackRelease(input: $input) { status } }",
        json!({"releaseId": c, "environment": "prod-eu", "reason": "Crash", "startedAt": "2026-03-20T10:10:00Z", "finishedAt": "2026-03-20T10:20:00Z"})).await;
    incident(&app, json!({"programKey": "MOB", "title": "Provider outage", "severity": "SEV1", "causedByChange": false,
        "openedAt": "2026-03-05T00:00:00Z", "resolvedAt": "2026-03-05T01:00:00Z"})).await;
    (app, a_deployment)
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

async fn metrics_as(app: &TestApp, role: Role, programs: Option<&[&str]>, filter: Value) -> Value {
    data(
        app.run_as(role, programs, METRICS, json!({ "filter": filter }))
            .await,
    )["metrics"]
        .clone()
}

#[tokio::test]
async fn figures_match_the_definitions() {
    let (app, _) = history().await;
    let m = metrics_as(&app, Role::Viewer, None, march()).await;
    assert_eq!(m["from"], "2026-03-01T00:00:00Z");
    let df = &m["deploymentFrequency"];
    assert_eq!(
        (df["deployments"].as_i64(), df["deploymentDays"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(close(&df["perDay"], 2.0 / 31.0));
    assert_eq!(df["band"], "MEDIUM");

    let lt = &m["leadTime"]["hours"];
    assert_eq!(lt["count"], 3);
    for (field, expected) in [
        ("median", 47.0),
        ("mean", 118.0 / 3.0),
        ("p90", 47.8),
        ("p95", 47.9),
        ("min", 23.0),
        ("max", 48.0),
    ] {
        assert!(close(&lt[field], expected), "{field}: {}", lt[field]);
    }
    assert_eq!(m["leadTime"]["band"], "HIGH");

    let cfr = &m["changeFailureRate"];
    assert_eq!(
        (cfr["deployments"].as_i64(), cfr["failed"].as_i64()),
        (Some(3), Some(2))
    );
    assert!(close(&cfr["rate"], 2.0 / 3.0));
    assert_eq!(cfr["band"], "LOW");

    let ttr = &m["timeToRestore"];
    assert_eq!(ttr["hours"]["count"], 2);
    assert!(close(&ttr["hours"]["median"], 1.5) && close(&ttr["hours"]["min"], 1.0));
    assert_eq!(ttr["band"], "HIGH");
    assert_eq!(
        m["reworkRate"],
        json!({"deployments": 2, "rework": 0, "rate": 0.0})
    );

    let d = &m["delivery"];
    assert_eq!(d["releasesDelivered"], 2);
    assert!(close(&d["onTimeRate"], 0.5));
    assert!(close(&d["slippageDays"]["min"], -1.0 / 24.0) && close(&d["slippageDays"]["max"], 1.0));
    assert!(close(&d["rollbackRate"], 1.0 / 3.0));
    assert!(close(&d["gateFirstPassRate"], 2.0 / 3.0));
    assert!(close(&d["reviewCompletionRate"], 0.5));
    assert_eq!(
        (d["actionsOpen"].as_i64(), d["actionsClosed"].as_i64()),
        (Some(0), Some(0))
    );

    assert_eq!(m["trend"].as_array().map(Vec::len), Some(1));
    let march_bucket = &m["trend"][0];
    assert_eq!(
        (march_bucket["start"].as_str(), march_bucket["end"].as_str()),
        (Some("2026-03-01T00:00:00Z"), Some("2026-04-01T00:00:00Z"))
    );
    assert_eq!(
        (
            march_bucket["deployments"].as_i64(),
            march_bucket["failedDeployments"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert!(
        close(&march_bucket["leadTimeMedianHours"], 47.0)
            && close(&march_bucket["onTimeRate"], 0.5)
    );

    let programs: Vec<&str> = m["byProgram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["programKey"].as_str().unwrap())
        .collect();
    assert_eq!(programs, ["MOB", "PAY"]);
    let mob = &m["byProgram"][0];
    assert_eq!(mob["deploymentFrequency"]["band"], "NO_DATA");
    assert_eq!(
        mob["changeFailureRate"],
        json!({"deployments": 1, "failed": 1, "rate": 1.0, "band": "LOW"})
    );
    assert!(close(&mob["timeToRestore"]["hours"]["median"], 1.0));
    let pay = &m["byProgram"][1];
    assert_eq!(
        pay["changeFailureRate"],
        json!({"deployments": 2, "failed": 1, "rate": 0.5, "band": "LOW"})
    );
    assert_eq!(pay["delivery"]["releasesDelivered"], 2);
}

#[tokio::test]
async fn filters_narrow_the_figures() {
    let (app, _) = history().await;
    let mut by_team = march();
    by_team["team"] = json!("payments-core");
    let m = metrics_as(&app, Role::Viewer, None, by_team).await;
    assert_eq!(m["deploymentFrequency"]["deployments"], 1);
    assert_eq!(m["leadTime"]["hours"]["count"], 2);
    assert_eq!(
        m["timeToRestore"]["hours"]["count"], 0,
        "incidents without a release are left out"
    );

    let mut staging = march();
    staging["tiers"] = json!(["STAGING"]);
    assert_eq!(
        metrics_as(&app, Role::Viewer, None, staging).await["deploymentFrequency"]["deployments"],
        0
    );

    let mut weekly = march();
    weekly["granularity"] = json!("WEEK");
    let trend = metrics_as(&app, Role::Viewer, None, weekly).await["trend"].clone();
    assert_eq!(
        trend.as_array().map(Vec::len),
        Some(6),
        "Feb 23 to Mar 30 weeks, cut to March"
    );
    assert_eq!(trend[0]["start"], "2026-03-01T00:00:00Z");
    assert_eq!(trend[1]["start"], "2026-03-02T00:00:00Z");

    let mut pay = march();
    pay["programKeys"] = json!(["PAY"]);
    let m = metrics_as(&app, Role::Viewer, None, pay).await;
    assert_eq!(m["byProgram"].as_array().map(Vec::len), Some(1));
    assert_eq!(m["timeToRestore"]["hours"]["count"], 1);
}

#[tokio::test]
async fn a_scoped_caller_gets_its_programs_only() {
    let (app, _) = history().await;
    let m = metrics_as(&app, Role::Viewer, Some(&["PAY"]), march()).await;
    assert_eq!(m["changeFailureRate"]["deployments"], 2);
    assert_eq!(m["timeToRestore"]["hours"]["count"], 1);
    assert_eq!(m["byProgram"].as_array().map(Vec::len), Some(1));
    let mut mob = march();
    mob["programKeys"] = json!(["MOB"]);
    let response = app
        .run_as(
            Role::Viewer,
            Some(&["PAY"]),
            METRICS,
            json!({ "filter": mob }),
        )
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    let mut unknown = march();
    unknown["programKeys"] = json!(["NOPE"]);
    let response = app
        .run_as(Role::Admin, None, METRICS, json!({ "filter": unknown }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
}

#[tokio::test]
async fn bad_filters_are_refused() {
    let app = TestApp::empty().await;
    for filter in [
        json!({"from": "2026-04-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}),
        json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}),
        json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "tiers": []}),
        json!({"from": "2000-01-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "granularity": "DAY"}),
    ] {
        let response = app
            .run_as(Role::Viewer, None, METRICS, json!({ "filter": filter }))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{filter}");
    }
}

/// Two writes that change March's figures: a change-caused incident naming PAY 1.0's
/// deployment (one more failed deployment), and a program-level incident of 4 h that counts
/// for time to restore.
async fn two_incidents(app: &TestApp, a_deployment: &str) {
    incident(app, json!({"deploymentId": a_deployment, "title": "Late errors", "severity": "SEV3", "openedAt": "2026-05-01T00:00:00Z"})).await;
    incident(
        app,
        json!({"programKey": "PAY", "title": "DNS", "severity": "SEV2", "causedByChange": false,
        "openedAt": "2026-03-07T00:00:00Z", "resolvedAt": "2026-03-07T04:00:00Z"}),
    )
    .await;
}

#[tokio::test]
async fn a_query_after_a_write_reflects_it() {
    let (app, a_deployment) = history().await;
    let before = metrics_as(&app, Role::Viewer, None, march()).await;
    assert_eq!(before["changeFailureRate"]["failed"], 2);
    two_incidents(&app, &a_deployment).await;
    let after = metrics_as(&app, Role::Viewer, None, march()).await;
    assert_eq!(after["changeFailureRate"]["failed"], 3);
    assert_eq!(after["timeToRestore"]["hours"]["count"], 3);
    assert!(close(&after["timeToRestore"]["hours"]["median"], 2.0));
}

/// The metrics a new process on `app`'s database answers, and how many full loads of the
/// database it made to answer them.
async fn restarted(app: &TestApp) -> (Value, u64) {
    let process = app.another_process();
    let viewer = token(Role::Viewer, None);
    let response = run_in(
        &process,
        Some(&viewer),
        METRICS,
        json!({ "filter": march() }),
    )
    .await;
    (data(response)["metrics"].clone(), process.analytics.loads())
}

#[tokio::test]
async fn a_restarted_process_starts_from_its_snapshot_and_misses_no_write() {
    use api::metrics::persisted;
    use sea_orm::{ConnectionTrait, Statement};
    let (app, a_deployment) = history().await;
    let before = metrics_as(&app, Role::Viewer, None, march()).await;
    let sqlite = app.db.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let file = persisted::path_of(&app.db);
    assert_eq!(
        file.is_some(),
        sqlite,
        "a snapshot only beside a SQLite file"
    );

    // Writes after the snapshot, and a restart: they are all in the figures.
    two_incidents(&app, &a_deployment).await;
    let (after, loads) = restarted(&app).await;
    assert_eq!(before["changeFailureRate"]["failed"], 2);
    assert_eq!(after["changeFailureRate"]["failed"], 3);
    assert_eq!(after["timeToRestore"]["hours"]["count"], 3);
    assert_eq!(
        loads,
        u64::from(!sqlite),
        "restored from the snapshot, not read again"
    );
    let Some(file) = file else {
        return;
    };
    // Exactly what a process without a snapshot computes.
    std::fs::remove_file(&file).unwrap();
    let (full, loads) = restarted(&app).await;
    assert_eq!((full.clone(), loads), (after.clone(), 1));
    assert!(file.exists(), "the full load wrote a new snapshot");

    // A snapshot torn or corrupt is ignored, read again in full and written anew.
    let bytes = std::fs::read(&file).unwrap();
    let mut corrupt = bytes.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 1;
    for damaged in [bytes[..bytes.len() / 3].to_vec(), corrupt] {
        std::fs::write(&file, damaged).unwrap();
        assert_eq!(restarted(&app).await, (full.clone(), 1));
        assert!(persisted::read(&file).is_ok());
    }

    // A snapshot of another history of the database (its watermark's change differs, as
    // after a restore from a backup) is ignored too.
    let watermark = persisted::read(&file).unwrap().watermark;
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("UPDATE changes SET at = at + 1 WHERE id = {watermark}"),
        ))
        .await
        .unwrap();
    assert_eq!(restarted(&app).await, (full, 1));
}

async fn rename_changes(app: &TestApp, from: &str, to: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    app.db
        .execute_raw(Statement::from_string(
            backend,
            format!("ALTER TABLE {from} RENAME TO {to}"),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_store_survives_a_failed_refresh_and_a_dropped_request() {
    let (app, a_deployment) = history().await;
    metrics_as(&app, Role::Viewer, None, march()).await;
    assert_eq!(app.state.analytics.loads(), 1);

    // A refresh that cannot read the change feed fails, and keeps the store it had.
    incident(&app, json!({"deploymentId": a_deployment, "title": "Late errors", "severity": "SEV3", "openedAt": "2026-05-01T00:00:00Z"})).await;
    rename_changes(&app, "changes", "changes_hidden").await;
    let viewer = token(Role::Viewer, None);
    let failed = app
        .run(
            Some(&viewer),
            "query($f: MetricsFilter!) { metrics(filter: $f) { from } }",
            json!({"f": march()}),
        )
        .await;
    assert_eq!(error_code(&failed), "INTERNAL");
    rename_changes(&app, "changes_hidden", "changes").await;
    let after = metrics_as(&app, Role::Viewer, None, march()).await;
    assert_eq!(after["changeFailureRate"]["failed"], 3);

    // A request dropped while the store refreshes does not drop the store.
    incident(
        &app,
        json!({"programKey": "PAY", "title": "DNS", "severity": "SEV2", "causedByChange": false,
        "openedAt": "2026-03-07T00:00:00Z", "resolvedAt": "2026-03-07T04:00:00Z"}),
    )
    .await;
    let dropped = metrics_as(&app, Role::Viewer, None, march());
    assert!(
        tokio::time::timeout(std::time::Duration::from_micros(1), dropped)
            .await
            .is_err()
    );
    let after = metrics_as(&app, Role::Viewer, None, march()).await;
    assert_eq!(after["timeToRestore"]["hours"]["count"], 3);
    assert_eq!(app.state.analytics.loads(), 1, "refreshed, never reloaded");
}

fn post(addr: &str, bearer: &str, body: &Value) -> Value {
    let mut stream = TcpStream::connect(addr).unwrap();
    let body = body.to_string();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[tokio::test]
async fn another_process_sees_writes_on_postgres() {
    let (app, a_deployment) = history().await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let other = OtherProcess::start(&app);
    let addr = other.addr.to_string();
    let viewer = token(Role::Viewer, None);
    let query = json!({"query": "query($filter: MetricsFilter!) { metrics(filter: $filter) { changeFailureRate { failed } } }", "variables": {"filter": march()}});
    let before = post(&addr, &viewer, &query);
    // This process writes; the other one's next query must reflect it.
    incident(&app, json!({"deploymentId": a_deployment, "title": "Late errors", "severity": "SEV3", "openedAt": "2026-05-01T00:00:00Z"})).await;
    let after = post(&addr, &viewer, &query);
    drop(other);
    assert_eq!(
        before["data"]["metrics"]["changeFailureRate"]["failed"], 2,
        "{before}"
    );
    assert_eq!(
        after["data"]["metrics"]["changeFailureRate"]["failed"], 3,
        "{after}"
    );
}

/// `Release.deployedAt` is defined three times, for three readers: polars in analytics
/// (delivery, lead time), SQL for exports, Rust over loaded rows for GraphQL. On the demo
/// data, with every kind of deployment in it, all three name the same time for every release.
#[tokio::test]
async fn deployed_at_is_one_value_in_sql_polars_and_rust() {
    use std::collections::BTreeMap;

    use api::queries::derived::{DEPLOYED_AT_SQL, deployed_at};
    use sea_orm::{ConnectionTrait, EntityTrait, Statement};

    let app = TestApp::empty().await;
    app.seed_demo().await;

    let tables = api::metrics::load::tables(&app.db, api::metrics::selection::Selection::All)
        .await
        .unwrap();
    // polars runs off the async runtime, as the server runs it.
    let polars: BTreeMap<i64, i64> = tokio::task::spawn_blocking(move || {
        let store = analytics::Store::new(tables).unwrap();
        let delivered = store.delivered(&[analytics::Tier::Production]).unwrap();
        delivered.into_iter().collect()
    })
    .await
    .unwrap();

    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT r.id, {DEPLOYED_AT_SQL} FROM releases r"),
        ))
        .await
        .unwrap();
    let mut sql = BTreeMap::new();
    for row in rows {
        let (id, at): (i64, Option<i64>) = row.try_get_many_by_index().unwrap();
        if let Some(at) = at {
            sql.insert(id, at);
        }
    }

    let environments = entity::environment::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let tier = |id: i64| environments.iter().find(|e| e.id == id).map(|e| e.tier);
    let mut by_release: BTreeMap<i64, Vec<entity::deployment::Model>> = BTreeMap::new();
    for d in entity::deployment::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
    {
        by_release.entry(d.release_id).or_default().push(d);
    }
    let rust: BTreeMap<i64, i64> = by_release
        .iter()
        .filter_map(|(release, list)| Some((*release, deployed_at(list, tier)?)))
        .collect();

    assert!(sql.len() > 100, "the demo delivers releases: {}", sql.len());
    assert_eq!(sql, polars, "SQL and polars");
    assert_eq!(sql, rust, "SQL and Rust");
}

const BANDS: &str = "query($filter: MetricsFilter!) { metrics(filter: $filter) {
  deploymentFrequency { band } leadTime { band } changeFailureRate { failed rate band }
  timeToRestore { hours { count median } band }
  trend { failedDeployments } byProgram { programKey changeFailureRate { failed } }
  benchmark { name builtIn deploymentFrequency { elite high medium } }
  warnings { metric observations message }
} }";

async fn bands(app: &TestApp, extra: Value) -> Value {
    let mut filter = march();
    for (key, value) in extra.as_object().into_iter().flatten() {
        filter[key] = value.clone();
    }
    data(
        app.run_as(Role::Viewer, None, BANDS, json!({ "filter": filter }))
            .await,
    )["metrics"]
        .clone()
}

fn band_names(m: &Value) -> [&str; 4] {
    [
        "deploymentFrequency",
        "leadTime",
        "changeFailureRate",
        "timeToRestore",
    ]
    .map(|figure| m[figure]["band"].as_str().unwrap_or_default())
}

#[tokio::test]
async fn bands_follow_the_benchmark_edition_asked_for() {
    let (app, _) = history().await;
    // 2/31 deployments a day, lead time 47 h, failure rate 2/3, restore 1.5 h.
    let default = bands(&app, json!({})).await;
    assert_eq!(default["benchmark"]["name"], "DORA_2023");
    assert_eq!(default["benchmark"]["builtIn"], true);
    assert_eq!(band_names(&default), ["MEDIUM", "HIGH", "LOW", "HIGH"]);
    // Explicit null means the default.
    let null = bands(&app, json!({"benchmark": null})).await;
    assert_eq!(null["benchmark"]["name"], "DORA_2023");
    let older = bands(&app, json!({"benchmark": "DORA_2021"})).await;
    assert_eq!(band_names(&older), ["HIGH", "HIGH", "LOW", "HIGH"]);

    let define = "mutation($input: DefineBenchmarkInput!) { defineBenchmark(input: $input) { name builtIn } }";
    let lenient = json!({"name": "LENIENT", "deploymentFrequency": {"elite": 0.05, "high": 0.01, "medium": 0.001},
        "leadTime": {"elite": 48, "high": 200, "medium": 1000}, "changeFailureRate": {"elite": 0.7, "high": 0.8, "medium": 0.9},
        "timeToRestore": {"elite": 2, "high": 24, "medium": 200}});
    let defined = app.admin(define, json!({ "input": lenient })).await;
    assert_eq!(
        defined["defineBenchmark"],
        json!({"name": "LENIENT", "builtIn": false})
    );
    let custom = bands(&app, json!({"benchmark": "LENIENT"})).await;
    assert_eq!(band_names(&custom), ["ELITE", "ELITE", "ELITE", "ELITE"]);
    assert_eq!(
        custom["benchmark"]["deploymentFrequency"],
        json!({"elite": 0.05, "high": 0.01, "medium": 0.001})
    );

    let unknown = app
        .run_as(Role::Viewer, None, BANDS, json!({"filter": {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "benchmark": "DORA_1999"}}))
        .await;
    assert_eq!(error_code(&unknown), "BAD_USER_INPUT");
    assert!(unknown.to_string().contains("benchmark"), "{unknown}");
}

#[tokio::test]
async fn severities_narrow_failures_and_restores_only() {
    let (app, _) = history().await;
    // PAY 2.0's SEV2 incident fails its deployment; MOB 5.0 failed by its status; MOB's
    // SEV1 outage (1 h) and PAY's SEV2 (2 h) count for time to restore.
    let all = bands(&app, json!({"severities": null})).await;
    assert_eq!(all["changeFailureRate"]["failed"], 2);
    assert_eq!(all["timeToRestore"]["hours"]["count"], 2);
    let sev1 = bands(&app, json!({"severities": ["SEV1"]})).await;
    assert_eq!(sev1["changeFailureRate"]["failed"], 1);
    assert!(close(&sev1["changeFailureRate"]["rate"], 1.0 / 3.0));
    assert_eq!(sev1["trend"][0]["failedDeployments"], 1);
    let pay = sev1["byProgram"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["programKey"] == "PAY")
        .unwrap();
    assert_eq!(pay["changeFailureRate"]["failed"], 0);
    assert_eq!(sev1["timeToRestore"]["hours"]["count"], 1);
    assert!(close(&sev1["timeToRestore"]["hours"]["median"], 1.0));
    let sev2 = bands(&app, json!({"severities": ["SEV2", "SEV3"]})).await;
    assert_eq!(sev2["changeFailureRate"]["failed"], 2);
    assert!(close(&sev2["timeToRestore"]["hours"]["median"], 2.0));
    // Incident lists are not narrowed.
    let listed = app
        .admin(
            "{ incidents(filter: {severities: [SEV2]}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["incidents"]["totalCount"], 1);

    let none = app
        .run_as(Role::Viewer, None, BANDS, json!({"filter": {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "severities": []}}))
        .await;
    assert_eq!(error_code(&none), "BAD_USER_INPUT");
    assert!(none.to_string().contains("severities"), "{none}");
}

#[tokio::test]
async fn warnings_name_every_figure_on_too_few_observations_in_enum_order() {
    let (app, _) = history().await;
    let m = bands(&app, json!({"minimumSample": 3})).await;
    let warned: Vec<(&str, i64)> = m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["metric"].as_str().unwrap(),
                w["observations"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        warned,
        [
            ("DEPLOYMENT_FREQUENCY", 2),
            ("TIME_TO_RESTORE", 2),
            ("REWORK_RATE", 2),
            ("ON_TIME_RATE", 2)
        ]
    );
    assert_eq!(
        m["warnings"][1]["message"],
        "time to restore rests on 2 observations, fewer than 3"
    );
    // The default asks for 10: every figure of this small history is warned of.
    let default = bands(&app, json!({"minimumSample": null})).await;
    let metrics: Vec<&str> = default["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        [
            "DEPLOYMENT_FREQUENCY",
            "LEAD_TIME",
            "CHANGE_FAILURE_RATE",
            "TIME_TO_RESTORE",
            "REWORK_RATE",
            "ON_TIME_RATE",
            "GATE_FIRST_PASS_RATE",
            "UNPLANNED_RATE"
        ]
    );
    assert_eq!(
        bands(&app, json!({"minimumSample": 1})).await["warnings"],
        json!([])
    );
    for bad in [0, 1001, -5] {
        let response = app
            .run_as(Role::Viewer, None, BANDS, json!({"filter": {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "minimumSample": bad}}))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{bad}");
        assert!(response.to_string().contains("minimumSample"), "{response}");
    }
}
