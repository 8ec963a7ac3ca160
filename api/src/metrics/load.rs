//! Reading the analytics tables: only the columns metrics use, straight into columns.
//!
//! Every table is read on its own, all of them at once on separate connections, and
//! without joins: what a row takes from its release (program, type), its gate (release)
//! or its environment (tier) is looked up here once the rows have arrived, which costs
//! far less than the database joining a million rows. Enumerations arrive as their stored
//! text and are matched against the analytics spellings ([`Coded`]); text no variant
//! spells fails the read instead of becoming another value. Ids in `IN (…)` lists are
//! formatted integers, never user text.
//!
//! Being separate statements, the reads can see a row whose release (or gate) committed
//! after the releases (or gates) were read; such a row is left out. Its release's change
//! comes after the watermark the cache read before loading, so the next refresh reads that
//! release again, whole.

use std::collections::HashMap;
use std::sync::Arc;

use analytics::{ById, Coded, DeploymentStatus, GateStatus, Tables, Tier};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::Semaphore;

use super::rows::{self, Row};
use crate::db::id_list;

/// Which rows to read.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    /// Everything that belongs to these releases, these incidents and these deliveries.
    Only {
        releases: &'a [i64],
        incidents: &'a [i64],
        deliveries: &'a [i64],
    },
}

impl Selection<'_> {
    /// A condition on `column` holding a release id.
    fn releases(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { releases, .. } => {
                format!("{column} IN ({})", id_list(releases.iter().copied()))
            }
        }
    }

    /// A condition on `column` holding a delivery id.
    fn deliveries(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { deliveries, .. } => {
                format!("{column} IN ({})", id_list(deliveries.iter().copied()))
            }
        }
    }

    fn incidents(&self) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only {
                releases,
                incidents,
                ..
            } => format!(
                "release_id IN ({}) OR id IN ({})",
                id_list(releases.iter().copied()),
                id_list(incidents.iter().copied())
            ),
        }
    }
}

/// The variant `text` spells, or the error of a stored value analytics does not know.
fn coded<E: Coded>(text: &str) -> Result<E, DbErr> {
    E::iter()
        .find(|v| Into::<&str>::into(*v) == text)
        .ok_or_else(|| {
            DbErr::Type(format!(
                "a stored {} '{text}' that analytics does not know",
                std::any::type_name::<E>()
            ))
        })
}

/// How many tables a load reads at once. On SQLite half its pool's connections: a read
/// waiting in the pool gives up after its acquire timeout, and at ten million deployments
/// every table takes longer than that, so a first start failed as "busy" whenever the reads
/// outnumbered the connections; commands also keep connections this way (the reads of
/// requests have their own, `db::Reads`). On PostgreSQL all
/// twelve at once: its pool has 16 connections, and binary `COPY` reads a table in seconds.
fn reads_at_once(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Sqlite => crate::db::SQLITE_CONNECTIONS as usize / 2,
        _ => TABLES,
    }
}

/// The tables a load reads.
const TABLES: usize = 12;

/// The rows of `sql`, each pushed into `out`, read in a task of its own once `permits` has
/// one for it: the tables are read together, and their rows are taken apart on every
/// worker thread, not on one.
async fn read<T: Send + 'static>(
    db: &DatabaseConnection,
    permits: &Arc<Semaphore>,
    sql: String,
    mut out: T,
    mut push: impl FnMut(&mut T, &mut dyn Row) -> Result<(), DbErr> + Send + 'static,
) -> Result<T, DbErr> {
    let (db, permits) = (db.clone(), permits.clone());
    tokio::spawn(async move {
        let _permit = permits
            .acquire_owned()
            .await
            .map_err(|e| DbErr::Custom(format!("an analytics read could not start: {e}")))?;
        rows::each(&db, &sql, |row| push(&mut out, row)).await?;
        Ok(out)
    })
    .await
    .map_err(|e| DbErr::Custom(format!("an analytics read failed: {e}")))?
}

