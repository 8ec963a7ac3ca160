//! The forecast dataset: one row per release under way of the report's programs, with its
//! forecast exactly as `Release.forecast` gives it (metrics.md, *Forecast*), empty where it
//! has none.

use entity::release;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::mpsc;

use super::batch::{Batch, Kind, Spec, Values, count};
use super::{Export, Message, send_rows};
use crate::error::ApiResult;
use crate::ids::NodeType;
use crate::metrics::cache::MetricsCache;
use crate::queries::forecast::{UNDER_WAY, forecasts, stored_status, subject};
use crate::time;

use Kind::{Float, Id, Int, Text, Time};

pub const COLUMNS: &[Spec] = &[
    Spec::new("release_id", Id(NodeType::Release), ""),
    Spec::new("program_key", Text, ""),
    Spec::new("release_version", Text, ""),
    Spec::new("release_name", Text, ""),
    Spec::new("type", Text, ""),
    Spec::new("planned_end", Time, ""),
    Spec::new("stage", Text, ""),
    Spec::new("entered_at", Time, ""),
    Spec::new("basis", Text, ""),
    Spec::new("sample_size", Int, ""),
    Spec::new("on_time_probability", Float, ""),
    Spec::new("p50", Time, ""),
    Spec::new("p85", Time, ""),
    Spec::new("expected_slippage_days", Float, ""),
    Spec::new("change_failure_risk", Float, ""),
    Spec::new("risk", Text, ""),
];

/// One row of the report.
struct Row<'a> {
    release: &'a release::Model,
    program: &'a str,
    forecast: Option<&'a analytics::Forecast>,
}

fn basis(basis: analytics::Basis) -> &'static str {
    match basis {
        analytics::Basis::ProgramAndType => "PROGRAM_AND_TYPE",
        analytics::Basis::Program => "PROGRAM",
        analytics::Basis::Type => "TYPE",
    }
}

fn risk(risk: analytics::Risk) -> &'static str {
    match risk {
        analytics::Risk::Low => "LOW",
        analytics::Risk::Medium => "MEDIUM",
        analytics::Risk::High => "HIGH",
    }
}

fn batch(rows: &[Row<'_>]) -> Batch {
    let text = |f: &dyn Fn(&Row<'_>) -> Option<String>| rows.iter().map(f).collect();
    let int = |f: &dyn Fn(&Row<'_>) -> Option<i64>| rows.iter().map(f).collect();
    let float = |f: &dyn Fn(&Row<'_>) -> Option<f64>| rows.iter().map(f).collect();
    Batch::from_columns(
        COLUMNS,
        vec![
            Values::Text(text(&|r| {
                Some(crate::ids::encode(NodeType::Release, r.release.id))
            })),
            Values::Text(text(&|r| Some(r.program.to_owned()))),
            Values::Text(text(&|r| Some(r.release.version.clone()))),
            Values::Text(text(&|r| Some(r.release.name.clone()))),
            Values::Text(text(&|r| Some(r.release.release_type.as_str().to_owned()))),
            Values::Time(int(&|r| r.release.planned_end)),
            Values::Text(text(&|r| {
                r.forecast
                    .map(|f| stored_status(f.stage).as_str().to_owned())
            })),
            Values::Time(int(&|r| r.forecast.map(|f| f.entered_at))),
            Values::Text(text(&|r| r.forecast.map(|f| basis(f.basis).to_owned()))),
            Values::Int(int(&|r| r.forecast.and_then(|f| count(f.sample_size)))),
            Values::Float(float(&|r| r.forecast.map(|f| f.on_time_probability))),
            Values::Time(int(&|r| r.forecast.map(|f| f.p50))),
            Values::Time(int(&|r| r.forecast.map(|f| f.p85))),
            Values::Float(float(&|r| r.forecast.map(|f| f.expected_slippage_days))),
            Values::Float(float(&|r| r.forecast.and_then(|f| f.change_failure_risk))),
            Values::Text(text(&|r| r.forecast.map(|f| risk(f.risk).to_owned()))),
        ],
    )
}

/// Reads the releases under way of `export`'s programs, forecasts them in one pass (the
/// TYPE class over every program the caller may see) and hands the rows to the writer,
/// ordered by program key, plannedEnd (none last) and id.
pub async fn produce(
    db: &DatabaseConnection,
    cache: &MetricsCache,
    export: &Export,
    tx: &mpsc::Sender<Message>,
) -> ApiResult<()> {
    use release::Column as R;
    let mut releases = release::Entity::find()
        .filter(R::Status.is_in(UNDER_WAY))
        .filter(R::ProgramId.is_in(export.programs.iter().map(|p| p.id)))
        .all(db)
        .await?;
    let key = |program: i64| {
        export
            .programs
            .iter()
            .find(|p| p.id == program)
            .map_or("", |p| p.key.as_str())
    };
    // In Rust: the databases order nulls differently.
    releases.sort_by_key(|r| {
        (
            key(r.program_id),
            r.planned_end.is_none(),
            r.planned_end,
            r.id,
        )
    });
    let snapshot = cache.snapshot(db).await?;
    let found = forecasts(
        &snapshot,
        &export.scope,
        time::now_micros(),
        releases.iter().map(subject).collect(),
    )
    .await?;
    let rows: Vec<Row<'_>> = releases
        .iter()
        .zip(&found)
        .map(|(release, forecast)| Row {
            release,
            program: key(release.program_id),
            forecast: forecast.as_ref(),
        })
        .collect();
    send_rows(tx, export, &rows, batch).await;
    Ok(())
}
