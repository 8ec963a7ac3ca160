//! Moves along the lifecycle: the table, scheduling, readiness for approval, read-only ends.

use super::*;

#[tokio::test]
async fn a_release_goes_through_its_whole_lifecycle() {
    let app = world().await;
    let created = rm(&app, CREATE_RELEASE, json!({"programKey": "PAY", "version": "2026.4.0", "name": "April",
        "type": "MINOR", "teams": ["payments-core", "risk", "payments-core"], "suppliers": ["Acme"]})).await;
    let r = &created["createRelease"];
    assert_eq!(
        (r["status"].as_str(), r["revision"].as_i64()),
        (Some("PLANNED"), Some(1))
    );
    assert_eq!(
        (r["risk"].as_str(), r["strategy"].as_str()),
        (Some("MEDIUM"), Some("BIG_BANG"))
    );
    assert_eq!(r["teams"], json!(["payments-core", "risk"]));
    let id = r["id"].as_str().unwrap().to_owned();

    let updated = rm(
        &app,
        UPDATE_RELEASE,
        json!({"releaseId": id, "expectedRevision": 1, "description": "Refunds",
        "plannedEnd": "2030-06-15T10:00:00Z", "teams": ["risk"]}),
    )
    .await;
    assert_eq!(updated["updateRelease"]["revision"], 2);
    assert_eq!(updated["updateRelease"]["teams"], json!(["risk"]));
    assert_eq!(
        updated["updateRelease"]["name"], "April",
        "fields left out stay as they are"
    );

    for to in ["SCHEDULED", "IN_BUILD"] {
        move_to(&app, &id, to).await;
    }
    rm(&app, ADD_ITEM, json!({"releaseId": id, "title": "Instant refunds", "kind": "FEATURE", "committedAt": "2026-03-01T09:00:00Z"})).await;
    rm(
        &app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": id, "environment": "staging", "status": "SUCCEEDED",
        "startedAt": "2026-03-01T10:00:00Z", "finishedAt": "2026-03-01T10:10:00Z"}),
    )
    .await;
    move_to(&app, &id, "IN_TEST").await;
    rm(
        &app,
        RECORD_GATE,
        json!({"releaseId": id, "name": "unit-tests", "kind": "UNIT_TEST", "status": "FAILED",
        "checkedAt": "2026-03-01T11:00:00Z"}),
    )
    .await;
    let gate = rm(
        &app,
        RECORD_GATE,
        json!({"releaseId": id, "name": "unit-tests", "kind": "UNIT_TEST", "status": "PASSED",
        "evidenceUrl": "https://ci.example.com/42", "checkedAt": "2026-03-01T12:00:00Z"}),
    )
    .await;
    assert_eq!(
        gate["recordQualityGate"],
        json!({"name": "unit-tests", "status": "PASSED", "attempts": 2,
        "checkedBy": "tester", "required": true, "evidenceUrl": "https://ci.example.com/42"})
    );
    let approval = rm(
        &app,
        RECORD_APPROVAL,
        json!({"releaseId": id, "decision": "GO"}),
    )
    .await;
    assert_eq!(approval["recordApproval"]["approver"], "tester");
    let current = release(&app, &id).await["revision"].as_i64().unwrap();
    rm(
        &app,
        UPDATE_RELEASE,
        json!({"releaseId": id, "expectedRevision": current, "rollbackPlan": "Redeploy 2026.3"}),
    )
    .await;
    move_to(&app, &id, "APPROVED").await;

    let started = rm(
        &app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": id, "environment": "prod-eu", "status": "IN_PROGRESS",
        "stage": "canary 5%", "startedAt": "2026-03-02T10:00:00Z"}),
    )
    .await;
    assert_eq!(
        started["recordDeployment"]["release"]["status"],
        "DEPLOYING"
    );
    assert_eq!(
        started["recordDeployment"]["strategy"], "BIG_BANG",
        "the release's strategy by default"
    );
    let deployment = started["recordDeployment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = rm(&app, COMPLETE_DEPLOYMENT, json!({"deploymentId": deployment, "status": "SUCCEEDED", "finishedAt": "2026-03-02T10:30:00Z"})).await;
    assert_eq!(
        done["completeDeployment"]["release"],
        json!({"status": "DEPLOYED", "deployedAt": "2026-03-02T10:30:00Z"})
    );

    let outcome = rm(&app, RECORD_OUTCOME, json!({"releaseId": id, "result": "SUCCESSFUL", "objectivesMet": true, "summary": "Shipped"})).await;
    assert_eq!(
        outcome["recordOutcome"],
        json!({"result": "SUCCESSFUL", "reviewedBy": "tester", "defectsEscaped": 0})
    );
    let action = rm(
        &app,
        ADD_ACTION,
        json!({"releaseId": id, "title": "Alert on refunds", "dueDate": "2026-04-01"}),
    )
    .await;
    let action_id = action["addImprovementAction"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let closed = rm(
        &app,
        UPDATE_ACTION,
        json!({"actionId": action_id, "status": "DONE"}),
    )
    .await;
    assert!(
        closed["updateImprovementAction"]["closedAt"].is_string(),
        "closedAt defaults to now"
    );
    let reopened = rm(
        &app,
        UPDATE_ACTION,
        json!({"actionId": action_id, "status": "IN_PROGRESS", "owner": "sre"}),
    )
    .await;
    assert_eq!(
        reopened["updateImprovementAction"],
        json!({"status": "IN_PROGRESS", "closedAt": null, "owner": "sre", "dueDate": "2026-04-01"})
    );

    let r = release(&app, &id).await;
    assert_eq!(r["status"], "REVIEWED");
    let events = &r["events"];
    assert_eq!(
        events["totalCount"], r["revision"],
        "one event per change, one revision per change"
    );
    assert_eq!(
        strings(&events["nodes"], "kind"),
        [
            "CREATED",
            "UPDATED",
            "STATUS_CHANGED",
            "STATUS_CHANGED",
            "ITEM_ADDED",
            "DEPLOYMENT_RECORDED",
            "STATUS_CHANGED",
            "GATE_RECORDED",
            "GATE_RECORDED",
            "APPROVAL_RECORDED",
            "UPDATED",
            "STATUS_CHANGED",
            "DEPLOYMENT_RECORDED",
            "DEPLOYMENT_RECORDED",
            "OUTCOME_RECORDED",
            "ACTION_ADDED",
            "ACTION_UPDATED",
            "ACTION_UPDATED"
        ]
    );
    assert!(
        strings(&events["nodes"], "actor")
            .iter()
            .all(|a| a == "tester")
    );
    let approved_event = &events["nodes"][11];
    assert_eq!(
        (
            approved_event["fromStatus"].as_str(),
            approved_event["toStatus"].as_str()
        ),
        (Some("IN_TEST"), Some("APPROVED"))
    );
    let deploying = &events["nodes"][12];
    assert_eq!(
        (
            deploying["fromStatus"].as_str(),
            deploying["toStatus"].as_str()
        ),
        (Some("APPROVED"), Some("DEPLOYING"))
    );
    assert_eq!(events["nodes"][14]["toStatus"], "REVIEWED");
}

#[tokio::test]
async fn transitions_outside_the_table_are_refused() {
    let app = world().await;
    let id = create(
        &app,
        "PAY",
        "1.0",
        json!({"plannedEnd": "2030-06-15T10:00:00Z"}),
    )
    .await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "IN_TEST"}}),
            "INVALID_TRANSITION",
        )
        .await;
    assert!(
        message.contains("PLANNED")
            && message.contains("SCHEDULED")
            && message.contains("CANCELLED"),
        "{message}"
    );
    app.refuses(
        Role::ReleaseManager,
        None,
        TRANSITION,
        json!({"input": {"releaseId": id, "to": "PLANNED"}}),
        "INVALID_TRANSITION",
    )
    .await;
    let deployed_id = deployed(&app, "PAY", "2.0").await;
    for to in ["ROLLED_BACK", "REVIEWED"] {
        let message = app
            .refuses(
                Role::ReleaseManager,
                None,
                TRANSITION,
                json!({"input": {"releaseId": deployed_id, "to": to}}),
                "INVALID_TRANSITION",
            )
            .await;
        assert!(
            message.contains("DEPLOYED")
                && message.contains("REVIEWED")
                && message.contains("ROLLED_BACK"),
            "{message}"
        );
    }
    move_to(&app, &id, "CANCELLED").await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "PLANNED"}}),
            "INVALID_TRANSITION",
        )
        .await;
    assert!(message.contains("CANCELLED"), "{message}");
}

