//! Batched loading of nested fields, so a page costs a fixed number of statements.
//!
//! Two generic loaders serve every table: [`ById`] loads rows by primary key, [`ByParent`]
//! loads the children of many parents with one `IN (…)` query. A fresh [`Loaders`] is made
//! for each request, so its cache never outlives the request, except for rows that never
//! change ([`Immutable`]), which the process keeps once read ([`KeptRows`]). Lists prime
//! the loaders with every row of a page at once (see `release::prefetch`), so batching does
//! not depend on how fast resolvers happen to run.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use analytics::{Forecast, Subject};
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::*;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Scope;
use crate::db::RequestReads;
use crate::error::{ApiError, ApiResult};
use crate::metrics::cache::{MetricsCache, Snapshot};
use crate::queries::dependencies::{self, Direction, Link};
use crate::time;

/// A table whose rows are found by an `i64` id.
pub trait Table: EntityTrait<Model: Clone + Send + Sync> {
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> i64;
}

/// A table whose rows belong to a parent row.
pub trait Child: Table {
    fn parent_column() -> Self::Column;
    fn parent_of(model: &Self::Model) -> Option<i64>;
}

macro_rules! table {
    ($($module:ident),+) => {$(
        impl Table for $module::Entity {
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn id_of(model: &Self::Model) -> i64 {
                model.id
            }
        }
    )+};
}

macro_rules! child {
    ($($module:ident => $column:ident),+) => {$(
        impl Child for $module::Entity {
            fn parent_column() -> Self::Column {
                $module::Column::$column
            }
            fn parent_of(model: &Self::Model) -> Option<i64> {
                Some(model.release_id)
            }
        }
    )+};
}

table!(
    program,
    environment,
    release,
    release_party,
    release_item,
    quality_gate,
    gate_result,
    approval,
    deployment,
    incident,
    outcome,
    improvement_action,
    ingest_source
);

child!(
    release_party => ReleaseId,
    release_item => ReleaseId,
    quality_gate => ReleaseId,
    approval => ReleaseId,
    deployment => ReleaseId,
    outcome => ReleaseId,
    improvement_action => ReleaseId
);

impl Child for gate_result::Entity {
    fn parent_column() -> Self::Column {
        gate_result::Column::GateId
    }
    fn parent_of(model: &Self::Model) -> Option<i64> {
        Some(model.gate_id)
    }
}

impl Child for incident::Entity {
    fn parent_column() -> Self::Column {
        incident::Column::ReleaseId
    }
    fn parent_of(model: &Self::Model) -> Option<i64> {
        model.release_id
    }
}

/// Loads rows of `E` by id.
pub struct ById<E> {
    db: RequestReads,
    entity: PhantomData<E>,
}

impl<E: Table> Loader<i64> for ById<E> {
    type Value = E::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, ApiError> {
        let rows = E::find()
            .filter(E::id_column().is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| (E::id_of(&row), row)).collect())
    }
}

/// A table whose rows are never changed or deleted once committed: programs and
/// environments have no update or delete, so a row read once is that row for good, in
/// every process sharing the database.
pub trait Immutable: Table {}

impl Immutable for program::Entity {}
impl Immutable for environment::Entity {}

/// The rows of an [`Immutable`] table read so far, by id. Only rows that exist are kept, so
/// the map grows with the table, never with what callers ask for.
pub struct Kept<E: Immutable>(Arc<RwLock<HashMap<i64, E::Model>>>);

impl<E: Immutable> Default for Kept<E> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<E: Immutable> Clone for Kept<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The immutable rows one process keeps, shared by all its requests.
#[derive(Clone, Default)]
pub struct KeptRows {
    programs: Kept<program::Entity>,
    environments: Kept<environment::Entity>,
}

/// Loads rows of `E` by id from memory, asking the database only for ids not read before
/// (a row may be committed after an id was first asked for).
pub struct KeptById<E: Immutable> {
    kept: Kept<E>,
    database: ById<E>,
}

impl<E: Immutable> Loader<i64> for KeptById<E> {
    type Value = E::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, ApiError> {
        let mut rows = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        match self.kept.0.read() {
            Ok(kept) => {
                for key in keys {
                    match kept.get(key) {
                        Some(row) => {
                            rows.insert(*key, row.clone());
                        }
                        None => missing.push(*key),
                    }
                }
            }
            Err(_) => missing.extend_from_slice(keys),
        }
        if !missing.is_empty() {
            // Rows read through a write not committed yet may still be rolled back.
            let uncommitted = || self.database.db.reads_uncommitted();
            let before = uncommitted();
            let found = self.database.load(&missing).await?;
            if !before
                && !uncommitted()
                && let Ok(mut kept) = self.kept.0.write()
            {
                kept.extend(found.iter().map(|(id, row)| (*id, row.clone())));
            }
            rows.extend(found);
        }
        Ok(rows)
    }
}

/// Loads the rows of `E` of many parents, in the order they were recorded.
pub struct ByParent<E> {
    db: RequestReads,
    entity: PhantomData<E>,
}

