//! Calendar feeds (communication.md, *Calendar feeds*): a key that a calendar application
//! can hold instead of a token. The key is shown once and stored only as its SHA-256; the
//! feed keeps the role and programs of the token that made it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::calendar_feed;
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, NotSet, Set};

use super::Change;
use crate::auth::Viewer;
use crate::domain::validate::Name;
use crate::error::{ApiError, ApiResult};
use crate::queries::Visible;
use crate::queries::calendar_feeds::{self, key_hash};
use crate::secrets::random;
use crate::time;

/// What feeds are made with (`RELM_CALENDAR_FEED_TTL`, `RELM_PUBLIC_URL`).
#[derive(Debug, Clone)]
pub struct FeedSettings {
    pub ttl: std::time::Duration,
    /// Where relm is reached, for the feed's URL; without it only the path is given.
    pub public_url: Option<String>,
}

/// `RELM_CALENDAR_FEED_TTL`'s default.
pub const DEFAULT_TTL: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 3600);

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_TTL,
            public_url: None,
        }
    }
}

impl FeedSettings {
    /// The URL of a feed with `key`.
    pub fn url(&self, key: &str) -> String {
        let base = self
            .public_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/'))
            .unwrap_or_default();
        format!("{base}/v1/calendar/{key}.ics")
    }
}

/// `createCalendarFeed`.
#[derive(Debug, Clone)]
pub struct NewFeed {
    pub name: Name,
    /// The programs it shows; `None` for every program the token sees.
    pub program_keys: Option<Vec<String>>,
    /// How long its key lives (`RELM_CALENDAR_FEED_TTL`), in microseconds.
    pub ttl_micros: i64,
}

/// A feed made now, with its key (shown once).
pub struct Created {
    pub feed: calendar_feed::Model,
    pub key: String,
}

/// Any role may make a feed of what it sees: the one mutation open to a VIEWER.
pub async fn create(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewFeed,
) -> ApiResult<Change<Created>> {
    let program_keys = match &input.program_keys {
        Some(keys) if keys.is_empty() => {
            return Err(ApiError::bad_input(
                "programKeys",
                "must name at least one program (leave it out for every program)",
            ));
        }
        Some(keys) => {
            // Only programs the token sees may be named.
            Visible::new(txn, viewer)
                .narrowed("programKeys", keys)
                .await?;
            let mut keys = keys.clone();
            keys.sort_unstable();
            keys.dedup();
            Some(keys)
        }
        None => None,
    };
    let key = URL_SAFE_NO_PAD.encode(random::<32>()?);
    let now = time::now_micros();
    let json = |keys: &Option<Vec<String>>| {
        keys.as_ref()
            .map(|k| serde_json::to_string(k).unwrap_or_default())
    };
    let feed = calendar_feed::ActiveModel {
        id: NotSet,
        name: Set(input.name.to_string()),
        key_hash: Set(key_hash(&key)),
        owner: Set(viewer.subject.clone()),
        role: Set(viewer.role.claim().to_owned()),
        program_keys: Set(json(&program_keys)),
        token_programs: Set(json(&viewer.program_keys)),
        created_at: Set(now),
        expires_at: Set(now.saturating_add(input.ttl_micros)),
        revoked_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(Change::new(Created { feed, key }, None))
}

/// Ends a feed: its owner's, or any for an ADMIN without programs. Another's feed is
/// NOT_FOUND, like a missing one.
pub async fn revoke(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    feed_id: &i64,
) -> ApiResult<Change<calendar_feed::Model>> {
    let feed = calendar_feeds::managed(txn, viewer, *feed_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("calendar feed".into()))?;
    let mut feed = feed.into_active_model();
    feed.revoked_at = Set(Some(time::now_micros()));
    Ok(Change::new(feed.update(txn).await?, None))
}
