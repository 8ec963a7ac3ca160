//! The in-memory store, the front of the crate: what no set of tiers changes, derived once;
//! the frames sets of production tiers are derived from, replaced in part as data changes;
//! and what was derived from them for the sets of tiers asked for lately.

use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::compute::compute;
use crate::derive::{Derived, derive};
use crate::frames::{Error, Frames, set};
use crate::index::Programs;
use crate::model::{Coded, Metrics, Query, Tables, Tier};
use crate::shared::Shared;

/// The most sets of tiers kept derived at once, the most recently used. Each costs about
/// as much memory as the production deployments' rows, and a client may ask for any of the
/// fifteen sets; one that was let go is derived again when asked for (a fraction of a
/// second at a million deployments).
pub const TIER_SETS: usize = 3;

/// Everything needed to compute metrics, kept in memory.
///
/// Writes patch what was derived right away; the raw frames take them only when a new set
/// of tiers needs deriving, so a write costs a pass over derived rows, not a copy of frames.
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Clone)]
struct Inner {
    /// The numbers of the programs rows name.
    programs: Arc<Programs>,
    frames: Frames,
    /// Replacements not yet applied to `frames`, oldest first.
    pending: Vec<Replacement>,
    shared: Arc<Shared>,
    /// What queries over a set of tiers start from, most recently used first; at most
    /// [`TIER_SETS`].
    derived: Vec<(Vec<i32>, Arc<Derived>)>,
}

#[derive(Clone)]
struct Replacement {
    releases: Vec<i64>,
    incidents: Vec<i64>,
    deliveries: Vec<i64>,
    fresh: Frames,
}

/// What a [`Store`] holds, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The tables as they were read (with replacements not yet applied).
    pub frames: usize,
    /// What queries start from: what no set of tiers changes, and what the sets of tiers
    /// kept need.
    pub derived: usize,
}

impl Clone for Store {
    fn clone(&self) -> Self {
        let inner = match self.inner.lock() {
            Ok(inner) => inner.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        Self {
            inner: Mutex::new(inner),
        }
    }
}

fn poisoned<T>(_: T) -> Error {
    Error("a metrics computation panicked".into())
}

/// Rows of `frame` whose `column` is not one of `values`, followed by `fresh`.
fn replace_rows(
    frame: &DataFrame,
    column: &str,
    values: &[i64],
    fresh: &DataFrame,
) -> PolarsResult<DataFrame> {
    let mut kept = frame
        .clone()
        .lazy()
        .filter(col(column).is_in(set(values), false).not())
        .collect()?;
    kept.vstack_mut(fresh)?;
    kept.rechunk_mut_par();
    Ok(kept)
}

impl Store {
    /// Builds the store from complete tables.
    pub fn new(mut tables: Tables) -> Result<Self, Error> {
        let mut programs = Programs::default();
        let shared = Arc::new(Shared::take(&mut tables, &mut programs));
        let frames = Frames::from_tables(tables, &mut programs)?;
        Ok(Self {
            inner: Mutex::new(Inner {
                programs: Arc::new(programs),
                frames,
                pending: Vec::new(),
                shared,
                derived: Vec::new(),
            }),
        })
    }

    /// Every figure of metrics.md for `query`.
    pub fn metrics(&self, query: &Query) -> Result<Metrics, Error> {
        let (programs, shared, derived) = self.derived(&query.tiers)?;
        Ok(compute(&programs, &shared, &derived, query))
    }

    /// What queries over `tiers` start from, derived on first use.
    #[allow(clippy::type_complexity, reason = "what a query reads, each shared")]
    fn derived(&self, tiers: &[Tier]) -> Result<(Arc<Programs>, Arc<Shared>, Arc<Derived>), Error> {
        let mut tiers: Vec<i32> = tiers.iter().map(|t| t.code()).collect();
        tiers.sort_unstable();
        tiers.dedup();
        let mut inner = self.inner.lock().map_err(poisoned)?;
        let derived = match inner.derived.iter().position(|(set, _)| *set == tiers) {
            Some(at) => inner.derived.remove(at).1,
            None => {
                inner.apply_pending()?;
                Arc::new(derive(&inner.frames, &tiers)?)
            }
        };
        inner.derived.insert(0, (tiers, derived.clone()));
        inner.derived.truncate(TIER_SETS);
        Ok((inner.programs.clone(), inner.shared.clone(), derived))
    }

