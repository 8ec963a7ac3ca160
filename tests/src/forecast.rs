//! Forecasts of releases under way and their accuracy (metrics.md, *Forecast* and *Forecast
//! accuracy*), on a history written to the database with known durations: 25 PAY MINOR
//! releases that took 1 to 25 days from IN_TEST to delivery, the first 5 with a failed
//! production deployment and the first 10 on time, and 3 PAY MAJOR ones of 30 days.

use api::auth::Role;
use entity::enums::*;
use entity::*;
use sea_orm::{ActiveModelTrait, DatabaseConnection, NotSet, Set};
use serde_json::{Value, json};

use crate::metrics::rm;
use crate::support::{TestApp, data, error_code};

pub(crate) const DAY: i64 = 86_400_000_000;

pub(crate) struct History<'a> {
    db: &'a DatabaseConnection,
    pub(crate) now: i64,
    environment: i64,
    versions: u32,
}

/// A release to write: its program, type, creation, status entries and delivery.
struct Made<'a> {
    program: &'a program::Model,
    kind: ReleaseType,
    status: ReleaseStatus,
    created: i64,
    planned_end: Option<i64>,
    moves: &'a [(ReleaseStatus, i64)],
    /// finishedAt of its SUCCEEDED production deployment, after a FAILED one when `failed`.
    delivered: Option<i64>,
    failed: bool,
}

impl<'a> History<'a> {
    pub(crate) async fn new(app: &'a TestApp) -> (Self, program::Model, program::Model) {
        let mut programs = Vec::new();
        for key in ["PAY", "MOB"] {
            let made = program::ActiveModel {
                id: NotSet,
                key: Set(key.into()),
                name: Set(key.into()),
                description: Set(None),
                owner: Set(None),
                business_objective: Set(None),
                created_at: Set(0),
            }
            .insert(&app.db)
            .await
            .unwrap();
            programs.push(made);
        }
        let environment = environment::ActiveModel {
            id: NotSet,
            name: Set("prod-eu".into()),
            tier: Set(EnvironmentTier::Production),
        }
        .insert(&app.db)
        .await
        .unwrap();
        let history = Self {
            db: &app.db,
            now: api::time::now_micros(),
            environment: environment.id,
            versions: 0,
        };
        let mob = programs.pop().unwrap();
        let pay = programs.pop().unwrap();
        (history, pay, mob)
    }

    async fn release(&mut self, made: Made<'_>) -> release::Model {
        self.versions += 1;
        let release = release::ActiveModel {
            id: NotSet,
            program_id: Set(made.program.id),
            version: Set(format!("1.{}", self.versions)),
            name: Set("release".into()),
            description: Set(None),
            release_type: Set(made.kind),
            risk: Set(RiskLevel::Medium),
            strategy: Set(DeploymentStrategy::Canary),
            status: Set(made.status),
            owner: Set(None),
            planned_start: Set(None),
            planned_end: Set(made.planned_end),
            rollback_plan: Set(Some("redeploy".into())),
            revision: Set(1),
            created_at: Set(made.created),
            updated_at: Set(made.created),
            source_revision: NotSet,
        }
        .insert(self.db)
        .await
        .unwrap();
        for (to, at) in made.moves {
            release_event::ActiveModel {
                id: NotSet,
                release_id: Set(release.id),
                kind: Set(ReleaseEventKind::StatusChanged),
                actor: Set("rm".into()),
                at: Set(*at),
                from_status: Set(None),
                to_status: Set(Some(*to)),
                note: Set(None),
                overrode_freeze: Set(false),
            }
            .insert(self.db)
            .await
            .unwrap();
        }
        if let Some(at) = made.delivered {
            let mut deployments = vec![(DeploymentStatus::Succeeded, at)];
            if made.failed {
                deployments.push((DeploymentStatus::Failed, at - 1));
            }
            for (status, finished) in deployments {
                deployment::ActiveModel {
                    id: NotSet,
                    release_id: Set(release.id),
                    environment_id: Set(self.environment),
                    status: Set(status),
                    strategy: Set(DeploymentStrategy::Canary),
                    stage: Set(None),
                    is_rollback: Set(false),
                    started_at: Set(finished - 1_000_000),
                    finished_at: Set(Some(finished)),
                    external_id: Set(None),
                    source_id: Set(None),
                    last_event_at: Set(None),
                }
                .insert(self.db)
                .await
                .unwrap();
            }
        }
        release
    }

