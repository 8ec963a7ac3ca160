//! Hostile requests, sent to a real server over TCP: each gets its documented answer and the
//! server goes on answering everyone else.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use api::app::AppState;
use api::auth::Role;
use api::error::ApiError;
use api::guard::Limits;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestApp, error_code, keys, serve, token};

/// The app's state with short client timeouts and no request budget.
fn quick(app: &TestApp) -> AppState {
    AppState::new(app.db.clone(), keys(), crate::support::cipher(), false).with_limits(Limits {
        rate_limit: 0,
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        ws_init_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
}

/// An HTTP/1.1 answer: status, headers (lower-case names) and body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Answer {
        status,
        headers: head.to_lowercase(),
        body: body.to_owned(),
    })
}

/// Sends raw bytes and reads until the server closes (at most 10 s).
async fn exchange(addr: SocketAddr, request: &[u8]) -> Option<Answer> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    parse_answer(&raw)
}

fn post(token: Option<&str>, body: &str) -> Vec<u8> {
    let authorization = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!(
        "POST /graphql HTTP/1.1\r\nHost: relm\r\nConnection: close\r\nContent-Type: application/json\r\n{authorization}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn query(addr: SocketAddr, token: Option<&str>, query: &str, variables: Value) -> Answer {
    let body = json!({ "query": query, "variables": variables }).to_string();
    exchange(addr, &post(token, &body))
        .await
        .expect("an answer")
}

/// The server still answers an ordinary query.
async fn still_serves(addr: SocketAddr) {
    let viewer = token(Role::Viewer, None);
    let answer = query(addr, Some(&viewer), "{ me { subject } }", json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["data"]["me"]["subject"], "tester");
}

#[tokio::test]
async fn deeply_nested_documents_are_refused_without_parsing() {
    let app = TestApp::empty().await;
    let addr = serve(quick(&app)).await;
    let viewer = token(Role::Viewer, None);
    let shapes = [
        format!(
            "{{ program(key: {}\"P\"{}) {{ key }} }}",
            "[".repeat(2000),
            "]".repeat(2000)
        ),
        format!(
            "{{ program(key: {}) {{ key }} }}",
            "{a: ".repeat(2000) + &"}".repeat(2000)
        ),
        format!("{}{}", "{ me ".repeat(2000), "}".repeat(2000)),
    ];
    for shape in &shapes {
        let anonymous = query(addr, None, shape, json!({})).await;
        assert_eq!(anonymous.status, 401, "no token: refused before parsing");
        let answer = query(addr, Some(&viewer), shape, json!({})).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert_eq!(error_code(&answer.json()), "BAD_USER_INPUT");
        assert!(answer.body.contains("levels deep"), "{}", answer.body);
    }
    let many = format!(
        "{{ me {} {{ subject }} }}",
        "@include(if: true) ".repeat(20_000)
    );
    let answer = query(addr, Some(&viewer), &many, json!({})).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("tokens"), "{}", answer.body);
    still_serves(addr).await;
}

