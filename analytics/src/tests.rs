//! Hand-computed fixtures for every rule of metrics.md.

use crate::model::*;
use crate::rules::{DAY, HOUR, percentile_of};
use crate::store::Store;
use crate::{ActionRef, ImpactQuery, Verdict};

/// Midnight UTC at the start of a date.
fn day(year: i32, month: u32, day: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(year, month, day).map_or(0, |d| {
        d.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_micros()
    })
}

/// 2026-01-01T00:00:00Z plus `n` hours.
fn h(n: i64) -> i64 {
    day(2026, 1, 1) + n * HOUR
}

const PAY: i64 = 1;
const MOB: i64 = 2;

struct Fixture(Tables);

/// The environment of each tier in fixtures.
fn environment(tier: Tier) -> i64 {
    100 + i64::from(tier.code())
}

impl Default for Fixture {
    /// No rows but an environment of each tier.
    fn default() -> Self {
        let mut tables = Tables::default();
        for tier in <Tier as strum::IntoEnumIterator>::iter() {
            tables.environments.id.push(environment(tier));
            tables.environments.tier.push(tier);
        }
        Self(tables)
    }
}

impl Fixture {
    fn release(&mut self, id: i64, program: i64, planned_end: Option<i64>) -> &mut Self {
        let r = &mut self.0.releases;
        r.id.push(id);
        r.program.push(program);
        r.planned_end.push(planned_end);
        r.kind.push(ReleaseType::Minor);
        r.created_at.push(0);
        self
    }

    /// Makes the last release an EMERGENCY one.
    fn emergency(&mut self) -> &mut Self {
        if let Some(last) = self.0.releases.kind.last_mut() {
            *last = ReleaseType::Emergency;
        }
        self
    }

    fn team(&mut self, release: i64, team: &str) -> &mut Self {
        self.0.teams.release.push(release);
        self.0.teams.team.push(team.into());
        self
    }

    fn deployment(
        &mut self,
        id: i64,
        release: i64,
        tier: Tier,
        status: DeploymentStatus,
        rollback: bool,
        finished: Option<i64>,
    ) -> &mut Self {
        let d = &mut self.0.deployments;
        d.id.push(id);
        d.release.push(release);
        d.environment.push(environment(tier));
        d.status.push(status);
        d.rollback.push(rollback);
        d.finished_at.push(finished);
        d.ingested.push(false);
        self
    }

    /// Marks the last deployment as ingested.
    fn ingested(&mut self) -> &mut Self {
        if let Some(last) = self.0.deployments.ingested.last_mut() {
            *last = true;
        }
        self
    }

    fn freeze_override(&mut self, release: i64, at: i64) -> &mut Self {
        let o = &mut self.0.overrides;
        o.release.push(release);
        o.at.push(at);
        self
    }

    fn unplanned(&mut self, delivery: i64, program: i64, received: i64, tier: Tier) -> &mut Self {
        let u = &mut self.0.unplanned;
        u.id.push(delivery);
        u.program.push(program);
        u.received_at.push(received);
        u.environment.push(environment(tier));
        self
    }

    /// A SUCCEEDED, non-rollback production deployment.
    fn shipped(&mut self, id: i64, release: i64, finished: i64) -> &mut Self {
        self.deployment(
            id,
            release,
            Tier::Production,
            DeploymentStatus::Succeeded,
            false,
            Some(finished),
        )
    }

    fn item(&mut self, release: i64, committed: Option<i64>) -> &mut Self {
        self.0.items.release.push(release);
        self.0.items.committed_at.push(committed);
        self
    }

    #[allow(clippy::too_many_arguments, reason = "an incident's columns")]
    fn incident(
        &mut self,
        id: i64,
        program: i64,
        release: Option<i64>,
        deployment: Option<i64>,
        caused: bool,
        opened: i64,
        resolved: Option<i64>,
    ) -> &mut Self {
        let i = &mut self.0.incidents;
        i.id.push(id);
        i.program.push(program);
        i.release.push(release);
        i.deployment.push(deployment);
        i.caused_by_change.push(caused);
        i.severity.push(Severity::Sev2);
        i.opened_at.push(opened);
        i.resolved_at.push(resolved);
        self
    }

    /// Gives the incident added last `severity`.
    fn of_severity(&mut self, severity: Severity) -> &mut Self {
        if let Some(last) = self.0.incidents.severity.last_mut() {
            *last = severity;
        }
        self
    }

    /// A result of `gate`, a gate of `release`.
    fn gate(
        &mut self,
        id: i64,
        gate: i64,
        release: i64,
        status: GateStatus,
        checked: i64,
    ) -> &mut Self {
        if !self.0.gates.id.contains(&gate) {
            self.0.gates.id.push(gate);
            self.0.gates.release.push(release);
        }
        let g = &mut self.0.gate_results;
        g.id.push(id);
        g.gate.push(gate);
        g.status.push(status);
        g.checked_at.push(checked);
        self
    }

    fn outcome(&mut self, release: i64) -> &mut Self {
        self.0.outcomes.release.push(release);
        self
    }

    fn action(
        &mut self,
        release: i64,
        created: i64,
        closed: Option<i64>,
        due: Option<i32>,
    ) -> &mut Self {
        let a = &mut self.0.actions;
        a.release.push(release);
        a.created_at.push(created);
        a.closed_at.push(closed);
        a.due_date.push(due);
        self
    }

    fn store(&self) -> Store {
        Store::new(self.0.clone()).unwrap()
    }
}

