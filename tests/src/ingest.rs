//! Ingestion through the real endpoint (`POST /v1/ingest/{key}` on a listening server):
//! each sender's fixture payloads, signatures, the answers of ingestion.md, exactly-once
//! delivery under concurrent retries, and what the deliveries became.

use api::auth::Role;
use api::ingest::signature::sign;
use serde_json::{Value, json};

use crate::support::{TestApp, data, post, serve, strings};

const GITHUB: &str = include_str!("../../api/src/ingest/fixtures/github_deployment_status.json");
const GITHUB_PING: &str = include_str!("../../api/src/ingest/fixtures/github_ping.json");
const GITLAB: &str = include_str!("../../api/src/ingest/fixtures/gitlab_deployment.json");
const TRIGGERED: &str =
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_triggered.json");
const RESOLVED: &str =
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_resolved.json");
const REOPENED: &str =
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_reopened.json");
const DEPLOYED: &str = include_str!("../../api/src/ingest/fixtures/cdevents_service_deployed.json");
const ROLLEDBACK: &str =
    include_str!("../../api/src/ingest/fixtures/cloudevents_binary_service_rolledback.json");
const GENERIC: &str = include_str!("../../api/src/ingest/fixtures/generic_deployment.json");

/// A source of `kind` for `program` with `aliases`; returns its secret.
async fn source(app: &TestApp, program: &str, key: &str, kind: &str, aliases: Value) -> String {
    let created = app
        .admin(
            "mutation($i: CreateIngestSourceInput!) { createIngestSource(input: $i) { secret source { key kind } } }",
            json!({"i": {"programKey": program, "key": key, "kind": kind, "environmentAliases": aliases}}),
        )
        .await;
    created["createIngestSource"]["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn github(secret: &str, event: &str, delivery: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", event.to_owned()),
        ("X-GitHub-Delivery", delivery.to_owned()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", sign(secret, body.as_bytes())),
        ),
    ]
}

fn signed(secret: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![(
        "X-Relm-Signature-256",
        format!("sha256={}", sign(secret, body.as_bytes())),
    )]
}

async fn release(app: &TestApp, program: &str, version: &str) -> Value {
    app.admin(
        "query($p: String!, $v: String!) { release(programKey: $p, version: $v) {
           status deployedAt
           deployments { status externalId source { key } environment { name } }
           events(first: 100) { nodes { kind actor note fromStatus toStatus } } } }",
        json!({"p": program, "v": version}),
    )
    .await["release"]
        .clone()
}

