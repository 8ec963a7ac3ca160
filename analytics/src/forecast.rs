//! When releases under way will be delivered, by reference class: how long comparable
//! releases still took from the same status at the same age (metrics.md, *Forecast*), and
//! how well that would have done on releases already delivered (*Forecast accuracy*).
//!
//! [`History`] holds the delivered releases of each program by delivery time, with the
//! first time each entered every status a forecast is made in, so that a class is a binary
//! search and one pass over a year of one program's deliveries, and its durations, sorted,
//! answer every release of the class at any age.

use std::collections::HashMap;

use crate::derive::{Derived, FLAG_COUNTED, NONE, failed};
use crate::index::{NO_PROGRAM, Numbering};
use crate::model::{Coded, ReleaseStatus, ReleaseType, Severities};
use crate::rules::{DAY, percentile_of};
use crate::shared::Shared;

/// The statuses a forecast is made in, PLANNED to DEPLOYING: the codes below this.
const STAGES: usize = ReleaseStatus::Deployed as usize;

/// The fewest members a class must have to give a forecast.
pub const MINIMUM_SAMPLE: usize = 20;

/// How far back class members were delivered.
const HISTORY: i64 = 365 * DAY;

/// Which releases a forecast rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    ProgramAndType,
    Program,
    Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// A release under way, as its forecast needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject {
    pub release: i64,
    pub program: i64,
    pub kind: ReleaseType,
    pub status: ReleaseStatus,
    pub created_at: i64,
    pub planned_end: Option<i64>,
}

/// Forecasts of `releases` at `now` for a caller who may see `visible` (every program when
/// None), whose programs the TYPE class spans.
#[derive(Debug, Clone)]
pub struct ForecastQuery {
    pub now: i64,
    pub visible: Option<Vec<i64>>,
    pub releases: Vec<Subject>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub basis: Basis,
    pub sample_size: u64,
    pub stage: ReleaseStatus,
    pub entered_at: i64,
    /// Members whose prediction is on or before plannedEnd (none once it has passed).
    pub on_time: u64,
    pub on_time_probability: f64,
    pub p50: i64,
    pub p85: i64,
    pub expected_slippage_days: f64,
    pub change_failure_risk: Option<f64>,
    pub risk: Risk,
}

/// Releases delivered in `[from, to)` of `programs`, each forecast `lead_days` before its
/// plannedEnd, for a caller who may see `visible`.
#[derive(Debug, Clone)]
pub struct AccuracyQuery {
    pub from: i64,
    pub to: i64,
    pub programs: Vec<i64>,
    pub visible: Option<Vec<i64>>,
    pub lead_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub predicted: Option<f64>,
    pub observed: Option<f64>,
    pub releases: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    pub releases: u64,
    pub brier_score: Option<f64>,
    pub base_rate_brier_score: Option<f64>,
    /// Ten bins of the on-time probability, empty ones included.
    pub calibration: Vec<CalibrationBin>,
}

/// A delivered release, as classes read it.
#[derive(Clone, Copy)]
struct Member {
    delivered: i64,
    release: u32,
    kind: u8,
    created: i64,
    planned_end: i64,
    /// When it first entered each status of [`STAGES`] ([`NONE`] if never; PLANNED at its
    /// creation).
    entered: [i64; STAGES],
    /// It had a production deployment the change failure rate counts, and a failed one.
    deployed: bool,
    failed: bool,
}

/// Delivered releases by program, and every release's status entries.
pub struct History {
    /// By program number, sorted by delivery time.
    delivered: Vec<Vec<Member>>,
    /// Per program, how many of the releases before each position had a plannedEnd, and
    /// how many of those were delivered on time (one longer than the program's list).
    planned: Vec<Vec<u32>>,
    on_time: Vec<Vec<u32>>,
    /// Each release number's entries: (status code, time), by time.
    moves: Vec<Vec<(u8, i64)>>,
    programs: usize,
}

