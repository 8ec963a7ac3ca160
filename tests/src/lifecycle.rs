//! The release lifecycle of lifecycle.md, through the mutations: every rule, every error
//! code, and for every failure the check that nothing changed and no event was written.

use api::auth::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, data, strings};

const CREATE_PROGRAM: &str =
    "mutation($input: CreateProgramInput!) { createProgram(input: $input) { id key name } }";
const CREATE_ENVIRONMENT: &str = "mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { id name tier } }";
const CREATE_FREEZE: &str = "mutation($input: CreateFreezeWindowInput!) { createFreezeWindow(input: $input) { id name program { key } } }";
const CREATE_RELEASE: &str = "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id version status revision risk strategy teams suppliers plannedEnd } }";
const UPDATE_RELEASE: &str = "mutation($input: UpdateReleaseInput!) { updateRelease(input: $input) { id revision name description plannedEnd teams rollbackPlan } }";
const TRANSITION: &str = "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { status revision } }";
const ADD_ITEM: &str =
    "mutation($input: AddReleaseItemInput!) { addReleaseItem(input: $input) { id title kind } }";
const RECORD_GATE: &str = "mutation($input: RecordQualityGateInput!) { recordQualityGate(input: $input) { name status attempts checkedBy required evidenceUrl } }";
const RECORD_APPROVAL: &str = "mutation($input: RecordApprovalInput!) { recordApproval(input: $input) { approver decision } }";
const RECORD_DEPLOYMENT: &str = "mutation($input: RecordDeploymentInput!) { recordDeployment(input: $input) { id status strategy isRollback release { status deployedAt } } }";
const COMPLETE_DEPLOYMENT: &str = "mutation($input: CompleteDeploymentInput!) { completeDeployment(input: $input) { status finishedAt release { status deployedAt } } }";
const ROLLBACK: &str = "mutation($input: RollbackReleaseInput!) { rollbackRelease(input: $input) { status deployedAt deployments { status isRollback environment { name } } } }";
const RECORD_INCIDENT: &str = "mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id program { key } release { version } deployment { id } causedByChange resolvedAt } }";
const RESOLVE_INCIDENT: &str =
    "mutation($input: ResolveIncidentInput!) { resolveIncident(input: $input) { resolvedAt } }";
const RECORD_OUTCOME: &str = "mutation($input: RecordOutcomeInput!) { recordOutcome(input: $input) { result reviewedBy defectsEscaped } }";
const ADD_ACTION: &str = "mutation($input: AddImprovementActionInput!) { addImprovementAction(input: $input) { id status closedAt } }";
const UPDATE_ACTION: &str = "mutation($input: UpdateImprovementActionInput!) { updateImprovementAction(input: $input) { status closedAt owner dueDate } }";
const RELEASE: &str = "query($id: ID!) { node(id: $id) { ... on Release { status revision deployedAt events(first: 100) { totalCount nodes { kind actor fromStatus toStatus note } } } } }";

/// Two programs, staging and one production environment.
async fn world() -> TestApp {
    let app = TestApp::empty().await;
    for key in ["PAY", "MOB"] {
        app.admin(
            CREATE_PROGRAM,
            json!({"input": {"key": key, "name": format!("{key} program")}}),
        )
        .await;
    }
    for (name, tier) in [("staging", "STAGING"), ("prod-eu", "PRODUCTION")] {
        app.admin(
            CREATE_ENVIRONMENT,
            json!({"input": {"name": name, "tier": tier}}),
        )
        .await;
    }
    app
}

/// Runs a mutation as a release manager of every program; it must succeed.
async fn rm(app: &TestApp, query: &str, input: Value) -> Value {
    data(
        app.run_as(Role::ReleaseManager, None, query, json!({ "input": input }))
            .await,
    )
}

