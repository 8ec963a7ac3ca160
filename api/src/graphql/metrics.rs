//! `Query.metrics`: every figure of metrics.md, from this process's analytics store.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::error::{ApiError, ApiResult};
use crate::graphql::benchmark::Benchmark;
use crate::graphql::context::{snapshot, viewer};
use crate::graphql::enums::{EnvironmentTier, MetricName, Severity};
use crate::graphql::scalars::Timestamp;
use crate::queries::metrics::{
    MINIMUM_SAMPLE, Window, programs_in_scope, severity, stored, warnings,
};

/// Size of the trend's calendar buckets (UTC).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Granularity {
    Day,
    /// ISO weeks, starting Monday 00:00.
    Week,
    Month,
    Quarter,
}

/// DORA performance band, read against `filter.benchmark`.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum PerformanceBand {
    Elite,
    High,
    Medium,
    Low,
    NoData,
}

/// Release metrics over [from, to).
#[derive(InputObject)]
pub struct MetricsFilter {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Omit for every program the caller may see.
    pub program_keys: Option<Vec<String>>,
    /// Environment tiers that count as production for DORA figures.
    #[graphql(default_with = "Some(vec![EnvironmentTier::Production])")]
    pub tiers: Option<Vec<EnvironmentTier>>,
    pub team: Option<String>,
    #[graphql(default_with = "Some(Granularity::Month)")]
    pub granularity: Option<Granularity>,
    /// A benchmark edition's name; see metrics.md.
    #[graphql(default_with = "Some(analytics::DEFAULT_BENCHMARK.to_owned())")]
    pub benchmark: Option<String>,
    /// Incidents of these severities fail deployments and count for time to restore.
    #[graphql(
        default_with = "Some(vec![Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4])"
    )]
    pub severities: Option<Vec<Severity>>,
    /// Figures resting on fewer observations are listed in warnings.
    #[graphql(default_with = "Some(10)")]
    pub minimum_sample: Option<i32>,
}

/// A figure of the whole window resting on fewer observations than `minimumSample`.
#[derive(SimpleObject, Clone)]
pub struct MetricWarning {
    pub metric: MetricName,
    pub observations: i32,
    pub message: String,
}

