//! Reports for analysts over `GET /v1/exports/…`: every dataset in every format read back
//! with polars, figures equal to the GraphQL API's, CSV quoting and formula defusing,
//! scoping, paging past one batch, and every refusal.

use std::collections::HashSet;
use std::io::Cursor;

use api::app::AppState;
use api::auth::Role;
use api::http::app as router;
use poem::http::StatusCode;
use poem::test::TestClient;
use polars_core::prelude::*;
use polars_io::SerReader;
use polars_io::csv::read::CsvReadOptions;
use polars_io::json::{JsonFormat, JsonReader};
use polars_io::parquet::read::ParquetReader;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{TestApp, keys, token};

const FORMATS: [&str; 3] = ["csv", "parquet", "json"];

const RELEASE_COLUMNS: &[&str] = &[
    "id",
    "program_key",
    "program_name",
    "version",
    "name",
    "description",
    "type",
    "risk",
    "strategy",
    "status",
    "owner",
    "teams",
    "suppliers",
    "planned_start",
    "planned_end",
    "deployed_at",
    "rollback_plan",
    "outcome",
    "objectives_met",
    "defects_escaped",
    "reviewed_at",
    "revision",
    "created_at",
    "updated_at",
];
const DEPLOYMENT_COLUMNS: &[&str] = &[
    "id",
    "program_key",
    "release_id",
    "release_version",
    "release_type",
    "environment",
    "tier",
    "status",
    "strategy",
    "stage",
    "is_rollback",
    "started_at",
    "finished_at",
];
const INCIDENT_COLUMNS: &[&str] = &[
    "id",
    "program_key",
    "release_id",
    "release_version",
    "deployment_id",
    "environment",
    "title",
    "severity",
    "caused_by_change",
    "opened_at",
    "resolved_at",
];
const ACTION_COLUMNS: &[&str] = &[
    "id",
    "program_key",
    "release_id",
    "release_version",
    "title",
    "owner",
    "due_date",
    "status",
    "created_at",
    "closed_at",
];
const TREND_COLUMNS: &[&str] = &[
    "program_key",
    "bucket_start",
    "bucket_end",
    "deployments",
    "failed_deployments",
    "change_failure_rate",
    "lead_time_median_hours",
    "time_to_restore_median_hours",
    "releases_delivered",
    "on_time_rate",
];

