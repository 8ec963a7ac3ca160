//! The demo data set: a deterministic, realistic organisation with two years of history.
//!
//! Five program archetypes with different habits (payments deploys many times a day with
//! canaries; mobile ships monthly in stages with pilots; data weekly; a supplier-heavy ERP
//! programme rarely and riskily; internal tools often with feature flags). `--scale N`
//! makes N copies of each archetype. The same scale on the same day gives the same data:
//! randomness comes from a fixed-seed generator and the calendar is anchored to the Monday
//! 104 weeks before today.
//!
//! Rows are written with explicit ids in multi-row INSERTs inside one transaction per
//! program, which is what makes millions of rows affordable.

use std::time::Instant;

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use entity::enums::*;
use entity::release_party::PartyRole;
use entity::*;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, Statement, TransactionTrait,
};

use crate::time;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// Rows per INSERT statement; keeps every batch under SQLite's 32,766 bind parameters.
const BATCH: usize = 2_000;

/// Small deterministic generator (SplitMix64), so demo data is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.unit() * (hi - lo) as f64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// The habits of one kind of program.
struct Archetype {
    key: &'static str,
    name: &'static str,
    description: &'static str,
    owner: &'static str,
    objective: &'static str,
    teams: &'static [&'static str],
    suppliers: &'static [&'static str],
    /// Working days between releases (fractions mean several a day).
    interval_days: f64,
    strategy: DeploymentStrategy,
    /// Production rollout stages, deployed to each production region in turn.
    stages: &'static [Option<&'static str>],
    /// Lead time from first commit to production, in hours.
    lead_hours: (i64, i64),
    /// Days a delivery slips past plannedEnd (negative = early).
    slip_days: (i64, i64),
    failure_rate: f64,
    incident_rate: f64,
    restore_hours: (i64, i64),
    gate_fail_rate: f64,
    emergency_rate: f64,
    extra_gates: &'static [(&'static str, GateKind)],
    item_prefix: &'static str,
}

const ARCHETYPES: [Archetype; 5] = [
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
        stages: &[Some("canary 5%"), Some("canary 50%"), Some("100%")],
        lead_hours: (2, 20),
        slip_days: (-1, 1),
        failure_rate: 0.02,
        incident_rate: 0.02,
        restore_hours: (0, 2),
        gate_fail_rate: 0.08,
        emergency_rate: 0.03,
        extra_gates: &[("pci-compliance", GateKind::Compliance)],
        item_prefix: "PAY",
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
        stages: &[Some("pilot 1%"), Some("staged 20%"), Some("100%")],
        lead_hours: (120, 700),
        slip_days: (-3, 6),
        failure_rate: 0.10,
        incident_rate: 0.08,
        restore_hours: (3, 60),
        gate_fail_rate: 0.25,
        emergency_rate: 0.15,
        extra_gates: &[("acceptance", GateKind::Acceptance)],
        item_prefix: "MOB",
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
        stages: &[None],
        lead_hours: (24, 160),
        slip_days: (-2, 3),
        failure_rate: 0.07,
        incident_rate: 0.05,
        restore_hours: (1, 20),
        gate_fail_rate: 0.15,
        emergency_rate: 0.05,
        extra_gates: &[("performance", GateKind::Performance)],
        item_prefix: "DAT",
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
        stages: &[None],
        lead_hours: (500, 1_800),
        slip_days: (-5, 25),
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
        stages: &[None],
        lead_hours: (10, 90),
        slip_days: (-2, 2),
        failure_rate: 0.05,
        incident_rate: 0.03,
        restore_hours: (1, 12),
        gate_fail_rate: 0.10,
        emergency_rate: 0.02,
        extra_gates: &[],
        item_prefix: "TOOL",
    },
];

const ENVIRONMENTS: [(&str, EnvironmentTier); 5] = [
    ("dev", EnvironmentTier::Development),
    ("test", EnvironmentTier::Testing),
    ("staging", EnvironmentTier::Staging),
    ("prod-eu", EnvironmentTier::Production),
    ("prod-us", EnvironmentTier::Production),
];
const STAGING_ENV: i64 = 3;
const PROD_ENVS: [i64; 2] = [4, 5];

