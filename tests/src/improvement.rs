//! Continuous improvement: benchmark editions an ADMIN defines, improvement actions with a
//! target and the impact relm reads from the figures around them, and the incident list.

use api::auth::Role;
use entity::admin_event::{self, AdminAction};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::metrics::{Plan, approved, deploy, rm};
use crate::support::{TestApp, data, error_code, run_in, strings, token};

const DEFINE: &str = "mutation($input: DefineBenchmarkInput!) { defineBenchmark(input: $input) {
  name builtIn deploymentFrequency { elite high medium } leadTime { elite high medium }
  changeFailureRate { elite high medium } timeToRestore { elite high medium } } }";

fn edition(name: &str) -> Value {
    json!({"name": name, "deploymentFrequency": {"elite": 2, "high": 0.5, "medium": 0.1},
        "leadTime": {"elite": 12, "high": 96, "medium": 500}, "changeFailureRate": {"elite": 0.02, "high": 0.1, "medium": 0.2},
        "timeToRestore": {"elite": 0.5, "high": 8, "medium": 72}})
}

async fn names(app: &TestApp) -> Vec<String> {
    strings(
        &app.admin("{ benchmarks { name } }", json!({})).await["benchmarks"],
        "name",
    )
}

#[tokio::test]
async fn benchmarks_list_the_built_in_editions_first_then_by_name() {
    let app = TestApp::empty().await;
    let listed = app
        .run_as(Role::Viewer, None, "{ benchmarks { name builtIn changeFailureRate { elite high medium } timeToRestore { medium } } }", json!({}))
        .await;
    let listed = &data(listed)["benchmarks"];
    assert_eq!(
        strings(listed, "name"),
        ["DORA_2021", "DORA_2023", "DORA_2024"]
    );
    assert_eq!(
        listed[0]["changeFailureRate"],
        json!({"elite": 0.15, "high": 0.3, "medium": 0.3})
    );
    assert_eq!(listed[2]["timeToRestore"]["medium"], 24.0);
    for name in ["ZED", "ACME"] {
        app.admin(DEFINE, json!({"input": edition(name)})).await;
    }
    assert_eq!(
        names(&app).await,
        ["DORA_2021", "DORA_2023", "DORA_2024", "ACME", "ZED"]
    );
}

#[tokio::test]
async fn define_benchmark_checks_the_caller_the_name_and_the_order_of_thresholds() {
    let app = TestApp::empty().await;
    app.admin(
        "mutation { createProgram(input: {key: \"PAY\", name: \"Payments\"}) { key } }",
        json!({}),
    )
    .await;
    for (role, programs) in [
        (Role::ReleaseManager, None),
        (Role::Analyst, None),
        (Role::Admin, Some(&["PAY"][..])),
    ] {
        let response = app
            .run_as(role, programs, DEFINE, json!({"input": edition("ACME")}))
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{role:?} {programs:?}");
    }
    let mut refused: Vec<(Value, &str)> = ["AB", "acme", "ACME-1", &"A".repeat(41), "DORA_2023"]
        .into_iter()
        .map(|name| (edition(name), "name"))
        .collect();
    for (metric, thresholds) in [
        (
            "deploymentFrequency",
            json!({"elite": 0.1, "high": 0.5, "medium": 0.01}),
        ),
        ("leadTime", json!({"elite": 12, "high": 6, "medium": 500})),
        ("leadTime", json!({"elite": 0, "high": 6, "medium": 500})),
        (
            "changeFailureRate",
            json!({"elite": 0.1, "high": 0.5, "medium": 1.5}),
        ),
        (
            "timeToRestore",
            json!({"elite": -1, "high": 8, "medium": 72}),
        ),
        (
            "timeToRestore",
            json!({"elite": 1, "high": 8, "medium": 7.9}),
        ),
    ] {
        let mut input = edition("ACME");
        input[metric] = thresholds;
        refused.push((input, metric));
    }
    for (input, field) in refused {
        let response = app
            .run_as(Role::Admin, None, DEFINE, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{input}");
        let message = response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field}:")),
            "{message} for {input}"
        );
    }
    assert_eq!(
        names(&app).await.len(),
        3,
        "a refused definition stores nothing"
    );
    let audited = admin_event::Entity::find()
        .filter(admin_event::Column::Action.eq(AdminAction::BenchmarkDefined))
        .all(&app.db)
        .await
        .unwrap();
    assert!(audited.is_empty());

    // Equal thresholds are allowed: the order is non-strict.
    let mut flat = edition("ACME");
    flat["leadTime"] = json!({"elite": 24, "high": 24, "medium": 24});
    let defined = app.admin(DEFINE, json!({ "input": flat })).await;
    assert_eq!(
        defined["defineBenchmark"]["leadTime"],
        json!({"elite": 24.0, "high": 24.0, "medium": 24.0})
    );
    assert_eq!(defined["defineBenchmark"]["builtIn"], false);
    // Defining it again replaces it, and each definition is audited.
    let replaced = app.admin(DEFINE, json!({"input": edition("ACME")})).await;
    assert_eq!(replaced["defineBenchmark"]["leadTime"]["elite"], 12.0);
    assert_eq!(
        names(&app).await,
        ["DORA_2021", "DORA_2023", "DORA_2024", "ACME"]
    );
    let audited = admin_event::Entity::find()
        .filter(admin_event::Column::Action.eq(AdminAction::BenchmarkDefined))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
    assert_eq!(
        (audited[1].subject.as_str(), audited[1].actor.as_str()),
        ("ACME", "tester")
    );
    assert!(
        audited[1].detail.contains("\"leadTime\":{\"elite\":12.0"),
        "{}",
        audited[1].detail
    );
}

