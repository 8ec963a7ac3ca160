//! The read side of the contract against the fixture's known values.

use api::ids::{NodeType, encode};
use serde_json::json;

use crate::support::{TestApp, strings};

const RELEASE_PAGE: &str = r#"
query($key: String!, $version: String!) {
  release(programKey: $key, version: $version) {
    id version name type status teams suppliers deployedAt plannedEnd revision
    program { key name }
    items { title kind reference committedAt }
    qualityGates { name kind required status attempts checkedAt checkedBy evidenceUrl }
    approvals { approver decision decidedAt }
    deployments { status isRollback startedAt finishedAt stage environment { name tier } release { version } }
    incidents { title severity causedByChange openedAt resolvedAt deployment { id } program { key } }
    outcome { result objectivesMet defectsEscaped summary reviewedBy actions { title status dueDate closedAt release { version } } }
    readiness { ready blockers }
    releaseNotes
    events(first: 5) { totalCount nodes { kind actor release { version } } }
  }
}"#;

#[tokio::test]
async fn a_release_page_shows_every_nested_field() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .admin(RELEASE_PAGE, json!({"key": "PAY", "version": "2026.1.0"}))
        .await;
    let r = &data["release"];
    assert_eq!(r["type"], "MINOR");
    assert_eq!(r["status"], "REVIEWED");
    assert_eq!(r["teams"], json!(["payments-core", "risk"]));
    assert_eq!(r["suppliers"], json!([]));
    assert_eq!(r["plannedEnd"], "2026-01-20T10:00:00Z");
    // The earliest SUCCEEDED production deployment, not the staging one before it.
    assert_eq!(r["deployedAt"], "2026-01-20T10:30:00Z");
    assert_eq!(r["program"]["key"], "PAY");
    assert_eq!(
        strings(&r["items"], "title"),
        ["Instant refunds", "Fix rounding"]
    );
    assert_eq!(r["items"][0]["committedAt"], "2026-01-15T10:00:00Z");

    let gates = &r["qualityGates"];
    assert_eq!(strings(gates, "name"), ["security-scan", "unit-tests"]);
    assert_eq!(gates[1]["status"], "PASSED", "the latest result counts");
    assert_eq!(gates[1]["attempts"], 2);
    assert_eq!(gates[1]["checkedAt"], "2026-01-19T10:00:00Z");
    assert_eq!(gates[0]["attempts"], 1);

    assert_eq!(strings(&r["approvals"], "decision"), ["NO_GO", "GO"]);
    assert_eq!(
        strings(&r["deployments"], "status"),
        ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
    );
    assert_eq!(
        r["deployments"][0]["environment"],
        json!({"name": "staging", "tier": "STAGING"})
    );
    assert_eq!(r["deployments"][1]["release"]["version"], "2026.1.0");
    assert_eq!(strings(&r["incidents"], "title"), ["Refund errors"]);
    assert!(r["incidents"][0]["deployment"]["id"].is_string());
    assert_eq!(r["outcome"]["result"], "SUCCESSFUL_WITH_ISSUES");
    assert_eq!(r["outcome"]["actions"][0]["dueDate"], "2026-02-15");
    assert_eq!(r["outcome"]["actions"][0]["release"]["version"], "2026.1.0");
    assert_eq!(r["readiness"], json!({"ready": true, "blockers": []}));
    assert_eq!(
        r["releaseNotes"],
        "# Payments 2026.1.0: January payments\n\n## Features\n\n- Instant refunds (PAY-1)\n\n## Fixes\n\n- Fix rounding (PAY-2)\n"
    );
    assert_eq!(r["events"]["totalCount"], 1);
    assert_eq!(r["events"]["nodes"][0]["kind"], "CREATED");
}

