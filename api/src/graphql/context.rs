//! Typed access to what the schema and each request carry.

use async_graphql::Context;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::auth::{Caller, Viewer};
use crate::commands::transaction::{self, CommandFuture};
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;
use crate::graphql::loaders::Loaders;

pub fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> ApiResult<&'a T> {
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

/// The event bus (schema data).
pub fn bus<'a>(ctx: &Context<'a>) -> ApiResult<&'a EventBus> {
    data(ctx)
}

/// Runs a command in its own transaction, then lets nested fields read fresh rows.
pub async fn run_command<T, F>(ctx: &Context<'_>, command: F) -> ApiResult<T>
where
    F: for<'t> FnMut(&'t DatabaseTransaction) -> CommandFuture<'t, T>,
{
    let value = transaction::run(db(ctx)?, bus(ctx)?, command).await?;
    loaders(ctx)?.clear();
    Ok(value)
}

/// Runs `commands::…::function(txn, &viewer, &input)` for the caller of `ctx`.
macro_rules! command {
    ($ctx:expr, $function:path, $input:expr) => {{
        let viewer = std::sync::Arc::new($crate::graphql::context::viewer($ctx)?.clone());
        let input = std::sync::Arc::new($input);
        $crate::graphql::context::run_command($ctx, move |txn| {
            let (viewer, input) = (viewer.clone(), input.clone());
            Box::pin(async move { $function(txn, &viewer, &input).await })
        })
        .await
    }};
}
pub(crate) use command;
