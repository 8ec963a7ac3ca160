//! Nested fields go through DataLoaders: a page costs a fixed number of SQL statements,
//! whatever its size, and programs and environments cost none once read.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::support::TestApp;

const NESTED_PAGE: &str = "query($first: Int) {
  releases(first: $first, filter: { statuses: [REVIEWED] }) {
    totalCount
    nodes {
      version status deployedAt teams
      program { key name }
      items { title committedAt }
      qualityGates { name status attempts }
      approvals { decision }
      deployments { status environment { name tier } }
      incidents { title }
      outcome { result }
      readiness { ready blockers }
    }
  }
}";

/// Runs the nested page with `first` releases and returns how many statements it took.
async fn statements_for(app: &TestApp, first: u64) -> u64 {
    let before = app.state.reads.statements();
    let data = app.admin(NESTED_PAGE, json!({ "first": first })).await;
    assert_eq!(
        data["releases"]["nodes"].as_array().map(Vec::len),
        Some(first as usize)
    );
    app.state.reads.statements() - before
}

#[tokio::test]
async fn a_nested_page_costs_a_fixed_number_of_statements() {
    let app = TestApp::empty().await;
    app.seed_demo().await;

    // count + page + program + parties + items + gates + gate results + approvals
    // + deployments + environments + incidents + outcomes + dependencies (none: the
    // releases they name are not read)
    let first = statements_for(&app, 100).await;
    assert_eq!(
        first, 13,
        "the first page of 100 releases took {first} statements"
    );
    // Programs and environments never change: once read, the process keeps them.
    let small = statements_for(&app, 10).await;
    let large = statements_for(&app, 100).await;
    assert_eq!(large, 11, "a page of 100 releases took {large} statements");
    assert_eq!(small, large, "the statement count grows with the page size");
    println!("nested page of 100 releases: {first} SQL statements, then {large}");
}

/// A page's gates and their results are loaded for all its releases at once: each release
/// still gets its own gates, each with its latest result and its number of results, as the
/// tables say (checked here in SQL of its own).
#[tokio::test]
async fn a_page_gives_each_release_its_own_gate_states() {
    let app = TestApp::empty().await;
    app.seed_demo().await;
    let data = app
        .admin(
            "{ releases(first: 100, filter: { statuses: [REVIEWED] }) { nodes {
                 version program { key } qualityGates { name status attempts } } } }",
            json!({}),
        )
        .await;
    let mut releases = HashSet::new();
    let mut shown = Vec::new();
    for release in data["releases"]["nodes"].as_array().unwrap() {
        let release_key = format!(
            "{} {}",
            release["program"]["key"].as_str().unwrap(),
            release["version"].as_str().unwrap()
        );
        for gate in release["qualityGates"].as_array().unwrap() {
            shown.push(format!(
                "{release_key} {} {} {}",
                gate["name"].as_str().unwrap(),
                gate["status"].as_str().unwrap(),
                gate["attempts"]
            ));
        }
        releases.insert(release_key);
    }
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT p.key, r.version, g.name, \
               (SELECT l.status FROM gate_results l WHERE l.gate_id = g.id \
                ORDER BY l.checked_at DESC, l.id DESC LIMIT 1), \
               (SELECT COUNT(*) FROM gate_results c WHERE c.gate_id = g.id) \
             FROM quality_gates g JOIN releases r ON r.id = g.release_id \
             JOIN programs p ON p.id = r.program_id",
        ))
        .await
        .unwrap();
    let mut expected: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let text = |i| row.try_get_by_index::<String>(i).unwrap();
            let attempts: i64 = row.try_get_by_index(4).unwrap();
            let release_key = format!("{} {}", text(0), text(1));
            releases
                .contains(&release_key)
                .then(|| format!("{release_key} {} {} {attempts}", text(2), text(3)))
        })
        .collect();
    expected.sort();
    shown.sort();
    assert!(
        expected.iter().any(|g| !g.ends_with(" 1")),
        "the demo data has gates checked more than once"
    );
    assert_eq!(shown, expected);
}

