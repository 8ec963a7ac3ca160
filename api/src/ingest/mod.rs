//! Reading what senders post to `POST /v1/ingest/{key}` (ingestion.md): checking the
//! signature (`signature`) and turning each kind's body into one plain [`Incoming`] fact
//! (`github`, `gitlab`, `pagerduty`, `cdevents`, `generic`). Nothing here touches the
//! database or speaks HTTP: the handler hands headers and body in, and
//! `commands::ingest` applies the fact through the same commands a person would run.

mod cdevents;
mod generic;
mod github;
mod gitlab;
mod json;
mod pagerduty;
pub mod signature;

use std::collections::BTreeMap;

pub use signature::Proof;

use entity::enums::{DeploymentStatus, DeploymentStrategy, EnvironmentTier, IngestKind, Severity};
use sha2::{Digest, Sha256};

/// Request headers by lower-case name.
#[derive(Debug, Default, Clone)]
pub struct Headers(BTreeMap<String, String>);

impl Headers {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The headers a body is read with, as a JSON object: never a signature or token.
    pub fn kept(&self) -> String {
        let kept: BTreeMap<&str, &str> = READ_HEADERS
            .iter()
            .filter_map(|name| Some((*name, self.get(name)?)))
            .collect();
        serde_json::to_string(&kept).unwrap_or_default()
    }

    /// Headers stored by [`Headers::kept`].
    pub fn from_kept(json: &str) -> Self {
        let kept: BTreeMap<String, String> = serde_json::from_str(json).unwrap_or_default();
        Self::new(kept)
    }
}

/// The headers readers use besides the body.
const READ_HEADERS: [&str; 9] = [
    "x-github-event",
    "x-github-delivery",
    "idempotency-key",
    "x-gitlab-event-uuid",
    "ce-id",
    "ce-source",
    "ce-type",
    "ce-time",
    "webhook-id",
];

/// A body or header that does not say what the event needs: 400 naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput {
    pub field: String,
    pub message: String,
}

impl BadInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// One delivery, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The sender's delivery id (idempotency key), unique per source.
    pub delivery_id: String,
    /// The fact the delivery reports, where its delivery id is not signed (ingestion.md,
    /// *Replays*): unique per source too, so a captured request resent under a new delivery
    /// id is a repeat.
    pub fact_id: Option<String>,
    /// e.g. `deployment_status`, `incident.triggered`.
    pub event_type: String,
    pub fact: Fact,
}

/// What a delivery says happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// An event or state relm does not use; the reason says which.
    Ignored(String),
    Deployment(DeploymentFact),
    Incident(IncidentFact),
}

/// Where a release is looked for, first hit wins (ingestion.md, matching a release).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseHints {
    /// An explicit release version.
    pub version: Option<String>,
    /// A tag or ref, compared with `refs/tags/` and one leading `v` removed.
    pub reference: Option<String>,
    /// A commit sha (or a prefix of one).
    pub commit: Option<String>,
}

impl ReleaseHints {
    fn texts(&self) -> [(&'static str, Option<&String>); 3] {
        [
            ("releaseVersion", self.version.as_ref()),
            ("ref", self.reference.as_ref()),
            ("commit", self.commit.as_ref()),
        ]
    }
}

/// The environment a deployment went to, as the sender names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentName {
    /// A name, looked up through the source's aliases, then as a relm environment name.
    Named(String),
    /// A tier (DevLake's field): the one environment of that tier.
    Tier(EnvironmentTier),
}

/// A deployment event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentFact {
    /// The sender's id of the deployment; later events about it find it by this id.
    pub external_id: String,
    pub environment: EnvironmentName,
    /// IN_PROGRESS, SUCCEEDED or FAILED.
    pub status: DeploymentStatus,
    /// A rollback of the matched release in that environment.
    pub rollback: bool,
    pub started_at: i64,
    /// The status time of a final status.
    pub finished_at: Option<i64>,
    /// When the reported event occurred; an event older than the last one applied to the
    /// same deployment is stale.
    pub occurred_at: i64,
    pub strategy: Option<DeploymentStrategy>,
    pub stage: Option<String>,
    pub release: ReleaseHints,
}

