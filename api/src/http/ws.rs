//! Subscriptions over WebSocket with the `graphql-transport-ws` protocol, including the
//! protocol's close codes:
//!
//! | code | when |
//! |---|---|
//! | 4400 | a message that is not JSON, not a protocol message, or binary |
//! | 4401 | `subscribe` before the connection was acknowledged |
//! | 4403 | `connection_init` without a valid token, or the token's `exp` (the connection ends with its token), or an identity provider's token whose key was withdrawn (checked on each `subscribe` and every minute) |
//! | 4408 | no `connection_init` within `Limits::ws_init_timeout` |
//! | 4409 | `subscribe` with the id of a subscription still running |
//! | 4429 | a second `connection_init`, or one over the caller's request budget |
//! | 1009 | a message larger than [`MAX_MESSAGE_BYTES`] |
//! | 1001 | the server is shutting down |
//!
//! A `subscribe` over the caller's request budget, or beyond [`MAX_OPERATIONS`] running on
//! the connection, gets an `error` message with `RATE_LIMITED` and the connection stays.
//! Each operation runs as an HTTP request would ([`crate::app::execute`]): checked,
//! with the request deadline for queries and mutations, and mended responses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use futures_util::SinkExt;
use futures_util::stream::{SplitSink, StreamExt};
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketConfig, WebSocketStream};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::graphql::client_address;
use crate::app::conform::conform;
use crate::app::limits::RequestMeta;
use crate::app::run::{operation_type, prepare, within_limits};
use crate::app::trusted::Sent;
use crate::app::{AppState, Refusal, admit, execute};
use crate::auth::{Caller, Credentials};
use crate::db::RequestReads;
use crate::error::ApiError;
use crate::guard::{CallerKey, retry_after_seconds};

/// The largest message a client may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most operations one connection may run at once.
pub const MAX_OPERATIONS: usize = 100;
const PROTOCOL: &str = "graphql-transport-ws";
/// How often an open connection's token is verified again against an identity provider's
/// current keys, so that a withdrawn key ends its subscriptions.
const KEY_RECHECK: Duration = Duration::from_secs(60);

/// A message from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Ping,
    Pong,
    Subscribe {
        id: String,
        payload: Box<Sent>,
    },
    Complete {
        id: String,
    },
}

/// What an operation's task hands to the connection.
enum Outgoing {
    Message(serde_json::Value),
    /// The operation with this id ended; its id may be used again.
    Done(String),
}

/// Why the server closes a connection.
struct Close(u16, String);

/// Upgrades a request that asks for `graphql-transport-ws`; any other (or no) subprotocol
/// is 400 (interface.md), so no client runs a protocol relm does not speak.
#[handler]
pub fn upgrade(req: &Request, websocket: WebSocket, Data(state): Data<&AppState>) -> Response {
    let asks_for_ours = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim() == PROTOCOL);
    if !asks_for_ours {
        return super::json_error(
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol)",
        );
    }
    // A browser names the page that opens a socket; a page of another site must not ride
    // on the user's network position (cross-site WebSocket hijacking). Other clients send
    // no Origin.
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|origin| {
            state.origins.allows_socket(
                origin,
                state.public_url.as_deref(),
                req.header(header::HOST),
            )
        })
    {
        return super::json_error(
            StatusCode::FORBIDDEN,
            "a WebSocket from this origin is not allowed (RELM_CORS_ORIGINS)",
        );
    }
    let state = state.clone();
    let address = client_address(req);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    websocket
        .protocols([PROTOCOL])
        .config(config)
        .on_upgrade(move |socket| Connection::serve(state, address, socket))
        .into_response()
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The instant a token that expires at `exp` (Unix seconds) ends, on tokio's clock.
fn instant_of(exp: u64) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let left = std::time::UNIX_EPOCH
        .checked_add(Duration::from_secs(exp))
        .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
        .unwrap_or_default();
    // A token that ends past what the clock can hold ends in a year: it is re-checked by
    // every subscribe anyway.
    now.checked_add(left)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

struct Connection {
    state: AppState,
    address: Option<IpAddr>,
    caller: Option<Caller>,
    /// The `Authorization` value of `connection_init`, to verify again once acknowledged.
    authorization: Option<String>,
    init_received: bool,
    operations: HashMap<String, AbortHandle>,
    /// Where operations send their results, for this connection to write.
    outgoing: mpsc::Sender<Outgoing>,
}

type Sink = SplitSink<WebSocketStream, Message>;

impl Connection {
    /// Serves one upgraded connection until either side closes it.
    async fn serve(state: AppState, address: Option<IpAddr>, socket: WebSocketStream) {
        let (outgoing, results) = mpsc::channel(64);
        let connection = Self {
            state,
            address,
            caller: None,
            authorization: None,
            init_received: false,
            operations: HashMap::new(),
            outgoing,
        };
        connection.run(socket, results).await;
    }