#[tokio::test]
async fn github_statuses_move_a_release_to_deployed_once() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(
        &app,
        "MOB",
        "mob-github",
        "GITHUB",
        json!([{"external": "production", "environment": "prod-eu"}]),
    )
    .await;
    let addr = serve(app.state.clone()).await;
    let body = GITHUB.replace("refs/tags/v2026.11.3", "refs/tags/v5.0.0");
    // Each status GitHub sends has an id of its own.
    let running = body
        .replace("\"state\": \"success\"", "\"state\": \"in_progress\"")
        .replace("9876543210", "9876543209");

    let (status, answer) = post(
        addr,
        "/v1/ingest/mob-github",
        &github(&secret, "deployment_status", "gh-1", &running),
        running.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("APPLIED")),
        "{answer}"
    );
    assert_eq!(release(&app, "MOB", "5.0.0").await["status"], "DEPLOYING");

    let headers = github(&secret, "deployment_status", "gh-2", &body);
    let (status, first) = post(addr, "/v1/ingest/mob-github", &headers, body.as_bytes()).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (202, Some("APPLIED")),
        "{first}"
    );
    // The sender retries the same delivery: the first answer, nothing applied again.
    let (status, again) = post(addr, "/v1/ingest/mob-github", &headers, body.as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(again, first);
    // The same status under a new delivery id (GitHub's header is not signed) is the
    // same fact: a repeat, answered like the first.
    let headers = github(&secret, "deployment_status", "gh-3", &body);
    let (status, replayed) = post(addr, "/v1/ingest/mob-github", &headers, body.as_bytes()).await;
    assert_eq!((status, &replayed), (200, &first));
    // A new status of the deployment repeating the final state changes nothing.
    let repeated = body.replace("9876543210", "9876543211");
    let headers = github(&secret, "deployment_status", "gh-4", &repeated);
    let (status, stale) = post(addr, "/v1/ingest/mob-github", &headers, repeated.as_bytes()).await;
    assert_eq!((status, stale["status"].as_str()), (202, Some("IGNORED")));
    assert_eq!(stale["reason"], "the deployment is already SUCCEEDED");

    let shipped = release(&app, "MOB", "5.0.0").await;
    assert_eq!(shipped["status"], "DEPLOYED");
    assert_eq!(shipped["deployedAt"], "2026-11-29T10:12:00Z");
    let ingested: Vec<&Value> = shipped["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["externalId"] == "1234567890")
        .collect();
    assert_eq!(ingested.len(), 1, "{shipped}");
    assert_eq!(ingested[0]["source"]["key"], "mob-github");
    assert_eq!(ingested[0]["environment"]["name"], "prod-eu");
    let audit: Vec<&Value> = shipped["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "ingest:mob-github")
        .collect();
    assert_eq!(audit.len(), 2, "one event per applied delivery");
    assert!(audit[1]["note"].as_str().unwrap().starts_with("delivery "));
    assert_eq!(audit[1]["toStatus"], "DEPLOYED");

    // A ping is IGNORED, and stored like every accepted delivery.
    let headers = github(&secret, "ping", "gh-ping", GITHUB_PING);
    let (status, ping) = post(
        addr,
        "/v1/ingest/mob-github",
        &headers,
        GITHUB_PING.as_bytes(),
    )
    .await;
    assert_eq!((status, ping["status"].as_str()), (202, Some("IGNORED")));
    let listed = app
        .admin(
            "{ deliveries { totalCount nodes { externalId status eventType payload } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["deliveries"]["totalCount"], 4);
    assert_eq!(
        strings(&listed["deliveries"]["nodes"], "externalId"),
        ["gh-ping", "gh-4", "gh-2", "gh-1"],
        "newest first; the replayed gh-3 was a repeat, not a delivery"
    );
    assert_eq!(listed["deliveries"]["nodes"][0]["payload"], GITHUB_PING);
}

#[tokio::test]
async fn refusals_are_rejected_or_unmatched_and_change_nothing_else() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    let mob = source(&app, "MOB", "mob-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    let deliver = |body: String| {
        let headers = signed(&secret, &body);
        async move { post(addr, "/v1/ingest/pay-ci", &headers, body.as_bytes()).await }
    };

    // MOB's app store freeze covers 2026-02-26.
    let frozen = GENERIC
        .replace("2026.11.3", "5.0.0")
        .replace("2026-11-29", "2026-02-26");
    let headers = signed(&mob, &frozen);
    let (status, answer) = post(addr, "/v1/ingest/mob-ci", &headers, frozen.as_bytes()).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("REJECTED")),
        "{answer}"
    );
    assert_eq!(release(&app, "MOB", "5.0.0").await["status"], "APPROVED");
    // A production deployment of a release that was never approved.
    let planned = GENERIC
        .replace("2026.11.3", "2026.3.0")
        .replace("ci-4711", "ci-4712")
        .replace("2026-11-29", "2026-12-02");
    let (_, answer) = deliver(planned).await;
    assert_eq!(answer["status"], "REJECTED");
    // A version no release has.
    let unknown = GENERIC
        .replace("2026.11.3", "9.9.9")
        .replace("ci-4711", "ci-4713")
        .replace("2026-11-29", "2026-12-03");
    let (_, unmatched) = deliver(unknown).await;
    assert_eq!(unmatched["status"], "UNMATCHED");
    assert!(
        unmatched["reason"]
            .as_str()
            .unwrap()
            .contains("version 9.9.9"),
        "{unmatched}"
    );

    let listed = app
        .admin(
            "{ deliveries(filter: { statuses: [REJECTED] }) { nodes { externalId errorCode reason release { version } } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = listed["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["errorCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INVALID_TRANSITION", "FREEZE_CONFLICT"]);
    // Nothing but the deliveries changed.
    let deploying = release(&app, "PAY", "2026.2.0").await;
    assert_eq!(deploying["status"], "DEPLOYING");
    assert!(
        deploying["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["externalId"].is_null()),
        "{deploying}"
    );
    assert_eq!(release(&app, "PAY", "2026.3.0").await["status"], "PLANNED");

    // A release manager links the unmatched delivery to the release it was meant for.
    let release_id = app
        .admin(
            "{ release(programKey: \"PAY\", version: \"2026.2.0\") { id } }",
            json!({}),
        )
        .await["release"]["id"]
        .clone();
    let linked = data(
        app.run_as(
            Role::ReleaseManager,
            Some(&["PAY"]),
            "mutation($i: LinkDeliveryInput!) { linkDelivery(input: $i) { status release { version status } deployment { externalId } } }",
            json!({"i": {"deliveryId": unmatched["delivery"], "releaseId": release_id}}),
        )
        .await,
    );
    assert_eq!(
        linked["linkDelivery"],
        json!({"status": "APPLIED", "release": {"version": "2026.2.0", "status": "DEPLOYED"},
               "deployment": {"externalId": "ci-4713"}})
    );
    let again = app
        .run_as(
            Role::ReleaseManager,
            Some(&["PAY"]),
            "mutation($i: LinkDeliveryInput!) { linkDelivery(input: $i) { status } }",
            json!({"i": {"deliveryId": unmatched["delivery"], "releaseId": release_id}}),
        )
        .await;
    assert_eq!(crate::support::error_code(&again), "INVALID_TRANSITION");
}

#[tokio::test]
async fn signatures_keys_and_bodies_are_checked_first() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    let body = GENERIC.replace("2026-11-29", "2026-12-02");

    let (status, unknown) = post(
        addr,
        "/v1/ingest/nope",
        &signed(&secret, &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, wrong) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed("guess", &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(unknown, wrong, "one body, so keys cannot be probed");
    let (status, _) = post(addr, "/v1/ingest/pay-ci", &[], body.as_bytes()).await;
    assert_eq!(status, 401);
    let bearer = [("Authorization", format!("Bearer {secret}"))];
    let (status, _) = post(addr, "/v1/ingest/pay-ci", &bearer, b"not json").await;
    assert_eq!(status, 400);
    let missing = r#"{"kind": "deployment", "environment": "prod-eu"}"#;
    let (status, bad) = post(addr, "/v1/ingest/pay-ci", &bearer, missing.as_bytes()).await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["code"], "BAD_USER_INPUT");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("status"),
        "{bad}"
    );
    let huge = vec![b' '; (1 << 20) + 1];
    let (status, _) = post(addr, "/v1/ingest/pay-ci", &bearer, &huge).await;
    assert_eq!(status, 413);
    let stored = app.admin("{ deliveries { totalCount } }", json!({})).await;
    assert_eq!(stored["deliveries"]["totalCount"], 0, "nothing stored");

    // After a rotation both secrets work; a disabled source answers 401.
    let source_id =
        app.admin("{ ingestSources { id } }", json!({})).await["ingestSources"][0]["id"].clone();
    let rotated = app
        .admin(
            "mutation($i: RotateIngestSecretInput!) { rotateIngestSecret(input: $i) { secret } }",
            json!({"i": {"sourceId": source_id}}),
        )
        .await["rotateIngestSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, secret);
    let (status, _) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "the previous secret for 24 hours");
    let next = body.replace("ci-4711", "ci-4799");
    let (status, _) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&rotated, &next),
        next.as_bytes(),
    )
    .await;
    assert_eq!(status, 202);
    app.admin(
        "mutation($i: UpdateIngestSourceInput!) { updateIngestSource(input: $i) { enabled } }",
        json!({"i": {"sourceId": source_id, "enabled": false}}),
    )
    .await;
    let last = body.replace("ci-4711", "ci-4800");
    let (status, disabled) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&rotated, &last),
        last.as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(disabled, unknown);
}