fn query(from: i64, to: i64) -> Query {
    Query {
        from,
        to,
        programs: vec![
            ProgramRef {
                id: MOB,
                key: "MOB".into(),
            },
            ProgramRef {
                id: PAY,
                key: "PAY".into(),
            },
        ],
        tiers: vec![Tier::Production],
        team: None,
        granularity: Granularity::Month,
        program_trends: false,
        benchmark: Benchmark::default_edition(),
        severities: Severities::ALL,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn an_empty_window_has_no_data() {
    let m = Fixture::default()
        .store()
        .metrics(&query(h(0), h(24 * 45)))
        .unwrap();
    assert_eq!(
        m.deployment_frequency,
        DeploymentFrequency {
            deployments: 0,
            deployment_days: 0,
            per_day: 0.0,
            band: Band::NoData
        }
    );
    assert_eq!(
        m.lead_time,
        LeadTime {
            hours: DurationStats::default(),
            band: Band::NoData
        }
    );
    assert_eq!(m.change_failure_rate.rate, None);
    assert_eq!(m.change_failure_rate.band, Band::NoData);
    assert_eq!(m.time_to_restore.band, Band::NoData);
    assert_eq!(m.rework_rate.rate, None);
    assert_eq!(m.delivery.on_time_rate, None);
    assert_eq!(m.delivery.gate_first_pass_rate, None);
    assert_eq!(
        m.trend.len(),
        2,
        "January and part of February, empty ones listed"
    );
    assert!(
        m.trend
            .iter()
            .all(|b| b.deployments == 0 && b.change_failure_rate.is_none())
    );
    assert_eq!(
        m.by_program
            .iter()
            .map(|p| p.program_key.as_str())
            .collect::<Vec<_>>(),
        ["MOB", "PAY"]
    );
}

#[test]
fn deployment_frequency_counts_successful_production_deployments() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(10))
        .shipped(2, 1, h(20))
        .shipped(3, 1, h(30))
        .deployment(
            4,
            1,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(31)),
        )
        .deployment(
            5,
            1,
            Tier::Staging,
            DeploymentStatus::Succeeded,
            false,
            Some(h(32)),
        )
        .deployment(
            6,
            1,
            Tier::Production,
            DeploymentStatus::Succeeded,
            true,
            Some(h(33)),
        )
        .deployment(
            7,
            1,
            Tier::Production,
            DeploymentStatus::InProgress,
            false,
            None,
        )
        .shipped(8, 1, h(240));
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    // h(10), h(20) on day 1; h(30) on day 2; h(240) is `to`, outside the half-open window.
    assert_eq!(m.deployment_frequency.deployments, 3);
    assert_eq!(m.deployment_frequency.deployment_days, 2);
    assert!((m.deployment_frequency.per_day - 0.3).abs() < 1e-12);
    assert_eq!(m.deployment_frequency.band, Band::High);
    let pay = &m.by_program[1];
    assert_eq!(pay.deployment_frequency.deployments, 3);
    assert_eq!(m.by_program[0].deployment_frequency.band, Band::NoData);

    let mut with_staging = query(h(0), h(240));
    with_staging.tiers = vec![Tier::Production, Tier::Staging];
    assert_eq!(
        f.store()
            .metrics(&with_staging)
            .unwrap()
            .deployment_frequency
            .deployments,
        4
    );
}

#[test]
fn deployment_days_of_the_window_are_the_days_any_program_deployed_on() {
    let mut f = Fixture::default();
    // PAY on days 1 and 2, MOB on days 2 and 3 (days start at h(0)).
    f.release(1, PAY, None)
        .shipped(1, 1, h(1))
        .shipped(2, 1, h(25))
        .release(2, MOB, None)
        .shipped(3, 2, h(26))
        .shipped(4, 2, h(50));
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    assert_eq!(m.deployment_frequency.deployments, 4);
    assert_eq!(m.deployment_frequency.deployment_days, 3);
    let days: Vec<u64> = m
        .by_program
        .iter()
        .map(|p| p.deployment_frequency.deployment_days)
        .collect();
    assert_eq!(days, [2, 2], "MOB, PAY");
    assert_eq!(m.compliance.production_deployments, 4);
}

#[test]
fn lead_time_runs_from_commit_to_the_first_production_success() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .deployment(
            1,
            1,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(90)),
        )
        .shipped(2, 1, h(100))
        .shipped(3, 1, h(150))
        .item(1, Some(h(76)))
        .item(1, Some(h(90)))
        .item(1, Some(h(110)))
        .item(1, None)
        // Delivered before the window: its items do not count.
        .release(2, PAY, None)
        .shipped(4, 2, h(5))
        .item(2, Some(h(1)));
    let m = f.store().metrics(&query(h(24), h(240))).unwrap();
    let lt = m.lead_time.hours;
    assert_eq!(lt.count, 2, "the negative lead time is left out");
    assert!(close(lt.median, 17.0) && close(lt.mean, 17.0));
    assert!(close(lt.p90, 22.6) && close(lt.p95, 23.3));
    assert!(close(lt.min, 10.0) && close(lt.max, 24.0));
    assert_eq!(m.lead_time.band, Band::Elite);
    assert_eq!(m.delivery.releases_delivered, 1);
}

#[test]
fn change_failures_count_statuses_and_attributed_incidents() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(10)) // named by an incident: failed
        .deployment(
            2,
            1,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(20)),
        )
        .deployment(
            3,
            1,
            Tier::Production,
            DeploymentStatus::RolledBack,
            false,
            Some(h(30)),
        )
        .shipped(4, 1, h(40)) // clean
        .release(2, PAY, None)
        .shipped(5, 2, h(50))
        .shipped(6, 2, h(60)) // the latest of release 2 before the incident: failed
        .shipped(7, 2, h(80)) // finished after the incident opened
        .deployment(
            8,
            2,
            Tier::Staging,
            DeploymentStatus::Succeeded,
            false,
            Some(h(61)),
        )
        .release(3, PAY, None)
        .shipped(9, 3, h(100)) // failed by an incident opened after the window
        .shipped(10, 3, h(110)) // only a non-change incident
        .incident(1, PAY, Some(1), Some(1), true, h(12), Some(h(13)))
        .incident(2, PAY, Some(2), None, true, h(70), None)
        .incident(3, PAY, Some(2), Some(8), true, h(62), None) // a staging deployment fails nothing
        .incident(4, PAY, Some(3), Some(9), true, h(1000), None)
        .incident(5, PAY, Some(3), Some(10), false, h(111), Some(h(112)));
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    let cfr = m.change_failure_rate;
    assert_eq!(
        (cfr.deployments, cfr.failed),
        (9, 5),
        "1, 2, 3, 6 and 9 failed"
    );
    assert!(close(cfr.rate, 5.0 / 9.0));
    assert_eq!(cfr.band, Band::Low);
    assert!(close(m.delivery.rollback_rate, 1.0 / 9.0));
}

