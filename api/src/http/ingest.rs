//! `POST /v1/ingest/{key}` (ingestion.md): a sender's event, proved by the source's secret,
//! read by `ingest` and applied by `commands::ingest` in one transaction. A request is
//! charged to its source only once its signature verified, to its client address
//! otherwise (ingestion.md, *Replays*).

use std::net::IpAddr;

use entity::delivery;
use entity::enums::IngestKind;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use super::JSON;
use crate::app::AppState;
use crate::commands::ingest::{ALREADY_RECEIVED, NewDelivery, deliver as apply, viewer_of};
use crate::commands::source::{secrets_to_check, valid_key};
use crate::db;
use crate::error::ApiError;
use crate::guard::{CallerKey, retry_after_seconds};
use crate::ids::{self, NodeType};
use crate::ingest::{self, Headers, signature};
use crate::queries;
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
    let address = super::graphql::client_address(req);
    let headers = Headers::new(req.headers().iter().filter_map(|(name, value)| {
        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
    }));
    // A key that cannot be one, or a request that offers no proof at all, is refused before
    // anything is read, looked up, logged or counted under its key.
    let unsigned = signature::PROOF_HEADERS
        .iter()
        .all(|name| headers.get(name).is_none());
    if !valid_key(&key) || unsigned {
        return unauthorized(state, address);
    }
    let bytes = match super::read_body(req, body, state).await {
        Ok(bytes) => bytes,
        Err((status, message)) => return refused(status, "BAD_USER_INPUT", &message),
    };
    let found = db::once_more_if_lost(&state.db, || {
        queries::ingest::source_by_key(&state.db, &key)
    })
    .await;
    let found = match found {
        Ok(found) => found,
        Err(err) => return failed(&key, ApiError::from(err)),
    };
    // One path for known and unknown keys: both open and check two secrets.
    let now = time::now_micros();
    let secrets = secrets_to_check(found.as_ref(), &state.cipher, &state.stand_in, now);
    let check = signature::Check {
        secrets: secrets.each_ref().map(Option::as_deref),
        now_seconds: now.div_euclid(1_000_000),
    };
    let kind = found.as_ref().map_or(IngestKind::Generic, |s| s.kind);
    let proof = signature::verify(kind, &check, &headers, &bytes);
    let (Some(source), Some(proof)) = (found.filter(|s| s.enabled), proof) else {
        state.telemetry.record_signature_failure();
        tracing::info!(source = %key, "ingest delivery refused: unknown source or bad signature");
        return unauthorized(state, address);
    };
    let incoming = match ingest::read(source.kind, &proof, &headers, &bytes) {
        Ok(incoming) => incoming,
        Err(bad) => {
            tracing::info!(source = %key, field = ?bad.field, "ingest delivery refused: bad input");
            return refused(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &bad.to_string());
        }
    };
    let (delivery_id, fact_id) = (incoming.delivery_id.clone(), incoming.fact_id.clone());
    let kind = source.kind.as_str();
    // A repeat (the same delivery id or fact) is answered with the first delivery, and
    // spends the address's budget: resent captures cannot use up the source's.
    match first_delivery(state, source.id, &delivery_id, fact_id.as_deref()).await {
        Ok(Some(first)) => {
            if let Err(wait) = state.limiter.check(&CallerKey::Address(address)) {
                return rate_limited(wait);
            }
            return repeated(state, &key, kind, &delivery_id, &first);
        }
        Ok(None) => {}
        Err(err) => return failed(&key, err),
    }
    // A source's budget is spent only by new deliveries it signed.
    if let Err(wait) = state.limiter.check(&CallerKey::Source(source.id)) {
        return rate_limited(wait);
    }
    let input = NewDelivery {
        payload: String::from_utf8_lossy(&bytes).into_owned(),
        headers: headers.kept(),
        received_at: now,
        incoming,
        source: source.clone(),
    };
    let viewer = viewer_of(&source);
    match relm_command!(&state.db, &state.bus, &viewer, apply, input) {
        Ok(stored) => {
            state
                .telemetry
                .record_delivery(kind, stored.status.as_str());
            tracing::info!(source = %key, delivery = ?delivery_id, status = stored.status.as_str(), "ingest delivery");
            accepted(StatusCode::ACCEPTED, &stored)
        }
        // A concurrent retry stored it first.
        Err(ApiError::Conflict(message)) if message == ALREADY_RECEIVED => {
            match first_delivery(state, source.id, &delivery_id, fact_id.as_deref()).await {
                Ok(Some(first)) => repeated(state, &key, kind, &delivery_id, &first),
                Ok(None) => failed(&key, ApiError::Busy("the first delivery is gone".into())),
                Err(err) => failed(&key, err),
            }
        }
        Err(err) => failed(&key, err),
    }
}

/// The delivery of `source` received first with this delivery id or fact.
async fn first_delivery(
    state: &AppState,
    source: i64,
    delivery_id: &str,
    fact_id: Option<&str>,
) -> Result<Option<delivery::Model>, ApiError> {
    Ok(db::once_more_if_lost(&state.db, || {
        queries::ingest::first_delivery(&state.db, source, delivery_id, fact_id)
    })
    .await?)
}

/// The answer to a repeat: 200 and the first delivery's answer; nothing is applied again.
fn repeated(
    state: &AppState,
    key: &str,
    kind: &'static str,
    delivery_id: &str,
    first: &delivery::Model,
) -> Response {
    state.telemetry.record_delivery(kind, "DUPLICATE");
    tracing::info!(source = %key, delivery = ?delivery_id, status = "DUPLICATE", "ingest delivery");
    accepted(StatusCode::OK, first)
}

/// 401 for an unknown key, a disabled source or a bad signature, charged to the client's
/// address (429 once its budget is spent), so unsigned requests cannot use up a source's.
fn unauthorized(state: &AppState, address: Option<IpAddr>) -> Response {
    if let Err(wait) = state.limiter.check(&CallerKey::Address(address)) {
        return rate_limited(wait);
    }
    refused(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", UNAUTHORIZED)
}

fn rate_limited(wait: std::time::Duration) -> Response {
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
    response
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
