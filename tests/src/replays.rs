//! Replays, budgets and secrets of ingestion (ingestion.md, *Replays*), through the real
//! endpoint: whoever captures a signed request can make relm record nothing new with it,
//! no stale event undoes a later state, unsigned requests spend their address's budget and
//! never a source's, keys that cannot be keys are refused unread, and secrets are stored
//! sealed.

use api::app::AppState;
use api::guard::Limits;
use api::ingest::signature::{sign, sign_standard};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

use crate::support::{TestApp, cipher, keys, post, serve};

const TRIGGERED: &str =
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_triggered.json");
const RESOLVED: &str =
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_resolved.json");
const REOPENED: &str =
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_reopened.json");
const DEPLOYED: &str = include_str!("../../api/src/ingest/fixtures/cdevents_service_deployed.json");
const ROLLEDBACK: &str =
    include_str!("../../api/src/ingest/fixtures/cloudevents_binary_service_rolledback.json");
const GITHUB: &str = include_str!("../../api/src/ingest/fixtures/github_deployment_status.json");
const GITLAB: &str = include_str!("../../api/src/ingest/fixtures/gitlab_deployment.json");
const GENERIC: &str = include_str!("../../api/src/ingest/fixtures/generic_deployment.json");
const GENERIC_INCIDENT: &str = include_str!("../../api/src/ingest/fixtures/generic_incident.json");

/// A source of `kind` for MOB, its `production` going to prod-eu; returns its secret.
async fn source(app: &TestApp, key: &str, kind: &str) -> String {
    let created = app
        .admin(
            "mutation($i: CreateIngestSourceInput!) { createIngestSource(input: $i) { secret } }",
            json!({"i": {"programKey": "MOB", "key": key, "kind": kind,
                         "environmentAliases": [{"external": "production", "environment": "prod-eu"}]}}),
        )
        .await;
    created["createIngestSource"]["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn hmac(secret: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![(
        "X-Relm-Signature-256",
        format!("sha256={}", sign(secret, body.as_bytes())),
    )]
}

fn pagerduty(secret: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![(
        "X-PagerDuty-Signature",
        format!("v1={}", sign(secret, body.as_bytes())),
    )]
}

fn github(secret: &str, delivery: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", "deployment_status".to_owned()),
        ("X-GitHub-Delivery", delivery.to_owned()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", sign(secret, body.as_bytes())),
        ),
    ]
}

async fn mob_release(app: &TestApp) -> Value {
    app.admin(
        "{ release(programKey: \"MOB\", version: \"5.0.0\") { status deployments { externalId status } } }",
        json!({}),
    )
    .await["release"]
        .clone()
}

async fn deliveries(app: &TestApp) -> i64 {
    app.admin("{ deliveries { totalCount } }", json!({})).await["deliveries"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_captured_cdevent_changes_nothing_under_new_headers() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "mob-argo", "CDEVENTS").await;
    let addr = serve(app.state.clone()).await;
    let body = DEPLOYED.replace("warehouse-loader@2026.11.4", "app@5.0.0");
    let signature = hmac(&secret, &body);
    let (status, first) = post(addr, "/v1/ingest/mob-argo", &signature, body.as_bytes()).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (202, Some("APPLIED")),
        "{first}"
    );

    // The HMAC covers the body only: binary mode's headers cannot give it a new id or type.
    for (name, value) in [
        ("ce-id", "replayed-1"),
        ("ce-type", "dev.cdevents.service.rolledback.0.2.0"),
        ("ce-time", "2026-11-30T00:00:00Z"),
    ] {
        let mut headers = signature.clone();
        headers.push((name, value.to_owned()));
        let (status, refused) = post(addr, "/v1/ingest/mob-argo", &headers, body.as_bytes()).await;
        assert_eq!(status, 400, "{name}: {refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("structured mode required"),
            "{refused}"
        );
    }
    let (status, again) = post(addr, "/v1/ingest/mob-argo", &signature, body.as_bytes()).await;
    assert_eq!(
        (status, &again),
        (200, &first),
        "the same request is a repeat"
    );
    let release = mob_release(&app).await;
    assert_eq!(release["status"], "DEPLOYED");
    let ingested = release["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["externalId"].is_null())
        .count();
    assert_eq!(ingested, 1, "{release}");
    assert_eq!(deliveries(&app).await, 1);
}

