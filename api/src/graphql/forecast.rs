//! Will a release under way land on time, and how good is that forecast? `Release.forecast`
//! and `Query.forecastAccuracy` (metrics.md, *Forecast* and *Forecast accuracy*).

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use entity::enums as db;

use crate::error::ApiResult;
use crate::graphql::context::{data, db as pool, loaders, snapshot, visible};
use crate::graphql::enums::{ReleaseStatus, RiskLevel};
use crate::graphql::loaders::{Cached, Forecasts};
use crate::graphql::metrics::int;
use crate::graphql::scalars::Timestamp;
use crate::metrics::cache::MetricsCache;
use crate::queries::forecast::{
    DEFAULT_LEAD_DAYS, READER, accuracy, lead_days, stored_status, subject,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ForecastBasis {
    ProgramAndType,
    Program,
    Type,
}

impl From<analytics::Basis> for ForecastBasis {
    fn from(basis: analytics::Basis) -> Self {
        match basis {
            analytics::Basis::ProgramAndType => Self::ProgramAndType,
            analytics::Basis::Program => Self::Program,
            analytics::Basis::Type => Self::Type,
        }
    }
}

/// The risk level of a forecast, as the stored release risk spells it.
pub fn risk(risk: analytics::Risk) -> db::RiskLevel {
    match risk {
        analytics::Risk::Low => db::RiskLevel::Low,
        analytics::Risk::Medium => db::RiskLevel::Medium,
        analytics::Risk::High => db::RiskLevel::High,
    }
}

/// When a release still under way will be delivered, from comparable releases (metrics.md).
#[derive(SimpleObject, Clone, Copy)]
pub struct ReleaseForecast {
    pub basis: ForecastBasis,
    pub sample_size: i32,
    /// The status the release is in and when it entered it.
    pub stage: ReleaseStatus,
    pub entered_at: Timestamp,
    pub on_time_probability: f64,
    pub p50: Timestamp,
    pub p85: Timestamp,
    pub expected_slippage_days: f64,
    pub change_failure_risk: Option<f64>,
    /// LOW, MEDIUM or HIGH.
    pub risk: RiskLevel,
}

impl From<analytics::Forecast> for ReleaseForecast {
    fn from(f: analytics::Forecast) -> Self {
        Self {
            basis: f.basis.into(),
            sample_size: int(f.sample_size),
            stage: stored_status(f.stage).into(),
            entered_at: Timestamp(f.entered_at),
            on_time_probability: f.on_time_probability,
            p50: Timestamp(f.p50),
            p85: Timestamp(f.p85),
            expected_slippage_days: f.expected_slippage_days,
            change_failure_risk: f.change_failure_risk,
            risk: risk(f.risk).into(),
        }
    }
}

/// The forecast of `release` (one the caller may see), computed with every other release
/// of the request that asks for one.
pub async fn release_forecast(
    ctx: &Context<'_>,
    release: &entity::release::Model,
) -> ApiResult<Option<ReleaseForecast>> {
    let subject = subject(release);
    if subject.planned_end.is_none() {
        return Ok(None);
    }
    let forecasts = forecasts(ctx).await?;
    Ok(forecasts.load_one(subject).await?.flatten().map(Into::into))
}

async fn forecasts(ctx: &Context<'_>) -> ApiResult<Arc<Cached<Forecasts>>> {
    let scope = visible(ctx)?.scope().clone();
    let cache = data::<Arc<MetricsCache>>(ctx)?;
    loaders(ctx)?.forecasts(cache, pool(ctx)?, &scope).await
}

/// Computes the forecasts of a page of releases in one pass before their fields ask for
/// them, so that no field waits for a batch to gather.
pub async fn prefetch(ctx: &Context<'_>, releases: &[&entity::release::Model]) -> ApiResult<()> {
    let subjects: Vec<_> = releases
        .iter()
        .map(|r| subject(r))
        .filter(|s| s.planned_end.is_some())
        .collect();
    if subjects.is_empty() {
        return Ok(());
    }
    let forecasts = forecasts(ctx).await?;
    let found = forecasts.loader().compute(&subjects).await?;
    forecasts.feed_many(found).await;
    Ok(())
}

#[derive(InputObject)]
pub struct ForecastAccuracyFilter {
    pub from: Timestamp,
    pub to: Timestamp,
    pub program_keys: Option<Vec<String>>,
    #[graphql(default_with = "Some(DEFAULT_LEAD_DAYS)")]
    pub lead_days: Option<i32>,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub predicted: Option<f64>,
    pub observed: Option<f64>,
    pub releases: i32,
}

#[derive(SimpleObject, Clone)]
pub struct ForecastAccuracy {
    pub releases: i32,
    pub brier_score: Option<f64>,
    pub base_rate_brier_score: Option<f64>,
    pub calibration: Vec<CalibrationBin>,
}

impl From<analytics::Accuracy> for ForecastAccuracy {
    fn from(a: analytics::Accuracy) -> Self {
        Self {
            releases: int(a.releases),
            brier_score: a.brier_score,
            base_rate_brier_score: a.base_rate_brier_score,
            calibration: a
                .calibration
                .into_iter()
                .map(|b| CalibrationBin {
                    from: b.from,
                    to: b.to,
                    predicted: b.predicted,
                    observed: b.observed,
                    releases: int(b.releases),
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct ForecastQuery;

#[Object]
impl ForecastQuery {
    /// How the release forecast would have done on releases already delivered; ANALYST and up.
    async fn forecast_accuracy(
        &self,
        ctx: &Context<'_>,
        filter: ForecastAccuracyFilter,
    ) -> ApiResult<ForecastAccuracy> {
        let caller = visible(ctx)?;
        caller.require(READER)?;
        // An explicit null means the default (metrics.md, Arguments left out or null).
        let days = lead_days(filter.lead_days.unwrap_or(DEFAULT_LEAD_DAYS))?;
        let snapshot = snapshot(ctx).await?;
        let found = accuracy(
            &caller,
            &snapshot,
            filter.from.micros(),
            filter.to.micros(),
            filter.program_keys.as_deref(),
            days,
        )
        .await?;
        Ok(found.into())
    }
}