#[tokio::test]
async fn readiness_lists_every_blocker() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .admin(
            "{ hotfix: release(programKey: \"PAY\", version: \"2026.2.0\") { deployedAt readiness { ready blockers } }
               spring: release(programKey: \"MOB\", version: \"5.0.0\") { readiness { ready blockers } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["hotfix"]["readiness"]["blockers"],
        json!([
            "no required quality gate has been recorded",
            "no rollback plan",
            "no go/no-go approval has been recorded"
        ])
    );
    assert_eq!(
        data["hotfix"]["deployedAt"],
        json!(null),
        "an IN_PROGRESS deployment is not a delivery"
    );
    assert_eq!(data["spring"]["readiness"]["ready"], true);
}

#[tokio::test]
async fn rolled_back_deployments_do_not_deliver() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .admin(
            "{ release(programKey: \"MOB\", version: \"5.1.0\") { deployedAt deployments { status isRollback } incidents { deployment { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["release"]["deployedAt"], json!(null));
    assert_eq!(
        data["release"]["deployments"],
        json!([{"status": "ROLLED_BACK", "isRollback": false}, {"status": "SUCCEEDED", "isRollback": true}])
    );
    assert_eq!(data["release"]["incidents"][0]["deployment"], json!(null));
}

#[tokio::test]
async fn missing_things_are_null() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .admin(
            "{ program(key: \"NOPE\") { key } release(programKey: \"PAY\", version: \"9.9\") { id }
               other: release(programKey: \"NOPE\", version: \"2026.1.0\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({"program": null, "release": null, "other": null})
    );
}

#[tokio::test]
async fn me_and_environments() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .viewer_of(
            &["PAY"],
            "{ me { subject role programKeys } environments { name tier } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["me"],
        json!({"subject": "tester", "role": "VIEWER", "programKeys": ["PAY"]})
    );
    assert_eq!(
        strings(&data["environments"], "name"),
        ["staging", "prod-eu", "prod-us"]
    );
    let admin = app.admin("{ me { role programKeys } }", json!({})).await;
    assert_eq!(admin["me"], json!({"role": "ADMIN", "programKeys": null}));
}

#[tokio::test]
async fn node_resolves_every_node_type() {
    let (app, f) = TestApp::with_fixture().await;
    let gate_id = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::quality_gate::Entity::find()
            .filter(entity::quality_gate::Column::ReleaseId.eq(f.pay_january.id))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let first_of = |table: &str| format!("SELECT MIN(id) FROM {table}");
    let cases = [
        (NodeType::Program, f.pay.id, "Program"),
        (NodeType::Environment, f.prod_eu.id, "Environment"),
        (NodeType::Release, f.pay_january.id, "Release"),
        (NodeType::QualityGate, gate_id, "QualityGate"),
        (NodeType::Deployment, f.pay_prod_deployment.id, "Deployment"),
        (NodeType::Incident, f.mob_incident.id, "Incident"),
        (
            NodeType::ImprovementAction,
            f.pay_action.id,
            "ImprovementAction",
        ),
        (NodeType::FreezeWindow, f.mob_freeze.id, "FreezeWindow"),
    ];
    for (ty, id, typename) in cases {
        let global = encode(ty, id);
        let data = app
            .admin(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({"id": global}),
            )
            .await;
        assert_eq!(data["node"]["__typename"], typename);
        assert_eq!(data["node"]["id"], json!(global));
    }
    for (ty, table, typename) in [
        (NodeType::ReleaseItem, "release_items", "ReleaseItem"),
        (NodeType::Approval, "approvals", "Approval"),
        (NodeType::ReleaseEvent, "release_events", "ReleaseEvent"),
    ] {
        use sea_orm::{ConnectionTrait, Statement};
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                first_of(table),
            ))
            .await
            .unwrap()
            .unwrap();
        let id: i64 = row.try_get_by_index(0).unwrap();
        let data = app
            .admin(
                "query($id: ID!) { node(id: $id) { __typename } }",
                json!({"id": encode(ty, id)}),
            )
            .await;
        assert_eq!(data["node"]["__typename"], typename);
    }
    let absent = app
        .admin(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": encode(NodeType::Release, 999_999)}),
        )
        .await;
    assert_eq!(absent["node"], json!(null));
}

