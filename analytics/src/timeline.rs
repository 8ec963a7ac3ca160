//! The derived rows of the production tier ordered by time, for figures over windows that
//! start anywhere (an improvement's before and after): how many rows of a kind a window
//! holds is two binary searches in prefix counts, and a median over many programs is found
//! by counting instead of collecting. Built once per version of the store.

use std::ops::Range;

use crate::derive::{Derived, FLAG_COUNTED, FLAG_EMERGENCY, FLAG_SUCCEEDED, failed};
use crate::index::Numbering;
use crate::model::Severities;
use crate::rules::percentile_of;
use crate::shared::Shared;

/// Rows sorted by time, with how many rows before each position have each of `K` flags.
pub struct Timeline<const K: usize> {
    time: Vec<i64>,
    /// `prefix[k][i]`: rows before `i` with flag `k`; one longer than `time`.
    prefix: [Vec<u32>; K],
}

impl<const K: usize> Timeline<K> {
    fn new(mut rows: Vec<(i64, [bool; K])>) -> Self {
        rows.sort_by_key(|(time, _)| *time);
        let mut prefix: [Vec<u32>; K] = std::array::from_fn(|_| Vec::with_capacity(rows.len() + 1));
        for (k, column) in prefix.iter_mut().enumerate() {
            let mut n = 0;
            column.push(0);
            for (_, flags) in &rows {
                n += u32::from(flags[k]);
                column.push(n);
            }
        }
        Self {
            time: rows.into_iter().map(|(time, _)| time).collect(),
            prefix,
        }
    }

    /// The positions of rows with a time in `[from, to)`.
    pub fn range(&self, from: i64, to: i64) -> Range<usize> {
        self.time.partition_point(|t| *t < from)..self.time.partition_point(|t| *t < to)
    }

    /// Rows in `[from, to)`, and of those the ones with each flag.
    pub fn count(&self, from: i64, to: i64) -> (u64, [u64; K]) {
        let r = self.range(from, to);
        let flagged =
            std::array::from_fn(|k| u64::from(self.prefix[k][r.end] - self.prefix[k][r.start]));
        ((r.end - r.start) as u64, flagged)
    }

    /// Times of the rows in `[from, to)` with flag `k`.
    pub fn times(&self, from: i64, to: i64, k: usize) -> impl Iterator<Item = i64> + '_ {
        let r = self.range(from, to);
        let prefix = &self.prefix[k];
        r.filter(move |i| prefix[i + 1] > prefix[*i])
            .map(|i| self.time[i])
    }
}

/// A kind of rows for the whole organisation and for each program (by program number).
pub struct Stream<const K: usize> {
    pub all: Timeline<K>,
    pub programs: Vec<Timeline<K>>,
}

impl<const K: usize> Stream<K> {
    fn new(rows: Vec<(u32, i64, [bool; K])>, programs: usize) -> Self {
        let mut by_program: Vec<Vec<(i64, [bool; K])>> =
            (0..programs).map(|_| Vec::new()).collect();
        for (program, time, flags) in &rows {
            if let Some(own) = by_program.get_mut(*program as usize) {
                own.push((*time, *flags));
            }
        }
        Self {
            all: Timeline::new(rows.into_iter().map(|(_, t, f)| (t, f)).collect()),
            programs: by_program.into_iter().map(Timeline::new).collect(),
        }
    }

    /// Rows in `[from, to)` of `programs`, and of those the ones with each flag.
    pub fn count(&self, programs: &Programs, from: i64, to: i64) -> (u64, [u64; K]) {
        let add = |(n, f): (u64, [u64; K]), (m, g): (u64, [u64; K])| {
            (n + m, std::array::from_fn(|k| f[k] + g[k]))
        };
        let of = |numbers: &[u32]| {
            numbers
                .iter()
                .filter_map(|p| self.programs.get(*p as usize))
                .map(|t| t.count(from, to))
                .fold((0, [0; K]), add)
        };
        match programs {
            Programs::Only(numbers) => of(numbers),
            Programs::AllBut(numbers) => {
                let (n, f) = self.all.count(from, to);
                let (m, g) = of(numbers);
                (n - m, std::array::from_fn(|k| f[k] - g[k]))
            }
        }
    }
}

/// Which programs a figure covers, written the shorter way.
pub enum Programs {
    Only(Vec<u32>),
    AllBut(Vec<u32>),
}

/// Durations (lead or restore times) by the time that places each in a window.
pub struct Durations {
    /// Every value, ascending: the candidates of a median search.
    sorted: Vec<f64>,
    /// Every value in the order of its time.
    by_time: Timeline<0>,
    values: Vec<f64>,
    /// `values` cut into blocks of [`BLOCK`], each sorted, so that a window's values at most
    /// a candidate are counted a block at a time.
    blocks: Vec<Vec<f64>>,
    /// Each program's values in the order of their time.
    programs: Vec<(Timeline<0>, Vec<f64>)>,
}

