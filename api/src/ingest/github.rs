//! GitHub webhooks: `deployment_status` becomes a deployment; `ping` and every other event
//! is IGNORED. The delivery id is a header GitHub does not sign, so a status is also known
//! by its own id in the signed body (its fact).

use entity::enums::DeploymentStatus;
use serde_json::Value;

use super::json::{required, required_time, text, time};
use super::{BadInput, DeploymentFact, EnvironmentName, Fact, Headers, Incoming, ReleaseHints};

pub fn read(headers: &Headers, body: &Value) -> Result<Incoming, BadInput> {
    let event_type = headers
        .get("x-github-event")
        .ok_or_else(|| BadInput::new("X-GitHub-Event", "header is required"))?
        .to_owned();
    let delivery_id = headers
        .get("x-github-delivery")
        .ok_or_else(|| BadInput::new("X-GitHub-Delivery", "header is required"))?
        .to_owned();
    let (fact, fact_id) = match event_type.as_str() {
        "deployment_status" => (
            deployment_status(body)?,
            Some(format!(
                "status:{}",
                required(body, "deployment_status.id")?
            )),
        ),
        other => (
            Fact::Ignored(format!("GitHub event {other} is not used")),
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

fn deployment_status(body: &Value) -> Result<Fact, BadInput> {
    let state = required(body, "deployment_status.state")?;
    let status = match state.as_str() {
        "queued" | "pending" | "in_progress" => DeploymentStatus::InProgress,
        "success" => DeploymentStatus::Succeeded,
        "failure" | "error" => DeploymentStatus::Failed,
        other => {
            return Ok(Fact::Ignored(format!(
                "deployment state {other} is not used"
            )));
        }
    };
    let environment = text(body, "deployment_status.environment")
        .or_else(|| text(body, "deployment.environment"))
        .ok_or_else(|| BadInput::new("deployment.environment", "is required"))?;
    let started_at = required_time(body, "deployment.created_at")?;
    let status_at = time(body, "deployment_status.created_at")?
        .or(time(body, "deployment_status.updated_at")?)
        .ok_or_else(|| BadInput::new("deployment_status.created_at", "is required"))?;
    let finished_at = (status != DeploymentStatus::InProgress).then_some(status_at);
    let occurred_at = time(body, "deployment_status.updated_at")?.unwrap_or(status_at);
    Ok(Fact::Deployment(DeploymentFact {
        external_id: required(body, "deployment.id")?,
        environment: EnvironmentName::Named(environment),
        status,
        rollback: false,
        started_at,
        finished_at,
        occurred_at,
        strategy: None,
        stage: None,
        release: ReleaseHints {
            version: None,
            reference: text(body, "deployment.ref"),
            commit: text(body, "deployment.sha"),
        },
    }))
}