/// The durations of one class from one status: sorted, with the members' deployment record.
struct Class {
    durations: Vec<i64>,
    deployed: u64,
    failed: u64,
}

impl History {
    /// From the production tier's derived rows.
    pub fn new(numbering: &Numbering, shared: &Shared, derived: &Derived) -> Self {
        let releases = numbering.release_programs().len();
        let mut moves: Vec<Vec<(u8, i64)>> = vec![Vec::new(); releases];
        let m = &shared.moves;
        for row in 0..m.release.len() {
            if let Some(list) = moves.get_mut(m.release[row] as usize) {
                list.push((m.status[row], m.time[row]));
            }
        }
        for list in &mut moves {
            list.sort_by_key(|(_, time)| *time);
        }
        let mut record = vec![(false, false); releases];
        let d = &derived.deploys;
        for row in 0..d.release.len() {
            if d.flags[row] & FLAG_COUNTED != 0
                && let Some(r) = record.get_mut(d.release[row] as usize)
            {
                r.0 = true;
                r.1 |= failed(d.flags[row], Severities::ALL);
            }
        }
        let s = &shared.stages;
        let mut stage: Vec<Option<usize>> = vec![None; releases];
        for (row, release) in s.release.iter().enumerate() {
            if let Some(slot) = stage.get_mut(*release as usize) {
                *slot = Some(row);
            }
        }
        let programs = numbering.programs.len();
        let mut delivered: Vec<Vec<Member>> = vec![Vec::new(); programs];
        let v = &derived.delivered;
        for i in 0..v.release.len() {
            let release = v.release[i] as usize;
            let (Some(Some(row)), Some(list)) =
                (stage.get(release), delivered.get_mut(v.program[i] as usize))
            else {
                continue;
            };
            let mut entered = [NONE; STAGES];
            entered[ReleaseStatus::Planned as usize] = s.created[*row];
            for (status, time) in &moves[release] {
                let status = *status as usize;
                if status != ReleaseStatus::Planned as usize
                    && status < STAGES
                    && entered[status] == NONE
                {
                    entered[status] = *time;
                }
            }
            let (deployed, failed) = record[release];
            list.push(Member {
                delivered: v.time[i],
                release: v.release[i],
                kind: s.kind[*row],
                created: s.created[*row],
                planned_end: s.planned_end[*row],
                entered,
                deployed,
                failed,
            });
        }
        let mut planned = Vec::with_capacity(programs);
        let mut on_time = Vec::with_capacity(programs);
        for list in &mut delivered {
            list.sort_by_key(|m| m.delivered);
            let (mut p, mut o) = (vec![0], vec![0]);
            for m in list.iter() {
                let has_plan = m.planned_end != NONE;
                p.push(p[p.len() - 1] + u32::from(has_plan));
                o.push(o[o.len() - 1] + u32::from(has_plan && m.delivered <= m.planned_end));
            }
            planned.push(p);
            on_time.push(o);
        }
        Self {
            delivered,
            planned,
            on_time,
            moves,
            programs,
        }
    }

    /// The members of `programs` (of `kind` when given) delivered in the year before
    /// `now`, from the time each entered status `stage` before `now`.
    fn class(&self, programs: &[u32], kind: Option<u8>, stage: usize, now: i64) -> Class {
        let mut class = Class {
            durations: Vec::new(),
            deployed: 0,
            failed: 0,
        };
        for program in programs {
            let Some(list) = self.delivered.get(*program as usize) else {
                continue;
            };
            let start = list.partition_point(|m| m.delivered < now - HISTORY);
            let end = list.partition_point(|m| m.delivered < now);
            for m in &list[start..end] {
                let entered = m.entered[stage];
                if kind.is_some_and(|k| k != m.kind) || entered == NONE || entered >= now {
                    continue;
                }
                class.durations.push(m.delivered - entered);
                class.deployed += u64::from(m.deployed);
                class.failed += u64::from(m.deployed && m.failed);
            }
        }
        class.durations.sort_unstable();
        class
    }

