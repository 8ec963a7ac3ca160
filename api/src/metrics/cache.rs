//! This process's analytics store, kept fresh from the change feed.
//!
//! Before every metrics query the cache reads the changes committed since it last looked
//! (one indexed query), re-reads only the releases and incidents they name, and replaces
//! those rows in the store. A BULK change (demo data) reloads everything. On PostgreSQL a
//! change id can commit after a higher one; ids skipped over are looked for again for a
//! minute, so such a change is picked up by the next query.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use analytics::{
    Accuracy, AccuracyQuery, Benchmark, Forecast, ForecastQuery, Impact, ImpactQuery, Metrics,
    ProgramRef, Query, Store,
};
use entity::change::{self, ChangeKind};
use entity::program;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};

use super::load::tables;
use super::persisted::{self, Persisted};
use super::selection::Selection;
use crate::error::{ApiError, ApiResult};

/// How long a skipped change id is looked for.
const GAP_PATIENCE: Duration = Duration::from_secs(60);

/// The most changed releases a refresh re-reads; past it, a full load is cheaper.
const REPLAY_LIMIT: usize = 20_000;

struct Loaded {
    store: Arc<Store>,
    programs: Arc<Vec<ProgramRef>>,
    benchmarks: Arc<Vec<Benchmark>>,
    /// Every change up to here has been applied (or given up on).
    watermark: i64,
    /// Ids above the watermark's predecessors that were skipped, and when first seen missing.
    gaps: Vec<(i64, Instant)>,
}

/// Impact computations that may run at once (each uses up to two threads).
pub const IMPACT_SLOTS: usize = 2;

/// The store of this process, loaded on first use.
pub struct MetricsCache {
    state: Arc<Mutex<Option<Loaded>>>,
    /// Full loads so far (the first, and one per bulk change or lost store).
    loads: Arc<AtomicU64>,
    impact_slots: Arc<Semaphore>,
}

impl Default for MetricsCache {
    fn default() -> Self {
        Self {
            state: Arc::default(),
            loads: Arc::default(),
            impact_slots: Arc::new(Semaphore::new(IMPACT_SLOTS)),
        }
    }
}

/// A snapshot to compute on: the store, every program (ordered by key) and every
/// benchmark edition (built-in ones first).
#[derive(Clone)]
pub struct Snapshot {
    pub store: Arc<Store>,
    pub programs: Arc<Vec<ProgramRef>>,
    pub benchmarks: Arc<Vec<Benchmark>>,
    impact_slots: Arc<Semaphore>,
}

impl Snapshot {
    /// Computes `query` on the blocking pool.
    pub async fn metrics(&self, query: Query) -> ApiResult<Metrics> {
        let store = self.store.clone();
        blocking(move || store.metrics(&query)).await
    }

    /// Computes the impacts `query` asks for on the blocking pool, at most
    /// [`IMPACT_SLOTS`] at once: a computation runs to its end even when its request is
    /// gone, so callers asking for new windows faster than they are computed wait for a
    /// slot (and meet their deadline) instead of piling work on the CPU.
    pub async fn impacts(&self, query: ImpactQuery) -> ApiResult<Vec<Impact>> {
        let slot = self
            .impact_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(format!("impact slots closed: {e}")))?;
        let store = self.store.clone();
        blocking(move || {
            let _slot = slot;
            store.impacts(&query)
        })
        .await
    }

    /// Computes the forecasts `query` asks for on the blocking pool.
    pub async fn forecasts(&self, query: ForecastQuery) -> ApiResult<Vec<Option<Forecast>>> {
        let store = self.store.clone();
        blocking(move || store.forecasts(&query)).await
    }

    /// Computes forecast accuracy on the blocking pool.
    pub async fn forecast_accuracy(&self, query: AccuracyQuery) -> ApiResult<Accuracy> {
        let store = self.store.clone();
        blocking(move || store.forecast_accuracy(&query)).await
    }

    /// The edition named `name`, if there is one.
    pub fn benchmark(&self, name: &str) -> Option<&Benchmark> {
        self.benchmarks.iter().find(|b| b.name == name)
    }
}

async fn benchmarks(db: &DatabaseConnection) -> ApiResult<Arc<Vec<Benchmark>>> {
    Ok(Arc::new(crate::queries::benchmarks::all(db).await?))
}

fn analytics_error(err: analytics::Error) -> ApiError {
    ApiError::Internal(err.to_string())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, analytics::Error> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("analytics task failed: {e}")))?
        .map_err(analytics_error)
}

/// Every program, ordered by key.
pub async fn programs(db: &DatabaseConnection) -> ApiResult<Arc<Vec<ProgramRef>>> {
    let rows: Vec<(i64, String)> = program::Entity::find()
        .select_only()
        .columns([program::Column::Id, program::Column::Key])
        .order_by_asc(program::Column::Key)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Arc::new(
        rows.into_iter()
            .map(|(id, key)| ProgramRef { id, key })
            .collect(),
    ))
}

