//! The HTTP surface: GraphQL over HTTP, health, readiness, metrics, limits.

use api::app::AppState;
use api::auth::Role;
use api::http::app;
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use serde_json::{Value, json};

use crate::support::{TestApp, keys, token};

fn client(app: &TestApp) -> TestClient<impl poem::Endpoint> {
    TestClient::new(app_endpoint(app))
}

fn app_endpoint(app: &TestApp) -> impl poem::Endpoint {
    app_with_state(AppState::new(
        app.db.clone(),
        keys(),
        crate::support::cipher(),
        true,
    ))
}

fn app_with_state(state: AppState) -> impl poem::Endpoint {
    app(state)
}

async fn body(response: TestResponse) -> (StatusCode, String, Value) {
    let status = response.0.status();
    let content_type = response.0.content_type().unwrap_or_default().to_owned();
    let text = response.0.into_body().into_string().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn bearer() -> String {
    format!("Bearer {}", token(Role::Viewer, None))
}

#[tokio::test]
async fn post_json_answers_200_with_data() {
    let (app, _) = TestApp::with_fixture().await;
    let response = client(&app)
        .post("/graphql")
        .header("authorization", bearer())
        .body_json(&json!({"query": "{ releases { totalCount } }"}))
        .send()
        .await;
    let (status, content_type, body) = body(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(body["data"]["releases"]["totalCount"], 5);
}

#[tokio::test]
async fn graphql_response_json_uses_status_codes() {
    let app = TestApp::empty().await;
    let client = client(&app);
    let send = |query: &'static str, accept: &'static str| {
        client
            .post("/graphql")
            .header("authorization", bearer())
            .header("accept", accept)
            .body_json(&json!({ "query": query }))
            .send()
    };
    let (status, content_type, _) =
        body(send("{ releases {", "application/graphql-response+json").await).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::BAD_REQUEST, "application/graphql-response+json")
    );
    let (status, _, body_json) =
        body(send("{ nope }", "application/graphql-response+json").await).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a validation error is a request error: {body_json}"
    );
    let (status, _, _) = body(send("{ releases {", "application/json").await).await;
    assert_eq!(status, StatusCode::OK, "application/json keeps 200");
    let (status, _, body_json) = body(
        send(
            "{ program(key: \"X\") { key } }",
            "application/graphql-response+json",
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body_json["data"]["program"], json!(null));
}