/// An incident event.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFact {
    /// The sender's id of the incident.
    pub external_id: String,
    pub change: IncidentChange,
    /// When the reported event occurred; an event older than the last one applied to the
    /// same incident is stale.
    pub occurred_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IncidentChange {
    Opened(OpenedIncident),
    Resolved { at: i64 },
    Reopened,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpenedIncident {
    pub title: String,
    pub severity: Severity,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    /// Said by the sender (GENERIC); otherwise attribution decides.
    pub caused_by_change: Option<bool>,
    pub release: ReleaseHints,
}

/// Reads a delivery of a source of `kind` that proved itself with `proof`: what the proof
/// does not cover is not read (ingestion.md, *Replays*).
pub fn read(
    kind: IngestKind,
    proof: &Proof,
    headers: &Headers,
    raw: &[u8],
) -> Result<Incoming, BadInput> {
    let body: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|e| BadInput::new("body", format!("is not JSON: {e}")))?;
    if !body.is_object() {
        return Err(BadInput::new("body", "must be a JSON object"));
    }
    let mut incoming = match kind {
        IngestKind::Github => github::read(headers, &body),
        IngestKind::Gitlab => gitlab::read(headers, &body),
        IngestKind::Pagerduty => pagerduty::read(&body),
        IngestKind::Cdevents => cdevents::read(proof, headers, &body),
        IngestKind::Generic => generic::read(proof, &body),
    }?;
    // GitHub's and GitLab's delivery ids and event names are headers nobody signs: an event
    // with no fact of its own is known by its whole signed body.
    if incoming.fact_id.is_none() && matches!(kind, IngestKind::Github | IngestKind::Gitlab) {
        incoming.fact_id = Some(format!("body:{}", hex::encode(Sha256::digest(raw))));
    }
    incoming.checked()
}

/// The longest id, name or version relm keeps from an event: they are stored, indexed
/// (PostgreSQL refuses very long index entries) and shown.
const MAX_TEXT: usize = 500;

impl Incoming {
    /// Every text the event carries fits [`MAX_TEXT`] and has no NUL (which PostgreSQL
    /// cannot store); an incident's title is shortened to what a title may be.
    fn checked(mut self) -> Result<Self, BadInput> {
        if let Fact::Incident(IncidentFact {
            change: IncidentChange::Opened(opened),
            ..
        }) = &mut self.fact
            && opened.title.chars().count() > crate::domain::validate::MAX_NAME
        {
            let kept = crate::domain::validate::MAX_NAME - 1;
            opened.title = opened.title.chars().take(kept).chain(['…']).collect();
        }
        // The event's own fields first: a delivery id may be made of them.
        let mut texts = Vec::new();
        match &self.fact {
            Fact::Ignored(_) => {}
            Fact::Deployment(d) => {
                texts.push(("id", Some(&d.external_id)));
                texts.push(("stage", d.stage.as_ref()));
                if let EnvironmentName::Named(name) = &d.environment {
                    texts.push(("environment", Some(name)));
                }
                texts.extend(d.release.texts());
            }
            Fact::Incident(i) => {
                texts.push(("id", Some(&i.external_id)));
                if let IncidentChange::Opened(opened) = &i.change {
                    texts.push(("title", Some(&opened.title)));
                    texts.extend(opened.release.texts());
                }
            }
        }
        texts.push(("delivery id", Some(&self.delivery_id)));
        texts.push(("fact id", self.fact_id.as_ref()));
        texts.push(("event type", Some(&self.event_type)));
        for (field, text) in texts {
            if text.is_some_and(|t| t.chars().count() > MAX_TEXT || t.contains('\0')) {
                return Err(BadInput::new(
                    field,
                    format!("must be at most {MAX_TEXT} characters, without NUL"),
                ));
            }
        }
        Ok(self)
    }
}

/// A tag or ref as a version: `refs/tags/` and one leading `v` or `V` removed.
pub fn version_of_ref(reference: &str) -> &str {
    let tag = reference.strip_prefix("refs/tags/").unwrap_or(reference);
    tag.strip_prefix(['v', 'V']).unwrap_or(tag)
}

#[cfg(test)]
mod tests;
