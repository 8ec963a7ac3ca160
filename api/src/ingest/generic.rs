//! relm's own JSON (ingestion.md, the GENERIC body), which also takes the field names of
//! Apache DevLake's deployment webhook. The delivery id is Standard Webhooks' signed
//! `webhook-id` when the request is signed that way, else it comes from the body: no
//! unsigned header may make a second delivery of one signed body.

use entity::enums::{DeploymentStatus, DeploymentStrategy, EnvironmentTier, Severity};
use serde_json::Value;

use super::json::{flag, required, required_time, text, time};
use super::{
    BadInput, DeploymentFact, EnvironmentName, Fact, IncidentChange, IncidentFact, Incoming,
    OpenedIncident, Proof, ReleaseHints,
};

pub fn read(proof: &Proof, body: &Value) -> Result<Incoming, BadInput> {
    let devlake = text(body, "kind").is_none()
        && (body.get("result").is_some() || body.get("deploymentCommits").is_some());
    let kind = if devlake {
        "deployment".to_owned()
    } else {
        required(body, "kind")?
    };
    let (fact, state) = match kind.as_str() {
        "deployment" => {
            let fact = deployment(body, devlake)?;
            let state = fact.status.as_str().to_owned();
            (Fact::Deployment(fact), state)
        }
        "incident" => {
            let fact = incident(body)?;
            let state = match &fact.change {
                IncidentChange::Opened(o) if o.resolved_at.is_some() => "resolved",
                _ => "open",
            };
            (Fact::Incident(fact), state.to_owned())
        }
        other => {
            return Err(BadInput::new(
                "kind",
                format!("'{other}' is not deployment or incident"),
            ));
        }
    };
    let delivery_id = match (proof, text(body, "eventId")) {
        (Proof::StandardWebhooks { id }, _) => id.clone(),
        (_, Some(id)) => id,
        (_, None) => format!("{}:{state}", required(body, "id")?),
    };
    Ok(Incoming {
        delivery_id,
        fact_id: None,
        event_type: kind,
        fact,
    })
}

fn deployment(body: &Value, devlake: bool) -> Result<DeploymentFact, BadInput> {
    let status = if devlake {
        match required(body, "result")?.as_str() {
            "SUCCESS" => DeploymentStatus::Succeeded,
            "FAILURE" | "ABORT" => DeploymentStatus::Failed,
            other => {
                return Err(BadInput::new(
                    "result",
                    format!("'{other}' is not SUCCESS, FAILURE or ABORT"),
                ));
            }
        }
    } else {
        match required(body, "status")?.as_str() {
            "IN_PROGRESS" => DeploymentStatus::InProgress,
            "SUCCEEDED" => DeploymentStatus::Succeeded,
            "FAILED" => DeploymentStatus::Failed,
            other => {
                return Err(BadInput::new(
                    "status",
                    format!("'{other}' is not IN_PROGRESS, SUCCEEDED or FAILED"),
                ));
            }
        }
    };
    let started_at = match time(body, "startedAt")? {
        Some(at) => at,
        None => required_time(body, "startedDate")?,
    };
    let finished_at = match status {
        DeploymentStatus::InProgress => None,
        _ => Some(match time(body, "finishedAt")? {
            Some(at) => at,
            None => time(body, "finishedDate")?
                .ok_or_else(|| BadInput::new("finishedAt", "is required unless IN_PROGRESS"))?,
        }),
    };
    let named = required(body, "environment")?;
    let tier = devlake.then(|| EnvironmentTier::parse(&named)).flatten();
    let strategy = text(body, "strategy")
        .map(|s| {
            DeploymentStrategy::parse(&s)
                .ok_or_else(|| BadInput::new("strategy", format!("'{s}' is not a strategy")))
        })
        .transpose()?;
    Ok(DeploymentFact {
        external_id: required(body, "id")?,
        environment: tier.map_or(EnvironmentName::Named(named), EnvironmentName::Tier),
        status,
        rollback: flag(body, "isRollback")?.unwrap_or(false),
        started_at,
        finished_at,
        occurred_at: finished_at.unwrap_or(started_at),
        strategy,
        stage: text(body, "stage"),
        release: ReleaseHints {
            version: text(body, "releaseVersion"),
            reference: None,
            commit: text(body, "commitSha").or_else(|| text(body, "deploymentCommits.0.commitSha")),
        },
    })
}

fn incident(body: &Value) -> Result<IncidentFact, BadInput> {
    let severity = match text(body, "severity") {
        Some(s) => severity("severity", &s)?,
        None => Severity::Sev3,
    };
    let opened_at = required_time(body, "openedAt")?;
    let resolved_at = time(body, "resolvedAt")?;
    // The event's own time: its resolution, else when the sender last changed it
    // (`updatedAt`, which a reopening needs), else its opening.
    let occurred_at = match resolved_at {
        Some(at) => at,
        None => time(body, "updatedAt")?.unwrap_or(opened_at),
    };
    Ok(IncidentFact {
        external_id: required(body, "id")?,
        occurred_at,
        change: IncidentChange::Opened(OpenedIncident {
            title: required(body, "title")?,
            severity,
            opened_at,
            resolved_at,
            caused_by_change: flag(body, "causedByChange")?,
            release: ReleaseHints {
                version: text(body, "releaseVersion"),
                reference: None,
                commit: text(body, "commitSha"),
            },
        }),
    })
}

/// SEV1..SEV4 as the contract spells them.
pub fn severity(field: &str, text: &str) -> Result<Severity, BadInput> {
    Severity::parse(text)
        .ok_or_else(|| BadInput::new(field, format!("'{text}' is not SEV1, SEV2, SEV3 or SEV4")))
}
