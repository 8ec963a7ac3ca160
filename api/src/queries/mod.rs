//! Every read of the contract, starting from the caller.
//!
//! [`Visible`] is the one way into the data for a caller: it is made from the caller (its
//! role and its scope), each list it offers is already narrowed to that scope, each lookup
//! answers `None` for what the caller may not see, exactly as for what does not exist, and
//! what needs a role (ingest sources and deliveries: ANALYST) is refused here with
//! `FORBIDDEN`, not in resolvers. [`not_found`] is the one `NOT_FOUND` message for both.
//! Nested fields follow foreign keys from an object that came out of a `Visible`, so they
//! need no further check.
//!
//! The module knows no GraphQL or HTTP; `derived` holds the values computed from stored
//! rows (deployedAt, readiness, freeze windows, unplanned deliveries), `page` the keyset
//! pages of lists, and one module per kind of list (`releases`, `calendar`, `ingest`).

pub mod benchmarks;
pub mod calendar;
pub mod calendar_feeds;
pub mod conflicts;
pub mod dependencies;
pub mod derived;
pub mod forecast;
pub mod impact;
pub mod incidents;
pub mod ingest;
pub mod metrics;
pub mod notifications;
pub mod page;
pub mod releases;
pub mod span;

use entity::{
    delivery, deployment, environment, freeze_window, improvement_action, incident, ingest_source,
    program, release, release_event, release_party,
};
use sea_orm::sea_query::{IntoCondition, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use crate::auth::{Role, Scope, Viewer, forbidden};
use crate::error::{ApiError, ApiResult};

/// `NOT_FOUND` for something missing or out of the caller's scope: the same words for both.
/// The audit trail of a release the caller could already see.
pub fn events_of(release_id: i64) -> Select<release_event::Entity> {
    release_event::Entity::find().filter(release_event::Column::ReleaseId.eq(release_id))
}

/// Every environment (they are shared by all programs), from development to production,
/// then by name.
pub async fn environments<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<environment::Model>> {
    let mut rows = environment::Entity::find()
        .order_by_asc(environment::Column::Name)
        .all(db)
        .await?;
    rows.sort_by_key(|e| tier_rank(e.tier));
    Ok(rows)
}

fn tier_rank(tier: entity::enums::EnvironmentTier) -> u8 {
    use entity::enums::EnvironmentTier::*;
    match tier {
        Development => 0,
        Testing => 1,
        Staging => 2,
        Production => 3,
    }
}

/// The keys of the programs `ids`, by id: what messages and titles name releases by.
pub async fn program_keys<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> ApiResult<std::collections::HashMap<i64, String>> {
    Ok(program::Entity::find()
        .select_only()
        .column(program::Column::Id)
        .column(program::Column::Key)
        .filter(program::Column::Id.is_in(ids.into_iter().collect::<Vec<_>>()))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

pub fn not_found(what: impl Into<String>) -> ApiError {
    ApiError::NotFound(what.into())
}

/// The data a caller may see.
pub struct Visible<'a, C> {
    db: &'a C,
    role: Role,
    scope: Scope,
}

impl<'a, C: ConnectionTrait> Visible<'a, C> {
    pub fn new(db: &'a C, viewer: &Viewer) -> Self {
        Self {
            db,
            role: viewer.role,
            scope: viewer.scope.clone(),
        }
    }

    /// `FORBIDDEN` unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(forbidden(role))
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn db(&self) -> &'a C {
        self.db
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The same reads narrowed to the programs `keys` name; a key naming no program the
    /// caller may see is `NOT_FOUND` (named after `field`), like one that does not exist.
    pub async fn narrowed(&self, field: &str, keys: &[String]) -> ApiResult<Self> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let found: Vec<(i64, String)> = self
            .programs()
            .select_only()
            .column(program::Column::Id)
            .column(program::Column::Key)
            .filter(program::Column::Key.is_in(keys.iter().cloned()))
            .into_tuple()
            .all(self.db)
            .await?;
        if let Some(missing) = keys.iter().find(|k| !found.iter().any(|(_, f)| f == *k)) {
            return Err(not_found(format!("{field}: program {missing}")));
        }
        Ok(Self {
            db: self.db,
            role: self.role,
            scope: Scope::Programs(found.into_iter().map(|(id, _)| id).collect()),
        })
    }

    /// `column` (a program id) within the scope.
    fn in_scope(&self, column: impl ColumnTrait) -> Condition {
        match &self.scope {
            Scope::All => Condition::all(),
            Scope::Programs(ids) => column.is_in(ids.iter().copied()).into_condition(),
        }
    }

    /// Ids of the releases in scope, as a subquery.
    fn releases_in_scope(&self, column: impl ColumnTrait) -> Condition {
        match &self.scope {
            Scope::All => Condition::all(),
            Scope::Programs(_) => column
                .in_subquery(
                    Query::select()
                        .column(release::Column::Id)
                        .from(release::Entity)
                        .cond_where(self.in_scope(release::Column::ProgramId))
                        .to_owned(),
                )
                .into_condition(),
        }
    }

    pub fn programs(&self) -> Select<program::Entity> {
        program::Entity::find().filter(self.in_scope(program::Column::Id))
    }

    pub fn releases(&self) -> Select<release::Entity> {
        release::Entity::find().filter(self.in_scope(release::Column::ProgramId))
    }

    pub fn deployments(&self) -> Select<deployment::Entity> {
        deployment::Entity::find().filter(self.releases_in_scope(deployment::Column::ReleaseId))
    }

    pub fn incidents(&self) -> Select<incident::Entity> {
        incident::Entity::find().filter(self.in_scope(incident::Column::ProgramId))
    }

    pub fn improvement_actions(&self) -> Select<improvement_action::Entity> {
        improvement_action::Entity::find()
            .filter(self.releases_in_scope(improvement_action::Column::ReleaseId))
    }

    pub fn release_events(&self) -> Select<release_event::Entity> {
        release_event::Entity::find()
            .filter(self.releases_in_scope(release_event::Column::ReleaseId))
    }

    /// Ingest sources: ANALYST and up.
    pub fn ingest_sources(&self) -> ApiResult<Select<ingest_source::Entity>> {
        self.require(Role::Analyst)?;
        Ok(ingest_source::Entity::find().filter(self.in_scope(ingest_source::Column::ProgramId)))
    }

    /// Deliveries: ANALYST and up.
    pub fn deliveries(&self) -> ApiResult<Select<delivery::Entity>> {
        self.require(Role::Analyst)?;
        Ok(delivery::Entity::find().filter(self.in_scope(delivery::Column::ProgramId)))
    }

    /// The names of the teams on releases in scope, sorted, each once.
    pub async fn team_names(&self) -> ApiResult<Vec<String>> {
        Ok(release_party::Entity::find()
            .select_only()
            .column(release_party::Column::Name)
            .distinct()
            .filter(release_party::Column::Role.eq(release_party::PartyRole::Team))
            .filter(self.releases_in_scope(release_party::Column::ReleaseId))
            .order_by_asc(release_party::Column::Name)
            .into_tuple()
            .all(self.db)
            .await?)
    }

    pub async fn ingest_source(&self, id: i64) -> ApiResult<Option<ingest_source::Model>> {
        Ok(self
            .ingest_sources()?
            .filter(ingest_source::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    pub async fn delivery(&self, id: i64) -> ApiResult<Option<delivery::Model>> {
        Ok(self
            .deliveries()?
            .filter(delivery::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    /// Freeze windows that apply to the programs in scope: global ones and their own.
    pub fn freeze_windows(&self) -> Select<freeze_window::Entity> {
        let select = freeze_window::Entity::find();
        match &self.scope {
            Scope::All => select,
            Scope::Programs(_) => select.filter(
                Condition::any()
                    .add(freeze_window::Column::ProgramId.is_null())
                    .add(self.in_scope(freeze_window::Column::ProgramId)),
            ),
        }
    }

    pub async fn program(&self, id: i64) -> ApiResult<Option<program::Model>> {
        Ok(self
            .programs()
            .filter(program::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    pub async fn program_by_key(&self, key: &str) -> ApiResult<Option<program::Model>> {
        Ok(self
            .programs()
            .filter(program::Column::Key.eq(key))
            .one(self.db)
            .await?)
    }

    pub async fn release(&self, id: i64) -> ApiResult<Option<release::Model>> {
        Ok(self
            .releases()
            .filter(release::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    pub async fn release_by_version(
        &self,
        program_key: &str,
        version: &str,
    ) -> ApiResult<Option<release::Model>> {
        Ok(self
            .releases()
            .filter(
                release::Column::ProgramId.in_subquery(
                    Query::select()
                        .column(program::Column::Id)
                        .from(program::Entity)
                        .and_where(program::Column::Key.eq(program_key))
                        .to_owned(),
                ),
            )
            .filter(release::Column::Version.eq(version))
            .one(self.db)
            .await?)
    }

    pub async fn deployment(&self, id: i64) -> ApiResult<Option<deployment::Model>> {
        Ok(self
            .deployments()
            .filter(deployment::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    pub async fn incident(&self, id: i64) -> ApiResult<Option<incident::Model>> {
        Ok(self
            .incidents()
            .filter(incident::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    pub async fn improvement_action(
        &self,
        id: i64,
    ) -> ApiResult<Option<improvement_action::Model>> {
        Ok(self
            .improvement_actions()
            .filter(improvement_action::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    pub async fn freeze_window(&self, id: i64) -> ApiResult<Option<freeze_window::Model>> {
        Ok(self
            .freeze_windows()
            .filter(freeze_window::Column::Id.eq(id))
            .one(self.db)
            .await?)
    }

    /// A row of a table that belongs to a release, when that release is in scope.
    pub async fn release_child<E>(
        &self,
        id: i64,
        release_of: impl Fn(&E::Model) -> i64,
    ) -> ApiResult<Option<E::Model>>
    where
        E: EntityTrait,
        E::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = i64>,
    {
        let Some(row) = E::find_by_id(id).one(self.db).await? else {
            return Ok(None);
        };
        Ok(self.release(release_of(&row)).await?.map(|_| row))
    }
}

/// `Option` to `NOT_FOUND`.
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> ApiResult<T>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, what: &str) -> ApiResult<T> {
        self.ok_or_else(|| not_found(what))
    }
}
