//! What queries over a set of tiers start from, derived once per set and patched as data
//! changes: the production deployments with their flags (counted, failed, ingested), each
//! release's delivery, and lead times sorted by value, so that a query needs one pass and
//! no sorting. polars filters the frames; the group-bys and joins of a million rows (first
//! delivery of each release, lead times) are single passes over dense slots, several times
//! faster than polars' hash group-bys on two cores. What no set of tiers changes is in
//! [`crate::shared`].

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use crate::frames::{FAILED, Frames, ROLLED_BACK, SUCCEEDED, set, status_of, tier_status_codes};
use crate::index::{ById, NO_PROGRAM, NO_RELEASE, Slots};
use crate::model::{Coded, Severities, Severity};

/// Marks a missing time or date in derived columns.
pub const NONE: i64 = i64::MIN;

pub const FLAG_SUCCEEDED: u16 = 1;
/// FAILED or ROLLED_BACK: failed whatever incidents say.
pub const FLAG_STATUS_FAILED: u16 = 2;
pub const FLAG_ROLLED_BACK: u16 = 4;
pub const FLAG_EMERGENCY: u16 = 8;
/// Counted by the DORA figures: SUCCEEDED, FAILED or ROLLED_BACK. The other flags but
/// emergency and ingested are only set on counted rows.
pub const FLAG_COUNTED: u16 = 16;
pub const FLAG_INGESTED: u16 = 32;
/// Above the flags, a bit per severity (by its code) of the change-caused incidents
/// attributed to a counted deployment, so that a query chooses which severities fail it.
const INCIDENT_SHIFT: u32 = 6;

/// Whether a counted deployment with `flags` is failed when incidents of `severities`
/// count (metrics.md, change failure rate and *Incident severities*).
pub fn failed(flags: u16, severities: Severities) -> bool {
    flags & FLAG_STATUS_FAILED != 0 || (flags >> INCIDENT_SHIFT) as u8 & severities.mask() != 0
}

/// Production deployments: non-rollback deployments to the tiers with finishedAt, any
/// status. One set of rows serves the DORA figures (those flagged counted) and compliance
/// (all of them), so a query makes one pass over them.
///
/// Rows hold releases and programs by number ([`crate::index::Numbering`]). Rows in the
/// order of their table (these, gates, actions, overrides) find their program through
/// their release: neighbours share releases, so the lookups stay in cache. Rows sorted by
/// value (lead times, deliveries, restores) hold their program too: their releases come in
/// no order, and a lookup per row in a table of millions of releases cost a query at ten
/// million deployments five times its time.
#[derive(Default, Clone)]
pub struct Deploys {
    pub time: Vec<i64>,
    pub release: Vec<u32>,
    pub flags: Vec<u16>,
}

/// Durations, sorted by value, with the time that places each in a window. Lead times are
/// replaced by their release; restores carry their incident beside them.
#[derive(Default, Clone)]
pub struct Values {
    pub time: Vec<i64>,
    pub program: Vec<u32>,
    /// The release, or [`NO_RELEASE`].
    pub release: Vec<u32>,
    pub value: Vec<f64>,
}

/// Releases at their delivery, sorted by slippage (releases without a plan last).
#[derive(Default, Clone)]
pub struct Delivered {
    pub time: Vec<i64>,
    pub program: Vec<u32>,
    pub release: Vec<u32>,
    /// Days late (negative: early); NaN without plannedEnd.
    pub slip: Vec<f64>,
    pub reviewed: Vec<bool>,
}

/// Unplanned deliveries to the tiers, by delivery.
#[derive(Default, Clone)]
pub struct UnplannedRows {
    pub delivery: Vec<i64>,
    pub time: Vec<i64>,
    pub program: Vec<u32>,
}

#[derive(Clone)]
pub struct Derived {
    pub deploys: Deploys,
    pub leads: Values,
    pub delivered: Delivered,
    pub unplanned: UnplannedRows,
}

fn i64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    Ok(df
        .column(name)?
        .i64()?
        .iter()
        .map(|v| v.unwrap_or(NONE))
        .collect())
}

