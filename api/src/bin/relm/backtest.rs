//! `relm forecast backtest`: forecast accuracy over a window (metrics.md, *Forecast
//! accuracy*), printed as a table with its calibration bins, for an operator who wants to
//! see it before trusting the dashboard.

use analytics::Accuracy;
use api::auth::Scope;
use api::db;
use api::error::ApiError;
use api::metrics::cache::MetricsCache;
use api::queries::forecast::{DEFAULT_LEAD_DAYS, accuracy_in_scope, lead_days};
use api::time::{self, DAY_MICROS};

use crate::output::print_out;

/// The window when `--from` is left out: the year before `--to`.
const DEFAULT_DAYS: i64 = 365;

/// Scores the forecasts of `programs` (none: every program) made `lead` days before
/// plannedEnd, for releases delivered in `[from, to)` (RFC 3339 flag values).
pub async fn backtest(
    database_url: &str,
    from: Option<&str>,
    to: Option<&str>,
    programs: &[String],
    lead: Option<i32>,
) -> anyhow::Result<()> {
    let instant = |flag: &str, text: Option<&str>| -> anyhow::Result<Option<i64>> {
        text.map(|t| {
            time::parse_rfc3339(t)
                .ok_or_else(|| anyhow::anyhow!("invalid --{flag}: not an RFC 3339 time: {t}"))
        })
        .transpose()
    };
    let to = instant("to", to)?.unwrap_or_else(time::now_micros);
    let from = instant("from", from)?.unwrap_or(to - DEFAULT_DAYS * DAY_MICROS);
    let lead = lead_days(lead.unwrap_or(DEFAULT_LEAD_DAYS)).map_err(flag_error)?;
    let db = db::connect(database_url).await?;
    let snapshot = MetricsCache::default()
        .snapshot(&db)
        .await
        .map_err(flag_error)?;
    let keys = (!programs.is_empty()).then_some(programs);
    let found = accuracy_in_scope(&snapshot, &Scope::All, from, to, keys, lead)
        .await
        .map_err(flag_error)?;
    db.close().await.ok();
    print_out(&table(&found, from, to, lead));
    Ok(())
}

/// A refused parameter named by its flag, or the failure as the operator may see it.
fn flag_error(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::BadUserInput(message) => {
            let message = message
                .replacen("leadDays:", "--lead-days:", 1)
                .replacen("to:", "--to:", 1);
            anyhow::anyhow!("invalid {message}")
        }
        ApiError::NotFound(what) => {
            anyhow::anyhow!(
                "invalid --program: {}",
                what.replacen("programKeys: ", "", 1)
            )
        }
        other => anyhow::anyhow!("the backtest failed: {other}"),
    }
}

fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"))
}

/// The accuracy as the command prints it.
fn table(a: &Accuracy, from: i64, to: i64, lead: u32) -> String {
    let mut out = format!(
        "forecast backtest {} to {}, {lead} days before plannedEnd\n",
        time::rfc3339(from),
        time::rfc3339(to)
    );
    out += &format!("releases forecast      {}\n", a.releases);
    out += &format!("Brier score            {}\n", figure(a.brier_score));
    out += &format!(
        "base rate Brier score  {}\n",
        figure(a.base_rate_brier_score)
    );
    out += "\ncalibration  predicted  observed  releases\n";
    for bin in &a.calibration {
        out += &format!(
            "{:.1}–{:.1}      {:>9}  {:>8}  {:>8}\n",
            bin.from,
            bin.to,
            figure(bin.predicted),
            figure(bin.observed),
            bin.releases
        );
    }
    out
}
