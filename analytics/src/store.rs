//! The in-memory store, the front of the crate: what no set of tiers changes, derived once;
//! the frames sets of production tiers are derived from, replaced in part as data changes;
//! and what was derived from them for the sets of tiers asked for lately.

use std::sync::{Arc, Mutex, PoisonError};

use polars::prelude::*;

use crate::compute::compute;
use crate::derive::{Derived, derive};
use crate::forecast::{Accuracy, AccuracyQuery, Forecast, ForecastQuery, History};
use crate::frames::{Error, Frames, set};
use crate::impact::{ActionRef, Bootstraps, Impact, ImpactQuery, impact};
use crate::index::Numbering;
use crate::model::{Coded, Metrics, Query, Tables, Tier};
use crate::shared::Shared;
use crate::timeline::{Programs, Timelines};

/// The most sets of tiers kept derived at once, the most recently used. Each costs about
/// as much memory as the production deployments' rows, and a client may ask for any of the
/// fifteen sets; one that was let go is derived again when asked for (a fraction of a
/// second at a million deployments).
pub const TIER_SETS: usize = 3;

/// Everything needed to compute metrics, kept in memory.
///
/// Writes patch what was derived right away; the raw frames take them only when a new set
/// of tiers needs deriving, so a write costs a pass over derived rows, not a copy of frames.
/// A set of tiers is derived outside the lock queries take, so queries over the sets kept
/// never wait for it, and one set at a time, so that memory stays bounded whatever clients
/// ask for.
pub struct Store {
    inner: Mutex<Inner>,
    deriving: Mutex<()>,
    /// Bootstrap intervals computed so far, by what they were computed from (valid
    /// whatever changes).
    bootstraps: Arc<Bootstraps>,
}

#[derive(Clone)]
struct Inner {
    /// The numbers of the releases and programs rows name.
    numbering: Arc<Numbering>,
    frames: Frames,
    /// Replacements not yet applied to `frames`, oldest first.
    pending: Vec<Replacement>,
    shared: Arc<Shared>,
    /// What queries over a set of tiers start from, most recently used first; at most
    /// [`TIER_SETS`].
    derived: Vec<(Vec<i32>, Arc<Derived>)>,
    /// The production tier's rows by time, for improvement impact; built when first
    /// needed after a change.
    timelines: Option<Arc<Timelines>>,
    /// Delivered releases by program, for forecasts; built when first needed after a
    /// change.
    history: Option<Arc<History>>,
}

/// What a query over one set of tiers reads.
type Reads = (Arc<Numbering>, Arc<Shared>, Arc<Derived>);

#[derive(Clone)]
struct Replacement {
    /// Release numbers.
    releases: Vec<u32>,
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
            deriving: Mutex::new(()),
            bootstraps: self.bootstraps.clone(),
        }
    }
}

fn poisoned<T>(_: T) -> Error {
    Error("a metrics computation panicked".into())
}

