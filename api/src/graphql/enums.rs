//! The contract's enums, converted to and from the stored ones with `remote`.

use async_graphql::Enum;
use entity::enums as db;

/// What a caller may do, in increasing order of power.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    /// Reads releases, programs, outcomes and metrics.
    Viewer,
    /// VIEWER + report exports.
    Analyst,
    /// ANALYST + every release mutation inside its programs.
    ReleaseManager,
    /// Everything, in every program; programs, environments, freeze windows.
    Admin,
}

/// Tier of an environment.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::EnvironmentTier")]
pub enum EnvironmentTier {
    Development,
    Testing,
    Staging,
    Production,
}

/// Where a release stands in its lifecycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::ReleaseStatus")]
pub enum ReleaseStatus {
    Planned,
    Scheduled,
    InBuild,
    InTest,
    Approved,
    Deploying,
    Deployed,
    Reviewed,
    RolledBack,
    Cancelled,
}

/// Kind of release.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::ReleaseType")]
pub enum ReleaseType {
    Major,
    Minor,
    Patch,
    /// Unplanned release that fixes a problem in production (counts as rework).
    Emergency,
}

/// Assessed risk of a release.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::RiskLevel")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

/// How a release or deployment goes live.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::DeploymentStrategy")]
pub enum DeploymentStrategy {
    BigBang,
    Staged,
    Pilot,
    BlueGreen,
    Canary,
    FeatureFlag,
}

/// Kind of release item.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::ItemKind")]
pub enum ItemKind {
    Feature,
    Fix,
    Security,
    Chore,
}

/// Kind of quality gate.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::GateKind")]
pub enum GateKind {
    UnitTest,
    IntegrationTest,
    SecurityScan,
    Compliance,
    Performance,
    Acceptance,
    Other,
}

/// Result of a quality-gate check.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::GateStatus")]
pub enum GateStatus {
    Pending,
    Passed,
    Failed,
    Waived,
}

/// Go/no-go decision.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::ApprovalDecision")]
pub enum ApprovalDecision {
    Go,
    NoGo,
}

/// Current status of a deployment.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::DeploymentStatus")]
pub enum DeploymentStatus {
    InProgress,
    Succeeded,
    Failed,
    RolledBack,
}

/// Incident severity, SEV1 the worst.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::Severity")]
pub enum Severity {
    #[graphql(name = "SEV1")]
    Sev1,
    #[graphql(name = "SEV2")]
    Sev2,
    #[graphql(name = "SEV3")]
    Sev3,
    #[graphql(name = "SEV4")]
    Sev4,
}

/// The figures that benchmarks, warnings and improvement actions refer to.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::MetricName")]
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

/// Result of a post-implementation review.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::OutcomeResult")]
pub enum OutcomeResult {
    Successful,
    SuccessfulWithIssues,
    Failed,
    RolledBack,
}

/// State of an improvement action.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::ActionStatus")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Dropped,
}

/// What a release event records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::ReleaseEventKind")]
pub enum ReleaseEventKind {
    Created,
    Updated,
    StatusChanged,
    ItemAdded,
    GateRecorded,
    ApprovalRecorded,
    DeploymentRecorded,
    IncidentRecorded,
    IncidentResolved,
    RolledBack,
    OutcomeRecorded,
    ActionAdded,
    ActionUpdated,
    IncidentUpdated,
    DependencyChanged,
}

/// How an ingest source's bodies are read and its signatures checked.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::IngestKind")]
pub enum IngestKind {
    Github,
    Gitlab,
    Pagerduty,
    Cdevents,
    Generic,
}

/// What a delivery became.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "db::DeliveryStatus")]
pub enum DeliveryStatus {
    /// It changed relm: a deployment or incident was recorded, completed or resolved.
    Applied,
    /// No release of the source's program matched it (or more than one did).
    Unmatched,
    /// The lifecycle rules refused it; errorCode and reason say why.
    Rejected,
    /// An event type or state relm does not use, or a stale repeat.
    Ignored,
}
