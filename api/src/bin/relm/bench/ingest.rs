//! `relm bench --senders N`: deliveries per second through the whole ingestion endpoint.
//!
//! A relm server runs in this process on a free port; N senders post signed GENERIC
//! deployment events over keep-alive HTTP/1.1 connections for the given time, each sender
//! to a release of its own in program `BENCHI` (a staging deployment, APPLIED: a delivery,
//! a deployment, an audit event and two change rows per request). Prints throughput,
//! latencies and every answer that was not 202 APPLIED.

use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::http::{Client, post, serve_relm};
use super::{report, run};
use crate::output::outln;
use api::app::AppState;
use api::app::trusted::Trusted;
use api::auth::JwtKeys;
use api::ingest::signature::sign;
use api::time;

/// One keep-alive connection that posts deliveries.
struct Sender {
    client: Client,
    key: String,
    secret: String,
}

impl Sender {
    /// Posts `body` and returns the status and the answer.
    async fn post(&mut self, body: &str) -> anyhow::Result<(u16, String)> {
        let signature = format!("sha256={}", sign(&self.secret, body.as_bytes()));
        let request = post(
            &format!("/v1/ingest/{}", self.key),
            &[("X-Relm-Signature-256", &signature)],
            body,
        );
        let (status, answer) = self.client.send(&request).await?;
        Ok((status, String::from_utf8_lossy(&answer).into_owned()))
    }
}

/// Creates what the senders deliver to: program BENCHI with one staging environment and,
/// per sender, a release IN_BUILD and a GENERIC source; returns the releases' versions,
/// keys and secrets.
async fn prepare(
    state: &AppState,
    senders: usize,
    stamp: i64,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let exists = run(state, "{ program(key: \"BENCHI\") { key } }", json!({})).await?;
    if exists["program"].is_null() {
        run(
            state,
            "mutation { createProgram(input: { key: \"BENCHI\", name: \"relm bench ingest\" }) { key } }",
            json!({}),
        )
        .await?;
        run(
            state,
            "mutation { createEnvironment(input: { name: \"bench-staging\", tier: STAGING }) { id } }",
            json!({}),
        )
        .await
        .ok();
    }
    let mut out = Vec::with_capacity(senders);
    for sender in 0..senders {
        let version = format!("{stamp}.{sender}");
        let created = run(
            state,
            "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }",
            json!({"i": {"programKey": "BENCHI", "version": version, "name": "bench", "type": "MINOR",
                         "plannedEnd": "2100-01-01T00:00:00Z"}}),
        )
        .await?;
        let id = created["createRelease"]["id"].clone();
        for to in ["SCHEDULED", "IN_BUILD"] {
            run(
                state,
                "mutation($i: TransitionReleaseInput!) { transitionRelease(input: $i) { status } }",
                json!({"i": {"releaseId": id, "to": to}}),
            )
            .await?;
        }
        let key = format!("bench-{stamp}-{sender}");
        let source = run(
            state,
            "mutation($i: CreateIngestSourceInput!) { createIngestSource(input: $i) { secret } }",
            json!({"i": {"programKey": "BENCHI", "key": key, "kind": "GENERIC"}}),
        )
        .await?;
        let secret = source["createIngestSource"]["secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        out.push((version, key, secret));
    }
    Ok(out)
}

pub async fn deliveries(
    db: DatabaseConnection,
    keys: JwtKeys,
    cipher: api::secrets::Cipher,
    senders: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let (state, addr) = serve_relm(&db, keys, cipher, Trusted::default(), None).await?;
    let stamp = time::now_micros();
    let targets = prepare(&state, senders, stamp).await?;
    outln!(
        "relm bench: {senders} concurrent senders for {seconds} s through POST /v1/ingest on {:?}",
        db.get_database_backend()
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for (sender, (version, key, secret)) in targets.into_iter().enumerate() {
        tasks.spawn(async move {
            let mut client = Sender {
                client: Client::connect(addr).await?,
                key,
                secret,
            };
            let (mut latencies, mut refused) = (Vec::new(), Vec::new());
            let mut n = 0u64;
            while Instant::now() < deadline {
                let at = time::rfc3339(time::now_micros());
                let body = json!({"kind": "deployment", "id": format!("{sender}-{n}"),
                    "releaseVersion": version, "environment": "bench-staging",
                    "status": "SUCCEEDED", "startedAt": at, "finishedAt": at})
                .to_string();
                let started = Instant::now();
                let (status, answer) = client.post(&body).await?;
                latencies.push(started.elapsed());
                if status != 202 || !answer.contains("\"APPLIED\"") {
                    refused.push(format!("{status} {answer}"));
                }
                n += 1;
            }
            Ok::<_, anyhow::Error>((latencies, refused))
        });
    }
    let (mut latencies, mut refused) = (Vec::new(), Vec::new());
    for result in tasks.join_all().await {
        let (l, r) = result?;
        latencies.extend(l);
        refused.extend(r);
    }
    report("deliveries", seconds, latencies, &refused)
}