#[tokio::test]
async fn graphql_without_a_valid_token_is_401_before_it_runs() {
    let app = TestApp::empty().await;
    let addr = serve(quick(&app)).await;
    for authorization in [None, Some("not-a-token")] {
        let answer = query(addr, authorization, "{ __typename }", json!({})).await;
        assert_eq!(answer.status, 401);
        assert!(answer.headers.contains("www-authenticate: bearer"));
        let body = answer.json();
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(body.get("data").is_none(), "{body}");
    }
    let get =
        b"GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: relm\r\nConnection: close\r\n\r\n";
    assert_eq!(exchange(addr, get).await.unwrap().status, 401);
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_timeout_and_the_server_goes_on() {
    let (app, _) = TestApp::with_fixture().await;
    let state = AppState::new(app.db.clone(), keys(), crate::support::cipher(), false).with_limits(
        Limits {
            request_timeout: Duration::from_millis(1),
            rate_limit: 0,
            ..Limits::default()
        },
    );
    let addr = serve(state.clone()).await;
    let viewer = token(Role::Viewer, None);
    let metrics = "{ metrics(filter: { from: \"2025-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\" }) { deploymentFrequency { band } } }";
    let answer = query(addr, Some(&viewer), metrics, json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(error_code(&body), "TIMEOUT", "{body}");
    assert!(body["data"].is_null());
    let text = exchange(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: relm\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap()
    .body;
    assert!(text.contains("relm_graphql_timeouts_total 1"), "{text}");
    assert!(
        text.contains("relm_request_timeout_seconds 0.001"),
        "{text}"
    );
}

#[tokio::test]
async fn fan_out_is_refused_before_it_runs() {
    let (app, _) = TestApp::with_fixture().await;
    let viewer = token(Role::Viewer, None);
    let nested = "{ programs(first: 100) { nodes { releases(first: 100) { nodes { events(first: 100) { nodes { kind } } } } } } }";
    let response = app.run(Some(&viewer), nested, json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("complex")
    );
    let page = "{ releases(first: 100) { nodes { version status program { key } deployments { status environment { name } } readiness { ready blockers } } } }";
    let response = app.run(Some(&viewer), page, json!({})).await;
    assert!(
        response.get("errors").is_none(),
        "a page of 100 is fine: {response}"
    );
}

#[tokio::test]
async fn each_caller_has_a_request_budget() {
    let app = TestApp::empty().await;
    let state = AppState::new(app.db.clone(), keys(), crate::support::cipher(), false).with_limits(
        Limits {
            rate_limit: 1,
            ..Limits::default()
        },
    );
    let addr = serve(state).await;
    let viewer = token(Role::Viewer, None);
    for _ in 0..2 {
        assert_eq!(
            query(addr, Some(&viewer), "{ me { subject } }", json!({}))
                .await
                .status,
            200
        );
    }
    let refused = query(addr, Some(&viewer), "{ me { subject } }", json!({})).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.headers.contains("retry-after: 1"),
        "{}",
        refused.headers
    );
    assert_eq!(error_code(&refused.json()), "RATE_LIMITED");

    let other = api::auth::JwtKeys::new(
        &api::auth::KeySource::Secret(api::auth::Secret(
            crate::support::SECRET.as_bytes().to_vec(),
        )),
        "relm",
        "relm",
    )
    .unwrap()
    .sign("someone-else", Role::Viewer, None, 600)
    .unwrap();
    let answer = query(addr, Some(&other), "{ me { subject } }", json!({})).await;
    assert_eq!(answer.status, 200, "another subject has its own budget");

    for _ in 0..2 {
        assert_eq!(
            query(addr, None, "{ me { subject } }", json!({}))
                .await
                .status,
            401
        );
    }
    let anonymous = query(addr, None, "{ me { subject } }", json!({})).await;
    assert_eq!(
        anonymous.status, 429,
        "requests without a token spend their address's budget"
    );
    let metrics = exchange(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: relm\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap()
    .body;
    assert!(
        metrics.contains("relm_graphql_errors_total{code=\"RATE_LIMITED\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("relm_rate_limit_per_second 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn postgres_cancels_a_statement_past_the_deadline() {
    let test_db = crate::support::TestDb::new().await;
    if !test_db.url.starts_with("postgres") {
        return;
    }
    let db = api::db::connect_with(&test_db.url, Some(Duration::from_millis(200)))
        .await
        .unwrap();
    let started = Instant::now();
    let err = db
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_sleep(5)",
        ))
        .await
        .unwrap_err();
    assert_eq!(ApiError::from(err).code(), "TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn slow_and_silent_clients_are_cut_off() {
    let app = TestApp::empty().await;
    let addr = serve(quick(&app)).await;
    let viewer = token(Role::Viewer, None);

    // A body announced over the limit is refused at once, without waiting for it.
    let started = Instant::now();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: relm\r\nContent-Type: application/json\r\nAuthorization: Bearer {viewer}\r\nContent-Length: 50000000\r\n\r\n{}",
        " ".repeat(100)
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buffer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let answer = parse_answer(&buffer[..n]).unwrap();
    assert_eq!(answer.status, 413);
    assert!(started.elapsed() < Duration::from_secs(1));

    // A body that stalls gets 408 once the body timeout passes.
    let stalled = format!(
        "POST /graphql HTTP/1.1\r\nHost: relm\r\nContent-Type: application/json\r\nAuthorization: Bearer {viewer}\r\nContent-Length: 1000\r\n\r\n{{\"query\""
    );
    let answer = exchange(addr, stalled.as_bytes()).await.expect("an answer");
    assert_eq!(answer.status, 408, "{}", answer.body);

    // A silent connection, and one trickling its headers, are closed.
    for trickle in [false, true] {
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let closed = async {
            let mut byte = [0u8; 1];
            loop {
                if trickle {
                    let _ = stream.write_all(b"X").await;
                }
                let read = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut byte));
                if let Ok(Ok(0) | Err(_)) = read.await {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), closed)
            .await
            .expect("the server closes the connection");
        assert!(started.elapsed() >= Duration::from_millis(900));
    }
    still_serves(addr).await;
}

#[tokio::test]
async fn inputs_the_database_cannot_take_are_bad_user_input_and_change_nothing() {
    let (app, _) = TestApp::with_fixture().await;
    let nul = app
        .refuses(
            Role::Admin,
            None,
            "mutation($i: CreateProgramInput!) { createProgram(input: $i) { key } }",
            json!({"i": {"key": "NUL", "name": "a\u{0}b"}}),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(nul.contains("$i.name"), "{nul}");
    let started = Instant::now();
    let teams: Vec<String> = (0..100_000).map(|i| format!("team-{i}")).collect();
    let many = app
        .refuses(
            Role::Admin,
            None,
            "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }",
            json!({"i": {"programKey": "PAY", "version": "9.9.9", "name": "x", "type": "MINOR", "teams": teams}}),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(many.contains("$i.teams: at most 100"), "{many}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let keys: Vec<String> = (0..30_000).map(|i| format!("K{i}")).collect();
    let viewer = token(Role::Viewer, None);
    let response = app
        .run(
            Some(&viewer),
            "query($k: [String!]) { releases(filter: { programKeys: $k }) { totalCount } }",
            json!({"k": keys}),
        )
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
}

#[tokio::test]
async fn limits_count_what_runs() {
    let (app, _) = TestApp::with_fixture().await;
    let viewer = token(Role::Viewer, None);
    let aliases: String = (0..10).map(|i| format!("v{i}: version ")).collect();
    let spread = format!(
        "{{ releases(first: 1) {{ nodes {{ ...F ...F ...F ...F }} }} }} fragment F on Release {{ {aliases} }}"
    );
    let response = app.run(Some(&viewer), &spread, json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    let twice = "{ me @include(if: true) @include(if: false) { subject } }";
    let response = app.run(Some(&viewer), twice, json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
}

#[tokio::test]
async fn responses_follow_the_specification() {
    let (app, _) = TestApp::with_fixture().await;
    let viewer = token(Role::Viewer, None);
    let response = app
        .run(
            Some(&viewer),
            "{ program(key: \"PAY\") { key releases(first: 1000) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"], json!({ "program": null }), "{response}");
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert_eq!(
        response["errors"][0]["path"],
        json!(["program", "releases"])
    );

    let response = app
        .run(
            Some(&viewer),
            "{ releases(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(response["data"].is_null(), "{response}");

    for (query, variables) in [
        (
            "query($t: DateTime!) { releaseCalendar(from: $t, to: $t) { __typename } }",
            json!({"t": "yesterday"}),
        ),
        (
            "{ releaseCalendar(from: \"yesterday\", to: \"2026-01-01T00:00:00Z\") { __typename } }",
            json!({}),
        ),
        (
            "{ releases(filter: { statuses: [NOPE] }) { totalCount } }",
            json!({}),
        ),
        ("{ releases { nodes { nope } } }", json!({})),
        ("{ releases { ", json!({})),
    ] {
        let response = app.run(Some(&viewer), query, variables).await;
        assert_eq!(
            error_code(&response),
            "BAD_USER_INPUT",
            "{query}: {response}"
        );
    }
}

#[tokio::test]
async fn no_suggestions_without_introspection() {
    let app = TestApp::empty().await;
    let addr = serve(quick(&app)).await;
    let viewer = token(Role::Viewer, None);
    let answer = query(
        addr,
        Some(&viewer),
        "{ programz { totalCount } }",
        json!({}),
    )
    .await;
    assert!(!answer.body.contains("Did you mean"), "{}", answer.body);
    assert!(!answer.body.contains("programs"), "{}", answer.body);
    let with_graphiql = app
        .run(Some(&viewer), "{ programz { totalCount } }", json!({}))
        .await;
    assert!(
        with_graphiql.to_string().contains("Did you mean"),
        "{with_graphiql}"
    );
}

#[tokio::test]
async fn get_honours_the_operation_name() {
    let app = TestApp::empty().await;
    let addr = serve(quick(&app)).await;
    let viewer = token(Role::Viewer, None);
    let request = format!(
        "GET /graphql?query=query%20A%7Bme%7Bsubject%7D%7Dquery%20B%7Bme%7Brole%7D%7D&operationName=B HTTP/1.1\r\nHost: relm\r\nConnection: close\r\nAuthorization: Bearer {viewer}\r\n\r\n"
    );
    let answer = exchange(addr, request.as_bytes()).await.unwrap();
    assert_eq!(
        answer.json()["data"],
        json!({"me": {"role": "VIEWER"}}),
        "{}",
        answer.body
    );
    let mutation = format!(
        "GET /graphql?query=query%20A%7Bme%7Bsubject%7D%7Dmutation%20B%7BcreateProgram(input%3A%7Bkey%3A%22X%22%2Cname%3A%22X%22%7D)%7Bkey%7D%7D&operationName=B HTTP/1.1\r\nHost: relm\r\nConnection: close\r\nAuthorization: Bearer {viewer}\r\n\r\n"
    );
    assert_eq!(
        exchange(addr, mutation.as_bytes()).await.unwrap().status,
        405
    );
}

mod websocket {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    use super::*;

    type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

    async fn open(addr: SocketAddr) -> Socket {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }

    async fn send(socket: &mut Socket, text: String) {
        let _ = socket.send(Message::text(text)).await;
    }

    fn init(token: &str) -> String {
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
            .to_string()
    }

    fn subscribe(id: &str) -> String {
        json!({"id": id, "type": "subscribe", "payload": {"query": "subscription { releaseEvents { kind } }"}})
            .to_string()
    }

    /// The next text message, skipping pings.
    async fn text(socket: &mut Socket) -> Value {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// The close code the server ends the connection with.
    async fn close_code(socket: &mut Socket) -> Option<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => {}
                _ => return None,
            }
        }
    }

    #[tokio::test]
    async fn protocol_violations_close_with_the_protocol_codes() {
        let app = TestApp::empty().await;
        let addr = serve(quick(&app)).await;
        let viewer = token(Role::Viewer, None);

        let mut socket = open(addr).await;
        send(&mut socket, subscribe("1")).await;
        assert_eq!(
            close_code(&mut socket).await,
            Some(4401),
            "subscribe before init"
        );

        for bad in [
            "not json",
            r#"{"type": "shout"}"#,
            r#"{"type": "subscribe"}"#,
        ] {
            let mut socket = open(addr).await;
            send(&mut socket, init(&viewer)).await;
            assert_eq!(text(&mut socket).await["type"], "connection_ack");
            send(&mut socket, bad.to_owned()).await;
            assert_eq!(close_code(&mut socket).await, Some(4400), "{bad}");
        }

        let mut socket = open(addr).await;
        send(&mut socket, init(&viewer)).await;
        assert_eq!(text(&mut socket).await["type"], "connection_ack");
        send(&mut socket, subscribe("1")).await;
        send(&mut socket, subscribe("1")).await;
        assert_eq!(close_code(&mut socket).await, Some(4409), "duplicate id");

        let mut socket = open(addr).await;
        send(&mut socket, init(&viewer)).await;
        send(&mut socket, init(&viewer)).await;
        assert_eq!(text(&mut socket).await["type"], "connection_ack");
        assert_eq!(close_code(&mut socket).await, Some(4429), "second init");

        let started = Instant::now();
        let mut socket = open(addr).await;
        assert_eq!(close_code(&mut socket).await, Some(4408), "no init");
        assert!(started.elapsed() >= Duration::from_millis(900));

        let mut expired = crate::support::claims();
        expired.exp = 1_000;
        let expired = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &expired,
            &jsonwebtoken::EncodingKey::from_secret(crate::support::SECRET.as_bytes()),
        )
        .unwrap();
        let mut socket = open(addr).await;
        send(&mut socket, init(&expired)).await;
        assert_eq!(close_code(&mut socket).await, Some(4403), "expired token");

        let mut socket = open(addr).await;
        let huge = json!({"type": "connection_init", "payload": {"pad": "x".repeat(2 << 20)}});
        send(&mut socket, huge.to_string()).await;
        assert_eq!(close_code(&mut socket).await, Some(1009), "2 MiB init");

        still_serves(addr).await;
    }

    #[tokio::test]
    async fn operations_run_as_over_http_and_ids_can_be_reused_once_complete() {
        let app = TestApp::empty().await;
        let addr = serve(quick(&app)).await;
        let viewer = token(Role::Viewer, None);
        let mut socket = open(addr).await;
        send(&mut socket, init(&viewer)).await;
        assert_eq!(text(&mut socket).await["type"], "connection_ack");
        for _ in 0..2 {
            let query =
                json!({"id": "q", "type": "subscribe", "payload": {"query": "{ me { subject } }"}});
            send(&mut socket, query.to_string()).await;
            let next = text(&mut socket).await;
            assert_eq!(next["type"], "next");
            assert_eq!(next["payload"]["data"]["me"]["subject"], "tester");
            assert_eq!(
                text(&mut socket).await,
                json!({"id": "q", "type": "complete"})
            );
        }
        let deep = format!(
            "{{ program(key: {}\"P\"{}) {{ key }} }}",
            "[".repeat(500),
            "]".repeat(500)
        );
        let hostile = json!({"id": "h", "type": "subscribe", "payload": {"query": deep}});
        send(&mut socket, hostile.to_string()).await;
        let error = text(&mut socket).await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
        send(&mut socket, json!({"type": "ping"}).to_string()).await;
        assert_eq!(text(&mut socket).await["type"], "pong");
    }

    #[tokio::test]
    async fn operations_spend_the_budget_and_a_connection_holds_a_bounded_number() {
        let app = TestApp::empty().await;
        let addr = serve(quick(&app)).await;
        let viewer = token(Role::Viewer, None);
        let mut socket = open(addr).await;
        send(&mut socket, init(&viewer)).await;
        assert_eq!(text(&mut socket).await["type"], "connection_ack");
        for n in 0..api::http::ws::MAX_OPERATIONS {
            send(&mut socket, subscribe(&n.to_string())).await;
        }
        send(&mut socket, subscribe("one-too-many")).await;
        let error = text(&mut socket).await;
        assert_eq!(error["id"], "one-too-many", "{error}");
        assert_eq!(error["payload"][0]["extensions"]["code"], "RATE_LIMITED");

        let state = AppState::new(app.db.clone(), keys(), crate::support::cipher(), false)
            .with_limits(Limits {
                rate_limit: 1,
                ..Limits::default()
            });
        let addr = serve(state).await;
        let mut socket = open(addr).await;
        send(&mut socket, init(&viewer)).await;
        assert_eq!(text(&mut socket).await["type"], "connection_ack");
        send(&mut socket, subscribe("a")).await;
        send(&mut socket, subscribe("b")).await;
        let error = text(&mut socket).await;
        assert_eq!(error["id"], "b", "{error}");
        assert_eq!(error["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    }
}

#[tokio::test]
async fn fragments_that_double_at_every_level_are_refused_at_once() {
    let app = TestApp::empty().await;
    let viewer = token(Role::Viewer, None);
    let levels = 30;
    let mut document = String::from("{ me { ...F0 } }");
    for n in 0..levels {
        document.push_str(&format!(
            " fragment F{n} on Viewer {{ ...F{} ...F{} }}",
            n + 1,
            n + 1
        ));
    }
    document.push_str(&format!(" fragment F{levels} on Viewer {{ subject }}"));
    let started = Instant::now();
    let response = app.run(Some(&viewer), &document, json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    still_serves(serve(quick(&app)).await).await;
}
