//! Rows of every table, buffered and written in batches, with the next id of each.

use entity::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};

/// Rows per INSERT statement; keeps every batch under SQLite's 32,766 bind parameters.
const BATCH: usize = 2_000;

/// Buffers rows of every table and writes them in batches.
#[derive(Default)]
pub(super) struct Rows {
    pub(super) programs: Vec<program::Model>,
    pub(super) releases: Vec<release::Model>,
    pub(super) parties: Vec<release_party::Model>,
    pub(super) items: Vec<release_item::Model>,
    pub(super) gates: Vec<quality_gate::Model>,
    pub(super) results: Vec<gate_result::Model>,
    pub(super) approvals: Vec<approval::Model>,
    pub(super) deployments: Vec<deployment::Model>,
    pub(super) incidents: Vec<incident::Model>,
    pub(super) outcomes: Vec<outcome::Model>,
    pub(super) actions: Vec<improvement_action::Model>,
    pub(super) freezes: Vec<freeze_window::Model>,
    pub(super) events: Vec<release_event::Model>,
    pub(super) sources: Vec<ingest_source::Model>,
    pub(super) aliases: Vec<ingest_alias::Model>,
    pub(super) deliveries: Vec<delivery::Model>,
}

async fn insert<E, M>(db: &impl ConnectionTrait, rows: &mut Vec<M>) -> Result<u64, sea_orm::DbErr>
where
    E: EntityTrait,
    M: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let count = rows.len() as u64;
    let mut rest = std::mem::take(rows).into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<E::ActiveModel> = rest
            .by_ref()
            .take(BATCH)
            .map(IntoActiveModel::into_active_model)
            .collect();
        E::insert_many(batch).exec_without_returning(db).await?;
    }
    Ok(count)
}

impl Rows {
    /// Writes every buffered row, parents before children, and returns how many.
    pub(super) async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
        Ok(insert::<program::Entity, _>(db, &mut self.programs).await?
            + insert::<freeze_window::Entity, _>(db, &mut self.freezes).await?
            + insert::<release::Entity, _>(db, &mut self.releases).await?
            + insert::<release_party::Entity, _>(db, &mut self.parties).await?
            + insert::<release_item::Entity, _>(db, &mut self.items).await?
            + insert::<quality_gate::Entity, _>(db, &mut self.gates).await?
            + insert::<gate_result::Entity, _>(db, &mut self.results).await?
            + insert::<approval::Entity, _>(db, &mut self.approvals).await?
            + insert::<deployment::Entity, _>(db, &mut self.deployments).await?
            + insert::<incident::Entity, _>(db, &mut self.incidents).await?
            + insert::<outcome::Entity, _>(db, &mut self.outcomes).await?
            + insert::<improvement_action::Entity, _>(db, &mut self.actions).await?
            + insert::<release_event::Entity, _>(db, &mut self.events).await?
            + insert::<ingest_source::Entity, _>(db, &mut self.sources).await?
            + insert::<ingest_alias::Entity, _>(db, &mut self.aliases).await?
            + insert::<delivery::Entity, _>(db, &mut self.deliveries).await?)
    }
}

/// Next free id of every table (the database starts empty).
#[derive(Default)]
pub(super) struct Ids {
    pub(super) program: i64,
    pub(super) release: i64,
    pub(super) party: i64,
    pub(super) item: i64,
    pub(super) gate: i64,
    pub(super) result: i64,
    pub(super) approval: i64,
    pub(super) deployment: i64,
    pub(super) incident: i64,
    pub(super) outcome: i64,
    pub(super) action: i64,
    pub(super) freeze: i64,
    pub(super) event: i64,
    pub(super) source: i64,
    pub(super) alias: i64,
    pub(super) delivery: i64,
}

pub(super) fn next(counter: &mut i64) -> i64 {
    *counter += 1;
    *counter
}
