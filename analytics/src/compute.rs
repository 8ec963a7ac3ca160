//! The figures of metrics.md for one query: one pass over each family of derived rows.
//!
//! Rows are scoped through a dense program table and the team's releases, placed in trend
//! buckets through a table of the window's days, and counted into three groups: the whole
//! window, their program, their bucket. Values arrive sorted, so percentiles are indexing.

use std::collections::HashSet;

use crate::calendar::buckets;
use crate::derive::*;
use crate::model::*;
use crate::rules::*;

/// Where a row counts: the caller's programs, and with a team only its releases.
struct Scope {
    /// Group of each program id (by position in the query's programs), or `u32::MAX`.
    slots: Vec<u32>,
    team: Option<HashSet<i64>>,
}

impl Scope {
    fn group(&self, program: i64, release: i64) -> Option<usize> {
        let slot = self.program_group(program)?;
        match &self.team {
            Some(releases) if !releases.contains(&release) => None,
            _ => Some(slot),
        }
    }

    /// The group of a row without a release, which a team filter does not narrow.
    fn program_group(&self, program: i64) -> Option<usize> {
        let slot = *self.slots.get(usize::try_from(program).ok()?)?;
        (slot != u32::MAX).then_some(slot as usize)
    }
}

/// The window and its trend buckets, with a day-to-bucket table (buckets start at midnight).
struct Window {
    from: i64,
    to: i64,
    first_day: i64,
    day_bucket: Vec<u32>,
    buckets: Vec<(i64, i64)>,
}

impl Window {
    fn new(from: i64, to: i64, granularity: Granularity) -> Self {
        let buckets = buckets(from, to, granularity);
        let first_day = from.div_euclid(DAY);
        let last_day = (to - 1).div_euclid(DAY);
        let day_bucket = (first_day..=last_day.max(first_day))
            .map(|day| {
                let start = day * DAY;
                buckets
                    .iter()
                    .position(|(s, e)| start < *e && start + DAY > *s)
                    .map_or(u32::MAX, |b| b as u32)
            })
            .collect();
        Self {
            from,
            to,
            first_day,
            day_bucket,
            buckets,
        }
    }

    fn contains(&self, t: i64) -> bool {
        t >= self.from && t < self.to
    }

    fn day(&self, t: i64) -> usize {
        (t.div_euclid(DAY) - self.first_day) as usize
    }

    /// The bucket of a time inside the window.
    fn bucket(&self, t: i64) -> Option<usize> {
        let b = *self.day_bucket.get(self.day(t))? as usize;
        let (start, end) = *self.buckets.get(b)?;
        (t >= start && t < end).then_some(b)
    }
}

/// The set of days (of the window) a group deployed on.
#[derive(Clone, Default)]
struct Days(Vec<u64>);

