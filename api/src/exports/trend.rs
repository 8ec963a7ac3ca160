//! The trend dataset: `metrics.trend` for each program alone, one row per program and
//! bucket, computed by the same analytics store as `Query.metrics` (production tiers).

use analytics::{Query, Tier};
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use super::batch::{Batch, Kind, Spec, Values, count};
use super::{Export, Message, send_rows};
use crate::error::ApiResult;
use crate::metrics::cache::MetricsCache;

use Kind::{Float, Int, Text, Time};

pub const COLUMNS: &[Spec] = &[
    Spec::new("program_key", Text, ""),
    Spec::new("bucket_start", Time, ""),
    Spec::new("bucket_end", Time, ""),
    Spec::new("deployments", Int, ""),
    Spec::new("failed_deployments", Int, ""),
    Spec::new("change_failure_rate", Float, ""),
    Spec::new("lead_time_median_hours", Float, ""),
    Spec::new("time_to_restore_median_hours", Float, ""),
    Spec::new("releases_delivered", Int, ""),
    Spec::new("on_time_rate", Float, ""),
];

/// One row of the report.
struct Row<'a> {
    program: &'a str,
    bucket: &'a analytics::Bucket,
}

fn batch(rows: &[Row<'_>]) -> Batch {
    let column = |f: &dyn Fn(&Row<'_>) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
    let float = |f: &dyn Fn(&Row<'_>) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    Batch::from_columns(
        COLUMNS,
        vec![
            Values::Text(rows.iter().map(|r| Some(r.program.to_owned())).collect()),
            Values::Time(column(&|r| Some(r.bucket.start))),
            Values::Time(column(&|r| Some(r.bucket.end))),
            Values::Int(column(&|r| count(r.bucket.deployments))),
            Values::Int(column(&|r| count(r.bucket.failed_deployments))),
            Values::Float(float(&|r| r.bucket.change_failure_rate)),
            Values::Float(float(&|r| r.bucket.lead_time_median_hours)),
            Values::Float(float(&|r| r.bucket.time_to_restore_median_hours)),
            Values::Int(column(&|r| count(r.bucket.releases_delivered))),
            Values::Float(float(&|r| r.bucket.on_time_rate)),
        ],
    )
}

/// Computes the trend of every program in `export` and hands it to the writer.
pub async fn produce(
    db: &DatabaseConnection,
    cache: &MetricsCache,
    export: &Export,
    tx: &mpsc::Sender<Message>,
) -> ApiResult<()> {
    let (from, to) = export.window()?;
    let snapshot = cache.snapshot(db).await?;
    let metrics = snapshot
        .metrics(Query {
            from,
            to,
            programs: export.programs.clone(),
            tiers: vec![Tier::Production],
            team: None,
            granularity: export.granularity,
            program_trends: true,
            benchmark: analytics::Benchmark::default_edition(),
            severities: analytics::Severities::ALL,
        })
        .await?;
    let rows: Vec<Row<'_>> = metrics
        .by_program
        .iter()
        .flat_map(|p| {
            p.trend.iter().map(|bucket| Row {
                program: &p.program_key,
                bucket,
            })
        })
        .collect();
    send_rows(tx, export, &rows, batch).await;
    Ok(())
}