    /// The status release number `release` was in before `at` and when it entered it:
    /// its latest entry, else PLANNED since `created`.
    fn status_at(&self, release: u32, at: i64, created: i64) -> (usize, i64) {
        let moves = self
            .moves
            .get(release as usize)
            .map_or(&[][..], Vec::as_slice);
        let before = moves.partition_point(|(_, time)| *time < at);
        match before.checked_sub(1).map(|i| moves[i]) {
            Some((status, time)) => (status as usize, time),
            None => (ReleaseStatus::Planned as usize, created),
        }
    }

    /// When release number `release` last entered `stage`, else `created` (never moved).
    fn entered(&self, release: Option<u32>, stage: usize, created: i64) -> i64 {
        release
            .and_then(|r| self.moves.get(r as usize))
            .and_then(|moves| {
                moves
                    .iter()
                    .rev()
                    .find(|(status, _)| *status as usize == stage)
            })
            .map_or(created, |(_, time)| *time)
    }

    /// The program numbers of `visible` (all when None).
    fn visible(&self, numbering: &Numbering, visible: Option<&[i64]>) -> Vec<u32> {
        match visible {
            None => (0..self.programs as u32).collect(),
            Some(ids) => ids
                .iter()
                .filter_map(|id| numbering.programs.get(id))
                .collect(),
        }
    }

    /// The forecast of each of `query.releases`, in its order; classes are built once
    /// for all of them.
    pub fn forecasts(&self, numbering: &Numbering, query: &ForecastQuery) -> Vec<Option<Forecast>> {
        let visible = self.visible(numbering, query.visible.as_deref());
        let mut classes: HashMap<(usize, Basis, u32, u8), Class> = HashMap::new();
        query
            .releases
            .iter()
            .map(|subject| {
                let stage = subject.status as usize;
                let planned_end = subject.planned_end?;
                if stage >= STAGES {
                    return None;
                }
                let release = numbering.number_of(subject.release);
                let entered_at = self.entered(release, stage, subject.created_at);
                let program = numbering
                    .programs
                    .get(&subject.program)
                    .unwrap_or(NO_PROGRAM);
                let kind = subject.kind.code() as u8;
                let at = Moment {
                    now: query.now,
                    stage,
                    entered_at,
                    planned_end,
                };
                [Basis::ProgramAndType, Basis::Program, Basis::Type]
                    .into_iter()
                    .find_map(|basis| {
                        let key = match basis {
                            Basis::ProgramAndType => (stage, basis, program, kind),
                            Basis::Program => (stage, basis, program, u8::MAX),
                            Basis::Type => (stage, basis, NO_PROGRAM, kind),
                        };
                        let class = classes.entry(key).or_insert_with(|| match basis {
                            Basis::ProgramAndType => {
                                self.class(&[program], Some(kind), stage, at.now)
                            }
                            Basis::Program => self.class(&[program], None, stage, at.now),
                            Basis::Type => self.class(&visible, Some(kind), stage, at.now),
                        });
                        at.forecast(basis, class)
                    })
            })
            .collect()
    }

