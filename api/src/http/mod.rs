//! The HTTP surface: GraphQL over HTTP and WebSocket, report exports, ingestion, health,
//! readiness and metrics, served by [`server`] with timeouts for slow clients. Handlers read
//! the request and answer it; what a request means is decided below them (`app`, `exports`,
//! `ingest`, `commands`).

pub mod calendar;
pub mod cors;
pub mod exports;
pub mod graphql;
pub mod ingest;
pub mod server;
pub mod ws;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Response, Route, get, handler};

use crate::app::AppState;
use crate::db;
use crate::error::ApiError;
use crate::web;
use cors::CrossOrigin;

pub use server::{SHUTDOWN_GRACE, serve};

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

const JSON: &str = "application/json";

/// The application's routes.
pub fn app(state: AppState) -> impl poem::Endpoint {
    let cors = || CrossOrigin(state.origins.clone());
    Route::new()
        .at(
            "/graphql",
            get(graphql::get).post(graphql::post).with(cors()),
        )
        .at("/graphql/ws", get(ws::upgrade))
        .at("/v1/exports/:file", get(exports::export).with(cors()))
        .at("/v1/ingest/:key", poem::post(ingest::deliver))
        .at("/v1/calendar/:file", get(calendar::feed))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .at("/dashboard", get(web::dashboard))
        .at("/assets/*path", get(web::asset))
        .data(state)
}

/// Reads a request body of at most [`MAX_BODY_BYTES`] within the client timeout: 413 for a
/// longer one (an announced length is refused before a byte is read), 408 for one that
/// does not arrive, 400 for one that cannot be read.
pub(crate) async fn read_body(
    req: &poem::Request,
    body: poem::Body,
    state: &AppState,
) -> Result<Vec<u8>, (StatusCode, String)> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let announced = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|length| length.parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let wait = state.limits.body_read_timeout;
    match tokio::time::timeout(wait, body.into_bytes_limit(MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => Ok(bytes.to_vec()),
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => Err(too_large()),
        Ok(Err(_)) => Err((
            StatusCode::BAD_REQUEST,
            "cannot read the request body".into(),
        )),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                wait.as_secs_f64()
            ),
        )),
    }
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    error_response(status, message, None)
}

/// The HTTP status of an error that refuses a whole request.
pub fn status_of(error: &ApiError) -> StatusCode {
    match error {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::BadUserInput(_)
        | ApiError::PersistedQueryNotFound(_)
        | ApiError::PersistedQueryRequired(_) => StatusCode::BAD_REQUEST,
        ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Timeout(_) | ApiError::Busy(_) | ApiError::Unavailable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
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

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(Data(state): Data<&AppState>) -> Response {
    if !db::ping(&state.db).await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
    }
    // Cached keys stay in use while the provider is down; only none at all is unready.
    match &state.provider {
        Some(provider) if !provider.key_set().has_keys() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no signing keys from the identity provider",
        )
            .into_response(),
        _ => "ready".into_response(),
    }
}

#[handler]
fn metrics(Data(state): Data<&AppState>) -> Response {
    let connections = db::stats(&state.db, &state.reads);
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(
            state
                .telemetry
                .render(&connections, state.analytics.loads(), &state.limits),
        )
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
