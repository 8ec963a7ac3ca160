//! Concurrent writers: on SQLite they queue instead of failing, and a write waits out
//! another process's lock for the busy timeout; on PostgreSQL the same writes all land.

use std::time::{Duration, Instant};

use api::auth::Role;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};
use serde_json::json;

use crate::support::TestApp;

const CREATE_RELEASE: &str =
    "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }";
const ADD_ITEM: &str = "mutation($i: AddReleaseItemInput!) { addReleaseItem(input: $i) { id } }";

async fn releases(app: &TestApp, count: usize) -> Vec<String> {
    app.admin(
        "mutation { createProgram(input: { key: \"WR\", name: \"Writers\" }) { key } }",
        json!({}),
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..count {
        let input = json!({"i": {"programKey": "WR", "version": format!("1.{n}.0"), "name": "w", "type": "MINOR"}});
        ids.push(
            app.admin(CREATE_RELEASE, input).await["createRelease"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

async fn create(app: &TestApp, version: String) -> serde_json::Value {
    let input =
        json!({"i": {"programKey": "WR", "version": version, "name": "w", "type": "MINOR"}});
    app.run_as(Role::ReleaseManager, None, CREATE_RELEASE, input)
        .await
}

async fn add_item(app: &TestApp, release: &str, title: String) -> serde_json::Value {
    app.run_as(
        Role::ReleaseManager,
        None,
        ADD_ITEM,
        json!({"i": {"releaseId": release, "title": title, "kind": "FEATURE"}}),
    )
    .await
}

#[tokio::test]
async fn sixteen_concurrent_writers_never_fail() {
    let app = std::sync::Arc::new(TestApp::empty().await);
    let ids = releases(&app, 8).await;
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..16 {
        let (app, release) = (app.clone(), ids[writer % ids.len()].clone());
        writers.spawn(async move {
            let mut failures = Vec::new();
            for n in 0..20 {
                // Creating a release reads the program before it writes; adding an item
                // writes first.
                let response = if n % 2 == 0 {
                    create(&app, format!("2.{writer}.{n}")).await
                } else {
                    add_item(&app, &release, format!("w{writer}-{n}")).await
                };
                if response.get("errors").is_some() {
                    failures.push(response);
                }
            }
            failures
        });
    }
    let failures: Vec<_> = writers.join_all().await.into_iter().flatten().collect();
    assert!(
        failures.is_empty(),
        "{} failed writes: {:?}",
        failures.len(),
        failures.first()
    );
    let items = entity::release_item::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(items, 16 * 10);
    let total = app
        .admin(
            "{ releases(filter: { programKeys: [\"WR\"] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(total["releases"]["totalCount"], 8 + 16 * 10);
}

#[tokio::test]
async fn a_write_waits_out_another_processes_lock() {
    let app = TestApp::empty().await;
    if app.db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let ids = releases(&app, 1).await;
    let outsider = sea_orm::Database::connect(app.test_db_url()).await.unwrap();
    let holding = tokio::spawn(async move {
        let conn = outsider
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .unwrap();
        let mut conn = conn;
        sea_orm::sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .unwrap();
        sea_orm::sqlx::query("UPDATE programs SET name = 'held' WHERE key = 'WR'")
            .execute(&mut *conn)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        sea_orm::sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let response = create(&app, "9.0.0".into()).await;
    assert!(response.get("errors").is_none(), "{response}");
    let response = add_item(&app, &ids[0], "after the lock".into()).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "it waited for the lock"
    );
    holding.await.unwrap();
    let name = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM programs WHERE key = 'WR'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "name")
        .unwrap();
    assert_eq!(name, "held");
}
