//! `relm bench --notifications N`: the write path with the outbox, and notifications sent
//! per second to a receiver on this machine.
//!
//! Two programs made for it: one with `--channels` WEBHOOK channels wanting every event,
//! one with none. N writes (`addReleaseItem`, one event each) go to each, in alternating
//! rounds so that both see the same load on the machine; the first program's writes leave
//! N × channels notifications in the outbox, unsent. Then this process's sender sends them
//! all to a keep-alive HTTP/1.1 receiver on 127.0.0.1 that answers 200, and the time until
//! the receiver has every one gives notifications per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{run, summary};
use crate::output::outln;
use api::app::AppState;
use api::auth::JwtKeys;
use api::notify::{AllowHosts, Settings};
use api::secrets::Cipher;
use api::time;

const ADD_ITEM: &str = "mutation($i: AddReleaseItemInput!) { addReleaseItem(input: $i) { id } }";

/// Counts the requests it answers, over keep-alive connections.
async fn receive(stream: TcpStream, received: Arc<AtomicUsize>) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        received.fetch_add(1, Ordering::Relaxed);
        stream
            .get_mut()
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await?;
    }
}

/// Times `writes` item additions to `release`.
async fn write(state: &AppState, release: &str, writes: usize) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(writes);
    for n in 0..writes {
        let started = Instant::now();
        run(
            state,
            ADD_ITEM,
            json!({"i": {"releaseId": release, "title": format!("bench {n}"), "kind": "CHORE"}}),
        )
        .await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

pub async fn notifications(
    db: DatabaseConnection,
    keys: JwtKeys,
    cipher: Cipher,
    writes: usize,
    channels: usize,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let received = Arc::new(AtomicUsize::new(0));
    let counting = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(receive(stream, counting.clone()));
        }
    });
    let state = AppState::new(db.clone(), keys, cipher, false).with_notifications(Settings {
        allow: AllowHosts::parse("127.0.0.1").map_err(|e| anyhow::anyhow!(e))?,
        poll: Duration::from_millis(50),
        ..Settings::default()
    });
    let stamp = time::now_micros() % 100_000_000;
    let mut releases = Vec::new();
    for program in [format!("BN{stamp}"), format!("BQ{stamp}")] {
        run(
            &state,
            "mutation($i: CreateProgramInput!) { createProgram(input: $i) { key } }",
            json!({"i": {"key": program, "name": "relm bench notifications"}}),
        )
        .await?;
        let created = run(
            &state,
            "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }",
            json!({"i": {"programKey": program, "version": "1", "name": "bench", "type": "MINOR"}}),
        )
        .await?;
        releases.push(
            created["createRelease"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    outln!(
        "relm bench: {writes} writes with {channels} channels wanting each and {writes} with none, then the notifications sent, on {:?}",
        db.get_database_backend()
    );
    for n in 0..channels {
        run(
            &state,
            "mutation($i: CreateNotificationChannelInput!) { createNotificationChannel(input: $i) { channel { id } } }",
            json!({"i": {"name": format!("bench {n}"), "kind": "WEBHOOK", "url": format!("http://{addr}/{n}"), "programKeys": [format!("BN{stamp}")]}}),
        )
        .await?;
    }
    // Warm the connections and the statement caches before anything is timed.
    write(&state, &releases[1], writes.min(50)).await?;
    const ROUNDS: usize = 10;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut with_time, mut without_time) = (Duration::ZERO, Duration::ZERO);
    for round in 0..ROUNDS {
        let count = writes / ROUNDS + usize::from(round < writes % ROUNDS);
        let started = Instant::now();
        without.extend(write(&state, &releases[1], count).await?);
        without_time += started.elapsed();
        let started = Instant::now();
        with.extend(write(&state, &releases[0], count).await?);
        with_time += started.elapsed();
    }
    let without_rate = per_second(without.len(), without_time);
    let with_rate = per_second(with.len(), with_time);
    outln!(
        "writes with no channel wanting them: {without_rate:.0}/s; {}",
        summary(without)
    );
    outln!(
        "writes with {channels} channels wanting each (outbox rows in the write's transaction): {with_rate:.0}/s; {}",
        summary(with)
    );
    outln!(
        "the outbox rows cost the write path {:+.1} % in throughput",
        (without_rate / with_rate - 1.0) * 100.0
    );

    let expected = writes * channels;
    let started = Instant::now();
    let sender = state.notification_sender();
    let deadline = started + Duration::from_secs(600);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    sender.stop().await;
    let sent = received.load(Ordering::Relaxed);
    outln!(
        "sent {sent} of {expected} notifications in {:.2} s: {:.0} notifications/s",
        elapsed.as_secs_f64(),
        per_second(sent, elapsed)
    );
    anyhow::ensure!(
        sent == expected,
        "{} notifications were not sent",
        expected - sent
    );
    Ok(())
}
