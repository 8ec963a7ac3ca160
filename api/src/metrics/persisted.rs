//! The analytics tables persisted beside a SQLite database (`relm.db.analytics`), so that a
//! restarted process loads them from one file instead of reading millions of rows through
//! sqlx (which hands SQLite's rows over one by one: 13 s at a million deployments).
//!
//! A snapshot holds the tables of a full load and the change-feed watermark they reflect;
//! the cache restores it and then applies every change after the watermark like any
//! refresh, so a restart misses no committed write. It is trusted only when it is whole
//! (length and CRC-32), of this version of relm, and of this database's history: the
//! change at its watermark must still be there with the same time. Anything else is
//! ignored and a full load writes a new one. It is written to a temporary file and
//! renamed, so a reader never sees half of one.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use analytics::{Coded, Tables};
use sea_orm::{DatabaseConnection, DbBackend};

/// What the file starts with.
const MAGIC: &[u8; 8] = b"RELMSTOR";
/// The layout below; bump it when the tables or their encoding change.
const FORMAT: u32 = 1;

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

/// Bytes written, with their CRC-32.
struct Writer<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

/// Bytes read, with their CRC-32.
struct Reader<R> {
    inner: R,
    crc: crc32fast::Hasher,
    /// Bytes left to read in the file: a corrupt length cannot ask for more.
    left: u64,
}

impl<W: Write> Writer<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.inner.write_all(bytes)
    }

    fn len(&mut self, n: usize) -> std::io::Result<()> {
        self.put(&(n as u64).to_le_bytes())
    }

    fn i64s(&mut self, values: &[i64]) -> std::io::Result<()> {
        self.len(values.len())?;
        values.iter().try_for_each(|v| self.put(&v.to_le_bytes()))
    }

    fn i32s(&mut self, values: impl ExactSizeIterator<Item = i32>) -> std::io::Result<()> {
        self.len(values.len())?;
        values
            .into_iter()
            .try_for_each(|v| self.put(&v.to_le_bytes()))
    }

    fn bools(&mut self, values: &[bool]) -> std::io::Result<()> {
        self.len(values.len())?;
        let bytes: Vec<u8> = values.iter().map(|b| u8::from(*b)).collect();
        self.put(&bytes)
    }

    fn optional_i64s(&mut self, values: &[Option<i64>]) -> std::io::Result<()> {
        self.bools(&values.iter().map(Option::is_some).collect::<Vec<_>>())?;
        self.i64s(
            &values
                .iter()
                .map(|v| v.unwrap_or_default())
                .collect::<Vec<_>>(),
        )
    }

    fn optional_i32s(&mut self, values: &[Option<i32>]) -> std::io::Result<()> {
        self.bools(&values.iter().map(Option::is_some).collect::<Vec<_>>())?;
        self.i32s(values.iter().map(|v| v.unwrap_or_default()))
    }

    fn codes<E: Coded>(&mut self, values: &[E]) -> std::io::Result<()> {
        self.i32s(values.iter().map(|v| v.code()))
    }

    fn texts(&mut self, values: &[String]) -> std::io::Result<()> {
        self.len(values.len())?;
        for text in values {
            self.len(text.len())?;
            self.put(text.as_bytes())?;
        }
        Ok(())
    }
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl<R: Read> Reader<R> {
    fn take(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        if n as u64 > self.left {
            return Err(bad("a length past the end of the file"));
        }
        self.left -= n as u64;
        let mut bytes = vec![0; n];
        self.inner.read_exact(&mut bytes)?;
        self.crc.update(&bytes);
        Ok(bytes)
    }

    fn fixed<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| bad("a short read"))
    }

    /// A count of values `width` bytes wide each.
    fn len_of(&mut self, width: usize) -> std::io::Result<usize> {
        let n = u64::from_le_bytes(self.fixed()?);
        match n.checked_mul(width as u64) {
            Some(bytes) if bytes <= self.left => Ok(n as usize),
            _ => Err(bad("a column longer than the file")),
        }
    }

    fn len(&mut self) -> std::io::Result<usize> {
        self.len_of(1)
    }

    fn i64s(&mut self) -> std::io::Result<Vec<i64>> {
        let n = self.len_of(8)?;
        let bytes = self.take(n * 8)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect())
    }

    fn i32s(&mut self) -> std::io::Result<Vec<i32>> {
        let n = self.len_of(4)?;
        let bytes = self.take(n * 4)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect())
    }

    fn bools(&mut self) -> std::io::Result<Vec<bool>> {
        let n = self.len()?;
        Ok(self.take(n)?.into_iter().map(|b| b != 0).collect())
    }

    fn optional_i64s(&mut self) -> std::io::Result<Vec<Option<i64>>> {
        let (present, values) = (self.bools()?, self.i64s()?);
        same_length(present.len(), values.len())?;
        Ok(present
            .into_iter()
            .zip(values)
            .map(|(p, v)| p.then_some(v))
            .collect())
    }

    fn optional_i32s(&mut self) -> std::io::Result<Vec<Option<i32>>> {
        let (present, values) = (self.bools()?, self.i32s()?);
        same_length(present.len(), values.len())?;
        Ok(present
            .into_iter()
            .zip(values)
            .map(|(p, v)| p.then_some(v))
            .collect())
    }

    fn codes<E: Coded>(&mut self) -> std::io::Result<Vec<E>> {
        self.i32s()?
            .into_iter()
            .map(|code| E::from_code(code).ok_or_else(|| bad("an unknown code")))
            .collect()
    }

    fn texts(&mut self) -> std::io::Result<Vec<String>> {
        let n = self.len_of(8)?;
        let mut texts = Vec::with_capacity(n);
        for _ in 0..n {
            let length = self.len()?;
            let bytes = self.take(length)?;
            texts.push(String::from_utf8(bytes).map_err(|_| bad("text that is not UTF-8"))?);
        }
        Ok(texts)
    }
}

