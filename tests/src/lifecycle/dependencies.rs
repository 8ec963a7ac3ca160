//! Release dependencies and schedule conflicts (communication.md): what a dependency blocks,
//! what is refused, how hidden releases stay hidden, and each kind of conflict.

use super::*;

const ADD: &str = "mutation($input: AddReleaseDependencyInput!) { addReleaseDependency(input: $input) { version revision } }";
const REMOVE: &str = "mutation($input: RemoveReleaseDependencyInput!) { removeReleaseDependency(input: $input) { version revision } }";
const LINKS: &str = "query($id: ID!) { node(id: $id) { ... on Release { hiddenDependencies readiness { ready blockers } \
     dependsOn { release { version } dependsOn { version } note } dependents { release { version } dependsOn { version } } } } }";
const CONFLICTS: &str = "query($from: DateTime!, $to: DateTime!, $max: Int, $keys: [String!]) { scheduleConflicts(from: $from, to: $to, maxReleasesPerDay: $max, programKeys: $keys) { kind release { version } other { version } freezeWindow { name } message } }";

async fn links(app: &TestApp, programs: Option<&[&str]>, id: &str) -> Value {
    let response = app
        .run_as(Role::Viewer, programs, LINKS, json!({"id": id}))
        .await;
    data(response)["node"].clone()
}

fn pair(release: &str, depends_on: &str) -> Value {
    json!({"releaseId": release, "dependsOnId": depends_on})
}

#[tokio::test]
async fn an_open_dependency_blocks_approval_deploying_and_production_until_it_is_met() {
    let app = world().await;
    let pay = approved(&app, "PAY", "1.0").await;
    let shipped = deployed(&app, "MOB", "1.0").await;
    let planned = create(&app, "MOB", "2.0", json!({})).await;
    let waiting = ready_release(&app, "PAY", "1.1", json!({})).await;

    let mut input = pair(&pay, &shipped);
    input["note"] = json!("needs the new API");
    let added = rm(&app, ADD, input).await;
    assert_eq!(added["addReleaseDependency"]["version"], "1.0");
    rm(&app, ADD, pair(&pay, &planned)).await;
    rm(&app, ADD, pair(&waiting, &planned)).await;

    let node = links(&app, None, &pay).await;
    assert_eq!(node["hiddenDependencies"], 0);
    assert_eq!(
        node["dependsOn"],
        json!([
            {"release": {"version": "1.0"}, "dependsOn": {"version": "1.0"}, "note": "needs the new API"},
            {"release": {"version": "1.0"}, "dependsOn": {"version": "2.0"}, "note": null},
        ])
    );
    let node = links(&app, None, &planned).await;
    assert_eq!(strings(&node["dependents"], "release").len(), 2);
    assert_eq!(node["dependents"][1]["release"]["version"], "1.1", "{node}");

    // Only the dependency not met blocks: MOB 1.0 is in production.
    let waiting_node = links(&app, None, &waiting).await;
    assert_eq!(
        waiting_node["readiness"],
        json!({"ready": false, "blockers": ["depends on MOB 2.0 (PLANNED)"]})
    );
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": waiting, "to": "APPROVED"}}),
            "GATES_NOT_PASSED",
        )
        .await;
    assert!(
        message.contains("depends on MOB 2.0 (PLANNED)"),
        "{message}"
    );
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            TRANSITION,
            json!({"input": {"releaseId": pay, "to": "DEPLOYING"}}),
            "INVALID_TRANSITION",
        )
        .await;
    assert_eq!(
        message,
        "the release depends on releases not yet in production: MOB 2.0 (PLANNED)"
    );
    let production = json!({"input": {"releaseId": pay, "environment": "prod-eu", "status": "IN_PROGRESS", "startedAt": "2026-03-02T10:00:00Z"}});
    app.refuses(
        Role::ReleaseManager,
        None,
        RECORD_DEPLOYMENT,
        production.clone(),
        "INVALID_TRANSITION",
    )
    .await;
    // Staging is not production.
    rm(
        &app,
        RECORD_DEPLOYMENT,
        json!({"releaseId": pay, "environment": "staging", "status": "SUCCEEDED", "startedAt": "2026-03-01T10:00:00Z", "finishedAt": "2026-03-01T10:10:00Z"}),
    )
    .await;

    let removed = rm(&app, REMOVE, pair(&pay, &planned)).await;
    assert_eq!(removed["removeReleaseDependency"]["version"], "1.0");
    rm(
        &app,
        TRANSITION,
        json!({"releaseId": pay, "to": "DEPLOYING"}),
    )
    .await;
    let events = release(&app, &pay).await["events"]["nodes"].clone();
    let notes: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "DEPENDENCY_CHANGED")
        .map(|e| e["note"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        notes,
        [
            format!("added {shipped}: needs the new API"),
            format!("added {planned}"),
            format!("removed {planned}"),
        ]
    );
}