    /// How the forecast would have done on releases already delivered.
    pub fn accuracy(&self, numbering: &Numbering, query: &AccuracyQuery) -> Accuracy {
        let visible = self.visible(numbering, query.visible.as_deref());
        let programs: Vec<u32> = query
            .programs
            .iter()
            .filter_map(|id| numbering.programs.get(id))
            .collect();
        let lead = i64::from(query.lead_days) * DAY;
        let mut bins = [(0.0, 0_u64, 0_u64); 10];
        let (mut scored, mut brier, mut base) = (0_u64, 0.0, 0.0);
        for program in &programs {
            let Some(list) = self.delivered.get(*program as usize) else {
                continue;
            };
            let start = list.partition_point(|m| m.delivered < query.from);
            let end = list.partition_point(|m| m.delivered < query.to);
            for m in &list[start..end] {
                if m.planned_end == NONE {
                    continue;
                }
                let now = m.planned_end - lead;
                if m.created >= now || m.delivered <= now {
                    continue;
                }
                let (stage, entered_at) = self.status_at(m.release, now, m.created);
                if stage >= STAGES {
                    continue;
                }
                let at = Moment {
                    now,
                    stage,
                    entered_at,
                    planned_end: m.planned_end,
                };
                let Some(forecast) = [
                    (Basis::ProgramAndType, &[*program][..], Some(m.kind)),
                    (Basis::Program, &[*program][..], None),
                    (Basis::Type, &visible[..], Some(m.kind)),
                ]
                .into_iter()
                .find_map(|(basis, programs, kind)| {
                    at.forecast(basis, &self.class(programs, kind, stage, now))
                }) else {
                    continue;
                };
                let p = forecast.on_time_probability;
                let outcome = if m.delivered <= m.planned_end {
                    1.0
                } else {
                    0.0
                };
                let bin = &mut bins[bin(forecast.on_time, forecast.sample_size)];
                bin.0 += p;
                bin.1 += 1;
                bin.2 += outcome as u64;
                if let Some(rate) = self.base_rate(&programs, now) {
                    scored += 1;
                    brier += (p - outcome).powi(2);
                    base += (rate - outcome).powi(2);
                }
            }
        }
        let mean = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
        Accuracy {
            releases: bins.iter().map(|b| b.1).sum(),
            brier_score: mean(brier, scored),
            base_rate_brier_score: mean(base, scored),
            calibration: bins
                .iter()
                .enumerate()
                .map(|(i, (predicted, releases, on_time))| CalibrationBin {
                    from: i as f64 / 10.0,
                    to: (i + 1) as f64 / 10.0,
                    predicted: mean(*predicted, *releases),
                    observed: mean(*on_time as f64, *releases),
                    releases: *releases,
                })
                .collect(),
        }
    }

    /// The share on time of the releases of `programs` with a plannedEnd delivered in the
    /// year before `now`; None without any.
    fn base_rate(&self, programs: &[u32], now: i64) -> Option<f64> {
        let (mut planned, mut on_time) = (0, 0);
        for program in programs {
            let p = *program as usize;
            let Some(list) = self.delivered.get(p) else {
                continue;
            };
            let start = list.partition_point(|m| m.delivered < now - HISTORY);
            let end = list.partition_point(|m| m.delivered < now);
            planned += self.planned[p][end] - self.planned[p][start];
            on_time += self.on_time[p][end] - self.on_time[p][start];
        }
        (planned > 0).then(|| f64::from(on_time) / f64::from(planned))
    }
}

/// The calibration bin of the share `k / n`: `min(9, ⌊10·k/n⌋)`, in integers so that 0.3
/// lands in `[0.3, 0.4)`.
fn bin(k: u64, n: u64) -> usize {
    (10 * k).checked_div(n).map_or(0, |b| b.min(9) as usize)
}

/// A release at the moment it is forecast.
struct Moment {
    now: i64,
    stage: usize,
    entered_at: i64,
    planned_end: i64,
}

