//! The HTTP surface: GraphQL over HTTP, report exports, health, readiness and metrics.
//!
//! `/graphql` follows the GraphQL-over-HTTP specification: `application/json` responses
//! are always 200 once the request is well-formed; a client that accepts
//! `application/graphql-response+json` gets that type, with 400 for requests that fail to
//! parse or validate. Malformed bodies are 400, mutations over GET 405.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use poem::http::{StatusCode, header};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::web::websocket::WebSocket;
use poem::{Body, EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler};
use sea_orm::DatabaseConnection;

use crate::auth::{JwtKeys, authenticate};
use crate::db;
use crate::events::EventBus;
use crate::exports;
use crate::graphql::limits::RequestMeta;
use crate::graphql::{self, RelmSchema};
use crate::metrics::cache::MetricsCache;
use crate::telemetry::Telemetry;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: RelmSchema,
    pub db: DatabaseConnection,
    pub keys: Arc<JwtKeys>,
    pub telemetry: Arc<Telemetry>,
    pub bus: EventBus,
    /// This process's analytics store, shared by every metrics query.
    pub analytics: Arc<MetricsCache>,
    pub graphiql: bool,
}

impl AppState {
    pub fn new(db: DatabaseConnection, keys: JwtKeys, graphiql: bool) -> Self {
        let bus = EventBus::new(db.get_database_backend());
        let analytics = Arc::new(MetricsCache::default());
        Self {
            schema: graphql::build_schema(db.clone(), bus.clone(), analytics.clone(), graphiql),
            analytics,
            bus,
            db,
            keys: Arc::new(keys),
            telemetry: Arc::new(Telemetry::default()),
            graphiql,
        }
    }
}

/// The application's routes.
pub fn app(state: AppState) -> impl poem::Endpoint {
    Route::new()
        .at("/graphql", get(graphql_get).post(graphql_post))
        .at("/graphql/ws", get(graphql_ws))
        .at("/v1/exports/:file", get(exports::http::export))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .data(state)
}

fn json_error(status: StatusCode, message: &str) -> Response {
    error_response(status, message, None)
}

/// An error in the GraphQL error shape, `{"errors": [{"message", "extensions"}]}`.
pub fn error_response(
    status: StatusCode,
    message: &str,
    extensions: Option<serde_json::Value>,
) -> Response {
    let mut error = serde_json::json!({ "message": message });
    if let Some(extensions) = extensions {
        error["extensions"] = extensions;
    }
    let body = serde_json::json!({ "errors": [error] });
    Response::builder()
        .status(status)
        .content_type(JSON)
        .body(body.to_string())
}

fn wants_graphql_response(req: &Request) -> bool {
    req.header(header::ACCEPT)
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE))
}

/// The type of the operation a GET request would run, if its document parses.
fn operation_type(request: &async_graphql::Request) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let mut operations = document.operations.iter();
    let found = match &request.operation_name {
        Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => operations.next(),
    };
    found.map(|(_, op)| op.node.ty)
}

async fn execute(state: &AppState, req: &Request, request: async_graphql::Request) -> Response {
    let started = Instant::now();
    let header = req.header(header::AUTHORIZATION);
    let meta = Arc::new(RequestMeta::default());
    let response = match authenticate(&state.db, &state.keys, header).await {
        Ok(caller) => {
            let request = graphql::prepare(request, &state.db, caller, meta.clone());
            state.schema.execute(request).await
        }
        Err(err) => async_graphql::Response::from_errors(vec![
            async_graphql::Error::from(err).into_server_error(Default::default()),
        ]),
    };
    let codes: Vec<String> = response
        .errors
        .iter()
        .map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| c.to_string().trim_matches('"').to_owned())
                .unwrap_or_else(|| "BAD_REQUEST".to_owned())
        })
        .collect();
    state
        .telemetry
        .record(meta.operation(), started.elapsed(), &codes);

    let graphql_response = wants_graphql_response(req);
    // A request error (the document did not parse or validate) has no data and no error
    // with a path; field errors always carry a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = if graphql_response && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_string(&response) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, "cannot serialise a GraphQL response");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    Response::builder()
        .status(status)
        .content_type(if graphql_response {
            GRAPHQL_RESPONSE
        } else {
            JSON
        })
        .body(body)
}

