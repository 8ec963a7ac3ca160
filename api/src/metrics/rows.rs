//! Rows of a query, read column by column from the left: through sqlx on SQLite, and on
//! PostgreSQL through `COPY (…) TO STDOUT (FORMAT binary)`, whose rows are length-prefixed
//! big-endian values read here without sqlx decoding each one (most of the time of loading
//! the analytics store went to that decoding).

use bytes::{Buf, BytesMut};
use futures_util::TryStreamExt;
use sea_orm::sqlx::postgres::PgPoolCopyExt;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, QueryResult};

use crate::db::each_row;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01, day 0 of analytics dates.
const CE_TO_UNIX_EPOCH_DAYS: i32 = 719_163;

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for dates.
const PG_EPOCH_DAYS: i32 = 10_957;

/// The binary COPY signature, followed by 32 bits of flags and the header extension's length.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

fn malformed(what: &str) -> DbErr {
    DbErr::Type(format!("unreadable row from the database: {what}"))
}

/// One row's columns, taken from the left.
pub trait Row {
    /// An integer (INTEGER, BIGINT, or a boolean as 0 or 1), or NULL.
    fn int_or_null(&mut self) -> Result<Option<i64>, DbErr>;
    /// A DATE as days since 1970-01-01, or NULL.
    fn date_or_null(&mut self) -> Result<Option<i32>, DbErr>;
    /// A text, or NULL.
    fn text_or_null(&mut self) -> Result<Option<String>, DbErr>;

    fn int(&mut self) -> Result<i64, DbErr> {
        self.int_or_null()?
            .ok_or_else(|| malformed("NULL in a column that has a value"))
    }

    fn flag(&mut self) -> Result<bool, DbErr> {
        Ok(self.int()? != 0)
    }

    fn text(&mut self) -> Result<String, DbErr> {
        self.text_or_null()?
            .ok_or_else(|| malformed("NULL in a column that has a value"))
    }
}

/// Hands every row of `sql` to `push`, without holding them all.
pub async fn each(
    db: &DatabaseConnection,
    sql: &str,
    mut push: impl FnMut(&mut dyn Row) -> Result<(), DbErr>,
) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => copy(db, sql, push).await,
        _ => {
            each_row(db, sql.to_owned(), |row| {
                push(&mut Decoded {
                    row: &row,
                    column: 0,
                })
            })
            .await
        }
    }
}

/// A row sqlx decoded (SQLite).
struct Decoded<'a> {
    row: &'a QueryResult,
    column: usize,
}

impl Decoded<'_> {
    fn next<T: sea_orm::TryGetable>(&mut self) -> Result<T, DbErr> {
        let value = self.row.try_get_by_index(self.column)?;
        self.column += 1;
        Ok(value)
    }
}

impl Row for Decoded<'_> {
    fn int_or_null(&mut self) -> Result<Option<i64>, DbErr> {
        self.next()
    }

    fn date_or_null(&mut self) -> Result<Option<i32>, DbErr> {
        use chrono::Datelike;
        let date: Option<chrono::NaiveDate> = self.next()?;
        Ok(date.map(|d| d.num_days_from_ce() - CE_TO_UNIX_EPOCH_DAYS))
    }

    fn text_or_null(&mut self) -> Result<Option<String>, DbErr> {
        self.next()
    }
}

/// Streams `sql` as binary COPY and reads its tuples as they arrive.
async fn copy(
    db: &DatabaseConnection,
    sql: &str,
    mut push: impl FnMut(&mut dyn Row) -> Result<(), DbErr>,
) -> Result<(), DbErr> {
    let statement = format!("COPY ({sql}) TO STDOUT (FORMAT binary)");
    let pool = db.get_postgres_connection_pool();
    let mut stream = pool
        .copy_out_raw(&statement)
        .await
        .map_err(|e| DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into())))?;
    let mut reader = CopyReader::default();
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into())))?
    {
        reader.feed(&chunk, &mut push)?;
        tokio::task::consume_budget().await;
    }
    reader.finish()
}

/// Where a binary COPY stream is.
#[derive(PartialEq, Eq, Default)]
enum Stream {
    #[default]
    Header,
    Tuples,
    Ended,
}

/// Reads a binary COPY stream chunk by chunk.
#[derive(Default)]
struct CopyReader {
    state: Stream,
    /// The start of a tuple the last chunk cut short.
    partial: BytesMut,
}

impl CopyReader {
    /// Hands every tuple `chunk` completes to `push`. PostgreSQL sends a message per
    /// tuple, so most chunks are read where they arrived; only a tuple split across
    /// chunks is put together in `partial`.
    fn feed(
        &mut self,
        chunk: &[u8],
        push: &mut impl FnMut(&mut dyn Row) -> Result<(), DbErr>,
    ) -> Result<(), DbErr> {
        if self.partial.is_empty() {
            let read = tuples(chunk, &mut self.state, push)?;
            self.partial.extend_from_slice(&chunk[read..]);
        } else {
            self.partial.extend_from_slice(chunk);
            let read = tuples(&self.partial, &mut self.state, push)?;
            self.partial.advance(read);
        }
        Ok(())
    }