/// Rows of `frame` whose `column` is not one of `values`, followed by `fresh`.
fn replace_rows<T>(
    frame: &DataFrame,
    column: &str,
    values: &[T],
    fresh: &DataFrame,
) -> PolarsResult<DataFrame>
where
    Series: for<'a> NamedFrom<&'a [T], [T]>,
{
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
        let mut numbering = Numbering::new(&tables.releases.id);
        let shared = Arc::new(Shared::take(&mut tables, &mut numbering));
        let frames = Frames::from_tables(tables, &mut numbering)?;
        Ok(Self {
            inner: Mutex::new(Inner {
                numbering: Arc::new(numbering),
                frames,
                pending: Vec::new(),
                shared,
                derived: Vec::new(),
                timelines: None,
                history: None,
            }),
            deriving: Mutex::new(()),
            bootstraps: Arc::default(),
        })
    }

    /// The impact of each action of `query`, in its order (metrics.md, *Improvement
    /// impact*). The actions are split between two threads.
    pub fn impacts(&self, query: &ImpactQuery) -> Result<Vec<Impact>, Error> {
        let (numbering, timelines) = self.timelines()?;
        let programs = &numbering.programs;
        let total = programs.len() as u32;
        let visible: Option<Vec<u32>> = query
            .visible
            .as_ref()
            .map(|ids| ids.iter().filter_map(|id| programs.get(id)).collect());
        let one = |action: &ActionRef| {
            let own = programs.get(&action.program);
            let others = match &visible {
                None => Programs::AllBut(own.into_iter().collect()),
                Some(visible) => {
                    let rest: Vec<u32> = visible
                        .iter()
                        .copied()
                        .filter(|p| Some(*p) != own)
                        .collect();
                    if rest.len() * 2 <= total as usize {
                        Programs::Only(rest)
                    } else {
                        Programs::AllBut((0..total).filter(|p| !rest.contains(p)).collect())
                    }
                }
            };
            impact(&timelines, &self.bootstraps, query, action, own, &others)
        };
        let (first, second) = query.actions.split_at(query.actions.len() / 2);
        let (mut impacts, rest) = std::thread::scope(|threads| {
            let rest = threads.spawn(|| second.iter().map(one).collect::<Vec<_>>());
            (first.iter().map(one).collect::<Vec<_>>(), rest.join())
        });
        match rest {
            Ok(rest) => impacts.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        Ok(impacts)
    }

    /// The production tier's rows by time, built once per version of the data.
    fn timelines(&self) -> Result<(Arc<Numbering>, Arc<Timelines>), Error> {
        let kept = |store: &Self| -> Result<_, Error> {
            let inner = store.inner.lock().map_err(poisoned)?;
            Ok(inner
                .timelines
                .clone()
                .map(|t| (inner.numbering.clone(), t)))
        };
        if let Some(kept) = kept(self)? {
            return Ok(kept);
        }
        let (numbering, shared, derived) = self.derived(&[Tier::Production])?;
        let _one_at_a_time = self.deriving.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = kept(self)? {
            return Ok(kept);
        }
        let timelines = Arc::new(Timelines::new(&numbering, &shared, &derived));
        // A write replaces rows through `&mut self`, so none can have come meanwhile.
        self.inner.lock().map_err(poisoned)?.timelines = Some(timelines.clone());
        Ok((numbering, timelines))
    }

    /// The forecast of each release of `query`, in its order (metrics.md, *Forecast*).
    pub fn forecasts(&self, query: &ForecastQuery) -> Result<Vec<Option<Forecast>>, Error> {
        let (numbering, history) = self.history()?;
        Ok(history.forecasts(&numbering, query))
    }

    /// How the forecast would have done (metrics.md, *Forecast accuracy*).
    pub fn forecast_accuracy(&self, query: &AccuracyQuery) -> Result<Accuracy, Error> {
        let (numbering, history) = self.history()?;
        Ok(history.accuracy(&numbering, query))
    }

    /// The delivered releases by program, built once per version of the data.
    fn history(&self) -> Result<(Arc<Numbering>, Arc<History>), Error> {
        let kept = |store: &Self| -> Result<_, Error> {
            let inner = store.inner.lock().map_err(poisoned)?;
            Ok(inner.history.clone().map(|h| (inner.numbering.clone(), h)))
        };
        if let Some(kept) = kept(self)? {
            return Ok(kept);
        }
        let (numbering, shared, derived) = self.derived(&[Tier::Production])?;
        let _one_at_a_time = self.deriving.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = kept(self)? {
            return Ok(kept);
        }
        let history = Arc::new(History::new(&numbering, &shared, &derived));
        // A write replaces rows through `&mut self`, so none can have come meanwhile.
        self.inner.lock().map_err(poisoned)?.history = Some(history.clone());
        Ok((numbering, history))
    }

    /// Every figure of metrics.md for `query`.
    pub fn metrics(&self, query: &Query) -> Result<Metrics, Error> {
        let (numbering, shared, derived) = self.derived(&query.tiers)?;
        Ok(compute(&numbering, &shared, &derived, query))
    }

    /// What queries over `tiers` start from, derived on first use.
    fn derived(&self, tiers: &[Tier]) -> Result<Reads, Error> {
        let mut tiers: Vec<i32> = tiers.iter().map(|t| t.code()).collect();
        tiers.sort_unstable();
        tiers.dedup();
        if let Some(kept) = self.kept(&tiers)? {
            return Ok(kept);
        }
        // It guards no data, so a derivation that panicked leaves nothing to distrust.
        let _one_at_a_time = self.deriving.lock().unwrap_or_else(PoisonError::into_inner);
        // Another query may have derived it meanwhile.
        if let Some(kept) = self.kept(&tiers)? {
            return Ok(kept);
        }
        // Cloning frames clones references to their columns, not the columns.
        let (frames, numbering) = {
            let mut inner = self.inner.lock().map_err(poisoned)?;
            inner.apply_pending()?;
            (inner.frames.clone(), inner.numbering.clone())
        };
        let derived = Arc::new(derive(&frames, numbering.release_programs(), &tiers)?);
        let mut inner = self.inner.lock().map_err(poisoned)?;
        inner.derived.insert(0, (tiers, derived.clone()));
        inner.derived.truncate(TIER_SETS);
        Ok((inner.numbering.clone(), inner.shared.clone(), derived))
    }

    /// What queries over `tiers` start from if it is kept, made the most recently used.
    fn kept(&self, tiers: &[i32]) -> Result<Option<Reads>, Error> {
        let mut inner = self.inner.lock().map_err(poisoned)?;
        let Some(at) = inner.derived.iter().position(|(set, _)| set == tiers) else {
            return Ok(None);
        };
        let kept = inner.derived.remove(at);
        let derived = kept.1.clone();
        inner.derived.insert(0, kept);
        Ok(Some((
            inner.numbering.clone(),
            inner.shared.clone(),
            derived,
        )))
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
        inner.timelines = None;
        inner.history = None;
        let numbering = Arc::make_mut(&mut inner.numbering);
        let releases = numbering.releases(releases);
        let shared = Shared::take(&mut fresh, numbering);
        let fresh = Frames::from_tables(fresh, numbering)?;
        Arc::make_mut(&mut inner.shared).splice(&releases, incidents, &shared);
        for (tiers, current) in inner.derived.iter_mut() {
            let patch = derive(&fresh, numbering.release_programs(), tiers)?;
            Arc::make_mut(current).splice(&releases, deliveries, &patch);
        }
        inner.pending.push(Replacement {
            releases,
            incidents: incidents.to_vec(),
            deliveries: deliveries.to_vec(),
            fresh,
        });
        Ok(())
    }

    /// When each release was first delivered to one of `tiers` (`Release.deployedAt` when
    /// the tiers are PRODUCTION): `(release, finishedAt)`, in no particular order.
    pub fn delivered(&self, tiers: &[Tier]) -> Result<Vec<(i64, i64)>, Error> {
        let (numbering, _, derived) = self.derived(tiers)?;
        let d = &derived.delivered;
        Ok(d.release
            .iter()
            .zip(&d.time)
            .filter_map(|(release, time)| Some((numbering.release_id(*release)?, *time)))
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
        let derived = inner.numbering.heap_bytes()
            + inner.shared.heap_bytes()
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
            f.releases = replace_rows(&f.releases, "release", &releases, &fresh.releases)?;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{
        DeploymentStatus, Deployments, Environments, Granularity, ProgramRef, Releases,
    };

    fn one_production_deployment() -> (Store, Query) {
        let t = Tables {
            releases: Releases {
                id: vec![1],
                program: vec![7],
                planned_end: vec![None],
                kind: vec![crate::model::ReleaseType::Minor],
                created_at: vec![0],
            },
            environments: Environments {
                id: vec![3],
                tier: vec![Tier::Production],
            },
            deployments: Deployments {
                id: vec![1],
                release: vec![1],
                environment: vec![3],
                status: vec![DeploymentStatus::Succeeded],
                rollback: vec![false],
                finished_at: vec![Some(10)],
                ingested: vec![false],
            },
            ..Tables::default()
        };
        let store = Store::new(t).unwrap();
        let query = Query {
            from: 0,
            to: 86_400_000_000,
            programs: vec![ProgramRef {
                id: 7,
                key: "P".into(),
            }],
            tiers: vec![Tier::Production],
            team: None,
            granularity: Granularity::Day,
            program_trends: false,
            benchmark: crate::Benchmark::default_edition(),
            severities: crate::Severities::ALL,
        };
        (store, query)
    }

    #[test]
    fn queries_over_kept_tiers_do_not_wait_for_a_derivation() {
        let (store, query) = one_production_deployment();
        store.metrics(&query).unwrap();

        // Another query is deriving a set of tiers meanwhile.
        let deriving = store.deriving.lock().unwrap();
        let (sent, received) = std::sync::mpsc::channel();
        std::thread::scope(|threads| {
            let (store, query) = (&store, &query);
            threads.spawn(move || {
                // The receiver is gone only once the test has failed.
                sent.send(store.metrics(query)).ok();
            });
            let answer = received.recv_timeout(Duration::from_secs(10));
            drop(deriving);
            let metrics = answer
                .expect("the query waited for the derivation")
                .unwrap();
            assert_eq!(metrics.deployment_frequency.deployments, 1);
        });
    }

    #[test]
    fn a_derivation_that_panicked_does_not_stop_the_next() {
        let (store, query) = one_production_deployment();
        let panicked = std::thread::scope(|threads| {
            threads
                .spawn(|| {
                    let _deriving = store.deriving.lock();
                    panic!("a derivation failed");
                })
                .join()
        });
        assert!(panicked.is_err() && store.deriving.is_poisoned());
        let metrics = store.metrics(&query).unwrap();
        assert_eq!(metrics.deployment_frequency.deployments, 1);
    }
}
