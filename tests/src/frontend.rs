//! Front-end applications (interface.md): pages of the listed origins call `/graphql` and
//! `/v1/exports/…`, other origins get no CORS header, and a WebSocket opened by a page of
//! another site is refused.

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
        assert_eq!(cors(&answered), [None, None, None], "{origin}");
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
    let state = app
        .another_process()
        .with_origins(origins, Some("https://relm.example.com".into()));
    let addr = crate::support::serve(state).await;
    let open = |origin: Option<String>| {
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
    for origin in ["https://evil.example.com", "http://127.0.0.1:1", "null"] {
        match open(Some(origin.into())).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{origin}");
            }
            other => panic!(
                "{origin} was upgraded: {:?}",
                other.map(|(_, r)| r.status())
            ),
        }
    }
    // A listed origin, relm's public address, the host it was reached at, no Origin.
    for origin in [
        Some(APP.to_owned()),
        Some("https://relm.example.com".to_owned()),
        Some(format!("http://{addr}")),
        None,
    ] {
        let (_, response) = open(origin.clone())
            .await
            .unwrap_or_else(|e| panic!("{origin:?} was refused: {e}"));
        assert_eq!(response.status(), 101, "{origin:?}");
    }
}