/// Count, mean and percentiles (linear interpolation, as PostgreSQL's percentile_cont).
#[derive(SimpleObject, Clone, Copy)]
pub struct DurationStats {
    pub count: i32,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct DeploymentFrequency {
    pub deployments: i32,
    pub deployment_days: i32,
    pub per_day: f64,
    pub band: PerformanceBand,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct LeadTime {
    pub hours: DurationStats,
    pub band: PerformanceBand,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct ChangeFailureRate {
    pub deployments: i32,
    pub failed: i32,
    pub rate: Option<f64>,
    pub band: PerformanceBand,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct TimeToRestore {
    pub hours: DurationStats,
    pub band: PerformanceBand,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct ReworkRate {
    pub deployments: i32,
    pub rework: i32,
    pub rate: Option<f64>,
}

#[derive(SimpleObject, Clone, Copy)]
pub struct DeliveryMetrics {
    pub releases_delivered: i32,
    pub on_time_rate: Option<f64>,
    pub slippage_days: DurationStats,
    pub rollback_rate: Option<f64>,
    pub gate_first_pass_rate: Option<f64>,
    pub review_completion_rate: Option<f64>,
    pub actions_open: i32,
    pub actions_overdue: i32,
    pub actions_closed: i32,
}

/// How much of production change went through the release process, over the window.
#[derive(SimpleObject, Clone, Copy)]
pub struct Compliance {
    /// PRODUCTION deployments recorded (non-rollback), manual or ingested.
    pub production_deployments: i32,
    /// Of those, how many arrived through ingestion.
    pub ingested_deployments: i32,
    /// Production deployment deliveries that stayed UNMATCHED or REJECTED: changes outside the process.
    pub unplanned_deployments: i32,
    /// unplanned / (productionDeployments + unplanned); null when both are 0.
    pub unplanned_rate: Option<f64>,
    /// Transitions into SCHEDULED or DEPLOYING that overrode a freeze window.
    pub freeze_overrides: i32,
    /// PRODUCTION deployments of EMERGENCY releases.
    pub emergency_deployments: i32,
}

impl From<analytics::Compliance> for Compliance {
    fn from(c: analytics::Compliance) -> Self {
        Self {
            production_deployments: int(c.production_deployments),
            ingested_deployments: int(c.ingested_deployments),
            unplanned_deployments: int(c.unplanned_deployments),
            unplanned_rate: c.unplanned_rate,
            freeze_overrides: int(c.freeze_overrides),
            emergency_deployments: int(c.emergency_deployments),
        }
    }
}

#[derive(SimpleObject, Clone, Copy)]
pub struct MetricsBucket {
    pub start: Timestamp,
    pub end: Timestamp,
    pub deployments: i32,
    pub failed_deployments: i32,
    pub change_failure_rate: Option<f64>,
    pub lead_time_median_hours: Option<f64>,
    pub time_to_restore_median_hours: Option<f64>,
    pub releases_delivered: i32,
    pub on_time_rate: Option<f64>,
    pub unplanned_deployments: i32,
}

#[derive(SimpleObject, Clone)]
pub struct ProgramMetrics {
    pub program_key: String,
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub time_to_restore: TimeToRestore,
    pub delivery: DeliveryMetrics,
    pub compliance: Compliance,
}

#[derive(SimpleObject, Clone)]
pub struct ReleaseMetrics {
    pub from: Timestamp,
    pub to: Timestamp,
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub time_to_restore: TimeToRestore,
    pub rework_rate: ReworkRate,
    pub delivery: DeliveryMetrics,
    pub trend: Vec<MetricsBucket>,
    pub by_program: Vec<ProgramMetrics>,
    pub compliance: Compliance,
    pub benchmark: Benchmark,
    pub warnings: Vec<MetricWarning>,
}

/// A count as a GraphQL `Int`.
pub(crate) fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<analytics::Band> for PerformanceBand {
    fn from(band: analytics::Band) -> Self {
        match band {
            analytics::Band::Elite => Self::Elite,
            analytics::Band::High => Self::High,
            analytics::Band::Medium => Self::Medium,
            analytics::Band::Low => Self::Low,
            analytics::Band::NoData => Self::NoData,
        }
    }
}

impl From<analytics::DurationStats> for DurationStats {
    fn from(s: analytics::DurationStats) -> Self {
        Self {
            count: int(s.count),
            mean: s.mean,
            median: s.median,
            p90: s.p90,
            p95: s.p95,
            min: s.min,
            max: s.max,
        }
    }
}

impl From<analytics::DeploymentFrequency> for DeploymentFrequency {
    fn from(d: analytics::DeploymentFrequency) -> Self {
        Self {
            deployments: int(d.deployments),
            deployment_days: int(d.deployment_days),
            per_day: d.per_day,
            band: d.band.into(),
        }
    }
}

impl From<analytics::LeadTime> for LeadTime {
    fn from(l: analytics::LeadTime) -> Self {
        Self {
            hours: l.hours.into(),
            band: l.band.into(),
        }
    }
}

impl From<analytics::ChangeFailureRate> for ChangeFailureRate {
    fn from(c: analytics::ChangeFailureRate) -> Self {
        Self {
            deployments: int(c.deployments),
            failed: int(c.failed),
            rate: c.rate,
            band: c.band.into(),
        }
    }
}

impl From<analytics::TimeToRestore> for TimeToRestore {
    fn from(t: analytics::TimeToRestore) -> Self {
        Self {
            hours: t.hours.into(),
            band: t.band.into(),
        }
    }
}

impl From<analytics::Delivery> for DeliveryMetrics {
    fn from(d: analytics::Delivery) -> Self {
        Self {
            releases_delivered: int(d.releases_delivered),
            on_time_rate: d.on_time_rate,
            slippage_days: d.slippage_days.into(),
            rollback_rate: d.rollback_rate,
            gate_first_pass_rate: d.gate_first_pass_rate,
            review_completion_rate: d.review_completion_rate,
            actions_open: int(d.actions_open),
            actions_overdue: int(d.actions_overdue),
            actions_closed: int(d.actions_closed),
        }
    }
}

impl ReleaseMetrics {
    fn new(m: analytics::Metrics, benchmark: analytics::Benchmark, minimum_sample: u64) -> Self {
        let warnings = warnings(&m, minimum_sample)
            .into_iter()
            .map(|w| MetricWarning {
                metric: stored(w.metric).into(),
                observations: int(w.observations),
                message: w.message,
            })
            .collect();
        Self {
            benchmark: benchmark.into(),
            warnings,
            from: Timestamp(m.from),
            to: Timestamp(m.to),
            deployment_frequency: m.deployment_frequency.into(),
            lead_time: m.lead_time.into(),
            change_failure_rate: m.change_failure_rate.into(),
            time_to_restore: m.time_to_restore.into(),
            rework_rate: ReworkRate {
                deployments: int(m.rework_rate.deployments),
                rework: int(m.rework_rate.rework),
                rate: m.rework_rate.rate,
            },
            delivery: m.delivery.into(),
            compliance: m.compliance.into(),
            trend: m
                .trend
                .into_iter()
                .map(|b| MetricsBucket {
                    start: Timestamp(b.start),
                    end: Timestamp(b.end),
                    deployments: int(b.deployments),
                    failed_deployments: int(b.failed_deployments),
                    change_failure_rate: b.change_failure_rate,
                    lead_time_median_hours: b.lead_time_median_hours,
                    time_to_restore_median_hours: b.time_to_restore_median_hours,
                    releases_delivered: int(b.releases_delivered),
                    on_time_rate: b.on_time_rate,
                    unplanned_deployments: int(b.unplanned_deployments),
                })
                .collect(),
            by_program: m
                .by_program
                .into_iter()
                .map(|p| ProgramMetrics {
                    program_key: p.program_key,
                    deployment_frequency: p.deployment_frequency.into(),
                    lead_time: p.lead_time.into(),
                    change_failure_rate: p.change_failure_rate.into(),
                    time_to_restore: p.time_to_restore.into(),
                    delivery: p.delivery.into(),
                    compliance: p.compliance.into(),
                })
                .collect(),
        }
    }
}

fn tier(tier: EnvironmentTier) -> analytics::Tier {
    match tier {
        EnvironmentTier::Development => analytics::Tier::Development,
        EnvironmentTier::Testing => analytics::Tier::Testing,
        EnvironmentTier::Staging => analytics::Tier::Staging,
        EnvironmentTier::Production => analytics::Tier::Production,
    }
}

fn granularity(g: Granularity) -> analytics::Granularity {
    match g {
        Granularity::Day => analytics::Granularity::Day,
        Granularity::Week => analytics::Granularity::Week,
        Granularity::Month => analytics::Granularity::Month,
        Granularity::Quarter => analytics::Granularity::Quarter,
    }
}

#[derive(Default)]
pub struct MetricsQuery;

#[Object]
impl MetricsQuery {
    /// Release metrics over [filter.from, filter.to). See metrics.md for every definition.
    async fn metrics(&self, ctx: &Context<'_>, filter: MetricsFilter) -> ApiResult<ReleaseMetrics> {
        let viewer = viewer(ctx)?;
        let granularity = granularity(filter.granularity.unwrap_or(Granularity::Month));
        let window = Window::new(filter.from.micros(), filter.to.micros(), granularity)?;
        // An explicit null means the default (metrics.md, Arguments left out or null).
        let tiers: Vec<analytics::Tier> = filter
            .tiers
            .unwrap_or_else(|| vec![EnvironmentTier::Production])
            .into_iter()
            .map(tier)
            .collect();
        if tiers.is_empty() {
            return Err(ApiError::bad_input("tiers", "must name at least one tier"));
        }
        let severities = filter
            .severities
            .map_or(analytics::Severities::ALL, |listed| {
                analytics::Severities::of(listed.into_iter().map(|s| severity(s.into())))
            });
        if severities.is_empty() {
            return Err(ApiError::bad_input(
                "severities",
                "must name at least one severity",
            ));
        }
        let minimum_sample = filter.minimum_sample.unwrap_or(10);
        if !MINIMUM_SAMPLE.contains(&minimum_sample) {
            return Err(ApiError::bad_input(
                "minimumSample",
                format!(
                    "must be from {} to {}",
                    MINIMUM_SAMPLE.start(),
                    MINIMUM_SAMPLE.end()
                ),
            ));
        }
        let snapshot = snapshot(ctx).await?;
        let name = filter
            .benchmark
            .unwrap_or_else(|| analytics::DEFAULT_BENCHMARK.to_owned());
        let benchmark = snapshot.benchmark(&name).cloned().ok_or_else(|| {
            ApiError::bad_input("benchmark", format!("no edition is named {name}"))
        })?;
        let programs = programs_in_scope(
            &snapshot.programs,
            &viewer.scope,
            filter.program_keys.as_deref(),
        )
        .map_err(|missing| ApiError::NotFound(format!("programKeys: program {missing}")))?;
        let query = analytics::Query {
            from: window.from,
            to: window.to,
            programs,
            tiers,
            team: filter.team,
            granularity: window.granularity,
            program_trends: false,
            benchmark: benchmark.clone(),
            severities,
        };
        let metrics = snapshot.metrics(query).await?;
        Ok(ReleaseMetrics::new(
            metrics,
            benchmark,
            minimum_sample as u64,
        ))
    }
}