/// The newest change's id and time, (0, 0) before the first.
async fn latest_change(db: &DatabaseConnection) -> ApiResult<(i64, i64)> {
    let newest: Option<(i64, i64)> = change::Entity::find()
        .select_only()
        .columns([change::Column::Id, change::Column::At])
        .order_by_desc(change::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.unwrap_or((0, 0)))
}

/// Reads everything. The watermark is read first: a change committed meanwhile is applied
/// again on the next query, which replacing rows makes harmless. On SQLite the tables are
/// also written to the snapshot file, for the next process to start from.
async fn load_all(db: &DatabaseConnection) -> ApiResult<Loaded> {
    let started = Instant::now();
    let (watermark, watermark_at) = latest_change(db).await?;
    let tables = tables(db, Selection::All).await?;
    let read = started.elapsed();
    let keep = persisted::path_of(db);
    let store = blocking(move || {
        let Some(path) = keep else {
            return Store::new(tables);
        };
        let saved = Persisted {
            tables,
            watermark,
            watermark_at,
        };
        if let Err(err) = persisted::write(&path, &saved) {
            tracing::warn!(file = %path.display(), error = %err, "could not write the analytics snapshot");
        }
        Store::new(saved.tables)
    })
    .await?;
    tracing::info!(
        deployments = store.deployments(),
        read_millis = read.as_millis() as u64,
        millis = started.elapsed().as_millis() as u64,
        "analytics store loaded"
    );
    Ok(Loaded {
        store: Arc::new(store),
        programs: programs(db).await?,
        benchmarks: benchmarks(db).await?,
        watermark,
        gaps: Vec::new(),
    })
}

/// The store from this database's snapshot file, or None when there is none it can trust
/// (the reason is logged); the caller then applies the changes after its watermark.
async fn restore(db: &DatabaseConnection) -> ApiResult<Option<Loaded>> {
    let Some(path) = persisted::path_of(db) else {
        return Ok(None);
    };
    let started = Instant::now();
    let file = path.clone();
    let Ok(read) = tokio::task::spawn_blocking(move || persisted::read(&file)).await else {
        return Ok(None);
    };
    let saved = match read {
        Ok(saved) => saved,
        Err(err) => {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %path.display(), error = %err, "ignoring the analytics snapshot");
            }
            return Ok(None);
        }
    };
    // The change at the watermark, as the snapshot saw it: otherwise the database is not
    // the one the snapshot was taken of (replaced, restored from a backup, recreated).
    let at: Option<i64> = change::Entity::find_by_id(saved.watermark)
        .select_only()
        .column(change::Column::At)
        .into_tuple()
        .one(db)
        .await?;
    if at.unwrap_or(0) != saved.watermark_at {
        tracing::warn!(file = %path.display(), "ignoring an analytics snapshot of another history of this database");
        return Ok(None);
    }
    let (watermark, tables) = (saved.watermark, saved.tables);
    let store = blocking(move || Store::new(tables)).await?;
    tracing::info!(
        deployments = store.deployments(),
        watermark,
        millis = started.elapsed().as_millis() as u64,
        "analytics store restored from its snapshot"
    );
    Ok(Some(Loaded {
        store: Arc::new(store),
        programs: programs(db).await?,
        benchmarks: benchmarks(db).await?,
        watermark,
        gaps: Vec::new(),
    }))
}

impl MetricsCache {
    /// The store, with every change committed before this call applied.
    ///
    /// The work runs in a task of its own holding the lock, so a request dropped midway (a
    /// client gone, a deadline) cannot take the store down with it; a failed read keeps
    /// the store as it was.
    pub async fn snapshot(&self, db: &DatabaseConnection) -> ApiResult<Snapshot> {
        crate::db::once_more_if_lost(db, || async {
            let state = self.state.clone().lock_owned().await;
            let (db, loads, slots) = (db.clone(), self.loads.clone(), self.impact_slots.clone());
            tokio::spawn(async move { update(state, &db, &loads, slots).await })
                .await
                .map_err(|e| ApiError::Internal(format!("analytics refresh failed: {e}")))?
        })
        .await
    }

    /// How many times the store was loaded in full.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }
}

async fn update(
    mut state: OwnedMutexGuard<Option<Loaded>>,
    db: &DatabaseConnection,
    loads: &AtomicU64,
    impact_slots: Arc<Semaphore>,
) -> ApiResult<Snapshot> {
    let loaded = match state.take() {
        None => match restore(db).await? {
            // A restored store is as old as its snapshot: what changed since is applied now.
            Some(restored) => refreshed(restored, db, loads).await?,
            None => {
                let loaded = load_all(db).await?;
                loads.fetch_add(1, Ordering::Relaxed);
                loaded
            }
        },
        Some(loaded) => match read_changes(db, &loaded).await {
            Ok(Delta::None) => loaded,
            Ok(Delta::Reload(fresh)) => {
                loads.fetch_add(1, Ordering::Relaxed);
                *fresh
            }
            Ok(Delta::Patch(patch)) => apply(loaded, *patch).await?,
            Err(err) => {
                *state = Some(loaded);
                return Err(err);
            }
        },
    };
    let snapshot = Snapshot {
        store: loaded.store.clone(),
        programs: loaded.programs.clone(),
        benchmarks: loaded.benchmarks.clone(),
        impact_slots,
    };
    *state = Some(loaded);
    Ok(snapshot)
}