    async fn run(mut self, socket: WebSocketStream, mut results: mpsc::Receiver<Outgoing>) {
        let (mut sink, mut stream) = socket.split();
        let init_deadline = tokio::time::sleep(self.state.limits.ws_init_timeout);
        let mut init_deadline = std::pin::pin!(init_deadline);
        // The token's end, set once the connection is acknowledged.
        let mut expiry = std::pin::pin!(tokio::time::sleep(self.state.limits.ws_init_timeout));
        let mut expires = false;
        let mut recheck = tokio::time::interval(KEY_RECHECK);
        let rechecks = self.state.provider.is_some();
        let bus = self.state.bus.clone();
        let close = loop {
            if !expires && let Some(exp) = self.expires_at() {
                expiry.as_mut().reset(instant_of(exp));
                expires = true;
            }
            tokio::select! {
                () = &mut init_deadline, if self.caller.is_none() => {
                    break Close(4408, "Connection initialisation timeout".into());
                }
                () = &mut expiry, if expires => break token_expired(),
                _ = recheck.tick(), if rechecks && self.caller.is_some() => {
                    if let Err(close) = self.still_verifies().await {
                        break close;
                    }
                }
                () = bus.closed() => break Close(1001, "the server is shutting down".into()),
                Some(result) = results.recv() => match result {
                    Outgoing::Message(message) => {
                        if send(&mut sink, &message).await.is_err() {
                            break Close(1000, String::new());
                        }
                    }
                    Outgoing::Done(id) => {
                        self.operations.remove(&id);
                    }
                },
                message = stream.next() => match message {
                    Some(Ok(Message::Text(text))) => match self.receive(&text, &mut sink).await {
                        Ok(()) => {}
                        Err(close) => break close,
                    },
                    Some(Ok(Message::Binary(_))) => {
                        break Close(4400, "binary messages are not part of the protocol".into());
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break Close(1000, String::new()),
                    Some(Err(err)) => {
                        // poem hands tungstenite's errors over as text; this is its
                        // CapacityError::MessageTooLong.
                        break if err.to_string().contains("Message too long") {
                            Close(1009, format!("messages are limited to {MAX_MESSAGE_BYTES} bytes"))
                        } else {
                            Close(1000, String::new())
                        };
                    }
                },
            }
        };
        for operation in self.operations.values() {
            operation.abort();
        }
        let Close(code, reason) = close;
        let _ = sink
            .send(Message::Close(Some((CloseCode::from(code), reason))))
            .await;
        let _ = sink.close().await;
    }

    /// Fails with 4403 once the token no longer verifies: an identity provider withdrew its
    /// key. (relm's own key never changes under a running server.)
    async fn still_verifies(&self) -> Result<(), Close> {
        if self.state.provider.is_none() {
            return Ok(());
        }
        match Credentials::read(self.state.tokens(), self.authorization.as_deref()).await {
            Credentials::Verified(_) => Ok(()),
            _ => Err(Close(
                4403,
                "Forbidden: the token no longer verifies".into(),
            )),
        }
    }

    /// When the acknowledged caller's token expires.
    fn expires_at(&self) -> Option<u64> {
        self.caller.as_ref()?.viewer().ok()?.expires_at
    }

    async fn receive(&mut self, text: &str, sink: &mut Sink) -> Result<(), Close> {
        let message: ClientMessage = serde_json::from_str(text).map_err(|e| {
            Close(
                4400,
                format!("invalid message: {}", truncate(&e.to_string())),
            )
        })?;
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload, sink).await,
            ClientMessage::Ping => send(sink, &json!({"type": "pong"}))
                .await
                .map_err(|()| Close(1000, String::new())),
            ClientMessage::Pong => Ok(()),
            ClientMessage::Subscribe { id, payload } => {
                self.subscribe(id, payload.into_request(), sink).await
            }
            ClientMessage::Complete { id } => {
                if let Some(operation) = self.operations.remove(&id) {
                    operation.abort();
                }
                Ok(())
            }
        }
    }

    async fn init(
        &mut self,
        payload: Option<serde_json::Value>,
        sink: &mut Sink,
    ) -> Result<(), Close> {
        if std::mem::replace(&mut self.init_received, true) {
            return Err(Close(4429, "Too many initialisation requests".into()));
        }
        let authorization = payload.as_ref().and_then(|p| {
            ["Authorization", "authorization"]
                .iter()
                .find_map(|key| p.get(key)?.as_str())
        });
        match admit(&self.state, authorization, self.address).await {
            Ok(caller) => {
                self.caller = Some(caller);
                self.authorization = authorization.map(str::to_owned);
                send(sink, &json!({"type": "connection_ack"}))
                    .await
                    .map_err(|()| Close(1000, String::new()))
            }
            Err(refusal) => Err(refused(&refusal)),
        }
    }

    async fn subscribe(
        &mut self,
        id: String,
        mut request: async_graphql::Request,
        sink: &mut Sink,
    ) -> Result<(), Close> {
        let Some(caller) = self.caller.clone() else {
            return Err(Close(4401, "Unauthorized".into()));
        };
        // The timer closes the connection at `exp`; this catches a subscribe that arrives
        // in the same instant.
        if caller.viewer().is_ok_and(|v| v.expired(unix_now())) {
            return Err(token_expired());
        }
        self.still_verifies().await?;
        if self.operations.contains_key(&id) {
            return Err(Close(
                4409,
                format!("Subscriber for {} already exists", truncate(&id)),
            ));
        }
        // Each operation is a request of the caller's budget, and a connection holds a
        // bounded number of them.
        let subject = caller.viewer().map(|v| v.subject.as_str()).ok();
        let refused = if let Err(wait) = self
            .state
            .limiter
            .check(&CallerKey::of(subject, self.address))
        {
            Some(format!(
                "more than {} requests per second; try again in {} s",
                self.state.limits.rate_limit,
                retry_after_seconds(wait)
            ))
        } else if self.operations.len() >= MAX_OPERATIONS {
            Some(format!(
                "at most {MAX_OPERATIONS} operations may run on one connection"
            ))
        } else {
            None
        };
        let refused = refused
            .map(|message| (message, "RATE_LIMITED"))
            .or_else(|| {
                let role = caller.viewer().ok()?.role;
                let err = self.state.trusted.resolve(&mut request, role).err()?;
                Some((err.to_string(), err.code()))
            });
        if let Some((message, code)) = refused {
            let payload = [json!({"message": message, "extensions": {"code": code}})];
            let error = json!({"id": id, "type": "error", "payload": payload});
            return send(sink, &error)
                .await
                .map_err(|()| Close(1000, String::new()));
        }
        let task = tokio::spawn(operate(
            self.state.clone(),
            caller,
            id.clone(),
            request,
            self.outgoing.clone(),
        ));
        self.operations.insert(id, task.abort_handle());
        Ok(())
    }
}