/// Program or release numbers, `null` for a null.
fn u32s(df: &DataFrame, name: &str, null: u32) -> PolarsResult<Vec<u32>> {
    Ok(df
        .column(name)?
        .u32()?
        .iter()
        .map(|v| v.unwrap_or(null))
        .collect())
}

fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<bool>> {
    Ok(df
        .column(name)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// Deployments failed by change-caused incidents, with the severities of those incidents
/// as [`Severities`] bits: the deployment an incident names, or else the latest counted
/// production deployment of its release finished by the time it opened.
fn failed_by_incidents(
    p: &ProductionRows,
    incidents: &DataFrame,
) -> PolarsResult<HashMap<i64, u8>> {
    let caused = incidents
        .clone()
        .lazy()
        .filter(col("caused_by_change"))
        .collect()?;
    let named = i64s(&caused, "deployment")?;
    let releases = u32s(&caused, "release", NO_RELEASE)?;
    let opened = i64s(&caused, "opened_at")?;
    let severity: Vec<u8> = i32s(&caused, "severity")?
        .into_iter()
        .map(|code| Severity::from_code(code).map_or(0, Severities::bit))
        .collect();
    let mut failed: HashMap<i64, u8> = HashMap::new();
    let mut fail = |deployment: i64, bit: u8| *failed.entry(deployment).or_default() |= bit;
    for (d, bit) in named.iter().zip(&severity) {
        if *d != NONE {
            fail(*d, *bit);
        }
    }
    let through_release: Vec<(u32, i64, u8)> = named
        .iter()
        .zip(&releases)
        .zip(&opened)
        .zip(&severity)
        .filter(|(((d, r), _), _)| **d == NONE && **r != NO_RELEASE)
        .map(|(((_, r), o), s)| (*r, *o, *s))
        .collect();
    if through_release.is_empty() {
        return Ok(failed);
    }
    let wanted: HashSet<u32> = through_release.iter().map(|(r, _, _)| *r).collect();
    let mut by_release: HashMap<u32, Vec<(i64, i64)>> = HashMap::new();
    for row in 0..p.id.len() {
        if p.counted(row) && wanted.contains(&p.release[row]) {
            let candidates = by_release.entry(p.release[row]).or_default();
            candidates.push((p.time[row], p.id[row]));
        }
    }
    for list in by_release.values_mut() {
        list.sort_unstable();
    }
    for (release, opened_at, bit) in through_release {
        if let Some(list) = by_release.get(&release) {
            let finished_by = list.partition_point(|(f, _)| *f <= opened_at);
            if finished_by > 0 {
                fail(list[finished_by - 1].1, bit);
            }
        }
    }
    Ok(failed)
}

fn i32s(df: &DataFrame, name: &str) -> PolarsResult<Vec<i32>> {
    Ok(df
        .column(name)?
        .i32()?
        .iter()
        .map(|v| v.unwrap_or_default())
        .collect())
}

/// The order that sorts `keys` ascending, NaN last.
pub(crate) fn order_by(keys: &[f64]) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by(|a, b| key(keys[*a]).total_cmp(&key(keys[*b])));
    order
}

pub(crate) fn reorder<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
    order.iter().map(|i| values[*i]).collect()
}

/// The production deployments as columns.
struct ProductionRows {
    id: Vec<i64>,
    release: Vec<u32>,
    time: Vec<i64>,
    status: Vec<i32>,
    emergency: Vec<bool>,
    ingested: Vec<bool>,
}

impl ProductionRows {
    fn counted(&self, row: usize) -> bool {
        matches!(self.status[row], SUCCEEDED | FAILED | ROLLED_BACK)
    }

    fn flags(&self, failed: &HashMap<i64, u8>) -> Vec<u16> {
        (0..self.id.len())
            .map(|i| {
                let status = self.status[i];
                let mut flags = 0;
                if self.emergency[i] {
                    flags |= FLAG_EMERGENCY;
                }
                if self.ingested[i] {
                    flags |= FLAG_INGESTED;
                }
                if self.counted(i) {
                    flags |= FLAG_COUNTED;
                    if status == SUCCEEDED {
                        flags |= FLAG_SUCCEEDED;
                    }
                    if status != SUCCEEDED {
                        flags |= FLAG_STATUS_FAILED;
                    }
                    if let Some(severities) = failed.get(&self.id[i]) {
                        flags |= u16::from(*severities) << INCIDENT_SHIFT;
                    }
                    if status == ROLLED_BACK {
                        flags |= FLAG_ROLLED_BACK;
                    }
                }
                flags
            })
            .collect()
    }
}

