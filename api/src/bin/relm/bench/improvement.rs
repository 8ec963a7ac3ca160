//! What continuous improvement adds to the warm path: `metrics` read against another
//! benchmark edition and with fewer severities (each against the default, same window),
//! `improvementImpact` over the last year for every program, and one action's impact.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{METRICS, millis, run, summary};
use crate::output::outln;
use api::app::AppState;
use api::time::{self, DAY_MICROS};

const IMPACT: &str = "query($filter: ImpactFilter!) { improvementImpact(filter: $filter) {
  action { id } impact { verdict change low high baselineChange } } }";

const ONE: &str = "query($id: ID!) { node(id: $id) { ... on ImprovementAction {
  impact { verdict change low high baselineChange } } } }";

/// `iterations` warm runs of `query`, after one that is not counted.
async fn warm(
    state: &AppState,
    iterations: usize,
    query: &str,
    variables: &Value,
) -> anyhow::Result<(Vec<Duration>, Value)> {
    let data = run(state, query, variables.clone()).await?;
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        run(state, query, variables.clone()).await?;
        samples.push(started.elapsed());
    }
    Ok((samples, data))
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples.get(samples.len() / 2).map_or(0.0, |d| millis(*d))
}

/// Prints the timings, each warm metrics variant beside the default over `filter`.
pub async fn bench(state: &AppState, iterations: usize, filter: &Value) -> anyhow::Result<()> {
    let with = |key: &str, value: Value| {
        let mut filter = filter.clone();
        filter[key] = value;
        json!({ "filter": filter })
    };
    let (default, _) = warm(state, iterations, METRICS, &json!({ "filter": filter })).await?;
    let default = median(default);
    for (what, variables) in [
        ("benchmark DORA_2021", with("benchmark", json!("DORA_2021"))),
        (
            "severities SEV1, SEV2",
            with("severities", json!(["SEV1", "SEV2"])),
        ),
    ] {
        let (samples, _) = warm(state, iterations, METRICS, &variables).await?;
        let this = median(samples.clone());
        outln!(
            "metrics with {what}, warm: {} ({:+.0}% against the default's median {default:.1} ms)",
            summary(samples),
            (this / default - 1.0) * 100.0
        );
    }

    let to = time::now_micros();
    let year = json!({ "filter": { "from": time::rfc3339(to - 365 * DAY_MICROS), "to": time::rfc3339(to) } });
    let started = Instant::now();
    run(state, IMPACT, year.clone()).await?;
    let first = started.elapsed();
    let (samples, data) = warm(state, iterations, IMPACT, &year).await?;
    let listed = data["improvementImpact"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    outln!(
        "improvementImpact over the last year, every program ({} actions): first {:.1} ms, warm {}",
        listed.len(),
        millis(first),
        summary(samples)
    );
    if let Some(action) = listed.first() {
        let (samples, _) = warm(
            state,
            iterations,
            ONE,
            &json!({ "id": action["action"]["id"] }),
        )
        .await?;
        outln!("one action's impact, warm: {}", summary(samples));
    }
    Ok(())
}
