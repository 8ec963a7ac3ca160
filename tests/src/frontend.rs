//! Front-end applications (interface.md): pages of the listed origins call `/graphql` and
//! `/v1/exports/…`, other origins get no CORS header, a WebSocket opened by a page of
//! another site is refused; trusted documents run by their id, and each mode holds the
//! callers it restricts to them.

use api::app::trusted::{self, Only, Trusted};
use api::auth::Role;
use api::origins::Origins;
use poem::http::{Method, StatusCode};
use poem::test::{TestClient, TestResponse};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{TestApp, token};

const APP: &str = "https://releases.example.com";

fn client(app: &TestApp) -> TestClient<impl poem::Endpoint> {
    let origins = Origins::parse(&format!("{APP}, http://localhost:5173")).unwrap();
    TestClient::new(api::http::app(
        app.another_process().with_origins(origins, None),
    ))
}

fn header(response: &TestResponse, name: &str) -> Option<String> {
    response
        .0
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The CORS headers of an answer: allowed origin, Vary, exposed headers.
fn cors(response: &TestResponse) -> [Option<String>; 3] {
    [
        "access-control-allow-origin",
        "vary",
        "access-control-expose-headers",
    ]
    .map(|name| header(response, name))
}

fn listed(origin: &str) -> [Option<String>; 3] {
    [
        Some(origin.to_owned()),
        Some("Origin".to_owned()),
        Some("Retry-After, Content-Disposition".to_owned()),
    ]
}

#[tokio::test]
async fn a_listed_origin_gets_its_preflight_answered_without_a_token() {
    let app = TestApp::empty().await;
    let client = client(&app);
    for path in ["/graphql", "/v1/exports/releases.csv"] {
        let preflight = client
            .request(Method::OPTIONS, path)
            .header("origin", APP)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await;
        assert_eq!(preflight.0.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(cors(&preflight), listed(APP), "{path}");
        for (name, value) in [
            ("access-control-allow-methods", "GET, POST"),
            (
                "access-control-allow-headers",
                "authorization, content-type",
            ),
            ("access-control-max-age", "600"),
        ] {
            assert_eq!(
                header(&preflight, name).as_deref(),
                Some(value),
                "{path} {name}"
            );
        }
        assert_eq!(header(&preflight, "access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn every_answer_to_a_listed_origin_carries_the_headers_errors_included() {
    let app = TestApp::empty().await;
    let client = client(&app);
    let body = serde_json::json!({"query": "{ me { subject } }"});
    let viewer = token(Role::Viewer, None);
    // Scheme and host in any case, the default port written out: the same origin.
    for origin in [
        APP,
        "HTTPS://Releases.Example.com:443",
        "http://localhost:5173",
    ] {
        let answered = client
            .post("/graphql")
            .header("origin", origin)
            .header("authorization", format!("Bearer {viewer}"))
            .body_json(&body)
            .send()
            .await;
        assert_eq!(answered.0.status(), StatusCode::OK, "{origin}");
        assert_eq!(cors(&answered), listed(origin), "{origin}");
    }
    let refused = client
        .post("/graphql")
        .header("origin", APP)
        .body_json(&body)
        .send()
        .await;
    assert_eq!(refused.0.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(cors(&refused), listed(APP));
    let analyst = token(Role::Analyst, None);
    let report = client
        .get("/v1/exports/releases.csv")
        .header("origin", APP)
        .header("authorization", format!("Bearer {analyst}"))
        .send()
        .await;
    assert_eq!(report.0.status(), StatusCode::OK);
    assert_eq!(cors(&report), listed(APP));
    assert!(header(&report, "content-disposition").is_some());
}

#[tokio::test]
async fn other_origins_and_other_paths_get_no_cors_header() {
    let app = TestApp::empty().await;
    let client = client(&app);
    let viewer = token(Role::Viewer, None);
    for origin in [
        "https://evil.example.com",
        "http://releases.example.com",
        "https://releases.example.com:8443",
        "null",
    ] {
        let answered = client
            .post("/graphql")
            .header("origin", origin)
            .header("authorization", format!("Bearer {viewer}"))
            .body_json(&serde_json::json!({"query": "{ me { subject } }"}))
            .send()
            .await;
        assert_eq!(answered.0.status(), StatusCode::OK, "{origin}");
        // No CORS header; `Vary` tells caches the answer depends on the Origin.
        assert_eq!(
            cors(&answered),
            [None, Some("Origin".into()), None],
            "{origin}"
        );
        let preflight = client
            .request(Method::OPTIONS, "/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await;
        assert_eq!(
            header(&preflight, "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
    // Only the API: the dashboard and ingestion are not for other origins' pages.
    for path in ["/dashboard", "/healthz"] {
        let page = client.get(path).header("origin", APP).send().await;
        assert_eq!(header(&page, "access-control-allow-origin"), None, "{path}");
    }
    // Without a list, nobody is listed.
    let unlisted = TestClient::new(api::http::app(app.another_process()));
    let answered = unlisted
        .request(Method::OPTIONS, "/graphql")
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(header(&answered, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_websocket_from_another_sites_page_is_refused() {
    let app = TestApp::empty().await;
    let origins = Origins::parse(APP).unwrap();
    let public = app.another_process().with_origins(
        origins.clone(),
        Some("https://relm.example.com/relm".into()),
    );
    let addr = crate::support::serve(public).await;
    let bare = crate::support::serve(app.another_process().with_origins(origins, None)).await;
    let open = |addr: std::net::SocketAddr, origin: Option<String>| {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        if let Some(origin) = origin {
            headers.insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    // With a public URL, it alone is relm's own origin: not the Host a client wrote.
    for origin in [
        "https://evil.example.com".to_owned(),
        "http://127.0.0.1:1".to_owned(),
        "null".to_owned(),
        format!("http://{addr}"),
    ] {
        match open(addr, Some(origin.clone())).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{origin}");
            }
            other => panic!(
                "{origin} was upgraded: {:?}",
                other.map(|(_, r)| r.status())
            ),
        }
    }
    // A listed origin, relm's public address (its path aside), no Origin; without a
    // public URL, the host it was reached at.
    for (addr, origin) in [
        (addr, Some(APP.to_owned())),
        (addr, Some("https://relm.example.com".to_owned())),
        (addr, None),
        (bare, Some(format!("http://{bare}"))),
    ] {
        let (_, response) = open(addr, origin.clone())
            .await
            .unwrap_or_else(|e| panic!("{origin:?} was refused: {e}"));
        assert_eq!(response.status(), 101, "{origin:?}");
    }
}

const ME: &str = "{ me { subject role } }";
const EVENTS: &str = "subscription { releaseEvents { kind } }";
const CREATE: &str =
    "mutation { createProgram(input: {key: \"PAY\", name: \"Payments\"}) { key } }";

fn trusted(only: Only) -> Trusted {
    let manifest: serde_json::Map<String, serde_json::Value> = [ME, EVENTS, CREATE]
        .into_iter()
        .map(|doc| {
            (
                format!("sha256:{}", trusted::id_of(doc)),
                serde_json::json!(doc),
            )
        })
        .collect();
    Trusted::load(&serde_json::Value::Object(manifest).to_string(), only).unwrap()
}

fn trusting(app: &TestApp, only: Only) -> TestClient<impl poem::Endpoint> {
    TestClient::new(api::http::app(
        app.another_process().with_trusted(trusted(only)),
    ))
}

async fn json(response: TestResponse) -> (StatusCode, serde_json::Value) {
    let status = response.0.status();
    let body = response.0.into_body().into_vec().await.unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

async fn post_as(
    client: &TestClient<impl poem::Endpoint>,
    role: Option<Role>,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let mut request = client.post("/graphql").body_json(&body);
    if let Some(role) = role {
        request = request.header("authorization", format!("Bearer {}", token(role, None)));
    }
    json(request.send().await).await
}

fn code(body: &serde_json::Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_trusted_document_runs_by_its_id_over_post_get_and_apollos_extension() {
    let app = TestApp::empty().await;
    let client = trusting(&app, Only::Off);
    let id = trusted::id_of(ME);
    for body in [
        serde_json::json!({"documentId": format!("sha256:{id}")}),
        serde_json::json!({"documentId": id, "query": ME}),
        serde_json::json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": id}}}),
    ] {
        let (status, answer) = post_as(&client, Some(Role::Viewer), body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(answer["data"]["me"]["role"], "VIEWER", "{body}: {answer}");
    }
    let viewer = token(Role::Viewer, None);
    let (status, answer) = json(
        client
            .get(format!("/graphql?documentId=sha256%3A{id}"))
            .header("authorization", format!("Bearer {viewer}"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (status, answer["data"]["me"]["role"].as_str()),
        (StatusCode::OK, Some("VIEWER"))
    );
    // A mutation named over GET is refused like one sent as text.
    let admin = token(Role::Admin, None);
    let mutation = client
        .get(format!("/graphql?documentId={}", trusted::id_of(CREATE)))
        .header("authorization", format!("Bearer {admin}"))
        .send()
        .await;
    assert_eq!(mutation.0.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Without a token, a named mutation says nothing of the manifest.
    let anonymous = client
        .get(format!("/graphql?documentId={}", trusted::id_of(CREATE)))
        .send()
        .await;
    assert_eq!(anonymous.0.status(), StatusCode::UNAUTHORIZED);
    // The prefix in any case names the same document.
    let (status, answer) = post_as(
        &client,
        Some(Role::Viewer),
        serde_json::json!({"documentId": format!("SHA256:{}", id.to_uppercase())}),
    )
    .await;
    assert_eq!(
        (status, answer["data"]["me"]["role"].as_str()),
        (StatusCode::OK, Some("VIEWER"))
    );

    // An unknown id is 400 PERSISTED_QUERY_NOT_FOUND, once the token is good.
    let unknown =
        serde_json::json!({"documentId": format!("sha256:{}", trusted::id_of("{ nothing }"))});
    let (status, answer) = post_as(&client, Some(Role::Viewer), unknown.clone()).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "PERSISTED_QUERY_NOT_FOUND")
    );
    let (status, _) = post_as(&client, None, unknown).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Text beside a known id must be that document.
    let (status, answer) = post_as(
        &client,
        Some(Role::Viewer),
        serde_json::json!({"documentId": id, "query": "{ me { subject } }"}),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "BAD_USER_INPUT")
    );
}

#[tokio::test]
async fn each_mode_holds_the_callers_it_restricts_to_the_manifest() {
    let app = TestApp::empty().await;
    let other = serde_json::json!({"query": "{ me { subject } }"});
    let listed = serde_json::json!({"documentId": trusted::id_of(ME)});
    for (only, role, allowed) in [
        (Only::Off, Role::Viewer, true),
        (Only::Viewers, Role::Viewer, false),
        (Only::Viewers, Role::Analyst, true),
        (Only::All, Role::ReleaseManager, false),
        (Only::All, Role::Admin, true),
    ] {
        let client = trusting(&app, only);
        let (status, answer) = post_as(&client, Some(role), other.clone()).await;
        if allowed {
            assert_eq!(status, StatusCode::OK, "{only:?} {role:?}: {answer}");
        } else {
            assert_eq!(
                (status, code(&answer)),
                (StatusCode::BAD_REQUEST, "PERSISTED_QUERY_REQUIRED"),
                "{only:?} {role:?}"
            );
        }
        let (status, answer) = post_as(&client, Some(role), listed.clone()).await;
        assert_eq!(status, StatusCode::OK, "{only:?} {role:?}: {answer}");
    }
}

#[tokio::test]
async fn a_websocket_subscribes_by_document_id_and_its_mode_applies() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::empty().await;
    let addr =
        crate::support::serve(app.another_process().with_trusted(trusted(Only::Viewers))).await;
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |message: serde_json::Value| Message::text(message.to_string());
    let init = serde_json::json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", token(Role::Viewer, None))}});
    socket.send(send(init)).await.unwrap();
    let mut answers = Vec::new();
    socket
        .send(send(
            serde_json::json!({"id": "free", "type": "subscribe", "payload": {"query": EVENTS}}),
        ))
        .await
        .unwrap();
    socket
        .send(send(serde_json::json!({"id": "named", "type": "subscribe", "payload": {"documentId": trusted::id_of(EVENTS)}})))
        .await
        .unwrap();
    socket
        .send(send(serde_json::json!({"type": "ping"})))
        .await
        .unwrap();
    while let Some(Ok(Message::Text(text))) = socket.next().await {
        let message: serde_json::Value = serde_json::from_str(&text).unwrap();
        if message["type"] == "pong" {
            break;
        }
        answers.push(message);
    }
    let errors: Vec<(&str, &str)> = answers
        .iter()
        .filter(|m| m["type"] == "error")
        .map(|m| {
            (
                m["id"].as_str().unwrap(),
                m["payload"][0]["extensions"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    // The named subscription runs (no error for it); the free one is refused.
    assert_eq!(
        errors,
        [("free", "PERSISTED_QUERY_REQUIRED")],
        "{answers:?}"
    );
}