    /// Whether the stream ended where it should: after its trailer, with nothing left over.
    fn finish(self) -> Result<(), DbErr> {
        if self.state != Stream::Ended || !self.partial.is_empty() {
            return Err(malformed("the COPY stream ended early"));
        }
        Ok(())
    }
}

/// Reads the complete tuples at the start of `data` (and the header first), handing each to
/// `push`; returns how many bytes were read.
fn tuples(
    data: &[u8],
    state: &mut Stream,
    push: &mut impl FnMut(&mut dyn Row) -> Result<(), DbErr>,
) -> Result<usize, DbErr> {
    let mut at = 0;
    if *state == Stream::Header {
        match header_length(data)? {
            Some(length) => {
                at = length;
                *state = Stream::Tuples;
            }
            None => return Ok(0),
        }
    }
    while *state == Stream::Tuples {
        let rest = &data[at..];
        let Some(length) = tuple_length(rest)? else {
            break;
        };
        let fields = i16::from_be_bytes([rest[0], rest[1]]);
        if fields < 0 {
            *state = Stream::Ended;
        } else {
            push(&mut Tuple {
                cells: &rest[2..length],
                fields: fields as usize,
            })?;
        }
        at += length;
    }
    if *state == Stream::Ended && at < data.len() {
        return Err(malformed("data after the end of the COPY stream"));
    }
    Ok(at)
}

/// The length of the COPY header once `buffer` holds all of it.
fn header_length(buffer: &[u8]) -> Result<Option<usize>, DbErr> {
    let fixed = SIGNATURE.len() + 8;
    if buffer.len() < fixed {
        return Ok(None);
    }
    if &buffer[..SIGNATURE.len()] != SIGNATURE {
        return Err(malformed("not a binary COPY stream"));
    }
    let at = SIGNATURE.len() + 4;
    let extension =
        u32::from_be_bytes([buffer[at], buffer[at + 1], buffer[at + 2], buffer[at + 3]]);
    let length = fixed + extension as usize;
    Ok((buffer.len() >= length).then_some(length))
}

/// The length of the tuple at the start of `buffer` once it holds all of it (the trailer,
/// a field count of -1, is a tuple of two bytes).
fn tuple_length(buffer: &[u8]) -> Result<Option<usize>, DbErr> {
    if buffer.len() < 2 {
        return Ok(None);
    }
    let fields = i16::from_be_bytes([buffer[0], buffer[1]]);
    let mut at = 2;
    for _ in 0..fields.max(0) {
        let Some(prefix) = buffer.get(at..at + 4) else {
            return Ok(None);
        };
        let length = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        at += 4;
        if length > 0 {
            at += length as usize;
        } else if length < -1 {
            return Err(malformed("a negative field length"));
        }
    }
    Ok((buffer.len() >= at).then_some(at))
}

/// One tuple of a binary COPY: the cells after its field count.
struct Tuple<'a> {
    cells: &'a [u8],
    fields: usize,
}

impl Tuple<'_> {
    /// The next field's bytes, or None for NULL.
    fn field(&mut self) -> Result<Option<&[u8]>, DbErr> {
        if self.fields == 0 {
            return Err(malformed("fewer columns than the reader expects"));
        }
        self.fields -= 1;
        let cut = || malformed("a field longer than its tuple");
        let (prefix, rest) = self.cells.split_first_chunk::<4>().ok_or_else(cut)?;
        let length = i32::from_be_bytes(*prefix);
        if length < 0 {
            self.cells = rest;
            return Ok(None);
        }
        let (value, rest) = rest.split_at_checked(length as usize).ok_or_else(cut)?;
        self.cells = rest;
        Ok(Some(value))
    }
}

