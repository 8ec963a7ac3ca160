//! The figures of metrics.md for one query: a pass over each family of derived rows, the
//! families split between two threads.
//!
//! Rows are scoped through dense tables of releases and programs, placed in trend
//! buckets through a table of the window's days, and counted into three groups: the whole
//! window, their program, their bucket (counts that add up reach the window by adding its
//! programs' once, not row by row). Durations arrive sorted, so a group's percentiles
//! are the values at a few ranks: a first pass counts each group's values, a second keeps
//! the values at the ranks its percentiles read ([`Sample`]), and nothing is collected.

use crate::calendar::buckets;
use crate::derive::*;
use crate::index::Numbering;
use crate::model::*;
use crate::rules::*;
use crate::shared::{Actions, Gates, Shared, Stamps};

/// Where a row counts: the caller's programs, and with a team only its releases.
struct Scope {
    /// Group of each program number (by position in the query's programs), or `OUT`.
    programs: Vec<u32>,
    /// Group of each release number: its program's, or `OUT` outside the team.
    releases: Vec<u32>,
    /// Whether each release number is the team's, when a team is asked for.
    team: Option<Vec<bool>>,
}

/// Counts in no group.
const OUT: u32 = u32::MAX;

fn group_of(table: &[u32], number: u32) -> Option<usize> {
    let group = *table.get(number as usize)?;
    (group != OUT).then_some(group as usize)
}

impl Scope {
    fn new(numbering: &Numbering, shared: &Shared, q: &Query) -> Self {
        let mut programs = vec![OUT; numbering.programs.len()];
        for (i, p) in q.programs.iter().enumerate() {
            if let Some(number) = numbering.programs.get(&p.id) {
                programs[number as usize] = i as u32;
            }
        }
        let team = q.team.as_deref().map(|name| {
            let mut team = vec![false; numbering.release_programs().len()];
            for release in shared.teams.releases(name) {
                if let Some(ours) = team.get_mut(release as usize) {
                    *ours = true;
                }
            }
            team
        });
        let releases = numbering
            .release_programs()
            .iter()
            .enumerate()
            .map(|(release, program)| match &team {
                Some(team) if !team[release] => OUT,
                _ => group_of(&programs, *program).map_or(OUT, |g| g as u32),
            })
            .collect();
        Self {
            programs,
            releases,
            team,
        }
    }

    /// The group of a row of a release, in the order of its table (see [`Deploys`]).
    fn release_group(&self, release: u32) -> Option<usize> {
        group_of(&self.releases, release)
    }

    /// The group of a row that holds its program: with a team, only if its release is one
    /// of the team's (an incident without a release is not).
    fn group(&self, program: u32, release: u32) -> Option<usize> {
        match &self.team {
            Some(team) if !team.get(release as usize).is_some_and(|ours| *ours) => None,
            _ => self.program_group(program),
        }
    }

