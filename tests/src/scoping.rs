//! A caller scoped to some programs sees the others as if they did not exist, through
//! every path: lists, lookups by key, nested fields, node(id:), calendar, freeze windows.

use api::auth::Role;
use api::ids::{NodeType, encode};
use serde_json::json;

use crate::support::{TestApp, data, error_code, run_in, strings, token};

#[tokio::test]
async fn lists_and_lookups_hide_other_programs() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .viewer_of(
            &["PAY"],
            "{ programs { totalCount nodes { key } }
               mob: program(key: \"MOB\") { key }
               pay: program(key: \"PAY\") { key releases { totalCount } }
               releases { totalCount nodes { version } }
               filtered: releases(filter: { programKeys: [\"MOB\"] }) { totalCount }
               spring: release(programKey: \"MOB\", version: \"5.0.0\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(data["programs"]["totalCount"], 1);
    assert_eq!(strings(&data["programs"]["nodes"], "key"), ["PAY"]);
    assert_eq!(data["mob"], json!(null));
    assert_eq!(data["pay"]["releases"]["totalCount"], 3);
    assert_eq!(data["releases"]["totalCount"], 3);
    assert_eq!(
        strings(&data["releases"]["nodes"], "version"),
        ["2026.3.0", "2026.2.0", "2026.1.0"]
    );
    assert_eq!(data["filtered"]["totalCount"], 0);
    assert_eq!(data["spring"], json!(null));
}

#[tokio::test]
async fn node_hides_every_type_of_other_programs() {
    let (app, f) = TestApp::with_fixture().await;
    let hidden = [
        encode(NodeType::Program, f.mob.id),
        encode(NodeType::Release, f.mob_spring.id),
        encode(NodeType::Incident, f.mob_incident.id),
        encode(NodeType::FreezeWindow, f.mob_freeze.id),
    ];
    for id in &hidden {
        let data = app
            .viewer_of(
                &["PAY"],
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(data["node"], json!(null), "{id:?}");
        let data = app
            .viewer_of(
                &["MOB"],
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(data["node"]["id"], json!(id), "{id:?}");
    }
    // Children of a hidden release are hidden too; global things are not.
    let mob_deployments = app
        .admin(
            "{ release(programKey: \"MOB\", version: \"5.1.0\") { deployments { id } } }",
            json!({}),
        )
        .await;
    let deployment = mob_deployments["release"]["deployments"][0]["id"].clone();
    for (id, visible) in [
        (deployment, false),
        (
            json!(encode(NodeType::FreezeWindow, f.global_freeze.id)),
            true,
        ),
        (json!(encode(NodeType::Environment, f.prod_us.id)), true),
        (
            json!(encode(NodeType::ImprovementAction, f.pay_action.id)),
            true,
        ),
    ] {
        let data = app
            .viewer_of(
                &["PAY"],
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(!data["node"].is_null(), visible, "{id}");
    }
}

#[tokio::test]
async fn calendar_and_freeze_windows_are_scoped() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .viewer_of(
            &["PAY"],
            "{ freezeWindows { name }
               releaseCalendar(from: \"2026-02-01T00:00:00Z\", to: \"2026-07-01T00:00:00Z\") { title } }",
            json!({}),
        )
        .await;
    assert_eq!(
        strings(&data["freezeWindows"], "name"),
        ["Year-end", "Black Friday"]
    );
    assert_eq!(
        strings(&data["releaseCalendar"], "title"),
        [
            "PAY 2026.2.0: February payments hotfix",
            "PAY 2026.2.0 to prod-eu"
        ]
    );
    let app_token = token(Role::Viewer, Some(&["PAY"]));
    let response = app
        .run(
            Some(&app_token),
            "{ freezeWindows(programKey: \"MOB\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
}

#[tokio::test]
async fn a_token_for_unknown_programs_sees_nothing() {
    let (app, _) = TestApp::with_fixture().await;
    let data = app
        .viewer_of(&["GHOST"], "{ programs { totalCount } releases { totalCount } freezeWindows { name } me { programKeys } }", json!({}))
        .await;
    assert_eq!(data["programs"]["totalCount"], 0);
    assert_eq!(data["releases"]["totalCount"], 0);
    assert_eq!(strings(&data["freezeWindows"], "name"), ["Year-end"]);
    assert_eq!(data["me"]["programKeys"], json!(["GHOST"]));
}

#[tokio::test]
async fn another_programs_deployment_is_not_found_like_a_missing_one() {
    let (app, f) = TestApp::with_fixture().await;
    let complete =
        "mutation($i: CompleteDeploymentInput!) { completeDeployment(input: $i) { id } }";
    let input = |id: i64| {
        json!({"i": {"deploymentId": encode(NodeType::Deployment, id), "status": "SUCCEEDED",
                     "finishedAt": "2026-06-01T00:00:00Z"}})
    };
    let hidden = app
        .refuses(
            Role::ReleaseManager,
            Some(&["MOB"]),
            complete,
            input(f.pay_prod_deployment.id),
            "NOT_FOUND",
        )
        .await;
    let missing = app
        .refuses(
            Role::ReleaseManager,
            Some(&["MOB"]),
            complete,
            input(999_999),
            "NOT_FOUND",
        )
        .await;
    assert_eq!(hidden, missing);
}

#[tokio::test]
async fn a_calendar_of_another_program_is_not_found_like_a_missing_one() {
    let (app, _) = TestApp::with_fixture().await;
    let calendar = |key: &str| {
        format!(
            "{{ releaseCalendar(from: \"2025-12-01T00:00:00Z\", to: \"2026-06-01T00:00:00Z\", programKeys: [\"{key}\"]) {{ kind title }} }}"
        )
    };
    let viewer = token(Role::Viewer, Some(&["PAY"]));
    let hidden = app.run(Some(&viewer), &calendar("MOB"), json!({})).await;
    let missing = app.run(Some(&viewer), &calendar("NOPE"), json!({})).await;
    assert_eq!(
        hidden["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{hidden}"
    );
    assert_eq!(
        hidden["errors"][0]["message"]
            .as_str()
            .map(|m| m.replace("MOB", "NOPE")),
        missing["errors"][0]["message"].as_str().map(str::to_owned)
    );
    assert_eq!(
        hidden["data"],
        json!(null),
        "no global freeze windows: {hidden}"
    );
    let own = app.run(Some(&viewer), &calendar("PAY"), json!({})).await;
    assert!(own.get("errors").is_none(), "{own}");
}

#[tokio::test]
async fn teams_are_those_of_the_callers_releases_without_suppliers() {
    let (app, _) = TestApp::with_fixture().await;
    let all = app
        .admin(
            "{ teams mob: teams(programKeys: [\"MOB\"]) both: teams(programKeys: [\"MOB\", \"PAY\", \"MOB\"]) }",
            json!({}),
        )
        .await;
    let everyone = json!([
        "checkout",
        "mobile-android",
        "mobile-ios",
        "payments-core",
        "risk"
    ]);
    assert_eq!(all["teams"], everyone, "sorted, each once, no supplier");
    assert_eq!(all["mob"], json!(["mobile-android", "mobile-ios"]));
    assert_eq!(all["both"], everyone);
    let pay = app.viewer_of(&["PAY"], "{ teams }", json!({})).await;
    assert_eq!(pay["teams"], json!(["checkout", "payments-core", "risk"]));
    let hidden = app
        .run_as(
            Role::Viewer,
            Some(&["PAY"]),
            "{ teams(programKeys: [\"MOB\"]) }",
            json!({}),
        )
        .await;
    let missing = app
        .run_as(
            Role::Viewer,
            Some(&["PAY"]),
            "{ teams(programKeys: [\"NOPE\"]) }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
    assert_eq!(
        hidden["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("MOB", "NOPE"),
        missing["errors"][0]["message"].as_str().unwrap(),
        "another program's key reads like a missing one"
    );
}

#[tokio::test]
async fn a_program_created_after_its_token_was_first_used_becomes_visible() {
    let (app, _) = TestApp::with_fixture().await;
    let query = "{ programs { nodes { key } } }";
    let seen = app.viewer_of(&["PAY", "NEW"], query, json!({})).await;
    assert_eq!(strings(&seen["programs"]["nodes"], "key"), ["PAY"]);
    app.admin(
        "mutation { createProgram(input: { key: \"NEW\", name: \"New\" }) { key } }",
        json!({}),
    )
    .await;
    // The same process, which has resolved PAY already, and another process.
    let seen = app.viewer_of(&["PAY", "NEW"], query, json!({})).await;
    assert_eq!(strings(&seen["programs"]["nodes"], "key"), ["NEW", "PAY"]);
    let token = app.token(Role::Viewer, Some(&["NEW", "NEW"]));
    let other = app.another_process();
    let seen = data(run_in(&other, Some(&token), query, json!({})).await);
    assert_eq!(strings(&seen["programs"]["nodes"], "key"), ["NEW"]);
}

#[tokio::test]
async fn an_admin_scoped_to_programs_stays_inside_them() {
    let (app, _) = TestApp::with_fixture().await;
    let pay = Some(&["PAY"][..]);
    let beyond = [
        "mutation { createProgram(input: { key: \"NEW\", name: \"New\" }) { key } }",
        "mutation { createEnvironment(input: { name: \"dr\", tier: PRODUCTION }) { name } }",
        "mutation { createFreezeWindow(input: { name: \"All\", startsAt: \"2027-02-01T00:00:00Z\", endsAt: \"2027-02-02T00:00:00Z\" }) { id } }",
    ];
    for mutation in beyond {
        let message = app
            .refuses(Role::Admin, pay, mutation, json!({}), "FORBIDDEN")
            .await;
        assert!(
            message.contains("ADMIN token without programs"),
            "{message}"
        );
    }
    // Inside its program it administers as before.
    let own = app
        .run_as(
            Role::Admin,
            pay,
            "mutation { createFreezeWindow(input: { name: \"PAY only\", programKey: \"PAY\", startsAt: \"2027-02-01T00:00:00Z\", endsAt: \"2027-02-02T00:00:00Z\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(data(own)["createFreezeWindow"]["id"].is_string());
    let other = app
        .refuses(
            Role::Admin,
            pay,
            "mutation { createFreezeWindow(input: { name: \"MOB\", programKey: \"MOB\", startsAt: \"2027-02-01T00:00:00Z\", endsAt: \"2027-02-02T00:00:00Z\" }) { id } }",
            json!({}),
            "NOT_FOUND",
        )
        .await;
    assert!(other.contains("MOB"), "{other}");
}

#[tokio::test]
async fn a_deployments_source_is_read_by_analysts_and_up() {
    use sea_orm::ConnectionTrait;
    let (app, f) = TestApp::with_fixture().await;
    app.admin(
        "mutation { createIngestSource(input: { programKey: \"PAY\", key: \"pay-ci\", kind: GENERIC }) { secret } }",
        json!({}),
    )
    .await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE deployments SET source_id = (SELECT id FROM ingest_sources), external_id = 'ci-1' WHERE id = {}",
            f.pay_prod_deployment.id
        ))
        .await
        .unwrap();
    let query =
        "query($id: ID!) { node(id: $id) { ... on Deployment { externalId source { key } } } }";
    let id = json!({"id": encode(NodeType::Deployment, f.pay_prod_deployment.id)});
    let viewer = app.run_as(Role::Viewer, None, query, id.clone()).await;
    assert_eq!(error_code(&viewer), "FORBIDDEN", "{viewer}");
    assert_eq!(viewer["data"]["node"]["source"], json!(null));
    assert_eq!(viewer["data"]["node"]["externalId"], "ci-1");
    let analyst = data(app.run_as(Role::Analyst, None, query, id).await);
    assert_eq!(analyst["node"]["source"]["key"], "pay-ci");
}

#[tokio::test]
async fn a_taken_source_key_says_nothing_of_whose_it_is() {
    let (app, _) = TestApp::with_fixture().await;
    let create = |program: &str| json!({"i": {"programKey": program, "key": "shared-ci", "kind": "GENERIC"}});
    let mutation =
        "mutation($i: CreateIngestSourceInput!) { createIngestSource(input: $i) { secret } }";
    data(app.run_as(Role::Admin, None, mutation, create("MOB")).await);
    let message = app
        .refuses(
            Role::ReleaseManager,
            Some(&["PAY"]),
            mutation,
            create("PAY"),
            "CONFLICT",
        )
        .await;
    assert_eq!(
        message,
        "the key shared-ci is not available; choose another"
    );
}