const BLOCK: usize = 1024;

/// A window's values: whole blocks, each sorted, and the rest, sorted.
struct Window<'a> {
    blocks: &'a [Vec<f64>],
    rest: Vec<f64>,
}

impl Window<'_> {
    /// How many of the values are at most `v`.
    fn at_most(&self, v: f64) -> usize {
        let below = |sorted: &[f64]| sorted.partition_point(|x| *x <= v);
        self.blocks.iter().map(|b| below(b)).sum::<usize>() + below(&self.rest)
    }
}

fn by_time(mut rows: Vec<(i64, f64)>) -> (Timeline<0>, Vec<f64>) {
    rows.sort_by_key(|(time, _)| *time);
    let values = rows.iter().map(|(_, v)| *v).collect();
    (
        Timeline::new(rows.into_iter().map(|(t, _)| (t, [])).collect()),
        values,
    )
}

impl Durations {
    fn new(rows: Vec<(u32, i64, f64)>, programs: usize) -> Self {
        let mut sorted: Vec<f64> = rows.iter().map(|(_, _, v)| *v).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut own: Vec<Vec<(i64, f64)>> = (0..programs).map(|_| Vec::new()).collect();
        for (program, time, value) in &rows {
            if let Some(own) = own.get_mut(*program as usize) {
                own.push((*time, *value));
            }
        }
        let (timeline, values) = by_time(rows.into_iter().map(|(_, t, v)| (t, v)).collect());
        let blocks = values
            .chunks(BLOCK)
            .map(|block| {
                let mut block = block.to_vec();
                block.sort_unstable_by(f64::total_cmp);
                block
            })
            .collect();
        Self {
            sorted,
            by_time: timeline,
            values,
            blocks,
            programs: own.into_iter().map(by_time).collect(),
        }
    }

    /// One program's values in `[from, to)`, ascending.
    pub fn of_program(&self, program: u32, from: i64, to: i64) -> Vec<f64> {
        let Some((timeline, values)) = self.programs.get(program as usize) else {
            return Vec::new();
        };
        let mut window = values[timeline.range(from, to)].to_vec();
        window.sort_unstable_by(f64::total_cmp);
        window
    }

    /// The values in positions `range`, as the whole blocks it covers and its other values
    /// sorted.
    fn window(&self, range: Range<usize>) -> Window<'_> {
        let first = range.start.div_ceil(BLOCK);
        let last = (range.end / BLOCK).max(first);
        let whole = first * BLOCK..(last * BLOCK).min(range.end).max(first * BLOCK);
        let mut rest: Vec<f64> = if whole.is_empty() {
            self.values[range].to_vec()
        } else {
            let (head, tail) = (range.start..whole.start, whole.end..range.end);
            self.values[head]
                .iter()
                .chain(&self.values[tail])
                .copied()
                .collect()
        };
        rest.sort_unstable_by(f64::total_cmp);
        let blocks = if whole.is_empty() {
            &[][..]
        } else {
            &self.blocks[first..last]
        };
        Window { blocks, rest }
    }

    /// The median of the values in `[from, to)` of `programs` (metrics.md, *Percentiles*),
    /// with how many values it rests on.
    pub fn median(&self, programs: &Programs, from: i64, to: i64) -> (Option<f64>, u64) {
        match programs {
            Programs::Only(numbers) => {
                let mut values: Vec<f64> = numbers
                    .iter()
                    .flat_map(|p| self.of_program(*p, from, to))
                    .collect();
                values.sort_unstable_by(f64::total_cmp);
                (
                    percentile_of(values.len(), 0.5, |r| values[r]),
                    values.len() as u64,
                )
            }
            Programs::AllBut(excluded) => {
                let range = self.by_time.range(from, to);
                let n = range.len();
                let window = self.window(range);
                let left_out: Vec<Vec<f64>> = excluded
                    .iter()
                    .map(|p| self.of_program(*p, from, to))
                    .collect();
                let n = n - left_out.iter().map(Vec::len).sum::<usize>();
                // The value at `rank` is the smallest candidate with more than `rank`
                // values at most it.
                let at = |rank: usize| {
                    let below = |v: f64| {
                        window.at_most(v)
                            - left_out
                                .iter()
                                .map(|own| own.partition_point(|x| *x <= v))
                                .sum::<usize>()
                    };
                    let found = self.sorted.partition_point(|v| below(*v) <= rank);
                    self.sorted.get(found).copied().unwrap_or(f64::NAN)
                };
                (percentile_of(n, 0.5, at), n as u64)
            }
        }
    }
}

