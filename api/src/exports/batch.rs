//! A batch of report rows, held column by column, and its DataFrame in each format.
//!
//! Timestamps and dates keep their native types in Parquet and become the API's strings
//! (RFC 3339 in UTC, ISO 8601 dates) in CSV and JSON. In CSV, text that a spreadsheet would
//! take for a formula gets a leading `'`.

use chrono::NaiveDate;
use polars_core::prelude::*;
use sea_orm::{DbErr, QueryResult};

use super::Format;
use crate::ids::{self, NodeType};
use crate::time::{self, DAY_MICROS};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    /// Unix microseconds.
    Time,
    Date,
    /// The global id of a row of this type, as the GraphQL API gives it.
    Id(NodeType),
}

/// A count as a report's integer cell.
pub fn count(n: u64) -> Option<i64> {
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

/// One column of a dataset: its name, kind and, for datasets read with SQL, its expression.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub sql: &'static str,
}

impl Spec {
    pub const fn new(name: &'static str, kind: Kind, sql: &'static str) -> Self {
        Self { name, kind, sql }
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<i64>>),
    /// Days since 1970-01-01.
    Date(Vec<Option<i32>>),
}

impl Values {
    fn empty(kind: Kind) -> Self {
        match kind {
            Kind::Text | Kind::Id(_) => Self::Text(Vec::new()),
            Kind::Int => Self::Int(Vec::new()),
            Kind::Float => Self::Float(Vec::new()),
            Kind::Bool => Self::Bool(Vec::new()),
            Kind::Time => Self::Time(Vec::new()),
            Kind::Date => Self::Date(Vec::new()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Text(v) => v.len(),
            Self::Int(v) | Self::Time(v) => v.len(),
            Self::Float(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::Date(v) => v.len(),
        }
    }

    /// Appends value `index` of `row`, read as `kind`.
    fn push(&mut self, kind: Kind, row: &QueryResult, index: usize) -> Result<(), DbErr> {
        match (self, kind) {
            (Self::Text(v), Kind::Id(ty)) => v.push(
                row.try_get_by_index::<Option<i64>>(index)?
                    .map(|id| ids::encode(ty, id)),
            ),
            (Self::Text(v), _) => v.push(row.try_get_by_index(index)?),
            (Self::Int(v) | Self::Time(v), _) => v.push(row.try_get_by_index(index)?),
            (Self::Float(v), _) => v.push(row.try_get_by_index(index)?),
            (Self::Bool(v), _) => v.push(row.try_get_by_index(index)?),
            (Self::Date(v), _) => v.push(
                row.try_get_by_index::<Option<NaiveDate>>(index)?
                    .map(date_days),
            ),
        }
        Ok(())
    }

    fn into_column(self, name: &str, format: Format) -> PolarsResult<Column> {
        let name = PlSmallStr::from(name);
        let series = match self {
            Self::Text(mut v) => {
                if format == Format::Csv {
                    v.iter_mut().flatten().for_each(defuse_formula);
                }
                Series::new(name, v)
            }
            Self::Int(v) => Series::new(name, v),
            Self::Float(v) => Series::new(name, v),
            Self::Bool(v) => Series::new(name, v),
            Self::Time(v) if format == Format::Parquet => Int64Chunked::new(name, &v)
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_series(),
            Self::Time(v) => Series::new(
                name,
                v.into_iter()
                    .map(|t| t.map(time::rfc3339))
                    .collect::<Vec<_>>(),
            ),
            Self::Date(v) if format == Format::Parquet => {
                Int32Chunked::new(name, &v).into_date().into_series()
            }
            Self::Date(v) => Series::new(
                name,
                v.into_iter().map(|d| d.map(iso_date)).collect::<Vec<_>>(),
            ),
        };
        Ok(series.into_column())
    }
}

fn date_days(date: NaiveDate) -> i32 {
    (date
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_micros()
        / DAY_MICROS) as i32
}

fn iso_date(days: i32) -> String {
    time::from_micros(i64::from(days) * DAY_MICROS)
        .format("%Y-%m-%d")
        .to_string()
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and some
/// skip a leading tab or carriage return before looking (OWASP, "CSV Injection"); a leading
/// `'` makes them show it as text instead.
pub fn defuse_formula(text: &mut String) {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        text.insert(0, '\'');
    }
}

/// Rows of one dataset, column by column.
#[derive(Debug, Clone)]
pub struct Batch {
    specs: &'static [Spec],
    columns: Vec<Values>,
}

impl Batch {
    pub fn new(specs: &'static [Spec]) -> Self {
        Self {
            specs,
            columns: specs.iter().map(|s| Values::empty(s.kind)).collect(),
        }
    }

    /// A batch of whole columns, which must match `specs` in number, kind and length.
    pub fn from_columns(specs: &'static [Spec], columns: Vec<Values>) -> Self {
        Self { specs, columns }
    }

    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Values::len)
    }

