//! Each sender's documented payloads, read field for field.

use entity::enums::{DeploymentStatus, DeploymentStrategy, EnvironmentTier, IngestKind, Severity};

use super::*;
use crate::time::parse_rfc3339;

fn at(text: &str) -> i64 {
    parse_rfc3339(text).unwrap_or_default()
}

fn headers(pairs: &[(&str, &str)]) -> Headers {
    Headers::new(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    )
}

fn deployment(incoming: &Incoming) -> &DeploymentFact {
    match &incoming.fact {
        Fact::Deployment(fact) => fact,
        other => panic!("not a deployment: {other:?}"),
    }
}

fn incident(incoming: &Incoming) -> &IncidentFact {
    match &incoming.fact {
        Fact::Incident(fact) => fact,
        other => panic!("not an incident: {other:?}"),
    }
}

const GITHUB: &str = include_str!("fixtures/github_deployment_status.json");
const GITLAB: &str = include_str!("fixtures/gitlab_deployment.json");
const TRIGGERED: &str = include_str!("fixtures/pagerduty_incident_triggered.json");
const RESOLVED: &str = include_str!("fixtures/pagerduty_incident_resolved.json");
const DEPLOYED: &str = include_str!("fixtures/cdevents_service_deployed.json");
const ROLLEDBACK: &str = include_str!("fixtures/cloudevents_binary_service_rolledback.json");
const DETECTED: &str = include_str!("fixtures/cdevents_incident_detected.json");
const STRUCTURED: &str = include_str!("fixtures/cloudevents_structured_incident_resolved.json");
const GENERIC: &str = include_str!("fixtures/generic_deployment.json");
const GENERIC_INCIDENT: &str = include_str!("fixtures/generic_incident.json");
const DEVLAKE: &str = include_str!("fixtures/devlake_deployment.json");