#[handler]
async fn graphql_post(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    let content_type = req.content_type().unwrap_or_default();
    if !content_type.starts_with(JSON) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    let bytes = match body.into_bytes_limit(MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(poem::error::ReadBodyError::PayloadTooLarge) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "cannot read the request body"),
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(err) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {err}"),
            );
        }
    };
    if request.query.trim().is_empty() {
        return json_error(StatusCode::BAD_REQUEST, "the request has no query");
    }
    execute(state, req, request).await
}

#[handler]
async fn graphql_get(req: &Request, Data(state): Data<&AppState>) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let accepts_html = req
        .header(header::ACCEPT)
        .is_some_and(|a| a.contains("text/html"));
    if query.is_empty() && accepts_html && state.graphiql {
        let page = GraphiQLSource::build().endpoint("/graphql").finish();
        return poem::web::Html(page).into_response();
    }
    let request = match async_graphql::http::parse_query_string(query) {
        Ok(request) if request.query.trim().is_empty() => {
            return json_error(StatusCode::BAD_REQUEST, "the request has no query");
        }
        Ok(request) => request,
        Err(err) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the query string is not a GraphQL request: {err}"),
            );
        }
    };
    if operation_type(&request) == Some(OperationType::Mutation) {
        let mut response = json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations are only accepted over POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    execute(state, req, request).await
}

/// Authenticates a WebSocket connection from `connection_init`'s payload
/// (`{"Authorization": "Bearer …"}`); a connection without a valid token is refused.
async fn connection_data(
    state: &AppState,
    payload: serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
    let header = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(|v| v.as_str()));
    let caller = authenticate(&state.db, &state.keys, header).await?;
    caller.viewer()?;
    let mut data = async_graphql::Data::default();
    data.insert(graphql::loaders::Loaders::new(&state.db));
    data.insert(Arc::new(RequestMeta::default()));
    data.insert(caller);
    Ok(data)
}

#[handler]
fn graphql_ws(
    protocol: GraphQLProtocol,
    websocket: WebSocket,
    Data(state): Data<&AppState>,
) -> impl IntoResponse {
    let state = state.clone();
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            let init = state.clone();
            let connection = GraphQLWebSocket::new(stream, state.schema.clone(), protocol)
                .on_connection_init(
                    move |payload| async move { connection_data(&init, payload).await },
                )
                .serve();
            // Shutting down closes every subscription.
            tokio::select! {
                () = connection => {}
                () = state.bus.closed() => {}
            }
        })
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(Data(state): Data<&AppState>) -> Response {
    if db::ping(&state.db).await {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

#[handler]
fn metrics(Data(state): Data<&AppState>) -> Response {
    let (size, idle) = db::pool_stats(&state.db);
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(state.telemetry.render(size, idle))
}

/// Waits for SIGTERM or SIGINT.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // The handlers are installed now, before the server binds, rather than when the future
    // is first polled: a signal that arrives just as the server starts is then not lost to
    // the default action (an exit without the graceful shutdown).
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Some(mut interrupt), Some(mut term)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// Binds `bind`, then serves until `shutdown` completes, letting requests in flight finish
/// for up to [`SHUTDOWN_GRACE`]. `on_bound` learns the bound address first.
pub async fn serve(
    state: AppState,
    bind: &str,
    on_bound: impl FnOnce(std::net::SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let acceptor = TcpListener::bind(bind)
        .into_acceptor()
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| anyhow::anyhow!("cannot listen on {bind}: no address"))?;
    on_bound(addr);
    let bus = state.bus.clone();
    let shutdown = async move {
        shutdown.await;
        bus.close();
    };
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app(state), shutdown, Some(SHUTDOWN_GRACE))
        .await
        .map_err(|e| anyhow::anyhow!("server failed: {e}"))
}