#[tokio::test]
async fn twenty_concurrent_retries_apply_once() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    let body = GENERIC
        .replace("2026.11.3", "2026.2.0")
        .replace("2026-11-29", "2026-12-02");
    let headers = signed(&secret, &body);
    let sends = (0..20).map(|_| post(addr, "/v1/ingest/pay-ci", &headers, body.as_bytes()));
    let answers = futures_util::future::join_all(sends).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200, "{answers:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|(_, a)| a["delivery"] == answers[0].1["delivery"])
    );
    let deploying = release(&app, "PAY", "2026.2.0").await;
    let ingested = deploying["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["externalId"] == "ci-4711")
        .count();
    assert_eq!(ingested, 1);
    assert_eq!(deploying["status"], "DEPLOYED");
}

#[tokio::test]
async fn pagerduty_incidents_are_attributed_resolved_and_reopened() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "MOB", "mob-pd", "PAGERDUTY", json!([])).await;
    let ci = source(&app, "MOB", "mob-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    // MOB 5.0.0 ships at 10:12, two hours before the incident opens.
    let shipped = GENERIC
        .replace("2026.11.3", "5.0.0")
        .replace("prod-eu", "prod-us");
    let (_, answer) = post(
        addr,
        "/v1/ingest/mob-ci",
        &signed(&ci, &shipped),
        shipped.as_bytes(),
    )
    .await;
    assert_eq!(answer["status"], "APPLIED", "{answer}");
    let pd = |body: &str| {
        vec![(
            "X-PagerDuty-Signature",
            format!("v1=0000, v1={}", sign(&secret, body.as_bytes())),
        )]
    };
    let (status, opened) = post(
        addr,
        "/v1/ingest/mob-pd",
        &pd(TRIGGERED),
        TRIGGERED.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, opened["status"].as_str()),
        (202, Some("APPLIED")),
        "{opened}"
    );
    let incident = || async {
        app.admin(
            "query($id: ID!) { node(id: $id) { ... on Delivery { incident { title severity causedByChange openedAt resolvedAt release { version } deployment { externalId } } } } }",
            json!({"id": opened["delivery"]}),
        )
        .await["node"]["incident"]
            .clone()
    };
    assert_eq!(
        incident().await,
        json!({"title": "Checkout errors above 2%", "severity": "SEV1", "causedByChange": true,
               "openedAt": "2026-11-29T11:00:00Z", "resolvedAt": null,
               "release": {"version": "5.0.0"}, "deployment": {"externalId": "ci-4711"}})
    );
    let (_, resolved) = post(
        addr,
        "/v1/ingest/mob-pd",
        &pd(RESOLVED),
        RESOLVED.as_bytes(),
    )
    .await;
    assert_eq!(resolved["status"], "APPLIED");
    assert_eq!(incident().await["resolvedAt"], "2026-11-29T12:30:00Z");
    let (_, reopened) = post(
        addr,
        "/v1/ingest/mob-pd",
        &pd(REOPENED),
        REOPENED.as_bytes(),
    )
    .await;
    assert_eq!(reopened["status"], "APPLIED");
    assert_eq!(incident().await["resolvedAt"], Value::Null);
}

