//! What the analytics take in and give back: plain Rust, no polars.
//!
//! Times are Unix microseconds in UTC; dates are days since 1970-01-01.

/// The one encoding of an enum inside frames: its discriminant. The contract's spelling
/// (`IntoStaticStr`, e.g. `ROLLED_BACK`) is what a loader matches stored text against.
pub trait Coded: Copy + Into<&'static str> + strum::IntoEnumIterator + 'static {
    fn code(self) -> i32;

    fn from_code(code: i32) -> Option<Self> {
        Self::iter().find(|v| v.code() == code)
    }
}

macro_rules! coded {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumIter, strum::IntoStaticStr,
        )]
        #[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
        #[repr(i32)]
        pub enum $name {
            $($variant = $code,)+
        }

        impl Coded for $name {
            fn code(self) -> i32 {
                self as i32
            }
        }
    };
}

coded!(
    /// Tier of the environment a deployment went to.
    Tier {
        Development = 0,
        Testing = 1,
        Staging = 2,
        Production = 3,
    }
);

coded!(
    /// Current status of a deployment.
    DeploymentStatus {
        InProgress = 0,
        Succeeded = 1,
        Failed = 2,
        RolledBack = 3,
    }
);

coded!(
    /// Status of a release.
    ReleaseStatus {
        Planned = 0,
        Scheduled = 1,
        InBuild = 2,
        InTest = 3,
        Approved = 4,
        Deploying = 5,
        Deployed = 6,
        Reviewed = 7,
        RolledBack = 8,
        Cancelled = 9,
    }
);

coded!(
    /// Type of a release.
    ReleaseType {
        Major = 0,
        Minor = 1,
        Patch = 2,
        Emergency = 3,
    }
);

coded!(
    /// Status of one quality-gate result.
    GateStatus {
        Pending = 0,
        Passed = 1,
        Failed = 2,
        Waived = 3,
    }
);

coded!(
    /// Severity of an incident.
    Severity {
        Sev1 = 0,
        Sev2 = 1,
        Sev3 = 2,
        Sev4 = 3,
    }
);

/// A set of severities: the incidents that count (metrics.md, *Incident severities*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Severities(u8);

impl Severities {
    pub const ALL: Self = Self(0b1111);

    pub fn of(severities: impl IntoIterator<Item = Severity>) -> Self {
        Self(
            severities
                .into_iter()
                .fold(0, |mask, s| mask | Self::bit(s)),
        )
    }

    pub fn contains(self, severity: Severity) -> bool {
        self.0 & Self::bit(severity) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits of these severities, one per severity by its code.
    pub fn mask(self) -> u8 {
        self.0
    }

    pub fn bit(severity: Severity) -> u8 {
        1 << severity.code()
    }
}

impl Default for Severities {
    fn default() -> Self {
        Self::ALL
    }
}

/// The figures that benchmarks, warnings and improvement actions refer to, in the
/// contract's order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::EnumIter, strum::IntoStaticStr,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum MetricName {
    DeploymentFrequency,
    LeadTime,
    ChangeFailureRate,
    TimeToRestore,
    ReworkRate,
    OnTimeRate,
    GateFirstPassRate,
    UnplannedRate,
}

impl MetricName {
    /// Whether a fall in this figure is an improvement.
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            Self::LeadTime
                | Self::ChangeFailureRate
                | Self::TimeToRestore
                | Self::ReworkRate
                | Self::UnplannedRate
        )
    }

    /// A rate of two counts (compared with Newcombe's interval).
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Self::ChangeFailureRate
                | Self::ReworkRate
                | Self::OnTimeRate
                | Self::GateFirstPassRate
                | Self::UnplannedRate
        )
    }
}

/// Size of the trend's calendar buckets; parsed from its contract name in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE", ascii_case_insensitive)]
pub enum Granularity {
    Day,
    /// ISO weeks, starting Monday 00:00 UTC.
    Week,
    Month,
    Quarter,
}

pub use crate::benchmark::{Benchmark, Thresholds};

/// DORA performance band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
    NoData,
}

