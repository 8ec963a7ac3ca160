//! `Subscription.releaseEvents` over graphql-transport-ws with a real WebSocket client:
//! delivery after commit and in order, scoping, no delivery of failed writes, refusal
//! without a token, and delivery across two relm processes on PostgreSQL.

use std::net::SocketAddr;
use std::time::Duration;

use api::auth::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{OtherProcess, TestApp, data, token};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CREATE_PROGRAM: &str =
    "mutation($input: CreateProgramInput!) { createProgram(input: $input) { key } }";
const CREATE_RELEASE: &str =
    "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id } }";
const UPDATE_RELEASE: &str =
    "mutation($input: UpdateReleaseInput!) { updateRelease(input: $input) { revision } }";
const EVENTS: &str = "subscription($keys: [String!]) { releaseEvents(programKeys: $keys) { kind actor note toStatus release { version program { key } } } }";

/// Serves `app` on a free port until the test ends, events included.
async fn serve(app: &TestApp) -> SocketAddr {
    app.state.bus.listen(&app.db).await.unwrap();
    crate::support::serve(app.state.clone()).await
}

pub(crate) async fn connect(addr: SocketAddr, bearer: Option<String>) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let payload = bearer.map_or(
        json!({}),
        |t| json!({"Authorization": format!("Bearer {t}")}),
    );
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next message, or None when the socket closes or nothing comes within 10 s.
pub(crate) async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            _ => return None,
        }
    }
}

/// Connects as `token`, subscribes to release events (of `keys`), and waits until the
/// server has taken the subscription.
async fn subscribe(addr: SocketAddr, token: String, keys: Option<&[&str]>) -> Socket {
    let mut socket = connect(addr, Some(token)).await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
    send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"keys": keys}}})).await;
    // The server handles one connection's messages in order: a pong means it saw the subscribe.
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "pong");
    tokio::time::sleep(Duration::from_millis(200)).await;
    socket
}

async fn event(socket: &mut Socket) -> Value {
    let message = next(socket).await.expect("an event");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["releaseEvents"].clone()
}

async fn programs(app: &TestApp) {
    for key in ["PAY", "MOB"] {
        app.admin(CREATE_PROGRAM, json!({"input": {"key": key, "name": key}}))
            .await;
    }
}

async fn create(app: &TestApp, program: &str, version: &str) -> String {
    let input =
        json!({"input": {"programKey": program, "version": version, "name": "x", "type": "MINOR"}});
    data(
        app.run_as(Role::ReleaseManager, None, CREATE_RELEASE, input)
            .await,
    )["createRelease"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn committed_events_arrive_in_order() {
    let app = TestApp::empty().await;
    programs(&app).await;
    let addr = serve(&app).await;
    let mut socket = subscribe(addr, token(Role::Viewer, None), None).await;
    let id = create(&app, "PAY", "1.0").await;
    for revision in 1..=3 {
        let input = json!({"input": {"releaseId": id, "expectedRevision": revision, "name": format!("v{revision}")}});
        data(
            app.run_as(Role::ReleaseManager, None, UPDATE_RELEASE, input)
                .await,
        );
    }
    let created = event(&mut socket).await;
    assert_eq!(
        created,
        json!({"kind": "CREATED", "actor": "tester", "note": null, "toStatus": null,
        "release": {"version": "1.0", "program": {"key": "PAY"}}})
    );
    for _ in 1..=3 {
        assert_eq!(event(&mut socket).await["kind"], "UPDATED");
    }
}

#[tokio::test]
async fn subscribers_see_only_their_programs() {
    let app = TestApp::empty().await;
    programs(&app).await;
    let addr = serve(&app).await;
    let mut mob_viewer = subscribe(addr, token(Role::Viewer, Some(&["MOB"])), None).await;
    let mut pay_filter = subscribe(addr, token(Role::Admin, None), Some(&["PAY", "PAY"])).await;
    create(&app, "PAY", "1.0").await;
    create(&app, "MOB", "1.0").await;
    assert_eq!(
        event(&mut mob_viewer).await["release"]["program"]["key"],
        "MOB"
    );
    assert_eq!(
        event(&mut pay_filter).await["release"]["program"]["key"],
        "PAY"
    );
    create(&app, "PAY", "2.0").await;
    assert_eq!(event(&mut pay_filter).await["release"]["version"], "2.0");

    // Asking for a program outside the token's scope is NOT_FOUND.
    let mut socket = connect(addr, Some(token(Role::Viewer, Some(&["MOB"])))).await;
    next(&mut socket).await;
    send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"keys": ["PAY"]}}})).await;
    let refused = next(&mut socket).await.unwrap();
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
}

