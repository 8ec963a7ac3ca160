//! Release metrics: the columns analytics needs, loaded from the database into an in-memory
//! [`analytics::Store`] that every process keeps fresh from the change feed.

pub mod cache;
mod codec;
mod columns;
pub mod load;
pub mod persisted;
mod rows;
pub mod selection;
mod tables;
