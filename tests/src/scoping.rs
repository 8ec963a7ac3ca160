//! A caller scoped to some programs sees the others as if they did not exist, through
//! every path: lists, lookups by key, nested fields, node(id:), calendar, freeze windows.

use api::auth::Role;
use api::ids::{NodeType, encode};
use serde_json::json;

use crate::support::{TestApp, strings, token};

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
               releaseCalendar(from: \"2026-02-01T00:00:00Z\", to: \"2026-07-01T00:00:00Z\") { title }
               asked: releaseCalendar(from: \"2026-02-01T00:00:00Z\", to: \"2026-07-01T00:00:00Z\", programKeys: [\"MOB\"]) { title } }",
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
    assert_eq!(data["asked"], json!([]));
    let app_token = token(Role::Viewer, Some(&["PAY"]));
    let response = app
        .run(
            Some(&app_token),
            "{ freezeWindows(programKey: \"MOB\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::error_code(&response), "NOT_FOUND");
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