    /// The releases every test here starts from, delivered in the year before now.
    pub(crate) async fn classes(&mut self, pay: &program::Model) {
        for i in 1..=25 {
            let in_test = self.now - 200 * DAY + i * DAY;
            let delivered = in_test + i * DAY;
            self.release(Made {
                program: pay,
                kind: ReleaseType::Minor,
                status: ReleaseStatus::Deployed,
                created: in_test - DAY,
                planned_end: Some(if i <= 10 { delivered } else { delivered - DAY }),
                moves: &[
                    (ReleaseStatus::InTest, in_test),
                    (ReleaseStatus::Deployed, delivered),
                ],
                delivered: Some(delivered),
                failed: i <= 5,
            })
            .await;
        }
        for _ in 26..=28 {
            let in_test = self.now - 100 * DAY;
            self.release(Made {
                program: pay,
                kind: ReleaseType::Major,
                status: ReleaseStatus::Deployed,
                created: in_test - DAY,
                planned_end: None,
                moves: &[(ReleaseStatus::InTest, in_test)],
                delivered: Some(in_test + 30 * DAY),
                failed: false,
            })
            .await;
        }
    }

    /// A release under way in `status` since `entered`.
    pub(crate) async fn under_way(
        &mut self,
        program: &program::Model,
        kind: ReleaseType,
        status: ReleaseStatus,
        entered: i64,
        planned_end: Option<i64>,
    ) -> release::Model {
        let planned = status == ReleaseStatus::Planned;
        let moves = if planned {
            vec![]
        } else {
            vec![(status, entered)]
        };
        self.release(Made {
            program,
            kind,
            status,
            created: if planned { entered } else { entered - 3 * DAY },
            planned_end,
            moves: &moves,
            delivered: None,
            failed: false,
        })
        .await
    }
}

pub(crate) const FORECAST: &str = "query($id: ID!) { node(id: $id) { ... on Release { forecast {
  basis sampleSize stage enteredAt onTimeProbability p50 p85 expectedSlippageDays changeFailureRisk risk } } } }";

pub(crate) fn id(release: &release::Model) -> String {
    api::ids::encode(api::ids::NodeType::Release, release.id)
}

async fn forecast(
    app: &TestApp,
    role: Role,
    programs: Option<&[&str]>,
    release: &release::Model,
) -> Value {
    data(
        app.run_as(role, programs, FORECAST, json!({"id": id(release)}))
            .await,
    )["node"]["forecast"]
        .clone()
}

fn at(micros: i64) -> Value {
    json!(api::time::rfc3339(micros))
}

#[tokio::test]
async fn a_release_forecast_rests_on_the_comparable_releases_that_took_longer_so_far() {
    let app = TestApp::empty().await;
    let (mut h, pay, _) = History::new(&app).await;
    h.classes(&pay).await;
    // 2.5 days in IN_TEST, due 10 days after it entered: members of 3 to 25 days count.
    let entered = h.now - DAY * 5 / 2;
    let release = h
        .under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::InTest,
            entered,
            Some(entered + 10 * DAY),
        )
        .await;
    let f = forecast(&app, Role::Viewer, None, &release).await;
    assert_eq!(
        f,
        json!({"basis": "PROGRAM_AND_TYPE", "sampleSize": 23, "stage": "IN_TEST", "enteredAt": at(entered),
            "onTimeProbability": 8.0 / 23.0, "p50": at(entered + 14 * DAY), "p85": at(entered + 21 * DAY + DAY * 7 / 10),
            "expectedSlippageDays": 4.0, "changeFailureRisk": 0.2, "risk": "HIGH"})
    );
}

