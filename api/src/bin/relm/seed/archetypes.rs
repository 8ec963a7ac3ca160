//! The five kinds of program the demo organisation runs, and the words its data uses.

use entity::enums::*;

/// The habits of one kind of program.
pub(super) struct Archetype {
    pub(super) key: &'static str,
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    pub(super) owner: &'static str,
    pub(super) objective: &'static str,
    pub(super) teams: &'static [&'static str],
    pub(super) suppliers: &'static [&'static str],
    /// Working days between releases (fractions mean several a day).
    pub(super) interval_days: f64,
    pub(super) strategy: DeploymentStrategy,
    /// How major releases go live when it differs from `strategy` (a pilot group first).
    pub(super) major_strategy: Option<DeploymentStrategy>,
    /// Production rollout stages, deployed to each production region in turn.
    pub(super) stages: &'static [Option<&'static str>],
    /// Lead time from first commit to production, in hours.
    pub(super) lead_hours: (i64, i64),
    /// Days a delivery slips past plannedEnd (negative = early), before what grown scope
    /// and failed gates add.
    pub(super) slip_days: (i64, i64),
    /// Days from a release's planned start to its plannedEnd: the schedule its statuses
    /// follow.
    pub(super) cycle_days: i64,
    pub(super) failure_rate: f64,
    pub(super) incident_rate: f64,
    pub(super) restore_hours: (i64, i64),
    pub(super) gate_fail_rate: f64,
    pub(super) emergency_rate: f64,
    pub(super) extra_gates: &'static [(&'static str, GateKind)],
    pub(super) item_prefix: &'static str,
    /// A change of habit part-way through the history, with the action behind it.
    pub(super) turnaround: Option<Turnaround>,
}

/// An improvement action that took effect some days ago, and what it really changed from
/// then on: so that the demo's impact figures have something to find (or not).
pub(super) struct Turnaround {
    pub(super) days_ago: i64,
    pub(super) action: &'static str,
    pub(super) target: MetricName,
    /// Factors of the lead time and the failure rate from then on (1: no change).
    pub(super) lead_factor: f64,
    pub(super) failure_factor: f64,
}

