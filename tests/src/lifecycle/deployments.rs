//! Deployments: production rules, freeze windows, rollbacks.

use super::*;

#[tokio::test]
async fn production_deployments_follow_the_rules() {
    let app = world().await;
    let early = create(
        &app,
        "PAY",
        "0.9",
        json!({"plannedEnd": "2030-06-15T10:00:00Z"}),
    )
    .await;
    let staging = json!({"releaseId": early, "environment": "staging", "status": "SUCCEEDED", "startedAt": "2026-03-01T10:00:00Z", "finishedAt": "2026-03-01T10:10:00Z"});
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_DEPLOYMENT,
        json!({ "input": staging }),
        "INVALID_TRANSITION",
    )
    .await;
    for to in ["SCHEDULED", "IN_BUILD"] {
        move_to(&app, &early, to).await;
    }
    rm(&app, RECORD_DEPLOYMENT, staging.clone()).await;
    assert_eq!(
        release(&app, &early).await["status"],
        "IN_BUILD",
        "other tiers change no status"
    );
    let production = json!({"releaseId": early, "environment": "prod-eu", "status": "SUCCEEDED", "startedAt": "2026-03-01T10:00:00Z", "finishedAt": "2026-03-01T10:10:00Z"});
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_DEPLOYMENT,
        json!({ "input": production }),
        "INVALID_TRANSITION",
    )
    .await;

    // A SUCCEEDED production deployment takes an APPROVED release straight to DEPLOYED.
    let id = approved(&app, "PAY", "1.0").await;
    let succeeded = rm(&app, RECORD_DEPLOYMENT, json!({"releaseId": id, "environment": "prod-eu", "status": "SUCCEEDED",
        "strategy": "CANARY", "startedAt": "2026-03-02T10:00:00Z", "finishedAt": "2026-03-02T10:30:00Z"})).await;
    assert_eq!(
        succeeded["recordDeployment"]["release"],
        json!({"status": "DEPLOYED", "deployedAt": "2026-03-02T10:30:00Z"})
    );
    assert_eq!(succeeded["recordDeployment"]["strategy"], "CANARY");

    // A FAILED one moves it to DEPLOYING, and it stays there.
    let failing = approved(&app, "PAY", "1.1").await;
    let failed = rm(
        &app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": failing, "environment": "prod-eu", "status": "FAILED",
        "startedAt": "2026-03-02T10:00:00Z", "finishedAt": "2026-03-02T10:05:00Z"}),
    )
    .await;
    assert_eq!(
        failed["recordDeployment"]["release"],
        json!({"status": "DEPLOYING", "deployedAt": null})
    );

    // completeDeployment only finishes IN_PROGRESS deployments, never with IN_PROGRESS.
    let done = rm(
        &app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": failing, "environment": "prod-eu", "status": "IN_PROGRESS",
        "startedAt": "2026-03-02T11:00:00Z"}),
    )
    .await["recordDeployment"]["id"]
        .clone();
    app.refuses(Role::ReleaseManager, None, COMPLETE_DEPLOYMENT, json!({"input": {"deploymentId": done, "status": "IN_PROGRESS", "finishedAt": "2026-03-02T11:30:00Z"}}), "BAD_USER_INPUT").await;
    app.refuses(Role::ReleaseManager, None, COMPLETE_DEPLOYMENT, json!({"input": {"deploymentId": done, "status": "SUCCEEDED", "finishedAt": "2026-03-02T10:59:00Z"}}), "BAD_USER_INPUT").await;
    rm(
        &app,
        COMPLETE_DEPLOYMENT,
        json!({"deploymentId": done, "status": "SUCCEEDED", "finishedAt": "2026-03-02T11:30:00Z"}),
    )
    .await;
    app.refuses(Role::ReleaseManager, None, COMPLETE_DEPLOYMENT, json!({"input": {"deploymentId": done, "status": "FAILED", "finishedAt": "2026-03-02T11:40:00Z"}}), "INVALID_TRANSITION").await;
    assert_eq!(release(&app, &failing).await["status"], "DEPLOYED");

    // finishedAt: required unless IN_PROGRESS, never before startedAt.
    let id2 = approved(&app, "PAY", "1.2").await;
    for (finished, status) in [
        (json!(null), "SUCCEEDED"),
        (json!("2026-03-02T09:00:00Z"), "SUCCEEDED"),
        (json!("2026-03-02T11:00:00Z"), "IN_PROGRESS"),
    ] {
        app.refuses(
            Role::ReleaseManager,
            None,
            RECORD_DEPLOYMENT,
            json!({"input": {"releaseId": id2, "environment": "prod-eu",
            "status": status, "startedAt": "2026-03-02T10:00:00Z", "finishedAt": finished}}),
            "BAD_USER_INPUT",
        )
        .await;
    }
    app.refuses(Role::ReleaseManager, None, RECORD_DEPLOYMENT, json!({"input": {"releaseId": id2, "environment": "prod-mars",
        "status": "SUCCEEDED", "startedAt": "2026-03-02T10:00:00Z", "finishedAt": "2026-03-02T10:10:00Z"}}), "NOT_FOUND").await;
}