#[tokio::test]
async fn classes_fall_back_to_the_program_then_the_type_and_give_null_below_twenty() {
    let app = TestApp::empty().await;
    let (mut h, pay, mob) = History::new(&app).await;
    h.classes(&pay).await;
    let far = Some(h.now + 100 * DAY);
    // 6.5 days in: 19 MINOR members are too few; with the 3 MAJOR ones, 22.
    let program = h
        .under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::InTest,
            h.now - DAY * 13 / 2,
            far,
        )
        .await;
    let f = forecast(&app, Role::Viewer, None, &program).await;
    assert_eq!(
        (&f["basis"], &f["sampleSize"], &f["risk"]),
        (&json!("PROGRAM"), &json!(22), &json!("MEDIUM"))
    );

    // MOB has no history: MINOR releases of every program the caller may see.
    let typed = h
        .under_way(
            &mob,
            ReleaseType::Minor,
            ReleaseStatus::Planned,
            h.now - 1_000_000,
            far,
        )
        .await;
    let f = forecast(&app, Role::Viewer, None, &typed).await;
    assert_eq!(
        (&f["basis"], &f["sampleSize"], &f["onTimeProbability"]),
        (&json!("TYPE"), &json!(25), &json!(1.0))
    );
    // A caller who may see MOB alone has no class to rest on.
    assert_eq!(
        forecast(&app, Role::Viewer, Some(&["MOB"]), &typed).await,
        Value::Null
    );

    // No plannedEnd, not under way, or too few members (no release entered SCHEDULED).
    let unplanned = h
        .under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::InTest,
            h.now - DAY,
            None,
        )
        .await;
    let delivered = h
        .under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::Deployed,
            h.now - DAY,
            far,
        )
        .await;
    let scheduled = h
        .under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::Scheduled,
            h.now - DAY,
            far,
        )
        .await;
    for release in [&unplanned, &delivered, &scheduled] {
        assert_eq!(
            forecast(&app, Role::Viewer, None, release).await,
            Value::Null,
            "{}",
            release.version
        );
    }
}

#[tokio::test]
async fn a_release_past_its_planned_end_has_no_chance_of_being_on_time() {
    let app = TestApp::empty().await;
    let (mut h, pay, _) = History::new(&app).await;
    h.classes(&pay).await;
    let late = h
        .under_way(
            &pay,
            ReleaseType::Minor,
            ReleaseStatus::Planned,
            h.now - DAY / 2,
            Some(h.now - 1_000_000),
        )
        .await;
    let f = forecast(&app, Role::Viewer, None, &late).await;
    assert_eq!(
        (&f["onTimeProbability"], &f["risk"]),
        (&json!(0.0), &json!("HIGH"))
    );
}

#[tokio::test]
async fn a_page_of_releases_gets_its_forecasts_in_one_pass_and_only_in_scope() {
    let app = TestApp::empty().await;
    let (mut h, pay, mob) = History::new(&app).await;
    h.classes(&pay).await;
    let far = Some(h.now + 100 * DAY);
    for program in [&pay, &mob] {
        h.under_way(
            program,
            ReleaseType::Minor,
            ReleaseStatus::Planned,
            h.now - DAY,
            far,
        )
        .await;
    }
    let page = "{ releases(first: 50, filter: {statuses: [PLANNED]}) { nodes { program { key } forecast { basis sampleSize } } } }";
    let all = data(app.run_as(Role::Viewer, None, page, json!({})).await);
    let nodes = all["releases"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    for node in nodes {
        let expected = match node["program"]["key"].as_str() {
            Some("PAY") => json!({"basis": "PROGRAM_AND_TYPE", "sampleSize": 25}),
            _ => json!({"basis": "TYPE", "sampleSize": 25}),
        };
        assert_eq!(node["forecast"], expected);
    }
    let scoped = data(
        app.run_as(Role::Viewer, Some(&["MOB"]), page, json!({}))
            .await,
    );
    assert_eq!(
        scoped["releases"]["nodes"],
        json!([{"program": {"key": "MOB"}, "forecast": null}])
    );
}

const ACCURACY: &str =
    "query($filter: ForecastAccuracyFilter!) { forecastAccuracy(filter: $filter) {
  releases brierScore baseRateBrierScore calibration { from to predicted observed releases } } }";

async fn accuracy(app: &TestApp, filter: Value) -> Value {
    data(
        app.run_as(Role::Analyst, None, ACCURACY, json!({ "filter": filter }))
            .await,
    )["forecastAccuracy"]
        .clone()
}