async fn create(app: &TestApp, program: &str, version: &str, extra: Value) -> String {
    let mut input = json!({"programKey": program, "version": version, "name": format!("Release {version}"), "type": "MINOR"});
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    rm(app, CREATE_RELEASE, input).await["createRelease"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn release(app: &TestApp, id: &str) -> Value {
    app.admin(RELEASE, json!({"id": id})).await["node"].clone()
}

async fn move_to(app: &TestApp, id: &str, to: &str) {
    rm(app, TRANSITION, json!({"releaseId": id, "to": to})).await;
}

/// A release made ready for approval: planned, gated, approved, with a rollback plan.
async fn ready_release(app: &TestApp, program: &str, version: &str, extra: Value) -> String {
    let mut extra = extra;
    extra["plannedEnd"] = json!("2030-06-15T10:00:00Z");
    extra["rollbackPlan"] = json!("Redeploy the previous version");
    let id = create(app, program, version, extra).await;
    for to in ["SCHEDULED", "IN_BUILD", "IN_TEST"] {
        move_to(app, &id, to).await;
    }
    rm(
        app,
        RECORD_GATE,
        json!({"releaseId": id, "name": "unit-tests", "kind": "UNIT_TEST", "status": "PASSED"}),
    )
    .await;
    rm(
        app,
        RECORD_APPROVAL,
        json!({"releaseId": id, "decision": "GO"}),
    )
    .await;
    id
}

async fn approved(app: &TestApp, program: &str, version: &str) -> String {
    let id = ready_release(app, program, version, json!({})).await;
    move_to(app, &id, "APPROVED").await;
    id
}

async fn deployed(app: &TestApp, program: &str, version: &str) -> String {
    let id = approved(app, program, version).await;
    rm(
        app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": id, "environment": "prod-eu", "status": "SUCCEEDED",
        "startedAt": "2026-03-02T10:00:00Z", "finishedAt": "2026-03-02T10:30:00Z"}),
    )
    .await;
    id
}

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

#[tokio::test]
async fn incidents_take_release_and_program_from_their_ids() {
    let app = world().await;
    let id = deployed(&app, "PAY", "1.0").await;
    let mob = deployed(&app, "MOB", "1.0").await;
    let deployments = app
        .admin(
            "query($id: ID!) { node(id: $id) { ... on Release { deployments { id } } } }",
            json!({"id": id}),
        )
        .await;
    let deployment = deployments["node"]["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let by_deployment = rm(
        &app,
        RECORD_INCIDENT,
        json!({"deploymentId": deployment, "title": "Errors", "severity": "SEV2",
        "openedAt": "2026-03-02T11:00:00Z"}),
    )
    .await;
    let i = &by_deployment["recordIncident"];
    assert_eq!(
        (
            i["program"]["key"].as_str(),
            i["release"]["version"].as_str()
        ),
        (Some("PAY"), Some("1.0"))
    );
    assert_eq!(i["deployment"]["id"], json!(deployment));
    assert_eq!(i["causedByChange"], true);
    let outage = rm(&app, RECORD_INCIDENT, json!({"programKey": "MOB", "title": "Provider outage", "severity": "SEV1",
        "causedByChange": false, "openedAt": "2026-03-02T11:00:00Z", "resolvedAt": "2026-03-02T12:00:00Z"})).await;
    assert_eq!(outage["recordIncident"]["release"], json!(null));

    let incident = |extra: Value| {
        let mut input =
            json!({"title": "x", "severity": "SEV4", "openedAt": "2026-03-02T11:00:00Z"});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "input": input })
    };
    for (extra, code) in [
        (json!({}), "BAD_USER_INPUT"),
        (
            json!({"releaseId": mob, "deploymentId": deployment}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"releaseId": id, "programKey": "MOB"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"programKey": "PAY", "resolvedAt": "2026-03-02T10:00:00Z"}),
            "BAD_USER_INPUT",
        ),
        (json!({"releaseId": deployment}), "BAD_USER_INPUT"),
        (json!({"programKey": "NOPE"}), "NOT_FOUND"),
    ] {
        app.refuses(
            Role::ReleaseManager,
            None,
            RECORD_INCIDENT,
            incident(extra),
            code,
        )
        .await;
    }
    // Another program's deployment is NOT_FOUND for a caller scoped away from it, even when
    // the ids also disagree: nothing may hint that it exists.
    app.refuses(
        Role::ReleaseManager,
        Some(&["MOB"]),
        RECORD_INCIDENT,
        incident(json!({"releaseId": mob, "deploymentId": deployment})),
        "NOT_FOUND",
    )
    .await;
    let id_of = by_deployment["recordIncident"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.refuses(
        Role::ReleaseManager,
        None,
        RESOLVE_INCIDENT,
        json!({"input": {"incidentId": id_of, "resolvedAt": "2026-03-02T10:00:00Z"}}),
        "BAD_USER_INPUT",
    )
    .await;
    rm(
        &app,
        RESOLVE_INCIDENT,
        json!({"incidentId": id_of, "resolvedAt": "2026-03-02T12:00:00Z"}),
    )
    .await;
    app.refuses(
        Role::ReleaseManager,
        None,
        RESOLVE_INCIDENT,
        json!({"input": {"incidentId": id_of, "resolvedAt": "2026-03-02T13:00:00Z"}}),
        "INVALID_TRANSITION",
    )
    .await;
}