#[tokio::test]
async fn scheduling_needs_a_planned_end_outside_freeze_windows() {
    let app = world().await;
    let unplanned = create(&app, "PAY", "1.0", json!({})).await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": unplanned, "to": "SCHEDULED"}}),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(message.contains("plannedEnd"), "{message}");

    app.admin(CREATE_FREEZE, json!({"input": {"name": "Year-end", "startsAt": "2030-12-20T00:00:00Z", "endsAt": "2031-01-03T00:00:00Z"}})).await;
    let frozen = app.admin(CREATE_FREEZE, json!({"input": {"name": "MOB launch", "programKey": "MOB", "startsAt": "2030-06-01T00:00:00Z", "endsAt": "2030-07-01T00:00:00Z"}})).await;
    assert_eq!(frozen["createFreezeWindow"]["program"]["key"], "MOB");

    let in_year_end = create(
        &app,
        "PAY",
        "2.0",
        json!({"plannedEnd": "2030-12-24T10:00:00Z"}),
    )
    .await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": in_year_end, "to": "SCHEDULED"}}),
            "FREEZE_CONFLICT",
        )
        .await;
    assert!(message.contains("Year-end"), "{message}");
    // An override without a note is still refused.
    app.refuses(
        Role::ReleaseManager,
        None,
        TRANSITION,
        json!({"input": {"releaseId": in_year_end, "to": "SCHEDULED", "overrideFreeze": true}}),
        "FREEZE_CONFLICT",
    )
    .await;
    app.refuses(Role::ReleaseManager, None, TRANSITION, json!({"input": {"releaseId": in_year_end, "to": "SCHEDULED", "overrideFreeze": true, "note": "  "}}), "FREEZE_CONFLICT").await;
    rm(&app, TRANSITION, json!({"releaseId": in_year_end, "to": "SCHEDULED", "overrideFreeze": true, "note": "Regulatory deadline"})).await;
    let events = release(&app, &in_year_end).await["events"]["nodes"].clone();
    assert_eq!(events[1]["note"], "Regulatory deadline");

    // A program's own freeze applies to it alone; the end of a window is outside it.
    let pay_in_mob_freeze = create(
        &app,
        "PAY",
        "3.0",
        json!({"plannedEnd": "2030-06-15T10:00:00Z"}),
    )
    .await;
    move_to(&app, &pay_in_mob_freeze, "SCHEDULED").await;
    let mob = create(
        &app,
        "MOB",
        "1.0",
        json!({"plannedEnd": "2030-06-15T10:00:00Z"}),
    )
    .await;
    app.refuses(
        Role::ReleaseManager,
        None,
        TRANSITION,
        json!({"input": {"releaseId": mob, "to": "SCHEDULED"}}),
        "FREEZE_CONFLICT",
    )
    .await;
    let at_end = create(
        &app,
        "MOB",
        "2.0",
        json!({"plannedEnd": "2030-07-01T00:00:00Z"}),
    )
    .await;
    move_to(&app, &at_end, "SCHEDULED").await;
    // EMERGENCY releases are exempt.
    let hotfix = create(
        &app,
        "MOB",
        "1.0.1",
        json!({"type": "EMERGENCY", "plannedEnd": "2030-06-15T10:00:00Z"}),
    )
    .await;
    move_to(&app, &hotfix, "SCHEDULED").await;
}