#[tokio::test]
async fn accuracy_scores_what_was_known_before_each_moment_against_the_base_rate() {
    let app = TestApp::empty().await;
    let (mut h, pay, _) = History::new(&app).await;
    h.classes(&pay).await;
    // Delivered on time; at plannedEnd − 7 days it had been 2.5 days in IN_TEST.
    let planned_end = h.now - 20 * DAY;
    let moment = planned_end - 7 * DAY;
    let scored = h
        .release(Made {
            program: &pay,
            kind: ReleaseType::Minor,
            status: ReleaseStatus::Deployed,
            created: moment - 10 * DAY,
            planned_end: Some(planned_end),
            moves: &[
                (ReleaseStatus::InTest, moment - DAY * 5 / 2),
                (ReleaseStatus::Approved, moment + DAY),
            ],
            delivered: Some(planned_end - DAY),
            failed: false,
        })
        .await;
    let filter = json!({"from": api::time::rfc3339(moment), "to": api::time::rfc3339(h.now), "programKeys": ["PAY"]});
    let found = accuracy(&app, filter.clone()).await;
    // 9.5 days from IN_TEST to plannedEnd: 7 of the 23 members of 3 to 25 days; the base
    // rate is the 10 of 25 on time.
    let p = 7.0 / 23.0;
    assert_eq!(found["releases"], 1);
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-12;
    assert!(
        close(&found["brierScore"], (1.0 - p) * (1.0 - p)),
        "{found}"
    );
    assert!(close(&found["baseRateBrierScore"], 0.36), "{found}");
    let bins = found["calibration"].as_array().unwrap();
    assert_eq!(bins.len(), 10);
    for (i, bin) in bins.iter().enumerate() {
        assert!(close(&bin["from"], i as f64 / 10.0) && close(&bin["to"], (i + 1) as f64 / 10.0));
        if i == 3 {
            assert!(
                close(&bin["predicted"], p) && close(&bin["observed"], 1.0) && bin["releases"] == 1,
                "{bin}"
            );
        } else {
            assert_eq!(
                (&bin["predicted"], &bin["observed"], &bin["releases"]),
                (&Value::Null, &Value::Null, &json!(0))
            );
        }
    }

    // Later events (its move to APPROVED above, an incident now), deployments and
    // deliveries are invisible to the forecast made then.
    rm(&app, "mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }",
        json!({"releaseId": id(&scored), "title": "later", "severity": "SEV2", "causedByChange": true, "openedAt": api::time::rfc3339(h.now - DAY)})).await;
    h.release(Made {
        program: &pay,
        kind: ReleaseType::Minor,
        status: ReleaseStatus::Deployed,
        created: moment - 40 * DAY,
        planned_end: Some(moment),
        moves: &[(ReleaseStatus::InTest, moment - 39 * DAY)],
        delivered: Some(moment + DAY),
        failed: true,
    })
    .await;
    let other = app.another_process();
    let again = data(
        crate::support::run_in(
            &other,
            Some(&app.token(Role::Analyst, None)),
            ACCURACY,
            json!({ "filter": filter }),
        )
        .await,
    );
    assert_eq!(again["forecastAccuracy"], found);
}

#[tokio::test]
async fn accuracy_is_for_analysts_and_checks_its_filter() {
    let app = TestApp::empty().await;
    let (h, _, _) = History::new(&app).await;
    let filter = |extra: Value| {
        let mut f =
            json!({"from": api::time::rfc3339(h.now - 365 * DAY), "to": api::time::rfc3339(h.now)});
        if let (Some(f), Some(extra)) = (f.as_object_mut(), extra.as_object()) {
            f.extend(extra.clone());
        }
        json!({ "filter": f })
    };
    let viewer = app
        .run_as(Role::Viewer, None, ACCURACY, filter(json!({})))
        .await;
    assert_eq!(error_code(&viewer), "FORBIDDEN");
    for (extra, code) in [
        (json!({"leadDays": 0}), "BAD_USER_INPUT"),
        (json!({"leadDays": 91}), "BAD_USER_INPUT"),
        (json!({"programKeys": ["NOPE"]}), "NOT_FOUND"),
        (
            json!({"to": api::time::rfc3339(h.now - 400 * DAY)}),
            "BAD_USER_INPUT",
        ),
    ] {
        let refused = app
            .run_as(Role::Analyst, None, ACCURACY, filter(extra.clone()))
            .await;
        assert_eq!(error_code(&refused), code, "{extra}");
    }
    let scoped = app
        .run_as(
            Role::Analyst,
            Some(&["MOB"]),
            ACCURACY,
            filter(json!({"programKeys": ["PAY"]})),
        )
        .await;
    assert_eq!(error_code(&scoped), "NOT_FOUND");
    let empty = accuracy(&app, filter(json!({"leadDays": null}))["filter"].clone()).await;
    assert_eq!(
        (
            &empty["releases"],
            &empty["brierScore"],
            &empty["baseRateBrierScore"]
        ),
        (&json!(0), &Value::Null, &Value::Null)
    );
    assert_eq!(empty["calibration"].as_array().map(Vec::len), Some(10));
}