#[tokio::test]
async fn roles_and_scopes_guard_every_mutation() {
    let app = world().await;
    let id = create(&app, "PAY", "1.0", json!({})).await;
    let release_input =
        json!({"input": {"programKey": "PAY", "version": "9.9", "name": "x", "type": "PATCH"}});
    for role in [Role::Viewer, Role::Analyst] {
        app.refuses(
            role,
            None,
            CREATE_RELEASE,
            release_input.clone(),
            "FORBIDDEN",
        )
        .await;
        app.refuses(
            role,
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "CANCELLED"}}),
            "FORBIDDEN",
        )
        .await;
    }
    for (mutation, input) in [
        (CREATE_PROGRAM, json!({"key": "NEW", "name": "x"})),
        (CREATE_ENVIRONMENT, json!({"name": "qa", "tier": "TESTING"})),
        (
            CREATE_FREEZE,
            json!({"name": "x", "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-02T00:00:00Z"}),
        ),
    ] {
        app.refuses(
            Role::ReleaseManager,
            None,
            mutation,
            json!({ "input": input }),
            "FORBIDDEN",
        )
        .await;
    }
    // A release manager of MOB cannot see PAY: NOT_FOUND, as if it did not exist.
    let mob_only = Some(&["MOB"][..]);
    app.refuses(
        Role::ReleaseManager,
        mob_only,
        TRANSITION,
        json!({"input": {"releaseId": id, "to": "CANCELLED"}}),
        "NOT_FOUND",
    )
    .await;
    app.refuses(
        Role::ReleaseManager,
        mob_only,
        CREATE_RELEASE,
        release_input.clone(),
        "NOT_FOUND",
    )
    .await;
    app.refuses(Role::ReleaseManager, mob_only, RECORD_INCIDENT, json!({"input": {"releaseId": id, "title": "x", "severity": "SEV4", "openedAt": "2026-03-02T11:00:00Z"}}), "NOT_FOUND").await;
    let response = app
        .run(
            None,
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "CANCELLED"}}),
        )
        .await;
    assert_eq!(crate::support::error_code(&response), "UNAUTHENTICATED");
    let scoped = app
        .run_as(
            Role::ReleaseManager,
            Some(&["PAY"]),
            TRANSITION,
            json!({"input": {"releaseId": id, "to": "CANCELLED"}}),
        )
        .await;
    assert_eq!(data(scoped)["transitionRelease"]["status"], "CANCELLED");
}

#[tokio::test]
async fn input_is_validated_and_names_the_field() {
    let app = world().await;
    let id = create(&app, "PAY", "1.0", json!({})).await;
    let long_name = "x".repeat(201);
    let long_text = "x".repeat(20_001);
    let cases = [
        (CREATE_PROGRAM, json!({"key": "pay", "name": "x"}), "key"),
        (CREATE_PROGRAM, json!({"key": "P", "name": "x"}), "key"),
        (
            CREATE_PROGRAM,
            json!({"key": "TOOLONGKEY1", "name": "x"}),
            "key",
        ),
        (CREATE_PROGRAM, json!({"key": "NEW", "name": "  "}), "name"),
        (
            CREATE_PROGRAM,
            json!({"key": "NEW", "name": long_name}),
            "name",
        ),
        (
            CREATE_PROGRAM,
            json!({"key": "NEW", "name": "x", "description": long_text}),
            "description",
        ),
        (
            CREATE_FREEZE,
            json!({"name": "x", "startsAt": "2030-01-02T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z"}),
            "endsAt",
        ),
        (
            CREATE_RELEASE,
            json!({"programKey": "PAY", "version": "", "name": "x", "type": "PATCH"}),
            "version",
        ),
        (
            CREATE_RELEASE,
            json!({"programKey": "PAY", "version": "2", "name": "x", "type": "PATCH", "teams": [""]}),
            "teams",
        ),
        (
            CREATE_RELEASE,
            json!({"programKey": "PAY", "version": "2", "name": "x", "type": "PATCH",
            "plannedStart": "2030-02-01T00:00:00Z", "plannedEnd": "2030-01-01T00:00:00Z"}),
            "plannedEnd",
        ),
        (
            UPDATE_RELEASE,
            json!({"releaseId": id, "expectedRevision": 1, "rollbackPlan": long_text}),
            "rollbackPlan",
        ),
        (
            ADD_ITEM,
            json!({"releaseId": id, "title": long_name, "kind": "FIX"}),
            "title",
        ),
        (
            RECORD_GATE,
            json!({"releaseId": id, "name": "scan", "kind": "SECURITY_SCAN", "status": "PASSED", "evidenceUrl": "ftp://files/x"}),
            "evidenceUrl",
        ),
        (
            RECORD_GATE,
            json!({"releaseId": id, "name": "scan", "kind": "SECURITY_SCAN", "status": "PASSED", "evidenceUrl": "not a url"}),
            "evidenceUrl",
        ),
        (
            RECORD_APPROVAL,
            json!({"releaseId": "bm90LWFuLWlk", "decision": "GO"}),
            "releaseId",
        ),
    ];
    for (mutation, input, field) in cases {
        let message = if mutation == CREATE_PROGRAM || mutation == CREATE_FREEZE {
            app.refuses(
                Role::Admin,
                None,
                mutation,
                json!({ "input": input }),
                "BAD_USER_INPUT",
            )
            .await
        } else {
            app.refuses(
                Role::ReleaseManager,
                None,
                mutation,
                json!({ "input": input }),
                "BAD_USER_INPUT",
            )
            .await
        };
        assert!(
            message.starts_with(&format!("{field}:")),
            "{message} should name {field}"
        );
    }
    // An id of another type is BAD_USER_INPUT too.
    let program_id = app
        .admin("{ program(key: \"PAY\") { id } }", json!({}))
        .await["program"]["id"]
        .clone();
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            ADD_ITEM,
            json!({"input": {"releaseId": program_id, "title": "x", "kind": "FIX"}}),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(message.starts_with("releaseId:"), "{message}");
}

