//! sea-orm entities of relm's data model, one module per table.
//!
//! Timestamps are Unix microseconds in UTC (`i64`): one representation that orders, compares
//! and loads the same way on SQLite and PostgreSQL. Enumerations are stored as their
//! contract spelling. This crate knows nothing of GraphQL or HTTP.

pub mod admin_event;
pub mod approval;
pub mod benchmark;
pub mod calendar_feed;
pub mod change;
pub mod delivery;
pub mod deployment;
pub mod enums;
pub mod environment;
pub mod freeze_window;
pub mod gate_result;
pub mod improvement_action;
pub mod incident;
pub mod ingest_alias;
pub mod ingest_source;
pub mod notification;
pub mod notification_channel;
pub mod notification_channel_program;
pub mod outcome;
pub mod program;
pub mod quality_gate;
pub mod release;
pub mod release_dependency;
pub mod release_event;
pub mod release_item;
pub mod release_party;
