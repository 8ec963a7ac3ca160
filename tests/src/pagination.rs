//! Relay pagination: defaults, limits, cursors in both directions.

use api::auth::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, error_code, strings};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  releases(orderBy: { field: VERSION, direction: ASC }, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { version } }
    nodes { version }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

#[tokio::test]
async fn pages_forward_and_backward_with_cursors() {
    let (app, _) = TestApp::with_fixture().await;
    let first = app.admin(PAGE, json!({"first": 2})).await["releases"].clone();
    assert_eq!(
        strings(&first["nodes"], "version"),
        ["2026.1.0", "2026.2.0"]
    );
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(first["pageInfo"]["endCursor"], first["edges"][1]["cursor"]);

    let second = app
        .admin(
            PAGE,
            json!({"first": 2, "after": first["pageInfo"]["endCursor"]}),
        )
        .await["releases"]
        .clone();
    assert_eq!(strings(&second["nodes"], "version"), ["2026.3.0", "5.0.0"]);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);

    let last = app.admin(PAGE, json!({"last": 2})).await["releases"].clone();
    assert_eq!(strings(&last["nodes"], "version"), ["5.0.0", "5.1.0"]);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);

    let before = app
        .admin(
            PAGE,
            json!({"last": 2, "before": last["pageInfo"]["startCursor"]}),
        )
        .await["releases"]
        .clone();
    assert_eq!(
        strings(&before["nodes"], "version"),
        ["2026.2.0", "2026.3.0"]
    );

    let between = app
        .admin(
            PAGE,
            json!({"after": first["edges"][0]["cursor"], "before": last["edges"][1]["cursor"]}),
        )
        .await["releases"]
        .clone();
    assert_eq!(
        strings(&between["nodes"], "version"),
        ["2026.2.0", "2026.3.0", "5.0.0"]
    );
}

#[tokio::test]
async fn defaults_and_limits() {
    let app = TestApp::empty().await;
    let data = app.admin(PAGE, json!({})).await;
    assert_eq!(data["releases"]["totalCount"], 0);
    assert_eq!(data["releases"]["pageInfo"]["startCursor"], json!(null));

    let (app, _) = TestApp::with_fixture().await;
    let zero = app.admin(PAGE, json!({"first": 0})).await;
    assert_eq!(zero["releases"]["nodes"], json!([]));
    assert_eq!(zero["releases"]["totalCount"], 5);
    let hundred = app.admin(PAGE, json!({"first": 100})).await;
    assert_eq!(
        hundred["releases"]["nodes"].as_array().map(Vec::len),
        Some(5)
    );

    let token = app.token(Role::Viewer, None);
    for variables in [
        json!({"first": -1}),
        json!({"first": 101}),
        json!({"last": -3}),
        json!({"last": 1000}),
        json!({"after": "bm90LWEtY3Vyc29y"}),
        json!({"before": "!!"}),
        json!({"after": "cmVsbTpjdXJzb3I6LTE"}),
    ] {
        let response = app.run(Some(&token), PAGE, variables.clone()).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{variables}");
    }
}

#[tokio::test]
async fn twenty_by_default_across_programs_and_events() {
    let app = TestApp::empty().await;
    app.seed_demo().await;
    let data = app
        .admin("{ releases { nodes { id } pageInfo { hasNextPage } } programs { totalCount nodes { key } } }", json!({}))
        .await;
    assert_eq!(data["releases"]["nodes"].as_array().map(Vec::len), Some(20));
    assert_eq!(data["releases"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        strings(&data["programs"]["nodes"], "key"),
        ["DATA", "ERP", "MOB", "PAY", "TOOLS"]
    );
    let events = app
        .admin(
            "{ releases(first: 1, filter: { programKeys: [\"ERP\"], statuses: [REVIEWED] }) { nodes { revision events(first: 100) { totalCount nodes { kind at } } } } }",
            json!({}),
        )
        .await;
    let release = &events["releases"]["nodes"][0];
    // Every change bumped the revision and wrote one event.
    assert_eq!(release["revision"], release["events"]["totalCount"]);
    let times: Vec<_> = strings(&release["events"]["nodes"], "at")
        .iter()
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events in time order: {times:?}"
    );
}