#[tokio::test]
async fn programs_kept_from_earlier_reads_stand_beside_new_ones() {
    let app = TestApp::empty().await;
    let create = |key: &'static str| {
        let app = &app;
        async move {
            app.admin(
                "mutation($p: CreateProgramInput!, $r: CreateReleaseInput!) {
                   createProgram(input: $p) { key }
                   createRelease(input: $r) { version }
                 }",
                json!({
                    "p": { "key": key, "name": format!("Program {key}") },
                    "r": { "programKey": key, "version": "1.0", "name": "first", "type": "MAJOR" },
                }),
            )
            .await;
        }
    };
    let programs = || async {
        let before = app.state.reads.statements();
        let data = app
            .admin("{ releases { nodes { program { key name } } } }", json!({}))
            .await;
        let mut names: Vec<String> = data["releases"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("{} {}", n["program"]["key"], n["program"]["name"]))
            .collect();
        names.sort();
        (names, app.state.reads.statements() - before)
    };

    create("ONE").await;
    let (names, statements) = programs().await;
    assert_eq!(names, [r#""ONE" "Program ONE""#]);
    assert_eq!(statements, 2, "the page and its program");
    create("TWO").await;
    let (names, statements) = programs().await;
    assert_eq!(names, [r#""ONE" "Program ONE""#, r#""TWO" "Program TWO""#]);
    assert_eq!(statements, 2, "the page and the program not read before");
    let (_, statements) = programs().await;
    assert_eq!(statements, 1, "the page alone: both programs are kept");
}

/// SQLite is built to keep one plan per statement (`.cargo/config.toml`); otherwise it
/// prepares a cached statement again each time its `LIMIT` is bound, as every lookup and
/// every page binds one. It is built without memory statistics too, whose one mutex every
/// allocation of every connection would take.
#[tokio::test]
async fn sqlite_keeps_one_plan_per_statement_and_no_memory_statistics() {
    let db = api::db::connect("sqlite::memory:").await.unwrap();
    for option in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("SELECT sqlite_compileoption_used('{option}')"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1, "{option}");
    }
}

/// Ingest sources and deliveries batch their nested fields too: as many statements for ten
/// sources as for one, and for a page of 100 deliveries as for a page of 10.
#[tokio::test]
async fn sources_and_deliveries_cost_a_fixed_number_of_statements() {
    let app = TestApp::empty().await;
    app.seed_demo().await;
    let count = |query: &'static str| {
        let app = &app;
        async move {
            let before = app.state.reads.statements();
            app.admin(query, json!({})).await;
            app.state.reads.statements() - before
        }
    };
    let sources = "{ ingestSources { key lastDeliveryAt environmentAliases { external environment { name } } } }";
    let one = "{ ingestSources(programKey: \"PAY\") { key lastDeliveryAt environmentAliases { external environment { name } } } }";
    // sources + aliases + last deliveries, and environments once (the process keeps them)
    let first = count(sources).await;
    assert_eq!(first, 4, "{first} statements for every source");
    let all = count(sources).await;
    assert_eq!(
        all, 3,
        "{all} statements for every source, environments kept"
    );
    assert_eq!(
        count(one).await,
        all + 1,
        "one program's sources, its key resolved"
    );
    let page = |first: u32| {
        let app = &app;
        async move {
            let query = format!(
                "{{ deliveries(first: {first}) {{ nodes {{ status source {{ key }} release {{ version }} deployment {{ status }} incident {{ title }} }} }} }}"
            );
            let before = app.state.reads.statements();
            let data = app.admin(&query, json!({})).await;
            assert_eq!(
                data["deliveries"]["nodes"].as_array().map(Vec::len),
                Some(first as usize)
            );
            app.state.reads.statements() - before
        }
    };
    // page + sources + releases + deployments + incidents, whatever the page's size (a
    // small page may have no incident, and then no statement for incidents)
    let (small, large) = (page(10).await, page(100).await);
    assert!(
        small <= 5,
        "a page of 10 deliveries took {small} statements"
    );
    assert!(
        large <= 5,
        "a page of 100 deliveries took {large} statements"
    );
}
