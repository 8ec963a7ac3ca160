//! Incidents and what they are attributed to.

use super::*;

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
async fn an_incident_moved_to_another_release_tells_both_once() {
    let app = world().await;
    let first = deployed(&app, "PAY", "1.0").await;
    let second = deployed(&app, "PAY", "2.0").await;
    let deployment_of = |id: String| {
        let app = &app;
        async move {
            app.admin(
                "query($id: ID!) { node(id: $id) { ... on Release { deployments { id } } } }",
                json!({"id": id}),
            )
            .await["node"]["deployments"][0]["id"]
                .clone()
        }
    };
    let (from, to) = (
        deployment_of(first.clone()).await,
        deployment_of(second.clone()).await,
    );
    let recorded = rm(
        &app,
        RECORD_INCIDENT,
        json!({"deploymentId": from, "title": "Errors", "severity": "SEV2",
               "openedAt": "2026-03-02T11:00:00Z"}),
    )
    .await;
    let before = (release(&app, &first).await, release(&app, &second).await);
    let moved = rm(
        &app,
        "mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { release { version } deployment { id } } }",
        json!({"incidentId": recorded["recordIncident"]["id"], "deploymentId": to, "severity": "SEV1"}),
    )
    .await;
    assert_eq!(moved["updateIncident"]["release"]["version"], "2.0");
    let after = (release(&app, &first).await, release(&app, &second).await);
    for (before, after) in [(&before.0, &after.0), (&before.1, &after.1)] {
        let revision = |r: &Value| r["revision"].as_i64().unwrap();
        assert_eq!(
            revision(after),
            revision(before) + 1,
            "one lock, one revision"
        );
        let events = |r: &Value| r["events"]["totalCount"].as_i64().unwrap();
        assert_eq!(events(after), events(before) + 1, "one event each");
        let updates: Vec<&Value> = after["events"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "INCIDENT_UPDATED")
            .collect();
        assert_eq!(updates.len(), 1, "{after}");
        assert_eq!(updates[0]["note"], "changed severity, deployment");
    }
    // Moved within its own release, it touches that one release once.
    let again = rm(
        &app,
        "mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { release { version } } }",
        json!({"incidentId": recorded["recordIncident"]["id"], "deploymentId": to}),
    )
    .await;
    assert_eq!(again["updateIncident"]["release"]["version"], "2.0");
    let last = release(&app, &second).await;
    assert_eq!(
        last["revision"].as_i64(),
        Some(after.1["revision"].as_i64().unwrap() + 1)
    );
}
