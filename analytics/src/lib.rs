//! Pure computations of relm's release metrics, exactly as `metrics.md` defines them.
//!
//! Plain Rust goes in ([`Tables`], [`Query`]) and comes out ([`Metrics`]); polars works
//! inside and never shows in a signature. No database, GraphQL, HTTP or async runtime here:
//! callers load the tables, keep a [`Store`] and run [`Store::metrics`] off their runtime.

mod benchmark;
mod calendar;
mod compute;
mod derive;
mod forecast;
mod frames;
mod impact;
mod index;
mod intervals;
mod model;
mod rules;
mod shared;
mod store;
mod timeline;

pub use benchmark::DEFAULT_BENCHMARK;
pub use calendar::buckets;
pub use forecast::{
    Accuracy, AccuracyQuery, Basis, CalibrationBin, Forecast, ForecastQuery, MINIMUM_SAMPLE, Risk,
    Subject,
};
pub use frames::Error;
pub use impact::{ActionRef, Impact, ImpactQuery, ImpactWindow, Verdict};
pub use index::ById;
pub use model::*;
pub use store::{Footprint, Store};

#[cfg(test)]
mod tests;
