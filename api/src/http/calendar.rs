//! `GET /v1/calendar/{feedKey}.ics` (communication.md, *Calendar feeds*): calendar
//! applications cannot send a token, so the feed's key is the credential. The key never
//! reaches a log or `/metrics`; an unknown, expired or revoked key is a bare 404.

use std::net::IpAddr;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use crate::app::AppState;
use crate::db;
use crate::error::ApiError;
use crate::guard::{CallerKey, retry_after_seconds};
use crate::queries::calendar_feeds;
use crate::{ics, time};

/// The length of a feed key: 32 bytes in unpadded base64url.
const KEY_LENGTH: usize = 43;

#[handler]
pub async fn feed(
    req: &Request,
    Path(file): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    let address = super::graphql::client_address(req);
    let key = file
        .strip_suffix(".ics")
        .filter(|key| key.len() == KEY_LENGTH)
        .filter(|key| {
            key.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    let Some(key) = key else {
        return not_found(state, address);
    };
    let now = time::now_micros();
    let opened =
        db::once_more_if_lost(&state.db, || calendar_feeds::opened(&state.db, key, now)).await;
    let feed = match opened {
        Ok(Some(feed)) => feed,
        Ok(None) => return not_found(state, address),
        Err(err) => return failed(state, err),
    };
    if let Err(wait) = state.limiter.check(&CallerKey::Feed(feed.id)) {
        state.telemetry.record_feed("rate_limited");
        return rate_limited(wait);
    }
    let read = async {
        let reader = calendar_feeds::reader(&state.db, &state.program_ids, &feed).await?;
        calendar_feeds::content(&state.db, &reader, &feed, now).await
    };
    match read.await {
        Ok(content) => {
            state.telemetry.record_feed("ok");
            let text = ics::render(&feed.name, &content, now, state.public_url.as_deref());
            Response::builder()
                .content_type("text/calendar; charset=utf-8")
                .header("cache-control", "no-store")
                .body(text)
        }
        Err(err) => failed(state, err),
    }
}

/// A key that opens nothing: charged to the client's address.
fn not_found(state: &AppState, address: Option<IpAddr>) -> Response {
    if let Err(wait) = state.limiter.check(&CallerKey::Address(address)) {
        state.telemetry.record_feed("rate_limited");
        return rate_limited(wait);
    }
    state.telemetry.record_feed("not_found");
    StatusCode::NOT_FOUND.into()
}

fn rate_limited(wait: std::time::Duration) -> Response {
    let mut response: Response = StatusCode::TOO_MANY_REQUESTS.into();
    if let Ok(value) = retry_after_seconds(wait).to_string().parse() {
        response
            .headers_mut()
            .insert(poem::http::header::RETRY_AFTER, value);
    }
    response
}

fn failed(state: &AppState, err: ApiError) -> Response {
    state.telemetry.record_feed("failed");
    let request_id = uuid::Uuid::new_v4().to_string();
    tracing::error!(request_id, error = ?err, "a calendar feed could not be read");
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .body(format!(
            "the feed could not be read (request id {request_id}); try again"
        ))
}