/// Delivered at: each release's first SUCCEEDED production deployment, with its slippage
/// against plannedEnd and whether it was reviewed; sorted by slippage (unplanned last).
fn delivered(c: &ProductionRows, f: &Frames, programs: &[u32]) -> PolarsResult<Delivered> {
    let slots = Slots::new(&c.release);
    let mut first: Vec<Option<usize>> = vec![None; slots.len()];
    for row in 0..c.id.len() {
        if c.status[row] != SUCCEEDED {
            continue;
        }
        if let Some(slot) = slots.of(c.release[row]) {
            let earlier = first[slot].is_none_or(|best| c.time[row] < c.time[best]);
            if earlier {
                first[slot] = Some(row);
            }
        }
    }
    let planned_end = ById::new(
        &u32s(&f.releases, "release", NO_RELEASE)?,
        i64s(&f.releases, "planned_end")?.into_iter(),
    );
    let reviewed: HashSet<u32> = u32s(&f.outcomes, "release", NO_RELEASE)?
        .into_iter()
        .collect();
    let mut d = Delivered::default();
    for row in first.into_iter().flatten() {
        let release = c.release[row];
        d.time.push(c.time[row]);
        d.program.push(
            programs
                .get(release as usize)
                .copied()
                .unwrap_or(NO_PROGRAM),
        );
        d.release.push(release);
        d.slip.push(match planned_end.get(release) {
            Some(end) if end != NONE => (c.time[row] - end) as f64 / 86_400_000_000.0,
            _ => f64::NAN,
        });
        d.reviewed.push(reviewed.contains(&release));
    }
    let order = order_by(&d.slip);
    Ok(Delivered {
        time: reorder(&d.time, &order),
        program: reorder(&d.program, &order),
        release: reorder(&d.release, &order),
        slip: reorder(&d.slip, &order),
        reviewed: reorder(&d.reviewed, &order),
    })
}

/// Lead times: every item with committedAt of a delivered release, in hours from the
/// commit to the delivery (negative ones left out), sorted.
fn leads(f: &Frames, delivered: &Delivered) -> PolarsResult<Values> {
    let delivery = ById::new(
        &delivered.release,
        delivered
            .time
            .iter()
            .copied()
            .zip(delivered.program.iter().copied()),
    );
    let releases = u32s(&f.items, "release", NO_RELEASE)?;
    let committed = i64s(&f.items, "committed_at")?;
    let mut v = Values::default();
    for i in 0..releases.len() {
        if committed[i] == NONE {
            continue;
        }
        let Some((at, program)) = delivery.get(releases[i]) else {
            continue;
        };
        let hours = (at - committed[i]) as f64 / 3_600_000_000.0;
        if hours >= 0.0 {
            v.time.push(at);
            v.program.push(program);
            v.release.push(releases[i]);
            v.value.push(hours);
        }
    }
    Ok(v.sorted())
}