#[test]
fn incidents_through_a_release_take_its_latest_deployment_by_finish_time() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(20))
        .shipped(2, 1, h(10))
        .incident(1, PAY, Some(1), None, true, h(20), None);
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    assert_eq!(m.change_failure_rate.failed, 1);
    // An incident opened before any deployment of its release fails nothing.
    let mut g = Fixture::default();
    g.release(1, PAY, None)
        .shipped(1, 1, h(20))
        .incident(1, PAY, Some(1), None, true, h(5), None);
    assert_eq!(
        g.store()
            .metrics(&query(h(0), h(240)))
            .unwrap()
            .change_failure_rate
            .failed,
        0
    );
}

#[test]
fn time_to_restore_takes_resolved_incidents_opened_in_the_window() {
    let mut f = Fixture::default();
    f.incident(1, PAY, None, None, false, h(10), Some(h(12)))
        .incident(2, PAY, None, None, true, h(20), Some(h(20) + HOUR / 2))
        .incident(3, PAY, None, None, true, h(30), None)
        .incident(4, PAY, None, None, true, h(-5), Some(h(1)))
        .incident(5, MOB, None, None, true, h(40), Some(h(48)));
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    let ttr = m.time_to_restore.hours;
    assert_eq!(ttr.count, 3);
    assert!(close(ttr.median, 2.0) && close(ttr.min, 0.5) && close(ttr.max, 8.0));
    assert_eq!(m.time_to_restore.band, Band::High);
    assert_eq!(m.by_program[0].time_to_restore.hours.count, 1);
    assert!(close(m.by_program[1].time_to_restore.hours.median, 1.25));
}

#[test]
fn only_incidents_of_the_severities_asked_for_fail_deployments_and_restore() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(10))
        .shipped(2, 1, h(20))
        .shipped(3, 1, h(30))
        .deployment(
            4,
            1,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(40)),
        )
        .incident(1, PAY, Some(1), Some(1), true, h(11), Some(h(12)))
        .of_severity(Severity::Sev1)
        .incident(2, PAY, Some(1), Some(2), true, h(21), Some(h(24)))
        .of_severity(Severity::Sev3)
        // Two incidents fail deployment 3: it stays failed while either counts.
        .incident(3, PAY, Some(1), Some(3), true, h(31), Some(h(39)))
        .of_severity(Severity::Sev3)
        .incident(4, PAY, Some(1), Some(3), true, h(32), None)
        .of_severity(Severity::Sev4);
    let with = |severities: &[Severity]| {
        let mut q = query(h(0), h(240));
        q.severities = Severities::of(severities.iter().copied());
        f.store().metrics(&q).unwrap()
    };
    let all = with(&[
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ]);
    assert_eq!(all.change_failure_rate.failed, 4);
    assert_eq!(all.time_to_restore.hours.count, 3);
    let sev1 = with(&[Severity::Sev1]);
    assert_eq!(
        sev1.change_failure_rate.failed, 2,
        "deployment 1 by its SEV1 incident, 4 by its status"
    );
    assert_eq!(sev1.change_failure_rate.deployments, 4);
    assert_eq!(sev1.time_to_restore.hours.count, 1);
    assert!(close(sev1.time_to_restore.hours.median, 1.0));
    let sev4 = with(&[Severity::Sev4]);
    assert_eq!(
        sev4.change_failure_rate.failed, 2,
        "3 by its SEV4 incident, 4"
    );
    assert_eq!(sev4.time_to_restore.hours.count, 0);
    let sev3 = with(&[Severity::Sev3]);
    assert_eq!(sev3.change_failure_rate.failed, 3);
    assert!(close(sev3.time_to_restore.hours.median, 5.5));
}

#[test]
fn bands_are_read_against_the_edition_asked_for() {
    let mut f = Fixture::default();
    f.release(1, PAY, None);
    for i in 0..10 {
        f.shipped(i + 1, 1, h(24 * i));
    }
    f.deployment(
        11,
        1,
        Tier::Production,
        DeploymentStatus::Failed,
        false,
        Some(h(5)),
    )
    .deployment(
        12,
        1,
        Tier::Production,
        DeploymentStatus::Failed,
        false,
        Some(h(6)),
    );
    let mut q = query(h(0), h(240));
    let m = f.store().metrics(&q).unwrap();
    // 2 of 12 failed: 0.167, LOW under DORA 2023, MEDIUM under DORA 2024.
    assert_eq!(m.change_failure_rate.band, Band::Low);
    q.benchmark = Benchmark::built_ins()
        .into_iter()
        .find(|b| b.name == "DORA_2024")
        .unwrap();
    let m = f.store().metrics(&q).unwrap();
    assert_eq!(m.change_failure_rate.band, Band::Medium);
    assert_eq!(m.by_program[1].change_failure_rate.band, Band::Medium);
}

#[test]
fn rework_is_the_share_of_emergency_deployments() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(10))
        .shipped(4, 1, h(13))
        .release(2, PAY, None)
        .emergency()
        .deployment(
            2,
            2,
            Tier::Production,
            DeploymentStatus::Succeeded,
            false,
            Some(h(11)),
        )
        .deployment(
            3,
            2,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(12)),
        );
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    assert_eq!(
        m.rework_rate,
        ReworkRate {
            deployments: 3,
            rework: 1,
            rate: Some(1.0 / 3.0)
        }
    );
}

#[test]
fn delivery_figures() {
    let mut f = Fixture::default();
    f.release(1, PAY, Some(h(100)))
        .shipped(1, 1, h(90))
        .outcome(1) // early by 10 h
        .release(2, PAY, Some(h(100)))
        .shipped(2, 2, h(148)) // late by 2 days
        .release(3, PAY, None)
        .shipped(3, 3, h(50))
        .release(4, PAY, Some(h(10))); // not delivered
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    let d = m.delivery;
    assert_eq!(d.releases_delivered, 3);
    assert!(close(d.on_time_rate, 0.5));
    assert_eq!(d.slippage_days.count, 2);
    assert!(close(d.slippage_days.min, -10.0 / 24.0) && close(d.slippage_days.max, 2.0));
    assert!(close(d.review_completion_rate, 1.0 / 3.0));
}