    /// The group of a row without a release, which a team filter does not narrow.
    fn program_group(&self, program: u32) -> Option<usize> {
        group_of(&self.programs, program)
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

    fn union(&mut self, other: &Days) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (word, theirs) in self.0.iter_mut().zip(&other.0) {
            *word |= theirs;
        }
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

/// The percentiles [`DurationStats`] reports.
const PERCENTILES: [f64; 3] = [0.5, 0.9, 0.95];

/// A group's share of durations that arrive in ascending order: counted (and summed) in a
/// first pass; after [`Sample::plan`], the second pass keeps the values at the ranks the
/// statistics read (minimum, maximum, and the two around each percentile).
#[derive(Clone, Copy, Default)]
struct Sample {
    count: u64,
    sum: f64,
    /// Values seen in the second pass.
    seen: u64,
    ranks: [u64; 8],
    kept: [f64; 8],
    wanted: usize,
    next: usize,
}

impl Sample {
    fn count(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
    }

    fn plan(&mut self) {
        let n = self.count as usize;
        if n == 0 {
            return;
        }
        let mut ranks: Vec<u64> = vec![0, n as u64 - 1];
        for p in PERCENTILES {
            ranks.extend(percentile_ranks(n, p).map(|r| r as u64));
        }
        ranks.sort_unstable();
        ranks.dedup();
        self.wanted = ranks.len();
        self.ranks[..ranks.len()].copy_from_slice(&ranks);
    }

    fn keep(&mut self, value: f64) {
        if self.next < self.wanted && self.ranks[self.next] == self.seen {
            self.kept[self.next] = value;
            self.next += 1;
        }
        self.seen += 1;
    }

    fn at(&self, rank: usize) -> f64 {
        let index = self.ranks[..self.wanted]
            .iter()
            .position(|r| *r == rank as u64);
        index.map_or(f64::NAN, |i| self.kept[i])
    }

    fn percentile(&self, p: f64) -> Option<f64> {
        percentile_of(self.count as usize, p, |rank| self.at(rank))
    }

    fn stats(&self) -> DurationStats {
        if self.count == 0 {
            return DurationStats::default();
        }
        DurationStats {
            count: self.count,
            mean: Some(self.sum / self.count as f64),
            median: self.percentile(0.5),
            p90: self.percentile(0.9),
            p95: self.percentile(0.95),
            min: Some(self.at(0)),
            max: Some(self.at(self.count as usize - 1)),
        }
    }

    /// Either sample, when only one of the two threads filled it.
    fn absorb(&mut self, other: &Sample) {
        if self.count == 0 {
            *self = *other;
        }
    }
}

#[derive(Clone, Default)]
struct DeliveryCounts {
    delivered: u64,
    planned: u64,
    on_time: u64,
    reviewed: u64,
    slips: Sample,
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
    leads: Sample,
    restores: Sample,
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
    fn new(programs: usize, buckets: usize, program_trends: bool) -> Self {
        Self {
            window: Counts::default(),
            programs: vec![Counts::default(); programs],
            buckets: vec![Counts::default(); buckets],
            program_buckets: if program_trends {
                vec![Counts::default(); programs * buckets]
            } else {
                Vec::new()
            },
        }
    }

    /// Every group's counts.
    fn all(&mut self) -> impl Iterator<Item = &mut Counts> {
        std::iter::once(&mut self.window)
            .chain(self.programs.iter_mut())
            .chain(self.buckets.iter_mut())
            .chain(self.program_buckets.iter_mut())
    }

    /// Adds what the other thread counted.
    fn absorb(&mut self, other: Tally) {
        let mut theirs = other;
        for (mine, theirs) in self.all().zip(theirs.all()) {
            mine.absorb(theirs);
        }
    }

    /// Counts a row in the window, its program, its bucket and its program's bucket; `f`
    /// learns whether the group is a whole one (the window or a program) or a bucket.
    fn each(&mut self, group: usize, bucket: Option<usize>, mut f: impl FnMut(&mut Counts, bool)) {
        f(&mut self.window, true);
        self.each_but_window(group, bucket, f);
    }

    /// [`Tally::each`] for the counts that add up ([`Counts::add_sums`]): each row counts
    /// in exactly one program, so the window's are its programs' added at the end
    /// ([`Tally::sum_programs`]), one update fewer per row.
    fn each_but_window(
        &mut self,
        group: usize,
        bucket: Option<usize>,
        mut f: impl FnMut(&mut Counts, bool),
    ) {
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

    /// Adds the programs' counts that add up into the window's.
    fn sum_programs(&mut self) {
        for program in &self.programs {
            self.window.add_sums(program);
        }
    }
}

impl Counts {
    /// Adds what the other thread counted.
    fn absorb(&mut self, o: &Counts) {
        self.add_sums(o);
        self.leads.absorb(&o.leads);
        self.restores.absorb(&o.restores);
        let (v, ov) = (&mut self.delivery, &o.delivery);
        v.delivered += ov.delivered;
        v.planned += ov.planned;
        v.on_time += ov.on_time;
        v.reviewed += ov.reviewed;
        v.slips.absorb(&ov.slips);
    }

    /// Adds the counts of production deployments, gates and actions, which add up.
    fn add_sums(&mut self, o: &Counts) {
        let (c, oc) = (&mut self.compliance, &o.compliance);
        c.production += oc.production;
        c.ingested += oc.ingested;
        c.emergency += oc.emergency;
        c.unplanned += oc.unplanned;
        c.overrides += oc.overrides;
        let (d, od) = (&mut self.deploys, &o.deploys);
        d.succeeded += od.succeeded;
        d.rework += od.rework;
        d.counted += od.counted;
        d.failed += od.failed;
        d.rolled_back += od.rolled_back;
        d.days.union(&od.days);
        self.gates += o.gates;
        self.gates_passed += o.gates_passed;
        self.actions_open += o.actions_open;
        self.actions_overdue += o.actions_overdue;
        self.actions_closed += o.actions_closed;
    }

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

    fn deployment_frequency(&self, window_days: f64, b: &Benchmark) -> DeploymentFrequency {
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
            band: b.deployment_frequency_band(deployments, per_day),
        }
    }

    fn lead_time(&self, b: &Benchmark) -> LeadTime {
        let hours = self.leads.stats();
        LeadTime {
            hours,
            band: b.lead_time_band(hours.median),
        }
    }

    fn change_failure_rate(&self, b: &Benchmark) -> ChangeFailureRate {
        let d = &self.deploys;
        let rate = rate(d.failed, d.counted);
        ChangeFailureRate {
            deployments: d.counted,
            failed: d.failed,
            rate,
            band: b.change_failure_band(rate),
        }
    }

    fn time_to_restore(&self, b: &Benchmark) -> TimeToRestore {
        let hours = self.restores.stats();
        TimeToRestore {
            hours,
            band: b.time_to_restore_band(hours.median),
        }
    }

    fn delivery(&self) -> Delivery {
        let d = &self.delivery;
        Delivery {
            releases_delivered: d.delivered,
            planned_releases: d.planned,
            on_time_rate: rate(d.on_time, d.planned),
            slippage_days: d.slips.stats(),
            rollback_rate: rate(self.deploys.rolled_back, self.deploys.counted),
            gate_first_pass_rate: rate(self.gates_passed, self.gates),
            gates: self.gates,
            review_completion_rate: rate(d.reviewed, d.delivered),
            actions_open: self.actions_open,
            actions_overdue: self.actions_overdue,
            actions_closed: self.actions_closed,
        }
    }
}

/// Which pass over sorted durations: counting them, or keeping the ones at wanted ranks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Count,
    Keep,
}

/// What a query counts rows into: the caller's scope and the window's buckets.
struct Frame<'a> {
    scope: &'a Scope,
    window: &'a Window,
    /// The incidents that count.
    severities: Severities,
}

