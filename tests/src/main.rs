//! relm's integration tests: one binary, a module per domain. Every test gets its own
//! database (a SQLite file, or a PostgreSQL schema when RELM_TEST_DATABASE_URL is set), so
//! tests run in parallel.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly on anything unexpected"
)]

mod support;

mod admin;
mod auth;
mod browser;
mod calendar_feeds;
mod cli;
mod commands;
mod connections;
mod contract;
mod demo;
mod exports;
mod faults;
mod forecast;
mod frontend;
mod fuzz;
mod hostile;
mod http;
mod identity;
mod improvement;
mod ingest;
mod lifecycle;
mod metrics;
mod notifications;
mod pagination;
mod reads;
mod releases;
mod replays;
mod scoping;
mod statements;
mod subscriptions;
mod writes;
