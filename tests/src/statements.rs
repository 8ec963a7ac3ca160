//! Nested fields go through DataLoaders: a page costs a fixed number of SQL statements,
//! whatever its size, and programs and environments cost none once read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::support::{TestApp, TestDb};

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
async fn statements_for(app: &TestApp, counter: &AtomicUsize, first: u64) -> usize {
    counter.store(0, Ordering::SeqCst);
    let data = app.admin(NESTED_PAGE, json!({ "first": first })).await;
    assert_eq!(
        data["releases"]["nodes"].as_array().map(Vec::len),
        Some(first as usize)
    );
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_nested_page_costs_a_fixed_number_of_statements() {
    let test_db = TestDb::new().await;
    let seeding = test_db.connect().await;
    api::seed::seed_demo(&seeding, 1).await.unwrap();
    seeding.close().await.unwrap();

    let counter = Arc::new(AtomicUsize::new(0));
    let mut db = api::db::connect(&test_db.url).await.unwrap();
    let seen = counter.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let app = TestApp::on(test_db, db);

    // count + page + program + parties + items + gates + gate results + approvals
    // + deployments + environments + incidents + outcomes
    let first = statements_for(&app, &counter, 100).await;
    assert_eq!(
        first, 12,
        "the first page of 100 releases took {first} statements"
    );
    // Programs and environments never change: once read, the process keeps them.
    let small = statements_for(&app, &counter, 10).await;
    let large = statements_for(&app, &counter, 100).await;
    assert_eq!(large, 10, "a page of 100 releases took {large} statements");
    assert_eq!(small, large, "the statement count grows with the page size");
    println!("nested page of 100 releases: {first} SQL statements, then {large}");
}

#[tokio::test]
async fn programs_kept_from_earlier_reads_stand_beside_new_ones() {
    let test_db = TestDb::new().await;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut db = test_db.connect().await;
    let seen = counter.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let app = TestApp::on(test_db, db);
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
        counter.store(0, Ordering::SeqCst);
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
        (names, counter.load(Ordering::SeqCst))
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
/// every page binds one.
#[tokio::test]
async fn sqlite_keeps_one_plan_per_statement() {
    let db = api::db::connect("sqlite::memory:").await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sqlite_compileoption_used('ENABLE_QPSG')",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1);
}
