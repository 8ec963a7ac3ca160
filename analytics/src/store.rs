//! The in-memory store: one polars frame per table, replaced in part as data changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::compute::compute;
use crate::derive::{Derived, derive};
use crate::model::{Coded, DeploymentStatus, GateStatus, Metrics, Query, Tables};

/// Codes the derivations compare with.
pub const SUCCEEDED: i32 = DeploymentStatus::Succeeded as i32;
pub const FAILED: i32 = DeploymentStatus::Failed as i32;
pub const ROLLED_BACK: i32 = DeploymentStatus::RolledBack as i32;
pub const GATE_PENDING: i32 = GateStatus::Pending as i32;
pub const GATE_PASSED: i32 = GateStatus::Passed as i32;

fn column<T, V>(name: &str, values: V) -> Column
where
    Series: NamedFrom<V, T>,
    T: ?Sized,
{
    Series::new(name.into(), values).into_column()
}

/// A failure inside the analytics (a polars error), as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "analytics: {}", self.0)
    }
}

impl std::error::Error for Error {}

impl From<PolarsError> for Error {
    fn from(err: PolarsError) -> Self {
        Self(err.to_string())
    }
}

/// The frames metrics are computed from.
#[derive(Clone)]
pub struct Frames {
    pub releases: DataFrame,
    pub teams: DataFrame,
    pub deployments: DataFrame,
    pub items: DataFrame,
    pub incidents: DataFrame,
    pub gates: DataFrame,
    pub outcomes: DataFrame,
    pub actions: DataFrame,
}

impl Frames {
    pub fn from_tables(t: Tables) -> PolarsResult<Self> {
        let r = t.releases;
        let releases = DataFrame::new_infer_height(vec![
            column("id", r.id),
            column("program", r.program),
            column("planned_end", r.planned_end),
        ])?;
        let teams = DataFrame::new_infer_height(vec![
            column("release", t.teams.release),
            column("team", t.teams.team),
        ])?;
        let d = t.deployments;
        let deployments = DataFrame::new_infer_height(vec![
            column("id", d.id),
            column("release", d.release),
            column("program", d.program),
            column("emergency", d.emergency),
            column(
                "tier",
                d.tier.into_iter().map(Coded::code).collect::<Vec<_>>(),
            ),
            column(
                "status",
                d.status.into_iter().map(Coded::code).collect::<Vec<_>>(),
            ),
            column("rollback", d.rollback),
            column("finished_at", d.finished_at),
        ])?;
        let items = DataFrame::new_infer_height(vec![
            column("release", t.items.release),
            column("program", t.items.program),
            column("committed_at", t.items.committed_at),
        ])?;
        let i = t.incidents;
        let incidents = DataFrame::new_infer_height(vec![
            column("id", i.id),
            column("program", i.program),
            column("release", i.release),
            column("deployment", i.deployment),
            column("caused_by_change", i.caused_by_change),
            column("opened_at", i.opened_at),
            column("resolved_at", i.resolved_at),
        ])?;
        let g = t.gate_results;
        let gates = DataFrame::new_infer_height(vec![
            column("id", g.id),
            column("gate", g.gate),
            column("release", g.release),
            column("program", g.program),
            column(
                "status",
                g.status.into_iter().map(Coded::code).collect::<Vec<_>>(),
            ),
            column("checked_at", g.checked_at),
        ])?;
        let outcomes = DataFrame::new_infer_height(vec![column("release", t.outcomes.release)])?;
        let a = t.actions;
        let actions = DataFrame::new_infer_height(vec![
            column("release", a.release),
            column("program", a.program),
            column("created_at", a.created_at),
            column("closed_at", a.closed_at),
            column("due_date", a.due_date),
        ])?;
        Ok(Self {
            releases,
            teams,
            deployments,
            items,
            incidents,
            gates,
            outcomes,
            actions,
        })
    }
}

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

/// A set of values to test membership in with `is_in` (which wants a one-element list).
pub(crate) fn set<T>(values: &[T]) -> Expr
where
    Series: for<'a> NamedFrom<&'a [T], [T]>,
{
    lit(Series::new("set".into(), values)).implode(false)
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
        let mut tiers: Vec<i32> = query.tiers.iter().map(|t| t.code()).collect();
        tiers.sort_unstable();
        tiers.dedup();
        let derived = {
            let mut inner = self.inner.lock().map_err(poisoned)?;
            match inner.derived.get(&tiers) {
                Some(derived) => derived.clone(),
                None => {
                    inner.apply_pending()?;
                    let derived = Arc::new(derive(&inner.frames, &tiers)?);
                    inner.derived.insert(tiers, derived.clone());
                    derived
                }
            }
        };
        Ok(compute(&derived, query))
    }

    /// Replaces everything that belongs to `releases`, and the incidents `incidents`, by the
    /// rows of `fresh` (which holds exactly those rows as they are now).
    pub fn replace(
        &mut self,
        releases: &[i64],
        incidents: &[i64],
        fresh: Tables,
    ) -> Result<(), Error> {
        let fresh = Frames::from_tables(fresh)?;
        let inner = self.inner.get_mut().map_err(poisoned)?;
        for (tiers, current) in inner.derived.iter_mut() {
            let patch = derive(&fresh, tiers)?;
            Arc::make_mut(current).splice(releases, incidents, &patch);
        }
        inner.pending.push(Replacement {
            releases: releases.to_vec(),
            incidents: incidents.to_vec(),
            fresh,
        });
        Ok(())
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