#[tokio::test]
async fn freeze_windows_stop_production_deployments_and_deploying() {
    let app = world().await;
    let now = chrono::Utc::now();
    let starts = (now - chrono::Duration::hours(1)).to_rfc3339();
    let ends = (now + chrono::Duration::hours(1)).to_rfc3339();
    app.admin(
        CREATE_FREEZE,
        json!({"input": {"name": "Incident freeze", "startsAt": starts, "endsAt": ends}}),
    )
    .await;
    let id = approved(&app, "PAY", "1.0").await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "DEPLOYING"}}),
            "FREEZE_CONFLICT",
        )
        .await;
    assert!(message.contains("Incident freeze"), "{message}");
    let inside = json!({"releaseId": id, "environment": "prod-eu", "status": "SUCCEEDED", "startedAt": now.to_rfc3339(), "finishedAt": ends});
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_DEPLOYMENT,
        json!({ "input": inside }),
        "FREEZE_CONFLICT",
    )
    .await;
    // Staging is not frozen; an override with a note moves on.
    rm(&app, RECORD_DEPLOYMENT, json!({"releaseId": id, "environment": "staging", "status": "SUCCEEDED", "startedAt": now.to_rfc3339(), "finishedAt": ends})).await;
    rm(
        &app,
        TRANSITION,
        json!({"releaseId": id, "to": "DEPLOYING", "overrideFreeze": true, "note": "Security fix"}),
    )
    .await;

    let hotfix = ready_release(&app, "PAY", "1.0.1", json!({"type": "EMERGENCY"})).await;
    move_to(&app, &hotfix, "APPROVED").await;
    rm(&app, RECORD_DEPLOYMENT, json!({"releaseId": hotfix, "environment": "prod-eu", "status": "SUCCEEDED", "startedAt": now.to_rfc3339(), "finishedAt": ends})).await;
    assert_eq!(release(&app, &hotfix).await["status"], "DEPLOYED");
}

#[tokio::test]
async fn rollback_marks_the_latest_deployment_and_records_the_rollback() {
    let app = world().await;
    let planned = create(&app, "PAY", "0.1", json!({})).await;
    let rollback = |id: &str, environment: &str| {
        json!({"input": {"releaseId": id, "environment": environment, "reason": "Errors",
        "startedAt": "2026-03-02T12:00:00Z", "finishedAt": "2026-03-02T12:10:00Z"}})
    };
    app.refuses(
        Role::ReleaseManager,
        None,
        ROLLBACK,
        rollback(&planned, "prod-eu"),
        "INVALID_TRANSITION",
    )
    .await;
    let id = deployed(&app, "PAY", "1.0").await;
    app.refuses(
        Role::ReleaseManager,
        None,
        ROLLBACK,
        rollback(&id, "staging"),
        "INVALID_TRANSITION",
    )
    .await;
    app.refuses(
        Role::ReleaseManager,
        None,
        ROLLBACK,
        rollback(&id, "prod-mars"),
        "NOT_FOUND",
    )
    .await;
    let mut no_reason = rollback(&id, "prod-eu");
    no_reason["input"]["reason"] = json!(" ");
    app.refuses(
        Role::ReleaseManager,
        None,
        ROLLBACK,
        no_reason,
        "BAD_USER_INPUT",
    )
    .await;
    rm(
        &app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": id, "environment": "prod-eu", "status": "FAILED",
        "startedAt": "2026-03-02T11:00:00Z", "finishedAt": "2026-03-02T11:05:00Z"}),
    )
    .await;

    let rolled = data(
        app.run_as(
            Role::ReleaseManager,
            None,
            ROLLBACK,
            rollback(&id, "prod-eu"),
        )
        .await,
    );
    let r = &rolled["rollbackRelease"];
    assert_eq!(r["status"], "ROLLED_BACK");
    assert_eq!(
        r["deployments"],
        json!([
            {"status": "SUCCEEDED", "isRollback": false, "environment": {"name": "prod-eu"}},
            {"status": "ROLLED_BACK", "isRollback": false, "environment": {"name": "prod-eu"}},
            {"status": "SUCCEEDED", "isRollback": true, "environment": {"name": "prod-eu"}},
        ]),
        "only the most recent deployment is marked"
    );
    assert_eq!(r["deployedAt"], "2026-03-02T10:30:00Z");
    let events = release(&app, &id).await["events"]["nodes"].clone();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last,
        json!({"kind": "ROLLED_BACK", "actor": "tester", "fromStatus": "DEPLOYED", "toStatus": "ROLLED_BACK", "note": "Errors"})
    );
    app.refuses(
        Role::ReleaseManager,
        None,
        ROLLBACK,
        rollback(&id, "prod-eu"),
        "INVALID_TRANSITION",
    )
    .await;
    // The rolled-back release is reviewed next.
    rm(&app, RECORD_OUTCOME, json!({"releaseId": id, "result": "ROLLED_BACK", "objectivesMet": false, "summary": "Rolled back", "defectsEscaped": 2})).await;
    assert_eq!(release(&app, &id).await["status"], "REVIEWED");
}

#[tokio::test]
async fn rolling_back_the_only_success_clears_deployed_at() {
    let app = world().await;
    let id = deployed(&app, "PAY", "1.0").await;
    let rolled = rm(
        &app,
        ROLLBACK,
        json!({"releaseId": id, "environment": "prod-eu", "reason": "Errors",
        "startedAt": "2026-03-02T12:00:00Z", "finishedAt": "2026-03-02T12:10:00Z"}),
    )
    .await;
    assert_eq!(rolled["rollbackRelease"]["deployedAt"], json!(null));
}
