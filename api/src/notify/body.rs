//! What a notification says, in each channel kind's shape (communication.md,
//! *Notifications*): Standard Webhooks JSON for WEBHOOK, `text` and `blocks` for Slack, a
//! message with one Adaptive Card for Teams.

use entity::enums::NotificationKind;
use entity::{release, release_event};
use serde_json::{Value, json};

use crate::ids::{self, NodeType};
use crate::time;

/// A release event to tell, with what the message says of its release.
pub struct Message<'a> {
    pub event: &'a release_event::Model,
    pub release: &'a release::Model,
    pub program_key: &'a str,
    /// `RELM_PUBLIC_URL`, without a trailing `/`.
    pub public_url: Option<&'a str>,
}

impl Message<'_> {
    /// The release on the dashboard, when relm knows where it is reached.
    fn url(&self) -> Option<String> {
        self.public_url.map(|base| {
            format!(
                "{base}/dashboard?program={}#release={}",
                self.program_key,
                ids::encode(NodeType::Release, self.release.id)
            )
        })
    }

    /// `PAY 2.1 (Spring payments): STATUS_CHANGED PLANNED → SCHEDULED by alice: note`.
    fn summary(&self) -> String {
        let (event, release) = (self.event, self.release);
        let mut text = format!(
            "{} {} ({}): {}",
            self.program_key,
            release.version,
            release.name,
            event.kind.as_str()
        );
        if let (Some(from), Some(to)) = (event.from_status, event.to_status) {
            text.push_str(&format!(" {} → {}", from.as_str(), to.as_str()));
        }
        text.push_str(&format!(" by {}", event.actor));
        if let Some(note) = &event.note {
            text.push_str(&format!(": {note}"));
        }
        text
    }

    /// The Standard Webhooks body: `{"type", "timestamp", "data": {"event", "release"}}`.
    fn webhook(&self) -> Value {
        let (event, release) = (self.event, self.release);
        json!({
            "type": format!("release.{}", event.kind.as_str().to_ascii_lowercase()),
            "timestamp": time::rfc3339(event.at),
            "data": {
                "event": {
                    "id": ids::encode(NodeType::ReleaseEvent, event.id),
                    "kind": event.kind.as_str(),
                    "actor": event.actor,
                    "at": time::rfc3339(event.at),
                    "fromStatus": event.from_status.map(|s| s.as_str()),
                    "toStatus": event.to_status.map(|s| s.as_str()),
                    "note": event.note,
                },
                "release": {
                    "id": ids::encode(NodeType::Release, release.id),
                    "programKey": self.program_key,
                    "version": release.version,
                    "name": release.name,
                    "status": release.status.as_str(),
                    "url": self.url(),
                },
            },
        })
    }

    /// The body for a channel of `kind`.
    pub fn body(&self, kind: NotificationKind) -> Vec<u8> {
        let value = match kind {
            NotificationKind::Webhook => self.webhook(),
            NotificationKind::Slack => slack(&self.summary(), self.url().as_deref()),
            NotificationKind::Teams => teams(&self.summary(), self.url().as_deref()),
        };
        value.to_string().into_bytes()
    }
}

/// The body of `testNotificationChannel`'s `relm.test` notification.
pub fn test(kind: NotificationKind, channel: &str, at: i64) -> Vec<u8> {
    let text = format!("relm test notification for the channel {channel}");
    let value = match kind {
        NotificationKind::Webhook => json!({
            "type": "relm.test",
            "timestamp": time::rfc3339(at),
            "data": { "channel": channel, "message": text },
        }),
        NotificationKind::Slack => slack(&text, None),
        NotificationKind::Teams => teams(&text, None),
    };
    value.to_string().into_bytes()
}

fn slack(text: &str, url: Option<&str>) -> Value {
    let mut blocks = vec![json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": slack_escape(text) },
    })];
    if let Some(url) = url {
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": format!("<{}|Open in relm>", slack_escape(url)) }],
        }));
    }
    json!({ "text": text, "blocks": blocks })
}

/// Slack reads `&`, `<` and `>` as markup in mrkdwn.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn teams(text: &str, url: Option<&str>) -> Value {
    let actions: Vec<Value> = url
        .map(|url| json!({ "type": "Action.OpenUrl", "title": "Open in relm", "url": url }))
        .into_iter()
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{ "type": "TextBlock", "text": text, "wrap": true }],
                "actions": actions,
            },
        }],
    })
}
