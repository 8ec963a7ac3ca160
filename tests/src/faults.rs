//! Faults: every backend connection of the test ended at once (`pg_terminate_backend`, as a
//! PostgreSQL restart or failover does) between reads, writes and live subscriptions. The
//! first requests after it answer, a write that answers committed, and subscribers miss no
//! event. PostgreSQL only: SQLite has no server to cut.

use std::time::Duration;

use api::auth::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{TestApp, data, token};

const PROGRAMS: &str =
    "{ programs { nodes { key } } releases(first: 5) { nodes { version program { key } } } }";

async fn create(app: &TestApp, version: &str) -> Value {
    app.run_as(
        Role::ReleaseManager,
        None,
        "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { version status program { key } } }",
        json!({"i": {"programKey": "PAY", "version": version, "name": "x", "type": "MINOR"}}),
    )
    .await
}

#[tokio::test]
async fn reads_and_writes_answer_right_after_every_connection_is_cut() {
    let (app, _) = TestApp::with_fixture().await;
    // Warm: the read connections and the pool hold connections to be cut.
    data(app.run_as(Role::Viewer, None, PROGRAMS, json!({})).await);
    data(create(&app, "9.0").await);
    if !app.cut_connections().await {
        return;
    }
    let read = app.run_as(Role::Viewer, None, PROGRAMS, json!({})).await;
    assert_eq!(
        data(read)["programs"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(app.cut_connections().await);
    let written = data(create(&app, "9.1").await);
    assert_eq!(written["createRelease"]["version"], "9.1");
    assert_eq!(written["createRelease"]["program"]["key"], "PAY");
    // What the write answered is what was committed, once.
    assert!(app.cut_connections().await);
    let seen = app
        .admin("{ release(programKey: \"PAY\", version: \"9.1\") { status events(first: 10) { totalCount } } }", json!({}))
        .await;
    assert_eq!(seen["release"]["status"], "PLANNED");
    assert_eq!(seen["release"]["events"]["totalCount"], 1);
    // The dashboard's figures too: the analytics store reads through the same pool.
    assert!(app.cut_connections().await);
    let now = chrono::Utc::now();
    let metrics = app
        .admin(
            "query($f: MetricsFilter!) { metrics(filter: $f) { deploymentFrequency { deployments } } }",
            json!({"f": {"from": (now - chrono::Duration::days(400)).to_rfc3339(), "to": now.to_rfc3339()}}),
        )
        .await;
    assert!(metrics["metrics"]["deploymentFrequency"]["deployments"].is_number());
}

#[tokio::test]
async fn subscribers_miss_no_event_across_a_cut() {
    let (app, _) = TestApp::with_fixture().await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    app.state.bus.listen(&app.db).await.unwrap();
    let addr = crate::support::serve(app.state.clone()).await;
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |message: Value| Message::text(message.to_string());
    socket
        .send(send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", token(Role::Viewer, None))}})))
        .await
        .unwrap();
    let query = "subscription { releaseEvents { kind release { version } } }";
    socket
        .send(send(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
        ))
        .await
        .unwrap();
    let mut versions = Vec::new();
    let mut next = async || loop {
        match tokio::time::timeout(Duration::from_secs(15), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["type"] == "next" {
                    return message["payload"]["data"]["releaseEvents"]["release"]["version"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no event: {other:?}"),
        }
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    data(create(&app, "8.0").await);
    versions.push(next().await);
    // Cut, then write at once: the event is committed while nobody listens.
    assert!(app.cut_connections().await);
    data(create(&app, "8.1").await);
    data(create(&app, "8.2").await);
    versions.push(next().await);
    versions.push(next().await);
    assert_eq!(versions, ["8.0", "8.1", "8.2"]);
}