const FEATURES: [&str; 8] = [
    "Faster search",
    "Saved filters",
    "Bulk export",
    "Dark mode",
    "Audit log view",
    "Smart retries",
    "Multi-currency totals",
    "Self-service onboarding",
];
const FIXES: [&str; 6] = [
    "Fix rounding in totals",
    "Fix timeout on large uploads",
    "Fix duplicate notifications",
    "Fix time-zone drift in reports",
    "Fix crash on empty cart",
    "Fix stale cache after login",
];
const SECURITY: [&str; 3] = [
    "Rotate signing keys",
    "Upgrade TLS library",
    "Harden session cookies",
];
const CHORES: [&str; 3] = [
    "Upgrade dependencies",
    "Remove dead feature flags",
    "Tidy build scripts",
];
const LESSONS: [&str; 4] = [
    "Canary metrics caught the regression early; widen the canary dashboard.",
    "Supplier hand-over lacked a runbook; require one before approval.",
    "Load test did not reflect month-end volumes.",
    "Rollback worked as planned and took under ten minutes.",
];
const ACTIONS: [&str; 5] = [
    "Add a synthetic check for the failed path",
    "Write the supplier hand-over runbook",
    "Extend the load test to month-end volumes",
    "Automate the rollback rehearsal",
    "Add an alert on error-budget burn",
];

/// Buffers rows of every table and writes them in batches.
#[derive(Default)]
struct Rows {
    programs: Vec<program::Model>,
    releases: Vec<release::Model>,
    parties: Vec<release_party::Model>,
    items: Vec<release_item::Model>,
    gates: Vec<quality_gate::Model>,
    results: Vec<gate_result::Model>,
    approvals: Vec<approval::Model>,
    deployments: Vec<deployment::Model>,
    incidents: Vec<incident::Model>,
    outcomes: Vec<outcome::Model>,
    actions: Vec<improvement_action::Model>,
    freezes: Vec<freeze_window::Model>,
    events: Vec<release_event::Model>,
}

async fn insert<E, M>(db: &impl ConnectionTrait, rows: &mut Vec<M>) -> Result<u64, sea_orm::DbErr>
where
    E: EntityTrait,
    M: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let count = rows.len() as u64;
    let mut rest = std::mem::take(rows).into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<E::ActiveModel> = rest
            .by_ref()
            .take(BATCH)
            .map(IntoActiveModel::into_active_model)
            .collect();
        E::insert_many(batch).exec_without_returning(db).await?;
    }
    Ok(count)
}

impl Rows {
    /// Writes every buffered row, parents before children, and returns how many.
    async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
        Ok(insert::<program::Entity, _>(db, &mut self.programs).await?
            + insert::<freeze_window::Entity, _>(db, &mut self.freezes).await?
            + insert::<release::Entity, _>(db, &mut self.releases).await?
            + insert::<release_party::Entity, _>(db, &mut self.parties).await?
            + insert::<release_item::Entity, _>(db, &mut self.items).await?
            + insert::<quality_gate::Entity, _>(db, &mut self.gates).await?
            + insert::<gate_result::Entity, _>(db, &mut self.results).await?
            + insert::<approval::Entity, _>(db, &mut self.approvals).await?
            + insert::<deployment::Entity, _>(db, &mut self.deployments).await?
            + insert::<incident::Entity, _>(db, &mut self.incidents).await?
            + insert::<outcome::Entity, _>(db, &mut self.outcomes).await?
            + insert::<improvement_action::Entity, _>(db, &mut self.actions).await?
            + insert::<release_event::Entity, _>(db, &mut self.events).await?)
    }
}

/// Next free id of every table (the database starts empty).
#[derive(Default)]
struct Ids {
    program: i64,
    release: i64,
    party: i64,
    item: i64,
    gate: i64,
    result: i64,
    approval: i64,
    deployment: i64,
    incident: i64,
    outcome: i64,
    action: i64,
    freeze: i64,
    event: i64,
}

fn next(counter: &mut i64) -> i64 {
    *counter += 1;
    *counter
}

/// What `seed` wrote and how fast.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub programs: u64,
    pub releases: u64,
    pub production_deployments: u64,
    pub rows: u64,
    pub seconds: f64,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeded {} programs, {} releases, {} production deployments ({} rows in {:.1} s, {:.0} rows/s)",
            self.programs,
            self.releases,
            self.production_deployments,
            self.rows,
            self.seconds,
            self.rows as f64 / self.seconds.max(1e-9)
        )
    }
}

