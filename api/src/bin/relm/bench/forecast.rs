//! What forecasts add to the warm path: every release under way forecast in one pass of the
//! analytics store, a page of 20 releases with their forecast against the same page without,
//! and `forecastAccuracy` over the last year of one program.

use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::{millis, run, summary};
use crate::output::outln;
use api::app::AppState;
use api::auth::Scope;
use api::queries::forecast::{UNDER_WAY, forecasts, subject};
use api::time::{self, DAY_MICROS};

/// Two pages of 20 releases under way: the bare page (four scalar fields), and the page the
/// read path measures (program, readiness, deployments and their environments).
const PAGES: [(&str, &str); 2] = [
    ("bare", "id version status plannedEnd"),
    (
        "with program, readiness, deployments",
        "id version status plannedEnd program { key name } readiness { ready blockers } \
         deployments { status environment { name tier } }",
    ),
];

const FORECAST: &str =
    "forecast { basis sampleSize onTimeProbability p50 p85 changeFailureRisk risk }";

fn page(fields: &str) -> String {
    format!(
        "query($statuses: [ReleaseStatus!]) {{ releases(first: 20, filter: {{statuses: $statuses}}) {{ nodes {{ {fields} }} }} }}"
    )
}

const ACCURACY: &str =
    "query($filter: ForecastAccuracyFilter!) { forecastAccuracy(filter: $filter) {
  releases brierScore baseRateBrierScore calibration { predicted observed releases } } }";

/// `iterations` warm runs of `query`, after one that is not counted.
async fn warm(
    state: &AppState,
    iterations: usize,
    query: &str,
    variables: &Value,
) -> anyhow::Result<Vec<Duration>> {
    run(state, query, variables.clone()).await?;
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        run(state, query, variables.clone()).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples.get(samples.len() / 2).map_or(0.0, |d| millis(*d))
}

/// Prints the forecast timings.
pub async fn bench(state: &AppState, iterations: usize) -> anyhow::Result<()> {
    let under_way = entity::release::Entity::find()
        .filter(entity::release::Column::Status.is_in(UNDER_WAY))
        .all(&state.db)
        .await?;
    let subjects: Vec<_> = under_way.iter().map(subject).collect();
    let snapshot = state.analytics.snapshot(&state.db).await?;
    let mut samples = Vec::with_capacity(iterations);
    let mut forecast = 0;
    for n in 0..=iterations {
        let started = Instant::now();
        let found = forecasts(&snapshot, &Scope::All, time::now_micros(), subjects.clone()).await?;
        // The first builds the store's delivery histories; the rest are warm.
        if n > 0 {
            samples.push(started.elapsed());
        }
        forecast = found.iter().flatten().count();
    }
    outln!(
        "forecasts of every release under way ({} releases, {forecast} with a forecast), warm: {}",
        subjects.len(),
        summary(samples)
    );

    let statuses = json!({ "statuses": UNDER_WAY.map(|s| s.as_str()) });
    for (shape, fields) in PAGES {
        let without = warm(state, iterations, &page(fields), &statuses).await?;
        let with = warm(
            state,
            iterations,
            &page(&format!("{fields} {FORECAST}")),
            &statuses,
        )
        .await?;
        let (plain, forecast) = (median(without.clone()), median(with.clone()));
        outln!(
            "a page of 20 releases under way, {shape}, warm: {}",
            summary(without)
        );
        outln!(
            "the same page with forecast, warm: {} ({:+.0}% against the page without)",
            summary(with),
            (forecast / plain - 1.0) * 100.0
        );
    }

    let program = entity::program::Entity::find()
        .order_by_asc(entity::program::Column::Key)
        .one(&state.db)
        .await?;
    if let Some(program) = program {
        let to = time::now_micros();
        let year = json!({ "filter": { "from": time::rfc3339(to - 365 * DAY_MICROS), "to": time::rfc3339(to),
            "programKeys": [program.key] } });
        let started = Instant::now();
        let data = run(state, ACCURACY, year.clone()).await?;
        let first = started.elapsed();
        let samples = warm(state, iterations, ACCURACY, &year).await?;
        outln!(
            "forecastAccuracy over the last year of {} ({} releases): first {:.1} ms, warm {}",
            program.key,
            data["forecastAccuracy"]["releases"],
            millis(first),
            summary(samples)
        );
    }
    Ok(())
}
