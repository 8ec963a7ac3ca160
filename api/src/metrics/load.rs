//! Reading the analytics tables ([`super::tables`]): only the columns metrics use,
//! straight into columns.
//!
//! Every table is read on its own, all of them at once on separate connections, and
//! without joins: what a row takes from its release (program, type), its gate (release)
//! or its environment (tier) is looked up by analytics once the rows have arrived, which
//! costs far less than the database joining a million rows. Ids in `IN (…)` lists are
//! formatted integers, never user text.
//!
//! Being separate statements, the reads can see a row whose release (or gate, or
//! environment) committed after the releases (or gates, or environments) were read; such
//! a row is left out, or fails the load ([`Refs`]).

use std::collections::HashMap;
use std::sync::Arc;

use analytics::{ById, Tables};
use futures_util::FutureExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::Semaphore;

use super::rows;
use super::selection::Selection;
use super::tables::{self, Refs, Table};

/// How many tables a load reads at once. On SQLite half its pool's connections: a read
/// waiting in the pool gives up after its acquire timeout, and at ten million deployments
/// every table takes longer than that, so a first start failed as "busy" whenever the reads
/// outnumbered the connections; commands also keep connections this way (the reads of
/// requests have their own, `db::Reads`). On PostgreSQL all of them at once (twelve): its
/// pool has 16 connections, and binary `COPY` reads a table in seconds.
fn reads_at_once(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Sqlite => crate::db::SQLITE_CONNECTIONS as usize / 2,
        _ => tables::count(),
    }
}

/// Reads the rows of `selection` into `table`, in a task of its own once `permits` has one
/// for it: the tables are read together, and their rows are taken apart on every worker
/// thread, not on one. A full load on PostgreSQL sizes the columns from `estimates`.
async fn read<T: Table>(
    db: &DatabaseConnection,
    permits: &Arc<Semaphore>,
    selection: Selection<'_>,
    estimates: &HashMap<String, usize>,
    table: &mut T,
) -> Result<(), DbErr> {
    let sql = T::select(&selection);
    let mut out = match estimates.get(T::FROM) {
        Some(rows) if T::SIZED => T::with_capacity(*rows),
        _ => T::default(),
    };
    let (db, permits) = (db.clone(), permits.clone());
    *table = tokio::spawn(async move {
        let _permit = permits
            .acquire_owned()
            .await
            .map_err(|e| DbErr::Custom(format!("an analytics read could not start: {e}")))?;
        rows::each(&db, &sql, |row| out.push(row)).await?;
        Ok::<_, DbErr>(out)
    })
    .await
    .map_err(|e| DbErr::Custom(format!("an analytics read failed: {e}")))??;
    Ok(())
}

/// The rows PostgreSQL estimates each table of this schema holds (from its last `ANALYZE`),
/// for a full load to size its columns; nothing on SQLite or for a partial load. A wrong
/// estimate only costs growing (or spare room in) a column.
async fn estimates(
    db: &DatabaseConnection,
    selection: Selection<'_>,
) -> Result<HashMap<String, usize>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres || !matches!(selection, Selection::All) {
        return Ok(HashMap::new());
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT relname::text, GREATEST(reltuples, 0)::bigint FROM pg_class \
             WHERE relkind = 'r' AND relnamespace = \
             (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let (table, estimate): (String, i64) =
                (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            Ok((
                table,
                usize::try_from(estimate).unwrap_or(0).min(MAX_ESTIMATE),
            ))
        })
        .collect()
}

/// The most rows an estimate sizes a column for.
const MAX_ESTIMATE: usize = 100_000_000;

/// Reads the tables of `selection` together, on separate connections ([`reads_at_once`]).
pub async fn tables(db: &DatabaseConnection, selection: Selection<'_>) -> Result<Tables, DbErr> {
    // A hint only: without estimates the columns grow as rows arrive.
    let estimates = estimates(db, selection).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "no row estimates for the analytics load");
        HashMap::new()
    });
    let permits = Arc::new(Semaphore::new(reads_at_once(db)));
    let mut tables = Tables::default();
    let mut reads = Vec::new();
    tables::each!(&mut tables, |table| {
        reads.push(read(db, &permits, selection, &estimates, table).boxed());
    });
    // Every read starts now.
    futures_util::future::try_join_all(reads).await?;
    tokio::task::spawn_blocking(move || consistent(tables))
        .await
        .map_err(|e| DbErr::Custom(format!("the analytics load failed: {e}")))?
}

