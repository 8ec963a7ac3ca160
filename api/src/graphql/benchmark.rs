//! Benchmark editions: `Query.benchmarks` and `Mutation.defineBenchmark`.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::commands;
use crate::commands::benchmark::NewBenchmark;
use crate::domain::validate::BenchmarkName;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, snapshot};

/// The thresholds of ELITE, HIGH and MEDIUM for one metric (LOW otherwise).
#[derive(SimpleObject, Clone, Copy)]
pub struct BandThresholds {
    pub elite: f64,
    pub high: f64,
    pub medium: f64,
}

#[derive(InputObject, Clone, Copy)]
pub struct BandThresholdsInput {
    pub elite: f64,
    pub high: f64,
    pub medium: f64,
}

impl From<analytics::Thresholds> for BandThresholds {
    fn from(t: analytics::Thresholds) -> Self {
        Self {
            elite: t.elite,
            high: t.high,
            medium: t.medium,
        }
    }
}

impl From<BandThresholdsInput> for analytics::Thresholds {
    fn from(t: BandThresholdsInput) -> Self {
        Self {
            elite: t.elite,
            high: t.high,
            medium: t.medium,
        }
    }
}

/// A benchmark edition: what the bands are read against (metrics.md).
#[derive(SimpleObject, Clone)]
pub struct Benchmark {
    pub name: String,
    pub built_in: bool,
    /// Deployments per day at least.
    pub deployment_frequency: BandThresholds,
    /// Median hours below.
    pub lead_time: BandThresholds,
    /// Rate at most.
    pub change_failure_rate: BandThresholds,
    /// Median hours below.
    pub time_to_restore: BandThresholds,
}

impl From<analytics::Benchmark> for Benchmark {
    fn from(b: analytics::Benchmark) -> Self {
        Self {
            name: b.name,
            built_in: b.built_in,
            deployment_frequency: b.deployment_frequency.into(),
            lead_time: b.lead_time.into(),
            change_failure_rate: b.change_failure_rate.into(),
            time_to_restore: b.time_to_restore.into(),
        }
    }
}

#[derive(InputObject)]
pub struct DefineBenchmarkInput {
    pub name: String,
    pub deployment_frequency: BandThresholdsInput,
    pub lead_time: BandThresholdsInput,
    pub change_failure_rate: BandThresholdsInput,
    pub time_to_restore: BandThresholdsInput,
}

impl TryFrom<DefineBenchmarkInput> for NewBenchmark {
    type Error = ApiError;

    fn try_from(input: DefineBenchmarkInput) -> ApiResult<Self> {
        Ok(Self {
            name: BenchmarkName::parse("name", &input.name)?,
            deployment_frequency: input.deployment_frequency.into(),
            lead_time: input.lead_time.into(),
            change_failure_rate: input.change_failure_rate.into(),
            time_to_restore: input.time_to_restore.into(),
        })
    }
}

#[derive(Default)]
pub struct BenchmarkQuery;

#[Object]
impl BenchmarkQuery {
    /// Every benchmark edition, built-in ones first, then by name.
    async fn benchmarks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Benchmark>> {
        let snapshot = snapshot(ctx).await?;
        Ok(snapshot
            .benchmarks
            .iter()
            .cloned()
            .map(Into::into)
            .collect())
    }
}

#[derive(Default)]
pub struct BenchmarkMutation;

#[Object]
impl BenchmarkMutation {
    /// ADMIN without program scope.
    async fn define_benchmark(
        &self,
        ctx: &Context<'_>,
        input: DefineBenchmarkInput,
    ) -> ApiResult<Benchmark> {
        let input = NewBenchmark::try_from(input)?;
        command!(ctx, commands::benchmark::define_benchmark, input).map(Into::into)
    }
}