#[tokio::test]
async fn approval_needs_readiness() {
    let app = world().await;
    let id = create(
        &app,
        "PAY",
        "1.0",
        json!({"plannedEnd": "2030-06-15T10:00:00Z"}),
    )
    .await;
    for to in ["SCHEDULED", "IN_BUILD", "IN_TEST"] {
        move_to(&app, &id, to).await;
    }
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "APPROVED"}}),
            "GATES_NOT_PASSED",
        )
        .await;
    let blockers = release_readiness(&app, &id).await;
    assert_eq!(blockers.len(), 3, "{blockers:?}");
    for blocker in &blockers {
        assert!(
            message.contains(blocker.as_str()),
            "{message} lacks {blocker}"
        );
    }
    rm(&app, RECORD_GATE, json!({"releaseId": id, "name": "security-scan", "kind": "SECURITY_SCAN", "status": "FAILED"})).await;
    rm(&app, RECORD_GATE, json!({"releaseId": id, "name": "lint", "kind": "OTHER", "status": "FAILED", "required": false})).await;
    rm(
        &app,
        RECORD_APPROVAL,
        json!({"releaseId": id, "decision": "GO", "decidedAt": "2026-03-01T10:00:00Z"}),
    )
    .await;
    rm(
        &app,
        RECORD_APPROVAL,
        json!({"releaseId": id, "decision": "NO_GO", "decidedAt": "2026-03-01T11:00:00Z"}),
    )
    .await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "APPROVED"}}),
            "GATES_NOT_PASSED",
        )
        .await;
    assert!(
        message.contains("gate security-scan is FAILED"),
        "{message}"
    );
    assert!(
        message.contains("no rollback plan")
            && message.contains("NO_GO")
            && !message.contains("lint"),
        "{message}"
    );

    rm(&app, RECORD_GATE, json!({"releaseId": id, "name": "security-scan", "kind": "SECURITY_SCAN", "status": "WAIVED"})).await;
    rm(
        &app,
        RECORD_APPROVAL,
        json!({"releaseId": id, "decision": "GO"}),
    )
    .await;
    let revision = release(&app, &id).await["revision"].as_i64().unwrap();
    rm(
        &app,
        UPDATE_RELEASE,
        json!({"releaseId": id, "expectedRevision": revision, "rollbackPlan": "Feature flag off"}),
    )
    .await;
    assert!(release_readiness(&app, &id).await.is_empty());
    move_to(&app, &id, "APPROVED").await;
}

