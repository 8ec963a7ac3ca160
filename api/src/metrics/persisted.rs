//! The analytics tables persisted beside a SQLite database (`relm.db.analytics`), so that a
//! restarted process loads them from one file instead of reading millions of rows through
//! sqlx (which hands SQLite's rows over one by one: 13 s at a million deployments).
//!
//! A snapshot holds the tables of a full load and the change-feed watermark they reflect;
//! the cache restores it and then applies every change after the watermark like any
//! refresh, so a restart misses no committed write. It is trusted only when it is whole
//! (length and CRC-32), of this version of relm and of this layout of the tables (their
//! columns and kinds, as declared in [`super::tables`]), and of this database's history:
//! the change at its watermark must still be there with the same time. Anything else is
//! ignored and a full load writes a new one. It is written to a temporary file and
//! renamed, so a reader never sees half of one.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use analytics::Tables;
use sea_orm::{DatabaseConnection, DbBackend};

use super::codec::{Reader, Writer, bad};
use super::tables::{self, Table};

/// What the file starts with.
const MAGIC: &[u8; 8] = b"RELMSTOR";
/// How a snapshot is framed and its columns encoded; bump it when that changes. (A change to
/// the tables' columns changes the layout the file also holds, so it needs no bump.)
const FORMAT: u32 = 2;

/// The snapshot file of a SQLite database on disk, or None (PostgreSQL, in-memory SQLite).
pub fn path_of(db: &DatabaseConnection) -> Option<PathBuf> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    let name = file.file_name()?.to_str()?;
    if name.is_empty() || name.starts_with(':') || file.to_str()?.starts_with("file:") {
        return None;
    }
    Some(file.with_file_name(format!("{name}.analytics")))
}

/// A full load and where the change feed stood when it began.
pub struct Persisted {
    pub tables: Tables,
    pub watermark: i64,
    /// The time of the change at the watermark (0 when there was none), which ties the
    /// snapshot to this database's history.
    pub watermark_at: i64,
}

/// Writes `snapshot` to `path` (through a temporary file beside it).
pub fn write(path: &Path, persisted: &Persisted) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("analytics.{}.tmp", std::process::id()));
    let written = write_to(&temporary, persisted).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn write_to(path: &Path, s: &Persisted) -> std::io::Result<()> {
    let mut w = Writer::new(BufWriter::with_capacity(
        1 << 20,
        crate::db::owner_only_file(path)?,
    ));
    w.put(MAGIC)?;
    w.put(&FORMAT.to_le_bytes())?;
    w.text(env!("CARGO_PKG_VERSION"))?;
    w.text(&tables::layout())?;
    w.values(
        [s.watermark, s.watermark_at]
            .map(i64::to_le_bytes)
            .into_iter(),
    )?;
    tables::each!(&s.tables, |table| {
        w.count(table.rows())?;
        table.store(&mut w)?;
    });
    w.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
}

/// The snapshot at `path`, or why it cannot be used (missing, torn, corrupt, of another
/// version or layout).
pub fn read(path: &Path) -> std::io::Result<Persisted> {
    let file = File::open(path)?;
    let length = file.metadata()?.len();
    let mut r = Reader::new(BufReader::with_capacity(1 << 20, file), length);
    if &r.fixed::<8>()? != MAGIC || u32::from_le_bytes(r.fixed()?) != FORMAT {
        return Err(bad("not a snapshot of this format"));
    }
    if r.text()? != env!("CARGO_PKG_VERSION") {
        return Err(bad("a snapshot of another version of relm"));
    }
    if r.text()? != tables::layout() {
        return Err(bad("a snapshot of other analytics columns"));
    }
    let [watermark, watermark_at] = r.values(2, i64::from_le_bytes)?[..] else {
        return Err(bad("no watermark"));
    };
    let mut tables = Tables::default();
    tables::each!(&mut tables, |table| {
        let rows = r.count()?;
        *table = Table::load(&mut r, rows)?;
    });
    if !r.finish()? {
        return Err(bad("the snapshot is corrupt"));
    }
    Ok(Persisted {
        tables,
        watermark,
        watermark_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use analytics::{DeploymentStatus, GateStatus, ReleaseStatus, ReleaseType, Tier};

    fn tables() -> Tables {
        let mut t = Tables::default();
        t.releases.id = vec![1, 2];
        t.releases.program = vec![7, 7];
        t.releases.planned_end = vec![None, Some(-5)];
        t.releases.kind = vec![ReleaseType::Emergency, ReleaseType::Major];
        t.releases.created_at = vec![-9, 3];
        t.environments.id = vec![5];
        t.environments.tier = vec![Tier::Production];
        t.teams.release = vec![1];
        t.teams.team = vec!["payments-core ✓".into()];
        t.deployments.id = vec![10];
        t.deployments.release = vec![1];
        t.deployments.environment = vec![5];
        t.deployments.status = vec![DeploymentStatus::RolledBack];
        t.deployments.rollback = vec![false];
        t.deployments.finished_at = vec![Some(i64::MAX)];
        t.deployments.ingested = vec![true];
        t.gates.id = vec![4];
        t.gates.release = vec![2];
        t.gate_results.id = vec![3];
        t.gate_results.gate = vec![4];
        t.gate_results.status = vec![GateStatus::Waived];
        t.gate_results.checked_at = vec![9];
        t.actions.release = vec![2];
        t.actions.created_at = vec![1];
        t.actions.closed_at = vec![None];
        t.actions.due_date = vec![Some(20_000)];
        t.entries.release = vec![2, 2];
        t.entries.status = vec![ReleaseStatus::Scheduled, ReleaseStatus::Cancelled];
        t.entries.at = vec![4, 8];
        t
    }

    fn temp_file() -> PathBuf {
        std::env::temp_dir().join(format!("relm-snapshot-{}", uuid::Uuid::new_v4().simple()))
    }

    #[test]
    fn a_snapshot_reads_back_as_written() {
        let path = temp_file();
        let snapshot = Persisted {
            tables: tables(),
            watermark: 42,
            watermark_at: 1_700_000_000_000_000,
        };
        write(&path, &snapshot).unwrap_or_else(|e| panic!("{e}"));
        let back = read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (back.watermark, back.watermark_at),
            (42, 1_700_000_000_000_000)
        );
        assert_eq!(
            format!("{:?}", back.tables),
            format!("{:?}", snapshot.tables)
        );
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn torn_or_corrupt_snapshots_are_refused() {
        let path = temp_file();
        let snapshot = Persisted {
            tables: tables(),
            watermark: 1,
            watermark_at: 2,
        };
        write(&path, &snapshot).unwrap_or_else(|e| panic!("{e}"));
        let bytes = std::fs::read(&path).unwrap_or_default();
        for cut in [0, 7, 30, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).ok();
            assert!(read(&path).is_err(), "cut at {cut}");
        }
        for flipped in [9, 40, bytes.len() / 2, bytes.len() - 2] {
            let mut corrupt = bytes.clone();
            corrupt[flipped] ^= 0x20;
            std::fs::write(&path, &corrupt).ok();
            assert!(read(&path).is_err(), "byte {flipped} flipped");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        std::fs::write(&path, &longer).ok();
        assert!(read(&path).is_err(), "a byte after the checksum");
        std::fs::write(&path, &bytes).ok();
        assert!(read(&path).is_ok());
        std::fs::remove_file(path).ok();
    }
}