/// Columns with room for `rows` values each: a column that grows as rows arrive is copied
/// into fresh memory each time it doubles, which the kernel zeroes first (half of a cold
/// start's page faults on PostgreSQL were that).
macro_rules! sized {
    ($kind:path { $($column:ident),+ }, $rows:expr) => {{
        let rows = $rows;
        $kind { $($column: Vec::with_capacity(rows)),+ }
    }};
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

struct Releases {
    rows: analytics::Releases,
    emergency: Vec<bool>,
}

struct Deployments {
    id: Vec<i64>,
    release: Vec<i64>,
    environment: Vec<i64>,
    status: Vec<DeploymentStatus>,
    rollback: Vec<bool>,
    finished_at: Vec<Option<i64>>,
    ingested: Vec<bool>,
}

struct Results {
    id: Vec<i64>,
    gate: Vec<i64>,
    status: Vec<GateStatus>,
    checked_at: Vec<i64>,
}

#[derive(Default)]
struct Actions {
    release: Vec<i64>,
    created_at: Vec<i64>,
    closed_at: Vec<Option<i64>>,
    due_date: Vec<Option<i32>>,
}

#[derive(Default)]
struct Unplanned {
    id: Vec<i64>,
    program: Vec<i64>,
    received_at: Vec<i64>,
    environment: Vec<i64>,
}

/// Everything read, before the lookups.
struct Raw {
    releases: Releases,
    tiers: HashMap<i64, Tier>,
    teams: analytics::Teams,
    deployments: Deployments,
    /// (release, committed at)
    items: (Vec<i64>, Vec<Option<i64>>),
    incidents: analytics::Incidents,
    /// (gate, release)
    gates: (Vec<i64>, Vec<i64>),
    results: Results,
    outcomes: analytics::Outcomes,
    actions: Actions,
    /// (release, at)
    overrides: (Vec<i64>, Vec<i64>),
    unplanned: Unplanned,
}

/// Reads the tables of `selection` together, on separate connections ([`reads_at_once`]).
pub async fn tables(db: &DatabaseConnection, selection: Selection<'_>) -> Result<Tables, DbErr> {
    let s = selection;
    // A hint only: without estimates the columns grow as rows arrive.
    let estimates = estimates(db, s).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "no row estimates for the analytics load");
        HashMap::new()
    });
    let rows = |table: &str| estimates.get(table).copied().unwrap_or(0);
    let permits = Arc::new(Semaphore::new(reads_at_once(db)));
    let releases = read(
        db,
        &permits,
        format!(
            "SELECT id, program_id, planned_end, type FROM releases WHERE {}",
            s.releases("id")
        ),
        Releases {
            rows: sized!(
                analytics::Releases {
                    id,
                    program,
                    planned_end
                },
                rows("releases")
            ),
            emergency: Vec::with_capacity(rows("releases")),
        },
        |out: &mut Releases, row| {
            out.rows.id.push(row.int()?);
            out.rows.program.push(row.int()?);
            out.rows.planned_end.push(row.int_or_null()?);
            out.emergency.push(row.text()? == "EMERGENCY");
            Ok(())
        },
    );
    let tiers = read(
        db,
        &permits,
        "SELECT id, tier FROM environments".into(),
        HashMap::new(),
        |out: &mut HashMap<i64, Tier>, row| {
            out.insert(row.int()?, coded(&row.text()?)?);
            Ok(())
        },
    );
    let teams = read(
        db,
        &permits,
        format!(
            "SELECT release_id, name FROM release_parties WHERE role = 'TEAM' AND {}",
            s.releases("release_id")
        ),
        sized!(analytics::Teams { release, team }, rows("release_parties")),
        |out: &mut analytics::Teams, row| {
            out.release.push(row.int()?);
            out.team.push(row.text()?);
            Ok(())
        },
    );
    let deployments = read(
        db,
        &permits,
        format!(
            "SELECT id, release_id, environment_id, status, is_rollback, finished_at, \
             CASE WHEN source_id IS NULL THEN 0 ELSE 1 END FROM deployments WHERE {}",
            s.releases("release_id")
        ),
        sized!(
            Deployments {
                id,
                release,
                environment,
                status,
                rollback,
                finished_at,
                ingested
            },
            rows("deployments")
        ),
        |d: &mut Deployments, row| {
            d.id.push(row.int()?);
            d.release.push(row.int()?);
            d.environment.push(row.int()?);
            d.status.push(coded(&row.text()?)?);
            d.rollback.push(row.flag()?);
            d.finished_at.push(row.int_or_null()?);
            d.ingested.push(row.flag()?);
            Ok(())
        },
    );
    let items = read(
        db,
        &permits,
        format!(
            "SELECT release_id, committed_at FROM release_items WHERE {}",
            s.releases("release_id")
        ),
        (
            Vec::with_capacity(rows("release_items")),
            Vec::with_capacity(rows("release_items")),
        ),
        |(release, committed): &mut (Vec<i64>, Vec<Option<i64>>), row| {
            release.push(row.int()?);
            committed.push(row.int_or_null()?);
            Ok(())
        },
    );
    let incidents = read(
        db,
        &permits,
        format!(
            "SELECT id, program_id, release_id, deployment_id, caused_by_change, opened_at, \
             resolved_at FROM incidents WHERE {}",
            s.incidents()
        ),
        analytics::Incidents::default(),
        |i: &mut analytics::Incidents, row| {
            i.id.push(row.int()?);
            i.program.push(row.int()?);
            i.release.push(row.int_or_null()?);
            i.deployment.push(row.int_or_null()?);
            i.caused_by_change.push(row.flag()?);
            i.opened_at.push(row.int()?);
            i.resolved_at.push(row.int_or_null()?);
            Ok(())
        },
    );
    let gates = read(
        db,
        &permits,
        format!(
            "SELECT id, release_id FROM quality_gates WHERE {}",
            s.releases("release_id")
        ),
        (
            Vec::with_capacity(rows("quality_gates")),
            Vec::with_capacity(rows("quality_gates")),
        ),
        |(gate, release): &mut (Vec<i64>, Vec<i64>), row| {
            gate.push(row.int()?);
            release.push(row.int()?);
            Ok(())
        },
    );
    let results = read(
        db,
        &permits,
        format!(
            "SELECT id, gate_id, status, checked_at FROM gate_results WHERE {}",
            match s {
                Selection::All => "1 = 1".into(),
                Selection::Only { .. } => format!(
                    "gate_id IN (SELECT id FROM quality_gates WHERE {})",
                    s.releases("release_id")
                ),
            }
        ),
        sized!(
            Results {
                id,
                gate,
                status,
                checked_at
            },
            rows("gate_results")
        ),
        |r: &mut Results, row| {
            r.id.push(row.int()?);
            r.gate.push(row.int()?);
            r.status.push(coded(&row.text()?)?);
            r.checked_at.push(row.int()?);
            Ok(())
        },
    );
    let outcomes = read(
        db,
        &permits,
        format!(
            "SELECT release_id FROM outcomes WHERE {}",
            s.releases("release_id")
        ),
        analytics::Outcomes::default(),
        |out: &mut analytics::Outcomes, row| {
            out.release.push(row.int()?);
            Ok(())
        },
    );
    let actions = read(
        db,
        &permits,
        format!(
            "SELECT release_id, created_at, closed_at, due_date FROM improvement_actions \
             WHERE {}",
            s.releases("release_id")
        ),
        Actions::default(),
        |a: &mut Actions, row| {
            a.release.push(row.int()?);
            a.created_at.push(row.int()?);
            a.closed_at.push(row.int_or_null()?);
            a.due_date.push(row.date_or_null()?);
            Ok(())
        },
    );
    let overrides = read(
        db,
        &permits,
        format!(
            "SELECT release_id, at FROM release_events WHERE overrode_freeze AND {}",
            s.releases("release_id")
        ),
        Default::default(),
        |(release, at): &mut (Vec<i64>, Vec<i64>), row| {
            release.push(row.int()?);
            at.push(row.int()?);
            Ok(())
        },
    );
    // Deployment deliveries that stayed outside the process, where their environment is known.
    let unplanned = read(
        db,
        &permits,
        format!(
            "SELECT id, program_id, received_at, environment_id FROM deliveries \
             WHERE status IN ('UNMATCHED', 'REJECTED') AND environment_id IS NOT NULL AND {}",
            s.deliveries("id")
        ),
        Unplanned::default(),
        |u: &mut Unplanned, row| {
            u.id.push(row.int()?);
            u.program.push(row.int()?);
            u.received_at.push(row.int()?);
            u.environment.push(row.int()?);
            Ok(())
        },
    );
    // Every read starts now: two groups joined together, as one join takes at most six.
    let (
        (releases, tiers, teams, deployments, items, incidents),
        (gates, results, outcomes, actions, overrides, unplanned),
    ) = futures_util::future::try_join(
        async { futures_util::try_join!(releases, tiers, teams, deployments, items, incidents) },
        async { futures_util::try_join!(gates, results, outcomes, actions, overrides, unplanned) },
    )
    .await?;
    let raw = Raw {
        releases,
        tiers,
        teams,
        deployments,
        items,
        incidents,
        gates,
        results,
        outcomes,
        actions,
        overrides,
        unplanned,
    };
    tokio::task::spawn_blocking(move || assemble(raw))
        .await
        .map_err(|e| DbErr::Custom(format!("the analytics load failed: {e}")))?
}

