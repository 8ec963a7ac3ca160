//! The demo data set is written row by row, not through the commands, so these tests hold
//! it to the same rules: every release's audit trail replays through the lifecycle, and the
//! data shows every deployment strategy of the contract.

use std::collections::{BTreeMap, BTreeSet};

use api::domain::lifecycle::{after_production_deployment, check_transition};
use entity::enums::{DeploymentStatus, DeploymentStrategy, ReleaseEventKind, ReleaseStatus};
use entity::{deployment, release, release_event};
use sea_orm::{EntityTrait, Iterable, QueryOrder};

use crate::support::TestApp;

/// Whether an event of `kind` may move a release from `from` to `to` (lifecycle.md).
fn allowed(kind: ReleaseEventKind, from: ReleaseStatus, to: ReleaseStatus) -> bool {
    use ReleaseStatus::*;
    match kind {
        ReleaseEventKind::StatusChanged => check_transition(from, to).is_ok(),
        // A production deployment moves an APPROVED or DEPLOYING release along.
        ReleaseEventKind::DeploymentRecorded => [
            DeploymentStatus::Succeeded,
            DeploymentStatus::Failed,
            DeploymentStatus::InProgress,
        ]
        .into_iter()
        .any(|status| after_production_deployment(from, status) == Some(to)),
        ReleaseEventKind::RolledBack => matches!(from, Deploying | Deployed) && to == RolledBack,
        ReleaseEventKind::OutcomeRecorded => {
            matches!(from, Deployed | RolledBack) && to == Reviewed
        }
        _ => false,
    }
}

#[tokio::test]
async fn every_demo_release_history_replays_through_the_lifecycle() {
    let app = TestApp::empty().await;
    app.seed_demo().await;
    let releases = release::Entity::find().all(&app.db).await.unwrap();
    let mut events: BTreeMap<i64, Vec<release_event::Model>> = BTreeMap::new();
    for event in release_event::Entity::find()
        .order_by_asc(release_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
    {
        events.entry(event.release_id).or_default().push(event);
    }
    let mut replayed = 0;
    for release in &releases {
        let trail = events
            .get(&release.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(
            trail.first().map(|e| e.kind),
            Some(ReleaseEventKind::Created),
            "{} starts with its creation",
            release.version
        );
        assert_eq!(
            release.revision as usize,
            trail.len(),
            "{}: one revision per event",
            release.version
        );
        let mut status = ReleaseStatus::Planned;
        let mut at = i64::MIN;
        for event in trail {
            assert!(
                event.at >= at,
                "{}: events go forward in time",
                release.version
            );
            at = event.at;
            let Some(to) = event.to_status else {
                assert_eq!(event.from_status, None, "{}: {event:?}", release.version);
                continue;
            };
            assert_eq!(
                event.from_status,
                Some(status),
                "{}: {event:?}",
                release.version
            );
            assert!(
                allowed(event.kind, status, to),
                "{}: {:?} may not move {} to {}",
                release.version,
                event.kind,
                status.as_str(),
                to.as_str()
            );
            status = to;
            replayed += 1;
        }
        assert_eq!(
            status, release.status,
            "{} ends where it stands",
            release.version
        );
    }
    assert!(replayed > releases.len(), "statuses moved: {replayed}");
}

#[tokio::test]
async fn the_demo_uses_every_deployment_strategy() {
    let app = TestApp::empty().await;
    app.seed_demo().await;
    let every: BTreeSet<&str> = DeploymentStrategy::iter().map(|s| s.as_str()).collect();
    let releases: BTreeSet<&str> = release::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.strategy.as_str())
        .collect();
    let deployments: BTreeSet<&str> = deployment::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|d| d.strategy.as_str())
        .collect();
    assert_eq!(releases, every, "release strategies");
    assert_eq!(deployments, every, "deployment strategies");
}

