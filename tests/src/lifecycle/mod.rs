//! The release lifecycle of lifecycle.md, through the mutations: every rule, every error
//! code, and for every failure the check that nothing changed and no event was written.

mod dependencies;
mod deployments;
mod guards;
mod incidents;
mod review;
mod transitions;

pub(super) use api::auth::Role;
pub(super) use serde_json::{Value, json};

pub(super) use crate::support::{TestApp, data, strings};

pub(super) const CREATE_PROGRAM: &str =
    "mutation($input: CreateProgramInput!) { createProgram(input: $input) { id key name } }";
pub(super) const CREATE_ENVIRONMENT: &str = "mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { id name tier } }";
pub(super) const CREATE_FREEZE: &str = "mutation($input: CreateFreezeWindowInput!) { createFreezeWindow(input: $input) { id name program { key } } }";
pub(super) const CREATE_RELEASE: &str = "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id version status revision risk strategy teams suppliers plannedEnd } }";
pub(super) const UPDATE_RELEASE: &str = "mutation($input: UpdateReleaseInput!) { updateRelease(input: $input) { id revision name description plannedEnd teams rollbackPlan } }";
pub(super) const TRANSITION: &str = "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { status revision } }";
pub(super) const ADD_ITEM: &str =
    "mutation($input: AddReleaseItemInput!) { addReleaseItem(input: $input) { id title kind } }";
pub(super) const RECORD_GATE: &str = "mutation($input: RecordQualityGateInput!) { recordQualityGate(input: $input) { name status attempts checkedBy required evidenceUrl } }";
pub(super) const RECORD_APPROVAL: &str = "mutation($input: RecordApprovalInput!) { recordApproval(input: $input) { approver decision } }";
pub(super) const RECORD_DEPLOYMENT: &str = "mutation($input: RecordDeploymentInput!) { recordDeployment(input: $input) { id status strategy isRollback release { status deployedAt } } }";
pub(super) const COMPLETE_DEPLOYMENT: &str = "mutation($input: CompleteDeploymentInput!) { completeDeployment(input: $input) { status finishedAt release { status deployedAt } } }";
pub(super) const ROLLBACK: &str = "mutation($input: RollbackReleaseInput!) { rollbackRelease(input: $input) { status deployedAt deployments { status isRollback environment { name } } } }";
pub(super) const RECORD_INCIDENT: &str = "mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id program { key } release { version } deployment { id } causedByChange resolvedAt } }";
pub(super) const RESOLVE_INCIDENT: &str =
    "mutation($input: ResolveIncidentInput!) { resolveIncident(input: $input) { resolvedAt } }";
pub(super) const RECORD_OUTCOME: &str = "mutation($input: RecordOutcomeInput!) { recordOutcome(input: $input) { result reviewedBy defectsEscaped } }";
pub(super) const ADD_ACTION: &str = "mutation($input: AddImprovementActionInput!) { addImprovementAction(input: $input) { id status closedAt } }";
pub(super) const UPDATE_ACTION: &str = "mutation($input: UpdateImprovementActionInput!) { updateImprovementAction(input: $input) { status closedAt owner dueDate } }";
pub(super) const RELEASE: &str = "query($id: ID!) { node(id: $id) { ... on Release { status revision deployedAt events(first: 100) { totalCount nodes { kind actor fromStatus toStatus note } } } } }";

/// Two programs, staging and one production environment.
pub(super) async fn world() -> TestApp {
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
pub(super) async fn rm(app: &TestApp, query: &str, input: Value) -> Value {
    data(
        app.run_as(Role::ReleaseManager, None, query, json!({ "input": input }))
            .await,
    )
}

pub(super) async fn create(app: &TestApp, program: &str, version: &str, extra: Value) -> String {
    let mut input = json!({"programKey": program, "version": version, "name": format!("Release {version}"), "type": "MINOR"});
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    rm(app, CREATE_RELEASE, input).await["createRelease"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(super) async fn release(app: &TestApp, id: &str) -> Value {
    app.admin(RELEASE, json!({"id": id})).await["node"].clone()
}

pub(super) async fn move_to(app: &TestApp, id: &str, to: &str) {
    rm(app, TRANSITION, json!({"releaseId": id, "to": to})).await;
}

/// A release made ready for approval: planned, gated, approved, with a rollback plan.
pub(super) async fn ready_release(
    app: &TestApp,
    program: &str,
    version: &str,
    extra: Value,
) -> String {
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

pub(super) async fn approved(app: &TestApp, program: &str, version: &str) -> String {
    let id = ready_release(app, program, version, json!({})).await;
    move_to(app, &id, "APPROVED").await;
    id
}

pub(super) async fn deployed(app: &TestApp, program: &str, version: &str) -> String {
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
