//! A calendar feed of one program: a feed made for the program with the most releases in a
//! feed's range (90 days back to a year ahead), fetched over HTTP one request at a time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use super::http::Client;
use super::{run, summary};
use crate::output::outln;
use api::app::AppState;
use api::queries::calendar_feeds::{DAYS_AFTER, DAYS_BEFORE};
use api::time::{self, DAY_MICROS};

const CREATE_FEED: &str = "mutation($input: CreateCalendarFeedInput!) {
  createCalendarFeed(input: $input) { url } }";

/// Prints the latency of `iterations` fetches of the feed, after three not counted.
pub async fn feed(state: &AppState, addr: SocketAddr, iterations: usize) -> anyhow::Result<()> {
    let now = time::now_micros();
    let (from, to) = (
        now - DAYS_BEFORE * DAY_MICROS,
        now + DAYS_AFTER * DAY_MICROS,
    );
    let row = state
        .db
        .query_one_raw(Statement::from_string(
            state.db.get_database_backend(),
            format!(
                "SELECT p.key, COUNT(*) FROM releases r JOIN programs p ON p.id = r.program_id \
                 WHERE r.planned_end >= {from} AND r.planned_end < {to} \
                 GROUP BY p.key ORDER BY 2 DESC, p.key LIMIT 1"
            ),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no release in a feed's range: seed the database first"))?;
    let (program, releases): (String, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    let made = run(
        state,
        CREATE_FEED,
        json!({"input": {"name": "relm bench", "programKeys": [program]}}),
    )
    .await?;
    let path = made["createCalendarFeed"]["url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no feed URL"))?
        .to_owned();
    let request = format!("GET {path} HTTP/1.1\r\nHost: relm\r\n\r\n").into_bytes();
    let mut client = Client::connect(addr).await?;
    let mut samples: Vec<Duration> = Vec::with_capacity(iterations);
    let mut bytes = 0;
    for round in 0..iterations + 3 {
        let started = Instant::now();
        let (status, body) = client.send(&request).await?;
        anyhow::ensure!(status == 200, "the feed answered {status}");
        if round >= 3 {
            samples.push(started.elapsed());
        }
        bytes = body.len();
    }
    outln!(
        "calendar feed of {program} ({releases} releases with a plannedEnd in its range, {} KB), one request at a time: {}",
        bytes / 1024,
        summary(samples)
    );
    Ok(())
}