impl Days {
    fn insert(&mut self, day: usize) {
        let (word, bit) = (day / 64, day % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

#[derive(Clone, Default)]
struct DeployCounts {
    succeeded: u64,
    rework: u64,
    counted: u64,
    failed: u64,
    rolled_back: u64,
    days: Days,
}

#[derive(Clone, Default)]
struct DeliveryCounts {
    delivered: u64,
    planned: u64,
    on_time: u64,
    reviewed: u64,
    /// Sorted, since delivered rows come sorted by slippage.
    slips: Vec<f64>,
}

#[derive(Clone, Default)]
struct ComplianceCounts {
    production: u64,
    ingested: u64,
    emergency: u64,
    unplanned: u64,
    overrides: u64,
}

#[derive(Clone, Default)]
struct Counts {
    compliance: ComplianceCounts,
    deploys: DeployCounts,
    /// Sorted lead times and restore times.
    leads: Vec<f64>,
    restores: Vec<f64>,
    delivery: DeliveryCounts,
    gates: u64,
    gates_passed: u64,
    actions_open: u64,
    actions_overdue: u64,
    actions_closed: u64,
}

/// Counts for the window, each program, each bucket and, when asked, each program's buckets.
struct Tally {
    window: Counts,
    programs: Vec<Counts>,
    buckets: Vec<Counts>,
    /// Program-major: the buckets of program 0, then of program 1, and so on; or empty.
    program_buckets: Vec<Counts>,
}

impl Tally {
    fn each(&mut self, group: usize, bucket: Option<usize>, mut f: impl FnMut(&mut Counts, bool)) {
        f(&mut self.window, true);
        f(&mut self.programs[group], true);
        if let Some(b) = bucket {
            f(&mut self.buckets[b], false);
            if !self.program_buckets.is_empty() {
                f(
                    &mut self.program_buckets[group * self.buckets.len() + b],
                    false,
                );
            }
        }
    }
}

fn stats(sorted: &[f64]) -> DurationStats {
    if sorted.is_empty() {
        return DurationStats::default();
    }
    DurationStats {
        count: sorted.len() as u64,
        mean: Some(sorted.iter().sum::<f64>() / sorted.len() as f64),
        median: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p95: percentile(sorted, 0.95),
        min: sorted.first().copied(),
        max: sorted.last().copied(),
    }
}

impl Counts {
    fn compliance(&self) -> Compliance {
        let c = &self.compliance;
        Compliance {
            production_deployments: c.production,
            ingested_deployments: c.ingested,
            unplanned_deployments: c.unplanned,
            unplanned_rate: rate(c.unplanned, c.production + c.unplanned),
            freeze_overrides: c.overrides,
            emergency_deployments: c.emergency,
        }
    }

    fn deployment_frequency(&self, window_days: f64) -> DeploymentFrequency {
        let deployments = self.deploys.succeeded;
        let per_day = if window_days > 0.0 {
            deployments as f64 / window_days
        } else {
            0.0
        };
        DeploymentFrequency {
            deployments,
            deployment_days: self.deploys.days.len(),
            per_day,
            band: deployment_frequency_band(deployments, per_day),
        }
    }

    fn lead_time(&self) -> LeadTime {
        let hours = stats(&self.leads);
        LeadTime {
            hours,
            band: lead_time_band(hours.median),
        }
    }

    fn change_failure_rate(&self) -> ChangeFailureRate {
        let d = &self.deploys;
        let rate = rate(d.failed, d.counted);
        ChangeFailureRate {
            deployments: d.counted,
            failed: d.failed,
            rate,
            band: change_failure_band(rate),
        }
    }

    fn time_to_restore(&self) -> TimeToRestore {
        let hours = stats(&self.restores);
        TimeToRestore {
            hours,
            band: time_to_restore_band(hours.median),
        }
    }

    fn delivery(&self) -> Delivery {
        let d = &self.delivery;
        Delivery {
            releases_delivered: d.delivered,
            on_time_rate: rate(d.on_time, d.planned),
            slippage_days: stats(&d.slips),
            rollback_rate: rate(self.deploys.rolled_back, self.deploys.counted),
            gate_first_pass_rate: rate(self.gates_passed, self.gates),
            review_completion_rate: rate(d.reviewed, d.delivered),
            actions_open: self.actions_open,
            actions_overdue: self.actions_overdue,
            actions_closed: self.actions_closed,
        }
    }
}

/// Every figure of metrics.md for `q` over the derived rows.
pub fn compute(derived: &Derived, q: &Query) -> Metrics {
    let max_id = q.programs.iter().map(|p| p.id).max().unwrap_or(0).max(0) as usize;
    let mut slots = vec![u32::MAX; max_id + 1];
    for (i, p) in q.programs.iter().enumerate() {
        if let Ok(id) = usize::try_from(p.id) {
            slots[id] = i as u32;
        }
    }
    let scope = Scope {
        slots,
        team: q.team.as_ref().map(|_| derived_team_releases(derived, q)),
    };
    let window = Window::new(q.from, q.to, q.granularity);
    let mut tally = Tally {
        window: Counts::default(),
        programs: vec![Counts::default(); q.programs.len()],
        buckets: vec![Counts::default(); window.buckets.len()],
        program_buckets: if q.program_trends {
            vec![Counts::default(); q.programs.len() * window.buckets.len()]
        } else {
            Vec::new()
        },
    };

    let d = &derived.deploys;
    for i in 0..d.time.len() {
        let t = d.time[i];
        if !window.contains(t) {
            continue;
        }
        let Some(group) = scope.group(d.program[i], d.release[i]) else {
            continue;
        };
        let (flags, day) = (d.flags[i], window.day(t));
        tally.each(group, window.bucket(t), |c, whole| {
            let c = &mut c.deploys;
            c.counted += 1;
            c.failed += u64::from(flags & FLAG_FAILED != 0);
            c.rolled_back += u64::from(flags & FLAG_ROLLED_BACK != 0);
            if flags & FLAG_SUCCEEDED != 0 {
                c.succeeded += 1;
                c.rework += u64::from(flags & FLAG_EMERGENCY != 0);
                if whole {
                    c.days.insert(day);
                }
            }
        });
    }
    for (values, pick) in [
        (
            &derived.leads,
            (|c: &mut Counts| &mut c.leads) as fn(&mut Counts) -> &mut Vec<f64>,
        ),
        (&derived.restores, |c: &mut Counts| &mut c.restores),
    ] {
        for i in 0..values.time.len() {
            let t = values.time[i];
            if !window.contains(t) {
                continue;
            }
            let Some(group) = scope.group(values.program[i], values.release[i]) else {
                continue;
            };
            let v = values.value[i];
            tally.each(group, window.bucket(t), |c, _| pick(c).push(v));
        }
    }
    let v = &derived.delivered;
    for i in 0..v.time.len() {
        let t = v.time[i];
        if !window.contains(t) {
            continue;
        }
        let Some(group) = scope.group(v.program[i], v.release[i]) else {
            continue;
        };
        let (slip, reviewed) = (v.slip[i], v.reviewed[i]);
        tally.each(group, window.bucket(t), |c, whole| {
            let c = &mut c.delivery;
            c.delivered += 1;
            c.reviewed += u64::from(reviewed);
            if !slip.is_nan() {
                c.planned += 1;
                c.on_time += u64::from(slip <= 0.0);
                if whole {
                    c.slips.push(slip);
                }
            }
        });
    }
    let g = &derived.gates;
    for i in 0..g.time.len() {
        if !window.contains(g.time[i]) {
            continue;
        }
        let Some(group) = scope.group(g.program[i], g.release[i]) else {
            continue;
        };
        let passed = g.passed[i];
        tally.each(group, None, |c, _| {
            c.gates += 1;
            c.gates_passed += u64::from(passed);
        });
    }
    let a = &derived.actions;
    let to_date = q.to.div_euclid(DAY);
    for i in 0..a.created.len() {
        let Some(group) = scope.group(a.program[i], a.release[i]) else {
            continue;
        };
        let closed = a.closed[i];
        let open = a.created[i] < q.to && (closed == NONE || closed >= q.to);
        let overdue = open && a.due[i] != NONE && a.due[i] < to_date;
        let closed_in_window = closed != NONE && window.contains(closed);
        tally.each(group, None, |c, _| {
            c.actions_open += u64::from(open);
            c.actions_overdue += u64::from(overdue);
            c.actions_closed += u64::from(closed_in_window);
        });
    }

    let p = &derived.production;
    for i in 0..p.time.len() {
        let t = p.time[i];
        if !window.contains(t) {
            continue;
        }
        let Some(group) = scope.group(p.program[i], p.release[i]) else {
            continue;
        };
        let (ingested, emergency) = (p.ingested[i], p.emergency[i]);
        tally.each(group, window.bucket(t), |c, _| {
            let c = &mut c.compliance;
            c.production += 1;
            c.ingested += u64::from(ingested);
            c.emergency += u64::from(emergency);
        });
    }
    let o = &derived.overrides;
    for i in 0..o.time.len() {
        let t = o.time[i];
        if !window.contains(t) {
            continue;
        }
        if let Some(group) = scope.group(o.program[i], o.release[i]) {
            tally.each(group, window.bucket(t), |c, _| c.compliance.overrides += 1);
        }
    }
    let u = &derived.unplanned;
    for i in 0..u.time.len() {
        let t = u.time[i];
        if !window.contains(t) {
            continue;
        }
        if let Some(group) = scope.program_group(u.program[i]) {
            tally.each(group, window.bucket(t), |c, _| c.compliance.unplanned += 1);
        }
    }

    let days = window_days(q.from, q.to);
    let w = &tally.window;
    let deployment_frequency = w.deployment_frequency(days);
    Metrics {
        from: q.from,
        to: q.to,
        deployment_frequency,
        lead_time: w.lead_time(),
        change_failure_rate: w.change_failure_rate(),
        time_to_restore: w.time_to_restore(),
        rework_rate: ReworkRate {
            deployments: deployment_frequency.deployments,
            rework: w.deploys.rework,
            rate: rate(w.deploys.rework, deployment_frequency.deployments),
        },
        delivery: w.delivery(),
        compliance: w.compliance(),
        trend: trend(&window.buckets, &tally.buckets),
        by_program: q
            .programs
            .iter()
            .zip(&tally.programs)
            .enumerate()
            .map(|(i, (p, c))| ProgramMetrics {
                program_key: p.key.clone(),
                deployment_frequency: c.deployment_frequency(days),
                lead_time: c.lead_time(),
                change_failure_rate: c.change_failure_rate(),
                time_to_restore: c.time_to_restore(),
                delivery: c.delivery(),
                compliance: c.compliance(),
                trend: tally
                    .program_buckets
                    .chunks(window.buckets.len().max(1))
                    .nth(i)
                    .map(|counts| trend(&window.buckets, counts))
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

/// The trend buckets of one group's counts.
fn trend(buckets: &[(i64, i64)], counts: &[Counts]) -> Vec<Bucket> {
    buckets
        .iter()
        .zip(counts)
        .map(|((start, end), c)| Bucket {
            start: *start,
            end: *end,
            deployments: c.deploys.succeeded,
            failed_deployments: c.deploys.failed,
            change_failure_rate: rate(c.deploys.failed, c.deploys.counted),
            lead_time_median_hours: stats(&c.leads).median,
            time_to_restore_median_hours: stats(&c.restores).median,
            releases_delivered: c.delivery.delivered,
            on_time_rate: rate(c.delivery.on_time, c.delivery.planned),
            unplanned_deployments: c.compliance.unplanned,
        })
        .collect()
}

/// The releases of the query's team.
fn derived_team_releases(derived: &Derived, q: &Query) -> HashSet<i64> {
    let team = q.team.as_deref().unwrap_or_default();
    derived
        .teams
        .iter()
        .filter(|(_, t)| t == team)
        .map(|(r, _)| *r)
        .collect()
}