fn same_length(a: usize, b: usize) -> std::io::Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(bad("columns of one table with different lengths"))
    }
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
    let mut w = Writer {
        inner: BufWriter::with_capacity(1 << 20, crate::db::owner_only_file(path)?),
        crc: crc32fast::Hasher::new(),
    };
    w.put(MAGIC)?;
    w.put(&FORMAT.to_le_bytes())?;
    w.texts(&[env!("CARGO_PKG_VERSION").to_owned()])?;
    w.i64s(&[s.watermark, s.watermark_at])?;
    // Every field, by destructuring: a field added to the tables does not compile here
    // until it is written (and FORMAT bumped).
    let Tables {
        releases,
        teams,
        deployments: d,
        items,
        incidents: i,
        gate_results: g,
        outcomes,
        actions: a,
        overrides: o,
        unplanned: u,
    } = &s.tables;
    let analytics::Releases {
        id,
        program,
        planned_end,
    } = releases;
    w.i64s(id)?;
    w.i64s(program)?;
    w.optional_i64s(planned_end)?;
    let analytics::Teams { release, team } = teams;
    w.i64s(release)?;
    w.texts(team)?;
    let analytics::Deployments {
        id,
        release,
        program,
        emergency,
        tier,
        status,
        rollback,
        finished_at,
        ingested,
    } = d;
    w.i64s(id)?;
    w.i64s(release)?;
    w.i64s(program)?;
    w.bools(emergency)?;
    w.codes(tier)?;
    w.codes(status)?;
    w.bools(rollback)?;
    w.optional_i64s(finished_at)?;
    w.bools(ingested)?;
    let analytics::Items {
        release,
        program,
        committed_at,
    } = items;
    w.i64s(release)?;
    w.i64s(program)?;
    w.optional_i64s(committed_at)?;
    let analytics::Incidents {
        id,
        program,
        release,
        deployment,
        caused_by_change,
        opened_at,
        resolved_at,
    } = i;
    w.i64s(id)?;
    w.i64s(program)?;
    w.optional_i64s(release)?;
    w.optional_i64s(deployment)?;
    w.bools(caused_by_change)?;
    w.i64s(opened_at)?;
    w.optional_i64s(resolved_at)?;
    let analytics::GateResults {
        id,
        gate,
        release,
        program,
        status,
        checked_at,
    } = g;
    w.i64s(id)?;
    w.i64s(gate)?;
    w.i64s(release)?;
    w.i64s(program)?;
    w.codes(status)?;
    w.i64s(checked_at)?;
    let analytics::Outcomes { release } = outcomes;
    w.i64s(release)?;
    let analytics::Actions {
        release,
        program,
        created_at,
        closed_at,
        due_date,
    } = a;
    w.i64s(release)?;
    w.i64s(program)?;
    w.i64s(created_at)?;
    w.optional_i64s(closed_at)?;
    w.optional_i32s(due_date)?;
    let analytics::Overrides {
        release,
        program,
        at,
    } = o;
    w.i64s(release)?;
    w.i64s(program)?;
    w.i64s(at)?;
    let analytics::Unplanned {
        id,
        program,
        received_at,
        tier,
    } = u;
    w.i64s(id)?;
    w.i64s(program)?;
    w.i64s(received_at)?;
    w.codes(tier)?;
    let crc = w.crc.clone().finalize();
    w.inner.write_all(&crc.to_le_bytes())?;
    w.inner.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// The snapshot at `path`, or why it cannot be used (missing, torn, corrupt, of another