// The tables below are the rows as stored, one per read of the database: what a row takes
// from another table (its environment's tier, its release's program or type, its gate's
// release) is looked up as the store is built, so that each value is read and kept in one
// form only.

/// Releases: the unit that is delivered.
#[derive(Debug, Clone, Default)]
pub struct Releases {
    pub id: Vec<i64>,
    pub program: Vec<i64>,
    pub planned_end: Vec<Option<i64>>,
    pub kind: Vec<ReleaseType>,
    pub created_at: Vec<i64>,
}

/// When releases entered a status: every event with a `toStatus`, in no order.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    pub release: Vec<i64>,
    pub status: Vec<ReleaseStatus>,
    pub at: Vec<i64>,
}

/// Environments, which give deployments and deliveries their tier.
#[derive(Debug, Clone, Default)]
pub struct Environments {
    pub id: Vec<i64>,
    pub tier: Vec<Tier>,
}

/// The teams of each release, one row per (release, team).
#[derive(Debug, Clone, Default)]
pub struct Teams {
    pub release: Vec<i64>,
    pub team: Vec<String>,
}

/// Deployments.
#[derive(Debug, Clone, Default)]
pub struct Deployments {
    pub id: Vec<i64>,
    pub release: Vec<i64>,
    pub environment: Vec<i64>,
    pub status: Vec<DeploymentStatus>,
    pub rollback: Vec<bool>,
    pub finished_at: Vec<Option<i64>>,
    /// It arrived through ingestion (it has a source).
    pub ingested: Vec<bool>,
}

/// Transitions into SCHEDULED or DEPLOYING that overrode a freeze window.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub release: Vec<i64>,
    pub at: Vec<i64>,
}

/// Deliveries of deployment events that stayed UNMATCHED or REJECTED and named an
/// environment: production changes outside the release process.
#[derive(Debug, Clone, Default)]
pub struct Unplanned {
    /// The delivery.
    pub id: Vec<i64>,
    /// The source's program.
    pub program: Vec<i64>,
    pub received_at: Vec<i64>,
    pub environment: Vec<i64>,
}

/// Release items, the start of lead time.
#[derive(Debug, Clone, Default)]
pub struct Items {
    pub release: Vec<i64>,
    pub committed_at: Vec<Option<i64>>,
}

/// Incidents.
#[derive(Debug, Clone, Default)]
pub struct Incidents {
    pub id: Vec<i64>,
    pub program: Vec<i64>,
    pub release: Vec<Option<i64>>,
    pub deployment: Vec<Option<i64>>,
    pub caused_by_change: Vec<bool>,
    pub severity: Vec<Severity>,
    pub opened_at: Vec<i64>,
    pub resolved_at: Vec<Option<i64>>,
}

/// Quality gates, which give their results a release.
#[derive(Debug, Clone, Default)]
pub struct Gates {
    pub id: Vec<i64>,
    pub release: Vec<i64>,
}

/// Every recorded quality-gate result.
#[derive(Debug, Clone, Default)]
pub struct GateResults {
    /// Recording order: a larger id was recorded later.
    pub id: Vec<i64>,
    pub gate: Vec<i64>,
    pub status: Vec<GateStatus>,
    pub checked_at: Vec<i64>,
}

/// Releases that have a post-implementation review.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    pub release: Vec<i64>,
}

/// Improvement actions.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    pub release: Vec<i64>,
    pub created_at: Vec<i64>,
    pub closed_at: Vec<Option<i64>>,
    pub due_date: Vec<Option<i32>>,
}

/// Everything metrics are computed from. Rows of a release (or of a gate) are there only
/// with their release (or gate): a loader leaves out the rows of one it did not read.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub releases: Releases,
    pub environments: Environments,
    pub teams: Teams,
    pub deployments: Deployments,
    pub items: Items,
    pub incidents: Incidents,
    pub gates: Gates,
    pub gate_results: GateResults,
    pub outcomes: Outcomes,
    pub actions: Actions,
    pub overrides: Overrides,
    pub unplanned: Unplanned,
    pub entries: Entries,
}

/// A program in scope, for the per-program breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramRef {
    pub id: i64,
    pub key: String,
}