#[tokio::test]
async fn a_new_idempotency_key_does_not_make_a_signed_body_new() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "mob-ci", "GENERIC").await;
    let addr = serve(app.state.clone()).await;
    let opened = GENERIC_INCIDENT.to_owned();
    let (_, first) = post(
        addr,
        "/v1/ingest/mob-ci",
        &hmac(&secret, &opened),
        opened.as_bytes(),
    )
    .await;
    assert_eq!(first["status"], "APPLIED", "{first}");
    let resolved = opened.replace(
        "\"resolvedAt\": null",
        "\"resolvedAt\": \"2026-11-29T12:00:00Z\"",
    );
    let (_, answer) = post(
        addr,
        "/v1/ingest/mob-ci",
        &hmac(&secret, &resolved),
        resolved.as_bytes(),
    )
    .await;
    assert_eq!(answer["status"], "APPLIED", "{answer}");

    let mut replay = hmac(&secret, &opened);
    replay.push(("Idempotency-Key", "a-new-key".to_owned()));
    let (status, again) = post(addr, "/v1/ingest/mob-ci", &replay, opened.as_bytes()).await;
    assert_eq!(
        (status, &again),
        (200, &first),
        "answered as the first delivery"
    );
    let incident = app
        .admin(
            "query($id: ID!) { node(id: $id) { ... on Delivery { incident { resolvedAt } } } }",
            json!({"id": first["delivery"]}),
        )
        .await;
    assert_eq!(
        incident["node"]["incident"]["resolvedAt"], "2026-11-29T12:00:00Z",
        "the resolved incident stays resolved"
    );
    assert_eq!(deliveries(&app).await, 2);
}