/// version).
pub fn read(path: &Path) -> std::io::Result<Persisted> {
    let file = File::open(path)?;
    let mut r = Reader {
        left: file.metadata()?.len(),
        inner: BufReader::with_capacity(1 << 20, file),
        crc: crc32fast::Hasher::new(),
    };
    if &r.fixed::<8>()? != MAGIC || u32::from_le_bytes(r.fixed()?) != FORMAT {
        return Err(bad("not a snapshot of this format"));
    }
    if r.texts()? != [env!("CARGO_PKG_VERSION")] {
        return Err(bad("a snapshot of another version of relm"));
    }
    let marks = r.i64s()?;
    let [watermark, watermark_at] = marks[..] else {
        return Err(bad("no watermark"));
    };
    let tables = Tables {
        releases: analytics::Releases {
            id: r.i64s()?,
            program: r.i64s()?,
            planned_end: r.optional_i64s()?,
        },
        teams: analytics::Teams {
            release: r.i64s()?,
            team: r.texts()?,
        },
        deployments: analytics::Deployments {
            id: r.i64s()?,
            release: r.i64s()?,
            program: r.i64s()?,
            emergency: r.bools()?,
            tier: r.codes()?,
            status: r.codes()?,
            rollback: r.bools()?,
            finished_at: r.optional_i64s()?,
            ingested: r.bools()?,
        },
        items: analytics::Items {
            release: r.i64s()?,
            program: r.i64s()?,
            committed_at: r.optional_i64s()?,
        },
        incidents: analytics::Incidents {
            id: r.i64s()?,
            program: r.i64s()?,
            release: r.optional_i64s()?,
            deployment: r.optional_i64s()?,
            caused_by_change: r.bools()?,
            opened_at: r.i64s()?,
            resolved_at: r.optional_i64s()?,
        },
        gate_results: analytics::GateResults {
            id: r.i64s()?,
            gate: r.i64s()?,
            release: r.i64s()?,
            program: r.i64s()?,
            status: r.codes()?,
            checked_at: r.i64s()?,
        },
        outcomes: analytics::Outcomes { release: r.i64s()? },
        actions: analytics::Actions {
            release: r.i64s()?,
            program: r.i64s()?,
            created_at: r.i64s()?,
            closed_at: r.optional_i64s()?,
            due_date: r.optional_i32s()?,
        },
        overrides: analytics::Overrides {
            release: r.i64s()?,
            program: r.i64s()?,
            at: r.i64s()?,
        },
        unplanned: analytics::Unplanned {
            id: r.i64s()?,
            program: r.i64s()?,
            received_at: r.i64s()?,
            tier: r.codes()?,
        },
    };
    let computed = r.crc.clone().finalize();
    let stored = u32::from_le_bytes(r.fixed()?);
    if stored != computed || r.left != 0 {
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
    use analytics::{DeploymentStatus, GateStatus, Tier};

    fn tables() -> Tables {
        let mut t = Tables::default();
        t.releases.id = vec![1, 2];
        t.releases.program = vec![7, 7];
        t.releases.planned_end = vec![None, Some(-5)];
        t.teams.release = vec![1];
        t.teams.team = vec!["payments-core ✓".into()];
        t.deployments.id = vec![10];
        t.deployments.release = vec![1];
        t.deployments.program = vec![7];
        t.deployments.emergency = vec![true];
        t.deployments.tier = vec![Tier::Production];
        t.deployments.status = vec![DeploymentStatus::RolledBack];
        t.deployments.rollback = vec![false];
        t.deployments.finished_at = vec![Some(i64::MAX)];
        t.deployments.ingested = vec![true];
        t.gate_results.id = vec![3];
        t.gate_results.gate = vec![4];
        t.gate_results.release = vec![2];
        t.gate_results.program = vec![7];
        t.gate_results.status = vec![GateStatus::Waived];
        t.gate_results.checked_at = vec![9];
        t.actions.release = vec![2];
        t.actions.program = vec![7];
        t.actions.created_at = vec![1];
        t.actions.closed_at = vec![None];
        t.actions.due_date = vec![Some(20_000)];
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
