//! A keep-alive HTTP/1.1 client and a load generator, for the benchmarks that go through
//! a listening server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use api::app::AppState;
use api::guard::Limits;
use api::http::server::serve_endpoint;
use api::progress::Progress;

/// One keep-alive connection.
pub struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
        })
    }

    /// Sends a whole request (head and body) and returns the answer's status and body.
    pub async fn send(&mut self, request: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        self.stream.get_mut().write_all(request).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no HTTP status")?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
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
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// A POST request's bytes.
pub fn post(path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: relm\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    request.into_bytes()
}

/// Serves `endpoint` on a free port of 127.0.0.1 for the rest of the process.
pub async fn listen(endpoint: impl poem::Endpoint + 'static) -> anyhow::Result<SocketAddr> {
    let (bound, addr) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = serve_endpoint(
            endpoint,
            Limits::default().header_read_timeout,
            "127.0.0.1:0",
            |a| {
                let _ = bound.send(a);
            },
            std::future::pending(),
        )
        .await;
    });
    Ok(addr.await?)
}

/// relm's routes on a free port, without request budgets (the load is one subject's), and
/// the state they share.
pub async fn serve_relm(
    db: &sea_orm::DatabaseConnection,
    keys: api::auth::JwtKeys,
    cipher: api::secrets::Cipher,
    trusted: api::app::trusted::Trusted,
    provider: Option<api::auth::Provider>,
) -> anyhow::Result<(AppState, SocketAddr)> {
    let mut state = AppState::new(db.clone(), keys, cipher, false)
        .with_limits(Limits {
            rate_limit: 0,
            ..Limits::default()
        })
        .with_trusted(trusted);
    if let Some(provider) = provider {
        state = state.with_provider(provider);
    }
    let addr = listen(api::http::app(state.clone())).await?;
    Ok((state, addr))
}

/// What a load produced.
pub struct Load {
    pub seconds: f64,
    pub latencies: Vec<Duration>,
    /// Answers that were not 200 without errors.
    pub failed: u64,
    /// The first few of them, in words.
    pub failures: Vec<String>,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }
}

/// `connections` keep-alive connections sending `request` to `addr` as fast as answers
/// come, for `duration` after a second of warm-up, on a runtime of their own (two threads,
/// as a load tool would have): the server's runtime serves, this one only sends. Each
/// answer counts on `progress`.
pub async fn load(
    addr: SocketAddr,
    request: Vec<u8>,
    connections: usize,
    duration: Duration,
    progress: &Progress,
) -> anyhow::Result<Load> {
    let progress = progress.clone();
    let request = Arc::new(request);
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let warm_until = Instant::now() + Duration::from_secs(1);
            let until = warm_until + duration;
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..connections {
                let (request, progress) = (request.clone(), progress.clone());
                tasks.spawn(async move {
                    let mut client = Client::connect(addr).await?;
                    let (mut latencies, mut failures, mut failed) = (Vec::new(), Vec::new(), 0u64);
                    loop {
                        let started = Instant::now();
                        if started >= until {
                            break;
                        }
                        let (status, body) = client.send(&request).await?;
                        progress.add(1);
                        if started < warm_until {
                            continue;
                        }
                        latencies.push(started.elapsed());
                        let errors = body.windows(9).any(|w| w == b"\"errors\":");
                        if status != 200 || errors {
                            failed += 1;
                            if failures.len() < 5 {
                                failures
                                    .push(format!("{status} {}", String::from_utf8_lossy(&body)));
                            }
                        }
                    }
                    Ok::<_, anyhow::Error>((latencies, failures, failed))
                });
            }
            let (mut latencies, mut failures, mut failed) = (Vec::new(), Vec::new(), 0);
            for result in tasks.join_all().await {
                let (l, f, n) = result?;
                latencies.extend(l);
                failures.extend(f);
                failed += n;
            }
            failures.truncate(5);
            Ok(Load {
                seconds: duration.as_secs_f64(),
                latencies,
                failed,
                failures,
            })
        })
    })
    .await?
}
