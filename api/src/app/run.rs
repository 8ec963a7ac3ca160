//! Running an admitted caller's GraphQL request (see the module above for the path).

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::ServerResult;
use async_graphql::parser::types::OperationType;

use super::admit::Refusal;
use super::conform::conform;
use super::limits::{self, RequestMeta};
use super::{AppState, admit, scan};
use crate::auth::Caller;
use crate::db::RequestReads;
use crate::error::ApiError;
use crate::graphql::{self as schema, loaders};

/// Gives `request` its parsed document once the document and its variables are within
/// relm's limits (`graphql::limits`), and notes its operation type in `meta`; the error names
/// the limit it exceeds. A query that does not parse is left to the executor, which says
/// why.
pub fn within_limits(
    state: &AppState,
    request: &mut async_graphql::Request,
    meta: &RequestMeta,
) -> ServerResult<()> {
    let Some(document) = state.documents.checked(&request.query) else {
        return Ok(());
    };
    let document = document?;
    limits::check_variables(&request.variables)?;
    meta.note(&document, request.operation_name.as_deref());
    request.set_parsed_query(document);
    Ok(())
}

/// Runs an admitted caller's request: the document's shape is checked before it is parsed,
/// its limits before it runs, execution stops at the deadline, and the response is mended
/// to the specification.
pub async fn execute(
    state: &AppState,
    caller: Caller,
    mut request: async_graphql::Request,
    meta: Arc<RequestMeta>,
) -> Result<async_graphql::Response, Refusal> {
    scan::check(&request.query)
        .map_err(|why| Refusal::new(ApiError::BadUserInput(why.to_string())))?;
    if let Err(error) = within_limits(state, &mut request, &meta) {
        return Ok(async_graphql::Response::from_errors(vec![error]));
    }
    let query = request.query.clone();
    let operation_name = request.operation_name.clone();
    let (reads, schema) = if meta.is_mutation() {
        (RequestReads::of_mutation(&state.reads), &state.mutations)
    } else {
        (RequestReads::of_query(&state.reads), &state.schema)
    };
    let request = prepare(request, reads.clone(), state, caller);
    let deadline = state.limits.request_timeout;
    let executed = tokio::time::timeout(deadline, schema.execute(request)).await;
    // Every mutation field commits its own write (`commit`); none is left but after a
    // deadline, and then it is rolled back.
    let committed = match &executed {
        Ok(_) => reads.commit_pending().await,
        Err(_) => {
            reads.discard_pending().await;
            Ok(())
        }
    };
    let mut response = match executed {
        Ok(_) if let Err(error) = committed => async_graphql::Response::from_errors(vec![
            async_graphql::Error::from(error).into_server_error(Default::default()),
        ]),
        Ok(response) => response,
        Err(_) => {
            state.telemetry.record_timeout();
            tracing::warn!(
                operation = operation_name.as_deref().unwrap_or_default(),
                seconds = deadline.as_secs_f64(),
                "a GraphQL request ran out of time and was stopped"
            );
            let error = ApiError::Timeout(format!(
                "the request took longer than {} s and was stopped",
                deadline.as_secs_f64()
            ));
            async_graphql::Response::from_errors(vec![
                async_graphql::Error::from(error).into_server_error(Default::default()),
            ])
        }
    };
    conform(
        &state.types,
        &query,
        operation_name.as_deref(),
        &mut response,
    );
    Ok(response)
}

/// The whole path of one GraphQL request, as HTTP and the tests run it.
pub async fn answer(
    state: &AppState,
    authorization: Option<&str>,
    address: Option<IpAddr>,
    request: async_graphql::Request,
    meta: Arc<RequestMeta>,
) -> Result<async_graphql::Response, Refusal> {
    let caller = admit(state, authorization, address).await?;
    let mut request = request;
    if let Ok(viewer) = caller.viewer() {
        state
            .trusted
            .resolve(&mut request, viewer.role)
            .map_err(Refusal::new)?;
    }
    execute(state, caller, request, meta).await
}

/// The type of the operation a request would run, if its document parses.
pub fn operation_type(request: &async_graphql::Request) -> Option<OperationType> {
    scan::check(&request.query).ok()?;
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    schema::selected_operation(&document, request.operation_name.as_deref())
        .map(|operation| operation.node.ty)
}

/// Attaches what one request needs: its caller, where it reads, fresh DataLoaders
/// (sharing the process's kept rows) and the feed settings.
pub fn prepare(
    request: async_graphql::Request,
    reads: RequestReads,
    state: &AppState,
    caller: Caller,
) -> async_graphql::Request {
    request
        .data(caller)
        .data(loaders::Loaders::new(&reads, &state.kept))
        .data(reads)
        .data(state.feeds.clone())
}