/// Walks `releases` to the end, `first: 5` at a time, calling `between` after each page;
/// returns the versions in the order met.
async fn walk(
    app: &TestApp,
    arguments: &str,
    mut between: impl AsyncFnMut(&[Value]),
) -> Vec<String> {
    let query = format!(
        "query($after: String) {{ releases({arguments}, first: 5, after: $after) {{
           nodes {{ id version revision }} pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    let mut met = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app.admin(&query, json!({"after": after})).await["releases"].clone();
        let nodes = page["nodes"].as_array().cloned().unwrap_or_default();
        met.extend(strings(&page["nodes"], "version"));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return met;
        }
        between(&nodes).await;
        after = page["pageInfo"]["endCursor"].clone();
    }
}

async fn create(app: &TestApp, version: &str) {
    app.admin(
        "mutation($v: String!) { createRelease(input: { programKey: \"PAY\", version: $v, name: $v, type: MINOR }) { id } }",
        json!({"v": version}),
    )
    .await;
}

/// Between two page requests other writers insert releases, change ones already met (which
/// moves them to the front of UPDATED_AT order) and move them out of a status filter. With
/// offsets each of these shifts the rest of the list and a walk repeats or skips releases;
/// with keyset cursors every release that stayed put is met exactly once.
#[tokio::test]
async fn pages_stay_stable_under_concurrent_writes() {
    let app = TestApp::empty().await;
    app.admin(
        "mutation { createProgram(input: { key: \"PAY\", name: \"Payments\" }) { key } }",
        json!({}),
    )
    .await;
    let initial: Vec<String> = (0..23).map(|i| format!("1.{i:02}.0")).collect();
    for version in &initial {
        create(&app, version).await;
    }

    let mut inserted = 0;
    let met = walk(&app, "orderBy: { field: UPDATED_AT, direction: DESC }", async |page: &[Value]| {
        let seen = &page[0];
        app.admin(
            "mutation($i: UpdateReleaseInput!) { updateRelease(input: $i) { revision } }",
            json!({"i": {"releaseId": seen["id"], "expectedRevision": seen["revision"], "name": "renamed"}}),
        )
        .await;
        inserted += 1;
        create(&app, &format!("9.{inserted:02}.0")).await;
    })
    .await;
    let mut sorted = met.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), met.len(), "a release was met twice: {met:?}");
    for version in &initial {
        assert!(met.contains(version), "{version} was skipped: {met:?}");
    }

    let met = walk(
        &app,
        "filter: { statuses: [PLANNED] }, orderBy: { field: VERSION, direction: ASC }",
        async |page: &[Value]| {
            for seen in page.iter().take(2) {
                app.admin(
                    "mutation($i: TransitionReleaseInput!) { transitionRelease(input: $i) { status } }",
                    json!({"i": {"releaseId": seen["id"], "to": "CANCELLED", "note": "dropped"}}),
                )
                .await;
            }
        },
    )
    .await;
    let mut expected: Vec<String> = initial.clone();
    expected.extend((1..=inserted).map(|i| format!("9.{i:02}.0")));
    expected.sort();
    assert_eq!(met, expected, "every PLANNED release once, in order");
}

#[tokio::test]
async fn a_cursor_only_pages_the_ordering_it_came_from() {
    let (app, _) = TestApp::with_fixture().await;
    let first = app.admin(PAGE, json!({"first": 2})).await["releases"].clone();
    let token = app.token(Role::Viewer, None);
    let response = app
        .run(
            Some(&token),
            "query($after: String) { releases(first: 2, after: $after) { totalCount } }",
            json!({"after": first["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
}

/// A forged cursor of the right ordering but with a key of another type is refused as
/// input, never sent to the database (PostgreSQL cannot compare a number column with text).
#[tokio::test]
async fn a_forged_cursor_with_a_key_of_another_type_is_bad_input() {
    use base64::Engine;

    let (app, _) = TestApp::with_fixture().await;
    let forge = |json: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("relm:cursor:{json}"))
    };
    let token = app.token(Role::Viewer, None);
    for cursor in [
        forge(r#"{"order":"CREATED_AT_DESC","key":"2026","id":1}"#),
        forge(r#"{"order":"CREATED_AT_DESC","key":null,"id":1}"#),
    ] {
        let response = app
            .run(
                Some(&token),
                "query($after: String) { releases(after: $after) { totalCount } }",
                json!({"after": cursor}),
            )
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    }
    let versions = forge(r#"{"order":"VERSION_ASC","key":7,"id":1}"#);
    let response = app
        .run(Some(&token), PAGE, json!({"after": versions}))
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
}
