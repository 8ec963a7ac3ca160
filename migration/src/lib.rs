//! relm's database migrations: frozen history, one change per file, no dependency on the
//! `entity` crate and no data. Timestamps are BIGINT Unix microseconds (UTC).

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_programs_and_environments;
mod m20261127_000002_create_releases;
mod m20261127_000003_create_gates_and_approvals;
mod m20261127_000004_create_deployments_and_incidents;
mod m20261127_000005_create_outcomes_and_actions;
mod m20261127_000006_create_freeze_windows;
mod m20261127_000007_create_release_events;
mod m20261127_000008_create_changes;
mod m20261129_000009_create_admin_events;
mod m20261130_000010_create_ingestion;
mod m20261202_000011_index_analytics_reads;
mod m20261207_000012_ingest_replays;
mod m20261208_000013_continuous_improvement;
mod m20261211_000014_coordination;
mod m20261212_000020_notifications;

/// Every migration of relm, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_programs_and_environments::Migration),
            Box::new(m20261127_000002_create_releases::Migration),
            Box::new(m20261127_000003_create_gates_and_approvals::Migration),
            Box::new(m20261127_000004_create_deployments_and_incidents::Migration),
            Box::new(m20261127_000005_create_outcomes_and_actions::Migration),
            Box::new(m20261127_000006_create_freeze_windows::Migration),
            Box::new(m20261127_000007_create_release_events::Migration),
            Box::new(m20261127_000008_create_changes::Migration),
            Box::new(m20261129_000009_create_admin_events::Migration),
            Box::new(m20261130_000010_create_ingestion::Migration),
            Box::new(m20261202_000011_index_analytics_reads::Migration),
            Box::new(m20261207_000012_ingest_replays::Migration),
            Box::new(m20261208_000013_continuous_improvement::Migration),
            Box::new(m20261211_000014_coordination::Migration),
            Box::new(m20261212_000020_notifications::Migration),
        ]
    }
}