#[tokio::test]
async fn failed_writes_are_never_delivered() {
    let app = TestApp::empty().await;
    programs(&app).await;
    let id = create(&app, "PAY", "1.0").await;
    let addr = serve(&app).await;
    let mut socket = subscribe(addr, token(Role::Admin, None), None).await;
    let stale = json!({"input": {"releaseId": id, "expectedRevision": 9, "name": "lost"}});
    let response = app
        .run_as(Role::ReleaseManager, None, UPDATE_RELEASE, stale)
        .await;
    assert_eq!(crate::support::error_code(&response), "CONFLICT");
    create(&app, "PAY", "2.0").await;
    let first = event(&mut socket).await;
    assert_eq!(
        (first["kind"].as_str(), first["release"]["version"].as_str()),
        (Some("CREATED"), Some("2.0"))
    );
}

#[tokio::test]
async fn a_connection_without_a_valid_token_is_refused() {
    let app = TestApp::empty().await;
    let addr = serve(&app).await;
    for bearer in [None, Some("not-a-token".to_owned())] {
        let mut socket = connect(addr, bearer).await;
        let answer = next(&mut socket).await;
        assert!(
            answer
                .as_ref()
                .is_none_or(|m| m["type"] != "connection_ack"),
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn a_subscription_over_the_limits_is_refused_with_its_reason() {
    let app = TestApp::empty().await;
    let addr = serve(&app).await;
    let mut socket = connect(addr, Some(token(Role::Viewer, None))).await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
    let aliases: String = (0..31).map(|i| format!("k{i}: kind ")).collect();
    let over = format!("subscription {{ releaseEvents {{ {aliases} }} }}");
    let nul = "subscription($k: [String!]) { releaseEvents(programKeys: $k) { kind } }";
    let cases = [
        (json!({"query": over}), "31 aliases"),
        (json!({"query": nul, "variables": {"k": ["P\u{0}"]}}), "NUL"),
    ];
    for (n, (payload, reason)) in cases.into_iter().enumerate() {
        let id = n.to_string();
        send(
            &mut socket,
            json!({"id": id, "type": "subscribe", "payload": payload}),
        )
        .await;
        let answer = next(&mut socket).await.unwrap();
        assert_eq!(answer["type"], "error", "{answer}");
        assert_eq!(answer["id"], id.as_str());
        let error = &answer["payload"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{answer}");
        assert!(
            error["message"].as_str().unwrap().contains(reason),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn events_cross_processes_on_postgres() {
    let app = TestApp::empty().await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    programs(&app).await;
    // A second relm process on the same database.
    let other = OtherProcess::start(&app);
    let addr = other.addr;
    let mut socket = subscribe(addr, token(Role::Viewer, None), None).await;
    // This process writes; the other one delivers.
    create(&app, "MOB", "7.0").await;
    let delivered = event(&mut socket).await;
    drop(other);
    assert_eq!(delivered["release"]["version"], "7.0");
}

/// A token that expires `seconds` from now.
fn expiring(seconds: u64) -> String {
    let mut claims = crate::support::claims();
    claims.role = "viewer".into();
    claims.exp = chrono::Utc::now().timestamp() as u64 + seconds;
    crate::support::hs256(&claims)
}

/// The close frame a socket ends with, if it ends within 10 s.
pub(crate) async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

#[tokio::test]
async fn a_connection_ends_with_its_token() {
    let app = TestApp::empty().await;
    programs(&app).await;
    let addr = serve(&app).await;
    let mut socket = subscribe(addr, expiring(3), None).await;
    // Events arrive while the token is valid...
    create(&app, "MOB", "1.0").await;
    assert_eq!(event(&mut socket).await["release"]["version"], "1.0");
    // ...and at exp the connection closes with 4403, its subscription with it.
    let started = std::time::Instant::now();
    assert_eq!(close_code(&mut socket).await, Some(4403));
    assert!(started.elapsed() < Duration::from_secs(5), "closed at exp");
    create(&app, "MOB", "1.1").await;
    assert!(next(&mut socket).await.is_none(), "nothing after the close");
}

#[tokio::test]
async fn only_graphql_transport_ws_is_upgraded() {
    let app = TestApp::empty().await;
    let addr = serve(&app).await;
    for protocols in [None, Some("chat-v1"), Some("graphql-ws")] {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        if let Some(protocols) = protocols {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
        }
        let refused = tokio_tungstenite::connect_async(request).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{protocols:?}");
            }
            other => panic!("{protocols:?} was upgraded: {:?}", other.map(|(_, r)| r)),
        }
    }
    // Listed among others, it is chosen.
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "chat-v1, graphql-transport-ws".parse().unwrap(),
    );
    let (_, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
}
