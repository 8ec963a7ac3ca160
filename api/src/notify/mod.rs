//! Sending notifications out of relm (communication.md, *Notifications*): where they may
//! go (`egress`), what they say (`body`), the HTTP attempt ([`Outbound`]) and the task
//! that drains the outbox in each process (`sender`). The outbox itself is written by
//! `commands::notification::enqueue`, in the transaction of each event.
//!
//! Like the rest of the core, this module knows no GraphQL and serves no HTTP.

pub mod body;
pub mod egress;
pub mod sender;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::enums::NotificationKind;
use entity::notification_channel;

use crate::commands::notification::{Attempt, SealedUrl};
use crate::error::{ApiError, ApiResult};
use crate::ingest::signature::sign_standard_key;
use crate::secrets::{Cipher, Purpose, WEBHOOK_SECRET_PREFIX};
use crate::time;
pub use egress::{AllowHosts, Resolver, SystemResolver};
pub use sender::Sender;

/// The delays before each retry of a failed notification; after the last it is FAILED.
pub const RETRIES: [Duration; 7] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(12 * 3600),
];

/// How long a receiver has to answer an attempt.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How notifications are sent.
#[derive(Clone)]
pub struct Settings {
    /// `RELM_NOTIFY_ALLOW_HOSTS`.
    pub allow: AllowHosts,
    /// `RELM_PUBLIC_URL`, for links to releases.
    pub public_url: Option<String>,
    /// The delays before each retry ([`RETRIES`]; tests shorten them).
    pub retries: Vec<Duration>,
    /// How often the sender looks for due notifications when no event wakes it.
    pub poll: Duration,
    pub resolver: Arc<dyn Resolver>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            allow: AllowHosts::default(),
            public_url: None,
            retries: RETRIES.to_vec(),
            poll: Duration::from_secs(1),
            resolver: Arc::new(SystemResolver),
        }
    }
}

/// Checks and sends notifications: one HTTP client per host and checked address, so each
/// connection goes only to an address that was checked, and connections are reused while
/// the host keeps resolving to it.
pub struct Outbound {
    settings: Settings,
    cipher: Cipher,
    clients: Mutex<HashMap<(String, SocketAddr), reqwest::Client>>,
}

/// Clients kept at most; past it they are made afresh.
const MAX_CLIENTS: usize = 256;

impl Outbound {
    pub fn new(settings: Settings, cipher: Cipher) -> Self {
        Self {
            settings,
            cipher,
            clients: Mutex::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Checks a channel's URL as it is given (`BAD_USER_INPUT` naming `url`), and seals it.
    pub async fn check(&self, url: &str) -> ApiResult<SealedUrl> {
        // The form and length every URL input is held to, before anything is resolved.
        let url = crate::domain::validate::Url::parse("url", url)?;
        let target = egress::parse(&url, &self.settings.allow)
            .map_err(|why| ApiError::bad_input("url", why))?;
        egress::resolve(&target, &self.settings.resolver)
            .await
            .map_err(|why| ApiError::bad_input("url", why))?;
        Ok(SealedUrl {
            sealed: self
                .cipher
                .seal(Purpose::NotificationChannel, target.url.as_str())?,
            hint: egress::hint(&target.url),
        })
    }

    /// One attempt to deliver `body` over `channel`, as notification `id`: the egress rules
    /// checked again, then a POST, signed for a WEBHOOK channel. A 2xx answer within
    /// [`TIMEOUT`] is success; the answer's body is never read.
    pub async fn send(
        &self,
        channel: &notification_channel::Model,
        id: &str,
        body: Vec<u8>,
    ) -> Attempt {
        let at = time::now_micros();
        let failed = |http_status: Option<i32>, why: String| Attempt {
            at,
            http_status,
            error: Some(why),
        };
        let unreadable = || "the channel's secrets cannot be read with this server key".to_owned();
        let Some(url) = self.cipher.open(Purpose::NotificationChannel, &channel.url) else {
            return failed(None, unreadable());
        };
        let target = match egress::parse(&url, &self.settings.allow) {
            Ok(target) => target,
            Err(why) => return failed(None, format!("url: {why}")),
        };
        let address = match egress::resolve(&target, &self.settings.resolver).await {
            Ok(address) => address,
            Err(why) => return failed(None, why),
        };
        let client = match self.client(&target.host, address) {
            Ok(client) => client,
            Err(why) => return failed(None, why),
        };
        let mut request = client
            .post(target.url)
            .header("content-type", "application/json");
        if channel.kind == NotificationKind::Webhook {
            let Some(key) = channel
                .secret
                .as_deref()
                .and_then(|sealed| self.cipher.open(Purpose::NotificationChannel, sealed))
                .and_then(|secret| webhook_key(&secret))
            else {
                return failed(None, unreadable());
            };
            let timestamp = at / 1_000_000;
            request = request
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    sign_standard_key(&key, id, timestamp, &body),
                );
        }
        match request.body(body).send().await {
            Ok(response) => {
                let status = response.status();
                let code = Some(i32::from(status.as_u16()));
                if status.is_success() {
                    Attempt {
                        at,
                        http_status: code,
                        error: None,
                    }
                } else if status.is_redirection() {
                    failed(
                        code,
                        format!("HTTP {}: redirects are not followed", status.as_u16()),
                    )
                } else {
                    failed(code, format!("HTTP {}", status.as_u16()))
                }
            }
            Err(err) => failed(None, describe(&err)),
        }
    }

    /// The client that connects `host` to `address` only.
    fn client(&self, host: &str, address: SocketAddr) -> Result<reqwest::Client, String> {
        let key = (host.to_owned(), address);
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("relm/", env!("CARGO_PKG_VERSION")))
            .resolve(host, address)
            .build()
            .map_err(|_| "no HTTP client could be made".to_owned())?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// The HMAC key of a `whsec_` secret: the bytes its base64 holds.
fn webhook_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(WEBHOOK_SECRET_PREFIX)?)
        .ok()
}

/// What went wrong, in words that hold neither the URL (a chat webhook's path is its
/// secret) nor anything the receiver sent.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if err.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}
