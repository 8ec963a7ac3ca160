//! The GraphQL schema: one module per domain, merged here.

use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};
use async_graphql::{MergedObject, MergedSubscription, Positioned, Schema};
use sea_orm::DatabaseConnection;

use crate::events::EventBus;
use crate::metrics::cache::MetricsCache;
use crate::secrets::Cipher;

pub mod benchmark;
pub mod calendar;
pub mod calendar_feed;
pub mod complexity;
pub mod conflicts;
pub mod context;
pub mod dependency;
pub mod deployment;
pub mod enums;
pub mod environment;
pub mod error;
pub mod event;
pub mod forecast;
pub mod freeze;
pub mod impact;
pub mod incident;
pub mod ingest;
pub mod input;
pub mod loaders;
pub mod metrics;
pub mod node;
pub mod notification;
pub mod pagination;
pub mod program;
pub mod quality;
pub mod release;
pub mod review;
pub mod scalars;
pub mod viewer;

/// Every query field of relm.
#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    node::NodeQuery,
    program::ProgramQuery,
    release::ReleaseQuery,
    environment::EnvironmentQuery,
    freeze::FreezeQuery,
    calendar::CalendarQuery,
    calendar_feed::CalendarFeedQuery,
    conflicts::ConflictQuery,
    metrics::MetricsQuery,
    benchmark::BenchmarkQuery,
    impact::ImpactQuery,
    forecast::ForecastQuery,
    incident::IncidentQuery,
    ingest::IngestQuery,
    notification::NotificationQuery,
);

/// Every mutation of relm; each runs in one transaction with its audit event.
#[derive(MergedObject, Default)]
pub struct Mutation(
    program::ProgramMutation,
    environment::EnvironmentMutation,
    freeze::FreezeMutation,
    release::ReleaseMutation,
    quality::QualityMutation,
    deployment::DeploymentMutation,
    incident::IncidentMutation,
    review::ReviewMutation,
    ingest::IngestMutation,
    benchmark::BenchmarkMutation,
    dependency::DependencyMutation,
    calendar_feed::CalendarFeedMutation,
    notification::NotificationMutation,
);

/// Every subscription of relm.
#[derive(MergedSubscription, Default)]
pub struct Subscription(event::EventSubscription);

pub type RelmSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(complexity::MAX_DEPTH)
    .limit_recursive_depth(complexity::MAX_NESTING)
    .limit_complexity(complexity::MAX_COMPLEXITY)
}

/// The schema served over HTTP, its shared data attached; introspection follows the GraphiQL
/// setting, and so do "did you mean" suggestions, which would reveal the schema piece by
/// piece. The caller adds what it runs around the schema (`app`) and finishes it.
pub fn schema_builder(
    db: DatabaseConnection,
    bus: EventBus,
    cache: Arc<MetricsCache>,
    cipher: Cipher,
    introspection: bool,
) -> SchemaBuilder {
    let builder = builder().data(db).data(bus).data(cache).data(cipher);
    if introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// What builds the schema.
pub type SchemaBuilder = async_graphql::SchemaBuilder<Query, Mutation, Subscription>;

/// The SDL of the schema, as `relm schema` prints it.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The operation of `document` that a request runs: the one named `name`, or the first
/// (async-graphql refuses a nameless request for a document of several operations).
pub fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    let mut operations = document.operations.iter();
    let found = match name {
        Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => operations.next(),
    };
    found.map(|(_, operation)| operation)
}
