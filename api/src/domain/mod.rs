//! Release rules as plain functions, independent of GraphQL and of the database.

pub mod gates;
pub mod lifecycle;
pub mod readiness;
pub mod release_notes;
pub mod validate;