/// `loaded` with every change after its watermark applied.
async fn refreshed(
    loaded: Loaded,
    db: &DatabaseConnection,
    loads: &AtomicU64,
) -> ApiResult<Loaded> {
    Ok(match read_changes(db, &loaded).await? {
        Delta::None => loaded,
        Delta::Reload(fresh) => {
            loads.fetch_add(1, Ordering::Relaxed);
            *fresh
        }
        Delta::Patch(patch) => apply(loaded, *patch).await?,
    })
}

/// What the change feed says to do to the store, read in full before anything changes.
enum Delta {
    None,
    Reload(Box<Loaded>),
    Patch(Box<Patch>),
}

struct Patch {
    watermark: i64,
    gaps: Vec<(i64, Instant)>,
    programs: Option<Arc<Vec<ProgramRef>>>,
    benchmarks: Option<Arc<Vec<Benchmark>>>,
    releases: Vec<i64>,
    incidents: Vec<i64>,
    deliveries: Vec<i64>,
    fresh: Option<analytics::Tables>,
}

async fn read_changes(db: &DatabaseConnection, loaded: &Loaded) -> ApiResult<Delta> {
    let now = Instant::now();
    let mut gaps = loaded.gaps.clone();
    gaps.retain(|(_, seen)| now.duration_since(*seen) < GAP_PATIENCE);
    let gap_ids: Vec<i64> = gaps.iter().map(|(id, _)| *id).collect();
    let changes = change::Entity::find()
        .filter(
            Condition::any()
                .add(change::Column::Id.gt(loaded.watermark))
                .add(change::Column::Id.is_in(gap_ids)),
        )
        .order_by_asc(change::Column::Id)
        .all(db)
        .await?;
    if changes.is_empty() {
        return Ok(Delta::None);
    }
    // A bulk change, or more changed releases than re-reading them beats a full load (a
    // snapshot of long ago).
    let changed_releases = changes
        .iter()
        .filter_map(|c| c.release_id)
        .collect::<BTreeSet<_>>();
    if changes.iter().any(|c| c.kind == ChangeKind::Bulk) || changed_releases.len() > REPLAY_LIMIT {
        return Ok(Delta::Reload(Box::new(load_all(db).await?)));
    }

    // Track ids skipped over: they may belong to transactions that commit later.
    let seen: BTreeSet<i64> = changes.iter().map(|c| c.id).collect();
    gaps.retain(|(id, _)| !seen.contains(id));
    let newest = seen.last().copied().unwrap_or(loaded.watermark);
    for id in loaded.watermark + 1..newest {
        if !seen.contains(&id) {
            gaps.push((id, now));
        }
    }

    let releases: Vec<i64> = changed_releases.into_iter().collect();
    let incidents: Vec<i64> = changes.iter().filter_map(|c| c.incident_id).collect();
    let deliveries: Vec<i64> = changes.iter().filter_map(|c| c.delivery_id).collect();
    let programs = if changes.iter().any(|c| c.kind == ChangeKind::Program) {
        Some(programs(db).await?)
    } else {
        None
    };
    let benchmarks = if changes.iter().any(|c| c.kind == ChangeKind::Benchmark) {
        Some(benchmarks(db).await?)
    } else {
        None
    };
    let fresh = if releases.is_empty() && incidents.is_empty() && deliveries.is_empty() {
        None
    } else {
        Some(
            tables(
                db,
                Selection::Only {
                    releases: &releases,
                    incidents: &incidents,
                    deliveries: &deliveries,
                },
            )
            .await?,
        )
    };
    Ok(Delta::Patch(Box::new(Patch {
        watermark: loaded.watermark.max(newest),
        gaps,
        programs,
        benchmarks,
        releases,
        incidents,
        deliveries,
        fresh,
    })))
}

/// Applies a patch. Only a failure of the analytics computation itself can lose the store
/// (the next query then loads it again).
async fn apply(mut loaded: Loaded, patch: Patch) -> ApiResult<Loaded> {
    loaded.watermark = patch.watermark;
    loaded.gaps = patch.gaps;
    if let Some(programs) = patch.programs {
        loaded.programs = programs;
    }
    if let Some(benchmarks) = patch.benchmarks {
        loaded.benchmarks = benchmarks;
    }
    if let Some(fresh) = patch.fresh {
        // Patched in place unless a query still holds this version.
        let mut store =
            Arc::try_unwrap(loaded.store).unwrap_or_else(|shared| Store::clone(&shared));
        let (releases, incidents, deliveries) = (patch.releases, patch.incidents, patch.deliveries);
        loaded.store = Arc::new(
            blocking(move || {
                store.replace(&releases, &incidents, &deliveries, fresh)?;
                Ok(store)
            })
            .await?,
        );
    }
    Ok(loaded)
}
