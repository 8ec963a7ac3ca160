//! A history of ingestion for a generated program: a CI/CD source and an incident source,
//! with most production deployments and incidents having arrived through them (APPLIED
//! deliveries), and what went around the process: some UNMATCHED and REJECTED deployment
//! deliveries, and IGNORED pings and intermediate states. Decisions come from a generator
//! seeded by each row's id, so the rest of the demo data does not move.

use entity::enums::{DeliveryStatus, IngestKind};
use entity::{delivery, ingest_alias, ingest_source};
use serde_json::json;

use super::archetypes::{Archetype, PROD_ENVS};
use super::rng::Rng;
use super::rows::{Ids, Rows, next};
use api::time;

const MINUTE: i64 = 60_000_000;

/// The CI/CD tool each archetype's teams use.
fn ci_kind(archetype: &Archetype) -> IngestKind {
    match archetype.key {
        "PAY" => IngestKind::Github,
        "MOB" => IngestKind::Gitlab,
        "DATA" => IngestKind::Cdevents,
        _ => IngestKind::Generic,
    }
}

/// A demo source. Its secret is left empty here: `seed_demo` gives every source a random
/// one, sealed with the server key, since a secret of the seeded generator could be
/// computed by anyone who reads this code.
fn source(
    rows: &mut Rows,
    ids: &mut Ids,
    key: String,
    kind: IngestKind,
    program_id: i64,
    created_at: i64,
) -> ingest_source::Model {
    let source = ingest_source::Model {
        id: next(&mut ids.source),
        key,
        kind,
        program_id,
        enabled: true,
        attribution_window_hours: 24,
        secret: String::new(),
        previous_secret: None,
        previous_secret_expires_at: None,
        created_at,
    };
    rows.sources.push(source.clone());
    source
}

/// One delivery row; `payload` is the body as the sender would have posted it.
#[allow(clippy::too_many_arguments, reason = "a delivery's columns")]
fn push(
    rows: &mut Rows,
    ids: &mut Ids,
    source: &ingest_source::Model,
    event_type: &str,
    received_at: i64,
    status: DeliveryStatus,
    reason: Option<String>,
    error_code: Option<&str>,
    links: (Option<i64>, Option<i64>, Option<i64>, Option<i64>),
    payload: serde_json::Value,
) {
    let id = next(&mut ids.delivery);
    let (release_id, deployment_id, incident_id, environment_id) = links;
    rows.deliveries.push(delivery::Model {
        id,
        source_id: source.id,
        program_id: source.program_id,
        external_id: format!("{}-{id}", source.key),
        fact_id: None,
        event_type: event_type.to_owned(),
        received_at,
        status,
        reason,
        error_code: error_code.map(str::to_owned),
        release_id,
        deployment_id,
        incident_id,
        environment_id,
        payload: payload.to_string(),
        headers: "{}".to_owned(),
    });
}

