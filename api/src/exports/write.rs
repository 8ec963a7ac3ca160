//! polars' batched writers behind one type: CSV (RFC 4180, CRLF), Parquet (zstd) and JSON
//! lines, each taking one DataFrame per batch.

use std::io::Write;

use polars_core::prelude::*;
use polars_io::SerWriter;
use polars_io::csv::write::{BatchedWriter as CsvBatches, CsvWriter, QuoteStyle};
use polars_io::json::BatchedWriter as JsonBatches;
use polars_io::parquet::write::{
    BatchedWriter as ParquetBatches, ParquetCompression, ParquetWriter,
};

use super::Format;

pub enum Writer<'w, W: Write> {
    Csv(CsvBatches<&'w mut W>),
    Parquet(Box<ParquetBatches<&'w mut W>>),
    Json(JsonBatches<&'w mut W>),
}

impl<'w, W: Write> Writer<'w, W> {
    /// A writer of `format` for frames of `schema`.
    pub fn new(format: Format, schema: &Schema, out: &'w mut W) -> PolarsResult<Self> {
        Ok(match format {
            Format::Csv => Self::Csv(
                CsvWriter::new(out)
                    .include_header(true)
                    .with_quote_style(QuoteStyle::Necessary)
                    .with_line_terminator("\r\n".into())
                    .batched(schema)?,
            ),
            Format::Parquet => Self::Parquet(Box::new(
                ParquetWriter::new(out)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(schema)?,
            )),
            Format::Json => Self::Json(JsonBatches::new(out)),
        })
    }

    pub fn write(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        if frame.height() == 0 {
            return Ok(());
        }
        match self {
            Self::Csv(w) => w.write_batch(frame),
            Self::Parquet(w) => w.write_batch(frame),
            Self::Json(w) => w.write_batch(frame),
        }
    }

    /// Writes what ends the file: the CSV header of an empty report, the Parquet footer.
    pub fn finish(self) -> PolarsResult<()> {
        match self {
            Self::Csv(mut w) => w.finish(),
            Self::Parquet(w) => w.finish().map(drop),
            Self::Json(_) => Ok(()),
        }
    }
}