async fn release_readiness(app: &TestApp, id: &str) -> Vec<String> {
    let data = app
        .admin(
            "query($id: ID!) { node(id: $id) { ... on Release { readiness { blockers } } } }",
            json!({"id": id}),
        )
        .await;
    data["node"]["readiness"]["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn terminal_releases_are_read_only() {
    let app = world().await;
    let id = deployed(&app, "PAY", "1.0").await;
    rm(
        &app,
        RECORD_OUTCOME,
        json!({"releaseId": id, "result": "SUCCESSFUL", "objectivesMet": true, "summary": "Fine"}),
    )
    .await;
    let revision = release(&app, &id).await["revision"].clone();
    let attempts = [
        (
            UPDATE_RELEASE,
            json!({"releaseId": id, "expectedRevision": revision, "name": "Renamed"}),
        ),
        (
            ADD_ITEM,
            json!({"releaseId": id, "title": "Late", "kind": "FIX"}),
        ),
        (
            RECORD_GATE,
            json!({"releaseId": id, "name": "late", "kind": "OTHER", "status": "PASSED"}),
        ),
        (RECORD_APPROVAL, json!({"releaseId": id, "decision": "GO"})),
        (
            RECORD_DEPLOYMENT,
            json!({"releaseId": id, "environment": "staging", "status": "SUCCEEDED", "startedAt": "2026-03-03T10:00:00Z", "finishedAt": "2026-03-03T10:10:00Z"}),
        ),
        (TRANSITION, json!({"releaseId": id, "to": "PLANNED"})),
    ];
    for (mutation, input) in attempts {
        app.refuses(
            Role::ReleaseManager,
            None,
            mutation,
            json!({ "input": input }),
            "INVALID_TRANSITION",
        )
        .await;
    }
    // Incidents are facts: they can still be recorded and resolved.
    let incident = rm(&app, RECORD_INCIDENT, json!({"releaseId": id, "title": "Late errors", "severity": "SEV3", "openedAt": "2026-03-05T10:00:00Z"})).await;
    let incident_id = incident["recordIncident"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    rm(
        &app,
        RESOLVE_INCIDENT,
        json!({"incidentId": incident_id, "resolvedAt": "2026-03-05T11:00:00Z"}),
    )
    .await;
    let kinds = strings(&release(&app, &id).await["events"]["nodes"], "kind");
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["INCIDENT_RECORDED", "INCIDENT_RESOLVED"]
    );
}