/// The tables, with every row given its release's program and type, its gate's release and
/// its environment's tier.
fn assemble(raw: Raw) -> Result<Tables, DbErr> {
    let Raw {
        releases,
        tiers,
        teams,
        deployments: d,
        items,
        incidents,
        gates,
        results: r,
        outcomes,
        actions: a,
        overrides,
        unplanned: u,
    } = raw;
    let of_release = ById::new(
        &releases.rows.id,
        releases
            .rows
            .program
            .iter()
            .copied()
            .zip(releases.emergency.iter().copied()),
    );
    let program = |release: &i64| of_release.get(*release).map(|(p, _)| p);
    let gates = ById::new(&gates.0, gates.1.iter().copied());
    let unknown_tier = |environment: &i64| {
        DbErr::Type(format!(
            "a deployment to environment {environment}, which was not read"
        ))
    };

    let mut deployments = sized!(
        analytics::Deployments {
            id,
            release,
            program,
            emergency,
            tier,
            status,
            rollback,
            finished_at,
            ingested
        },
        d.id.len()
    );
    for i in 0..d.id.len() {
        let Some((program, emergency)) = of_release.get(d.release[i]) else {
            continue;
        };
        let out = &mut deployments;
        out.id.push(d.id[i]);
        out.release.push(d.release[i]);
        out.program.push(program);
        out.emergency.push(emergency);
        out.tier.push(
            *tiers
                .get(&d.environment[i])
                .ok_or_else(|| unknown_tier(&d.environment[i]))?,
        );
        out.status.push(d.status[i]);
        out.rollback.push(d.rollback[i]);
        out.finished_at.push(d.finished_at[i]);
        out.ingested.push(d.ingested[i]);
    }

    let mut release_items = sized!(
        analytics::Items {
            release,
            program,
            committed_at
        },
        items.0.len()
    );
    for (release, committed) in items.0.into_iter().zip(items.1) {
        if let Some(program) = program(&release) {
            release_items.release.push(release);
            release_items.program.push(program);
            release_items.committed_at.push(committed);
        }
    }

    let mut gate_results = sized!(
        analytics::GateResults {
            id,
            gate,
            release,
            program,
            status,
            checked_at
        },
        r.id.len()
    );
    for i in 0..r.id.len() {
        let Some(release) = gates.get(r.gate[i]) else {
            continue;
        };
        let Some(program) = program(&release) else {
            continue;
        };
        let g = &mut gate_results;
        g.id.push(r.id[i]);
        g.gate.push(r.gate[i]);
        g.release.push(release);
        g.program.push(program);
        g.status.push(r.status[i]);
        g.checked_at.push(r.checked_at[i]);
    }

    let mut improvement_actions = analytics::Actions::default();
    for i in 0..a.release.len() {
        if let Some(program) = program(&a.release[i]) {
            let out = &mut improvement_actions;
            out.release.push(a.release[i]);
            out.program.push(program);
            out.created_at.push(a.created_at[i]);
            out.closed_at.push(a.closed_at[i]);
            out.due_date.push(a.due_date[i]);
        }
    }

    let mut freeze_overrides = analytics::Overrides::default();
    for (release, at) in overrides.0.into_iter().zip(overrides.1) {
        if let Some(program) = program(&release) {
            freeze_overrides.release.push(release);
            freeze_overrides.program.push(program);
            freeze_overrides.at.push(at);
        }
    }

    let mut unplanned = analytics::Unplanned::default();
    for i in 0..u.id.len() {
        unplanned.id.push(u.id[i]);
        unplanned.program.push(u.program[i]);
        unplanned.received_at.push(u.received_at[i]);
        unplanned.tier.push(
            *tiers
                .get(&u.environment[i])
                .ok_or_else(|| unknown_tier(&u.environment[i]))?,
        );
    }

    let known = |release: &i64| of_release.get(*release).is_some();
    let mut teams = teams;
    let kept: Vec<bool> = teams.release.iter().map(known).collect();
    retain(&mut teams.release, &kept);
    retain(&mut teams.team, &kept);
    let mut outcomes = outcomes;
    outcomes.release.retain(known);

    Ok(Tables {
        releases: releases.rows,
        teams,
        deployments,
        items: release_items,
        incidents,
        gate_results,
        outcomes,
        actions: improvement_actions,
        overrides: freeze_overrides,
        unplanned,
    })
}