impl Row for Tuple<'_> {
    fn int_or_null(&mut self) -> Result<Option<i64>, DbErr> {
        Ok(match self.field()? {
            None => None,
            Some(&[b]) => Some(i64::from(b)),
            Some(&[a, b]) => Some(i64::from(i16::from_be_bytes([a, b]))),
            Some(&[a, b, c, d]) => Some(i64::from(i32::from_be_bytes([a, b, c, d]))),
            Some(bytes) => Some(i64::from_be_bytes(
                bytes
                    .try_into()
                    .map_err(|_| malformed("an integer of odd width"))?,
            )),
        })
    }

    fn date_or_null(&mut self) -> Result<Option<i32>, DbErr> {
        match self.field()? {
            None => Ok(None),
            Some(&[a, b, c, d]) => Ok(Some(i32::from_be_bytes([a, b, c, d]) + PG_EPOCH_DAYS)),
            Some(_) => Err(malformed("a date of odd width")),
        }
    }

    fn text_or_null(&mut self) -> Result<Option<String>, DbErr> {
        match self.field()? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes.to_vec())
                .map(Some)
                .map_err(|_| malformed("text that is not UTF-8")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of `rows`, each a list of fields (None for NULL).
    fn stream(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        for row in rows {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(bytes) => {
                        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                        out.extend_from_slice(bytes);
                    }
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn tuples_are_read_only_once_complete() {
        let bytes = stream(&[
            vec![
                Some(42i64.to_be_bytes().to_vec()),
                None,
                Some(b"SUCCEEDED".to_vec()),
                Some((-1i32).to_be_bytes().to_vec()),
                Some(vec![1]),
            ],
            vec![None, Some(7i32.to_be_bytes().to_vec())],
        ]);
        let header = header_length(&bytes)
            .unwrap_or_default()
            .unwrap_or_default();
        assert_eq!(header, 19);
        assert_eq!(header_length(&bytes[..12]).ok(), Some(None));
        let body = &bytes[header..];
        let first = tuple_length(body).ok().flatten().unwrap_or_default();
        // A tuple cut short anywhere waits for more bytes.
        for cut in 0..first {
            assert_eq!(tuple_length(&body[..cut]).ok(), Some(None), "cut at {cut}");
        }
        let mut tuple = Tuple {
            cells: &body[2..first],
            fields: 5,
        };
        assert_eq!(tuple.int().ok(), Some(42));
        assert_eq!(tuple.int_or_null().ok(), Some(None));
        assert_eq!(tuple.text().ok().as_deref(), Some("SUCCEEDED"));
        assert_eq!(tuple.date_or_null().ok(), Some(Some(PG_EPOCH_DAYS - 1)));
        assert_eq!(tuple.flag().ok(), Some(true));
        assert!(tuple.int().is_err(), "a sixth column");
        let second = &body[first..];
        let length = tuple_length(second).ok().flatten().unwrap_or_default();
        let mut tuple = Tuple {
            cells: &second[2..length],
            fields: 2,
        };
        assert!(tuple.int().is_err(), "NULL where a value is required");
        assert_eq!(tuple.int().ok(), Some(7));
        assert_eq!(
            tuple_length(&second[length..]).ok(),
            Some(Some(2)),
            "the trailer"
        );
    }

    /// Every row of `bytes` fed in chunks of `size`: (id, text) pairs.
    fn read_in_chunks(bytes: &[u8], size: usize) -> Result<Vec<(i64, Option<String>)>, DbErr> {
        let mut reader = CopyReader::default();
        let mut rows = Vec::new();
        for chunk in bytes.chunks(size) {
            reader.feed(chunk, &mut |row: &mut dyn Row| {
                rows.push((row.int()?, row.text_or_null()?));
                Ok(())
            })?;
        }
        reader.finish()?;
        Ok(rows)
    }

    #[test]
    fn a_stream_reads_the_same_however_it_is_cut_into_chunks() {
        let rows: Vec<Vec<Option<Vec<u8>>>> = (0..20i64)
            .map(|i| {
                vec![
                    Some(i.to_be_bytes().to_vec()),
                    (i % 3 != 0).then(|| format!("row {i}").into_bytes()),
                ]
            })
            .collect();
        let bytes = stream(&rows);
        let whole = read_in_chunks(&bytes, bytes.len()).unwrap_or_default();
        assert_eq!(whole.len(), 20);
        assert_eq!(whole[4], (4, Some("row 4".into())));
        assert_eq!(whole[3], (3, None));
        for size in 1..64 {
            assert_eq!(
                read_in_chunks(&bytes, size).ok().as_ref(),
                Some(&whole),
                "chunks of {size}"
            );
        }
        // A stream cut before its trailer, or with bytes after it, is an error.
        assert!(read_in_chunks(&bytes[..bytes.len() - 2], 7).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_in_chunks(&longer, 7).is_err());
    }

    #[test]
    fn malformed_streams_are_errors_not_panics() {
        assert!(header_length(b"NOTACOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0").is_err());
        let mut negative = 1i16.to_be_bytes().to_vec();
        negative.extend_from_slice(&(-5i32).to_be_bytes());
        assert!(tuple_length(&negative).is_err());
        let mut odd = Tuple {
            cells: &[0, 0, 0, 3, 1, 2, 3],
            fields: 1,
        };
        assert!(odd.int().is_err(), "an integer of three bytes");
        let mut cut = Tuple {
            cells: &[0, 0, 0, 9, 1],
            fields: 1,
        };
        assert!(cut.int().is_err(), "a field past its tuple's end");
    }
}
