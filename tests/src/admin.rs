//! ADMIN commands (programs, environments, freeze windows) leave an audit record in the
//! same transaction, and a refused one leaves none.

use api::auth::Role;
use entity::admin_event::{self, AdminAction};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn admin_commands_are_audited() {
    let app = TestApp::empty().await;
    app.admin(
        "mutation { createProgram(input: { key: \"PAY\", name: \"Payments\", owner: \"Ana\" }) { key } }",
        json!({}),
    )
    .await;
    app.admin(
        "mutation { createEnvironment(input: { name: \"prod-eu\", tier: PRODUCTION }) { name } }",
        json!({}),
    )
    .await;
    let window = app
        .admin(
            "mutation { createFreezeWindow(input: { name: \"Year end\", programKey: \"PAY\", startsAt: \"2026-12-20T00:00:00Z\", endsAt: \"2027-01-02T00:00:00Z\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(window["createFreezeWindow"]["id"].is_string());
    let events = admin_event::Entity::find()
        .order_by_asc(admin_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let summary: Vec<(AdminAction, &str, &str)> = events
        .iter()
        .map(|e| (e.action, e.subject.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        summary[..2],
        [
            (AdminAction::ProgramCreated, "PAY", "tester"),
            (AdminAction::EnvironmentCreated, "prod-eu", "tester"),
        ]
    );
    assert_eq!(summary[2].0, AdminAction::FreezeWindowCreated);
    let detail: Value = serde_json::from_str(&events[0].detail).unwrap();
    assert_eq!(detail["owner"], "Ana");
    let detail: Value = serde_json::from_str(&events[2].detail).unwrap();
    assert_eq!(detail["programKey"], "PAY");
    assert_eq!(detail["startsAt"], "2026-12-20T00:00:00Z");

    // A refused command writes no audit record.
    app.refuses(
        Role::ReleaseManager,
        None,
        "mutation { createEnvironment(input: { name: \"dr\", tier: PRODUCTION }) { name } }",
        json!({}),
        "FORBIDDEN",
    )
    .await;
    assert_eq!(
        admin_event::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        3
    );
}