#[tokio::test]
async fn duplicates_conflict() {
    let app = world().await;
    create(&app, "PAY", "1.0", json!({})).await;
    app.refuses(
        Role::Admin,
        None,
        CREATE_PROGRAM,
        json!({"input": {"key": "PAY", "name": "Again"}}),
        "CONFLICT",
    )
    .await;
    app.refuses(
        Role::Admin,
        None,
        CREATE_ENVIRONMENT,
        json!({"input": {"name": "prod-eu", "tier": "PRODUCTION"}}),
        "CONFLICT",
    )
    .await;
    app.refuses(
        Role::ReleaseManager,
        None,
        CREATE_RELEASE,
        json!({"input": {"programKey": "PAY", "version": "1.0", "name": "Again", "type": "PATCH"}}),
        "CONFLICT",
    )
    .await;
    // The same version in another program is another release.
    create(&app, "MOB", "1.0", json!({})).await;
}

#[tokio::test]
async fn update_needs_the_current_revision() {
    let app = world().await;
    let id = create(&app, "PAY", "1.0", json!({"description": "first"})).await;
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            UPDATE_RELEASE,
            json!({"input": {"releaseId": id, "expectedRevision": 7, "name": "x"}}),
            "CONFLICT",
        )
        .await;
    assert!(message.contains("revision 1"), "{message}");
    app.refuses(
        Role::ReleaseManager,
        None,
        TRANSITION,
        json!({"input": {"releaseId": id, "to": "CANCELLED", "expectedRevision": 3}}),
        "CONFLICT",
    )
    .await;
    let cleared = rm(
        &app,
        UPDATE_RELEASE,
        json!({"releaseId": id, "expectedRevision": 1, "description": null}),
    )
    .await;
    assert_eq!(cleared["updateRelease"]["description"], json!(null));
    rm(
        &app,
        TRANSITION,
        json!({"releaseId": id, "to": "CANCELLED", "expectedRevision": 2}),
    )
    .await;
}

#[tokio::test]
async fn of_concurrent_updates_exactly_one_wins() {
    let app = std::sync::Arc::new(world().await);
    let id = create(&app, "PAY", "1.0", json!({})).await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (app, id) = (app.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            app.run_as(Role::ReleaseManager, None, UPDATE_RELEASE,
                json!({"input": {"releaseId": id, "expectedRevision": 1, "name": format!("Writer {n}")}})).await
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        codes.push(
            response["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("OK")
                .to_owned(),
        );
        if let Some(message) = response["errors"][0]["message"].as_str() {
            assert!(message.contains("revision 2"), "{message}");
        }
    }
    codes.sort();
    assert_eq!(codes.iter().filter(|c| *c == "OK").count(), 1, "{codes:?}");
    assert!(
        codes.iter().all(|c| c == "OK" || c == "CONFLICT"),
        "{codes:?}"
    );
    let r = release(&app, &id).await;
    assert_eq!(r["revision"], 2);
    assert_eq!(r["events"]["totalCount"], 2);
}

#[tokio::test]
async fn concurrent_changes_to_one_release_all_count() {
    let app = std::sync::Arc::new(world().await);
    let id = create(&app, "PAY", "1.0", json!({})).await;
    let mut tasks = Vec::new();
    for n in 0..10 {
        let (app, id) = (app.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            app.run_as(
                Role::ReleaseManager,
                None,
                ADD_ITEM,
                json!({"input": {"releaseId": id, "title": format!("Item {n}"), "kind": "FIX"}}),
            )
            .await
        }));
    }
    for task in tasks {
        data(task.await.unwrap());
    }
    let r = release(&app, &id).await;
    assert_eq!(r["revision"], 11);
    assert_eq!(r["events"]["totalCount"], 11);
}