#[test]
fn github_deployment_status_is_a_deployment() {
    let h = headers(&[
        ("X-GitHub-Event", "deployment_status"),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ]);
    let read = read(IngestKind::Github, &Proof::BodyHmac, &h, GITHUB.as_bytes()).unwrap();
    assert_eq!(read.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    // The delivery header is not signed; the status's own id is.
    assert_eq!(read.fact_id.as_deref(), Some("status:9876543210"));
    assert_eq!(read.event_type, "deployment_status");
    let d = deployment(&read);
    assert_eq!(d.external_id, "1234567890");
    assert_eq!(d.environment, EnvironmentName::Named("production".into()));
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(d.started_at, at("2026-11-29T10:00:00Z"));
    assert_eq!(d.finished_at, Some(at("2026-11-29T10:12:00Z")));
    assert_eq!(d.release.reference.as_deref(), Some("refs/tags/v2026.11.3"));
    assert_eq!(
        d.release.commit.as_deref(),
        Some("9f1c2ab4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0")
    );
    assert_eq!(version_of_ref("refs/tags/v2026.11.3"), "2026.11.3");

    let pending = GITHUB.replace("\"state\": \"success\"", "\"state\": \"in_progress\"");
    let read = super::read(IngestKind::Github, &Proof::BodyHmac, &h, pending.as_bytes()).unwrap();
    assert_eq!(deployment(&read).status, DeploymentStatus::InProgress);
    assert_eq!(deployment(&read).finished_at, None);
    let inactive = GITHUB.replace("\"state\": \"success\"", "\"state\": \"inactive\"");
    let read = super::read(
        IngestKind::Github,
        &Proof::BodyHmac,
        &h,
        inactive.as_bytes(),
    )
    .unwrap();
    assert!(matches!(read.fact, Fact::Ignored(_)));
}

#[test]
fn github_ping_and_other_events_are_ignored_and_headers_are_required() {
    let ping = include_str!("fixtures/github_ping.json");
    let h = headers(&[("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "d-1")]);
    let read = read(IngestKind::Github, &Proof::BodyHmac, &h, ping.as_bytes()).unwrap();
    assert!(matches!(read.fact, Fact::Ignored(_)));
    let missing = super::read(
        IngestKind::Github,
        &Proof::BodyHmac,
        &headers(&[]),
        ping.as_bytes(),
    );
    assert_eq!(missing.unwrap_err().field, "X-GitHub-Event");
}

#[test]
fn gitlab_deployment_hook_is_a_deployment() {
    let h = headers(&[(
        "X-Gitlab-Event-UUID",
        "13792a34-cac6-4fda-95a8-c58e00a3954e",
    )]);
    let read = read(IngestKind::Gitlab, &Proof::BodyHmac, &h, GITLAB.as_bytes()).unwrap();
    assert_eq!(read.delivery_id, "13792a34-cac6-4fda-95a8-c58e00a3954e");
    assert_eq!(read.event_type, "deployment");
    let d = deployment(&read);
    assert_eq!(d.external_id, "15");
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(d.finished_at, Some(at("2026-11-29T11:30:00Z")));
    assert_eq!(d.release.reference.as_deref(), Some("5.0.0"));
    assert_eq!(
        d.release.commit.as_deref(),
        Some("279484c09fbe69ededfced8c1bb6e6d24616b468")
    );
    let keyed = headers(&[("Idempotency-Key", "retry-1"), ("X-Gitlab-Event-UUID", "x")]);
    let read = super::read(IngestKind::Gitlab, &Proof::Token, &keyed, GITLAB.as_bytes()).unwrap();
    assert_eq!(read.delivery_id, "retry-1");
    // Whatever the delivery id, the fact is the deployment and its status.
    assert_eq!(read.fact_id.as_deref(), Some("15:success"));
    let canceled = GITLAB.replace("\"status\": \"success\"", "\"status\": \"canceled\"");
    let read = super::read(
        IngestKind::Gitlab,
        &Proof::BodyHmac,
        &h,
        canceled.as_bytes(),
    )
    .unwrap();
    assert_eq!(deployment(&read).status, DeploymentStatus::Failed);
}

#[test]
fn pagerduty_incidents_open_resolve_and_reopen() {
    let none = headers(&[]);
    let read = read(
        IngestKind::Pagerduty,
        &Proof::BodyHmac,
        &none,
        TRIGGERED.as_bytes(),
    )
    .unwrap();
    assert_eq!(read.delivery_id, "01DEN2DK4N2BWBHEYPK7DIJQ12");
    assert_eq!(read.event_type, "incident.triggered");
    let i = incident(&read);
    assert_eq!(i.external_id, "PGR0VU2");
    let IncidentChange::Opened(opened) = &i.change else {
        panic!("{i:?}")
    };
    assert_eq!(opened.title, "Checkout errors above 2%");
    assert_eq!(opened.severity, Severity::Sev1);
    assert_eq!(opened.opened_at, at("2026-11-29T11:00:00Z"));

    let no_priority = TRIGGERED.replace("\"summary\": \"P1\"", "\"summary\": \"urgent\"");
    let read = super::read(
        IngestKind::Pagerduty,
        &Proof::BodyHmac,
        &none,
        no_priority.as_bytes(),
    )
    .unwrap();
    let IncidentChange::Opened(opened) = &incident(&read).change else {
        panic!()
    };
    assert_eq!(opened.severity, Severity::Sev2, "urgency high");

    let read = super::read(
        IngestKind::Pagerduty,
        &Proof::BodyHmac,
        &none,
        RESOLVED.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        incident(&read).change,
        IncidentChange::Resolved {
            at: at("2026-11-29T12:30:00Z")
        }
    );
    let reopened = include_str!("fixtures/pagerduty_incident_reopened.json");
    let read = super::read(
        IngestKind::Pagerduty,
        &Proof::BodyHmac,
        &none,
        reopened.as_bytes(),
    )
    .unwrap();
    assert_eq!(incident(&read).change, IncidentChange::Reopened);
    assert_eq!(incident(&read).occurred_at, at("2026-11-29T13:00:00Z"));
    assert_eq!(read.fact_id.as_deref(), Some(read.delivery_id.as_str()));
    let acknowledged = TRIGGERED.replace("incident.triggered", "incident.acknowledged");
    let read = super::read(
        IngestKind::Pagerduty,
        &Proof::BodyHmac,
        &none,
        acknowledged.as_bytes(),
    )
    .unwrap();
    assert!(matches!(read.fact, Fact::Ignored(_)));
}

#[test]
fn cdevents_in_structured_and_binary_mode() {
    let none = headers(&[]);
    let read = read(
        IngestKind::Cdevents,
        &Proof::BodyHmac,
        &none,
        DEPLOYED.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        read.delivery_id,
        "/argocd/data-platform#271069a8-fc18-44f1-b38f-9d70a1695819"
    );
    let d = deployment(&read);
    assert_eq!(d.environment, EnvironmentName::Named("production".into()));
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(d.started_at, d.finished_at.unwrap_or_default());
    assert_eq!(d.release.reference.as_deref(), Some("2026.11.4"));
    assert!(!d.rollback);

    let binary = headers(&[
        ("ce-id", "binary-1"),
        ("ce-source", "/argocd/data-platform"),
        ("ce-type", "dev.cdevents.service.rolledback.0.2.0"),
        ("ce-time", "2026-11-29T15:02:00Z"),
        ("ce-specversion", "1.0"),
    ]);
    // Binary mode's id, type and time are headers an HMAC does not cover.
    let refused = super::read(
        IngestKind::Cdevents,
        &Proof::BodyHmac,
        &binary,
        ROLLEDBACK.as_bytes(),
    );
    assert!(
        refused.is_err_and(|bad| bad.message.starts_with("structured mode required")),
        "binary mode signed with an HMAC"
    );
    let read = super::read(
        IngestKind::Cdevents,
        &Proof::Token,
        &binary,
        ROLLEDBACK.as_bytes(),
    )
    .unwrap();
    assert_eq!(read.delivery_id, "/argocd/data-platform#binary-1");
    assert_eq!(deployment(&read).occurred_at, at("2026-11-29T15:02:00Z"));
    let d = deployment(&read);
    assert!(d.rollback);
    assert_eq!(d.release.version.as_deref(), Some("2026.11.4"));

    let read = super::read(
        IngestKind::Cdevents,
        &Proof::BodyHmac,
        &none,
        DETECTED.as_bytes(),
    )
    .unwrap();
    let i = incident(&read);
    assert_eq!(i.external_id, "incident/warehouse-freshness-42");
    let IncidentChange::Opened(opened) = &i.change else {
        panic!()
    };
    assert_eq!(opened.title, "Warehouse data older than 2 hours");
    assert_eq!(opened.severity, Severity::Sev2);

    let read = super::read(
        IngestKind::Cdevents,
        &Proof::BodyHmac,
        &none,
        STRUCTURED.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        read.delivery_id,
        "/monitoring/alertmanager#0d9a4b7e-6c1f-4e8b-a2d3-9f7c5e1b3a64"
    );
    assert_eq!(
        incident(&read).change,
        IncidentChange::Resolved {
            at: at("2026-11-29T15:10:00Z")
        }
    );
}

#[test]
fn generic_and_devlake_bodies() {
    let none = headers(&[]);
    let read = read(
        IngestKind::Generic,
        &Proof::BodyHmac,
        &none,
        GENERIC.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        read.delivery_id, "ci-4711:SUCCEEDED",
        "one delivery per state"
    );
    let d = deployment(&read);
    assert_eq!(d.external_id, "ci-4711");
    assert_eq!(d.strategy, Some(DeploymentStrategy::Canary));
    assert_eq!(d.stage.as_deref(), Some("5%"));
    assert_eq!(d.release.version.as_deref(), Some("2026.11.3"));
    assert_eq!(d.release.commit.as_deref(), Some("9f1c2ab"));

    let read = super::read(
        IngestKind::Generic,
        &Proof::BodyHmac,
        &none,
        GENERIC_INCIDENT.as_bytes(),
    )
    .unwrap();
    assert_eq!(read.delivery_id, "INC-88:open");
    assert_eq!(
        incident(&read).occurred_at,
        at("2026-11-29T11:00:00Z"),
        "openedAt"
    );
    let reopened = GENERIC_INCIDENT.replace(
        "\"openedAt\"",
        "\"updatedAt\": \"2026-11-30T08:00:00Z\", \"openedAt\"",
    );
    let read = super::read(
        IngestKind::Generic,
        &Proof::BodyHmac,
        &none,
        reopened.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        incident(&read).occurred_at,
        at("2026-11-30T08:00:00Z"),
        "updatedAt"
    );
    let IncidentChange::Opened(opened) = &incident(&read).change else {
        panic!()
    };
    assert_eq!(opened.caused_by_change, Some(true));

    let read = super::read(
        IngestKind::Generic,
        &Proof::BodyHmac,
        &none,
        DEVLAKE.as_bytes(),
    )
    .unwrap();
    let d = deployment(&read);
    assert_eq!(
        d.environment,
        EnvironmentName::Tier(EnvironmentTier::Production)
    );
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(
        d.release.commit.as_deref(),
        Some("015e3d3b480e417aede5a1293bd61de9b0fd051d")
    );
    assert_eq!(d.finished_at, Some(at("2026-11-29T09:07:30Z")));

    // Standard Webhooks' id is signed, and names the delivery.
    let signed = Proof::StandardWebhooks { id: "msg_1".into() };
    let read = super::read(IngestKind::Generic, &signed, &none, GENERIC.as_bytes()).unwrap();
    assert_eq!(read.delivery_id, "msg_1");
    assert_eq!(read.fact_id, None, "the signed id is enough");
}

#[test]
fn long_incident_titles_are_shortened() {
    let long = TRIGGERED.replace("Checkout errors above 2%", &"e".repeat(1_000));
    let read = read(
        IngestKind::Pagerduty,
        &Proof::BodyHmac,
        &headers(&[]),
        long.as_bytes(),
    )
    .unwrap();
    let IncidentChange::Opened(opened) = &incident(&read).change else {
        panic!()
    };
    assert_eq!(opened.title.chars().count(), 200);
    assert!(opened.title.ends_with('…'));
}

#[test]
fn bad_bodies_name_the_field() {
    let none = headers(&[]);
    let field = |kind, body: &str| {
        read(kind, &Proof::BodyHmac, &none, body.as_bytes())
            .map(|_| String::new())
            .unwrap_or_else(|bad| bad.field)
    };
    assert_eq!(field(IngestKind::Generic, "not json"), "body");
    assert_eq!(field(IngestKind::Generic, "[1]"), "body");
    assert_eq!(field(IngestKind::Generic, r#"{"id": "x"}"#), "kind");
    let no_start = GENERIC.replace("\"startedAt\": \"2026-11-29T10:00:00Z\",", "");
    assert_eq!(field(IngestKind::Generic, &no_start), "startedDate");
    let bad_time = GENERIC.replace("2026-11-29T10:12:00Z", "yesterday");
    assert_eq!(field(IngestKind::Generic, &bad_time), "finishedAt");
    let bad_status = GENERIC.replace("SUCCEEDED", "DONE");
    assert_eq!(field(IngestKind::Generic, &bad_status), "status");
    assert_eq!(field(IngestKind::Pagerduty, r#"{"event": {}}"#), "event.id");
    let long_id = GENERIC.replace("ci-4711", &"x".repeat(501));
    assert_eq!(field(IngestKind::Generic, &long_id), "id");
    let nul = GENERIC.replace("2026.11.3", "2026\\u0000");
    assert_eq!(field(IngestKind::Generic, &nul), "releaseVersion");
    assert_eq!(
        field(IngestKind::Cdevents, r#"{"context": {}}"#),
        "context.id"
    );
}