#[tokio::test]
async fn gitlab_and_cdevents_record_deployments_and_rollbacks() {
    let (app, _) = TestApp::with_fixture().await;
    let gitlab = source(
        &app,
        "MOB",
        "mob-gitlab",
        "GITLAB",
        json!([{"external": "production", "environment": "prod-eu"}]),
    )
    .await;
    let addr = serve(app.state.clone()).await;
    let headers = [
        ("X-Gitlab-Token", gitlab.clone()),
        ("X-Gitlab-Event-UUID", "13792a34".to_owned()),
    ];
    let (status, answer) = post(addr, "/v1/ingest/mob-gitlab", &headers, GITLAB.as_bytes()).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("APPLIED")),
        "{answer}"
    );
    assert_eq!(release(&app, "MOB", "5.0.0").await["status"], "DEPLOYED");

    // CDEvents: a deployment of MOB 5.0.0 in structured mode, then its rollback in binary mode.
    let cd = source(
        &app,
        "MOB",
        "mob-argo",
        "CDEVENTS",
        json!([{"external": "production", "environment": "prod-eu"}]),
    )
    .await;
    let deployed = DEPLOYED.replace("warehouse-loader@2026.11.4", "app@5.0.0");
    let (_, answer) = post(
        addr,
        "/v1/ingest/mob-argo",
        &signed(&cd, &deployed),
        deployed.as_bytes(),
    )
    .await;
    assert_eq!(answer["status"], "APPLIED", "{answer}");
    let rollback = ROLLEDBACK.replace("2026.11.4", "5.0.0");
    let mut headers = vec![
        ("ce-id", "binary-1".to_owned()),
        ("ce-source", "/argocd/mobile".to_owned()),
        (
            "ce-type",
            "dev.cdevents.service.rolledback.0.2.0".to_owned(),
        ),
        ("ce-time", "2026-11-29T15:02:00Z".to_owned()),
    ];
    headers.push(("Authorization", format!("Bearer {cd}")));
    let (_, answer) = post(addr, "/v1/ingest/mob-argo", &headers, rollback.as_bytes()).await;
    assert_eq!(answer["status"], "APPLIED", "{answer}");
    let rolled = release(&app, "MOB", "5.0.0").await;
    assert_eq!(rolled["status"], "ROLLED_BACK");
    let actors: Vec<&str> = rolled["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["actor"].as_str())
        .filter(|a| a.starts_with("ingest:"))
        .collect();
    assert_eq!(
        actors,
        ["ingest:mob-gitlab", "ingest:mob-argo", "ingest:mob-argo"]
    );
}