#[tokio::test]
async fn self_repeats_cycles_cancelled_and_read_only_releases_are_refused_unchanged() {
    let app = world().await;
    let a = create(&app, "PAY", "1.0", json!({})).await;
    let b = create(&app, "MOB", "2.0", json!({})).await;
    let c = create(&app, "MOB", "3.0", json!({})).await;
    rm(&app, ADD, pair(&a, &b)).await;
    rm(&app, ADD, pair(&b, &c)).await;
    let refuse = |input: Value, code: &'static str| {
        let app = &app;
        async move {
            app.refuses(
                Role::ReleaseManager,
                None,
                ADD,
                json!({ "input": input }),
                code,
            )
            .await
        }
    };
    assert!(
        refuse(pair(&a, &a), "BAD_USER_INPUT")
            .await
            .contains("cannot depend on itself")
    );
    assert!(
        refuse(pair(&a, &b), "BAD_USER_INPUT")
            .await
            .contains("already depends on MOB 2.0")
    );
    assert!(
        refuse(pair(&c, &a), "BAD_USER_INPUT")
            .await
            .contains("this would close a cycle: MOB 3.0 → PAY 1.0 → MOB 2.0 → MOB 3.0")
    );
    let mut stale = pair(&c, &a);
    stale["expectedRevision"] = json!(99);
    refuse(stale, "CONFLICT").await;

    let cancelled = create(&app, "PAY", "0.9", json!({})).await;
    move_to(&app, &cancelled, "CANCELLED").await;
    assert!(
        refuse(pair(&a, &cancelled), "BAD_USER_INPUT")
            .await
            .contains("PAY 0.9 is CANCELLED")
    );
    refuse(pair(&cancelled, &a), "INVALID_TRANSITION").await;
    app.refuses(
        Role::ReleaseManager,
        None,
        REMOVE,
        json!({"input": pair(&a, &c)}),
        "NOT_FOUND",
    )
    .await;
    app.refuses(
        Role::Viewer,
        None,
        ADD,
        json!({"input": pair(&c, &b)}),
        "FORBIDDEN",
    )
    .await;
}