    /// Replaces everything that belongs to `releases`, the incidents `incidents` and the
    /// deliveries `deliveries` by the rows of `fresh` (which holds exactly those rows as they
    /// are now).
    pub fn replace(
        &mut self,
        releases: &[i64],
        incidents: &[i64],
        deliveries: &[i64],
        mut fresh: Tables,
    ) -> Result<(), Error> {
        let inner = self.inner.get_mut().map_err(poisoned)?;
        let programs = Arc::make_mut(&mut inner.programs);
        let shared = Shared::take(&mut fresh, programs);
        let fresh = Frames::from_tables(fresh, programs)?;
        Arc::make_mut(&mut inner.shared).splice(releases, incidents, &shared);
        for (tiers, current) in inner.derived.iter_mut() {
            let patch = derive(&fresh, tiers)?;
            Arc::make_mut(current).splice(releases, deliveries, &patch);
        }
        inner.pending.push(Replacement {
            releases: releases.to_vec(),
            incidents: incidents.to_vec(),
            deliveries: deliveries.to_vec(),
            fresh,
        });
        Ok(())
    }

    /// When each release was first delivered to one of `tiers` (`Release.deployedAt` when
    /// the tiers are PRODUCTION): `(release, finishedAt)`, in no particular order.
    pub fn delivered(&self, tiers: &[Tier]) -> Result<Vec<(i64, i64)>, Error> {
        let (_, _, derived) = self.derived(tiers)?;
        let d = &derived.delivered;
        Ok(d.release
            .iter()
            .copied()
            .zip(d.time.iter().copied())
            .collect())
    }

    /// The bytes the store holds.
    pub fn footprint(&self) -> Footprint {
        let Ok(inner) = self.inner.lock() else {
            return Footprint::default();
        };
        let frames = std::iter::once(&inner.frames)
            .chain(inner.pending.iter().map(|p| &p.fresh))
            .map(Frames::estimated_size)
            .sum();
        let derived = inner.shared.heap_bytes()
            + inner
                .derived
                .iter()
                .map(|(_, d)| d.heap_bytes())
                .sum::<usize>();
        Footprint { frames, derived }
    }

    /// How many deployments the store's frames hold (replacements reach the frames when a new
    /// set of tiers is derived).
    pub fn deployments(&self) -> usize {
        self.inner
            .lock()
            .map(|inner| inner.frames.deployments.height())
            .unwrap_or_default()
    }
}

impl Inner {
    fn apply_pending(&mut self) -> PolarsResult<()> {
        for Replacement {
            releases,
            incidents,
            deliveries,
            fresh,
        } in std::mem::take(&mut self.pending)
        {
            let f = &mut self.frames;
            f.releases = replace_rows(&f.releases, "id", &releases, &fresh.releases)?;
            f.deployments = replace_rows(&f.deployments, "release", &releases, &fresh.deployments)?;
            f.items = replace_rows(&f.items, "release", &releases, &fresh.items)?;
            f.outcomes = replace_rows(&f.outcomes, "release", &releases, &fresh.outcomes)?;
            f.unplanned = replace_rows(&f.unplanned, "id", &deliveries, &fresh.unplanned)?;
            let mut kept = f
                .incidents
                .clone()
                .lazy()
                .filter(
                    col("release")
                        .is_in(set(&releases), false)
                        .fill_null(lit(false))
                        .or(col("id").is_in(set(&incidents), false))
                        .not(),
                )
                .collect()?;
            kept.vstack_mut(&fresh.incidents)?;
            f.incidents = kept;
        }
        Ok(())
    }
}
