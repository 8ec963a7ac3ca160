//! One program's history, release by release: the lifecycle each release goes through, with
//! its gates, approvals, deployments, incidents and review, as rows.

use chrono::{Datelike, Duration as Days};
use entity::enums::*;
use entity::release_party::PartyRole;
use entity::*;

use super::archetypes::*;
use super::in_year_end_freeze;
use super::rng::Rng;
use super::rows::{Ids, Rows, next};
use api::time;

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// The share of releases whose scope grows during the build.
const SCOPE_GROWTH: f64 = 0.2;

/// How long work on a release runs before its plannedEnd: the program's cycle, two days
/// for an EMERGENCY release.
fn cycle(a: &Archetype, emergency: bool) -> i64 {
    if emergency {
        2 * DAY
    } else {
        a.cycle_days * DAY
    }
}

pub(super) struct ProgramGenerator<'a> {
    pub(super) archetype: &'a Archetype,
    pub(super) copy: u32,
    pub(super) start_us: i64,
    pub(super) now_us: i64,
    pub(super) rng: Rng,
    pub(super) ids: &'a mut Ids,
    pub(super) rows: &'a mut Rows,
    /// Whether the turnaround's action has been raised.
    pub(super) turned: bool,
}

/// The state of one release as it is generated.
pub(super) struct Draft {
    pub(super) id: i64,
    pub(super) strategy: DeploymentStrategy,
    pub(super) created_at: i64,
    pub(super) revision: i32,
    pub(super) status: ReleaseStatus,
    /// Time of the latest event: the audit trail never goes back in time.
    pub(super) clock: i64,
}