#[tokio::test]
async fn standard_webhooks_sign_the_delivery_id_and_its_time() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "mob-ci", "GENERIC").await;
    let addr = serve(app.state.clone()).await;
    let body = GENERIC.replace("2026.11.3", "5.0.0");
    let now = chrono::Utc::now().timestamp();
    let signed = |id: &str, at: i64, signature: String| {
        vec![
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", at.to_string()),
            ("webhook-signature", signature),
        ]
    };
    let good = sign_standard(&secret, "msg_1", now, body.as_bytes());
    let (status, first) = post(
        addr,
        "/v1/ingest/mob-ci",
        &signed("msg_1", now, good.clone()),
        body.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, first["status"].as_str()),
        (202, Some("APPLIED")),
        "{first}"
    );
    let (status, again) = post(
        addr,
        "/v1/ingest/mob-ci",
        &signed("msg_1", now, good.clone()),
        body.as_bytes(),
    )
    .await;
    assert_eq!((status, &again), (200, &first));
    // The id is signed: another id under the same signature is refused.
    let (status, _) = post(
        addr,
        "/v1/ingest/mob-ci",
        &signed("msg_2", now, good),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    // More than five minutes away from relm's clock, either way.
    for at in [now - 301, now + 301] {
        let late = sign_standard(&secret, "msg_3", at, body.as_bytes());
        let (status, _) = post(
            addr,
            "/v1/ingest/mob-ci",
            &signed("msg_3", at, late),
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, 401, "timestamp {at} against {now}");
    }
    // Several space-separated signatures: any one may match.
    let other = body.replace("ci-4711", "ci-4712");
    let both = format!(
        "{} {}",
        sign_standard("a-retired-secret", "msg_4", now, other.as_bytes()),
        sign_standard(&secret, "msg_4", now, other.as_bytes())
    );
    let (status, answer) = post(
        addr,
        "/v1/ingest/mob-ci",
        &signed("msg_4", now, both),
        other.as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(deliveries(&app).await, 2);
}

#[tokio::test]
async fn github_and_gitlab_repeats_are_known_by_their_fact() {
    let (app, _) = TestApp::with_fixture().await;
    let gitlab = source(&app, "mob-gitlab", "GITLAB").await;
    let github_secret = source(&app, "mob-github", "GITHUB").await;
    let addr = serve(app.state.clone()).await;
    let headers = |uuid: &str| {
        vec![
            ("X-Gitlab-Token", gitlab.clone()),
            ("X-Gitlab-Event-UUID", uuid.to_owned()),
        ]
    };
    let (status, first) = post(
        addr,
        "/v1/ingest/mob-gitlab",
        &headers("uuid-1"),
        GITLAB.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, first["status"].as_str()),
        (202, Some("APPLIED")),
        "{first}"
    );
    let mut keyed = headers("uuid-2");
    keyed.push(("Idempotency-Key", "retry-2".to_owned()));
    let (status, again) = post(addr, "/v1/ingest/mob-gitlab", &keyed, GITLAB.as_bytes()).await;
    assert_eq!(
        (status, &again),
        (200, &first),
        "same deployment, same status"
    );

    // GitHub: the same status (by its id) under a new X-GitHub-Delivery.
    let body = GITHUB.replace("refs/tags/v2026.11.3", "refs/tags/v5.0.0");
    let (status, shipped) = post(
        addr,
        "/v1/ingest/mob-github",
        &github(&github_secret, "gh-1", &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{shipped}");
    let (status, again) = post(
        addr,
        "/v1/ingest/mob-github",
        &github(&github_secret, "gh-2", &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!((status, &again), (200, &shipped));
    assert_eq!(deliveries(&app).await, 2);
}

#[tokio::test]
async fn an_older_event_never_undoes_a_later_state() {
    let (app, _) = TestApp::with_fixture().await;
    let pd = source(&app, "mob-pd", "PAGERDUTY").await;
    let github_secret = source(&app, "mob-github", "GITHUB").await;
    let argo = source(&app, "mob-argo", "CDEVENTS").await;
    let addr = serve(app.state.clone()).await;
    let deliver = |key: &'static str, headers: Vec<(&'static str, String)>, body: String| async move {
        let (status, answer) = post(
            addr,
            &format!("/v1/ingest/{key}"),
            &headers,
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        answer
    };

    // Triggered at 11:00, resolved at 12:30: a reopening that occurred at 12:00 is stale.
    deliver("mob-pd", pagerduty(&pd, TRIGGERED), TRIGGERED.to_owned()).await;
    deliver("mob-pd", pagerduty(&pd, RESOLVED), RESOLVED.to_owned()).await;
    let early = REOPENED
        .replace("2026-11-29T13:00:00.000Z", "2026-11-29T12:00:00.000Z")
        .replace("01DEN3B1MZP4K8WQXY2H6V5NTC", "01EARLYREOPEN");
    assert_ne!(early, REOPENED);
    let stale = deliver("mob-pd", pagerduty(&pd, &early), early).await;
    assert_eq!(stale["status"], "IGNORED", "{stale}");
    assert!(
        stale["reason"].as_str().unwrap().starts_with("stale: "),
        "{stale}"
    );
    let incident = |delivery: Value| {
        let app = &app;
        async move {
            app.admin(
                "query($id: ID!) { node(id: $id) { ... on Delivery { incident { resolvedAt } } } }",
                json!({"id": delivery}),
            )
            .await["node"]["incident"]["resolvedAt"]
                .clone()
        }
    };
    let reopened = deliver("mob-pd", pagerduty(&pd, REOPENED), REOPENED.to_owned()).await;
    assert_eq!(
        reopened["status"], "APPLIED",
        "13:00 is after the resolution"
    );
    assert_eq!(incident(reopened["delivery"].clone()).await, Value::Null);
    // Resolved again by an event that occurred before the reopening: stale too.
    let late_resolution = RESOLVED
        .replace("2026-11-29T12:30:00.000Z", "2026-11-29T12:45:00.000Z")
        .replace("01DEN3A7GXQ1Z2RVPF4T3QW9XB", "01LATERESOLVE");
    let stale = deliver("mob-pd", pagerduty(&pd, &late_resolution), late_resolution).await;
    assert_eq!(stale["status"], "IGNORED", "{stale}");
    assert_eq!(
        incident(reopened["delivery"].clone()).await,
        Value::Null,
        "still open"
    );

    // A deployment in progress since 10:05 is not finished by a status of 10:03.
    let body = GITHUB.replace("refs/tags/v2026.11.3", "refs/tags/v5.0.0");
    let running = body
        .replace("\"state\": \"success\"", "\"state\": \"in_progress\"")
        .replace("9876543210", "1")
        .replace(
            "\"created_at\": \"2026-11-29T10:12:00Z\"",
            "\"created_at\": \"2026-11-29T10:05:00Z\"",
        )
        .replace(
            "\"updated_at\": \"2026-11-29T10:12:00Z\"",
            "\"updated_at\": \"2026-11-29T10:05:00Z\"",
        );
    let answer = deliver(
        "mob-github",
        github(&github_secret, "gh-1", &running),
        running,
    )
    .await;
    assert_eq!(answer["status"], "APPLIED", "{answer}");
    let older = body
        .replace("9876543210", "2")
        .replace(
            "\"created_at\": \"2026-11-29T10:12:00Z\"",
            "\"created_at\": \"2026-11-29T10:03:00Z\"",
        )
        .replace(
            "\"updated_at\": \"2026-11-29T10:12:00Z\"",
            "\"updated_at\": \"2026-11-29T10:03:00Z\"",
        );
    let stale = deliver("mob-github", github(&github_secret, "gh-2", &older), older).await;
    assert_eq!(stale["status"], "IGNORED", "{stale}");
    assert_eq!(mob_release(&app).await["status"], "DEPLOYING");
    let answer = deliver("mob-github", github(&github_secret, "gh-3", &body), body).await;
    assert_eq!(answer["status"], "APPLIED", "{answer}");
    assert_eq!(mob_release(&app).await["status"], "DEPLOYED");

    // A rollback that occurred before the deployment it would undo started is stale.
    let rollback = ROLLEDBACK
        .replace("2026.11.4", "5.0.0")
        .replace("2026-11-29T15:02:00Z", "2026-11-29T09:00:00Z");
    let stale = deliver("mob-argo", hmac(&argo, &rollback), rollback).await;
    assert_eq!(stale["status"], "IGNORED", "{stale}");
    assert!(
        stale["reason"].as_str().unwrap().starts_with("stale: "),
        "{stale}"
    );
    assert_eq!(mob_release(&app).await["status"], "DEPLOYED");
}

/// A server whose callers may send one request a second, with bursts of two.
async fn budgeted(app: &TestApp) -> std::net::SocketAddr {
    let state = AppState::new(app.db.clone(), keys(), cipher(), false).with_limits(Limits {
        rate_limit: 1,
        ..Limits::default()
    });
    serve(state).await
}

#[tokio::test]
async fn unsigned_requests_spend_their_address_budget_never_a_sources() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "mob-ci", "GENERIC").await;
    let addr = budgeted(&app).await;
    let body = GENERIC.replace("2026.11.3", "5.0.0");
    // Unsigned and badly signed requests to the source's own key: the address's budget.
    let forged = hmac("a-guess", &body);
    let (first, _) = post(addr, "/v1/ingest/mob-ci", &forged, body.as_bytes()).await;
    let (second, _) = post(addr, "/v1/ingest/mob-ci", &[], body.as_bytes()).await;
    let (third, limited) = post(addr, "/v1/ingest/mob-ci", &forged, body.as_bytes()).await;
    assert_eq!((first, second, third), (401, 401, 429), "{limited}");
    assert_eq!(limited["error"]["code"], "RATE_LIMITED");
    // A request that offers no proof at all is refused before it is read: still 429.
    let (status, _) = post(addr, "/v1/ingest/mob-ci", &[], b"{}").await;
    assert_eq!(status, 429);
    // The sender that signs is not held up by them, from the same address.
    let (status, answer) = post(
        addr,
        "/v1/ingest/mob-ci",
        &hmac(&secret, &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("APPLIED")),
        "{answer}"
    );
    // Its own budget is its signed requests'.
    let next = body.replace("ci-4711", "ci-4712");
    let (status, _) = post(
        addr,
        "/v1/ingest/mob-ci",
        &hmac(&secret, &next),
        next.as_bytes(),
    )
    .await;
    assert_eq!(status, 202);
    let last = body.replace("ci-4711", "ci-4713");
    let (status, _) = post(
        addr,
        "/v1/ingest/mob-ci",
        &hmac(&secret, &last),
        last.as_bytes(),
    )
    .await;
    assert_eq!(status, 429, "a burst of two");
}

#[tokio::test]
async fn keys_that_cannot_be_keys_are_refused_unread() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "mob-ci", "GENERIC").await;
    let addr = serve(app.state.clone()).await;
    let body = GENERIC.replace("2026.11.3", "5.0.0");
    let signed = hmac(&secret, &body);
    let (_, unknown) = post(addr, "/v1/ingest/not-a-source", &signed, body.as_bytes()).await;
    let long = "k".repeat(41);
    for key in [
        "MOB-CI",
        "ab",
        long.as_str(),
        "mob-ci%0A",
        "mob%1B%5B31m-ci",
        "mob_ci",
    ] {
        let (status, refused) =
            post(addr, &format!("/v1/ingest/{key}"), &signed, body.as_bytes()).await;
        assert_eq!((status, &refused), (401, &unknown), "{key}");
    }
    assert_eq!(deliveries(&app).await, 0);
}

#[tokio::test]
async fn secrets_are_stored_sealed_and_plain_ones_are_sealed_at_start() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "mob-ci", "GENERIC").await;
    let stored = entity::ingest_source::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.secret.starts_with("v1."), "{}", stored.secret);
    assert!(!stored.secret.contains(&secret));

    // A secret stored in plain text (before sealing) is sealed at start and still works.
    let plain = "0".repeat(64);
    app.db
        .execute_unprepared(&format!("UPDATE ingest_sources SET secret = '{plain}'"))
        .await
        .unwrap();
    api::secrets::prepare_stored(&app.db, &cipher())
        .await
        .unwrap();
    let resealed = entity::ingest_source::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(resealed.secret.starts_with("v1."));
    let addr = serve(app.state.clone()).await;
    let body = GENERIC.replace("2026.11.3", "5.0.0");
    let (status, _) = post(
        addr,
        "/v1/ingest/mob-ci",
        &hmac(&plain, &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 202);
    // Another server key cannot read them: start-up stops with a message.
    let other = api::secrets::Cipher::from_text(&"7a".repeat(32)).unwrap();
    let refused = api::secrets::prepare_stored(&app.db, &other)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("RELM_SECRET_KEY"), "{refused}");
}
