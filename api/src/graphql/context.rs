//! Typed access to what the schema and each request carry.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::auth::{Caller, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::Loaders;

fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|_| {
        ApiError::Internal(format!(
            "{} missing from context",
            std::any::type_name::<T>()
        ))
    })
}

/// The database pool (schema data).
pub fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    data(ctx)
}

/// The authenticated caller, or `UNAUTHENTICATED` (request data).
pub fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    match ctx.data_opt::<Caller>() {
        Some(caller) => caller.viewer(),
        None => Caller::Anonymous.viewer(),
    }
}

/// The request's DataLoaders (request data).
pub fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    data(ctx)
}
