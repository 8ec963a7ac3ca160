//! The in-memory store, the front of the crate: frames, replaced in part as data changes,
//! and what was derived from them per set of production tiers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::compute::compute;
use crate::derive::{Derived, derive};
use crate::frames::{Error, Frames, set};
use crate::model::{Coded, Metrics, Query, Tables, Tier};

/// Everything needed to compute metrics, kept in memory.
///
/// Writes patch what was derived right away; the raw frames take them only when a new set
/// of tiers needs deriving, so a write costs a pass over derived rows, not a copy of frames.
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Clone)]
struct Inner {
    frames: Frames,
    /// Replacements not yet applied to `frames`, oldest first.
    pending: Vec<Replacement>,
    /// What queries start from, derived once per set of production tiers.
    derived: HashMap<Vec<i32>, Arc<Derived>>,
}

#[derive(Clone)]
struct Replacement {
    releases: Vec<i64>,
    incidents: Vec<i64>,
    deliveries: Vec<i64>,
    fresh: Frames,
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
    pub fn new(tables: Tables) -> Result<Self, Error> {
        Ok(Self {
            inner: Mutex::new(Inner {
                frames: Frames::from_tables(tables)?,
                pending: Vec::new(),
                derived: HashMap::new(),
            }),
        })
    }

    /// Every figure of metrics.md for `query`.
    pub fn metrics(&self, query: &Query) -> Result<Metrics, Error> {
        let derived = self.derived(&query.tiers)?;
        Ok(compute(&derived, query))
    }

    /// What queries over `tiers` start from, derived on first use.
    fn derived(&self, tiers: &[Tier]) -> Result<Arc<Derived>, Error> {
        let mut tiers: Vec<i32> = tiers.iter().map(|t| t.code()).collect();
        tiers.sort_unstable();
        tiers.dedup();
        let mut inner = self.inner.lock().map_err(poisoned)?;
        if let Some(derived) = inner.derived.get(&tiers) {
            return Ok(derived.clone());
        }
        inner.apply_pending()?;
        let derived = Arc::new(derive(&inner.frames, &tiers)?);
        inner.derived.insert(tiers, derived.clone());
        Ok(derived)
    }

    /// Replaces everything that belongs to `releases`, the incidents `incidents` and the
    /// deliveries `deliveries` by the rows of `fresh` (which holds exactly those rows as they
    /// are now).
    pub fn replace(
        &mut self,
        releases: &[i64],
        incidents: &[i64],
        deliveries: &[i64],
        fresh: Tables,
    ) -> Result<(), Error> {
        let fresh = Frames::from_tables(fresh)?;
        let inner = self.inner.get_mut().map_err(poisoned)?;
        for (tiers, current) in inner.derived.iter_mut() {
            let patch = derive(&fresh, tiers)?;
            Arc::make_mut(current).splice(releases, incidents, deliveries, &patch);
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
        let derived = self.derived(tiers)?;
        let d = &derived.delivered;
        Ok(d.release
            .iter()
            .copied()
            .zip(d.time.iter().copied())
            .collect())
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
            f.teams = replace_rows(&f.teams, "release", &releases, &fresh.teams)?;
            f.deployments = replace_rows(&f.deployments, "release", &releases, &fresh.deployments)?;
            f.items = replace_rows(&f.items, "release", &releases, &fresh.items)?;
            f.gates = replace_rows(&f.gates, "release", &releases, &fresh.gates)?;
            f.outcomes = replace_rows(&f.outcomes, "release", &releases, &fresh.outcomes)?;
            f.actions = replace_rows(&f.actions, "release", &releases, &fresh.actions)?;
            f.overrides = replace_rows(&f.overrides, "release", &releases, &fresh.overrides)?;
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