#[tokio::test]
async fn malformed_bodies_are_400_and_other_types_415() {
    let app = TestApp::empty().await;
    let client = client(&app);
    let (status, _, _) = body(
        client
            .post("/graphql")
            .content_type("application/json")
            .body("{not json")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = body(
        client
            .post("/graphql")
            .content_type("application/json")
            .body("{\"variables\": {}}")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a body without a query");
    let (status, _, _) = body(
        client
            .post("/graphql")
            .content_type("text/plain")
            .body("{ me { role } }")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!(
        "{{\"query\": \"{}\"}}",
        " ".repeat(api::http::MAX_BODY_BYTES + 1)
    );
    let (status, _, _) = body(
        client
            .post("/graphql")
            .content_type("application/json")
            .body(huge)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn get_runs_queries_but_not_mutations() {
    let (app, _) = TestApp::with_fixture().await;
    let client = client(&app);
    let (status, _, body_json) = body(
        client
            .get("/graphql")
            .query("query", &"{ programs { totalCount } }")
            .header("authorization", bearer())
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body_json["data"]["programs"]["totalCount"], 2);
    let response = client
        .get("/graphql")
        .query(
            "query",
            &"mutation { createProgram(input: {key: \"X\", name: \"x\"}) { key } }",
        )
        .header("authorization", bearer())
        .send()
        .await;
    response.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    response.assert_header("allow", "POST");
    let html = client
        .get("/graphql")
        .header("accept", "text/html")
        .send()
        .await;
    html.assert_status_is_ok();
    let (_, content_type, page) = body(html).await;
    assert!(content_type.starts_with("text/html"));
    assert!(page.as_str().is_some_and(|p| p.contains("graphiql")));
}

#[tokio::test]
async fn graphiql_and_introspection_can_be_turned_off() {
    let app = TestApp::empty().await;
    let client = TestClient::new(app_with_state(AppState::new(
        app.db.clone(),
        keys(),
        crate::support::cipher(),
        false,
    )));
    let response = client
        .get("/graphql")
        .header("accept", "text/html")
        .send()
        .await;
    assert_ne!(response.0.content_type(), Some("text/html; charset=utf-8"));
    let (_, _, introspection) = body(
        client
            .post("/graphql")
            .header("authorization", bearer())
            .body_json(&json!({"query": "{ __schema { queryType { name } } }"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        introspection["data"]["__schema"],
        json!(null),
        "{introspection}"
    );
}

#[tokio::test]
async fn hostile_queries_are_refused_before_they_run() {
    let (app, _) = TestApp::with_fixture().await;
    let client = client(&app);
    let aliases: String = (0..31).map(|i| format!("a{i}: me {{ role }} ")).collect();
    let deep = format!(
        "{{ releases {{ nodes {{ {} }} }} }}",
        "program { releases { nodes { ".repeat(6) + "version" + &" } } }".repeat(6)
    );
    for query in [format!("{{ {aliases} }}"), deep] {
        let (_, _, response) = body(
            client
                .post("/graphql")
                .header("authorization", bearer())
                .body_json(&json!({ "query": query }))
                .send()
                .await,
        )
        .await;
        assert!(response["data"].is_null(), "{response}");
        assert!(response["errors"][0]["message"].is_string());
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::empty().await;
    let state = AppState::new(app.db.clone(), keys(), crate::support::cipher(), true);
    let client = TestClient::new(app_with_state(state));
    client.get("/healthz").send().await.assert_status_is_ok();
    client.get("/readyz").send().await.assert_status_is_ok();
    client
        .post("/graphql")
        .header("authorization", bearer())
        .body_json(&json!({"query": "{ me { role } }"}))
        .send()
        .await
        .assert_status_is_ok();
    client
        .post("/graphql")
        .body_json(&json!({"query": "{ me { role } }"}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let (status, content_type, text) = body(client.get("/metrics").send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"));
    let text = text.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("relm_graphql_requests_total{operation=\"query\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("relm_graphql_errors_total{code=\"UNAUTHENTICATED\"} 1"),
        "{text}"
    );
    assert!(text.contains("relm_db_pool_connections"), "{text}");

    app.db.close_by_ref().await.unwrap();
    client
        .get("/readyz")
        .send()
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    client.get("/healthz").send().await.assert_status_is_ok();
}

#[tokio::test]
async fn internal_errors_hide_database_text() {
    let (app, _) = TestApp::with_fixture().await;
    let client = client(&app);
    app.db.close_by_ref().await.unwrap();
    let (status, _, response) = body(
        client
            .post("/graphql")
            .header("authorization", bearer())
            .body_json(&json!({"query": "{ releases { totalCount } }"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let error = &response["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL");
    assert!(error["extensions"]["requestId"].is_string());
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("internal error (request id "),
        "{message}"
    );
    assert!(!message.to_lowercase().contains("pool"), "{message}");
}

/// The asset URLs a page refers to, e.g. `/assets/3f2a…/dashboard/main.js`.
fn asset_urls(page: &str) -> Vec<String> {
    page.split('"')
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_need_no_token() {
    let app = TestApp::empty().await;
    let client = client(&app);
    for (path, accept) in [("/dashboard", "*/*"), ("/graphql", "text/html")] {
        let response = client.get(path).header("accept", accept).send().await;
        response.assert_status_is_ok();
        response.assert_header("x-content-type-options", "nosniff");
        response.assert_header("referrer-policy", "no-referrer");
        response.assert_header("cache-control", "no-cache");
        let headers = response.0.headers().clone();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(
            !policy.contains("script-src"),
            "{path}: scripts only from relm"
        );
        let (_, content_type, page) = body(response).await;
        assert_eq!(content_type, "text/html; charset=utf-8");
        let page = page.as_str().unwrap().to_owned();
        assert!(!page.contains("<script>"), "{path} has an inline script");
        assert!(!page.contains("{{"), "{path} has an unfilled placeholder");
        assert!(!page.contains("//"), "{path} refers to another origin");
        let assets = asset_urls(&page);
        assert!(assets.len() >= 3, "{path}: {assets:?}");
        for url in assets {
            client.get(&url).send().await.assert_status_is_ok();
        }
    }
    let dashboard = client.get("/dashboard").send().await;
    let (_, _, page) = body(dashboard).await;
    assert!(page.as_str().unwrap().contains("data-graphiql=\"on\""));
    let without = TestClient::new(app_with_state(AppState::new(
        app.db.clone(),
        keys(),
        crate::support::cipher(),
        false,
    )));
    let (_, _, page) = body(without.get("/dashboard").send().await).await;
    assert!(page.as_str().unwrap().contains("data-graphiql=\"off\""));
}

#[tokio::test]
async fn assets_are_cached_by_build_revalidated_by_etag_and_gzipped_on_request() {
    let app = TestApp::empty().await;
    let client = client(&app);
    let (_, _, page) = body(client.get("/dashboard").send().await).await;
    let script = asset_urls(page.as_str().unwrap())
        .into_iter()
        .find(|url| url.ends_with("/vendor/chart.umd.min.js"))
        .unwrap();

    let plain = client.get(&script).send().await;
    plain.assert_status_is_ok();
    plain.assert_content_type("text/javascript; charset=utf-8");
    plain.assert_header("cache-control", "public, max-age=31536000, immutable");
    plain.assert_header("x-content-type-options", "nosniff");
    plain.assert_header("vary", "Accept-Encoding");
    assert!(plain.0.headers().get("content-encoding").is_none());
    let etag = plain.0.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = plain.0.into_body().into_vec().await.unwrap();
    assert_eq!(
        bytes,
        std::fs::read("../api/assets/vendor/chart.umd.min.js").unwrap()
    );

    let gzipped = client
        .get(&script)
        .header("accept-encoding", "br, gzip")
        .send()
        .await;
    gzipped.assert_header("content-encoding", "gzip");
    gzipped.assert_header("etag", etag.as_str());
    let compressed = gzipped.0.into_body().into_vec().await.unwrap();
    assert!(compressed.len() < bytes.len() / 2);
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(compressed.as_slice()),
        &mut unpacked,
    )
    .unwrap();
    assert_eq!(unpacked, bytes);

    let refused = client
        .get(&script)
        .header("accept-encoding", "gzip;q=0")
        .send()
        .await;
    assert!(refused.0.headers().get("content-encoding").is_none());

    let current = client
        .get(&script)
        .header("if-none-match", etag.as_str())
        .send()
        .await;
    current.assert_status(StatusCode::NOT_MODIFIED);
    assert!(current.0.into_body().into_vec().await.unwrap().is_empty());

    // Another build's names, paths outside the folder and the page templates are not assets.
    let build = script.split('/').nth(2).unwrap();
    let file = script.splitn(4, '/').nth(3).unwrap();
    for missing in [
        format!("/assets/000000000000/{file}"),
        format!("/assets/{build}/../Cargo.toml"),
        format!("/assets/{build}/../src/web/dashboard.html"),
        "/assets/vendor/chart.umd.min.js".to_owned(),
        "/assets/".to_owned(),
    ] {
        client
            .get(&missing)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}
