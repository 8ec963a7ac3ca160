//! relm's own JSON (ingestion.md, the GENERIC body), which also takes the field names of
//! Apache DevLake's deployment webhook.

use entity::enums::{DeploymentStatus, DeploymentStrategy, EnvironmentTier, Severity};
use serde_json::Value;

use super::json::{flag, required, required_time, text, time};
use super::{
    BadInput, DeploymentFact, EnvironmentName, Fact, Headers, IncidentChange, IncidentFact,
    Incoming, OpenedIncident, ReleaseHints,
};

pub fn read(headers: &Headers, body: &Value) -> Result<Incoming, BadInput> {
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
    let delivery_id = match headers.get("idempotency-key") {
        Some(key) => key.to_owned(),
        None => match text(body, "eventId") {
            Some(id) => id,
            None => format!("{}:{state}", required(body, "id")?),
        },
    };
    Ok(Incoming {
        delivery_id,
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
    Ok(IncidentFact {
        external_id: required(body, "id")?,
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