/// Writes the demo data set at `scale` into an empty, migrated database.
pub async fn seed_demo(db: &DatabaseConnection, scale: u32) -> anyhow::Result<SeedReport> {
    if program::Entity::find().count(db).await? > 0
        || environment::Entity::find().count(db).await? > 0
    {
        anyhow::bail!(
            "the database already has data; seed needs an empty one (relm migrate fresh empties it)"
        );
    }
    let started = Instant::now();
    let today = Utc::now().date_naive();
    let start = monday_on_or_before(today - Days::weeks(104));
    let start_us = time::to_micros(start.and_time(chrono::NaiveTime::MIN).and_utc());
    let now_us = time::to_micros(today.and_time(chrono::NaiveTime::MIN).and_utc());

    let mut report = SeedReport::default();
    let mut ids = Ids::default();
    let mut rows = Rows::default();
    let txn = db.begin().await?;
    for (i, (name, tier)) in ENVIRONMENTS.iter().enumerate() {
        environment::ActiveModel {
            id: sea_orm::Set(i as i64 + 1),
            name: sea_orm::Set((*name).to_owned()),
            tier: sea_orm::Set(*tier),
        }
        .insert(&txn)
        .await?;
    }
    global_freezes(&mut rows, &mut ids, start, today);
    report.rows += ENVIRONMENTS.len() as u64 + rows.flush(&txn).await?;
    txn.commit().await?;

    for copy in 0..scale {
        for (a, archetype) in ARCHETYPES.iter().enumerate() {
            let seed = (u64::from(copy) << 8) | a as u64;
            let mut generator = ProgramGenerator {
                archetype,
                copy,
                start_us,
                now_us,
                rng: Rng(0x5EED_0000_0000 ^ seed.wrapping_mul(0x9E37_79B9)),
                ids: &mut ids,
                rows: &mut rows,
            };
            let (releases, prod) = generator.generate();
            report.programs += 1;
            report.releases += releases;
            report.production_deployments += prod;
            let txn = db.begin().await?;
            report.rows += rows.flush(&txn).await?;
            txn.commit().await?;
        }
    }
    reset_sequences(db).await?;
    // Fresh statistics, so the planner knows the tables' new sizes at once rather than
    // after autovacuum comes round (without them PostgreSQL picks slow plans for exports).
    db.execute_unprepared("ANALYZE").await?;
    crate::commands::record_change(db, change::ChangeKind::Bulk, None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn monday_on_or_before(day: NaiveDate) -> NaiveDate {
    day - Days::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Year-end freezes for every program, in each year the history covers.
fn global_freezes(rows: &mut Rows, ids: &mut Ids, start: NaiveDate, today: NaiveDate) {
    for year in start.year()..=today.year() {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 12, 20),
            NaiveDate::from_ymd_opt(year + 1, 1, 3),
        ) else {
            continue;
        };
        rows.freezes.push(freeze_window::Model {
            id: next(&mut ids.freeze),
            name: format!("Year-end freeze {year}"),
            reason: Some("Peak trading and reduced staffing over the holidays.".into()),
            starts_at: time::to_micros(from.and_time(chrono::NaiveTime::MIN).and_utc()),
            ends_at: time::to_micros(to.and_time(chrono::NaiveTime::MIN).and_utc()),
            program_id: None,
        });
    }
}

/// PostgreSQL sequences do not see explicit ids; move each past the largest id.
async fn reset_sequences(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in [
        "programs",
        "environments",
        "releases",
        "release_parties",
        "release_items",
        "quality_gates",
        "gate_results",
        "approvals",
        "deployments",
        "incidents",
        "outcomes",
        "improvement_actions",
        "freeze_windows",
        "release_events",
    ] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        );
        db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}

/// Whether `t` falls in a year-end freeze (20 Dec to 3 Jan).
fn in_year_end_freeze(t: i64) -> bool {
    let day = time::from_micros(t).date_naive();
    (day.month() == 12 && day.day() >= 20) || (day.month() == 1 && day.day() < 3)
}

struct ProgramGenerator<'a> {
    archetype: &'a Archetype,
    copy: u32,
    start_us: i64,
    now_us: i64,
    rng: Rng,
    ids: &'a mut Ids,
    rows: &'a mut Rows,
}

/// The state of one release as it is generated.
struct Draft {
    id: i64,
    created_at: i64,
    revision: i32,
    status: ReleaseStatus,
    /// Time of the latest event: the audit trail never goes back in time.
    clock: i64,
}

