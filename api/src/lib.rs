//! relm: the release data and analytics service.
//!
//! The library holds everything the `relm` binary runs, so tests build exactly the same
//! application: configuration, the database, authentication, the GraphQL schema, the HTTP
//! server, demo data, reports and the command line.

pub mod auth;
pub mod bench;
pub mod cli;
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
pub mod ids;
pub mod ingest;
pub mod metrics;
pub mod progress;
pub mod queries;
pub mod secrets;
pub mod seed;
pub mod telemetry;
pub mod time;
pub mod web;
