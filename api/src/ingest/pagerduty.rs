//! PagerDuty V3 webhooks: incidents triggered, resolved and reopened. The event id is in
//! the signed body; it is both the delivery id and the fact.

use entity::enums::Severity;
use serde_json::Value;

use super::json::{required, required_time, text, time};
use super::{BadInput, Fact, IncidentChange, IncidentFact, Incoming, OpenedIncident, ReleaseHints};

pub fn read(body: &Value) -> Result<Incoming, BadInput> {
    let delivery_id = required(body, "event.id")?;
    let event_type = required(body, "event.event_type")?;
    let fact_id = Some(delivery_id.clone());
    let change = match event_type.as_str() {
        "incident.triggered" => IncidentChange::Opened(OpenedIncident {
            title: required(body, "event.data.title")?,
            severity: severity(body),
            opened_at: match time(body, "event.data.created_at")? {
                Some(at) => at,
                None => required_time(body, "event.occurred_at")?,
            },
            resolved_at: None,
            caused_by_change: None,
            release: ReleaseHints::default(),
        }),
        "incident.resolved" => IncidentChange::Resolved {
            at: required_time(body, "event.occurred_at")?,
        },
        "incident.reopened" => IncidentChange::Reopened,
        other => {
            return Ok(Incoming {
                delivery_id,
                fact_id,
                fact: Fact::Ignored(format!("PagerDuty {other} is not used")),
                event_type,
            });
        }
    };
    Ok(Incoming {
        delivery_id,
        fact_id,
        event_type,
        fact: Fact::Incident(IncidentFact {
            external_id: required(body, "event.data.id")?,
            change,
            occurred_at: required_time(body, "event.occurred_at")?,
        }),
    })
}

/// `priority.summary` P1..P4, else urgency high → SEV2, low → SEV4, else SEV3.
fn severity(body: &Value) -> Severity {
    match text(body, "event.data.priority.summary").as_deref() {
        Some("P1") => return Severity::Sev1,
        Some("P2") => return Severity::Sev2,
        Some("P3") => return Severity::Sev3,
        Some("P4") => return Severity::Sev4,
        _ => {}
    }
    match text(body, "event.data.urgency").as_deref() {
        Some("high") => Severity::Sev2,
        Some("low") => Severity::Sev4,
        _ => Severity::Sev3,
    }
}