#[test]
fn a_gate_passes_first_time_only_if_its_first_result_passed() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .gate(1, 1, 1, GateStatus::Pending, h(1))
        .gate(2, 1, 1, GateStatus::Passed, h(2)) // first non-pending: pass
        .gate(3, 2, 1, GateStatus::Failed, h(3))
        .gate(4, 2, 1, GateStatus::Passed, h(4)) // retried: not a first pass
        .gate(5, 3, 1, GateStatus::Waived, h(5)) // waived is not a pass
        .gate(6, 4, 1, GateStatus::Passed, h(6))
        .gate(7, 4, 1, GateStatus::Failed, h(6)) // same time: the first recorded counts
        .gate(8, 5, 1, GateStatus::Failed, h(7))
        .gate(9, 5, 1, GateStatus::Passed, h(-1)) // checked earlier though recorded later
        .gate(10, 6, 1, GateStatus::Passed, h(-30)); // first result before the window
    let m = f.store().metrics(&query(h(0), h(240))).unwrap();
    assert!(
        close(m.delivery.gate_first_pass_rate, 2.0 / 4.0),
        "{:?}",
        m.delivery.gate_first_pass_rate
    );
}

#[test]
fn actions_open_overdue_and_closed() {
    let to = h(240);
    let to_date = (to / DAY) as i32;
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .action(1, h(1), None, Some(to_date - 1)) // open, overdue
        .action(1, h(2), None, Some(to_date)) // open, due on the date of `to`: not overdue
        .action(1, h(3), Some(h(250)), None) // closed after `to`: open at `to`
        .action(1, h(4), Some(h(100)), Some(to_date - 5)) // closed in the window
        .action(1, h(-50), Some(h(-10)), None) // closed before the window
        .action(1, h(245), None, None); // created after `to`
    let m = f.store().metrics(&query(h(0), to)).unwrap();
    assert_eq!(
        (
            m.delivery.actions_open,
            m.delivery.actions_overdue,
            m.delivery.actions_closed
        ),
        (3, 1, 1)
    );
}

#[test]
fn trend_buckets_are_cut_by_the_window() {
    let jan_20 = h(19 * 24);
    let feb_10 = day(2026, 2, 10);
    let mut f = Fixture::default();
    f.release(1, PAY, Some(feb_10))
        .shipped(1, 1, jan_20)
        .item(1, Some(jan_20 - 5 * HOUR))
        .release(2, PAY, Some(feb_10))
        .shipped(2, 2, feb_10 + DAY)
        .item(2, Some(feb_10 - DAY))
        .deployment(
            3,
            2,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(feb_10 + 2 * DAY),
        )
        .incident(1, PAY, None, None, true, feb_10, Some(feb_10 + 3 * HOUR));
    let from = h(10 * 24);
    let to = day(2026, 3, 5);
    let m = f.store().metrics(&query(from, to)).unwrap();
    let starts: Vec<i64> = m.trend.iter().map(|b| b.start).collect();
    assert_eq!(starts, [from, day(2026, 2, 1), day(2026, 3, 1)]);
    assert_eq!(m.trend[2].end, to);
    let (jan, feb, mar) = (&m.trend[0], &m.trend[1], &m.trend[2]);
    assert_eq!((jan.deployments, jan.releases_delivered), (1, 1));
    assert!(close(jan.lead_time_median_hours, 5.0) && close(jan.on_time_rate, 1.0));
    assert_eq!((feb.deployments, feb.failed_deployments), (1, 1));
    assert!(close(feb.change_failure_rate, 0.5));
    assert!(close(feb.lead_time_median_hours, 48.0) && close(feb.on_time_rate, 0.0));
    assert!(close(feb.time_to_restore_median_hours, 3.0));
    assert_eq!(
        (mar.deployments, mar.change_failure_rate, mar.on_time_rate),
        (0, None, None)
    );
}

#[test]
fn a_team_sees_only_its_releases() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .team(1, "core")
        .shipped(1, 1, h(10))
        .release(2, PAY, None)
        .team(2, "risk")
        .shipped(2, 2, h(20))
        .incident(1, PAY, Some(1), None, true, h(11), Some(h(12)))
        .incident(2, PAY, None, None, true, h(11), Some(h(13)));
    let mut q = query(h(0), h(240));
    q.team = Some("core".into());
    let m = f.store().metrics(&q).unwrap();
    assert_eq!(m.deployment_frequency.deployments, 1);
    assert_eq!(
        m.time_to_restore.hours.count, 1,
        "incidents without a release are left out"
    );
    assert_eq!(m.change_failure_rate.failed, 1);
}

#[test]
fn scope_leaves_out_other_programs() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(10))
        .release(2, MOB, None)
        .shipped(2, 2, h(10));
    let mut q = query(h(0), h(240));
    q.programs = vec![ProgramRef {
        id: MOB,
        key: "MOB".into(),
    }];
    let m = f.store().metrics(&q).unwrap();
    assert_eq!(m.deployment_frequency.deployments, 1);
    assert_eq!(m.by_program.len(), 1);
}

#[test]
fn program_ids_of_any_size_are_scoped_alike() {
    // Rows hold programs by number, so neither a huge id nor one no row names costs a
    // table as large as the id.
    const HUGE: i64 = 1 << 50;
    let mut f = Fixture::default();
    f.release(1, HUGE, None)
        .shipped(1, 1, h(10))
        .item(1, Some(h(4)))
        .release(2, PAY, None)
        .shipped(2, 2, h(10));
    let mut q = query(h(0), h(240));
    q.programs = [(i64::MAX, "NONE"), (HUGE, "HUGE")]
        .map(|(id, key)| ProgramRef {
            id,
            key: key.into(),
        })
        .to_vec();
    let m = f.store().metrics(&q).unwrap();
    assert_eq!(m.deployment_frequency.deployments, 1);
    assert_eq!(m.lead_time.hours.median, Some(6.0));
    let counted: Vec<u64> = m
        .by_program
        .iter()
        .map(|p| p.deployment_frequency.deployments)
        .collect();
    assert_eq!(counted, [0, 1]);
}