    /// Appends a row whose values are in the order of the specs.
    pub fn push_row(&mut self, row: &QueryResult) -> Result<(), DbErr> {
        for (index, (spec, values)) in self.specs.iter().zip(&mut self.columns).enumerate() {
            values.push(spec.kind, row, index)?;
        }
        Ok(())
    }

    /// Replaces the column called `name`.
    pub fn set(&mut self, name: &str, values: Values) {
        if let Some(index) = self.specs.iter().position(|s| s.name == name) {
            self.columns[index] = values;
        }
    }

    /// The DataFrame to hand `format`'s writer.
    pub fn into_frame(self, format: Format) -> PolarsResult<DataFrame> {
        let height = self.len();
        let columns = self
            .specs
            .iter()
            .zip(self.columns)
            .map(|(spec, values)| values.into_column(spec.name, format))
            .collect::<PolarsResult<Vec<_>>>()?;
        DataFrame::new(height, columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[Spec] = &[
        Spec::new("title", Kind::Text, ""),
        Spec::new("at", Kind::Time, ""),
        Spec::new("due", Kind::Date, ""),
    ];

    fn batch() -> Batch {
        Batch::from_columns(
            SPECS,
            vec![
                Values::Text(vec![Some("=SUM(A1)".into()), Some("a, \"b\"".into()), None]),
                Values::Time(vec![Some(1_764_237_600_000_000), None, Some(1)]),
                Values::Date(vec![Some(20_419), None, Some(0)]),
            ],
        )
    }

    #[test]
    fn formula_starts_are_defused_and_nothing_else() {
        for (given, expected) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@cmd", "'@cmd"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("plain", "plain"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            let mut text = given.to_owned();
            defuse_formula(&mut text);
            assert_eq!(text, expected);
        }
    }

    #[test]
    fn csv_gets_strings_and_defused_text() {
        let frame = batch().into_frame(Format::Csv).unwrap();
        let title = frame.column("title").unwrap().str().unwrap();
        assert_eq!(title.get(0), Some("'=SUM(A1)"));
        assert_eq!(title.get(1), Some("a, \"b\""));
        assert_eq!(title.get(2), None);
        let at = frame.column("at").unwrap().str().unwrap();
        assert_eq!(at.get(0), Some("2025-11-27T10:00:00Z"));
        assert_eq!(at.get(2), Some("1970-01-01T00:00:00.000001Z"));
        let due = frame.column("due").unwrap().str().unwrap();
        assert_eq!(due.get(0), Some("2025-11-27"));
    }

    #[test]
    fn json_keeps_text_as_it_is() {
        let frame = batch().into_frame(Format::Json).unwrap();
        let title = frame.column("title").unwrap().str().unwrap();
        assert_eq!(title.get(0), Some("=SUM(A1)"));
    }

    #[test]
    fn parquet_keeps_native_types() {
        let frame = batch().into_frame(Format::Parquet).unwrap();
        assert_eq!(
            frame.column("at").unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
        assert_eq!(frame.column("due").unwrap().dtype(), &DataType::Date);
        assert_eq!(frame.height(), 3);
    }
}