impl ProgramGenerator<'_> {
    fn key(&self) -> String {
        match self.copy {
            0 => self.archetype.key.to_owned(),
            n => format!("{}{}", self.archetype.key, n + 1),
        }
    }

    /// Generates the program and its history; returns (releases, production deployments).
    pub(super) fn generate(&mut self) -> (u64, u64) {
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
            prod += self.release(program_id, &key, sequence, planned_end, emergency, false);
            releases += 1;
        }
        if self.copy == 0 && a.key == ARCHETYPES[0].key {
            // Whenever the data is seeded, a release is being deployed: a hotfix whose
            // first production stage started minutes ago (emergency releases may deploy in
            // a freeze window, so this holds on every day of the year).
            let planned_end = self.now_us + 3 * HOUR;
            prod += self.release(program_id, &key, sequence + 1, planned_end, true, true);
            releases += 1;
        }
        super::deliveries::history(self.rows, self.ids, a, &key, program_id, self.start_us);
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
            overrode_freeze: false,
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
        deploying: bool,
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
        let lead = (self
            .rng
            .range(a.lead_hours.0, a.lead_hours.1.max(a.lead_hours.0 + 1))
            as f64
            * self.factor(planned_end, |t| t.lead_factor)) as i64
            * HOUR;
        // Work runs to a schedule counted back from plannedEnd, as long for every release of
        // the program (two days for an EMERGENCY one): comparable releases are comparable,
        // which is what the forecast's reference classes rest on.
        let planned_start = planned_end - cycle(a, emergency);
        let created_at = (planned_start - self.rng.range(1, 4) * DAY)
            .min(self.now_us - self.rng.range(1, 20) * HOUR);
        let strategy = match (release_type, a.major_strategy) {
            (ReleaseType::Major, Some(major)) => major,
            _ => a.strategy,
        };
        let mut draft = Draft {
            id: next(&mut self.ids.release),
            strategy,
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
            if deploying && draft.status == ReleaseStatus::Approved {
                // Its first production stage is under way.
                let stage = a.stages.first().copied().flatten().map(str::to_owned);
                let started = self.now_us - 20 * MINUTE;
                let strategy = draft.strategy;
                let prod_env = PROD_ENVS[0];
                self.deployment(
                    &mut draft,
                    prod_env,
                    strategy,
                    stage,
                    started,
                    None,
                    DeploymentStatus::InProgress,
                    false,
                );
                prod += 1;
            }
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
            strategy: draft.strategy,
            status: draft.status,
            owner: Some(a.owner.to_owned()),
            planned_start: Some(planned_start),
            planned_end: Some(planned_end),
            rollback_plan,
            revision: draft.revision,
            created_at: draft.created_at,
            updated_at: self.rows.events.last().map_or(draft.created_at, |e| e.at),
            source_revision: Some(commit_of(draft.id)),
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
        // What makes a release late, drawn apart from the main sequence so that the rest of
        // the history stays as it was: scope that grows during the build pushes testing and
        // everything after it back.
        let mut odds = Rng(draft.id as u64 ^ 0x00F0_CA57);
        let cycle = cycle(a, emergency);
        let grown = !emergency && odds.chance(SCOPE_GROWTH);
        let delay = if grown {
            odds.range(cycle / 5, cycle / 2)
        } else {
            0
        };
        let status_at = |fraction: f64| {
            let at = begin + ((end - begin) as f64 * fraction) as i64;
            if fraction >= 0.6 { at + delay } else { at }
        };
        let steps = [(Scheduled, 0.05), (InBuild, 0.2), (InTest, 0.6)];
        for (status, fraction) in steps {
            if target == Cancelled && self.rng.chance(0.5) {
                break;
            }
            if status_at(fraction) > self.now_us - HOUR {
                // Held up: it has not got there yet.
                return 0;
            }
            if grown && status == InTest {
                self.grow(draft, status_at(0.4), &mut odds);
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
        let mut rework = 0;
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
                // Fixing what failed takes time the plan did not have (a hotfix is fixed
                // in its own two days).
                if !emergency {
                    rework += odds.range(cycle / 10, cycle / 4);
                }
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

        let decided = status_at(0.95) + rework;
        if !emergency && self.rng.chance(0.05) {
            self.approval(
                draft,
                ApprovalDecision::NoGo,
                status_at(0.9),
                Some("Waiting for the supplier sign-off."),
            );
        }
        if status_at(0.97) + rework > self.now_us - HOUR {
            return 0;
        }
        self.approval(draft, ApprovalDecision::Go, decided, None);
        self.event(
            draft,
            ReleaseEventKind::StatusChanged,
            status_at(0.97) + rework,
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
        let go_live = (planned_end + slip + delay + rework).max(draft.clock + 2 * HOUR);
        let strategy = draft.strategy;
        if go_live - HOUR > self.now_us {
            return 0;
        }
        // The work went on as long: its commits came as much later.
        let late = delay + rework;
        for item in self.rows.items.iter_mut().rev() {
            if item.release_id != draft.id {
                break;
            }
            item.committed_at = item.committed_at.map(|at| at + late);
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
        let fails = self
            .rng
            .chance(a.failure_rate * self.factor(go_live, |t| t.failure_factor));
        // Some failures are retried at once instead of rolled back.
        let retried = fails && self.rng.chance(0.4);
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
                // Only a stage that started within the last hour is still running: none is
                // left IN_PROGRESS under a release that went live days ago.
                let status = if t + duration > self.now_us {
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

    /// Scope added during the build: an item or two more, recorded at `at`.
    fn grow(&mut self, draft: &mut Draft, at: i64, odds: &mut Rng) {
        for n in 0..odds.range(1, 3) {
            self.rows.items.push(release_item::Model {
                id: next(&mut self.ids.item),
                release_id: draft.id,
                title: (*odds.pick(&FEATURES)).to_owned(),
                kind: ItemKind::Feature,
                reference: Some(format!(
                    "{}-{}",
                    self.archetype.item_prefix,
                    draft.id * 10 + 8 + n
                )),
                committed_at: Some(at),
            });
            self.event(draft, ReleaseEventKind::ItemAdded, at, None, None);
        }
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
            external_id: None,
            source_id: None,
            last_event_at: None,
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
            external_id: None,
            source_id: None,
            last_event_at: None,
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

    /// When the turnaround takes effect, if the program has one.
    fn turnaround_at(&self) -> Option<i64> {
        let turnaround = self.archetype.turnaround.as_ref()?;
        Some(self.now_us - turnaround.days_ago * DAY)
    }

    /// The factor `of` the turnaround applies at `t`: 1 before it takes effect.
    fn factor(&self, t: i64, of: impl Fn(&Turnaround) -> f64) -> f64 {
        match (&self.archetype.turnaround, self.turnaround_at()) {
            (Some(turnaround), Some(at)) if t >= at => of(turnaround),
            _ => 1.0,
        }
    }

    /// Raises the turnaround's action in the first review of the 45 days before it takes
    /// effect; DONE when it took effect, with that time as its `effectiveAt`.
    fn turnaround_action(&mut self, draft: &mut Draft, at: i64) {
        let (Some(turnaround), Some(effective)) =
            (&self.archetype.turnaround, self.turnaround_at())
        else {
            return;
        };
        if self.turned || at < effective - 45 * DAY || at >= effective {
            return;
        }
        self.turned = true;
        self.rows.actions.push(improvement_action::Model {
            id: next(&mut self.ids.action),
            release_id: draft.id,
            title: turnaround.action.to_owned(),
            owner: Some(self.archetype.owner.to_owned()),
            due_date: Some(time::from_micros(effective).date_naive()),
            status: ActionStatus::Done,
            created_at: at + HOUR,
            closed_at: Some(effective + 2 * DAY),
            target: Some(turnaround.target),
            effective_at: Some(effective),
        });
        self.event(draft, ReleaseEventKind::ActionAdded, at + HOUR, None, None);
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
        self.turnaround_action(draft, at);
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
                target: None,
                effective_at: None,
            });
            self.event(draft, ReleaseEventKind::ActionAdded, created_at, None, None);
        }
    }
}

/// A release's git commit: 40 hex characters, a function of its id alone (so it does not
/// shift the generator's sequence).
pub(super) fn commit_of(release_id: i64) -> String {
    let mut rng = Rng(0xC0DE_0000 ^ release_id as u64);
    format!(
        "{:016x}{:016x}{:08x}",
        rng.next(),
        rng.next(),
        rng.next() as u32
    )
}

/// Moves a time to a working day between 09:00 and 17:00 UTC.
pub(super) fn align_to_working_hours(t: i64, rng: &mut Rng) -> i64 {
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