#[test]
fn replacing_a_release_keeps_everything_else() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .shipped(1, 1, h(10))
        .release(2, PAY, None)
        .shipped(2, 2, h(20));
    let mut store = f.store();
    let mut fresh = Fixture::default();
    fresh
        .release(2, PAY, None)
        .deployment(
            2,
            2,
            Tier::Production,
            DeploymentStatus::RolledBack,
            false,
            Some(h(20)),
        )
        .shipped(3, 2, h(30))
        .incident(9, PAY, None, None, true, h(1), Some(h(2)));
    store.replace(&[2], &[9], &[], fresh.0).unwrap();
    let m = store.metrics(&query(h(0), h(240))).unwrap();
    assert_eq!(m.deployment_frequency.deployments, 2);
    assert_eq!(
        (
            m.change_failure_rate.deployments,
            m.change_failure_rate.failed
        ),
        (3, 1)
    );
    assert_eq!(m.time_to_restore.hours.count, 1);
    assert_eq!(store.deployments(), 3);
}

#[test]
fn percentiles_match_percentile_cont() {
    let mut f = Fixture::default();
    let mut hours = Vec::new();
    f.release(1, PAY, None).shipped(1, 1, h(1000));
    for n in 0..37 {
        let lead = (n * 7919 % 613) as i64;
        f.item(1, Some(h(1000) - lead * HOUR / 4));
        hours.push(lead as f64 / 4.0);
    }
    hours.sort_by(f64::total_cmp);
    let m = f.store().metrics(&query(h(0), h(2000))).unwrap();
    let lt = m.lead_time.hours;
    for (got, p) in [(lt.median, 0.5), (lt.p90, 0.9), (lt.p95, 0.95)] {
        assert!(
            close(
                got,
                percentile_of(hours.len(), p, |r| hours[r]).unwrap_or_default()
            ),
            "p{p}: {got:?}"
        );
    }
}

#[test]
fn patching_derived_rows_equals_deriving_from_scratch() {
    let mut before = Fixture::default();
    before
        .release(1, PAY, Some(h(20)))
        .team(1, "core")
        .shipped(1, 1, h(10))
        .item(1, Some(h(2)))
        .gate(1, 1, 1, GateStatus::Passed, h(3))
        .action(1, h(4), None, None)
        .release(2, MOB, Some(h(30)))
        .shipped(2, 2, h(40))
        .item(2, Some(h(5)))
        .incident(1, MOB, Some(2), None, true, h(41), Some(h(45)))
        .incident(2, PAY, None, None, false, h(50), None);
    let mut store = before.store();
    let mut q = query(h(0), h(240));
    q.granularity = Granularity::Week;
    store.metrics(&q).unwrap();

    // Release 2 gets a rollback and a review, incident 2 is resolved; release 1 is untouched.
    let mut fresh = Fixture::default();
    fresh
        .release(2, MOB, Some(h(30)))
        .team(2, "apps")
        .deployment(
            2,
            2,
            Tier::Production,
            DeploymentStatus::RolledBack,
            false,
            Some(h(40)),
        )
        .shipped(3, 2, h(60))
        .item(2, Some(h(5)))
        .item(2, Some(h(55)))
        .gate(2, 2, 2, GateStatus::Failed, h(35))
        .outcome(2)
        .action(2, h(70), Some(h(80)), None)
        .incident(1, MOB, Some(2), None, true, h(41), Some(h(45)))
        .incident(2, PAY, None, None, false, h(50), Some(h(53)));
    store.replace(&[2], &[2], &[], fresh.0.clone()).unwrap();

    let mut after = Fixture::default();
    after
        .release(1, PAY, Some(h(20)))
        .team(1, "core")
        .shipped(1, 1, h(10))
        .item(1, Some(h(2)))
        .gate(1, 1, 1, GateStatus::Passed, h(3))
        .action(1, h(4), None, None)
        .release(2, MOB, Some(h(30)))
        .team(2, "apps")
        .deployment(
            2,
            2,
            Tier::Production,
            DeploymentStatus::RolledBack,
            false,
            Some(h(40)),
        )
        .shipped(3, 2, h(60))
        .item(2, Some(h(5)))
        .item(2, Some(h(55)))
        .gate(2, 2, 2, GateStatus::Failed, h(35))
        .outcome(2)
        .action(2, h(70), Some(h(80)), None)
        .incident(1, MOB, Some(2), None, true, h(41), Some(h(45)))
        .incident(2, PAY, None, None, false, h(50), Some(h(53)));
    let expected = after.store().metrics(&q).unwrap();
    assert_eq!(store.metrics(&q).unwrap(), expected);
    for team in ["core", "apps"] {
        let mut by_team = q.clone();
        by_team.team = Some(team.into());
        let patched = store.metrics(&by_team).unwrap();
        assert_eq!(patched, after.store().metrics(&by_team).unwrap());
        assert_eq!(patched.deployment_frequency.deployments, 1, "{team}");
    }
    // A set of tiers first asked for after the replacement is derived from patched frames.
    let mut wider = q.clone();
    wider.tiers = vec![Tier::Production, Tier::Staging];
    assert_eq!(
        store.metrics(&wider).unwrap(),
        after.store().metrics(&wider).unwrap()
    );
    assert_eq!(expected.time_to_restore.hours.count, 2);
    assert_eq!(
        expected.change_failure_rate.failed, 1,
        "the incident falls on the deployment already rolled back"
    );
}