/// The close at the token's `exp`, which also ends its subscriptions.
fn token_expired() -> Close {
    Close(4403, "Forbidden: the token has expired".into())
}

/// The close that answers a refused `connection_init`.
fn refused(refusal: &Refusal) -> Close {
    let code = if matches!(refusal.error, ApiError::RateLimited(_)) {
        4429
    } else {
        4403
    };
    Close(
        code,
        format!("Forbidden: {}", truncate(&refusal.error.to_string())),
    )
}

/// Runs one operation and hands its results to the connection: `next` for each result and
/// `complete` at the end, or one `error` when the operation cannot run at all.
async fn operate(
    state: AppState,
    caller: Caller,
    id: String,
    mut request: async_graphql::Request,
    out: mpsc::Sender<Outgoing>,
) {
    let meta = Arc::new(RequestMeta::default());
    let mut ended_in_error = false;
    if operation_type(&request) == Some(OperationType::Subscription) {
        if let Err(error) = within_limits(&state, &mut request, &meta) {
            let message = json!({"id": id, "type": "error", "payload": [error]});
            let _ = out.send(Outgoing::Message(message)).await;
            let _ = out.send(Outgoing::Done(id)).await;
            return;
        }
        let query = request.query.clone();
        let operation_name = request.operation_name.clone();
        let request = prepare(
            request,
            RequestReads::of_query(&state.reads),
            &state,
            caller,
        );
        let mut stream = std::pin::pin!(state.schema.execute_stream(request));
        while let Some(mut response) = stream.next().await {
            conform(
                &state.types,
                &query,
                operation_name.as_deref(),
                &mut response,
            );
            // A request error (no data, no error with a path) means it never ran.
            ended_in_error = response.data == async_graphql::Value::Null
                && !response.errors.is_empty()
                && response.errors.iter().all(|e| e.path.is_empty());
            let message = if ended_in_error {
                json!({"id": id, "type": "error", "payload": response.errors})
            } else {
                json!({"id": id, "type": "next", "payload": response})
            };
            if out.send(Outgoing::Message(message)).await.is_err() {
                return;
            }
            if ended_in_error {
                break;
            }
        }
    } else {
        let message = match execute(&state, caller, request, meta).await {
            Ok(response) => json!({"id": id, "type": "next", "payload": response}),
            Err(refusal) => {
                ended_in_error = true;
                json!({"id": id, "type": "error", "payload": [refusal.error_json()]})
            }
        };
        if out.send(Outgoing::Message(message)).await.is_err() {
            return;
        }
    }
    if !ended_in_error {
        let complete = json!({"id": id, "type": "complete"});
        let _ = out.send(Outgoing::Message(complete)).await;
    }
    let _ = out.send(Outgoing::Done(id)).await;
}

async fn send(sink: &mut Sink, message: &serde_json::Value) -> Result<(), ()> {
    sink.send(Message::Text(message.to_string()))
        .await
        .map_err(|_| ())
}

/// A close reason must fit a control frame (123 bytes).
fn truncate(text: &str) -> String {
    let mut end = text.len().min(100);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