#[tokio::test]
async fn forged_node_ids_are_bad_input() {
    let (app, _) = TestApp::with_fixture().await;
    let token = app.token(api::auth::Role::Admin, None);
    for forged in ["not-an-id", "UmVsZWFzZTp4", "V2lkZ2V0OjE"] {
        let response = app
            .run(
                Some(&token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": forged}),
            )
            .await;
        assert_eq!(
            crate::support::error_code(&response),
            "BAD_USER_INPUT",
            "{forged}"
        );
    }
}

#[tokio::test]
async fn freeze_windows_overlap_half_open_ranges() {
    let (app, _) = TestApp::with_fixture().await;
    let all = app
        .admin("{ freezeWindows { name program { key } } }", json!({}))
        .await;
    assert_eq!(
        strings(&all["freezeWindows"], "name"),
        ["Year-end", "App store freeze", "Black Friday"]
    );
    // [from, to) touching the end of Year-end (2026-01-03) does not overlap it.
    let touching = app
        .admin("{ freezeWindows(from: \"2026-01-03T00:00:00Z\", to: \"2026-02-26T00:00:00Z\") { name } }", json!({}))
        .await;
    assert_eq!(
        strings(&touching["freezeWindows"], "name"),
        ["App store freeze"]
    );
    let for_pay = app
        .admin("{ freezeWindows(programKey: \"PAY\") { name } }", json!({}))
        .await;
    assert_eq!(
        strings(&for_pay["freezeWindows"], "name"),
        ["Year-end", "Black Friday"]
    );
    let token = app.token(api::auth::Role::Admin, None);
    let unknown = app
        .run(
            Some(&token),
            "{ freezeWindows(programKey: \"NOPE\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::error_code(&unknown), "NOT_FOUND");
}

#[tokio::test]
async fn the_calendar_orders_releases_deployments_and_freezes_by_start() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .admin(
            "{ releaseCalendar(from: \"2026-01-15T00:00:00Z\", to: \"2026-01-22T00:00:00Z\") { kind title startsAt endsAt release { version } deployment { id } freezeWindow { name } } }",
            json!({}),
        )
        .await;
    let entries = &data["releaseCalendar"];
    assert_eq!(
        strings(entries, "title"),
        [
            "PAY 2026.1.0: January payments",
            "PAY 2026.1.0 to staging",
            "PAY 2026.1.0 to prod-eu",
            "PAY 2026.1.0 to prod-us",
        ]
    );
    assert_eq!(
        strings(entries, "kind"),
        ["RELEASE", "DEPLOYMENT", "DEPLOYMENT", "DEPLOYMENT"]
    );
    assert_eq!(entries[0]["startsAt"], "2026-01-15T10:00:00Z");
    assert_eq!(entries[0]["endsAt"], "2026-01-20T10:00:00Z");

    let around_new_year = app
        .admin(
            "{ releaseCalendar(from: \"2025-12-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\", programKeys: [\"MOB\"]) { kind title } }",
            json!({}),
        )
        .await;
    assert_eq!(
        strings(&around_new_year["releaseCalendar"], "title"),
        ["Year-end"]
    );

    let token = app.token(api::auth::Role::Admin, None);
    let backwards = app
        .run(Some(&token), "{ releaseCalendar(from: \"2026-02-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { title } }", json!({}))
        .await;
    assert_eq!(crate::support::error_code(&backwards), "BAD_USER_INPUT");
    let too_long = app
        .run(Some(&token), "{ releaseCalendar(from: \"2020-01-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { title } }", json!({}))
        .await;
    assert_eq!(crate::support::error_code(&too_long), "BAD_USER_INPUT");
}

#[tokio::test]
async fn timestamps_with_offsets_are_read_as_utc() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .admin(
            "{ releases(filter: { plannedFrom: \"2026-01-20T11:00:00+01:00\", plannedTo: \"2026-01-20T12:00:00+01:00\" }) { nodes { version } } }",
            json!({}),
        )
        .await;
    assert_eq!(strings(&data["releases"]["nodes"], "version"), ["2026.1.0"]);
}