/// Adds the program's sources and the deliveries of its history to `rows`.
pub(super) fn history(
    rows: &mut Rows,
    ids: &mut Ids,
    archetype: &Archetype,
    program_key: &str,
    program_id: i64,
    start_us: i64,
) {
    let prefix = program_key.to_lowercase();
    let kind = ci_kind(archetype);
    let ci = source(
        rows,
        ids,
        format!("{prefix}-ci"),
        kind,
        program_id,
        start_us,
    );
    let pagerduty = source(
        rows,
        ids,
        format!("{prefix}-pagerduty"),
        IngestKind::Pagerduty,
        program_id,
        start_us,
    );
    rows.aliases.push(ingest_alias::Model {
        id: next(&mut ids.alias),
        source_id: ci.id,
        external: "production".into(),
        environment_id: PROD_ENVS[0],
    });
    push(
        rows,
        ids,
        &ci,
        if kind == IngestKind::Github {
            "ping"
        } else {
            "deployment"
        },
        start_us,
        DeliveryStatus::Ignored,
        Some("the first event of a new webhook".into()),
        None,
        (None, None, None, None),
        json!({"zen": "Keep it logically awesome."}),
    );

    // Most production deployments arrived through the CI source.
    let release_versions: std::collections::HashMap<i64, String> = rows
        .releases
        .iter()
        .map(|r| (r.id, r.version.clone()))
        .collect();
    let mut unplanned_at = Vec::new();
    for d in rows.deployments.iter_mut() {
        let production = PROD_ENVS.contains(&d.environment_id) && !d.is_rollback;
        let mut pick = Rng(0xD0_0000 ^ d.id as u64);
        if !production || pick.unit() > 0.85 {
            continue;
        }
        let external = format!("{}-deploy-{}", ci.key, d.id);
        d.source_id = Some(ci.id);
        d.external_id = Some(external.clone());
        let received = d.finished_at.unwrap_or(d.started_at);
        let version = release_versions.get(&d.release_id).cloned();
        let payload = json!({"kind": "deployment", "id": external, "releaseVersion": version,
            "environment": "production", "status": d.status.as_str(),
            "startedAt": time::rfc3339(d.started_at),
            "finishedAt": d.finished_at.map(time::rfc3339)});
        rows.deliveries.push(delivery::Model {
            id: next(&mut ids.delivery),
            source_id: ci.id,
            program_id,
            external_id: format!("{external}:{}", d.status.as_str()),
            fact_id: None,
            event_type: "deployment".into(),
            received_at: received,
            status: DeliveryStatus::Applied,
            reason: None,
            error_code: None,
            release_id: Some(d.release_id),
            deployment_id: Some(d.id),
            incident_id: None,
            environment_id: Some(d.environment_id),
            payload: payload.to_string(),
            headers: "{}".into(),
        });
        // Now and then a change went to production without a release: a hotfix pushed by
        // hand (UNMATCHED) or a deployment the lifecycle refused (REJECTED).
        if pick.chance(0.04) {
            unplanned_at.push((received + 90 * MINUTE, pick.chance(0.6)));
        }
    }
    for (n, (at, unmatched)) in unplanned_at.into_iter().enumerate() {
        let (status, reason, code) = if unmatched {
            (
                DeliveryStatus::Unmatched,
                format!("no release of the program matches version hotfix-{n}"),
                None,
            )
        } else {
            (
                DeliveryStatus::Rejected,
                "a production deployment needs the release APPROVED, DEPLOYING or DEPLOYED; it is IN_TEST"
                    .to_owned(),
                Some("INVALID_TRANSITION"),
            )
        };
        push(
            rows,
            ids,
            &ci,
            "deployment",
            at,
            status,
            Some(reason),
            code,
            (None, None, None, Some(PROD_ENVS[n % 2])),
            json!({"kind": "deployment", "id": format!("manual-{n}"), "releaseVersion": format!("hotfix-{n}"),
                   "environment": "production", "status": "SUCCEEDED",
                   "startedAt": time::rfc3339(at - 10 * MINUTE), "finishedAt": time::rfc3339(at)}),
        );
    }

    // Incidents were raised in PagerDuty; resolutions came the same way.
    for incident in rows.incidents.clone() {
        let (incident_id, opened_at) = (incident.id, incident.opened_at);
        let (resolved_at, release_id, title) =
            (incident.resolved_at, incident.release_id, incident.title);
        if Rng(0x1C_0000 ^ incident_id as u64).unit() > 0.7 {
            continue;
        }
        let external = format!("P{incident_id:06}");
        if let Some(row) = rows.incidents.iter_mut().find(|i| i.id == incident_id) {
            row.source_id = Some(pagerduty.id);
            row.external_id = Some(external.clone());
        }
        let links = (release_id, None, Some(incident_id), None);
        push(
            rows,
            ids,
            &pagerduty,
            "incident.triggered",
            opened_at,
            DeliveryStatus::Applied,
            None,
            None,
            links,
            json!({"event": {"event_type": "incident.triggered", "occurred_at": time::rfc3339(opened_at),
                   "data": {"id": external, "title": title, "created_at": time::rfc3339(opened_at)}}}),
        );
        if let Some(resolved) = resolved_at {
            push(
                rows,
                ids,
                &pagerduty,
                "incident.resolved",
                resolved,
                DeliveryStatus::Applied,
                None,
                None,
                links,
                json!({"event": {"event_type": "incident.resolved", "occurred_at": time::rfc3339(resolved),
                       "data": {"id": external}}}),
            );
            push(
                rows,
                ids,
                &pagerduty,
                "incident.acknowledged",
                resolved - 5 * MINUTE,
                DeliveryStatus::Ignored,
                Some("PagerDuty incident.acknowledged is not used".into()),
                None,
                links,
                json!({"event": {"event_type": "incident.acknowledged", "data": {"id": external}}}),
            );
        }
    }
}
