//! `POST /v1/ingest/{key}` (ingestion.md): a sender's event, proved by the source's secret,
//! read by `ingest` and applied by `commands::ingest` in one transaction.

use entity::{delivery, ingest_source};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{AppState, JSON};
use crate::commands::ingest::{ALREADY_RECEIVED, NewDelivery, deliver as apply, viewer_of};
use crate::commands::source::valid_secrets;
use crate::error::ApiError;
use crate::guard::{CallerKey, retry_after_seconds};
use crate::ids::{self, NodeType};
use crate::ingest::{self, Headers, signature};
use crate::relm_command;
use crate::time;

/// One body for an unknown key, a disabled source and a bad signature, so keys cannot be
/// probed.
const UNAUTHORIZED: &str = "unknown source, disabled source or bad signature";

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(JSON)
        .body(body.to_string())
}

fn refused(status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        status,
        serde_json::json!({ "error": { "code": code, "message": message } }),
    )
}

/// What a delivery became, as the sender is told.
fn accepted(status: StatusCode, stored: &delivery::Model) -> Response {
    answer(
        status,
        serde_json::json!({
            "delivery": ids::encode(NodeType::Delivery, stored.id),
            "status": stored.status.as_str(),
            "reason": stored.reason,
        }),
    )
}

#[handler]
pub async fn deliver(
    req: &Request,
    Path(key): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    // A sender's budget is its source key's (interface.md), spent before anything is read.
    if let Err(wait) = state
        .limiter
        .check(&CallerKey::Subject(format!("ingest:{key}")))
    {
        let mut response = refused(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests; retry later",
        );
        if let Ok(value) = retry_after_seconds(wait).to_string().parse() {
            response
                .headers_mut()
                .insert(poem::http::header::RETRY_AFTER, value);
        }
        return response;
    }
    let bytes = match super::read_body(req, body, state).await {
        Ok(bytes) => bytes,
        Err((status, message)) => return refused(status, "BAD_USER_INPUT", &message),
    };
    let source = match ingest_source::Entity::find()
        .filter(ingest_source::Column::Key.eq(key.as_str()))
        .one(&state.db)
        .await
    {
        Ok(source) => source.filter(|s| s.enabled),
        Err(err) => return failed(&key, ApiError::from(err)),
    };
    let headers = Headers::new(req.headers().iter().filter_map(|(name, value)| {
        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
    }));
    let now = time::now_micros();
    let Some(source) =
        source.filter(|s| signature::verify(s.kind, &valid_secrets(s, now), &headers, &bytes))
    else {
        state.telemetry.record_signature_failure();
        tracing::info!(source = %key, "ingest delivery refused: unknown source or bad signature");
        return refused(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", UNAUTHORIZED);
    };
    let incoming = match ingest::read(source.kind, &headers, &bytes) {
        Ok(incoming) => incoming,
        Err(bad) => {
            tracing::info!(source = %key, field = %bad.field, "ingest delivery refused: bad input");
            return refused(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &bad.to_string());
        }
    };
    let delivery_id = incoming.delivery_id.clone();
    let input = NewDelivery {
        payload: String::from_utf8_lossy(&bytes).into_owned(),
        headers: headers.kept(),
        received_at: now,
        incoming,
        source: source.clone(),
    };
    let viewer = viewer_of(&source);
    let kind = source.kind.as_str();
    match relm_command!(&state.db, &state.bus, &viewer, apply, input) {
        Ok(stored) => {
            state
                .telemetry
                .record_delivery(kind, stored.status.as_str());
            tracing::info!(source = %key, delivery = %delivery_id, status = stored.status.as_str(), "ingest delivery");
            accepted(StatusCode::ACCEPTED, &stored)
        }
        Err(ApiError::Conflict(message)) if message == ALREADY_RECEIVED => {
            let first = delivery::Entity::find()
                .filter(delivery::Column::SourceId.eq(source.id))
                .filter(delivery::Column::ExternalId.eq(delivery_id.as_str()))
                .one(&state.db)
                .await;
            match first {
                Ok(Some(first)) => {
                    state.telemetry.record_delivery(kind, "DUPLICATE");
                    tracing::info!(source = %key, delivery = %delivery_id, status = "DUPLICATE", "ingest delivery");
                    accepted(StatusCode::OK, &first)
                }
                Ok(None) => failed(&key, ApiError::Busy("the first delivery is gone".into())),
                Err(err) => failed(&key, ApiError::from(err)),
            }
        }
        Err(err) => failed(&key, err),
    }
}

/// A delivery that could not be stored: nothing was, so the sender's retry applies it.
fn failed(key: &str, err: ApiError) -> Response {
    let status = super::status_of(&err);
    let request_id = uuid::Uuid::new_v4().to_string();
    tracing::error!(source = %key, request_id, error = ?err, "ingest delivery failed");
    refused(
        status,
        err.code(),
        &format!("the delivery could not be stored (request id {request_id}); retry it"),
    )
}