#[test]
fn a_program_trend_is_the_trend_of_that_program_alone() {
    let mut f = Fixture::default();
    f.release(1, PAY, Some(h(20)))
        .shipped(1, 1, h(10))
        .item(1, Some(h(2)))
        .release(2, MOB, Some(h(30)))
        .deployment(
            2,
            2,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(40)),
        )
        .shipped(3, 2, h(200))
        .item(2, Some(h(5)))
        .incident(1, MOB, Some(2), None, true, h(41), Some(h(45)));
    let store = f.store();
    let mut q = query(h(0), h(400));
    q.granularity = Granularity::Week;
    assert!(
        store
            .metrics(&q)
            .unwrap()
            .by_program
            .iter()
            .all(|p| p.trend.is_empty()),
        "program trends are computed only when asked for"
    );

    q.program_trends = true;
    let all = store.metrics(&q).unwrap();
    assert_eq!(all.by_program.len(), 2);
    for (i, program) in all.by_program.iter().enumerate() {
        let mut alone = q.clone();
        alone.programs = vec![q.programs[i].clone()];
        alone.program_trends = false;
        assert_eq!(program.trend, store.metrics(&alone).unwrap().trend);
        assert_eq!(program.trend.len(), all.trend.len());
    }
    let mob = &all.by_program[0].trend;
    assert_eq!(mob.iter().map(|b| b.failed_deployments).sum::<u64>(), 1);
    assert_eq!(mob.iter().map(|b| b.deployments).sum::<u64>(), 1);
    assert_eq!(
        all.by_program[1]
            .trend
            .iter()
            .map(|b| b.deployments)
            .sum::<u64>(),
        1
    );
}

#[test]
fn compliance_counts_production_change_inside_and_outside_the_process() {
    let mut f = Fixture::default();
    f.release(1, PAY, None)
        .team(1, "core")
        .shipped(1, 1, h(10))
        .ingested()
        .deployment(
            2,
            1,
            Tier::Production,
            DeploymentStatus::Failed,
            false,
            Some(h(11)),
        )
        // A rollback and a staging deployment are not production deployments.
        .deployment(
            3,
            1,
            Tier::Production,
            DeploymentStatus::Succeeded,
            true,
            Some(h(12)),
        )
        .deployment(
            4,
            1,
            Tier::Staging,
            DeploymentStatus::Succeeded,
            false,
            Some(h(9)),
        )
        // Still running: no finishedAt, not counted.
        .deployment(
            5,
            1,
            Tier::Production,
            DeploymentStatus::InProgress,
            false,
            None,
        )
        .freeze_override(1, h(8))
        .freeze_override(1, h(5000));
    f.release(2, MOB, None).emergency().deployment(
        6,
        2,
        Tier::Production,
        DeploymentStatus::Succeeded,
        false,
        Some(h(20)),
    );
    f.unplanned(1, PAY, h(30), Tier::Production)
        .unplanned(2, PAY, h(31), Tier::Staging)
        .unplanned(3, MOB, h(32), Tier::Production)
        .unplanned(4, MOB, h(5000), Tier::Production);
    let store = f.store();
    let m = store.metrics(&query(h(0), h(100))).unwrap();
    let c = m.compliance;
    assert_eq!(
        (
            c.production_deployments,
            c.ingested_deployments,
            c.emergency_deployments
        ),
        (3, 1, 1)
    );
    assert_eq!((c.unplanned_deployments, c.freeze_overrides), (2, 1));
    assert!(close(c.unplanned_rate, 2.0 / 5.0));
    let pay = &m.by_program[1].compliance;
    assert_eq!(m.by_program[1].program_key, "PAY");
    assert_eq!(
        (pay.production_deployments, pay.unplanned_deployments),
        (2, 1)
    );
    assert_eq!(
        m.trend.iter().map(|b| b.unplanned_deployments).sum::<u64>(),
        2
    );

    // A team narrows deployments and overrides, not deliveries, which have no release.
    let mut q = query(h(0), h(100));
    q.team = Some("core".into());
    let c = store.metrics(&q).unwrap().compliance;
    assert_eq!((c.production_deployments, c.unplanned_deployments), (2, 2));
    assert_eq!(c.freeze_overrides, 1);

    // Nothing at all: no rate.
    let empty = Fixture::default()
        .store()
        .metrics(&query(h(0), h(100)))
        .unwrap();
    assert_eq!(empty.compliance.unplanned_rate, None);
}

#[test]
fn a_delivery_linked_later_no_longer_counts() {
    let mut f = Fixture::default();
    f.release(1, PAY, None).shipped(1, 1, h(10));
    f.unplanned(7, PAY, h(30), Tier::Production);
    let mut store = f.store();
    let before = store.metrics(&query(h(0), h(100))).unwrap().compliance;
    assert_eq!(before.unplanned_deployments, 1);
    // Linked and APPLIED: the fresh rows of delivery 7 hold no unplanned row any more.
    store.replace(&[], &[], &[7], Tables::default()).unwrap();
    let after = store.metrics(&query(h(0), h(100))).unwrap().compliance;
    assert_eq!(after.unplanned_deployments, 0);
    assert_eq!(after.production_deployments, 1);
}

#[test]
fn the_footprint_counts_the_tables_and_each_set_of_tiers_kept() {
    let mut f = Fixture::default();
    for id in 1..=1_000 {
        f.release(id, PAY, None)
            .team(id, "checkout")
            .shipped(id, id, h(id))
            .deployment(
                10_000 + id,
                id,
                Tier::Staging,
                DeploymentStatus::Succeeded,
                false,
                Some(h(id)),
            );
    }
    let store = f.store();
    let loaded = store.footprint();
    // 2,000 deployments: id, release and finish (8 bytes each), tier and status (4), flags.
    assert!(loaded.frames > 2_000 * 28, "{loaded:?}");
    // The teams (a release and a team's number each), derived once for every set of tiers.
    assert!(loaded.derived >= 1_000 * 12, "{loaded:?}");

    let production = query(h(0), h(2_000));
    store.metrics(&production).unwrap();
    let one = store.footprint();
    assert_eq!(one.frames, loaded.frames);
    // At least time, release (8 bytes each), program (4) and flags of each of the 1,000
    // deployments.
    let per_set = one.derived - loaded.derived;
    assert!(per_set >= 1_000 * 21, "{one:?}");

    // Every further set of tiers costs as much, up to the most the store keeps.
    let sets = [
        vec![Tier::Staging],
        vec![Tier::Staging, Tier::Production],
        vec![Tier::Testing],
        vec![Tier::Development],
    ];
    let mut sizes = Vec::new();
    for tiers in sets {
        let mut q = production.clone();
        q.tiers = tiers;
        store.metrics(&q).unwrap();
        sizes.push(store.footprint().derived);
    }
    assert_eq!(super::store::TIER_SETS, 3);
    assert!(sizes[0] > one.derived && sizes[1] > sizes[0], "{sizes:?}");
    assert!(sizes[2] <= sizes[1] && sizes[3] <= sizes[1], "{sizes:?}");

    // A set that was let go is derived again, with the same figures.
    let again = store.metrics(&production).unwrap();
    assert_eq!(again, f.store().metrics(&production).unwrap());
    assert_eq!(again.deployment_frequency.deployments, 1_000);
}