/// Deployments: succeeded, rework, counted, failed (by any incident).
pub const SUCCEEDED: usize = 0;
pub const REWORK: usize = 1;
pub const COUNTED: usize = 2;
pub const FAILED: usize = 3;
/// Deliveries: with a plannedEnd, on time.
pub const PLANNED: usize = 0;
pub const ON_TIME: usize = 1;

/// Every kind of row an improvement's figures count, production tier, all severities.
pub struct Timelines {
    /// Production deployments (all of them: compliance's count).
    pub deploys: Stream<4>,
    pub delivered: Stream<2>,
    /// Gates' first results, flagged when passed.
    pub gates: Stream<1>,
    pub unplanned: Stream<0>,
    pub leads: Durations,
    pub restores: Durations,
}

impl Timelines {
    /// Built from what the production tier's queries start from.
    pub fn new(numbering: &Numbering, shared: &Shared, derived: &Derived) -> Self {
        let programs = numbering.programs.len();
        let program_of = numbering.release_programs();
        let program = |release: u32| {
            program_of
                .get(release as usize)
                .copied()
                .unwrap_or(u32::MAX)
        };
        let d = &derived.deploys;
        let deploys = (0..d.time.len())
            .map(|i| {
                let f = d.flags[i];
                let succeeded = f & FLAG_SUCCEEDED != 0;
                let counted = f & FLAG_COUNTED != 0;
                (
                    program(d.release[i]),
                    d.time[i],
                    [
                        succeeded,
                        succeeded && f & FLAG_EMERGENCY != 0,
                        counted,
                        counted && failed(f, Severities::ALL),
                    ],
                )
            })
            .collect();
        let v = &derived.delivered;
        let delivered = (0..v.time.len())
            .map(|i| {
                let planned = !v.slip[i].is_nan();
                (
                    v.program[i],
                    v.time[i],
                    [planned, planned && v.slip[i] <= 0.0],
                )
            })
            .collect();
        let g = &shared.gates;
        let gates = (0..g.time.len())
            .map(|i| (program(g.release[i]), g.time[i], [g.passed[i]]))
            .collect();
        let u = &derived.unplanned;
        let unplanned = (0..u.time.len())
            .map(|i| (u.program[i], u.time[i], []))
            .collect();
        let durations = |v: &crate::derive::Values| {
            (0..v.time.len())
                .map(|i| (v.program[i], v.time[i], v.value[i]))
                .collect()
        };
        Self {
            deploys: Stream::new(deploys, programs),
            delivered: Stream::new(delivered, programs),
            gates: Stream::new(gates, programs),
            unplanned: Stream::new(unplanned, programs),
            leads: Durations::new(durations(&derived.leads), programs),
            restores: Durations::new(durations(&shared.restores.hours), programs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_median_over_all_but_some_programs_is_the_median_of_the_rest() {
        // Values of three programs at times 0..300; windows that cut blocks anywhere.
        let rows: Vec<(u32, i64, f64)> = (0..3000)
            .map(|i: i64| ((i % 3) as u32, i / 10, ((i * 7919) % 1013) as f64 / 3.0))
            .collect();
        let d = Durations::new(rows.clone(), 3);
        for (from, to) in [(0, 300), (7, 211), (100, 101), (250, 260), (5, 5)] {
            for excluded in [vec![], vec![1], vec![0, 2]] {
                let mut expected: Vec<f64> = rows
                    .iter()
                    .filter(|(p, t, _)| *t >= from && *t < to && !excluded.contains(p))
                    .map(|(_, _, v)| *v)
                    .collect();
                expected.sort_unstable_by(f64::total_cmp);
                let want = percentile_of(expected.len(), 0.5, |r| expected[r]);
                let got = d.median(&Programs::AllBut(excluded.clone()), from, to);
                assert_eq!(
                    got,
                    (want, expected.len() as u64),
                    "{from}..{to} but {excluded:?}"
                );
                let only: Vec<u32> = (0..3).filter(|p| !excluded.contains(p)).collect();
                assert_eq!(d.median(&Programs::Only(only), from, to), got);
            }
        }
    }

    #[test]
    fn counts_over_programs_add_up_either_way() {
        let rows: Vec<(u32, i64, [bool; 1])> = (0..500)
            .map(|i: i64| ((i % 4) as u32, i, [i % 3 == 0]))
            .collect();
        let s = Stream::new(rows, 4);
        assert_eq!(
            s.count(&Programs::AllBut(vec![0]), 10, 400),
            s.count(&Programs::Only(vec![1, 2, 3]), 10, 400)
        );
        assert_eq!(s.count(&Programs::Only(vec![]), 0, 500), (0, [0]));
        assert_eq!(s.count(&Programs::AllBut(vec![]), 0, 500), (500, [167]));
        let times: Vec<i64> = s.programs[1].times(0, 20, 0).collect();
        assert_eq!(times, [9]);
    }
}