pub(super) const ARCHETYPES: [Archetype; 5] = [
    Archetype {
        key: "PAY",
        name: "Payments Platform",
        description: "Card, wallet and bank-transfer payments for every channel.",
        owner: "Dana Whitfield",
        objective: "Authorise 99.99% of payments within 300 ms while shipping daily.",
        teams: &["payments-core", "risk", "checkout"],
        suppliers: &[],
        interval_days: 0.3,
        strategy: DeploymentStrategy::Canary,
        major_strategy: None,
        stages: &[Some("canary 5%"), Some("canary 50%"), Some("100%")],
        lead_hours: (2, 20),
        slip_days: (-1, 1),
        cycle_days: 2,
        failure_rate: 0.02,
        incident_rate: 0.02,
        restore_hours: (0, 2),
        gate_fail_rate: 0.08,
        emergency_rate: 0.03,
        extra_gates: &[("pci-compliance", GateKind::Compliance)],
        item_prefix: "PAY",
        // Trunk-based development halved the lead time.
        turnaround: Some(Turnaround {
            days_ago: 150,
            action: "Move to trunk-based development",
            target: MetricName::LeadTime,
            lead_factor: 0.5,
            failure_factor: 1.0,
        }),
    },
    Archetype {
        key: "MOB",
        name: "Mobile App",
        description: "The customer app for iOS and Android.",
        owner: "Ravi Menon",
        objective: "Raise the app-store rating to 4.7 with monthly feature drops.",
        teams: &["mobile-ios", "mobile-android", "design"],
        suppliers: &["Brightlane QA"],
        interval_days: 20.0,
        strategy: DeploymentStrategy::Staged,
        major_strategy: None,
        stages: &[Some("pilot 1%"), Some("staged 20%"), Some("100%")],
        lead_hours: (120, 700),
        slip_days: (-3, 6),
        cycle_days: 30,
        failure_rate: 0.10,
        incident_rate: 0.08,
        restore_hours: (3, 60),
        gate_fail_rate: 0.25,
        emergency_rate: 0.15,
        extra_gates: &[("acceptance", GateKind::Acceptance)],
        item_prefix: "MOB",
        // A smaller failure rate, but not enough releases to be sure of it.
        turnaround: Some(Turnaround {
            days_ago: 120,
            action: "Widen the pilot group before every staged rollout",
            target: MetricName::ChangeFailureRate,
            lead_factor: 1.0,
            failure_factor: 0.5,
        }),
    },
    Archetype {
        key: "DATA",
        name: "Data Platform",
        description: "Pipelines, the warehouse and the reporting layer.",
        owner: "Mei Tanaka",
        objective: "Fresh data by 07:00 every day for every business report.",
        teams: &["data-eng", "analytics"],
        suppliers: &["Cloudharbor"],
        interval_days: 5.0,
        strategy: DeploymentStrategy::BlueGreen,
        major_strategy: None,
        stages: &[None],
        lead_hours: (24, 160),
        slip_days: (-1, 4),
        cycle_days: 10,
        failure_rate: 0.07,
        incident_rate: 0.05,
        restore_hours: (1, 20),
        gate_fail_rate: 0.15,
        emergency_rate: 0.05,
        extra_gates: &[("performance", GateKind::Performance)],
        item_prefix: "DAT",
        // A review gate that changed nothing measurable.
        turnaround: Some(Turnaround {
            days_ago: 120,
            action: "Review every schema change with the data owners",
            target: MetricName::ChangeFailureRate,
            lead_factor: 1.0,
            failure_factor: 1.0,
        }),
    },
    Archetype {
        key: "ERP",
        name: "ERP Modernisation",
        description: "Finance, procurement and HR on the new ERP suite.",
        owner: "Jonas Becker",
        objective: "Retire the legacy ledger by the end of the programme.",
        teams: &["erp-finance", "erp-integration"],
        suppliers: &["Northwind Consulting", "Atlas ERP", "Keystone Integrations"],
        interval_days: 30.0,
        strategy: DeploymentStrategy::BigBang,
        major_strategy: Some(DeploymentStrategy::Pilot),
        stages: &[None],
        lead_hours: (500, 1_800),
        slip_days: (-5, 25),
        cycle_days: 60,
        failure_rate: 0.20,
        incident_rate: 0.12,
        restore_hours: (20, 240),
        gate_fail_rate: 0.35,
        emergency_rate: 0.10,
        extra_gates: &[
            ("sox-compliance", GateKind::Compliance),
            ("uat", GateKind::Acceptance),
        ],
        item_prefix: "ERP",
        // Two releases a quarter: too few deployments to tell.
        turnaround: Some(Turnaround {
            days_ago: 120,
            action: "Rehearse the cutover on a copy of production",
            target: MetricName::ChangeFailureRate,
            lead_factor: 1.0,
            failure_factor: 0.5,
        }),
    },
    Archetype {
        key: "TOOLS",
        name: "Internal Tools",
        description: "Back-office tools for support and operations staff.",
        owner: "Sam Okafor",
        objective: "Cut the time support staff spend per ticket by a third.",
        teams: &["platform-tools"],
        suppliers: &[],
        interval_days: 1.7,
        strategy: DeploymentStrategy::FeatureFlag,
        major_strategy: None,
        stages: &[None],
        lead_hours: (10, 90),
        slip_days: (-3, 0),
        cycle_days: 10,
        failure_rate: 0.05,
        incident_rate: 0.03,
        restore_hours: (1, 12),
        gate_fail_rate: 0.10,
        emergency_rate: 0.02,
        extra_gates: &[],
        item_prefix: "TOOL",
        // Splitting the build made changes wait longer.
        turnaround: Some(Turnaround {
            days_ago: 100,
            action: "Split the monorepo build per service",
            target: MetricName::LeadTime,
            lead_factor: 1.8,
            failure_factor: 1.0,
        }),
    },
];

pub(super) const ENVIRONMENTS: [(&str, EnvironmentTier); 5] = [
    ("dev", EnvironmentTier::Development),
    ("test", EnvironmentTier::Testing),
    ("staging", EnvironmentTier::Staging),
    ("prod-eu", EnvironmentTier::Production),
    ("prod-us", EnvironmentTier::Production),
];
pub(super) const STAGING_ENV: i64 = 3;
pub(super) const PROD_ENVS: [i64; 2] = [4, 5];

pub(super) const FEATURES: [&str; 8] = [
    "Faster search",
    "Saved filters",
    "Bulk export",
    "Dark mode",
    "Audit log view",
    "Smart retries",
    "Multi-currency totals",
    "Self-service onboarding",
];
pub(super) const FIXES: [&str; 6] = [
    "Fix rounding in totals",
    "Fix timeout on large uploads",
    "Fix duplicate notifications",
    "Fix time-zone drift in reports",
    "Fix crash on empty cart",
    "Fix stale cache after login",
];
pub(super) const SECURITY: [&str; 3] = [
    "Rotate signing keys",
    "Upgrade TLS library",
    "Harden session cookies",
];
pub(super) const CHORES: [&str; 3] = [
    "Upgrade dependencies",
    "Remove dead feature flags",
    "Tidy build scripts",
];
pub(super) const LESSONS: [&str; 4] = [
    "Canary metrics caught the regression early; widen the canary dashboard.",
    "Supplier hand-over lacked a runbook; require one before approval.",
    "Load test did not reflect month-end volumes.",
    "Rollback worked as planned and took under ten minutes.",
];
pub(super) const ACTIONS: [&str; 5] = [
    "Add a synthetic check for the failed path",
    "Write the supplier hand-over runbook",
    "Extend the load test to month-end volumes",
    "Automate the rollback rehearsal",
    "Add an alert on error-budget burn",
];