#[test]
fn a_row_of_an_environment_not_read_fails_the_store() {
    let mut deployed = Fixture::default();
    deployed.release(1, PAY, None).shipped(1, 1, h(10));
    deployed.0.deployments.environment[0] = 99;
    assert!(Store::new(deployed.0).is_err());
    let mut delivered = Fixture::default();
    delivered.unplanned(7, PAY, h(30), Tier::Production);
    delivered.0.unplanned.environment[0] = 99;
    assert!(Store::new(delivered.0).is_err());
}

/// Two programs' histories over 240 days, in which PAY gets better from day 120 and MOB
/// stays as it was: deployments (some failed, some emergency), commits, incidents,
/// gates, plans and unplanned changes, drawn from a fixed seed.
fn improving() -> Fixture {
    let mut f = Fixture::default();
    let mut rng = crate::intervals::SplitMix64::new(7);
    let mut chance = move |percent: u64| rng.next() % 100 < percent;
    let (mut release, mut id) = (0, 0);
    for d in 0..240 {
        for program in [PAY, MOB] {
            let better = program == PAY && d >= 120;
            for n in 0..(if better { 3 } else { 2 }) {
                release += 1;
                id += 1;
                let at = h(24 * d + 3 + 7 * n);
                let late = if better { 10 } else { 40 };
                let end = at + if chance(late) { -HOUR } else { HOUR };
                f.release(release, program, Some(end));
                if chance(10) {
                    f.emergency();
                }
                let status = if chance(if better { 3 } else { 20 }) {
                    DeploymentStatus::Failed
                } else {
                    DeploymentStatus::Succeeded
                };
                f.deployment(id, release, Tier::Production, status, false, Some(at));
                let hours = if better { 5 } else { 30 } + (id % 7);
                f.item(release, Some(at - hours * HOUR));
                let passed = if chance(if better { 90 } else { 60 }) {
                    GateStatus::Passed
                } else {
                    GateStatus::Failed
                };
                f.gate(id, id, release, passed, at - HOUR);
                if chance(15) {
                    // Better: quicker to restore, and no longer caused by the change.
                    let restore = if better { 1 } else { 6 } + (id % 3);
                    let (opened, resolved) = (at + HOUR, at + HOUR + restore * HOUR);
                    f.incident(
                        id,
                        program,
                        Some(release),
                        Some(id),
                        !better,
                        opened,
                        Some(resolved),
                    );
                }
                if chance(if better { 2 } else { 8 }) {
                    f.unplanned(id, program, at + 2 * HOUR, Tier::Production);
                }
            }
        }
    }
    f
}

fn impact_query(actions: Vec<ActionRef>, now: i64, visible: Option<Vec<i64>>) -> ImpactQuery {
    ImpactQuery {
        now,
        window_days: 60,
        visible,
        actions,
    }
}

fn action(program: i64, target: MetricName, effective_at: i64) -> ActionRef {
    ActionRef {
        program,
        target,
        effective_at,
        seed: 99,
    }
}

/// A figure of `metrics` as an impact reads it (deployment frequency per day).
fn figure(m: &Metrics, metric: MetricName) -> Option<f64> {
    match metric {
        MetricName::DeploymentFrequency => Some(m.deployment_frequency.per_day),
        MetricName::LeadTime => m.lead_time.hours.median,
        MetricName::ChangeFailureRate => m.change_failure_rate.rate,
        MetricName::TimeToRestore => m.time_to_restore.hours.median,
        MetricName::ReworkRate => m.rework_rate.rate,
        MetricName::OnTimeRate => m.delivery.on_time_rate,
        MetricName::GateFirstPassRate => m.delivery.gate_first_pass_rate,
        MetricName::UnplannedRate => m.compliance.unplanned_rate,
    }
}

fn metrics_of(store: &Store, program: i64, from: i64, to: i64) -> Metrics {
    let mut q = query(from, to);
    q.programs.retain(|p| p.id == program);
    store.metrics(&q).unwrap()
}

#[test]
fn an_impact_reads_each_figure_as_metrics_does() {
    let store = improving().store();
    let e = h(24 * 120);
    let (from, to) = (e - 60 * DAY, e + 60 * DAY);
    let actions: Vec<ActionRef> = <MetricName as strum::IntoEnumIterator>::iter()
        .map(|metric| action(PAY, metric, e))
        .collect();
    let impacts = store
        .impacts(&impact_query(actions, h(24 * 300), None))
        .unwrap();
    let (before, after) = (
        metrics_of(&store, PAY, from, e),
        metrics_of(&store, PAY, e, to),
    );
    let (mob_before, mob_after) = (
        metrics_of(&store, MOB, from, e),
        metrics_of(&store, MOB, e, to),
    );
    for i in &impacts {
        let m = i.metric;
        assert_eq!(i.before.value, figure(&before, m), "{m:?} before");
        assert_eq!(i.after.value, figure(&after, m), "{m:?} after");
        if m != MetricName::DeploymentFrequency {
            assert_eq!(i.before.observations, before.observations(m), "{m:?}");
            assert_eq!(i.after.observations, after.observations(m), "{m:?}");
        } else {
            assert_eq!((i.before.observations, i.after.observations), (60, 60));
        }
        let baseline = Some(figure(&mob_after, m).unwrap() - figure(&mob_before, m).unwrap());
        assert!(
            matches!((i.baseline_change, baseline), (Some(a), Some(b)) if (a - b).abs() < 1e-12),
            "{m:?} baseline {:?} against {baseline:?}",
            i.baseline_change
        );
        assert!(!i.partial);
        assert_eq!(
            i.verdict,
            Verdict::Improved,
            "{m:?}: {:?} → {:?} in [{:?}, {:?}]",
            i.before.value,
            i.after.value,
            i.low,
            i.high
        );
    }
}