#[tokio::test]
async fn sources_and_deliveries_follow_roles_and_scope() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    source(&app, "MOB", "mob-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    let body = GENERIC.replace("2026-11-29", "2026-12-02");
    post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &body),
        body.as_bytes(),
    )
    .await;

    let query = "{ ingestSources { key } deliveries { totalCount nodes { status } } }";
    let viewer = app.run_as(Role::Viewer, None, query, json!({})).await;
    assert_eq!(crate::support::error_code(&viewer), "FORBIDDEN");
    let analyst = data(
        app.run_as(Role::Analyst, Some(&["MOB"]), query, json!({}))
            .await,
    );
    assert_eq!(strings(&analyst["ingestSources"], "key"), ["mob-ci"]);
    assert_eq!(analyst["deliveries"]["totalCount"], 0);
    let payload = app
        .run_as(
            Role::Analyst,
            Some(&["PAY"]),
            "{ deliveries { nodes { status payload } } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::error_code(&payload), "FORBIDDEN");
    let manager = data(
        app.run_as(
            Role::ReleaseManager,
            Some(&["PAY"]),
            "{ deliveries { nodes { payload source { key } } } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(manager["deliveries"]["nodes"][0]["payload"], body);
    // Another program's manager may not create a source for PAY.
    let refused = app
        .run_as(
            Role::ReleaseManager,
            Some(&["MOB"]),
            "mutation { createIngestSource(input: { programKey: \"PAY\", key: \"pay-x\", kind: GITHUB }) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::error_code(&refused), "NOT_FOUND");
    let bad = app
        .run_as(
            Role::Admin,
            None,
            "mutation { createIngestSource(input: { programKey: \"PAY\", key: \"Bad Key\", kind: GITHUB }) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::error_code(&bad), "BAD_USER_INPUT");
}

/// The compliance figures of a window around today and December 2026.
async fn compliance(app: &TestApp) -> Value {
    app.admin(
        "query($f: MetricsFilter!) { metrics(filter: $f) {
           compliance { productionDeployments ingestedDeployments unplannedDeployments unplannedRate freezeOverrides emergencyDeployments }
           trend { unplannedDeployments }
           byProgram { programKey compliance { unplannedDeployments } } } }",
        json!({"f": compliance_window()}),
    )
    .await["metrics"]
        .clone()
}

/// From two days ago: the deliveries below are dated yesterday, whatever today is.
fn compliance_window() -> Value {
    let now = chrono::Utc::now();
    let end = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
        .max(now + chrono::Duration::days(1));
    json!({"from": (now - chrono::Duration::days(2)).to_rfc3339(), "to": end.to_rfc3339(), "granularity": "QUARTER"})
}

#[tokio::test]
async fn compliance_counts_changes_around_the_process_in_every_process() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    let before = compliance(&app).await;
    assert_eq!(before["compliance"]["unplannedRate"], Value::Null);

    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let applied = GENERIC
        .replace("2026.11.3", "2026.2.0")
        .replace("2026-11-29", &yesterday);
    let (_, answer) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &applied),
        applied.as_bytes(),
    )
    .await;
    assert_eq!(answer["status"], "APPLIED");
    let unknown = GENERIC
        .replace("2026.11.3", "9.9.9")
        .replace("ci-4711", "ci-4713")
        .replace("2026-11-29", &yesterday);
    let (_, unmatched) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &unknown),
        unknown.as_bytes(),
    )
    .await;
    assert_eq!(unmatched["status"], "UNMATCHED");
    // A production delivery the rules refuse (PAY 2026.3.0 was never approved) is
    // REJECTED and keeps the environment it resolved to: it is unplanned too.
    let refused = GENERIC
        .replace("2026.11.3", "2026.3.0")
        .replace("ci-4711", "ci-4714")
        .replace("2026-11-29", &yesterday);
    let (_, rejected) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &refused),
        refused.as_bytes(),
    )
    .await;
    assert_eq!(rejected["status"], "REJECTED", "{rejected}");
    // A release manager overrides a freeze that covers now to start deploying MOB 5.0.0.
    let now = chrono::Utc::now();
    app.admin(
        "mutation($i: CreateFreezeWindowInput!) { createFreezeWindow(input: $i) { id } }",
        json!({"i": {"name": "Incident freeze", "startsAt": (now - chrono::Duration::hours(1)).to_rfc3339(),
                     "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339()}}),
    )
    .await;
    let mob = app
        .admin(
            "{ release(programKey: \"MOB\", version: \"5.0.0\") { id } }",
            json!({}),
        )
        .await["release"]["id"]
        .clone();
    app.admin(
        "mutation($i: TransitionReleaseInput!) { transitionRelease(input: $i) { status } }",
        json!({"i": {"releaseId": mob, "to": "DEPLOYING", "overrideFreeze": true, "note": "security fix"}}),
    )
    .await;

    let after = compliance(&app).await;
    assert_eq!(
        after["compliance"],
        json!({"productionDeployments": 1, "ingestedDeployments": 1, "unplannedDeployments": 2,
               "unplannedRate": 2.0 / 3.0, "freezeOverrides": 1, "emergencyDeployments": 1})
    );
    let trend: i64 = after["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["unplannedDeployments"].as_i64().unwrap())
        .sum();
    assert_eq!(trend, 2);
    assert_eq!(
        after["byProgram"],
        json!([{"programKey": "MOB", "compliance": {"unplannedDeployments": 0}},
               {"programKey": "PAY", "compliance": {"unplannedDeployments": 2}}])
    );

    // Linked to its release and APPLIED, the unmatched delivery is no longer a change
    // outside the process; the same figures in a second relm process on the same
    // PostgreSQL.
    let release_id = app
        .admin(
            "{ release(programKey: \"PAY\", version: \"2026.2.0\") { id } }",
            json!({}),
        )
        .await["release"]["id"]
        .clone();
    app.admin(
        "mutation($i: LinkDeliveryInput!) { linkDelivery(input: $i) { status } }",
        json!({"i": {"deliveryId": unmatched["delivery"], "releaseId": release_id}}),
    )
    .await;
    let linked = compliance(&app).await["compliance"].clone();
    assert_eq!(
        (
            linked["productionDeployments"].as_i64(),
            linked["unplannedDeployments"].as_i64()
        ),
        (Some(2), Some(1))
    );
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let other = crate::support::OtherProcess::start(&app);
        let query = json!({"query": "query($f: MetricsFilter!) { metrics(filter: $f) { compliance { productionDeployments ingestedDeployments unplannedDeployments } } }",
                           "variables": {"f": compliance_window()}});
        let bearer = [(
            "Authorization",
            format!("Bearer {}", crate::support::token(Role::Viewer, None)),
        )];
        let (_, seen) = post(
            other.addr,
            "/graphql",
            &bearer,
            query.to_string().as_bytes(),
        )
        .await;
        assert_eq!(
            seen["data"]["metrics"]["compliance"],
            json!({"productionDeployments": 2, "ingestedDeployments": 2, "unplannedDeployments": 1}),
            "{seen}"
        );
    }
}

#[tokio::test]
async fn a_database_failure_stores_nothing_and_metrics_count_deliveries() {
    use sea_orm::ConnectionTrait;

    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    let body = GENERIC.replace("2026-11-29", "2026-12-02");
    let (status, _) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed("wrong", &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &body),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 202);

    // The aliases table is gone: the delivery fails midway, and nothing of it stays.
    app.db
        .execute_unprepared("DROP TABLE ingest_aliases")
        .await
        .unwrap();
    let next = body.replace("ci-4711", "ci-4712");
    let (status, failed) = post(
        addr,
        "/v1/ingest/pay-ci",
        &signed(&secret, &next),
        next.as_bytes(),
    )
    .await;
    assert_eq!(status, 500, "{failed}");
    assert!(
        !failed.to_string().contains("ingest_aliases"),
        "no database text: {failed}"
    );
    let stored = app.admin("{ deliveries { totalCount } }", json!({})).await;
    assert_eq!(stored["deliveries"]["totalCount"], 1);

    let metrics = api::http::app(app.state.clone());
    let response = poem::test::TestClient::new(metrics)
        .get("/metrics")
        .send()
        .await;
    let text = response.0.into_body().into_string().await.unwrap();
    assert!(
        text.contains("relm_ingest_deliveries_total{kind=\"GENERIC\",status=\"UNMATCHED\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("relm_ingest_signature_failures_total 1"),
        "{text}"
    );
}

#[tokio::test]
async fn oversized_and_nul_fields_are_bad_input_and_store_nothing() {
    let (app, _) = TestApp::with_fixture().await;
    let secret = source(&app, "PAY", "pay-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    for body in [
        GENERIC.replace("ci-4711", &"x".repeat(5_000)),
        GENERIC.replace("2026.11.3", "2026\\u0000"),
    ] {
        let (status, answer) = post(
            addr,
            "/v1/ingest/pay-ci",
            &signed(&secret, &body),
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "BAD_USER_INPUT");
    }
    let stored = app.admin("{ deliveries { totalCount } }", json!({})).await;
    assert_eq!(stored["deliveries"]["totalCount"], 0);
}

#[tokio::test]
async fn an_ingested_production_deployment_waits_for_the_releases_it_depends_on() {
    let (app, fixture) = TestApp::with_fixture().await;
    let mob = source(&app, "MOB", "mob-ci", "GENERIC", json!([])).await;
    let addr = serve(app.state.clone()).await;
    // MOB 5.0.0 (APPROVED) waits on a PAY release not yet in production.
    let created = app
        .admin(
            "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }",
            json!({"i": {"programKey": "PAY", "version": "2026.9.0", "name": "API", "type": "MINOR"}}),
        )
        .await;
    let mob_release = api::ids::encode(api::ids::NodeType::Release, fixture.mob_spring.id);
    app.admin(
        "mutation($i: AddReleaseDependencyInput!) { addReleaseDependency(input: $i) { revision } }",
        json!({"i": {"releaseId": mob_release, "dependsOnId": created["createRelease"]["id"]}}),
    )
    .await;
    let body = GENERIC.replace("2026.11.3", "5.0.0");
    let headers = signed(&mob, &body);
    let (status, answer) = post(addr, "/v1/ingest/mob-ci", &headers, body.as_bytes()).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("REJECTED")),
        "{answer}"
    );
    // The source acts within MOB, and its deliveries are read by MOB's analysts: the PAY
    // release is not named.
    assert_eq!(
        answer["reason"],
        "the release depends on releases not yet in production: a release you cannot see"
    );
    let after = release(&app, "MOB", "5.0.0").await;
    assert_eq!(after["status"], "APPROVED");
    assert_eq!(after["deployments"], json!([]));
}
