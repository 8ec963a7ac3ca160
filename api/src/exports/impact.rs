//! The impact dataset: one row per improvement action in effect in the window, with its
//! impact exactly as `Query.improvementImpact` gives it (metrics.md, *Improvement impact*).

use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use super::batch::{Batch, Kind, Spec, Values, count};
use super::{Export, Message, send_rows};
use crate::auth::Scope;
use crate::error::ApiResult;
use crate::ids::{self, NodeType};
use crate::metrics::cache::MetricsCache;
use crate::queries::impact::{Listed, impacts_in_scope, in_effect};
use crate::queries::metrics::stored;
use crate::time;

use Kind::{Bool, Float, Id, Int, Text, Time};

pub const COLUMNS: &[Spec] = &[
    Spec::new("action_id", Id(NodeType::ImprovementAction), ""),
    Spec::new("action_title", Text, ""),
    Spec::new("program_key", Text, ""),
    Spec::new("release_id", Id(NodeType::Release), ""),
    Spec::new("release_version", Text, ""),
    Spec::new("metric", Text, ""),
    Spec::new("effective_at", Time, ""),
    Spec::new("window_days", Int, ""),
    Spec::new("before_from", Time, ""),
    Spec::new("before_to", Time, ""),
    Spec::new("before_value", Float, ""),
    Spec::new("before_observations", Int, ""),
    Spec::new("after_from", Time, ""),
    Spec::new("after_to", Time, ""),
    Spec::new("after_value", Float, ""),
    Spec::new("after_observations", Int, ""),
    Spec::new("partial", Bool, ""),
    Spec::new("change", Float, ""),
    Spec::new("relative_change", Float, ""),
    Spec::new("low", Float, ""),
    Spec::new("high", Float, ""),
    Spec::new("verdict", Text, ""),
    Spec::new("baseline_change", Float, ""),
    Spec::new("net_change", Float, ""),
];

/// One row of the report.
struct Row<'a> {
    listed: &'a Listed,
    program: &'a str,
    impact: &'a analytics::Impact,
}

fn verdict(verdict: analytics::Verdict) -> &'static str {
    match verdict {
        analytics::Verdict::Improved => "IMPROVED",
        analytics::Verdict::Worsened => "WORSENED",
        analytics::Verdict::NoDetectableChange => "NO_DETECTABLE_CHANGE",
        analytics::Verdict::InsufficientData => "INSUFFICIENT_DATA",
    }
}

fn batch(rows: &[Row<'_>]) -> Batch {
    let text = |f: &dyn Fn(&Row<'_>) -> String| rows.iter().map(|r| Some(f(r))).collect();
    let int = |f: &dyn Fn(&Row<'_>) -> Option<i64>| rows.iter().map(f).collect();
    let float = |f: &dyn Fn(&Row<'_>) -> Option<f64>| rows.iter().map(f).collect();
    Batch::from_columns(
        COLUMNS,
        vec![
            Values::Text(text(&|r| {
                ids::encode(NodeType::ImprovementAction, r.listed.action.id)
            })),
            Values::Text(text(&|r| r.listed.action.title.clone())),
            Values::Text(text(&|r| r.program.to_owned())),
            Values::Text(text(&|r| {
                ids::encode(NodeType::Release, r.listed.release.id)
            })),
            Values::Text(text(&|r| r.listed.release.version.clone())),
            Values::Text(text(&|r| stored(r.impact.metric).as_str().to_owned())),
            Values::Time(int(&|r| Some(r.impact.effective_at))),
            Values::Int(int(&|r| Some(i64::from(r.impact.window_days)))),
            Values::Time(int(&|r| Some(r.impact.before.from))),
            Values::Time(int(&|r| Some(r.impact.before.to))),
            Values::Float(float(&|r| r.impact.before.value)),
            Values::Int(int(&|r| count(r.impact.before.observations))),
            Values::Time(int(&|r| Some(r.impact.after.from))),
            Values::Time(int(&|r| Some(r.impact.after.to))),
            Values::Float(float(&|r| r.impact.after.value)),
            Values::Int(int(&|r| count(r.impact.after.observations))),
            Values::Bool(rows.iter().map(|r| Some(r.impact.partial)).collect()),
            Values::Float(float(&|r| r.impact.change)),
            Values::Float(float(&|r| r.impact.relative_change)),
            Values::Float(float(&|r| r.impact.low)),
            Values::Float(float(&|r| r.impact.high)),
            Values::Text(text(&|r| verdict(r.impact.verdict).to_owned())),
            Values::Float(float(&|r| r.impact.baseline_change)),
            Values::Float(float(&|r| r.impact.net_change)),
        ],
    )
}

/// Lists the actions of `export`'s programs in effect in its window, computes their impact
/// (the baseline over every program the caller may see) and hands the rows to the writer.
pub async fn produce(
    db: &DatabaseConnection,
    cache: &MetricsCache,
    export: &Export,
    tx: &mpsc::Sender<Message>,
) -> ApiResult<()> {
    let (from, to) = export.window()?;
    let programs = Scope::Programs(export.programs.iter().map(|p| p.id).collect());
    let listed = in_effect(db, &programs, from, to).await?;
    let snapshot = cache.snapshot(db).await?;
    let references = listed.iter().map(|l| l.reference).collect();
    let found = impacts_in_scope(
        &snapshot,
        &export.scope,
        export.window_days,
        time::now_micros(),
        references,
    )
    .await?;
    let rows: Vec<Row<'_>> = listed
        .iter()
        .zip(&found)
        .map(|(listed, impact)| Row {
            listed,
            program: export
                .programs
                .iter()
                .find(|p| p.id == listed.release.program_id)
                .map_or("", |p| p.key.as_str()),
            impact,
        })
        .collect();
    send_rows(tx, export, &rows, batch).await;
    Ok(())
}