struct Got {
    status: StatusCode,
    content_type: String,
    disposition: String,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The error's code and the parameter it names.
    fn refusal(&self) -> (String, Option<String>) {
        let error = &self.json()["errors"][0];
        (
            error["extensions"]["code"].as_str().unwrap().to_owned(),
            error["extensions"]["parameter"].as_str().map(str::to_owned),
        )
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

async fn get_with(app: &TestApp, path: &str, authorization: Option<String>) -> Got {
    let client = TestClient::new(router(AppState::new(
        app.db.clone(),
        keys(),
        crate::support::cipher(),
        false,
    )));
    let mut request = client.get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.0;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let status = response.status();
    let body = response.into_body().into_vec().await.unwrap();
    Got {
        status,
        content_type,
        disposition,
        body,
    }
}

/// GET `path` as `role` of `programs` (None: every program).
async fn get(app: &TestApp, path: &str, role: Role, programs: Option<&[&str]>) -> Got {
    get_with(app, path, Some(format!("Bearer {}", token(role, programs)))).await
}

async fn analyst(app: &TestApp, path: &str) -> Got {
    get(app, path, Role::Analyst, None).await
}

/// A report read back by polars' reader of its format; CSV cells stay text.
fn frame(format: &str, bytes: Vec<u8>) -> DataFrame {
    let cursor = Cursor::new(bytes);
    match format {
        "csv" => CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(cursor)
            .finish(),
        "parquet" => ParquetReader::new(cursor).finish(),
        "json" => JsonReader::new(cursor)
            .with_json_format(JsonFormat::JsonLines)
            .finish(),
        other => panic!("no format {other}"),
    }
    .unwrap()
}

fn names(frame: &DataFrame) -> Vec<String> {
    frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

fn texts(frame: &DataFrame, column: &str) -> Vec<Option<String>> {
    frame
        .column(column)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

fn id_set(frame: &DataFrame) -> HashSet<String> {
    texts(frame, "id").into_iter().flatten().collect()
}

/// Ids the GraphQL API gives for every release's deployments, incidents and actions.
async fn api_ids(app: &TestApp, programs: Option<&[&str]>) -> [HashSet<String>; 4] {
    let response = app
        .run_as(
            Role::Viewer,
            programs,
            "{ releases(first: 100) { totalCount nodes { id deployments { id } incidents { id } \
             outcome { actions { id } } } } }",
            json!({}),
        )
        .await;
    let nodes = response["data"]["releases"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let collect = |pick: &dyn Fn(&Value) -> Vec<Value>| -> HashSet<String> {
        nodes
            .iter()
            .flat_map(pick)
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect()
    };
    [
        collect(&|r| vec![r.clone()]),
        collect(&|r| r["deployments"].as_array().unwrap().clone()),
        collect(&|r| r["incidents"].as_array().unwrap().clone()),
        collect(&|r| {
            r["outcome"]["actions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }),
    ]
}

async fn count(app: &TestApp, table: &str) -> usize {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() as usize
}

#[tokio::test]
async fn every_record_dataset_in_every_format_holds_what_the_api_holds() {
    let (app, _) = TestApp::with_fixture().await;
    let [releases, deployments, incidents, actions] = api_ids(&app, None).await;
    let all_incidents = count(&app, "incidents").await;
    assert!(
        all_incidents > incidents.len(),
        "the fixture has an incident without a release"
    );
    for format in FORMATS {
        for (dataset, columns, expected) in [
            ("releases", RELEASE_COLUMNS, Some(&releases)),
            ("deployments", DEPLOYMENT_COLUMNS, Some(&deployments)),
            ("incidents", INCIDENT_COLUMNS, None),
            ("actions", ACTION_COLUMNS, Some(&actions)),
        ] {
            let got = analyst(&app, &format!("/v1/exports/{dataset}.{format}")).await;
            assert_eq!(
                got.status,
                StatusCode::OK,
                "{dataset}.{format}: {}",
                got.text()
            );
            assert_eq!(
                got.disposition,
                format!("attachment; filename=\"{dataset}.{format}\"")
            );
            let frame = frame(format, got.body);
            assert_eq!(names(&frame), columns, "{dataset}.{format}");
            let ids = id_set(&frame);
            assert_eq!(ids.len(), frame.height(), "ids are unique");
            match expected {
                Some(expected) => assert_eq!(&ids, expected, "{dataset}.{format}"),
                None => {
                    assert_eq!(frame.height(), all_incidents);
                    assert!(ids.is_superset(&incidents));
                }
            }
        }
    }
}

#[tokio::test]
async fn content_types_name_the_format() {
    let (app, _) = TestApp::with_fixture().await;
    for (format, content_type) in [
        ("csv", "text/csv; charset=utf-8; header=present"),
        ("parquet", "application/vnd.apache.parquet"),
        ("json", "application/x-ndjson"),
    ] {
        let got = analyst(&app, &format!("/v1/exports/actions.{format}")).await;
        assert_eq!(got.content_type, content_type);
    }
}

#[tokio::test]
async fn parquet_keeps_native_types() {
    let (app, _) = TestApp::with_fixture().await;
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let dtype = |frame: &DataFrame, column: &str| frame.column(column).unwrap().dtype().clone();

    let releases = frame(
        "parquet",
        analyst(&app, "/v1/exports/releases.parquet").await.body,
    );
    assert_eq!(dtype(&releases, "planned_end"), utc);
    assert_eq!(dtype(&releases, "objectives_met"), DataType::Boolean);
    assert_eq!(dtype(&releases, "revision"), DataType::Int64);
    assert_eq!(dtype(&releases, "version"), DataType::String);

    let deployments = frame(
        "parquet",
        analyst(&app, "/v1/exports/deployments.parquet").await.body,
    );
    assert_eq!(dtype(&deployments, "started_at"), utc);
    assert_eq!(dtype(&deployments, "is_rollback"), DataType::Boolean);

    let actions = frame(
        "parquet",
        analyst(&app, "/v1/exports/actions.parquet").await.body,
    );
    assert_eq!(dtype(&actions, "due_date"), DataType::Date);

    let trend = frame(
        "parquet",
        analyst(
            &app,
            "/v1/exports/trend.parquet?from=2026-01-01T00:00:00Z&to=2026-07-01T00:00:00Z",
        )
        .await
        .body,
    );
    assert_eq!(dtype(&trend, "bucket_start"), utc);
    assert_eq!(dtype(&trend, "deployments"), DataType::Int64);
    assert_eq!(dtype(&trend, "change_failure_rate"), DataType::Float64);
}

#[tokio::test]
async fn values_read_the_same_as_in_the_api() {
    let (app, fixture) = TestApp::with_fixture().await;
    let id = api::ids::encode(api::ids::NodeType::Release, fixture.pay_january.id);
    let release = app
        .admin(
            "query($id: ID!) { node(id: $id) { ... on Release { version plannedEnd deployedAt \
             teams status outcome { result } } } }",
            json!({ "id": id }),
        )
        .await["node"]
        .clone();
    for format in FORMATS {
        let frame = frame(
            format,
            analyst(&app, &format!("/v1/exports/releases.{format}"))
                .await
                .body,
        );
        let row = texts(&frame, "id")
            .iter()
            .position(|v| v.as_deref() == Some(&id))
            .unwrap();
        let cell = |column: &str| texts(&frame, column)[row].clone();
        assert_eq!(cell("version").as_deref(), release["version"].as_str());
        assert_eq!(cell("status").as_deref(), release["status"].as_str());
        assert_eq!(
            cell("outcome").as_deref(),
            release["outcome"]["result"].as_str()
        );
        assert_eq!(cell("teams").as_deref(), Some("payments-core; risk"));
        if format != "parquet" {
            // Text formats carry the API's own timestamp strings.
            assert_eq!(
                cell("planned_end").as_deref(),
                release["plannedEnd"].as_str()
            );
            assert_eq!(
                cell("deployed_at").as_deref(),
                release["deployedAt"].as_str()
            );
        }
    }
}

#[tokio::test]
async fn csv_quotes_by_rfc_4180_and_defuses_formulas() {
    let (app, _) = TestApp::with_fixture().await;
    let description = "Refunds, \"instant\" ones\nand a second line";
    app.admin(
        "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id } }",
        json!({ "input": {
            "programKey": "PAY", "version": "9.9.9", "name": "=HYPERLINK(\"http://x\")",
            "description": description, "type": "MINOR", "owner": "@boss",
            "teams": ["-minus", "+plus"], "rollbackPlan": "\t=cmd|' /C calc'!A0"
        }}),
    )
    .await;

    let csv = analyst(&app, "/v1/exports/releases.csv").await.text();
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(
        csv.contains("\"Refunds, \"\"instant\"\" ones\nand a second line\""),
        "{csv}"
    );
    assert!(csv.contains(",'@boss,"), "{csv}");
    assert!(csv.contains(",'-minus; +plus,"), "{csv}");
    assert!(csv.contains(",'\t=cmd|' /C calc'!A0,"), "{csv}");
    assert!(csv.starts_with("id,program_key,"));
    assert!(csv.ends_with("\r\n"));
    assert_eq!(
        csv.matches("\r\n").count(),
        1 + count(&app, "releases").await,
        "CRLF ends the header and every record, and nothing else"
    );

    let read = frame("csv", csv.into_bytes());
    let row = texts(&read, "version")
        .iter()
        .position(|v| v.as_deref() == Some("9.9.9"))
        .unwrap();
    assert_eq!(
        texts(&read, "description")[row].as_deref(),
        Some(description)
    );
    assert_eq!(
        texts(&read, "name")[row].as_deref(),
        Some("'=HYPERLINK(\"http://x\")")
    );

    // JSON and Parquet are data, not spreadsheets: text stays exactly as entered.
    for format in ["json", "parquet"] {
        let read = frame(
            format,
            analyst(&app, &format!("/v1/exports/releases.{format}"))
                .await
                .body,
        );
        let names = texts(&read, "name");
        assert!(
            names.contains(&Some("=HYPERLINK(\"http://x\")".into())),
            "{format}"
        );
    }
}

#[tokio::test]
async fn filters_mean_what_they_mean_in_the_api() {
    let (app, _) = TestApp::with_fixture().await;
    let (from, to) = ("2026-01-21T00:00:00Z", "2026-06-01T11:30:00Z");

    let planned = app
        .admin(
            "query($f: DateTime, $t: DateTime) { releases(filter: { plannedFrom: $f, plannedTo: $t, \
             programKeys: [\"PAY\"] }) { totalCount } }",
            json!({ "f": from, "t": to }),
        )
        .await["releases"]["totalCount"]
        .as_u64()
        .unwrap() as usize;
    let got = analyst(
        &app,
        &format!("/v1/exports/releases.csv?from={from}&to={to}&programKey=PAY"),
    )
    .await;
    assert_eq!(frame("csv", got.body).height(), planned);

    let calendar = app
        .admin(
            "query($f: DateTime!, $t: DateTime!) { releaseCalendar(from: $f, to: $t) { kind \
             deployment { id } } }",
            json!({ "f": from, "t": to }),
        )
        .await;
    let on_calendar: HashSet<String> = calendar["releaseCalendar"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "DEPLOYMENT")
        .map(|e| e["deployment"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!on_calendar.is_empty());
    let got = analyst(
        &app,
        &format!("/v1/exports/deployments.json?from={from}&to={to}"),
    )
    .await;
    let exported = id_set(&frame("json", got.body));
    assert_eq!(exported, on_calendar);
    let all = id_set(&frame(
        "json",
        analyst(&app, "/v1/exports/deployments.json").await.body,
    ));
    assert!(exported.len() < all.len(), "the window leaves some out");

    // Repeated programKey adds programs.
    let both = frame(
        "csv",
        analyst(
            &app,
            "/v1/exports/actions.csv?programKey=PAY&programKey=MOB",
        )
        .await
        .body,
    );
    assert_eq!(both.height(), count(&app, "improvement_actions").await);
}

#[tokio::test]
async fn the_trend_is_metrics_trend_of_each_program() {
    let (app, _) = TestApp::with_fixture().await;
    let (from, to) = ("2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z");
    let got = analyst(
        &app,
        &format!("/v1/exports/trend.json?from={from}&to={to}&granularity=MONTH"),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let rows: Vec<Value> = got
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 2 * 6, "two programs by six months");
    for program in ["MOB", "PAY"] {
        let metrics = app
            .admin(
                "query($f: MetricsFilter!) { metrics(filter: $f) { trend { start end deployments \
                 failedDeployments changeFailureRate leadTimeMedianHours \
                 timeToRestoreMedianHours releasesDelivered onTimeRate } } }",
                json!({ "f": { "from": from, "to": to, "programKeys": [program] } }),
            )
            .await;
        let buckets = metrics["metrics"]["trend"].as_array().unwrap();
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|r| r["program_key"] == program)
            .collect();
        assert_eq!(mine.len(), buckets.len());
        for (row, bucket) in mine.iter().zip(buckets) {
            for (column, field) in [
                ("bucket_start", "start"),
                ("bucket_end", "end"),
                ("deployments", "deployments"),
                ("failed_deployments", "failedDeployments"),
                ("releases_delivered", "releasesDelivered"),
            ] {
                assert_eq!(row[column], bucket[field], "{program} {column}");
            }
            for (column, field) in [
                ("change_failure_rate", "changeFailureRate"),
                ("lead_time_median_hours", "leadTimeMedianHours"),
                ("time_to_restore_median_hours", "timeToRestoreMedianHours"),
                ("on_time_rate", "onTimeRate"),
            ] {
                match (row[column].as_f64(), bucket[field].as_f64()) {
                    (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{program} {column}"),
                    (a, b) => assert_eq!(a, b, "{program} {column}"),
                }
            }
        }
    }
    let deployed: i64 = rows
        .iter()
        .map(|r| r["deployments"].as_i64().unwrap())
        .sum();
    assert!(deployed > 0, "the fixture deploys in the window");

    let csv = frame(
        "csv",
        analyst(
            &app,
            &format!("/v1/exports/trend.csv?from={from}&to={to}&granularity=quarter"),
        )
        .await
        .body,
    );
    assert_eq!(names(&csv), TREND_COLUMNS);
    assert_eq!(csv.height(), 2 * 2);
}

#[tokio::test]
async fn a_scoped_analyst_gets_only_its_programs() {
    let (app, _) = TestApp::with_fixture().await;
    let [releases, deployments, _, actions] = api_ids(&app, Some(&["MOB"])).await;
    for format in FORMATS {
        for (dataset, expected) in [
            ("releases", &releases),
            ("deployments", &deployments),
            ("actions", &actions),
        ] {
            let got = get(
                &app,
                &format!("/v1/exports/{dataset}.{format}"),
                Role::Analyst,
                Some(&["MOB"]),
            )
            .await;
            if got.body.is_empty() {
                // An empty report is an empty JSON lines file, which polars cannot read.
                assert_eq!(format, "json");
                assert!(expected.is_empty(), "{dataset}");
                continue;
            }
            let frame = frame(format, got.body);
            assert_eq!(&id_set(&frame), expected, "{dataset}.{format}");
        }
        let incidents = frame(
            format,
            get(
                &app,
                &format!("/v1/exports/incidents.{format}"),
                Role::Analyst,
                Some(&["MOB"]),
            )
            .await
            .body,
        );
        assert!(incidents.height() > 0);
        assert!(
            texts(&incidents, "program_key")
                .iter()
                .all(|k| k.as_deref() == Some("MOB"))
        );
    }
    let trend = get(
        &app,
        "/v1/exports/trend.json?from=2026-01-01T00:00:00Z&to=2026-07-01T00:00:00Z",
        Role::Analyst,
        Some(&["MOB"]),
    )
    .await
    .text();
    assert!(trend.lines().all(|l| l.contains("\"program_key\":\"MOB\"")));

    // A program out of scope is refused exactly like one that does not exist.
    let out_of_scope = get(
        &app,
        "/v1/exports/releases.csv?programKey=PAY",
        Role::Analyst,
        Some(&["MOB"]),
    )
    .await;
    let missing = get(
        &app,
        "/v1/exports/releases.csv?programKey=NOPE",
        Role::Analyst,
        Some(&["MOB"]),
    )
    .await;
    assert_eq!(out_of_scope.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        out_of_scope.refusal(),
        ("BAD_USER_INPUT".into(), Some("programKey".into()))
    );
    assert_eq!(
        out_of_scope.text().replace("PAY", "NOPE"),
        missing.text(),
        "the answers differ only in the key"
    );
}

#[tokio::test]
async fn every_refusal_has_its_status() {
    let (app, _) = TestApp::with_fixture().await;
    let ok = "/v1/exports/releases.csv";

    let anonymous = get_with(&app, ok, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.refusal().0, "UNAUTHENTICATED");
    let forged = get_with(&app, ok, Some("Bearer not-a-token".into())).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    let viewer = get(&app, ok, Role::Viewer, None).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    assert_eq!(viewer.refusal().0, "FORBIDDEN");
    for role in [Role::Analyst, Role::ReleaseManager, Role::Admin] {
        assert_eq!(get(&app, ok, role, None).await.status, StatusCode::OK);
    }

    for path in [
        "/v1/exports/builds.csv",
        "/v1/exports/releases.xlsx",
        "/v1/exports/releases",
    ] {
        let got = analyst(&app, path).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(got.refusal().0, "NOT_FOUND");
    }

    for (query, parameter) in [
        ("from=yesterday", "from"),
        ("to=2026-01-01", "to"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        (
            "from=2026-01-01T00:00:00Z&from=2026-02-01T00:00:00Z",
            "from",
        ),
        ("program=PAY", "program"),
        ("programKey=NOPE", "programKey"),
        ("granularity=WEEK", "granularity"),
    ] {
        let got = analyst(&app, &format!("{ok}?{query}")).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(got.content_type, "application/json");
        assert_eq!(
            got.refusal(),
            ("BAD_USER_INPUT".into(), Some(parameter.into())),
            "{query}"
        );
        assert!(
            got.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with(parameter)
        );
    }
    for (query, parameter) in [
        ("to=2026-01-01T00:00:00Z", "from"),
        ("from=2026-01-01T00:00:00Z", "to"),
        (
            "from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&granularity=DAY",
            "granularity",
        ),
        (
            "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&granularity=YEAR",
            "granularity",
        ),
    ] {
        let got = analyst(&app, &format!("/v1/exports/trend.csv?{query}")).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(got.refusal().1.as_deref(), Some(parameter), "{query}");
    }
}

#[tokio::test]
async fn large_reports_page_past_one_batch_without_losing_a_row() {
    let (app, fixture) = TestApp::with_fixture().await;
    let batch = api::exports::Dataset::Deployments.batch_rows();
    let extra = batch + 7;
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {extra}) \
                 INSERT INTO deployments (release_id, environment_id, status, strategy, stage, \
                 is_rollback, started_at, finished_at) \
                 SELECT {}, {}, 'SUCCEEDED', 'CANARY', NULL, FALSE, 1767225600000000 + i, \
                 1767225600000000 + i + 60000000 FROM n",
                fixture.pay_january.id, fixture.prod_eu.id
            ),
        ))
        .await
        .unwrap();
    let total = count(&app, "deployments").await;
    assert!(total > batch + 1);
    for format in ["csv", "parquet"] {
        let got = analyst(&app, &format!("/v1/exports/deployments.{format}")).await;
        let frame = frame(format, got.body);
        assert_eq!(frame.height(), total, "{format}");
        assert_eq!(id_set(&frame).len(), total, "{format}: no row twice");
    }
}

#[tokio::test]
async fn a_report_that_fails_midway_aborts_the_response() {
    let (app, fixture) = TestApp::with_fixture().await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return; // Only SQLite stores a value of the wrong type, which is how this fails.
    }
    app.db
        .execute_raw(Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!(
                "INSERT INTO deployments (release_id, environment_id, status, strategy, \
                 is_rollback, started_at) VALUES ({}, {}, 'SUCCEEDED', 'CANARY', 0, 'garbage')",
                fixture.pay_january.id, fixture.prod_eu.id
            ),
        ))
        .await
        .unwrap();
    let client = TestClient::new(router(AppState::new(
        app.db.clone(),
        keys(),
        crate::support::cipher(),
        false,
    )));
    let response = client
        .get("/v1/exports/deployments.csv")
        .header(
            "authorization",
            format!("Bearer {}", token(Role::Analyst, None)),
        )
        .send()
        .await
        .0;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the failure comes after the headers"
    );
    assert!(
        response.into_body().into_vec().await.is_err(),
        "the body ends in an error, not in a short report"
    );
}

fn relm_export(app: &TestApp, args: &[&str]) -> std::process::Output {
    crate::support::relm_binary()
        .arg("export")
        .args(args)
        .args(["--database-url", &app.test_db_url()])
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_command_line_writes_the_same_reports() {
    let (app, _) = TestApp::with_fixture().await;
    let dir = std::env::temp_dir().join(format!("relm-export-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();

    for format in FORMATS {
        let path = dir.join(format!("deployments.{format}"));
        let output = relm_export(
            &app,
            &[
                "deployments",
                "--format",
                format,
                "-o",
                path.to_str().unwrap(),
            ],
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let from_cli = frame(format, std::fs::read(&path).unwrap());
        let over_http = frame(
            format,
            analyst(&app, &format!("/v1/exports/deployments.{format}"))
                .await
                .body,
        );
        assert!(from_cli.equals_missing(&over_http), "{format}");
    }

    // Default format CSV, to stdout, with filters.
    let output = relm_export(
        &app,
        &[
            "releases",
            "--program",
            "MOB",
            "--from",
            "2026-01-01T00:00:00Z",
        ],
    );
    assert!(output.status.success());
    let stdout = frame("csv", output.stdout);
    let expected = frame(
        "csv",
        analyst(
            &app,
            "/v1/exports/releases.csv?programKey=MOB&from=2026-01-01T00:00:00Z",
        )
        .await
        .body,
    );
    assert!(stdout.height() > 0);
    assert!(stdout.equals_missing(&expected));

    let trend = relm_export(
        &app,
        &[
            "trend",
            "--format",
            "json",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-07-01T00:00:00Z",
        ],
    );
    assert!(trend.status.success());
    assert_eq!(String::from_utf8(trend.stdout).unwrap().lines().count(), 12);

    for (args, needle) in [
        (
            vec!["trend"],
            "invalid --from: required for the trend dataset",
        ),
        (
            vec!["releases", "--program", "NOPE"],
            "invalid --program: no program 'NOPE'",
        ),
        (vec!["releases", "--to", "soon"], "invalid --to:"),
    ] {
        let output = relm_export(&app, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    let missing_dir = dir.join("no/such/dir/out.csv");
    let output = relm_export(&app, &["releases", "-o", missing_dir.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot create"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn metrics_count_exports_by_outcome_and_rows() {
    let (app, _) = TestApp::with_fixture().await;
    let client = TestClient::new(router(AppState::new(
        app.db.clone(),
        keys(),
        crate::support::cipher(),
        false,
    )));
    let as_role = |role| format!("Bearer {}", token(role, None));
    let written = client
        .get("/v1/exports/deployments.csv")
        .header("authorization", as_role(Role::Analyst))
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    let rows = written.lines().count() - 1;
    let refused = client
        .get("/v1/exports/deployments.csv")
        .header("authorization", as_role(Role::Viewer))
        .send()
        .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    let metrics = client
        .get("/metrics")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    for line in [
        "relm_export_requests_total{dataset=\"deployments\",format=\"csv\",outcome=\"ok\"} 1"
            .to_owned(),
        "relm_export_requests_total{dataset=\"deployments\",format=\"csv\",outcome=\"refused\"} 1"
            .to_owned(),
        format!("relm_export_rows_total {rows}"),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in {metrics}"
        );
    }
}

/// `relm export -o` counts a report's rows first, to show how far it has got.
#[tokio::test]
async fn a_reports_count_is_its_number_of_rows() {
    use api::exports::{self, Dataset, Format, Params};
    let (app, _) = TestApp::with_fixture().await;
    let cache = api::metrics::cache::MetricsCache::default();
    let filtered = Params {
        from: Some("2026-01-01T00:00:00Z".into()),
        to: Some("2026-12-31T00:00:00Z".into()),
        program_keys: vec!["MOB".into()],
        granularity: None,
        window_days: None,
    };
    let mut seen = 0;
    for dataset in Dataset::ALL {
        // The forecast dataset is of releases under way now: it takes no window.
        let filtered = match dataset {
            Dataset::Forecast => Params {
                from: None,
                to: None,
                ..filtered.clone()
            },
            _ => filtered.clone(),
        };
        let every = Params {
            program_keys: Vec::new(),
            ..filtered.clone()
        };
        let unbounded = (!dataset.computed()).then(Params::default);
        for params in [Some(filtered.clone()), Some(every), unbounded]
            .into_iter()
            .flatten()
        {
            let export = exports::resolve(
                &app.db,
                &api::auth::Scope::All,
                dataset,
                Format::Csv,
                params,
            )
            .await
            .unwrap();
            let progress = api::progress::Progress::hidden();
            let rows = exports::run(&app.db, &cache, &export, Vec::new(), progress)
                .await
                .unwrap();
            seen += rows;
            let counted = exports::count(&app.db, &export).await.unwrap();
            match dataset {
                Dataset::Trend | Dataset::Impact | Dataset::Forecast => {
                    assert_eq!(counted, None)
                }
                _ => assert_eq!(counted, Some(rows as u64), "{}", dataset.name()),
            }
        }
    }
    assert!(seen > 0, "the fixture has rows to count");
}

/// The impact dataset holds what `Query.improvementImpact` gives, row for row, in every
/// format; its own parameters are checked like the others.
#[tokio::test]
async fn the_impact_report_is_improvement_impact_row_for_row() {
    let (app, pay) = crate::improvement::lead_times().await;
    for (title, target) in [("Trunk", "LEAD_TIME"), ("Canary", "CHANGE_FAILURE_RATE")] {
        crate::improvement::add_action(
            &app,
            &pay,
            json!({"title": title, "target": target, "effectiveAt": "2026-03-15T00:00:00Z"}),
        )
        .await;
    }
    let window = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&windowDays=30";
    let got = analyst(&app, &format!("/v1/exports/impact.json?{window}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let rows: Vec<Value> = got
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let listed = app
        .run_as(
            Role::Analyst,
            None,
            "{ improvementImpact(filter: {from: \"2026-03-01T00:00:00Z\", to: \"2026-04-01T00:00:00Z\", windowDays: 30}) {
               action { id title release { id version } } impact { metric effectiveAt windowDays partial change relativeChange low high verdict baselineChange netChange
               before { from to value observations } after { from to value observations } } } }",
            json!({}),
        )
        .await;
    let listed = crate::support::data(listed)["improvementImpact"].clone();
    assert_eq!(rows.len(), 2);
    for (row, item) in rows.iter().zip(listed.as_array().unwrap()) {
        let (action, impact) = (&item["action"], &item["impact"]);
        assert_eq!(row["action_id"], action["id"]);
        assert_eq!(row["action_title"], action["title"]);
        assert_eq!(row["release_id"], action["release"]["id"]);
        assert_eq!(row["release_version"], action["release"]["version"]);
        assert_eq!(row["program_key"], "PAY");
        for (column, value) in [
            ("metric", &impact["metric"]),
            ("effective_at", &impact["effectiveAt"]),
            ("window_days", &impact["windowDays"]),
            ("partial", &impact["partial"]),
            ("change", &impact["change"]),
            ("relative_change", &impact["relativeChange"]),
            ("low", &impact["low"]),
            ("high", &impact["high"]),
            ("verdict", &impact["verdict"]),
            ("baseline_change", &impact["baselineChange"]),
            ("net_change", &impact["netChange"]),
            ("before_from", &impact["before"]["from"]),
            ("before_to", &impact["before"]["to"]),
            ("before_value", &impact["before"]["value"]),
            ("before_observations", &impact["before"]["observations"]),
            ("after_from", &impact["after"]["from"]),
            ("after_to", &impact["after"]["to"]),
            ("after_value", &impact["after"]["value"]),
            ("after_observations", &impact["after"]["observations"]),
        ] {
            assert_eq!(&row[column], value, "{column}");
        }
    }
    assert_eq!(rows[0]["verdict"], "IMPROVED");
    for format in ["csv", "parquet"] {
        let got = analyst(&app, &format!("/v1/exports/impact.{format}?{window}")).await;
        assert_eq!(got.status, StatusCode::OK, "{format}");
        let frame = frame(format, got.body);
        assert_eq!(frame.height(), 2, "{format}");
        assert_eq!(frame.width(), 24, "{format}");
    }

    // A caller of PAY alone gets no baseline; a viewer no report.
    let scoped = get(
        &app,
        &format!("/v1/exports/impact.json?{window}"),
        Role::Analyst,
        Some(&["PAY"]),
    )
    .await;
    let first: Value = serde_json::from_str(scoped.text().lines().next().unwrap()).unwrap();
    assert_eq!(first["baseline_change"], Value::Null);
    let viewer = get(
        &app,
        &format!("/v1/exports/impact.json?{window}"),
        Role::Viewer,
        None,
    )
    .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);

    for (query, parameter) in [
        ("to=2026-04-01T00:00:00Z", "from"),
        ("from=2026-03-01T00:00:00Z", "to"),
        ("from=2025-01-01T00:00:00Z&to=2026-04-01T00:00:00Z", "to"),
        (
            "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&windowDays=6",
            "windowDays",
        ),
        (
            "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&windowDays=ninety",
            "windowDays",
        ),
    ] {
        let got = analyst(&app, &format!("/v1/exports/impact.csv?{query}")).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(got.refusal().1.as_deref(), Some(parameter), "{query}");
    }
    let trend = analyst(
        &app,
        "/v1/exports/trend.csv?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&windowDays=30",
    )
    .await;
    assert_eq!(trend.refusal().1.as_deref(), Some("windowDays"));
}

/// The forecast dataset holds what `Release.forecast` gives for each release under way (empty
/// cells where it gives null), ordered by program, plannedEnd and id; it takes no window.
#[tokio::test]
async fn the_forecast_report_is_release_forecast_row_for_row() {
    use crate::forecast::{DAY, FORECAST, History, id};
    use entity::enums::{ReleaseStatus, ReleaseType};

    let app = TestApp::empty().await;
    let (mut h, pay, mob) = History::new(&app).await;
    h.classes(&pay).await;
    let entered = h.now - DAY * 5 / 2;
    let far = Some(h.now + 100 * DAY);
    let releases = [
        h.under_way(
            &mob,
            ReleaseType::Minor,
            ReleaseStatus::Planned,
            h.now - DAY,
            far,
        )
        .await,
        h.under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::InTest,
            entered,
            Some(entered + 10 * DAY),
        )
        .await,
        h.under_way(
            &pay,
            ReleaseType::Major,
            ReleaseStatus::Scheduled,
            h.now - DAY,
            None,
        )
        .await,
    ];
    let got = analyst(&app, "/v1/exports/forecast.json").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let rows: Vec<Value> = got
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    let time = |v: &Value| v.as_str().and_then(api::time::parse_rfc3339);
    for (row, release) in rows.iter().zip(&releases) {
        assert_eq!(row["release_id"], json!(id(release)));
        assert_eq!(row["release_version"], json!(release.version));
        let answer = app
            .run_as(Role::Analyst, None, FORECAST, json!({"id": id(release)}))
            .await;
        let forecast = &crate::support::data(answer)["node"]["forecast"];
        if forecast.is_null() {
            assert!(
                row["basis"].is_null() && row["on_time_probability"].is_null(),
                "{row}"
            );
            continue;
        }
        for (column, field) in [
            ("basis", "basis"),
            ("sample_size", "sampleSize"),
            ("stage", "stage"),
            ("on_time_probability", "onTimeProbability"),
            ("expected_slippage_days", "expectedSlippageDays"),
            ("change_failure_risk", "changeFailureRisk"),
            ("risk", "risk"),
        ] {
            assert_eq!(row[column], forecast[field], "{column}");
        }
        for (column, field) in [("entered_at", "enteredAt"), ("p50", "p50"), ("p85", "p85")] {
            assert_eq!(time(&row[column]), time(&forecast[field]), "{column}");
        }
    }
    assert_eq!(
        (&rows[0]["program_key"], &rows[0]["basis"]),
        (&json!("MOB"), &json!("TYPE"))
    );
    assert_eq!(rows[1]["basis"], json!("PROGRAM_AND_TYPE"));
    for format in ["csv", "parquet"] {
        let got = analyst(&app, &format!("/v1/exports/forecast.{format}")).await;
        assert_eq!(frame(format, got.body).height(), 3, "{format}");
    }
    let windowed = analyst(&app, "/v1/exports/forecast.csv?from=2026-01-01T00:00:00Z").await;
    assert_eq!(
        windowed.refusal(),
        ("BAD_USER_INPUT".into(), Some("from".into()))
    );
}