/// Keeps the values whose flag in `kept` is true.
fn retain<T>(values: &mut Vec<T>, kept: &[bool]) {
    let mut flags = kept.iter();
    values.retain(|_| flags.next().copied().unwrap_or(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums;
    use sea_orm::Iterable;

    /// Every stored spelling of `D` has exactly one analytics variant, and back.
    fn same_spellings<D, E>(stored: impl Fn(D) -> &'static str)
    where
        D: Iterable,
        E: Coded,
    {
        let mut stored: Vec<&str> = D::iter().map(stored).collect();
        let mut coded: Vec<&str> = E::iter().map(Into::into).collect();
        stored.sort_unstable();
        coded.sort_unstable();
        assert_eq!(stored, coded, "{}", std::any::type_name::<E>());
    }

    #[test]
    fn analytics_codes_cover_every_stored_value() {
        same_spellings::<enums::EnvironmentTier, Tier>(enums::EnvironmentTier::as_str);
        same_spellings::<enums::DeploymentStatus, DeploymentStatus>(
            enums::DeploymentStatus::as_str,
        );
        same_spellings::<enums::GateStatus, GateStatus>(enums::GateStatus::as_str);
    }

    #[test]
    fn stored_text_is_read_as_its_variant_or_refused() {
        assert_eq!(coded::<Tier>("PRODUCTION"), Ok(Tier::Production));
        assert_eq!(
            coded::<DeploymentStatus>("ROLLED_BACK"),
            Ok(DeploymentStatus::RolledBack)
        );
        assert!(coded::<DeploymentStatus>("rolled_back").is_err());
        assert!(coded::<GateStatus>("").is_err());
    }

    fn raw() -> Raw {
        Raw {
            releases: Releases {
                rows: analytics::Releases {
                    id: vec![1, 2],
                    program: vec![10, 20],
                    planned_end: vec![None, Some(5)],
                },
                emergency: vec![false, true],
            },
            tiers: HashMap::from([(7, Tier::Production), (8, Tier::Staging)]),
            teams: analytics::Teams {
                release: vec![1, 3],
                team: vec!["a".into(), "late".into()],
            },
            deployments: Deployments {
                id: vec![100, 101, 102],
                release: vec![2, 3, 1],
                environment: vec![7, 7, 8],
                status: vec![
                    DeploymentStatus::Succeeded,
                    DeploymentStatus::Failed,
                    DeploymentStatus::InProgress,
                ],
                rollback: vec![false, false, true],
                finished_at: vec![Some(9), None, None],
                ingested: vec![true, false, false],
            },
            items: (vec![2, 3], vec![Some(1), Some(2)]),
            incidents: analytics::Incidents::default(),
            gates: (vec![50, 51], vec![1, 3]),
            results: Results {
                id: vec![1000, 1001],
                gate: vec![50, 51],
                status: vec![GateStatus::Passed, GateStatus::Failed],
                checked_at: vec![3, 4],
            },
            outcomes: analytics::Outcomes {
                release: vec![2, 3],
            },
            actions: Actions::default(),
            overrides: (vec![3, 2], vec![6, 7]),
            unplanned: Unplanned {
                id: vec![9],
                program: vec![20],
                received_at: vec![8],
                environment: vec![8],
            },
        }
    }

    #[test]
    fn rows_take_their_releases_program_and_rows_of_unread_releases_are_left_out() {
        let t = assemble(raw()).unwrap_or_else(|e| panic!("{e}"));
        let d = &t.deployments;
        assert_eq!(
            d.id,
            [100, 102],
            "release 3 was committed after the releases were read"
        );
        assert_eq!(d.program, [20, 10]);
        assert_eq!(d.emergency, [true, false]);
        assert_eq!(d.tier, [Tier::Production, Tier::Staging]);
        assert_eq!(d.rollback, [false, true]);
        assert_eq!(d.ingested, [true, false]);
        assert_eq!((t.items.release, t.items.program), (vec![2], vec![20]));
        assert_eq!(t.gate_results.id, [1000]);
        assert_eq!(
            (t.gate_results.release, t.gate_results.program),
            (vec![1], vec![10])
        );
        assert_eq!(t.teams.team, ["a"]);
        assert_eq!(t.outcomes.release, [2]);
        assert_eq!(
            (t.overrides.release, t.overrides.program),
            (vec![2], vec![20])
        );
        assert_eq!(t.unplanned.tier, [Tier::Staging]);
    }

    #[test]
    fn a_deployment_to_an_unknown_environment_fails_the_read() {
        let mut raw = raw();
        raw.deployments.environment[0] = 99;
        assert!(assemble(raw).is_err());
    }
}
