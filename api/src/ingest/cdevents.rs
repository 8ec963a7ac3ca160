//! CDEvents over CloudEvents, binary mode (`ce-*` headers, the CDEvent as the body) or
//! structured mode (the CDEvent as the body, or inside a CloudEvents envelope's `data`).

use entity::enums::{DeploymentStatus, Severity};
use serde_json::Value;

use super::json::{required, text, time};
use super::{
    BadInput, DeploymentFact, EnvironmentName, Fact, Headers, IncidentChange, IncidentFact,
    Incoming, OpenedIncident, ReleaseHints,
};

/// The CloudEvents attributes relm reads, wherever the mode puts them.
struct Context<'b> {
    id: String,
    source: String,
    event_type: String,
    time: Option<i64>,
    event: &'b Value,
}

fn context<'b>(headers: &Headers, body: &'b Value) -> Result<Context<'b>, BadInput> {
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

pub fn read(headers: &Headers, body: &Value) -> Result<Incoming, BadInput> {
    let c = context(headers, body)?;
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
            strategy: None,
            stage: None,
            release: hints(event),
        })
    } else if of("incident.detected") || of("incident.reported") {
        Fact::Incident(IncidentFact {
            external_id: required(event, "subject.id")?,
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
        })
    } else {
        Fact::Ignored(format!("CDEvents type {} is not used", c.event_type))
    };
    Ok(Incoming {
        delivery_id: format!("{}#{}", c.source, c.id),
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
