//! `releases` filters and ordering.

use api::auth::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, strings};

async fn versions(app: &TestApp, args: &str) -> Vec<String> {
    let query = format!("{{ releases{args} {{ totalCount nodes {{ version }} }} }}");
    let data = app.admin(&query, json!({})).await;
    let versions = strings(&data["releases"]["nodes"], "version");
    assert_eq!(
        data["releases"]["totalCount"],
        json!(versions.len()),
        "totalCount of {args}"
    );
    versions
}

#[tokio::test]
async fn default_order_is_newest_first() {
    let (app, _) = TestApp::with_fixture().await;
    assert_eq!(
        versions(&app, "").await,
        ["5.1.0", "2026.3.0", "2026.2.0", "5.0.0", "2026.1.0"]
    );
}

#[tokio::test]
async fn orders_by_every_field_with_missing_planned_ends_last() {
    let (app, _) = TestApp::with_fixture().await;
    let cases: [(&str, &[&str]); 6] = [
        (
            "PLANNED_END, direction: ASC",
            &["2026.1.0", "2026.2.0", "5.0.0", "5.1.0", "2026.3.0"],
        ),
        (
            "PLANNED_END, direction: DESC",
            &["5.1.0", "5.0.0", "2026.2.0", "2026.1.0", "2026.3.0"],
        ),
        (
            "VERSION, direction: ASC",
            &["2026.1.0", "2026.2.0", "2026.3.0", "5.0.0", "5.1.0"],
        ),
        (
            "VERSION, direction: DESC",
            &["5.1.0", "5.0.0", "2026.3.0", "2026.2.0", "2026.1.0"],
        ),
        (
            "CREATED_AT, direction: ASC",
            &["2026.1.0", "5.0.0", "2026.2.0", "2026.3.0", "5.1.0"],
        ),
        (
            "UPDATED_AT, direction: DESC",
            &["5.1.0", "2026.3.0", "2026.2.0", "5.0.0", "2026.1.0"],
        ),
    ];
    for (order, expected) in cases {
        assert_eq!(
            versions(&app, &format!("(orderBy: {{ field: {order} }})")).await,
            expected,
            "{order}"
        );
    }
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let (app, _) = TestApp::with_fixture().await;
    let cases: [(&str, &[&str]); 14] = [
        ("statuses: [REVIEWED, APPROVED]", &["5.0.0", "2026.1.0"]),
        ("types: [EMERGENCY]", &["2026.2.0"]),
        ("programKeys: [\"MOB\"]", &["5.1.0", "5.0.0"]),
        ("programKeys: [\"PAY\"], statuses: [PLANNED]", &["2026.3.0"]),
        ("programKeys: [\"NOPE\"]", &[]),
        ("team: \"payments-core\"", &["2026.2.0", "2026.1.0"]),
        ("team: \"risk\"", &["2026.1.0"]),
        ("team: \"Brightlane QA\"", &[]),
        (
            "plannedFrom: \"2026-02-01T00:00:00Z\", plannedTo: \"2026-03-01T10:00:00Z\"",
            &["2026.2.0"],
        ),
        ("plannedFrom: \"2026-03-01T10:00:00Z\"", &["5.1.0", "5.0.0"]),
        ("search: \"REFUNDS\"", &["2026.1.0"]),
        ("search: \"summer\"", &["5.1.0"]),
        ("search: \"2026.2\"", &["2026.2.0"]),
        ("search: \"100%\"", &["2026.3.0"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            versions(&app, &format!("(filter: {{ {filter} }})")).await,
            expected,
            "{filter}"
        );
    }
}

#[tokio::test]
async fn search_treats_wildcards_literally() {
    let (app, _) = TestApp::with_fixture().await;
    assert_eq!(
        versions(&app, "(filter: { search: \"_flow\" })").await,
        ["2026.3.0"]
    );
    assert_eq!(
        versions(&app, "(filter: { search: \"a_p\" })").await,
        Vec::<String>::new()
    );
    assert_eq!(
        versions(&app, "(filter: { search: \"%\" })").await,
        ["2026.3.0"]
    );
}

#[tokio::test]
async fn a_programs_releases_take_the_same_filters() {
    let (app, _) = TestApp::with_fixture().await;
    let data: Value = app
        .admin(
            "{ program(key: \"PAY\") { releases(filter: { statuses: [DEPLOYING, PLANNED] }, orderBy: { field: VERSION, direction: ASC }) { totalCount nodes { version } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        strings(&data["program"]["releases"]["nodes"], "version"),
        ["2026.2.0", "2026.3.0"]
    );
    // The program's own list ignores other programs even when the filter names them.
    let data = app
        .admin("{ program(key: \"PAY\") { releases(filter: { programKeys: [\"MOB\"] }) { totalCount } } }", json!({}))
        .await;
    assert_eq!(data["program"]["releases"]["totalCount"], 0);
}

#[tokio::test]
async fn a_value_that_is_not_its_type_names_the_field_it_was_given_for() {
    let (app, _) = TestApp::with_fixture().await;
    let create = "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }";
    let input = json!({"i": {"programKey": "PAY", "version": "9.0", "name": "x", "type": "MINOR",
                             "plannedEnd": "2026-02-30T00:00:00Z"}});
    let message = app
        .refuses(Role::ReleaseManager, None, create, input, "BAD_USER_INPUT")
        .await;
    assert!(message.contains("input.plannedEnd"), "{message}");
    let literal = "mutation { createRelease(input: { programKey: \"PAY\", version: \"9.0\", name: \"x\", type: MINOR, plannedStart: \"yesterday\" }) { id } }";
    let message = app
        .refuses(
            Role::ReleaseManager,
            None,
            literal,
            json!({}),
            "BAD_USER_INPUT",
        )
        .await;
    assert!(message.contains("input.plannedStart"), "{message}");
}

#[tokio::test]
async fn a_mutation_answers_from_its_own_transaction() {
    let (app, f) = TestApp::with_fixture().await;
    let id = api::ids::encode(api::ids::NodeType::Release, f.mob_spring.id);
    let before = app.state.reads.statements();
    let answer = app
        .run_as(
            Role::ReleaseManager,
            None,
            "mutation($i: UpdateReleaseInput!) { updateRelease(input: $i) { revision name
               program { key } qualityGates { name status } approvals { decision }
               readiness { ready blockers } events(first: 100) { totalCount } } }",
            json!({"i": {"releaseId": id, "expectedRevision": f.mob_spring.revision, "name": "Spring"}}),
        )
        .await;
    let updated = &crate::support::data(answer)["updateRelease"];
    assert_eq!(updated["name"], "Spring");
    assert_eq!(updated["revision"], f.mob_spring.revision + 1);
    assert_eq!(updated["readiness"]["ready"], true);
    assert_eq!(
        app.state.reads.statements(),
        before,
        "every nested field read through the transaction that wrote"
    );
    // Committed by the time the answer left.
    let read = app
        .admin(
            "query($id: ID!) { node(id: $id) { ... on Release { name } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(read["node"]["name"], "Spring");
}

#[tokio::test]
async fn each_mutation_of_a_request_commits_with_its_own_answer() {
    let (app, _) = TestApp::with_fixture().await;
    let create = |alias: &str, name: &str| {
        format!(
            "{alias}: createRelease(input: {{ programKey: \"PAY\", version: \"9.0\", name: \"{name}\", type: MINOR }}) {{ version name }}"
        )
    };
    let mutation = format!(
        "mutation {{ {} {} }}",
        create("a", "first"),
        create("b", "second")
    );
    let answer = app
        .run_as(Role::ReleaseManager, None, &mutation, json!({}))
        .await;
    // b is refused on its own (the version is taken by a); a committed before b ran.
    assert_eq!(
        answer["errors"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["path"], json!(["b"]));
    assert_eq!(answer["errors"][0]["extensions"]["code"], "CONFLICT");
    let stored = app
        .admin(
            "{ release(programKey: \"PAY\", version: \"9.0\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(stored["release"]["name"], "first");
}
