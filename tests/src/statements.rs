//! Nested fields go through DataLoaders: a page costs a fixed number of SQL statements,
//! whatever its size.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

    let small = statements_for(&app, &counter, 10).await;
    let large = statements_for(&app, &counter, 100).await;
    // count + page + program + parties + items + gates + gate results + approvals
    // + deployments + environments + incidents + outcomes
    assert_eq!(large, 12, "a page of 100 releases took {large} statements");
    assert_eq!(small, large, "the statement count grows with the page size");
    println!("nested page of 100 releases: {large} SQL statements");
}