#[test]
fn a_program_that_stayed_as_it_was_shows_no_detectable_change() {
    let store = improving().store();
    let now = h(24 * 300);
    let e = h(24 * 120);
    let mob = store
        .impacts(&impact_query(
            vec![action(MOB, MetricName::ChangeFailureRate, e)],
            now,
            None,
        ))
        .unwrap();
    assert_eq!(mob[0].verdict, Verdict::NoDetectableChange);
    assert!(mob[0].low.unwrap() < 0.0 && mob[0].high.unwrap() > 0.0);
    // Seen from the better half, an action taken at its end made PAY no better: the
    // windows of an action on day 180 both lie in the better half.
    let later = store
        .impacts(&impact_query(
            vec![action(PAY, MetricName::LeadTime, h(24 * 180))],
            now,
            None,
        ))
        .unwrap();
    assert_eq!(later[0].verdict, Verdict::NoDetectableChange);
    // Taken before the change with a window that ends before it: nothing to see either.
    let mut q = impact_query(
        vec![action(PAY, MetricName::LeadTime, h(24 * 60))],
        now,
        None,
    );
    q.window_days = 30;
    assert_eq!(
        store.impacts(&q).unwrap()[0].verdict,
        Verdict::NoDetectableChange
    );
}

#[test]
fn an_after_window_still_running_is_partial_and_few_observations_give_no_verdict() {
    let store = improving().store();
    let e = h(24 * 120);
    let now = e + 3 * DAY + 2 * HOUR;
    let impacts = store
        .impacts(&impact_query(
            vec![
                action(PAY, MetricName::DeploymentFrequency, e),
                action(PAY, MetricName::ChangeFailureRate, e),
            ],
            now,
            None,
        ))
        .unwrap();
    let df = &impacts[0];
    assert!(df.partial);
    assert_eq!((df.after.from, df.after.to), (e, now));
    assert_eq!(
        df.after.observations, 3,
        "three whole days, the fourth left out"
    );
    assert_eq!(df.verdict, Verdict::InsufficientData);
    assert_eq!((df.low, df.high), (None, None));
    assert!(
        df.change.is_some(),
        "the change is given even without a verdict"
    );
    let cfr = &impacts[1];
    assert_eq!(
        cfr.after.observations, 9,
        "three deployments a day for three days"
    );
    assert_eq!(cfr.verdict, Verdict::InsufficientData);
}

#[test]
fn rows_at_the_effective_time_count_after_and_the_window_start_before() {
    let mut f = Fixture::default();
    let e = h(24 * 100);
    f.release(1, PAY, None)
        .shipped(1, 1, e - 60 * DAY)
        .shipped(2, 1, e - 60 * DAY - 1)
        .shipped(3, 1, e)
        .shipped(4, 1, e + 60 * DAY);
    let i = f
        .store()
        .impacts(&impact_query(
            vec![action(PAY, MetricName::DeploymentFrequency, e)],
            e + 100 * DAY,
            None,
        ))
        .unwrap();
    assert_eq!(i[0].before.value, Some(1.0 / 60.0));
    assert_eq!(i[0].after.value, Some(1.0 / 60.0));
    assert_eq!(i[0].change, Some(0.0));
    assert_eq!(i[0].relative_change, Some(0.0));
}

#[test]
fn a_scoped_callers_baseline_uses_only_its_programs() {
    let mut f = improving();
    // A third program, seen by nobody here but the unscoped caller, that got much worse.
    let web = 3;
    for d in 0..240 {
        f.release(100_000 + d, web, None);
        let failed = d >= 120;
        f.deployment(
            100_000 + d,
            100_000 + d,
            Tier::Production,
            if failed {
                DeploymentStatus::Failed
            } else {
                DeploymentStatus::Succeeded
            },
            false,
            Some(h(24 * d + 5)),
        );
    }
    let store = f.store();
    let e = h(24 * 120);
    let now = h(24 * 300);
    let only_mob = store
        .impacts(&impact_query(
            vec![action(PAY, MetricName::ChangeFailureRate, e)],
            now,
            Some(vec![PAY, MOB]),
        ))
        .unwrap();
    let (before, after) = (
        metrics_of(&store, MOB, e - 60 * DAY, e),
        metrics_of(&store, MOB, e, e + 60 * DAY),
    );
    let mob_change =
        after.change_failure_rate.rate.unwrap() - before.change_failure_rate.rate.unwrap();
    assert!((only_mob[0].baseline_change.unwrap() - mob_change).abs() < 1e-12);
    let everyone = store
        .impacts(&impact_query(
            vec![action(PAY, MetricName::ChangeFailureRate, e)],
            now,
            None,
        ))
        .unwrap();
    assert!(
        everyone[0].baseline_change.unwrap() > mob_change + 0.1,
        "WEB's fall shows"
    );
    let alone = store
        .impacts(&impact_query(
            vec![action(PAY, MetricName::ChangeFailureRate, e)],
            now,
            Some(vec![PAY]),
        ))
        .unwrap();
    assert_eq!(
        (alone[0].baseline_change, alone[0].net_change),
        (None, None)
    );
    assert_eq!(alone[0].change, only_mob[0].change);
    let worse = store
        .impacts(&impact_query(
            vec![action(web, MetricName::ChangeFailureRate, e)],
            now,
            None,
        ))
        .unwrap();
    assert_eq!(worse[0].verdict, Verdict::Worsened);
    assert_eq!(
        (worse[0].before.value, worse[0].after.value),
        (Some(0.0), Some(1.0))
    );
    let net = worse[0].change.unwrap() - worse[0].baseline_change.unwrap();
    assert!((worse[0].net_change.unwrap() - net).abs() < 1e-12);
}