impl<E: Child> Loader<i64> for ByParent<E> {
    type Value = Vec<E::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<E::Model>>, ApiError> {
        let rows = E::find()
            .filter(E::parent_column().is_in(keys.iter().copied()))
            .order_by_asc(E::id_column())
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<i64, Vec<E::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(parent) = E::parent_of(&row) {
                grouped.entry(parent).or_default().push(row);
            }
        }
        Ok(grouped)
    }
}

/// Loads the environment aliases of many ingest sources.
pub struct SourceAliases {
    db: RequestReads,
}

impl Loader<i64> for SourceAliases {
    type Value = Vec<ingest_alias::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, ApiError> {
        crate::queries::ingest::aliases(&self.db, keys).await
    }
}

/// Loads when each of many ingest sources last delivered.
pub struct LastDelivery {
    db: RequestReads,
}

impl Loader<i64> for LastDelivery {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, ApiError> {
        crate::queries::ingest::last_deliveries(&self.db, keys).await
    }
}

/// Loads the dependency links of many releases in one direction.
pub struct Links {
    db: RequestReads,
    direction: Direction,
}

impl Loader<i64> for Links {
    type Value = Vec<Link>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<Link>>, ApiError> {
        let mut links = dependencies::links(&self.db, keys, self.direction).await?;
        // A release without links is remembered as such, not asked for again.
        for key in keys {
            links.entry(*key).or_default();
        }
        Ok(links)
    }
}

/// A DataLoader that remembers what it loaded for the rest of the request.
pub type Cached<L> = DataLoader<L, HashMapCache>;

fn cached<L: Loader<i64>>(loader: L) -> Cached<L> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
}

fn by_id<E: Table>(db: &RequestReads) -> Cached<ById<E>> {
    let loader = ById {
        db: db.clone(),
        entity: PhantomData,
    };
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
}

fn kept<E: Immutable>(db: &RequestReads, kept: &Kept<E>) -> Cached<KeptById<E>> {
    let loader = KeptById {
        kept: kept.clone(),
        database: ById {
            db: db.clone(),
            entity: PhantomData,
        },
    };
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
}

fn by_parent<E: Child>(db: &RequestReads) -> Cached<ByParent<E>> {
    let loader = ByParent {
        db: db.clone(),
        entity: PhantomData,
    };
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
}

/// The DataLoaders of one request (cheap to clone: clones share the loaders), made when a
/// field first loads: most small requests (`me`, a lookup by key) never do.
#[derive(Clone)]
pub struct Loaders(Arc<Lazy>);

struct Lazy {
    db: RequestReads,
    kept: KeptRows,
    set: OnceLock<LoaderSet>,
    /// The analytics snapshot the request's fields compute on, taken once: a list of
    /// improvement actions with their impact reads the change feed once, not per action.
    snapshot: tokio::sync::Mutex<Option<Snapshot>>,
    /// Forecasts of the releases a request shows, computed together: a page of releases
    /// costs one pass over the analytics store.
    forecasts: std::sync::Mutex<Option<Arc<Cached<Forecasts>>>>,
}

impl std::ops::Deref for Loaders {
    type Target = LoaderSet;

    fn deref(&self) -> &LoaderSet {
        self.0
            .set
            .get_or_init(|| LoaderSet::new(&self.0.db, &self.0.kept))
    }
}

/// One DataLoader per table and relation.
pub struct LoaderSet {
    pub program: Cached<KeptById<program::Entity>>,
    pub environment: Cached<KeptById<environment::Entity>>,
    pub release: Cached<ById<release::Entity>>,
    pub deployment: Cached<ById<deployment::Entity>>,
    pub incident: Cached<ById<incident::Entity>>,
    pub source: Cached<ById<ingest_source::Entity>>,
    pub parties: Cached<ByParent<release_party::Entity>>,
    pub items: Cached<ByParent<release_item::Entity>>,
    pub gates: Cached<ByParent<quality_gate::Entity>>,
    pub gate_results: Cached<ByParent<gate_result::Entity>>,
    pub approvals: Cached<ByParent<approval::Entity>>,
    pub deployments: Cached<ByParent<deployment::Entity>>,
    pub incidents: Cached<ByParent<incident::Entity>>,
    pub outcomes: Cached<ByParent<outcome::Entity>>,
    pub actions: Cached<ByParent<improvement_action::Entity>>,
    pub aliases: Cached<SourceAliases>,
    pub last_delivery: Cached<LastDelivery>,
    pub depends_on: Cached<Links>,
    pub dependents: Cached<Links>,
}

impl Loaders {
    pub fn new(db: &RequestReads, kept: &KeptRows) -> Self {
        Self(Arc::new(Lazy {
            db: db.clone(),
            kept: kept.clone(),
            set: OnceLock::new(),
            snapshot: tokio::sync::Mutex::default(),
            forecasts: std::sync::Mutex::default(),
        }))
    }

