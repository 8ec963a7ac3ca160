//! The connections kept for reads (`api::db::Reads`): they only read, a statement given up
//! midway cannot hold more connections than the limit, and closing the pool closes them.

use std::time::Duration;

use api::db::READ_CONNECTIONS;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::support::TestApp;

/// A statement that takes a while on either database.
const SLOW: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) \
                    SELECT COUNT(*) FROM c";

fn statement(app: &TestApp, sql: &str) -> Statement {
    Statement::from_string(app.db.get_database_backend(), sql)
}

#[tokio::test]
async fn reads_refuse_to_write() {
    let app = TestApp::empty().await;
    let reads = &app.state.reads;
    let create = "INSERT INTO environments (name, tier) VALUES ('x', 'STAGING')";
    assert!(reads.execute_unprepared(create).await.is_err());
    assert!(reads.execute_raw(statement(&app, create)).await.is_err());
    if app.db.get_database_backend() == DbBackend::Postgres {
        // The database refuses it too, however the statement is sent.
        let returning = format!("{create} RETURNING id");
        let refused = reads.query_all_raw(statement(&app, &returning)).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("read-only")),
            "{refused:?}"
        );
    }
    let count = app
        .db
        .query_one_raw(statement(&app, "SELECT COUNT(*) FROM environments"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count.try_get_by_index::<i64>(0).unwrap(), 0);
}

#[tokio::test]
async fn statements_given_up_midway_keep_to_the_limit_and_give_their_connections_back() {
    let app = TestApp::empty().await;
    let reads = app.state.reads.clone();
    let mut abandoned = tokio::task::JoinSet::new();
    for _ in 0..2 * READ_CONNECTIONS {
        let (reads, slow) = (reads.clone(), statement(&app, SLOW));
        abandoned.spawn(async move {
            tokio::time::timeout(Duration::from_millis(20), reads.query_all_raw(slow))
                .await
                .is_err()
        });
    }
    let mut gave_up = 0;
    while let Some(timed_out) = abandoned.join_next().await {
        gave_up += usize::from(timed_out.unwrap());
    }
    assert!(gave_up > 0, "no statement was given up midway");
    let (open, _) = reads.connections();
    assert!(open <= READ_CONNECTIONS, "{open} connections open");

    // Once the abandoned statements finish, their connections serve reads again.
    let row = tokio::time::timeout(
        Duration::from_secs(30),
        reads.query_one_raw(statement(&app, "SELECT CAST(1 + 1 AS BIGINT)")),
    )
    .await
    .expect("a read waited for a connection in vain")
    .unwrap()
    .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 2);
    // Every connection whose statement was given up is settled once the statement ends:
    // given back, or closed when the cancellation left it unusable (a statement dropped
    // while being written), and no lease is held on to.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while reads.connections().0 != reads.connections().1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "connections (open, idle): {:?}",
            reads.connections()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn closing_the_pool_closes_the_reads() {
    let app = TestApp::empty().await;
    let reads = &app.state.reads;
    let one = || reads.query_one_raw(statement(&app, "SELECT 1"));
    assert!(one().await.unwrap().is_some());
    assert_eq!(reads.connections(), (1, 1));
    app.db.close_by_ref().await.unwrap();
    assert!(one().await.is_err());
    assert_eq!(reads.connections(), (0, 0));
}
