//! GitLab's Deployment Hook: `object_kind: deployment` becomes a deployment. GitLab's token
//! is the secret itself and signs nothing, so a deployment's status is also known by its
//! deployment id and status (its fact), whatever delivery id a request carries.

use chrono::DateTime;
use entity::enums::DeploymentStatus;
use serde_json::Value;

use super::json::{required, text};
use super::{BadInput, DeploymentFact, EnvironmentName, Fact, Headers, Incoming, ReleaseHints};

pub fn read(headers: &Headers, body: &Value) -> Result<Incoming, BadInput> {
    let event_type = required(body, "object_kind")?;
    let delivery_id = headers
        .get("idempotency-key")
        .or_else(|| headers.get("x-gitlab-event-uuid"))
        .ok_or_else(|| BadInput::new("X-Gitlab-Event-UUID", "header is required"))?
        .to_owned();
    let (fact, fact_id) = match event_type.as_str() {
        "deployment" => (
            deployment(body)?,
            Some(format!(
                "{}:{}",
                required(body, "deployment_id")?,
                required(body, "status")?
            )),
        ),
        other => (
            Fact::Ignored(format!("GitLab {other} events are not used")),
            None,
        ),
    };
    Ok(Incoming {
        delivery_id,
        fact_id,
        event_type,
        fact,
    })
}

/// GitLab writes `2021-04-28 21:50:00 +0200`; RFC 3339 is accepted too.
fn gitlab_time(body: &Value, path: &str) -> Result<i64, BadInput> {
    let text = required(body, path)?;
    DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S %z")
        .or_else(|_| DateTime::parse_from_rfc3339(&text))
        .map(|t| t.timestamp_micros())
        .map_err(|_| BadInput::new(path, format!("'{text}' is not a timestamp")))
}

fn deployment(body: &Value) -> Result<Fact, BadInput> {
    let state = required(body, "status")?;
    let status = match state.as_str() {
        "running" => DeploymentStatus::InProgress,
        "success" => DeploymentStatus::Succeeded,
        "failed" | "canceled" => DeploymentStatus::Failed,
        other => {
            return Ok(Fact::Ignored(format!(
                "deployment status {other} is not used"
            )));
        }
    };
    let at = gitlab_time(body, "status_changed_at")?;
    // The commit is the sha at the end of commit_url.
    let commit = text(body, "commit_url")
        .and_then(|url| url.rsplit('/').next().map(str::to_owned))
        .or_else(|| text(body, "short_sha"));
    Ok(Fact::Deployment(DeploymentFact {
        external_id: required(body, "deployment_id")?,
        environment: EnvironmentName::Named(required(body, "environment")?),
        status,
        rollback: false,
        started_at: at,
        finished_at: (status != DeploymentStatus::InProgress).then_some(at),
        occurred_at: at,
        strategy: None,
        stage: None,
        release: ReleaseHints {
            version: None,
            reference: text(body, "ref"),
            commit,
        },
    }))
}