/// The tables without the rows of releases and gates that were not read, or the error of a
/// row of an environment that was not read ([`Refs`]).
fn consistent(mut tables: Tables) -> Result<Tables, DbErr> {
    let releases = known(&tables.releases.id);
    tables::each!(&mut tables, |table| {
        keep_known(table, |refs| refs.release, &releases);
    });
    let gates = known(&tables.gates.id);
    tables::each!(&mut tables, |table| {
        keep_known(table, |refs| refs.gate, &gates);
    });
    let environments = known(&tables.environments.id);
    tables::each!(&tables, |table| {
        let named = table.refs().environment.unwrap_or_default();
        if let Some(environment) = named.iter().find(|id| environments.get(**id).is_none()) {
            return Err(DbErr::Type(format!(
                "a row of {} names environment {environment}, which was not read",
                table_name(table)
            )));
        }
    });
    Ok(tables)
}

fn known(ids: &[i64]) -> ById<()> {
    ById::new(ids, std::iter::repeat(()))
}

fn table_name<T: Table>(_: &T) -> &'static str {
    T::FROM
}

/// Keeps the rows of `table` that name an id in `known` in the column `column` picks from
/// its [`Refs`] (every row when it picks none).
fn keep_known<T: Table>(
    table: &mut T,
    column: impl Fn(Refs<'_>) -> Option<&[i64]>,
    known: &ById<()>,
) {
    let Some(ids) = column(table.refs()) else {
        return;
    };
    let kept: Vec<bool> = ids.iter().map(|id| known.get(*id).is_some()).collect();
    // On a full load every row is kept but those of a write racing the reads.
    if kept.iter().all(|k| *k) {
        return;
    }
    table.retain(&kept);
}

#[cfg(test)]
mod tests {
    use analytics::{DeploymentStatus, GateStatus, ReleaseStatus, ReleaseType, Tier};

    use super::*;

    /// Rows of releases 1 and 2, of release 3 (not read) and of gate 51 (of release 3).
    fn read() -> Tables {
        let mut t = Tables::default();
        t.releases.id = vec![1, 2];
        t.releases.program = vec![10, 20];
        t.releases.planned_end = vec![None, Some(5)];
        t.releases.kind = vec![ReleaseType::Minor, ReleaseType::Emergency];
        t.releases.created_at = vec![1, 2];
        t.environments.id = vec![7, 8];
        t.environments.tier = vec![Tier::Production, Tier::Staging];
        t.teams.release = vec![1, 3];
        t.teams.team = vec!["a".into(), "late".into()];
        let d = &mut t.deployments;
        d.id = vec![100, 101, 102];
        d.release = vec![2, 3, 1];
        d.environment = vec![7, 7, 8];
        d.status = vec![
            DeploymentStatus::Succeeded,
            DeploymentStatus::Failed,
            DeploymentStatus::InProgress,
        ];
        d.rollback = vec![false, false, true];
        d.finished_at = vec![Some(9), None, None];
        d.ingested = vec![true, false, false];
        t.items.release = vec![2, 3];
        t.items.committed_at = vec![Some(1), Some(2)];
        t.gates.id = vec![50, 51];
        t.gates.release = vec![1, 3];
        let r = &mut t.gate_results;
        r.id = vec![1000, 1001];
        r.gate = vec![50, 51];
        r.status = vec![GateStatus::Passed, GateStatus::Failed];
        r.checked_at = vec![3, 4];
        t.outcomes.release = vec![2, 3];
        t.overrides.release = vec![3, 2];
        t.overrides.at = vec![6, 7];
        t.unplanned.id = vec![9];
        t.unplanned.program = vec![20];
        t.unplanned.received_at = vec![8];
        t.unplanned.environment = vec![8];
        t.entries.release = vec![3, 1];
        t.entries.status = vec![ReleaseStatus::Scheduled, ReleaseStatus::InBuild];
        t.entries.at = vec![5, 6];
        t
    }

    #[test]
    fn rows_of_releases_and_gates_that_were_not_read_are_left_out() {
        let t = consistent(read()).unwrap_or_else(|e| panic!("{e}"));
        let d = &t.deployments;
        assert_eq!(
            d.id,
            [100, 102],
            "release 3 was committed after the releases were read"
        );
        assert_eq!(
            (&d.release, &d.environment, &d.rollback, &d.ingested),
            (
                &vec![2, 1],
                &vec![7, 8],
                &vec![false, true],
                &vec![true, false]
            )
        );
        assert_eq!(d.status.len(), 2);
        assert_eq!(t.items.release, [2]);
        assert_eq!((t.gates.id, t.gate_results.id), (vec![50], vec![1000]));
        assert_eq!(t.teams.team, ["a"]);
        assert_eq!(t.outcomes.release, [2]);
        assert_eq!(t.overrides.at, [7]);
        assert_eq!(t.entries.at, [6]);
        assert_eq!((t.releases.id, t.unplanned.id), (vec![1, 2], vec![9]));
    }

    #[test]
    fn a_row_of_an_environment_that_was_not_read_fails_the_read() {
        let mut deployed = read();
        deployed.deployments.environment[0] = 99;
        assert!(consistent(deployed).is_err());
        let mut delivered = read();
        delivered.unplanned.environment[0] = 99;
        assert!(consistent(delivered).is_err());
    }
}
