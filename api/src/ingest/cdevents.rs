//! CDEvents over CloudEvents, binary mode (`ce-*` headers, the CDEvent as the body) or
//! structured mode (the CDEvent as the body, or inside a CloudEvents envelope's `data`).
//! An HMAC signs the body only, so binary mode, whose id, type and time are headers, is
//! taken only from a sender that proved itself with the secret as a bearer token.

use entity::enums::{DeploymentStatus, Severity};
use serde_json::Value;

use super::json::{required, text, time};
use super::{
    BadInput, DeploymentFact, EnvironmentName, Fact, Headers, IncidentChange, IncidentFact,
    Incoming, OpenedIncident, Proof, ReleaseHints,
};

/// The CloudEvents attributes binary mode sends as headers.
const BINARY_HEADERS: [&str; 5] = ["ce-id", "ce-source", "ce-type", "ce-time", "ce-specversion"];

/// The CloudEvents attributes relm reads, wherever the mode puts them.
struct Context<'b> {
    id: String,
    source: String,
    event_type: String,
    time: Option<i64>,
    event: &'b Value,
}

fn context<'b>(proof: &Proof, headers: &Headers, body: &'b Value) -> Result<Context<'b>, BadInput> {
    let binary = BINARY_HEADERS
        .iter()
        .any(|name| headers.get(name).is_some());
    if binary && *proof != Proof::Token {
        return Err(BadInput::new(
            "ce-* headers",
            "structured mode required: an HMAC signs only the body, so the event's id, type and time must be in it",
        ));
    }
    if let Some(id) = headers.get("ce-id") {
        let header = |name: &str| {
            headers
                .get(name)
                .map(str::to_owned)
                .ok_or_else(|| BadInput::new(name, "header is required in binary mode"))
        };
        let time = headers
            .get("ce-time")
            .map(|t| {
                crate::time::parse_rfc3339(t)
                    .ok_or_else(|| BadInput::new("ce-time", format!("'{t}' is not a timestamp")))
            })
            .transpose()?;
        return Ok(Context {
            id: id.to_owned(),
            source: header("ce-source")?,
            event_type: header("ce-type")?,
            time: time.or(super::json::time(body, "context.timestamp")?),
            event: body,
        });
    }
    if body.get("specversion").is_some() {
        let event = body
            .get("data")
            .filter(|d| d.is_object())
            .ok_or_else(|| BadInput::new("data", "must hold the CDEvent"))?;
        return Ok(Context {
            id: required(body, "id")?,
            source: required(body, "source")?,
            event_type: required(body, "type")?,
            time: time(body, "time")?.or(time(event, "context.timestamp")?),
            event,
        });
    }
    Ok(Context {
        id: required(body, "context.id")?,
        source: required(body, "context.source")?,
        event_type: required(body, "context.type")?,
        time: time(body, "context.timestamp")?,
        event: body,
    })
}

pub fn read(proof: &Proof, headers: &Headers, body: &Value) -> Result<Incoming, BadInput> {
    let c = context(proof, headers, body)?;
    let at = || {
        c.time
            .ok_or_else(|| BadInput::new("context.timestamp", "is required"))
    };
    let of = |kind: &str| c.event_type.starts_with(&format!("dev.cdevents.{kind}."));
    let event = c.event;
    let fact = if of("service.deployed") || of("service.upgraded") || of("service.rolledback") {
        let at = at()?;
        Fact::Deployment(DeploymentFact {
            external_id: format!("{}#{}", c.source, c.id),
            environment: EnvironmentName::Named(required(event, "subject.content.environment.id")?),
            status: DeploymentStatus::Succeeded,
            rollback: of("service.rolledback"),
            started_at: at,
            finished_at: Some(at),
            occurred_at: at,
            strategy: None,
            stage: None,
            release: hints(event),
        })
    } else if of("incident.detected") || of("incident.reported") {
        Fact::Incident(IncidentFact {
            external_id: required(event, "subject.id")?,
            occurred_at: at()?,
            change: IncidentChange::Opened(OpenedIncident {
                title: text(event, "subject.content.description")
                    .or_else(|| text(event, "subject.id"))
                    .unwrap_or_default(),
                severity: severity(event)?,
                opened_at: at()?,
                resolved_at: None,
                caused_by_change: None,
                release: hints(event),
            }),
        })
    } else if of("incident.resolved") {
        Fact::Incident(IncidentFact {
            external_id: required(event, "subject.id")?,
            change: IncidentChange::Resolved { at: at()? },
            occurred_at: at()?,
        })
    } else {
        Fact::Ignored(format!("CDEvents type {} is not used", c.event_type))
    };
    Ok(Incoming {
        delivery_id: format!("{}#{}", c.source, c.id),
        fact_id: None,
        event_type: c.event_type,
        fact,
    })
}

/// `customData.relm.releaseVersion`, and the version of the artifact's package URL.
fn hints(event: &Value) -> ReleaseHints {
    let artifact_version = text(event, "subject.content.artifactId")
        .and_then(|purl| {
            let (_, version) = purl.split_once('@')?;
            Some(
                version
                    .split(['?', '#'])
                    .next()
                    .unwrap_or(version)
                    .to_owned(),
            )
        })
        .filter(|v| !v.contains("%3A") && !v.contains(':'));
    ReleaseHints {
        version: text(event, "customData.relm.releaseVersion"),
        reference: artifact_version,
        commit: text(event, "customData.relm.commitSha"),
    }
}

fn severity(event: &Value) -> Result<Severity, BadInput> {
    match text(event, "customData.relm.severity") {
        None => Ok(Severity::Sev3),
        Some(s) => super::generic::severity("customData.relm.severity", &s),
    }
}