/// What queries over `tiers` start from; `programs` is the program number of each release
/// number ([`crate::index::Numbering::release_programs`]).
pub fn derive(f: &Frames, programs: &[u32], tiers: &[i32]) -> PolarsResult<Derived> {
    let production = f
        .deployments
        .clone()
        .lazy()
        .filter(
            col("tier_status")
                .is_in(set(&tier_status_codes(tiers)), false)
                .and(col("rollback").not())
                .and(col("finished_at").is_not_null()),
        )
        .select([
            col("id"),
            col("release"),
            col("finished_at"),
            col("tier_status"),
            col("emergency"),
            col("ingested"),
        ]);
    let unplanned = f
        .unplanned
        .clone()
        .lazy()
        .filter(col("tier").is_in(set(tiers), false))
        .select([col("id"), col("received_at"), col("program")]);
    let frames = [production, unplanned];
    let [production, unplanned]: [DataFrame; 2] = LazyFrame::collect_all_with_engine(
        frames.iter().map(|f| f.logical_plan.clone()).collect(),
        Engine::InMemory,
        OptFlags::default(),
    )?
    .try_into()
    .map_err(|_| polars_err!(ComputeError: "a derivation lost one of its frames"))?;

    let p = ProductionRows {
        id: i64s(&production, "id")?,
        release: u32s(&production, "release", NO_RELEASE)?,
        time: i64s(&production, "finished_at")?,
        status: i32s(&production, "tier_status")?
            .into_iter()
            .map(status_of)
            .collect(),
        emergency: bools(&production, "emergency")?,
        ingested: bools(&production, "ingested")?,
    };
    drop(production);
    let failed = failed_by_incidents(&p, &f.incidents)?;
    let delivered = delivered(&p, f, programs)?;
    let leads = leads(f, &delivered)?;
    let deploys = Deploys {
        flags: p.flags(&failed),
        time: p.time,
        release: p.release,
    };

    Ok(Derived {
        deploys,
        leads,
        delivered,
        unplanned: UnplannedRows {
            delivery: i64s(&unplanned, "id")?,
            time: i64s(&unplanned, "received_at")?,
            program: u32s(&unplanned, "program", NO_PROGRAM)?,
        },
    })
}

/// Bytes a column holds on the heap.
pub(crate) fn bytes<T>(column: &Vec<T>) -> usize {
    column.capacity() * size_of::<T>()
}

/// The bytes of the named columns of a set of rows.
macro_rules! heap {
    ($rows:expr, [$($column:ident),+]) => { 0 $(+ crate::derive::bytes(&$rows.$column))+ };
}
pub(crate) use heap;

impl Derived {
    /// Bytes these rows hold on the heap.
    pub fn heap_bytes(&self) -> usize {
        heap!(self.deploys, [time, release, flags])
            + self.leads.heap_bytes()
            + heap!(self.delivered, [time, program, release, slip, reviewed])
            + heap!(self.unplanned, [delivery, time, program])
    }
}

/// Keys (release numbers, incident or delivery ids) whose rows are replaced: usually a
/// release or two, so a short list beats hashing.
pub(crate) enum Gone<K> {
    Few(Vec<K>),
    Many(HashSet<K>),
}

impl<K: Copy + Eq + std::hash::Hash> Gone<K> {
    pub(crate) fn new(keys: impl IntoIterator<Item = K>) -> Self {
        let keys: Vec<K> = keys.into_iter().collect();
        if keys.len() <= 16 {
            Self::Few(keys)
        } else {
            Self::Many(keys.into_iter().collect())
        }
    }

    pub(crate) fn contains(&self, key: &K) -> bool {
        match self {
            Self::Few(keys) => keys.contains(key),
            Self::Many(keys) => keys.contains(key),
        }
    }
}

/// Keeps the rows whose `key` is not in `gone`, in order.
pub(crate) fn keep<T: Copy, K: Copy + Eq + std::hash::Hash>(
    column: &mut Vec<T>,
    keys: &[K],
    gone: &Gone<K>,
) {
    let mut i = 0;
    column.retain(|_| {
        let kept = !gone.contains(&keys[i]);
        i += 1;
        kept
    });
}

/// Makes room for `additional` more rows, growing by a sliver rather than doubling: these
/// columns hold millions of rows, a write adds a few, and doubling would leave up to half
/// of each unused.
pub(crate) fn make_room<T>(column: &mut Vec<T>, additional: usize) {
    if column.capacity() - column.len() < additional {
        column.reserve_exact(additional + column.len() / 64);
    }
}

/// Merges two lists of row indices sorted by `value` (NaN last): `(from_new, index)` pairs.
fn merge_order(old: &[f64], new: &[f64]) -> Vec<(bool, usize)> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    let (mut i, mut j) = (0, 0);
    let mut order = Vec::with_capacity(old.len() + new.len());
    while i < old.len() || j < new.len() {
        let take_new = j < new.len() && (i == old.len() || key(new[j]) < key(old[i]));
        order.push(if take_new { (true, j) } else { (false, i) });
        if take_new { j += 1 } else { i += 1 }
    }
    order
}

pub(crate) fn merged<T: Copy>(order: &[(bool, usize)], old: &[T], new: &[T]) -> Vec<T> {
    order
        .iter()
        .map(|(from_new, i)| if *from_new { new[*i] } else { old[*i] })
        .collect()
}