#[tokio::test]
async fn a_defined_edition_reaches_every_process_at_once() {
    let app = TestApp::empty().await;
    let other = app.another_process();
    let viewer = token(Role::Viewer, None);
    let metrics = "query($name: String) { metrics(filter: {from: \"2026-03-01T00:00:00Z\", to: \"2026-04-01T00:00:00Z\", benchmark: $name}) { benchmark { name leadTime { elite } } } }";
    // The other process has loaded its store before the edition exists.
    let before = run_in(&other, Some(&viewer), metrics, json!({"name": "ACME"})).await;
    assert_eq!(error_code(&before), "BAD_USER_INPUT");
    app.admin(DEFINE, json!({"input": edition("ACME")})).await;
    let after = data(run_in(&other, Some(&viewer), metrics, json!({"name": "ACME"})).await);
    assert_eq!(
        after["metrics"]["benchmark"],
        json!({"name": "ACME", "leadTime": {"elite": 12.0}})
    );
    let mut changed = edition("ACME");
    changed["leadTime"]["elite"] = json!(6);
    app.admin(DEFINE, json!({ "input": changed })).await;
    let again = data(run_in(&other, Some(&viewer), metrics, json!({"name": "ACME"})).await);
    assert_eq!(again["metrics"]["benchmark"]["leadTime"]["elite"], 6.0);
}

const ACTION_FIELDS: &str = "id status target effectiveAt closedAt";
const IMPACT: &str = "metric effectiveAt windowDays partial change relativeChange low high verdict baselineChange netChange
  before { from to value observations } after { from to value observations }";

