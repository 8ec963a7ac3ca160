//! The demo data set: a deterministic, realistic organisation with two years of history.
//!
//! Five program archetypes (`archetypes`) with different habits (payments deploys many
//! times a day with canaries; mobile ships monthly in stages; data weekly; a supplier-heavy
//! ERP programme rarely and riskily, piloting its major releases; internal tools often with
//! feature flags). `--scale N` makes N copies of each archetype. The same scale on the same
//! day gives the same data: randomness comes from a fixed-seed generator (`generator`) and
//! the calendar is anchored to the Monday 104 weeks before today.
//!
//! Rows are buffered (`rows`) and written with explicit ids in multi-row INSERTs inside one
//! transaction per program, which is what makes millions of rows affordable.

mod archetypes;
mod deliveries;
mod generator;
mod rng;
mod rows;

use std::time::Instant;

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    Statement, TransactionTrait,
};

use api::progress::Progress;
use api::secrets::{Cipher, Purpose};
use api::time;
use archetypes::{ARCHETYPES, ENVIRONMENTS};
use generator::ProgramGenerator;
use rng::Rng;
use rows::{Ids, Rows, next};

/// What `seed` wrote and how fast.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub programs: u64,
    pub releases: u64,
    pub production_deployments: u64,
    pub rows: u64,
    pub seconds: f64,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeded {} programs, {} releases, {} production deployments ({} rows in {:.1} s, {:.0} rows/s)",
            self.programs,
            self.releases,
            self.production_deployments,
            self.rows,
            self.seconds,
            self.rows as f64 / self.seconds.max(1e-9)
        )
    }
}

/// Writes the demo data set at `scale` into an empty, migrated database; its ingest
/// sources get random secrets sealed with `cipher`.
pub async fn seed_demo(
    db: &DatabaseConnection,
    cipher: &Cipher,
    scale: u32,
) -> anyhow::Result<SeedReport> {
    if program::Entity::find().count(db).await? > 0
        || environment::Entity::find().count(db).await? > 0
    {
        anyhow::bail!(
            "the database already has data; seed needs an empty one (relm migrate fresh empties it)"
        );
    }
    let started = Instant::now();
    let today = Utc::now().date_naive();
    let start = monday_on_or_before(today - Days::weeks(104));
    let start_us = time::to_micros(start.and_time(chrono::NaiveTime::MIN).and_utc());
    let now_us = time::to_micros(today.and_time(chrono::NaiveTime::MIN).and_utc());

    let mut report = SeedReport::default();
    let mut ids = Ids::default();
    let mut rows = Rows::default();
    let txn = db.begin().await?;
    for (i, (name, tier)) in ENVIRONMENTS.iter().enumerate() {
        environment::ActiveModel {
            id: sea_orm::Set(i as i64 + 1),
            name: sea_orm::Set((*name).to_owned()),
            tier: sea_orm::Set(*tier),
        }
        .insert(&txn)
        .await?;
    }
    global_freezes(&mut rows, &mut ids, start, today);
    report.rows += ENVIRONMENTS.len() as u64 + rows.flush(&txn).await?;
    txn.commit().await?;

    let progress = Progress::of(Some(u64::from(scale) * ARCHETYPES.len() as u64), "programs");
    for copy in 0..scale {
        for (a, archetype) in ARCHETYPES.iter().enumerate() {
            let seed = (u64::from(copy) << 8) | a as u64;
            let mut generator = ProgramGenerator {
                archetype,
                copy,
                start_us,
                now_us,
                rng: Rng(0x5EED_0000_0000 ^ seed.wrapping_mul(0x9E37_79B9)),
                ids: &mut ids,
                rows: &mut rows,
                turned: false,
            };
            let (releases, prod) = generator.generate();
            for source in &mut rows.sources {
                source.secret = cipher
                    .new_secret(Purpose::IngestSource)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .sealed;
            }
            report.programs += 1;
            report.releases += releases;
            report.production_deployments += prod;
            let txn = db.begin().await?;
            report.rows += rows.flush(&txn).await?;
            txn.commit().await?;
            progress.add(1);
            progress.say(format!("{} rows written", report.rows));
        }
    }
    progress.finish();
    reset_sequences(db).await?;
    // Fresh statistics, so the planner knows the tables' new sizes at once rather than
    // after autovacuum comes round (without them PostgreSQL picks slow plans for exports).
    db.execute_unprepared("ANALYZE").await?;
    api::commands::record_change(db, change::ChangeKind::Bulk, None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn monday_on_or_before(day: NaiveDate) -> NaiveDate {
    day - Days::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Year-end freezes for every program, in each year the history covers.
fn global_freezes(rows: &mut Rows, ids: &mut Ids, start: NaiveDate, today: NaiveDate) {
    for year in start.year()..=today.year() {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 12, 20),
            NaiveDate::from_ymd_opt(year + 1, 1, 3),
        ) else {
            continue;
        };
        rows.freezes.push(freeze_window::Model {
            id: next(&mut ids.freeze),
            name: format!("Year-end freeze {year}"),
            reason: Some("Peak trading and reduced staffing over the holidays.".into()),
            starts_at: time::to_micros(from.and_time(chrono::NaiveTime::MIN).and_utc()),
            ends_at: time::to_micros(to.and_time(chrono::NaiveTime::MIN).and_utc()),
            program_id: None,
        });
    }
}

/// PostgreSQL sequences do not see explicit ids; move each past the largest id.
async fn reset_sequences(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in [
        "programs",
        "environments",
        "releases",
        "release_parties",
        "release_items",
        "quality_gates",
        "gate_results",
        "approvals",
        "deployments",
        "incidents",
        "outcomes",
        "improvement_actions",
        "freeze_windows",
        "release_events",
        "ingest_sources",
        "ingest_aliases",
        "deliveries",
    ] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        );
        db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}

/// Whether `t` falls in a year-end freeze (20 Dec to 3 Jan).
fn in_year_end_freeze(t: i64) -> bool {
    let day = time::from_micros(t).date_naive();
    (day.month() == 12 && day.day() >= 20) || (day.month() == 1 && day.day() < 3)
}