/// Replaces the rows of `$target` whose `$key` is `$gone` by the rows of `$fresh`.
macro_rules! unordered {
    ($target:expr, $fresh:expr, $gone:expr, $key:ident, [$($column:ident),+]) => {{
        let keys = $target.$key.clone();
        $( crate::derive::keep(&mut $target.$column, &keys, $gone); )+
        $(
            crate::derive::make_room(&mut $target.$column, $fresh.$column.len());
            $target.$column.extend_from_slice(&$fresh.$column);
        )+
    }};
}
pub(crate) use unordered;

impl Values {
    /// The rows sorted by value (NaN last).
    pub(crate) fn sorted(self) -> Self {
        self.reordered(&order_by(&self.value))
    }

    /// The rows in `order`.
    pub(crate) fn reordered(&self, order: &[usize]) -> Self {
        Self {
            time: reorder(&self.time, order),
            program: reorder(&self.program, order),
            release: reorder(&self.release, order),
            value: reorder(&self.value, order),
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        heap!(self, [time, program, release, value])
    }

    /// Replaces the rows whose key (one per row, in `keys`) is `gone` by `fresh`, keeping
    /// the order by value; returns how the kept rows and `fresh` were merged, for a column
    /// kept beside these.
    pub(crate) fn splice<K: Copy + Eq + std::hash::Hash>(
        &mut self,
        keys: &[K],
        fresh: &Values,
        gone: &Gone<K>,
    ) -> Vec<(bool, usize)> {
        keep(&mut self.time, keys, gone);
        keep(&mut self.program, keys, gone);
        keep(&mut self.release, keys, gone);
        keep(&mut self.value, keys, gone);
        let order = merge_order(&self.value, &fresh.value);
        self.time = merged(&order, &self.time, &fresh.time);
        self.program = merged(&order, &self.program, &fresh.program);
        self.release = merged(&order, &self.release, &fresh.release);
        self.value = merged(&order, &self.value, &fresh.value);
        order
    }
}

impl Delivered {
    fn splice(&mut self, fresh: &Delivered, gone: &Gone<u32>) {
        let keys = self.release.clone();
        keep(&mut self.time, &keys, gone);
        keep(&mut self.program, &keys, gone);
        keep(&mut self.slip, &keys, gone);
        keep(&mut self.reviewed, &keys, gone);
        keep(&mut self.release, &keys, gone);
        let order = merge_order(&self.slip, &fresh.slip);
        self.time = merged(&order, &self.time, &fresh.time);
        self.program = merged(&order, &self.program, &fresh.program);
        self.release = merged(&order, &self.release, &fresh.release);
        self.reviewed = merged(&order, &self.reviewed, &fresh.reviewed);
        self.slip = merged(&order, &self.slip, &fresh.slip);
    }
}

impl Derived {
    /// Replaces what belongs to `releases` and the `deliveries` by `fresh`, derived from
    /// exactly their current rows; the cost is a pass over the rows, not a new derivation.
    pub fn splice(&mut self, releases: &[u32], deliveries: &[i64], fresh: &Derived) {
        let gone = Gone::new(releases.iter().copied());
        let deliveries = Gone::new(deliveries.iter().copied());
        unordered!(
            self.unplanned,
            fresh.unplanned,
            &deliveries,
            delivery,
            [time, program, delivery]
        );
        unordered!(
            self.deploys,
            fresh.deploys,
            &gone,
            release,
            [time, flags, release]
        );
        let releases = self.leads.release.clone();
        self.leads.splice(&releases, &fresh.leads, &gone);
        self.delivered.splice(&fresh.delivered, &gone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_grows_by_a_sliver_for_a_write() {
        let mut column: Vec<i64> = (0..64_000).collect();
        column.shrink_to_fit();
        make_room(&mut column, 3);
        column.extend_from_slice(&[1, 2, 3]);
        assert_eq!(column.capacity(), 64_000 + 3 + 1_000);
        let capacity = column.capacity();
        make_room(&mut column, 1_000);
        assert_eq!(column.capacity(), capacity, "the room left is used first");
    }
}