#[tokio::test]
async fn releases_of_other_programs_stay_hidden_in_lists_blockers_and_cycles() {
    let app = world().await;
    let pay = create(&app, "PAY", "1.0", json!({})).await;
    let pay_next = create(&app, "PAY", "1.1", json!({})).await;
    let mob = create(&app, "MOB", "2.0", json!({})).await;
    let pay_only = Some(&["PAY"][..]);
    // A PAY manager cannot name a MOB release: it does not exist for them.
    app.refuses(
        Role::ReleaseManager,
        pay_only,
        ADD,
        json!({"input": pair(&pay, &mob)}),
        "NOT_FOUND",
    )
    .await;
    rm(&app, ADD, pair(&pay, &mob)).await;
    rm(&app, ADD, pair(&mob, &pay_next)).await;

    let node = links(&app, pay_only, &pay).await;
    assert_eq!(node["dependsOn"], json!([]));
    assert_eq!(node["hiddenDependencies"], 1);
    assert!(
        node["readiness"]["blockers"]
            .as_array()
            .unwrap()
            .contains(&json!("depends on a release you cannot see")),
        "{node}"
    );
    assert_eq!(
        links(&app, pay_only, &pay_next).await["dependents"],
        json!([])
    );
    let message = app
        .refuses(
            Role::ReleaseManager,
            pay_only,
            ADD,
            json!({"input": pair(&pay_next, &pay)}),
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(
        message,
        "dependsOnId: this would close a cycle: PAY 1.1 → PAY 1.0 → a release you cannot see → PAY 1.1"
    );
}

#[tokio::test]
async fn conflicts_name_freezes_dependency_order_overdue_releases_and_crowded_days() {
    let app = world().await;
    app.admin(
        CREATE_FREEZE,
        json!({"input": {"name": "June freeze", "programKey": "PAY", "startsAt": "2030-06-14T00:00:00Z", "endsAt": "2030-06-16T00:00:00Z"}}),
    )
    .await;
    let end = |day: &str| json!({"plannedEnd": format!("2030-06-{day}T10:00:00Z")});
    let frozen = create(&app, "PAY", "1.0", end("15")).await;
    let mut emergency = end("15");
    emergency["type"] = json!("EMERGENCY");
    create(&app, "PAY", "1.1", emergency).await;
    let early = create(&app, "MOB", "2.0", end("10")).await;
    let late = create(&app, "MOB", "2.1", end("20")).await;
    create(&app, "MOB", "2.2", end("20")).await;
    create(
        &app,
        "MOB",
        "0.1",
        json!({"plannedEnd": "2030-07-01T10:00:00Z"}),
    )
    .await;
    rm(&app, ADD, pair(&early, &late)).await;
    let _ = frozen;

    let window = json!({"from": "2030-06-01T00:00:00Z", "to": "2030-07-01T00:00:00Z", "max": 1});
    let found = app.admin(CONFLICTS, window.clone()).await["scheduleConflicts"].clone();
    assert_eq!(
        found,
        json!([
            {"kind": "DEPENDENCY_ORDER", "release": {"version": "2.0"}, "other": {"version": "2.1"}, "freezeWindow": null,
             "message": "MOB 2.0 is planned to end before MOB 2.1, which it depends on"},
            {"kind": "FREEZE", "release": {"version": "1.0"}, "other": null, "freezeWindow": {"name": "June freeze"},
             "message": "PAY 1.0 is planned to end at 2030-06-15T10:00:00Z, in freeze window 'June freeze'"},
            {"kind": "CROWDED_DAY", "release": {"version": "1.0"}, "other": null, "freezeWindow": null,
             "message": "2 releases of PAY are planned to end on 2030-06-15, more than 1"},
            {"kind": "CROWDED_DAY", "release": {"version": "1.1"}, "other": null, "freezeWindow": null,
             "message": "2 releases of PAY are planned to end on 2030-06-15, more than 1"},
            {"kind": "CROWDED_DAY", "release": {"version": "2.1"}, "other": null, "freezeWindow": null,
             "message": "2 releases of MOB are planned to end on 2030-06-20, more than 1"},
            {"kind": "CROWDED_DAY", "release": {"version": "2.2"}, "other": null, "freezeWindow": null,
             "message": "2 releases of MOB are planned to end on 2030-06-20, more than 1"},
        ])
    );
    // The default allows five a day; a PAY viewer sees PAY's problems only.
    let mut pay_view = window.clone();
    pay_view["max"] = Value::Null;
    let pay_only = app
        .run_as(Role::Viewer, Some(&["PAY"]), CONFLICTS, pay_view)
        .await;
    let kinds = strings(&data(pay_only)["scheduleConflicts"], "kind");
    assert_eq!(kinds, ["FREEZE"]);

    let past = create(
        &app,
        "PAY",
        "0.5",
        json!({"plannedEnd": "2021-03-01T10:00:00Z"}),
    )
    .await;
    let _ = past;
    let old = json!({"from": "2021-01-01T00:00:00Z", "to": "2021-12-31T00:00:00Z"});
    let found = app.admin(CONFLICTS, old).await["scheduleConflicts"].clone();
    assert_eq!(found[0]["kind"], "OVERDUE");
    assert_eq!(
        found[0]["message"],
        "PAY 0.5 was planned to end at 2021-03-01T10:00:00Z"
    );

    for (variables, field) in [
        (
            json!({"from": "2030-01-01T00:00:00Z", "to": "2031-01-03T00:00:00Z"}),
            "to",
        ),
        (
            json!({"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}),
            "to",
        ),
        (
            json!({"from": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:00:00Z", "max": 0}),
            "maxReleasesPerDay",
        ),
    ] {
        let response = app
            .run_as(Role::Admin, None, CONFLICTS, variables.clone())
            .await;
        assert_eq!(
            crate::support::error_code(&response),
            "BAD_USER_INPUT",
            "{variables}"
        );
        let message = response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.starts_with(field), "{message}");
    }
}
