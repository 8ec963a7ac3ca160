//! The post-implementation review and its improvement actions.

use super::*;

#[tokio::test]
async fn outcomes_come_once_and_actions_stay_editable() {
    let app = world().await;
    let planned = create(&app, "PAY", "0.1", json!({})).await;
    let outcome = |id: &str| json!({"input": {"releaseId": id, "result": "SUCCESSFUL", "objectivesMet": true, "summary": "Fine"}});
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_OUTCOME,
        outcome(&planned),
        "INVALID_TRANSITION",
    )
    .await;
    app.refuses(
        Role::ReleaseManager,
        None,
        ADD_ACTION,
        json!({"input": {"releaseId": planned, "title": "x"}}),
        "INVALID_TRANSITION",
    )
    .await;
    let id = deployed(&app, "PAY", "1.0").await;
    let mut negative = outcome(&id);
    negative["input"]["defectsEscaped"] = json!(-1);
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_OUTCOME,
        negative,
        "BAD_USER_INPUT",
    )
    .await;
    data(
        app.run_as(Role::ReleaseManager, None, RECORD_OUTCOME, outcome(&id))
            .await,
    );
    // A second outcome is CONFLICT, before the status (now REVIEWED) is looked at.
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_OUTCOME,
        outcome(&id),
        "CONFLICT",
    )
    .await;

    let action = rm(
        &app,
        ADD_ACTION,
        json!({"releaseId": id, "title": "Write the runbook", "owner": "ops"}),
    )
    .await;
    let action_id = action["addImprovementAction"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(action["addImprovementAction"]["status"], "OPEN");
    let dropped = rm(
        &app,
        UPDATE_ACTION,
        json!({"actionId": action_id, "status": "DROPPED", "closedAt": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        dropped["updateImprovementAction"]["closedAt"],
        "2030-01-01T00:00:00Z"
    );
    let kept = rm(
        &app,
        UPDATE_ACTION,
        json!({"actionId": action_id, "dueDate": "2030-02-01"}),
    )
    .await;
    assert_eq!(
        kept["updateImprovementAction"]["closedAt"], "2030-01-01T00:00:00Z",
        "closedAt stays while closed"
    );
    app.refuses(Role::ReleaseManager, None, UPDATE_ACTION, json!({"input": {"actionId": action_id, "status": "OPEN", "closedAt": "2030-01-01T00:00:00Z"}}), "BAD_USER_INPUT").await;
    app.refuses(Role::ReleaseManager, None, UPDATE_ACTION, json!({"input": {"actionId": action_id, "status": "DONE", "closedAt": "2000-01-01T00:00:00Z"}}), "BAD_USER_INPUT").await;
    let cleared = rm(
        &app,
        UPDATE_ACTION,
        json!({"actionId": action_id, "owner": null, "dueDate": null}),
    )
    .await;
    assert_eq!(cleared["updateImprovementAction"]["owner"], json!(null));
    assert_eq!(cleared["updateImprovementAction"]["dueDate"], json!(null));
}