#[tokio::test]
async fn the_demo_has_an_ingestion_history_that_compliance_reads() {
    use serde_json::json;

    let app = TestApp::empty().await;
    app.seed_demo().await;
    let data = app
        .admin(
            "{ ingestSources { key kind lastDeliveryAt } applied: deliveries(filter: { statuses: [APPLIED] }) { totalCount }
               unmatched: deliveries(filter: { statuses: [UNMATCHED] }) { totalCount }
               rejected: deliveries(filter: { statuses: [REJECTED] }) { totalCount nodes { errorCode } }
               ignored: deliveries(filter: { statuses: [IGNORED] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["ingestSources"].as_array().map(Vec::len), Some(10));
    for status in ["applied", "unmatched", "rejected", "ignored"] {
        assert!(
            data[status]["totalCount"].as_i64().unwrap() > 0,
            "{status}: {data}"
        );
    }
    assert!(
        data["applied"]["totalCount"].as_i64() > data["unmatched"]["totalCount"].as_i64(),
        "mostly applied"
    );
    let now = chrono::Utc::now();
    let filter =
        json!({"from": (now - chrono::Duration::days(730)).to_rfc3339(), "to": now.to_rfc3339()});
    let metrics = app
        .admin(
            "query($f: MetricsFilter!) { metrics(filter: $f) { compliance { productionDeployments ingestedDeployments unplannedDeployments unplannedRate } } }",
            json!({"f": filter}),
        )
        .await;
    let c = &metrics["metrics"]["compliance"];
    let (production, ingested) = (
        c["productionDeployments"].as_i64().unwrap(),
        c["ingestedDeployments"].as_i64().unwrap(),
    );
    assert!(ingested > production / 2 && ingested < production, "{c}");
    assert!(c["unplannedDeployments"].as_i64().unwrap() > 0, "{c}");
    assert!(c["unplannedRate"].as_f64().unwrap() < 0.1, "{c}");
}

#[tokio::test]
async fn the_demo_is_deploying_now_and_leaves_no_deployment_running_for_days() {
    use serde_json::json;

    let app = TestApp::empty().await;
    let cipher = crate::support::cipher();
    app.seed_demo().await;
    let data = app
        .admin(
            "{ releases(filter: { statuses: [DEPLOYING] }, first: 100) { nodes { version type
                 deployments { status startedAt environment { tier } } } } }",
            json!({}),
        )
        .await;
    let deploying = data["releases"]["nodes"].as_array().unwrap();
    let running = deploying.iter().filter(|r| {
        r["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["status"] == "IN_PROGRESS" && d["environment"]["tier"] == "PRODUCTION")
    });
    assert!(running.count() >= 1, "{data}");

    // No deployment is left IN_PROGRESS under a release that went live more than a day ago.
    let day_ago = chrono::Utc::now().timestamp_micros() - 86_400_000_000;
    let releases: std::collections::HashMap<i64, release::Model> = release::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let deployments = deployment::Entity::find().all(&app.db).await.unwrap();
    let went_live = |release_id: i64| {
        deployments
            .iter()
            .filter(|d| d.release_id == release_id && d.status.as_str() == "SUCCEEDED")
            .filter_map(|d| d.finished_at)
            .min()
    };
    for d in deployments
        .iter()
        .filter(|d| d.status.as_str() == "IN_PROGRESS")
    {
        let release = &releases[&d.release_id];
        assert!(
            went_live(release.id).is_none_or(|at| at > day_ago),
            "{} has a deployment running since {}",
            release.version,
            d.started_at
        );
        assert!(d.started_at > day_ago, "running for days: {d:?}");
    }

    // Its ingest sources have random secrets, sealed with the server key.
    let sources = entity::ingest_source::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let opened: BTreeSet<String> = sources
        .iter()
        .map(|s| {
            cipher
                .open(api::secrets::Purpose::IngestSource, &s.secret)
                .expect("a sealed secret")
        })
        .collect();
    assert_eq!(opened.len(), sources.len(), "each its own secret");
    let again = TestApp::empty().await;
    again.seed_demo().await;
    let other = entity::ingest_source::Entity::find()
        .one(&again.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !opened.contains(
            &cipher
                .open(api::secrets::Purpose::IngestSource, &other.secret)
                .unwrap()
        ),
        "not made from the seed"
    );
}

/// The demo's improvement actions with a target show every verdict: the programs that
/// changed their habits at the action really changed, and some did not.
#[tokio::test]
async fn the_demo_shows_every_impact_verdict() {
    let app = TestApp::empty().await;
    app.seed_demo().await;
    let now = chrono::Utc::now();
    let year = serde_json::json!({"filter": {
        "from": (now - chrono::Duration::days(365)).to_rfc3339(),
        "to": now.to_rfc3339(),
    }});
    let listed = crate::support::data(
        app.run_as(
            api::auth::Role::Analyst,
            None,
            "query($filter: ImpactFilter!) { improvementImpact(filter: $filter) {
               action { title release { program { key } } } impact { metric verdict } } }",
            year,
        )
        .await,
    );
    let verdicts: BTreeMap<String, (String, String)> = listed["improvementImpact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["action"]["release"]["program"]["key"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                (
                    row["impact"]["metric"].as_str().unwrap().to_owned(),
                    row["impact"]["verdict"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    let pair = |metric: &str, verdict: &str| (metric.to_owned(), verdict.to_owned());
    assert_eq!(
        verdicts.get("PAY"),
        Some(&pair("LEAD_TIME", "IMPROVED")),
        "{verdicts:?}"
    );
    assert_eq!(
        verdicts.get("TOOLS"),
        Some(&pair("LEAD_TIME", "WORSENED")),
        "{verdicts:?}"
    );
    let others: BTreeSet<&str> = verdicts.values().map(|(_, v)| v.as_str()).collect();
    assert!(others.contains("NO_DETECTABLE_CHANGE"), "{verdicts:?}");
    assert!(others.contains("INSUFFICIENT_DATA"), "{verdicts:?}");
}
