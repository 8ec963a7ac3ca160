//! Typed access to what the schema and each request carry.

use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::auth::{Caller, Viewer};
use crate::db::RequestReads;
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;
use crate::graphql::loaders::Loaders;
use crate::metrics::cache::{MetricsCache, Snapshot};
use crate::queries::Visible;

pub fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|_| {
        ApiError::Internal(format!(
            "{} missing from context",
            std::any::type_name::<T>()
        ))
    })
}

/// The database pool, for commands and the analytics store (schema data).
pub fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    data(ctx)
}

/// Where the request reads (request data).
pub fn reads<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestReads> {
    data(ctx)
}

/// The analytics snapshot of this request, taken on first use.
pub async fn snapshot(ctx: &Context<'_>) -> ApiResult<Snapshot> {
    let cache = data::<Arc<MetricsCache>>(ctx)?;
    loaders(ctx)?.snapshot(cache, db(ctx)?).await
}

/// The authenticated caller, or `UNAUTHENTICATED` (request data).
pub fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    match ctx.data_opt::<Caller>() {
        Some(caller) => caller.viewer(),
        None => Caller::Anonymous.viewer(),
    }
}

/// What the caller may see (`queries`).
pub fn visible<'a>(ctx: &Context<'a>) -> ApiResult<Visible<'a, RequestReads>> {
    Ok(Visible::new(reads(ctx)?, viewer(ctx)?))
}

/// The request's DataLoaders (request data).
pub fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    data(ctx)
}

/// The event bus (schema data).
pub fn bus<'a>(ctx: &Context<'a>) -> ApiResult<&'a EventBus> {
    data(ctx)
}

/// Runs `commands::…::function(txn, &viewer, &input)` for the caller of `ctx` (see
/// `relm_command!`) and leaves its transaction open for the fields of its answer to read
/// through (`db::RequestReads`); it commits once that answer is built (`app::commit`).
macro_rules! command {
    ($ctx:expr, $function:path, $input:expr) => {{
        let reads = $crate::graphql::context::reads($ctx)?;
        let (value, open) = $crate::relm_command!(
            open $crate::graphql::context::db($ctx)?,
            $crate::graphql::context::bus($ctx)?,
            $crate::graphql::context::viewer($ctx)?,
            $function,
            $input
        )?;
        if reads.keeps_writes() {
            reads.park(Box::new(open)).await;
        } else {
            open.commit().await?;
        }
        $crate::graphql::context::loaders($ctx)?.clear();
        Ok::<_, $crate::error::ApiError>(value)
    }};
}
pub(crate) use command;
