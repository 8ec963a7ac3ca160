//! relm: the release data and analytics service.
//!
//! The library is the server: configuration, the database, authentication, the core
//! (domain rules, commands, queries), the GraphQL schema, the application's request path,
//! HTTP, reports and ingestion, so tests build exactly the application `relm serve` runs.
//! The command line, the demo data and the benchmarks live behind the binary
//! (`src/bin/relm/`).

pub mod app;
pub mod auth;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod exports;
pub mod graphql;
pub mod guard;
pub mod http;
pub mod ics;
pub mod ids;
pub mod ingest;
pub mod metrics;
pub mod notify;
pub mod origins;
pub mod progress;
pub mod queries;
pub mod secrets;
pub mod telemetry;
pub mod time;
pub mod web;
