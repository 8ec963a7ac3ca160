//! Enumerations stored as text, spelled as in the public GraphQL contract.

use sea_orm::entity::prelude::*;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(#[sea_orm(string_value = $text)] $variant,)+
        }

        impl $name {
            /// The contract's spelling, as stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The variant spelled `text`, exactly.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum!(
    /// Tier of an environment; PRODUCTION counts for DORA figures by default.
    EnvironmentTier {
        Development = "DEVELOPMENT",
        Testing = "TESTING",
        Staging = "STAGING",
        Production = "PRODUCTION",
    }
);

text_enum!(
    /// Where a release stands in its lifecycle.
    ReleaseStatus {
        Planned = "PLANNED",
        Scheduled = "SCHEDULED",
        InBuild = "IN_BUILD",
        InTest = "IN_TEST",
        Approved = "APPROVED",
        Deploying = "DEPLOYING",
        Deployed = "DEPLOYED",
        Reviewed = "REVIEWED",
        RolledBack = "ROLLED_BACK",
        Cancelled = "CANCELLED",
    }
);

text_enum!(
    /// Kind of release; EMERGENCY counts as rework.
    ReleaseType {
        Major = "MAJOR",
        Minor = "MINOR",
        Patch = "PATCH",
        Emergency = "EMERGENCY",
    }
);

text_enum!(
    /// Assessed risk of a release.
    RiskLevel {
        Low = "LOW",
        Medium = "MEDIUM",
        High = "HIGH",
        Critical = "CRITICAL",
    }
);

text_enum!(
    /// How a release or deployment goes live.
    DeploymentStrategy {
        BigBang = "BIG_BANG",
        Staged = "STAGED",
        Pilot = "PILOT",
        BlueGreen = "BLUE_GREEN",
        Canary = "CANARY",
        FeatureFlag = "FEATURE_FLAG",
    }
);

text_enum!(
    /// Kind of a release item, the heading it appears under in release notes.
    ItemKind {
        Feature = "FEATURE",
        Fix = "FIX",
        Security = "SECURITY",
        Chore = "CHORE",
    }
);

text_enum!(
    /// Kind of quality gate.
    GateKind {
        UnitTest = "UNIT_TEST",
        IntegrationTest = "INTEGRATION_TEST",
        SecurityScan = "SECURITY_SCAN",
        Compliance = "COMPLIANCE",
        Performance = "PERFORMANCE",
        Acceptance = "ACCEPTANCE",
        Other = "OTHER",
    }
);

text_enum!(
    /// Result of one quality-gate check.
    GateStatus {
        Pending = "PENDING",
        Passed = "PASSED",
        Failed = "FAILED",
        Waived = "WAIVED",
    }
);

text_enum!(
    /// Go/no-go decision.
    ApprovalDecision {
        Go = "GO",
        NoGo = "NO_GO",
    }
);

text_enum!(
    /// Current status of a deployment.
    DeploymentStatus {
        InProgress = "IN_PROGRESS",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        RolledBack = "ROLLED_BACK",
    }
);

text_enum!(
    /// Incident severity, SEV1 the worst.
    Severity {
        Sev1 = "SEV1",
        Sev2 = "SEV2",
        Sev3 = "SEV3",
        Sev4 = "SEV4",
    }
);

text_enum!(
    /// Result of a post-implementation review.
    OutcomeResult {
        Successful = "SUCCESSFUL",
        SuccessfulWithIssues = "SUCCESSFUL_WITH_ISSUES",
        Failed = "FAILED",
        RolledBack = "ROLLED_BACK",
    }
);

text_enum!(
    /// State of an improvement action.
    ActionStatus {
        Open = "OPEN",
        InProgress = "IN_PROGRESS",
        Done = "DONE",
        Dropped = "DROPPED",
    }
);

text_enum!(
    /// What a release event records.
    ReleaseEventKind {
        Created = "CREATED",
        Updated = "UPDATED",
        StatusChanged = "STATUS_CHANGED",
        ItemAdded = "ITEM_ADDED",
        GateRecorded = "GATE_RECORDED",
        ApprovalRecorded = "APPROVAL_RECORDED",
        DeploymentRecorded = "DEPLOYMENT_RECORDED",
        IncidentRecorded = "INCIDENT_RECORDED",
        IncidentResolved = "INCIDENT_RESOLVED",
        RolledBack = "ROLLED_BACK",
        OutcomeRecorded = "OUTCOME_RECORDED",
        ActionAdded = "ACTION_ADDED",
        ActionUpdated = "ACTION_UPDATED",
        IncidentUpdated = "INCIDENT_UPDATED",
        DependencyChanged = "DEPENDENCY_CHANGED",
    }
);

text_enum!(
    /// How an ingest source's bodies are read and its signatures checked.
    IngestKind {
        Github = "GITHUB",
        Gitlab = "GITLAB",
        Pagerduty = "PAGERDUTY",
        Cdevents = "CDEVENTS",
        Generic = "GENERIC",
    }
);

text_enum!(
    /// What a delivery became.
    DeliveryStatus {
        Applied = "APPLIED",
        Unmatched = "UNMATCHED",
        Rejected = "REJECTED",
        Ignored = "IGNORED",
    }
);

text_enum!(
    /// Where a notification channel sends, and in which shape.
    NotificationKind {
        Webhook = "WEBHOOK",
        Slack = "SLACK",
        Teams = "TEAMS",
    }
);

text_enum!(
    /// Where a notification stands.
    NotificationStatus {
        Pending = "PENDING",
        Sent = "SENT",
        Failed = "FAILED",
    }
);

text_enum!(
    /// A figure of metrics.md that benchmarks, warnings and improvement actions refer to.
    MetricName {
        DeploymentFrequency = "DEPLOYMENT_FREQUENCY",
        LeadTime = "LEAD_TIME",
        ChangeFailureRate = "CHANGE_FAILURE_RATE",
        TimeToRestore = "TIME_TO_RESTORE",
        ReworkRate = "REWORK_RATE",
        OnTimeRate = "ON_TIME_RATE",
        GateFirstPassRate = "GATE_FIRST_PASS_RATE",
        UnplannedRate = "UNPLANNED_RATE",
    }
);