impl ProgramGenerator<'_> {
    fn key(&self) -> String {
        match self.copy {
            0 => self.archetype.key.to_owned(),
            n => format!("{}{}", self.archetype.key, n + 1),
        }
    }

    /// Generates the program and its history; returns (releases, production deployments).
    fn generate(&mut self) -> (u64, u64) {
        let a = self.archetype;
        let program_id = next(&mut self.ids.program);
        let key = self.key();
        self.rows.programs.push(program::Model {
            id: program_id,
            key: key.clone(),
            name: match self.copy {
                0 => a.name.to_owned(),
                n => format!("{} {}", a.name, n + 1),
            },
            description: Some(a.description.to_owned()),
            owner: Some(a.owner.to_owned()),
            business_objective: Some(a.objective.to_owned()),
            created_at: self.start_us - 30 * DAY,
        });
        if a.key == "ERP" {
            self.quarter_close_freezes(program_id);
        }

        let horizon = self.now_us + 8 * WEEK;
        let mut releases = 0;
        let mut prod = 0;
        let mut t = self.start_us + self.rng.range(0, DAY);
        let mut sequence = 0u32;
        while t < horizon {
            let working_days = a.interval_days * (0.6 + 0.8 * self.rng.unit());
            t += (working_days * 7.0 / 5.0 * DAY as f64) as i64;
            if t >= horizon {
                break;
            }
            sequence += 1;
            let emergency = self.rng.chance(a.emergency_rate);
            let planned_end = align_to_working_hours(t, &mut self.rng);
            if !emergency && in_year_end_freeze(planned_end) {
                continue;
            }
            prod += self.release(program_id, &key, sequence, planned_end, emergency);
            releases += 1;
        }
        (releases, prod)
    }

    fn quarter_close_freezes(&mut self, program_id: i64) {
        let mut day = time::from_micros(self.start_us).date_naive();
        let end = time::from_micros(self.now_us + 12 * WEEK).date_naive();
        while day < end {
            if matches!(day.month(), 3 | 6 | 9) && day.day() == 25 {
                let starts = time::to_micros(day.and_time(chrono::NaiveTime::MIN).and_utc());
                self.rows.freezes.push(freeze_window::Model {
                    id: next(&mut self.ids.freeze),
                    name: format!("Quarter close {}", day.format("%Y-%m")),
                    reason: Some("Finance closes the books; no ERP changes.".into()),
                    starts_at: starts,
                    ends_at: starts + 9 * DAY,
                    program_id: Some(program_id),
                });
            }
            day += Days::days(1);
        }
    }

    fn event(
        &mut self,
        draft: &mut Draft,
        kind: ReleaseEventKind,
        at: i64,
        to: Option<ReleaseStatus>,
        note: Option<String>,
    ) {
        let from_status = to.map(|_| draft.status);
        if let Some(to) = to {
            draft.status = to;
        }
        draft.revision += 1;
        draft.clock = draft.clock.max(at);
        let at = draft.clock;
        self.rows.events.push(release_event::Model {
            id: next(&mut self.ids.event),
            release_id: draft.id,
            kind,
            actor: self.archetype.owner.to_lowercase().replace(' ', "."),
            at,
            from_status,
            to_status: to,
            note,
        });
    }

    #[allow(clippy::too_many_arguments, reason = "one release's generation inputs")]
    fn release(
        &mut self,
        program_id: i64,
        key: &str,
        sequence: u32,
        planned_end: i64,
        emergency: bool,
    ) -> u64 {
        let a = self.archetype;
        let date = time::from_micros(planned_end).date_naive();
        let (release_type, version) = if emergency {
            (
                ReleaseType::Emergency,
                format!("{}.{sequence}-hotfix", date.format("%Y.%m.%d")),
            )
        } else {
            let ty = match sequence % 12 {
                0 => ReleaseType::Major,
                1 | 5 | 9 => ReleaseType::Patch,
                _ => ReleaseType::Minor,
            };
            (ty, format!("{}.{sequence}", date.format("%Y.%m.%d")))
        };
        let lead = self
            .rng
            .range(a.lead_hours.0, a.lead_hours.1.max(a.lead_hours.0 + 1))
            * HOUR;
        let planned_start = planned_end - lead.max(DAY);
        let created_at = (planned_start - self.rng.range(1, 14) * DAY)
            .min(self.now_us - self.rng.range(1, 20) * DAY);
        let mut draft = Draft {
            id: next(&mut self.ids.release),
            created_at,
            revision: 0,
            status: ReleaseStatus::Planned,
            clock: created_at,
        };
        let risk = *self.rng.pick(&[
            RiskLevel::Low,
            RiskLevel::Medium,
            RiskLevel::Medium,
            RiskLevel::High,
        ]);
        let risk = if emergency || a.key == "ERP" && self.rng.chance(0.3) {
            RiskLevel::Critical
        } else {
            risk
        };
        self.event(
            &mut draft,
            ReleaseEventKind::Created,
            created_at,
            None,
            None,
        );

        for (position, team) in a.teams.iter().enumerate() {
            if position == 0 || self.rng.chance(0.6) {
                self.rows.parties.push(release_party::Model {
                    id: next(&mut self.ids.party),
                    release_id: draft.id,
                    role: PartyRole::Team,
                    name: (*team).to_owned(),
                    position: position as i32,
                });
            }
        }
        for (position, supplier) in a.suppliers.iter().enumerate() {
            if self.rng.chance(0.7) {
                self.rows.parties.push(release_party::Model {
                    id: next(&mut self.ids.party),
                    release_id: draft.id,
                    role: PartyRole::Supplier,
                    name: (*supplier).to_owned(),
                    position: position as i32,
                });
            }
        }

        // Scope: items whose first commits precede the planned go-live by the lead time.
        let item_count = if emergency { 1 } else { self.rng.range(2, 7) };
        for n in 0..item_count {
            let (kind, title) = if emergency {
                (ItemKind::Fix, *self.rng.pick(&FIXES))
            } else {
                match self.rng.range(0, 10) {
                    0..=4 => (ItemKind::Feature, *self.rng.pick(&FEATURES)),
                    5..=7 => (ItemKind::Fix, *self.rng.pick(&FIXES)),
                    8 => (ItemKind::Security, *self.rng.pick(&SECURITY)),
                    _ => (ItemKind::Chore, *self.rng.pick(&CHORES)),
                }
            };
            self.rows.items.push(release_item::Model {
                id: next(&mut self.ids.item),
                release_id: draft.id,
                title: title.to_owned(),
                kind,
                reference: Some(format!("{}-{}", a.item_prefix, draft.id * 10 + n)),
                committed_at: Some(planned_end - lead + self.rng.range(0, lead / 3 + 1)),
            });
            self.event(
                &mut draft,
                ReleaseEventKind::ItemAdded,
                created_at + HOUR,
                None,
                None,
            );
        }

        let until_go_live = planned_end - self.now_us;
        let cancelled = self.rng.chance(0.02);
        let target = if cancelled {
            Some(ReleaseStatus::Cancelled)
        } else if until_go_live > 4 * WEEK {
            None
        } else if until_go_live > 2 * WEEK {
            Some(ReleaseStatus::Scheduled)
        } else if until_go_live > WEEK {
            Some(ReleaseStatus::InBuild)
        } else if until_go_live > 2 * DAY {
            Some(ReleaseStatus::InTest)
        } else if until_go_live > 0 {
            Some(ReleaseStatus::Approved)
        } else {
            Some(ReleaseStatus::Deployed)
        };
        let mut prod = 0;
        let rollback_plan = Some(format!(
            "Redeploy the previous {key} version; data migrations are backward compatible."
        ));
        if let Some(target) = target {
            prod = self.progress(
                &mut draft,
                planned_start,
                planned_end,
                target,
                emergency,
                program_id,
            );
        }
        self.rows.releases.push(release::Model {
            id: draft.id,
            program_id,
            version,
            name: if emergency {
                "Hotfix".to_owned()
            } else {
                format!("{} {}", a.name, date.format("%B %Y"))
            },
            description: Some(format!(
                "{} release {sequence} of {}.",
                release_type.as_str().to_lowercase(),
                a.name
            )),
            release_type,
            risk,
            strategy: a.strategy,
            status: draft.status,
            owner: Some(a.owner.to_owned()),
            planned_start: Some(planned_start),
            planned_end: Some(planned_end),
            rollback_plan,
            revision: draft.revision,
            created_at: draft.created_at,
            updated_at: self.rows.events.last().map_or(draft.created_at, |e| e.at),
        });
        prod
    }

    /// Moves a release along its lifecycle towards `target`, recording what that takes.
    #[allow(clippy::too_many_arguments, reason = "one release's generation inputs")]
    fn progress(
        &mut self,
        draft: &mut Draft,
        planned_start: i64,
        planned_end: i64,
        target: ReleaseStatus,
        emergency: bool,
        program_id: i64,
    ) -> u64 {
        use ReleaseStatus::*;
        let a = self.archetype;
        // Work on a release runs from its planned start (or creation) to go-live, and
        // nothing is recorded after now.
        let begin = planned_start
            .max(draft.created_at)
            .min(self.now_us - 2 * HOUR);
        let end = (planned_end - 4 * HOUR).min(self.now_us - HOUR).max(begin);
        let status_at = |fraction: f64| begin + ((end - begin) as f64 * fraction) as i64;
        let steps = [(Scheduled, 0.05), (InBuild, 0.2), (InTest, 0.6)];
        for (status, fraction) in steps {
            if target == Cancelled && self.rng.chance(0.5) {
                break;
            }
            self.event(
                draft,
                ReleaseEventKind::StatusChanged,
                status_at(fraction),
                Some(status),
                None,
            );
            if status == target {
                return 0;
            }
        }
        if target == Cancelled {
            let note = Some("Descoped: merged into the next release.".to_owned());
            self.event(
                draft,
                ReleaseEventKind::StatusChanged,
                status_at(0.7),
                Some(Cancelled),
                note,
            );
            return 0;
        }

        // Quality gates: the standard three plus the archetype's own; some fail first.
        let checked = status_at(0.8);
        let mut gates: Vec<(&str, GateKind)> = vec![
            ("unit-tests", GateKind::UnitTest),
            ("integration-tests", GateKind::IntegrationTest),
            ("security-scan", GateKind::SecurityScan),
        ];
        gates.extend(a.extra_gates.iter().copied());
        for (n, (name, kind)) in gates.into_iter().enumerate() {
            let gate_id = next(&mut self.ids.gate);
            self.rows.gates.push(quality_gate::Model {
                id: gate_id,
                release_id: draft.id,
                name: name.to_owned(),
                kind,
                required: kind != GateKind::Performance,
            });
            let mut at = checked + n as i64 * (end - checked) / 8;
            let mut outcomes = Vec::new();
            if self.rng.chance(a.gate_fail_rate) {
                outcomes.push(GateStatus::Failed);
            }
            outcomes.push(if kind == GateKind::Performance && self.rng.chance(0.2) {
                GateStatus::Waived
            } else {
                GateStatus::Passed
            });
            for status in outcomes {
                self.rows.results.push(gate_result::Model {
                    id: next(&mut self.ids.result),
                    gate_id,
                    status,
                    evidence_url: Some(format!(
                        "https://ci.example.com/{}/{}/{name}",
                        self.key().to_lowercase(),
                        draft.id
                    )),
                    note: (status == GateStatus::Failed)
                        .then(|| "Failing checks; fix pushed.".to_owned()),
                    checked_at: at,
                    checked_by: "ci-bot".to_owned(),
                });
                self.event(draft, ReleaseEventKind::GateRecorded, at, None, None);
                at += (end - checked) / 16;
            }
        }

        let decided = status_at(0.95);
        if !emergency && self.rng.chance(0.05) {
            self.approval(
                draft,
                ApprovalDecision::NoGo,
                status_at(0.9),
                Some("Waiting for the supplier sign-off."),
            );
        }
        self.approval(draft, ApprovalDecision::Go, decided, None);
        self.event(
            draft,
            ReleaseEventKind::StatusChanged,
            status_at(0.97),
            Some(Approved),
            None,
        );
        if target == Approved {
            return 0;
        }

        // Staging, then each production stage in each region.
        // Go-live slips from plannedEnd, but never before approval; a rollout that would
        // run past now is still in progress.
        let slip = self.rng.range(a.slip_days.0 * DAY, a.slip_days.1 * DAY + 1);
        let go_live = (planned_end + slip).max(draft.clock + 2 * HOUR);
        let strategy = a.strategy;
        if go_live - HOUR > self.now_us {
            return 0;
        }
        self.deployment(
            draft,
            STAGING_ENV,
            strategy,
            None,
            go_live - 2 * HOUR,
            Some(go_live - HOUR),
            DeploymentStatus::Succeeded,
            false,
        );
        let stage_count = a.stages.len() * PROD_ENVS.len();
        let fails = self.rng.chance(a.failure_rate);
        // Some failures are retried at once instead of rolled back.
        let retried = fails && self.rng.chance(0.4);
        // Some of the latest rollouts are still running.
        let stalled_step =
            (planned_end > self.now_us - 4 * DAY && self.rng.chance(0.5)).then(|| {
                if self.rng.chance(0.5) {
                    0
                } else {
                    stage_count - 1
                }
            });
        let mut in_progress = false;
        let mut t = go_live;
        let mut prod = 0;
        let failing_step = self.rng.range(0, stage_count as i64) as usize;
        let mut step = 0;
        let mut last_prod = None;
        'rollout: for env in PROD_ENVS {
            for stage in a.stages {
                if t > self.now_us {
                    in_progress = true;
                    break 'rollout;
                }
                let duration = self.rng.range(HOUR / 6, HOUR);
                let status = if t + duration > self.now_us || stalled_step == Some(step) {
                    in_progress = true;
                    DeploymentStatus::InProgress
                } else if fails && step == failing_step {
                    DeploymentStatus::Failed
                } else {
                    DeploymentStatus::Succeeded
                };
                let finished = (status != DeploymentStatus::InProgress).then_some(t + duration);
                let id = self.deployment(
                    draft,
                    env,
                    strategy,
                    stage.map(str::to_owned),
                    t,
                    finished,
                    status,
                    false,
                );
                prod += 1;
                last_prod = Some((id, env, t + duration));
                t += duration + self.rng.range(HOUR / 2, 3 * HOUR);
                step += 1;
                if status == DeploymentStatus::Failed && retried {
                    let retry_end = t + self.rng.range(HOUR / 6, HOUR);
                    let id = self.deployment(
                        draft,
                        env,
                        strategy,
                        stage.map(str::to_owned),
                        t,
                        Some(retry_end),
                        DeploymentStatus::Succeeded,
                        false,
                    );
                    prod += 1;
                    last_prod = Some((id, env, retry_end));
                    t = retry_end + HOUR / 2;
                } else if status != DeploymentStatus::Succeeded {
                    break 'rollout;
                }
            }
        }
        let Some((last_id, last_env, last_end)) = last_prod else {
            return prod;
        };

        if in_progress {
            return prod;
        }
        if fails && !retried {
            // The failed stage is rolled back: its deployment is marked ROLLED_BACK and a
            // rollback deployment restores the previous version.
            if let Some(d) = self
                .rows
                .deployments
                .iter_mut()
                .rev()
                .find(|d| d.id == last_id)
            {
                d.status = DeploymentStatus::RolledBack;
            }
            self.deployment(
                draft,
                last_env,
                strategy,
                None,
                last_end + HOUR / 4,
                Some(last_end + HOUR / 2),
                DeploymentStatus::Succeeded,
                true,
            );
            self.event(
                draft,
                ReleaseEventKind::RolledBack,
                last_end + HOUR / 2,
                Some(RolledBack),
                Some("Error rate above threshold after go-live.".into()),
            );
            self.incident(draft, program_id, Some(last_id), last_end, true);
        } else if draft.status == Deployed && self.rng.chance(a.incident_rate) {
            // Half of the incidents name the deployment; the others only the release.
            let deployment = self.rng.chance(0.5).then_some(last_id);
            self.incident(draft, program_id, deployment, last_end, true);
        }
        if self.rng.chance(0.01) && last_end + 3 * DAY < self.now_us {
            // A provider outage: not caused by any change.
            self.incident(draft, program_id, None, last_end + 3 * DAY, false);
        }

        // Reviews follow about a week after go-live; a few are still missing.
        let review_at = last_end + self.rng.range(2, 10) * DAY;
        if matches!(draft.status, Deployed | RolledBack)
            && review_at < self.now_us
            && self.rng.chance(0.9)
        {
            self.review(draft, review_at, fails && !retried);
        }
        prod
    }

    fn approval(
        &mut self,
        draft: &mut Draft,
        decision: ApprovalDecision,
        at: i64,
        comment: Option<&str>,
    ) {
        self.rows.approvals.push(approval::Model {
            id: next(&mut self.ids.approval),
            release_id: draft.id,
            approver: "change-advisory-board".to_owned(),
            decision,
            comment: comment.map(str::to_owned),
            decided_at: at,
        });
        self.event(draft, ReleaseEventKind::ApprovalRecorded, at, None, None);
    }

    #[allow(clippy::too_many_arguments, reason = "a deployment's columns")]
    fn deployment(
        &mut self,
        draft: &mut Draft,
        environment_id: i64,
        strategy: DeploymentStrategy,
        stage: Option<String>,
        started_at: i64,
        finished_at: Option<i64>,
        status: DeploymentStatus,
        is_rollback: bool,
    ) -> i64 {
        let id = next(&mut self.ids.deployment);
        self.rows.deployments.push(deployment::Model {
            id,
            release_id: draft.id,
            environment_id,
            status,
            strategy,
            stage,
            is_rollback,
            started_at,
            finished_at,
        });
        // lifecycle.md: a production deployment moves an APPROVED release to DEPLOYING, a
        // SUCCEEDED one moves an APPROVED or DEPLOYING release to DEPLOYED.
        let to = match (
            is_rollback || !PROD_ENVS.contains(&environment_id),
            draft.status,
            status,
        ) {
            (true, _, _) => None,
            (
                false,
                ReleaseStatus::Approved | ReleaseStatus::Deploying,
                DeploymentStatus::Succeeded,
            ) => Some(ReleaseStatus::Deployed),
            (false, ReleaseStatus::Approved, _) => Some(ReleaseStatus::Deploying),
            _ => None,
        };
        self.event(
            draft,
            ReleaseEventKind::DeploymentRecorded,
            finished_at.unwrap_or(started_at),
            to,
            None,
        );
        id
    }

    #[allow(clippy::too_many_arguments, reason = "an incident's columns")]
    fn incident(
        &mut self,
        draft: &mut Draft,
        program_id: i64,
        deployment_id: Option<i64>,
        after: i64,
        caused_by_change: bool,
    ) {
        let a = self.archetype;
        let opened_at = (after + self.rng.range(HOUR / 12, 6 * HOUR)).min(self.now_us - HOUR / 12);
        let restore = self.rng.range(
            a.restore_hours.0 * HOUR + HOUR / 6,
            a.restore_hours.1 * HOUR + HOUR / 3,
        );
        let resolved_at = (opened_at + restore < self.now_us && !self.rng.chance(0.03))
            .then_some(opened_at + restore);
        self.rows.incidents.push(incident::Model {
            id: next(&mut self.ids.incident),
            program_id,
            release_id: caused_by_change.then_some(draft.id),
            deployment_id,
            title: if caused_by_change {
                format!("Elevated errors after {} go-live", a.name)
            } else {
                "Cloud provider outage in one region".to_owned()
            },
            severity: *self.rng.pick(&[
                Severity::Sev1,
                Severity::Sev2,
                Severity::Sev2,
                Severity::Sev3,
                Severity::Sev4,
            ]),
            caused_by_change,
            opened_at,
            resolved_at,
        });
        if caused_by_change {
            self.event(
                draft,
                ReleaseEventKind::IncidentRecorded,
                opened_at,
                None,
                None,
            );
            if let Some(at) = resolved_at {
                self.event(draft, ReleaseEventKind::IncidentResolved, at, None, None);
            }
        }
    }

    fn review(&mut self, draft: &mut Draft, at: i64, failed: bool) {
        let had_incident = self
            .rows
            .incidents
            .last()
            .is_some_and(|i| i.release_id == Some(draft.id));
        let result = if failed {
            OutcomeResult::RolledBack
        } else if had_incident {
            OutcomeResult::SuccessfulWithIssues
        } else {
            OutcomeResult::Successful
        };
        self.rows.outcomes.push(outcome::Model {
            id: next(&mut self.ids.outcome),
            release_id: draft.id,
            result,
            objectives_met: !failed && self.rng.chance(0.85),
            defects_escaped: if failed || had_incident {
                self.rng.range(1, 5) as i32
            } else {
                self.rng.range(0, 2) as i32
            },
            customer_impact: (failed || had_incident)
                .then(|| "Some customers saw errors for part of the incident.".to_owned()),
            summary: match result {
                OutcomeResult::Successful => "Shipped as planned.".to_owned(),
                OutcomeResult::SuccessfulWithIssues => {
                    "Shipped; an incident followed and was resolved.".to_owned()
                }
                _ => "Rolled back after go-live; the fix ships in a later release.".to_owned(),
            },
            lessons_learned: Some((*self.rng.pick(&LESSONS)).to_owned()),
            reviewed_at: at,
            reviewed_by: "release-manager".to_owned(),
        });
        self.event(
            draft,
            ReleaseEventKind::OutcomeRecorded,
            at,
            Some(ReleaseStatus::Reviewed),
            None,
        );
        if result == OutcomeResult::Successful && !self.rng.chance(0.1) {
            return;
        }
        for _ in 0..self.rng.range(1, 3) {
            let created_at = (at + HOUR).min(self.now_us);
            let due = time::from_micros(created_at + self.rng.range(7, 45) * DAY).date_naive();
            let closed = created_at + self.rng.range(3, 60) * DAY;
            let (status, closed_at) = if closed < self.now_us && self.rng.chance(0.75) {
                (
                    if self.rng.chance(0.9) {
                        ActionStatus::Done
                    } else {
                        ActionStatus::Dropped
                    },
                    Some(closed),
                )
            } else {
                (
                    *self
                        .rng
                        .pick(&[ActionStatus::Open, ActionStatus::InProgress]),
                    None,
                )
            };
            self.rows.actions.push(improvement_action::Model {
                id: next(&mut self.ids.action),
                release_id: draft.id,
                title: (*self.rng.pick(&ACTIONS)).to_owned(),
                owner: Some(self.archetype.owner.to_owned()),
                due_date: Some(due),
                status,
                created_at,
                closed_at,
            });
            self.event(draft, ReleaseEventKind::ActionAdded, created_at, None, None);
        }
    }
}

/// Moves a time to a working day between 09:00 and 17:00 UTC.
fn align_to_working_hours(t: i64, rng: &mut Rng) -> i64 {
    let day_start = t - t.rem_euclid(DAY);
    let weekday = time::from_micros(day_start)
        .weekday()
        .num_days_from_monday() as i64;
    let shift = if weekday >= 5 { (7 - weekday) * DAY } else { 0 };
    day_start + shift + 9 * HOUR + rng.range(0, 8 * HOUR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        let mut r = Rng(1);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&r.unit())));
    }

    #[test]
    fn working_hours_skip_weekends() {
        let mut rng = Rng(3);
        // 2026-11-28 is a Saturday.
        let saturday = time::to_micros(
            chrono::DateTime::parse_from_rfc3339("2026-11-28T03:00:00Z")
                .map(|t| t.to_utc())
                .unwrap_or_default(),
        );
        let t = align_to_working_hours(saturday, &mut rng);
        let when = time::from_micros(t);
        assert_eq!(when.weekday(), chrono::Weekday::Mon);
        assert!((9..17).contains(&chrono::Timelike::hour(&when)));
    }
}