    /// The request's analytics snapshot, from `cache` on first use.
    pub async fn snapshot(
        &self,
        cache: &MetricsCache,
        db: &DatabaseConnection,
    ) -> ApiResult<Snapshot> {
        let mut taken = self.0.snapshot.lock().await;
        if let Some(snapshot) = taken.as_ref() {
            return Ok(snapshot.clone());
        }
        let snapshot = cache.snapshot(db).await?;
        *taken = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// The request's forecasts loader, made on first use for the caller of `scope` with
    /// the request's snapshot and the time of that use.
    pub async fn forecasts(
        &self,
        cache: &MetricsCache,
        db: &DatabaseConnection,
        scope: &Scope,
    ) -> ApiResult<Arc<Cached<Forecasts>>> {
        if let Some(made) = self.made_forecasts() {
            return Ok(made);
        }
        let snapshot = self.snapshot(cache, db).await?;
        let mut made = self
            .0
            .forecasts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(made
            .get_or_insert_with(|| {
                Arc::new(DataLoader::with_cache(
                    Forecasts {
                        snapshot,
                        scope: scope.clone(),
                        now: time::now_micros(),
                    },
                    tokio::spawn,
                    HashMapCache::default(),
                ))
            })
            .clone())
    }

    fn made_forecasts(&self) -> Option<Arc<Cached<Forecasts>>> {
        self.0
            .forecasts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Computes the forecasts of many releases at once; a release without one is kept as
/// `None`, so that it is not computed again.
pub struct Forecasts {
    snapshot: Snapshot,
    scope: Scope,
    now: i64,
}

impl Forecasts {
    /// The forecast of each of `keys`, in one pass.
    pub async fn compute(&self, keys: &[Subject]) -> ApiResult<Vec<(Subject, Option<Forecast>)>> {
        let found = crate::queries::forecast::forecasts(
            &self.snapshot,
            &self.scope,
            self.now,
            keys.to_vec(),
        )
        .await?;
        Ok(keys.iter().copied().zip(found).collect())
    }
}

impl Loader<Subject> for Forecasts {
    type Value = Option<Forecast>;
    type Error = ApiError;

    async fn load(&self, keys: &[Subject]) -> Result<HashMap<Subject, Option<Forecast>>, ApiError> {
        Ok(self.compute(keys).await?.into_iter().collect())
    }
}

impl LoaderSet {
    fn new(db: &RequestReads, kept: &KeptRows) -> Self {
        Self {
            program: self::kept(db, &kept.programs),
            environment: self::kept(db, &kept.environments),
            release: by_id(db),
            deployment: by_id(db),
            incident: by_id(db),
            source: by_id(db),
            parties: by_parent(db),
            items: by_parent(db),
            gates: by_parent(db),
            gate_results: by_parent(db),
            approvals: by_parent(db),
            deployments: by_parent(db),
            incidents: by_parent(db),
            outcomes: by_parent(db),
            actions: by_parent(db),
            aliases: cached(SourceAliases { db: db.clone() }),
            last_delivery: cached(LastDelivery { db: db.clone() }),
            depends_on: cached(Links {
                db: db.clone(),
                direction: Direction::DependsOn,
            }),
            dependents: cached(Links {
                db: db.clone(),
                direction: Direction::Dependents,
            }),
        }
    }
}

impl Loaders {
    /// Forgets everything loaded so far: after a write, nested fields read fresh rows.
    pub fn clear(&self) {
        // Fields do not run while a mutation commits, so the lock is free.
        if let Ok(mut snapshot) = self.0.snapshot.try_lock() {
            *snapshot = None;
        }
        *self
            .0
            .forecasts
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        if self.0.set.get().is_none() {
            return;
        }
        self.program.clear::<i64>();
        self.environment.clear::<i64>();
        self.release.clear::<i64>();
        self.deployment.clear::<i64>();
        self.incident.clear::<i64>();
        self.source.clear::<i64>();
        self.parties.clear::<i64>();
        self.items.clear::<i64>();
        self.gates.clear::<i64>();
        self.gate_results.clear::<i64>();
        self.approvals.clear::<i64>();
        self.deployments.clear::<i64>();
        self.incidents.clear::<i64>();
        self.outcomes.clear::<i64>();
        self.actions.clear::<i64>();
        self.aliases.clear::<i64>();
        self.last_delivery.clear::<i64>();
        self.depends_on.clear::<i64>();
        self.dependents.clear::<i64>();
    }
}

/// Loads one row that must exist (a foreign key points at it).
pub async fn required<L>(loader: &Cached<L>, id: i64) -> ApiResult<L::Value>
where
    L: Loader<i64, Error = ApiError>,
{
    loader.load_one(id).await?.ok_or_else(|| {
        ApiError::Internal(format!(
            "{} {id} is referenced but missing",
            std::any::type_name::<L::Value>()
        ))
    })
}

/// Loads the children of one parent.
pub async fn children<E: Child>(
    loader: &Cached<ByParent<E>>,
    parent: i64,
) -> ApiResult<Vec<E::Model>> {
    Ok(loader.load_one(parent).await?.unwrap_or_default())
}
