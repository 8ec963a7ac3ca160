//! `defineBenchmark`: an edition of thresholds the bands can be read against (metrics.md,
//! *Benchmark editions*).

use analytics::{Benchmark, MetricName, Thresholds};
use entity::admin_event::AdminAction;
use entity::benchmark;
use entity::change::ChangeKind;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use super::program::audit;
use super::{Change, record_change};
use crate::auth::Viewer;
use crate::domain::validate::BenchmarkName;
use crate::error::{ApiError, ApiResult};
use crate::time;

/// An edition to define, its name already checked.
#[derive(Debug, Clone)]
pub struct NewBenchmark {
    pub name: BenchmarkName,
    pub deployment_frequency: Thresholds,
    pub lead_time: Thresholds,
    pub change_failure_rate: Thresholds,
    pub time_to_restore: Thresholds,
}

/// Stores the edition (replacing one of the same name), audits it and tells every process.
pub async fn define_benchmark(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewBenchmark,
) -> ApiResult<Change<Benchmark>> {
    viewer.require_global_admin()?;
    let edition = Benchmark {
        name: input.name.to_string(),
        built_in: false,
        deployment_frequency: input.deployment_frequency,
        lead_time: input.lead_time,
        change_failure_rate: input.change_failure_rate,
        time_to_restore: input.time_to_restore,
    };
    if let Some((metric, problem)) = edition.fault() {
        return Err(ApiError::bad_input(field(metric), problem));
    }
    let existing = benchmark::Entity::find()
        .filter(benchmark::Column::Name.eq(&edition.name))
        .one(txn)
        .await?;
    let row = benchmark::ActiveModel {
        id: existing.map_or(NotSet, |row| Set(row.id)),
        name: Set(edition.name.clone()),
        deployment_frequency_elite: Set(edition.deployment_frequency.elite),
        deployment_frequency_high: Set(edition.deployment_frequency.high),
        deployment_frequency_medium: Set(edition.deployment_frequency.medium),
        lead_time_elite: Set(edition.lead_time.elite),
        lead_time_high: Set(edition.lead_time.high),
        lead_time_medium: Set(edition.lead_time.medium),
        change_failure_rate_elite: Set(edition.change_failure_rate.elite),
        change_failure_rate_high: Set(edition.change_failure_rate.high),
        change_failure_rate_medium: Set(edition.change_failure_rate.medium),
        time_to_restore_elite: Set(edition.time_to_restore.elite),
        time_to_restore_high: Set(edition.time_to_restore.high),
        time_to_restore_medium: Set(edition.time_to_restore.medium),
        defined_by: Set(viewer.subject.clone()),
        defined_at: Set(time::now_micros()),
    };
    if row.id.is_set() {
        row.update(txn).await?;
    } else {
        row.insert(txn).await?;
    }
    record_change(txn, ChangeKind::Benchmark, None, None).await?;
    let detail = serde_json::json!({
        "deploymentFrequency": thresholds(edition.deployment_frequency),
        "leadTime": thresholds(edition.lead_time),
        "changeFailureRate": thresholds(edition.change_failure_rate),
        "timeToRestore": thresholds(edition.time_to_restore),
    });
    audit(
        txn,
        viewer,
        AdminAction::BenchmarkDefined,
        &edition.name,
        detail,
    )
    .await?;
    Ok(Change::new(edition, None))
}

/// The input field of a metric's thresholds.
fn field(metric: MetricName) -> &'static str {
    match metric {
        MetricName::DeploymentFrequency => "deploymentFrequency",
        MetricName::LeadTime => "leadTime",
        MetricName::ChangeFailureRate => "changeFailureRate",
        _ => "timeToRestore",
    }
}

fn thresholds(t: Thresholds) -> serde_json::Value {
    serde_json::json!({ "elite": t.elite, "high": t.high, "medium": t.medium })
}