/// What to compute: the window `[from, to)` and the filter of `Query.metrics`.
#[derive(Debug, Clone)]
pub struct Query {
    pub from: i64,
    pub to: i64,
    /// The programs in scope, ordered by key.
    pub programs: Vec<ProgramRef>,
    /// Tiers whose deployments count as production.
    pub tiers: Vec<Tier>,
    pub team: Option<String>,
    pub granularity: Granularity,
    /// Also split each program's figures into the trend's buckets (`ProgramMetrics::trend`).
    pub program_trends: bool,
    /// What the bands are read against.
    pub benchmark: Benchmark,
    /// The incidents that fail deployments and count for time to restore.
    pub severities: Severities,
}

/// Count, mean and percentiles of durations; all but `count` are None when it is 0.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DurationStats {
    pub count: u64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeploymentFrequency {
    pub deployments: u64,
    pub deployment_days: u64,
    pub per_day: f64,
    pub band: Band,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeadTime {
    pub hours: DurationStats,
    pub band: Band,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeFailureRate {
    pub deployments: u64,
    pub failed: u64,
    pub rate: Option<f64>,
    pub band: Band,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeToRestore {
    pub hours: DurationStats,
    pub band: Band,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReworkRate {
    pub deployments: u64,
    pub rework: u64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delivery {
    pub releases_delivered: u64,
    /// Of those, the ones with a plannedEnd: what the on-time rate rests on.
    pub planned_releases: u64,
    pub on_time_rate: Option<f64>,
    pub slippage_days: DurationStats,
    pub rollback_rate: Option<f64>,
    pub gate_first_pass_rate: Option<f64>,
    /// The gates whose first result is in the window.
    pub gates: u64,
    pub review_completion_rate: Option<f64>,
    pub actions_open: u64,
    pub actions_overdue: u64,
    pub actions_closed: u64,
}

/// How much production change went through the release process (metrics.md, compliance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compliance {
    pub production_deployments: u64,
    pub ingested_deployments: u64,
    pub unplanned_deployments: u64,
    /// unplanned / (production + unplanned); None when both are 0.
    pub unplanned_rate: Option<f64>,
    pub freeze_overrides: u64,
    pub emergency_deployments: u64,
}

/// One calendar bucket of the trend, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub start: i64,
    pub end: i64,
    pub deployments: u64,
    pub failed_deployments: u64,
    pub change_failure_rate: Option<f64>,
    pub lead_time_median_hours: Option<f64>,
    pub time_to_restore_median_hours: Option<f64>,
    pub releases_delivered: u64,
    pub on_time_rate: Option<f64>,
    pub unplanned_deployments: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProgramMetrics {
    pub program_key: String,
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub time_to_restore: TimeToRestore,
    pub delivery: Delivery,
    pub compliance: Compliance,
    /// The trend of this program alone; empty unless the query asked for program trends.
    pub trend: Vec<Bucket>,
}

/// Every figure of metrics.md for one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub from: i64,
    pub to: i64,
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub time_to_restore: TimeToRestore,
    pub rework_rate: ReworkRate,
    pub delivery: Delivery,
    pub compliance: Compliance,
    pub trend: Vec<Bucket>,
    pub by_program: Vec<ProgramMetrics>,
}

impl Metrics {
    /// How many observations a figure of the whole window rests on (metrics.md, *Sample
    /// warnings*).
    pub fn observations(&self, metric: MetricName) -> u64 {
        match metric {
            MetricName::DeploymentFrequency | MetricName::ReworkRate => {
                self.deployment_frequency.deployments
            }
            MetricName::LeadTime => self.lead_time.hours.count,
            MetricName::ChangeFailureRate => self.change_failure_rate.deployments,
            MetricName::TimeToRestore => self.time_to_restore.hours.count,
            MetricName::OnTimeRate => self.delivery.planned_releases,
            MetricName::GateFirstPassRate => self.delivery.gates,
            MetricName::UnplannedRate => {
                self.compliance.production_deployments + self.compliance.unplanned_deployments
            }
        }
    }
}