impl Moment {
    /// The forecast from `class`, if enough of its members took longer than the release's
    /// age in its stage.
    fn forecast(&self, basis: Basis, class: &Class) -> Option<Forecast> {
        let elapsed = self.now - self.entered_at;
        let start = class.durations.partition_point(|d| *d <= elapsed);
        let members = &class.durations[start..];
        let n = members.len();
        if n < MINIMUM_SAMPLE {
            return None;
        }
        // Each member predicts delivery at now + (duration − elapsed) = enteredAt + duration.
        let on_time = if self.now > self.planned_end {
            0
        } else {
            members.partition_point(|d| self.entered_at + d <= self.planned_end)
        };
        let at = |p: f64| {
            let offset = percentile_of(n, p, |rank| members[rank] as f64).unwrap_or(0.0);
            self.entered_at + offset.round() as i64
        };
        let (p50, p85) = (at(0.5), at(0.85));
        let on_time_probability = on_time as f64 / n as f64;
        let change_failure_risk =
            (class.deployed > 0).then(|| class.failed as f64 / class.deployed as f64);
        let at_least = |threshold: f64| change_failure_risk.is_some_and(|r| r >= threshold);
        let risk = if on_time_probability < 0.5 || at_least(0.3) {
            Risk::High
        } else if on_time_probability < 0.8 || at_least(0.15) {
            Risk::Medium
        } else {
            Risk::Low
        };
        Some(Forecast {
            basis,
            sample_size: n as u64,
            stage: ReleaseStatus::from_code(self.stage as i32)?,
            entered_at: self.entered_at,
            on_time: on_time as u64,
            on_time_probability,
            p50,
            p85,
            expected_slippage_days: (p50 - self.planned_end) as f64 / DAY as f64,
            change_failure_risk,
            risk,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentStatus, Tables, Tier};
    use crate::store::Store;

    const PAY: i64 = 1;
    const MOB: i64 = 2;
    const NEW: i64 = 3;
    const PRODUCTION: i64 = 9;
    /// The moment forecasts are made at.
    const NOW: i64 = 1_000 * DAY;

    struct History(Tables);

    impl History {
        fn new() -> Self {
            let mut t = Tables::default();
            t.environments.id.push(PRODUCTION);
            t.environments.tier.push(Tier::Production);
            Self(t)
        }

        /// A release created at `created`, in IN_TEST at `in_test`, delivered at
        /// `delivered` (when given) with a deployment of `status` before it.
        #[allow(clippy::too_many_arguments)]
        fn release(
            &mut self,
            id: i64,
            program: i64,
            kind: ReleaseType,
            created: i64,
            in_test: i64,
            delivered: Option<i64>,
            planned_end: Option<i64>,
            failed: bool,
        ) -> &mut Self {
            let t = &mut self.0;
            t.releases.id.push(id);
            t.releases.program.push(program);
            t.releases.planned_end.push(planned_end);
            t.releases.kind.push(kind);
            t.releases.created_at.push(created);
            t.entries.release.push(id);
            t.entries.status.push(ReleaseStatus::InTest);
            t.entries.at.push(in_test);
            if let Some(at) = delivered {
                let mut deploy = |id: i64, status: DeploymentStatus, finished: i64| {
                    let d = &mut t.deployments;
                    d.id.push(id);
                    d.release.push(id / 10);
                    d.environment.push(PRODUCTION);
                    d.status.push(status);
                    d.rollback.push(false);
                    d.finished_at.push(Some(finished));
                    d.ingested.push(false);
                };
                if failed {
                    deploy(id * 10 + 1, DeploymentStatus::Failed, at - 1);
                }
                deploy(id * 10, DeploymentStatus::Succeeded, at);
            }
            self
        }

        fn moved(&mut self, id: i64, status: ReleaseStatus, at: i64) -> &mut Self {
            let e = &mut self.0.entries;
            e.release.push(id);
            e.status.push(status);
            e.at.push(at);
            self
        }

        fn store(&self) -> Store {
            Store::new(self.0.clone()).unwrap()
        }
    }

    /// 25 PAY MINOR releases that took 1 to 25 days from IN_TEST to delivery, in the year
    /// before NOW, the first 5 with a failed production deployment and the first 10 on time;
    /// and 3 PAY MAJOR releases that took 30 days.
    fn history() -> History {
        let mut h = History::new();
        for i in 1..=25 {
            let in_test = NOW - 200 * DAY + i * DAY;
            let delivered = in_test + i * DAY;
            let planned_end = if i <= 10 { delivered } else { delivered - DAY };
            h.release(
                i,
                PAY,
                ReleaseType::Minor,
                in_test - DAY,
                in_test,
                Some(delivered),
                Some(planned_end),
                i <= 5,
            );
        }
        for i in 26..=28 {
            let in_test = NOW - 100 * DAY;
            h.release(
                i,
                PAY,
                ReleaseType::Major,
                in_test - DAY,
                in_test,
                Some(in_test + 30 * DAY),
                None,
                false,
            );
        }
        h
    }

    fn subject(
        program: i64,
        kind: ReleaseType,
        status: ReleaseStatus,
        planned_end: Option<i64>,
    ) -> Subject {
        Subject {
            release: 100,
            program,
            kind,
            status,
            created_at: NOW - DAY / 2,
            planned_end,
        }
    }

    fn forecast(store: &Store, visible: Option<Vec<i64>>, subject: Subject) -> Option<Forecast> {
        let query = ForecastQuery {
            now: NOW,
            visible,
            releases: vec![subject],
        };
        store
            .forecasts(&query)
            .unwrap()
            .into_iter()
            .next()
            .flatten()
    }

    #[test]
    fn a_forecast_rests_on_the_members_that_took_longer_than_the_release_so_far() {
        let mut h = history();
        // In IN_TEST for 2.5 days: members of 3 to 25 days count.
        let entered = NOW - DAY * 5 / 2;
        h.release(
            100,
            PAY,
            ReleaseType::Minor,
            NOW - 50 * DAY,
            NOW - 40 * DAY,
            None,
            None,
            false,
        )
        .moved(100, ReleaseStatus::Approved, NOW - 30 * DAY)
        .moved(100, ReleaseStatus::InTest, entered);
        let store = h.store();
        let planned_end = entered + 10 * DAY;
        let f = forecast(
            &store,
            None,
            subject(
                PAY,
                ReleaseType::Minor,
                ReleaseStatus::InTest,
                Some(planned_end),
            ),
        )
        .unwrap();
        assert_eq!(
            (f.basis, f.sample_size, f.stage, f.entered_at),
            (Basis::ProgramAndType, 23, ReleaseStatus::InTest, entered)
        );
        // Durations 3..=10 days land by plannedEnd.
        assert_eq!(f.on_time, 8);
        assert!((f.on_time_probability - 8.0 / 23.0).abs() < 1e-12);
        assert_eq!(f.p50, entered + 14 * DAY);
        // h = 22 · 0.85 = 18.7 between 21 and 22 days.
        assert_eq!(f.p85, entered + 21 * DAY + DAY * 7 / 10);
        assert!((f.expected_slippage_days - 4.0).abs() < 1e-12);
        // 5 of the 25 members failed, before the duration condition.
        assert_eq!(f.change_failure_risk, Some(0.2));
        assert_eq!(f.risk, Risk::High);
    }

    #[test]
    fn classes_fall_back_to_the_program_then_the_type_over_the_programs_visible() {
        let mut h = history();
        h.release(
            100,
            PAY,
            ReleaseType::Minor,
            NOW - 50 * DAY,
            NOW - DAY * 13 / 2,
            None,
            None,
            false,
        );
        let store = h.store();
        let far = Some(NOW + 100 * DAY);
        // 6.5 days in: 19 MINOR members are too few; with the 3 MAJOR ones, 22.
        let f = forecast(
            &store,
            None,
            subject(PAY, ReleaseType::Minor, ReleaseStatus::InTest, far),
        )
        .unwrap();
        assert_eq!((f.basis, f.sample_size), (Basis::Program, 22));
        assert_eq!(
            (f.on_time_probability, f.risk),
            (1.0, Risk::Medium),
            "5 of 28 failed"
        );

        // A program with no history: MINOR releases of the programs the caller may see.
        let mut other = subject(NEW, ReleaseType::Minor, ReleaseStatus::Planned, far);
        other.created_at = NOW;
        let f = forecast(&store, Some(vec![PAY, NEW]), other).unwrap();
        assert_eq!(
            (f.basis, f.sample_size, f.entered_at),
            (Basis::Type, 25, NOW)
        );
        assert_eq!(forecast(&store, Some(vec![MOB, NEW]), other), None);
    }

    #[test]
    fn no_forecast_without_a_plan_a_stage_under_way_or_enough_members() {
        let store = history().store();
        let planned = Some(NOW + DAY);
        assert!(
            forecast(
                &store,
                None,
                subject(PAY, ReleaseType::Minor, ReleaseStatus::Planned, planned)
            )
            .is_some()
        );
        assert_eq!(
            forecast(
                &store,
                None,
                subject(PAY, ReleaseType::Minor, ReleaseStatus::Planned, None)
            ),
            None
        );
        assert_eq!(
            forecast(
                &store,
                None,
                subject(PAY, ReleaseType::Minor, ReleaseStatus::Deployed, planned)
            ),
            None
        );
        assert_eq!(
            forecast(
                &store,
                None,
                subject(
                    PAY,
                    ReleaseType::Emergency,
                    ReleaseStatus::Scheduled,
                    planned
                )
            ),
            None,
            "no member entered SCHEDULED"
        );
    }

    #[test]
    fn a_release_past_its_planned_end_is_not_on_time() {
        let store = history().store();
        let mut s = subject(
            PAY,
            ReleaseType::Minor,
            ReleaseStatus::Planned,
            Some(NOW - 1),
        );
        s.created_at = NOW - DAY / 2;
        let f = forecast(&store, None, s).unwrap();
        assert_eq!(
            (f.on_time, f.on_time_probability, f.risk),
            (0, 0.0, Risk::High)
        );
    }

    #[test]
    fn a_probability_lands_in_the_bin_of_its_share() {
        assert_eq!(
            [bin(0, 7), bin(3, 10), bin(29, 100), bin(9, 10), bin(7, 7)],
            [0, 3, 2, 9, 9]
        );
    }

    fn accuracy(store: &Store) -> Accuracy {
        store
            .forecast_accuracy(&AccuracyQuery {
                from: NOW,
                to: NOW + 100 * DAY,
                programs: vec![PAY],
                visible: None,
                lead_days: 7,
            })
            .unwrap()
    }

    #[test]
    fn accuracy_scores_the_forecast_made_before_plannedend_against_the_base_rate() {
        let mut h = history();
        // In IN_TEST 2.5 days before the forecast at plannedEnd − 7 days; on time.
        let planned_end = NOW + 20 * DAY;
        let at = planned_end - 7 * DAY;
        h.release(
            100,
            PAY,
            ReleaseType::Minor,
            NOW - 5 * DAY,
            at - DAY * 5 / 2,
            Some(planned_end - DAY),
            Some(planned_end),
            false,
        );
        // Created after its moment: left out.
        h.release(
            101,
            PAY,
            ReleaseType::Minor,
            planned_end,
            planned_end,
            Some(planned_end + 2 * DAY),
            Some(planned_end + 3 * DAY),
            false,
        );
        let store = h.store();
        let a = accuracy(&store);
        // 9.5 days from IN_TEST to plannedEnd: 7 of the 23 members of 3 to 25 days (3 to
        // 9); 10 of the 25 planned ones were on time.
        let p = 7.0 / 23.0;
        assert_eq!(a.releases, 1);
        assert!((a.brier_score.unwrap() - (1.0 - p) * (1.0 - p)).abs() < 1e-12);
        assert!((a.base_rate_brier_score.unwrap() - 0.36).abs() < 1e-12);
        assert_eq!(a.calibration.len(), 10);
        let third = a.calibration[3];
        assert_eq!(
            (third.from, third.to, third.releases, third.observed),
            (0.3, 0.4, 1, Some(1.0))
        );
        assert!((third.predicted.unwrap() - p).abs() < 1e-12);
        assert!(
            a.calibration
                .iter()
                .enumerate()
                .all(|(i, b)| i == 3 || (b.releases == 0 && b.predicted.is_none()))
        );

        // What happened after the moment changes nothing.
        h.moved(100, ReleaseStatus::Approved, at + DAY);
        h.release(
            102,
            PAY,
            ReleaseType::Minor,
            at - 30 * DAY,
            at - 29 * DAY,
            Some(at + DAY),
            Some(at),
            true,
        );
        assert_eq!(accuracy(&h.store()), a);
    }
}
