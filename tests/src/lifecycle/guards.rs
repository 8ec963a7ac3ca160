//! What every mutation checks first: roles and scope, input, duplicates, revisions, concurrency.

use super::*;

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