/// Ten commits an hour apart from `first`, deployed to production at `deployed`.
fn commits(first: &str) -> Vec<String> {
    let start = chrono::DateTime::parse_from_rfc3339(first).unwrap();
    (0..10)
        .map(|h| {
            (start + chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .collect()
}

async fn shipped(
    app: &TestApp,
    program: &str,
    version: &str,
    first_commit: &str,
    deployed: &str,
) -> String {
    let commits = commits(first_commit);
    let commits: Vec<&str> = commits.iter().map(String::as_str).collect();
    let id = approved(
        app,
        Plan {
            program,
            version,
            planned_end: deployed,
            commits: &commits,
            gates: &["PASSED"],
            checked: first_commit,
            teams: &[],
        },
    )
    .await;
    deploy(app, &id, "SUCCEEDED", deployed, deployed).await;
    id
}

/// PAY's lead times fall from 111–120 h (deployed 6 March) to 15–24 h (21 March); MOB's
/// rise from 39–48 h (3 March) to 87–96 h (24 March). PAY 1.0 is reviewed, with actions.
pub(crate) async fn lead_times() -> (TestApp, String) {
    let app = TestApp::empty().await;
    for key in ["PAY", "MOB"] {
        app.admin(
            "mutation($input: CreateProgramInput!) { createProgram(input: $input) { key } }",
            json!({"input": {"key": key, "name": key}}),
        )
        .await;
    }
    app.admin(
        "mutation { createEnvironment(input: {name: \"prod-eu\", tier: PRODUCTION}) { name } }",
        json!({}),
    )
    .await;
    let pay = shipped(
        &app,
        "PAY",
        "1.0",
        "2026-03-01T00:00:00Z",
        "2026-03-06T00:00:00Z",
    )
    .await;
    shipped(
        &app,
        "PAY",
        "2.0",
        "2026-03-20T00:00:00Z",
        "2026-03-21T00:00:00Z",
    )
    .await;
    let mob = shipped(
        &app,
        "MOB",
        "5.0",
        "2026-03-01T00:00:00Z",
        "2026-03-03T00:00:00Z",
    )
    .await;
    shipped(
        &app,
        "MOB",
        "6.0",
        "2026-03-20T00:00:00Z",
        "2026-03-24T00:00:00Z",
    )
    .await;
    for release in [&pay, &mob] {
        rm(&app, "mutation($input: RecordOutcomeInput!) { recordOutcome(input: $input) { result } }",
            json!({"releaseId": release, "result": "SUCCESSFUL", "objectivesMet": true, "summary": "Fine", "reviewedAt": "2026-03-07T00:00:00Z"})).await;
    }
    (app, pay)
}

pub(crate) async fn add_action(app: &TestApp, release: &str, extra: Value) -> Value {
    let mut input = json!({"releaseId": release, "title": "Trunk-based development"});
    for (key, value) in extra.as_object().into_iter().flatten() {
        input[key] = value.clone();
    }
    rm(app, &format!("mutation($input: AddImprovementActionInput!) {{ addImprovementAction(input: $input) {{ {ACTION_FIELDS} }} }}"), input)
        .await["addImprovementAction"]
        .clone()
}

async fn update_action(app: &TestApp, input: Value) -> Value {
    rm(app, &format!("mutation($input: UpdateImprovementActionInput!) {{ updateImprovementAction(input: $input) {{ {ACTION_FIELDS} }} }}"), input)
        .await["updateImprovementAction"]
        .clone()
}

async fn impact_as(
    app: &TestApp,
    role: Role,
    programs: Option<&[&str]>,
    action: &Value,
    days: Value,
) -> Value {
    app.run_as(
        role,
        programs,
        &format!("query($id: ID!, $days: Int) {{ node(id: $id) {{ ... on ImprovementAction {{ impact(windowDays: $days) {{ {IMPACT} }} }} }} }}"),
        json!({"id": action["id"], "days": days}),
    )
    .await
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

#[tokio::test]
async fn target_and_effective_at_are_set_cleared_and_audited() {
    let (app, pay) = lead_times().await;
    let action = add_action(
        &app,
        &pay,
        json!({"target": "LEAD_TIME", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        (action["target"].as_str(), action["effectiveAt"].as_str()),
        (Some("LEAD_TIME"), Some("2026-03-15T00:00:00Z"))
    );
    let plain = add_action(&app, &pay, json!({})).await;
    assert_eq!(
        (plain["target"].clone(), plain["effectiveAt"].clone()),
        (Value::Null, Value::Null)
    );

    // Left out stays; null clears; effectiveAt falls back to closedAt once DONE.
    let kept = update_action(
        &app,
        json!({"actionId": action["id"], "status": "IN_PROGRESS"}),
    )
    .await;
    assert_eq!(
        (kept["target"].as_str(), kept["effectiveAt"].as_str()),
        (Some("LEAD_TIME"), Some("2026-03-15T00:00:00Z"))
    );
    let cleared = update_action(&app, json!({"actionId": action["id"], "effectiveAt": null})).await;
    assert_eq!(cleared["effectiveAt"], Value::Null);
    let done = update_action(&app, json!({"actionId": action["id"], "status": "DONE"})).await;
    assert!(done["closedAt"].is_string());
    assert_eq!(done["effectiveAt"], done["closedAt"]);
    let set = update_action(
        &app,
        json!({"actionId": action["id"], "effectiveAt": "2026-03-16T00:00:00Z"}),
    )
    .await;
    assert_eq!(set["effectiveAt"], "2026-03-16T00:00:00Z");
    let retargeted = update_action(
        &app,
        json!({"actionId": action["id"], "target": "CHANGE_FAILURE_RATE"}),
    )
    .await;
    assert_eq!(retargeted["target"], "CHANGE_FAILURE_RATE");
    let untargeted = update_action(&app, json!({"actionId": action["id"], "target": null})).await;
    assert_eq!(untargeted["target"], Value::Null);

    let events = app
        .admin("query($id: ID!) { node(id: $id) { ... on Release { events(first: 100) { nodes { kind actor } } } } }", json!({"id": pay}))
        .await;
    let kinds = strings(&events["node"]["events"]["nodes"], "kind");
    assert_eq!(
        kinds.iter().filter(|k| *k == "ACTION_UPDATED").count(),
        6,
        "{kinds:?}"
    );

    let refused = app
        .run_as(Role::ReleaseManager, None, "mutation($input: UpdateImprovementActionInput!) { updateImprovementAction(input: $input) { id } }",
            json!({"input": {"actionId": action["id"], "target": "FASTEST"}}))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
}

#[tokio::test]
async fn impact_compares_the_windows_around_the_action_with_the_other_programs() {
    let (app, pay) = lead_times().await;
    let action = add_action(
        &app,
        &pay,
        json!({"target": "LEAD_TIME", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    let impact =
        data(impact_as(&app, Role::Analyst, None, &action, json!(30)).await)["node"]["impact"]
            .clone();
    assert_eq!(impact["metric"], "LEAD_TIME");
    assert_eq!(impact["windowDays"], 30);
    assert_eq!(impact["partial"], false);
    assert_eq!(impact["before"]["from"], "2026-02-13T00:00:00Z");
    assert_eq!(impact["before"]["to"], "2026-03-15T00:00:00Z");
    assert_eq!(impact["after"]["to"], "2026-04-14T00:00:00Z");
    assert_eq!(
        (
            impact["before"]["observations"].as_i64(),
            impact["after"]["observations"].as_i64()
        ),
        (Some(10), Some(10))
    );
    assert!(
        close(&impact["before"]["value"], 115.5) && close(&impact["after"]["value"], 19.5),
        "{impact}"
    );
    assert!(close(&impact["change"], -96.0));
    assert!(close(&impact["relativeChange"], -96.0 / 115.5));
    // Every resample's medians lie in 15–24 h after and 111–120 h before.
    let (low, high) = (
        impact["low"].as_f64().unwrap(),
        impact["high"].as_f64().unwrap(),
    );
    assert!(
        (-105.0..=-87.0).contains(&low) && (-105.0..=-87.0).contains(&high) && low <= high,
        "{impact}"
    );
    assert_eq!(impact["verdict"], "IMPROVED");
    // MOB went from a median of 43.5 h to 91.5 h over the same windows.
    assert!(close(&impact["baselineChange"], 48.0));
    assert!(close(&impact["netChange"], -144.0));
    // The same data give the same interval.
    let again =
        data(impact_as(&app, Role::Analyst, None, &action, json!(30)).await)["node"]["impact"]
            .clone();
    assert_eq!(again, impact);

    // A caller of PAY alone has no other program to compare with.
    let scoped = data(impact_as(&app, Role::Analyst, Some(&["PAY"]), &action, json!(30)).await)["node"]["impact"].clone();
    assert_eq!(
        (
            scoped["baselineChange"].clone(),
            scoped["netChange"].clone()
        ),
        (Value::Null, Value::Null)
    );
    assert_eq!(scoped["verdict"], "IMPROVED");

    // MOB's own lead time rose: worse.
    let mob = app
        .admin(
            "{ program(key: \"MOB\") { releases { nodes { id version } } } }",
            json!({}),
        )
        .await;
    let mob_release = mob["program"]["releases"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["version"] == "5.0")
        .unwrap()["id"]
        .clone();
    let worse = add_action(
        &app,
        mob_release.as_str().unwrap(),
        json!({"target": "LEAD_TIME", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    let worse =
        data(impact_as(&app, Role::Analyst, None, &worse, json!(30)).await)["node"]["impact"]
            .clone();
    assert_eq!(worse["verdict"], "WORSENED");
    assert!(close(&worse["change"], 48.0) && close(&worse["baselineChange"], -96.0));
}

#[tokio::test]
async fn impact_verdicts_need_enough_data_and_a_change_beyond_the_interval() {
    let (app, pay) = lead_times().await;
    // One deployment a side: too few for a failure rate.
    let rate = add_action(
        &app,
        &pay,
        json!({"target": "CHANGE_FAILURE_RATE", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    let rate = data(impact_as(&app, Role::Analyst, None, &rate, json!(30)).await)["node"]["impact"]
        .clone();
    assert_eq!(rate["verdict"], "INSUFFICIENT_DATA");
    assert_eq!(
        (
            rate["before"]["observations"].as_i64(),
            rate["after"]["observations"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        (rate["low"].clone(), rate["high"].clone()),
        (Value::Null, Value::Null)
    );
    assert!(close(&rate["change"], 0.0));
    // One deployment in each thirty days: the same mean, a symmetric interval.
    let daily = add_action(
        &app,
        &pay,
        json!({"target": "DEPLOYMENT_FREQUENCY", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    let frequency =
        data(impact_as(&app, Role::Analyst, None, &daily, json!(30)).await)["node"]["impact"]
            .clone();
    assert_eq!(
        (
            frequency["before"]["observations"].as_i64(),
            frequency["after"]["observations"].as_i64()
        ),
        (Some(30), Some(30))
    );
    assert!(close(&frequency["before"]["value"], 1.0 / 30.0) && close(&frequency["change"], 0.0));
    assert!(frequency["low"].as_f64().unwrap() < 0.0 && frequency["high"].as_f64().unwrap() > 0.0);
    assert_eq!(frequency["verdict"], "NO_DETECTABLE_CHANGE");
    // Seven days a side is enough for a verdict: none before, one after (21 March) is a
    // rise of 1/7 a day, well inside Welch's interval of seven days.
    let week = data(impact_as(&app, Role::Analyst, None, &daily, json!(7)).await)["node"]["impact"]
        .clone();
    assert_eq!(week["before"]["from"], "2026-03-08T00:00:00Z");
    assert_eq!(
        (
            week["before"]["observations"].as_i64(),
            week["after"]["observations"].as_i64()
        ),
        (Some(7), Some(7))
    );
    assert!(close(&week["change"], 1.0 / 7.0));
    assert!(week["low"].as_f64().unwrap() < 0.0);
    assert_eq!(week["verdict"], "NO_DETECTABLE_CHANGE");

    // In effect ten days ago: the after window is partial and stops now.
    let now = chrono::Utc::now();
    let recent = add_action(&app, &pay, json!({"target": "LEAD_TIME", "effectiveAt": (now - chrono::Duration::days(10)).to_rfc3339()})).await;
    let recent =
        data(impact_as(&app, Role::Analyst, None, &recent, json!(90)).await)["node"]["impact"]
            .clone();
    assert_eq!(recent["partial"], true);
    assert_eq!(recent["verdict"], "INSUFFICIENT_DATA");
    let after_to =
        chrono::DateTime::parse_from_rfc3339(recent["after"]["to"].as_str().unwrap()).unwrap();
    assert!(
        (after_to.with_timezone(&chrono::Utc) - now)
            .num_seconds()
            .abs()
            < 60
    );
}

#[tokio::test]
async fn impact_is_null_without_a_target_or_a_time_when_dropped_or_ahead_and_for_viewers() {
    let (app, pay) = lead_times().await;
    let untargeted = add_action(&app, &pay, json!({"effectiveAt": "2026-03-15T00:00:00Z"})).await;
    let open = add_action(&app, &pay, json!({"target": "LEAD_TIME"})).await;
    let ahead = add_action(
        &app,
        &pay,
        json!({"target": "LEAD_TIME", "effectiveAt": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let dropped = add_action(
        &app,
        &pay,
        json!({"target": "LEAD_TIME", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    update_action(
        &app,
        json!({"actionId": dropped["id"], "status": "DROPPED"}),
    )
    .await;
    for action in [&untargeted, &open, &ahead, &dropped] {
        let impact = data(impact_as(&app, Role::Analyst, None, action, json!(90)).await);
        assert_eq!(impact["node"]["impact"], Value::Null, "{action}");
    }
    let targeted = add_action(
        &app,
        &pay,
        json!({"target": "LEAD_TIME", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    let viewer = impact_as(&app, Role::Viewer, None, &targeted, json!(90)).await;
    assert_eq!(error_code(&viewer), "FORBIDDEN");
    assert_eq!(viewer["data"]["node"]["impact"], Value::Null);
    for days in [6, 366] {
        let response = impact_as(&app, Role::Analyst, None, &targeted, json!(days)).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{days}");
    }
    // null means the default of 90 days.
    let default = data(impact_as(&app, Role::Analyst, None, &targeted, Value::Null).await);
    assert_eq!(default["node"]["impact"]["windowDays"], 90);
}

const LISTED: &str = "query($filter: ImpactFilter!) { improvementImpact(filter: $filter) { action { id title } impact { verdict effectiveAt windowDays baselineChange } } }";

#[tokio::test]
async fn improvement_impact_lists_the_actions_in_effect_in_the_window() {
    let (app, pay) = lead_times().await;
    let later = add_action(
        &app,
        &pay,
        json!({"title": "Later", "target": "LEAD_TIME", "effectiveAt": "2026-03-20T00:00:00Z"}),
    )
    .await;
    let first = add_action(
        &app,
        &pay,
        json!({"title": "First", "target": "LEAD_TIME", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    let closed = add_action(&app, &pay, json!({"title": "Closed", "target": "CHANGE_FAILURE_RATE", "effectiveAt": "2026-03-15T00:00:00Z"})).await;
    add_action(
        &app,
        &pay,
        json!({"title": "No target", "effectiveAt": "2026-03-15T00:00:00Z"}),
    )
    .await;
    add_action(
        &app,
        &pay,
        json!({"title": "Outside", "target": "LEAD_TIME", "effectiveAt": "2026-04-01T00:00:00Z"}),
    )
    .await;
    let dropped = add_action(
        &app,
        &pay,
        json!({"title": "Dropped", "target": "LEAD_TIME", "effectiveAt": "2026-03-16T00:00:00Z"}),
    )
    .await;
    update_action(
        &app,
        json!({"actionId": dropped["id"], "status": "DROPPED"}),
    )
    .await;

    let march =
        json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "windowDays": 30});
    let listed = data(
        app.run_as(Role::Analyst, None, LISTED, json!({ "filter": march }))
            .await,
    );
    let rows = listed["improvementImpact"].as_array().unwrap();
    let titles: Vec<&str> = rows
        .iter()
        .map(|r| r["action"]["title"].as_str().unwrap())
        .collect();
    // By effectiveAt, then id: "First" and "Closed" share 15 March.
    assert_eq!(titles, ["First", "Closed", "Later"]);
    assert_eq!(rows[0]["action"]["id"], first["id"]);
    assert_eq!(rows[2]["action"]["id"], later["id"]);
    assert_eq!(rows[0]["impact"]["verdict"], "IMPROVED");
    assert_eq!(rows[0]["impact"]["windowDays"], 30);
    assert_eq!(rows[1]["impact"]["verdict"], "INSUFFICIENT_DATA");

    // A scoped analyst sees its programs' actions, compared with its programs only.
    let scoped = data(
        app.run_as(
            Role::Analyst,
            Some(&["PAY"]),
            LISTED,
            json!({ "filter": march }),
        )
        .await,
    );
    assert_eq!(
        scoped["improvementImpact"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        scoped["improvementImpact"][0]["impact"]["baselineChange"],
        Value::Null
    );
    let mut mob = march.clone();
    mob["programKeys"] = json!(["MOB"]);
    let none = data(
        app.run_as(Role::Analyst, None, LISTED, json!({ "filter": mob }))
            .await,
    );
    assert_eq!(none["improvementImpact"], json!([]));
    let hidden = app
        .run_as(
            Role::Analyst,
            Some(&["PAY"]),
            LISTED,
            json!({ "filter": mob }),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");

    let viewer = app
        .run_as(Role::Viewer, None, LISTED, json!({ "filter": march }))
        .await;
    assert_eq!(error_code(&viewer), "FORBIDDEN");
    for filter in [
        json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}),
        json!({"from": "2025-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"}),
        json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "windowDays": 400}),
    ] {
        let response = app
            .run_as(Role::Analyst, None, LISTED, json!({ "filter": filter }))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{filter}");
    }
    // 366 days is the longest window.
    let year = json!({"from": "2025-04-01T00:00:00Z", "to": "2026-04-02T00:00:00Z"});
    let listed = data(
        app.run_as(Role::Analyst, None, LISTED, json!({ "filter": year }))
            .await,
    );
    assert_eq!(
        listed["improvementImpact"].as_array().map(Vec::len),
        Some(4)
    );

    // Done without an effectiveAt, an action is in effect from its closedAt (now).
    update_action(
        &app,
        json!({"actionId": closed["id"], "effectiveAt": null, "status": "DONE"}),
    )
    .await;
    let now = chrono::Utc::now();
    let today = json!({"from": (now - chrono::Duration::days(1)).to_rfc3339(), "to": (now + chrono::Duration::days(1)).to_rfc3339()});
    let listed = data(
        app.run_as(Role::Analyst, None, LISTED, json!({ "filter": today }))
            .await,
    );
    assert_eq!(
        strings(
            &listed["improvementImpact"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["action"].clone())
                .collect::<Value>(),
            "title"
        ),
        ["Closed"]
    );
    assert_eq!(listed["improvementImpact"][0]["impact"]["windowDays"], 90);
}

const INCIDENTS: &str = "query($filter: IncidentFilter, $first: Int, $after: String) { incidents(filter: $filter, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { title severity causedByChange openedAt resolvedAt program { key } release { version } } } }";

#[tokio::test]
async fn incidents_are_listed_newest_first_filtered_paged_and_scoped() {
    let (app, pay) = lead_times().await;
    let record = "mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }";
    for (input, title) in [
        (
            json!({"releaseId": pay, "severity": "SEV2", "openedAt": "2026-03-06T01:00:00Z", "resolvedAt": "2026-03-06T03:00:00Z"}),
            "Errors",
        ),
        (
            json!({"programKey": "PAY", "severity": "SEV1", "causedByChange": false, "openedAt": "2026-03-10T00:00:00Z"}),
            "Outage",
        ),
        (
            json!({"programKey": "MOB", "severity": "SEV3", "causedByChange": false, "openedAt": "2026-03-08T00:00:00Z", "resolvedAt": "2026-03-08T01:00:00Z"}),
            "Slow",
        ),
    ] {
        let mut input = input;
        input["title"] = json!(title);
        rm(&app, record, input).await;
    }
    let titles = |response: &Value| strings(&response["incidents"]["nodes"], "title");
    let all = data(app.run_as(Role::Viewer, None, INCIDENTS, json!({})).await);
    assert_eq!(titles(&all), ["Outage", "Slow", "Errors"]);
    assert_eq!(all["incidents"]["totalCount"], 3);
    assert_eq!(all["incidents"]["nodes"][1]["release"], Value::Null);
    assert_eq!(all["incidents"]["nodes"][2]["release"]["version"], "1.0");

    for (filter, expected) in [
        (json!({"programKeys": ["PAY"]}), vec!["Outage", "Errors"]),
        (
            json!({"from": "2026-03-07T00:00:00Z", "to": "2026-03-10T00:00:00Z"}),
            vec!["Slow"],
        ),
        (
            json!({"from": "2026-03-08T00:00:00Z"}),
            vec!["Outage", "Slow"],
        ),
        (
            json!({"severities": ["SEV1", "SEV2"]}),
            vec!["Outage", "Errors"],
        ),
        (json!({"causedByChange": true}), vec!["Errors"]),
        (json!({"causedByChange": false}), vec!["Outage", "Slow"]),
        (json!({"open": true}), vec!["Outage"]),
        (json!({"open": false}), vec!["Slow", "Errors"]),
        (json!({"severities": []}), vec![]),
    ] {
        let response = data(
            app.run_as(Role::Viewer, None, INCIDENTS, json!({ "filter": filter }))
                .await,
        );
        assert_eq!(titles(&response), expected, "{filter}");
        assert_eq!(
            response["incidents"]["totalCount"],
            expected.len(),
            "{filter}"
        );
    }

    let first = data(
        app.run_as(Role::Viewer, None, INCIDENTS, json!({"first": 2}))
            .await,
    );
    assert_eq!(titles(&first), ["Outage", "Slow"]);
    assert_eq!(first["incidents"]["pageInfo"]["hasNextPage"], true);
    let rest = data(
        app.run_as(
            Role::Viewer,
            None,
            INCIDENTS,
            json!({"first": 2, "after": first["incidents"]["pageInfo"]["endCursor"]}),
        )
        .await,
    );
    assert_eq!(titles(&rest), ["Errors"]);
    assert_eq!(rest["incidents"]["pageInfo"]["hasNextPage"], false);
    let too_many = app
        .run_as(Role::Viewer, None, INCIDENTS, json!({"first": 101}))
        .await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");

    let mob = data(
        app.run_as(Role::Viewer, Some(&["MOB"]), INCIDENTS, json!({}))
            .await,
    );
    assert_eq!(titles(&mob), ["Slow"]);
    let hidden = app
        .run_as(
            Role::Viewer,
            Some(&["MOB"]),
            INCIDENTS,
            json!({"filter": {"programKeys": ["PAY"]}}),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
}