impl Frame<'_> {
    /// Production deployments: all of them for compliance, the counted ones for DORA.
    fn deploys(&self, tally: &mut Tally, d: &Deploys) {
        let window = self.window;
        for i in 0..d.time.len() {
            let t = d.time[i];
            if !window.contains(t) {
                continue;
            }
            let Some(group) = self.scope.release_group(d.release[i]) else {
                continue;
            };
            let (flags, day) = (d.flags[i], window.day(t));
            let failed = failed(flags, self.severities);
            tally.each_but_window(group, window.bucket(t), |c, whole| {
                let p = &mut c.compliance;
                p.production += 1;
                p.ingested += u64::from(flags & FLAG_INGESTED != 0);
                p.emergency += u64::from(flags & FLAG_EMERGENCY != 0);
                if flags & FLAG_COUNTED == 0 {
                    return;
                }
                let c = &mut c.deploys;
                c.counted += 1;
                c.failed += u64::from(failed);
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
    }

    /// Lead or restore times whose row `counts`, in two passes (see [`Sample`]).
    fn durations(
        &self,
        tally: &mut Tally,
        values: &Values,
        counts: impl Fn(usize) -> bool,
        pick: fn(&mut Counts) -> &mut Sample,
    ) {
        let window = self.window;
        for pass in [Pass::Count, Pass::Keep] {
            for i in 0..values.time.len() {
                let t = values.time[i];
                if !window.contains(t) || !counts(i) {
                    continue;
                }
                let Some(group) = self.scope.group(values.program[i], values.release[i]) else {
                    continue;
                };
                let v = values.value[i];
                tally.each(group, window.bucket(t), |c, _| match pass {
                    Pass::Count => pick(c).count(v),
                    Pass::Keep => pick(c).keep(v),
                });
            }
            if pass == Pass::Count {
                tally.all().for_each(|c| pick(c).plan());
            }
        }
    }

    fn delivered(&self, tally: &mut Tally, v: &Delivered) {
        let window = self.window;
        for pass in [Pass::Count, Pass::Keep] {
            for i in 0..v.time.len() {
                let t = v.time[i];
                if !window.contains(t) {
                    continue;
                }
                let Some(group) = self.scope.group(v.program[i], v.release[i]) else {
                    continue;
                };
                let (slip, reviewed) = (v.slip[i], v.reviewed[i]);
                tally.each(group, window.bucket(t), |c, whole| {
                    let c = &mut c.delivery;
                    let planned = !slip.is_nan();
                    match pass {
                        Pass::Count => {
                            c.delivered += 1;
                            c.reviewed += u64::from(reviewed);
                            c.planned += u64::from(planned);
                            c.on_time += u64::from(planned && slip <= 0.0);
                            if planned && whole {
                                c.slips.count(slip);
                            }
                        }
                        Pass::Keep if planned && whole => c.slips.keep(slip),
                        Pass::Keep => {}
                    }
                });
            }
            if pass == Pass::Count {
                tally.all().for_each(|c| c.delivery.slips.plan());
            }
        }
    }

    fn gates(&self, tally: &mut Tally, g: &Gates) {
        for i in 0..g.time.len() {
            if !self.window.contains(g.time[i]) {
                continue;
            }
            let Some(group) = self.scope.release_group(g.release[i]) else {
                continue;
            };
            let passed = g.passed[i];
            tally.each_but_window(group, None, |c, _| {
                c.gates += 1;
                c.gates_passed += u64::from(passed);
            });
        }
    }

    fn actions(&self, tally: &mut Tally, a: &Actions, q: &Query) {
        let to_date = q.to.div_euclid(DAY);
        for i in 0..a.created.len() {
            let Some(group) = self.scope.release_group(a.release[i]) else {
                continue;
            };
            let closed = a.closed[i];
            let open = a.created[i] < q.to && (closed == NONE || closed >= q.to);
            let overdue = open && a.due[i] != NONE && a.due[i] < to_date;
            let closed_in_window = closed != NONE && self.window.contains(closed);
            tally.each_but_window(group, None, |c, _| {
                c.actions_open += u64::from(open);
                c.actions_overdue += u64::from(overdue);
                c.actions_closed += u64::from(closed_in_window);
            });
        }
    }

    /// Freeze overrides and unplanned deliveries (production deployments count in
    /// [`Frame::deploys`]).
    fn compliance(&self, tally: &mut Tally, overrides: &Stamps, u: &UnplannedRows) {
        let window = self.window;
        let o = overrides;
        for i in 0..o.time.len() {
            let t = o.time[i];
            if !window.contains(t) {
                continue;
            }
            if let Some(group) = self.scope.release_group(o.release[i]) {
                tally.each_but_window(group, window.bucket(t), |c, _| c.compliance.overrides += 1);
            }
        }
        for i in 0..u.time.len() {
            let t = u.time[i];
            if !window.contains(t) {
                continue;
            }
            if let Some(group) = self.scope.program_group(u.program[i]) {
                tally.each_but_window(group, window.bucket(t), |c, _| c.compliance.unplanned += 1);
            }
        }
    }
}

/// Every figure of metrics.md for `q` over the derived rows.
pub fn compute(numbering: &Numbering, shared: &Shared, derived: &Derived, q: &Query) -> Metrics {
    let scope = Scope::new(numbering, shared, q);
    let window = Window::new(q.from, q.to, q.granularity);
    let frame = Frame {
        scope: &scope,
        window: &window,
        severities: q.severities,
    };
    let severities = q.severities.mask();
    let restores = &shared.restores;
    let new_tally = || Tally::new(q.programs.len(), window.buckets.len(), q.program_trends);
    // The families of rows are independent; each is counted by one of two threads, about
    // half the work each (by profile), and the two tallies are added up.
    let (mut tally, other) = std::thread::scope(|threads| {
        let other = threads.spawn(|| {
            let mut tally = new_tally();
            frame.durations(&mut tally, &derived.leads, |_| true, |c| &mut c.leads);
            frame.durations(
                &mut tally,
                &restores.hours,
                |i| restores.severity[i] & severities != 0,
                |c| &mut c.restores,
            );
            frame.gates(&mut tally, &shared.gates);
            frame.compliance(&mut tally, &shared.overrides, &derived.unplanned);
            tally
        });
        let mut tally = new_tally();
        frame.deploys(&mut tally, &derived.deploys);
        frame.delivered(&mut tally, &derived.delivered);
        frame.actions(&mut tally, &shared.actions, q);
        (tally, other.join())
    });
    match other {
        Ok(other) => tally.absorb(other),
        // The caller runs this on tokio's blocking pool, which turns a panic into an error.
        Err(panic) => std::panic::resume_unwind(panic),
    }
    tally.sum_programs();

    let days = window_days(q.from, q.to);
    let w = &tally.window;
    let b = &q.benchmark;
    let deployment_frequency = w.deployment_frequency(days, b);
    Metrics {
        from: q.from,
        to: q.to,
        deployment_frequency,
        lead_time: w.lead_time(b),
        change_failure_rate: w.change_failure_rate(b),
        time_to_restore: w.time_to_restore(b),
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
                deployment_frequency: c.deployment_frequency(days, b),
                lead_time: c.lead_time(b),
                change_failure_rate: c.change_failure_rate(b),
                time_to_restore: c.time_to_restore(b),
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
            lead_time_median_hours: c.leads.percentile(0.5),
            time_to_restore_median_hours: c.restores.percentile(0.5),
            releases_delivered: c.delivery.delivered,
            on_time_rate: rate(c.delivery.on_time, c.delivery.planned),
            unplanned_deployments: c.compliance.unplanned,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statistics straight from sorted values, the way metrics.md defines them.
    fn direct(sorted: &[f64]) -> DurationStats {
        let at = |rank: usize| sorted[rank];
        DurationStats {
            count: sorted.len() as u64,
            mean: Some(sorted.iter().sum::<f64>() / sorted.len() as f64),
            median: percentile_of(sorted.len(), 0.5, at),
            p90: percentile_of(sorted.len(), 0.9, at),
            p95: percentile_of(sorted.len(), 0.95, at),
            min: sorted.first().copied(),
            max: sorted.last().copied(),
        }
    }

    #[test]
    fn a_sample_keeps_exactly_what_its_statistics_read() {
        assert_eq!(Sample::default().stats(), DurationStats::default());
        for n in 1..=60 {
            let sorted: Vec<f64> = (0..n).map(|i| (i * i) as f64 / 7.0).collect();
            let mut sample = Sample::default();
            sorted.iter().for_each(|v| sample.count(*v));
            sample.plan();
            sorted.iter().for_each(|v| sample.keep(*v));
            assert_eq!(sample.stats(), direct(&sorted), "n = {n}");
        }
    }
}
