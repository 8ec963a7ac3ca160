//! Reports for analysts: the datasets of interface.md as CSV, Parquet or JSON lines.
//!
//! A report is read in batches of about [`BATCH_CELLS`] values (keyset pages on the
//! record's id), and each batch goes through polars' writer on the blocking pool while the next one is
//! read, so memory stays flat however long the report is. `GET /v1/exports/…` streams the
//! bytes to the client as they are written; `relm export` writes them to a file.

mod batch;
mod forecast;
mod impact;
mod params;
mod records;
mod trend;
mod write;

use std::io::Write;
use std::str::FromStr;

use analytics::{Granularity, ProgramRef};
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use batch::{Batch, Spec};
pub use params::{ExportError, ParamError, Params, resolve};
pub use records::count;

use crate::auth::Scope;
use crate::error::{ApiError, ApiResult};
use crate::metrics::cache::MetricsCache;
use crate::progress::Progress;

/// Values per batch: few enough queries and reasonable Parquet row groups (38,000 rows of
/// deployments), with memory that stays in the tens of megabytes however wide the rows.
pub const BATCH_CELLS: usize = 500_000;

/// A report of interface.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Releases,
    Deployments,
    Incidents,
    Actions,
    Trend,
    Impact,
    Forecast,
}

impl Dataset {
    pub const ALL: [Self; 7] = [
        Self::Releases,
        Self::Deployments,
        Self::Incidents,
        Self::Actions,
        Self::Trend,
        Self::Impact,
        Self::Forecast,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Releases => "releases",
            Self::Deployments => "deployments",
            Self::Incidents => "incidents",
            Self::Actions => "actions",
            Self::Trend => "trend",
            Self::Impact => "impact",
            Self::Forecast => "forecast",
        }
    }

    /// Whether the report is computed by the analytics store over a window rather than
    /// read as records; such a report needs one.
    pub fn computed(self) -> bool {
        matches!(self, Self::Trend | Self::Impact)
    }

    /// The report's columns, in order.
    pub fn columns(self) -> &'static [Spec] {
        match self {
            Self::Trend => trend::COLUMNS,
            Self::Impact => impact::COLUMNS,
            Self::Forecast => forecast::COLUMNS,
            _ => records::table(self).map_or(&[], |table| table.columns),
        }
    }

    /// Rows per batch.
    pub fn batch_rows(self) -> usize {
        BATCH_CELLS / self.columns().len()
    }
}

/// A file format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Json,
}

impl Format {
    pub const ALL: [Self; 3] = [Self::Csv, Self::Parquet, Self::Json];

    /// The file extension, which is also the format's name.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8; header=present",
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Json => "application/x-ndjson",
        }
    }
}

/// The one of `all` called `name`, or an error that lists the names.
fn named<T: Copy>(
    all: &[T],
    name: &str,
    name_of: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|t| name_of(*t) == name)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|t| name_of(*t)).collect();
            format!("no {what} '{name}'; the {what}s are {}", names.join(", "))
        })
}

impl FromStr for Dataset {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        named(&Self::ALL, name, Self::name, "dataset")
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        named(&Self::ALL, name, Self::extension, "format")
    }
}

/// A checked request for a report: see [`resolve`].
#[derive(Debug, Clone)]
pub struct Export {
    pub dataset: Dataset,
    pub format: Format,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The programs in the report, ordered by key.
    pub programs: Vec<ProgramRef>,
    /// Whether `programs` is every program, so records need no program condition.
    pub every_program: bool,
    pub granularity: Granularity,
    /// The programs the caller may see, over which the impact's baseline is computed.
    pub scope: Scope,
    /// The impact dataset's `windowDays`.
    pub window_days: u32,
}

/// What the writer receives: a batch, or `None` once the report is complete. A channel
/// that closes before `None` means the report failed, and the file is left unfinished.
type Message = Option<Batch>;

/// Writes the report `export` to `out`, counting its rows on `progress`, and returns the
/// number of rows.
pub async fn run<W: Write + Send + 'static>(
    db: &DatabaseConnection,
    cache: &MetricsCache,
    export: &Export,
    out: W,
    progress: Progress,
) -> ApiResult<usize> {
    let (tx, rx) = mpsc::channel::<Message>(1);
    let (format, columns) = (export.format, export.dataset.columns());
    let writer =
        tokio::task::spawn_blocking(move || write_report(format, columns, rx, out, progress));
    let produced = match export.dataset {
        Dataset::Trend => trend::produce(db, cache, export, &tx).await,
        Dataset::Impact => impact::produce(db, cache, export, &tx).await,
        Dataset::Forecast => forecast::produce(db, cache, export, &tx).await,
        _ => records::produce(db, export, &tx).await,
    };
    if produced.is_ok() {
        // The writer is gone only if it failed; its error is the one to report.
        tx.send(None).await.ok();
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| ApiError::Internal(format!("export writer failed: {e}")))?
        .map_err(|e| ApiError::Internal(format!("cannot write the report: {e}")));
    produced?;
    written
}

/// Sends a batch to the writer; false when the writer has stopped.
async fn send(tx: &mpsc::Sender<Message>, batch: Batch) -> bool {
    tx.send(Some(batch)).await.is_ok()
}

/// Hands the rows of a computed report to the writer in batches made by `batch`, until the
/// writer is gone.
async fn send_rows<R>(
    tx: &mpsc::Sender<Message>,
    export: &Export,
    rows: &[R],
    batch: impl Fn(&[R]) -> Batch,
) {
    for chunk in rows.chunks(export.dataset.batch_rows()) {
        if !send(tx, batch(chunk)).await {
            break;
        }
    }
}

impl Export {
    /// The window of a computed report, which [`resolve`] requires.
    fn window(&self) -> ApiResult<(i64, i64)> {
        match (self.from, self.to) {
            (Some(from), Some(to)) => Ok((from, to)),
            _ => Err(ApiError::Internal(format!(
                "a {} report needs from and to",
                self.dataset.name()
            ))),
        }
    }
}

fn write_report<W: Write>(
    format: Format,
    columns: &'static [Spec],
    mut rx: mpsc::Receiver<Message>,
    mut out: W,
    progress: Progress,
) -> polars_core::error::PolarsResult<usize> {
    let schema = Batch::new(columns).into_frame(format)?.schema().clone();
    let mut writer = write::Writer::new(format, &schema, &mut out)?;
    let mut rows = 0;
    while let Some(message) = rx.blocking_recv() {
        let Some(batch) = message else {
            writer.finish()?;
            out.flush()?;
            return Ok(rows);
        };
        rows += batch.len();
        progress.add(batch.len() as u64);
        writer.write(&batch.into_frame(format)?)?;
    }
    Err(polars_core::error::PolarsError::ComputeError(
        "the report was cut short".into(),
    ))
}
