//! The accept loop: poem's routes on hyper HTTP/1.1 connections with the timeouts poem's own
//! server cannot set, and a graceful shutdown.
//!
//! A client that opens a connection and sends nothing, or trickles a request's headers a
//! byte at a time, would otherwise hold a connection and its task forever. hyper's header
//! read timeout (which needs a timer, hence this loop) bounds the time from the moment a
//! connection waits for a request until the request's headers are complete: it closes
//! silent connections, trickled headers and idle keep-alive connections alike. Bodies are
//! bounded by the handlers (`Limits::body_read_timeout`). HTTP/2 is not served: its
//! version detection would wait for a silent client before any timeout applies, and relm
//! sits behind proxies that speak HTTP/1.1 to it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{AppState, app};

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The most headers a request may have.
const MAX_HEADERS: usize = 100;

/// Binds `bind`, then serves until `shutdown` completes, letting requests in flight finish
/// for up to [`SHUTDOWN_GRACE`]. `on_bound` learns the bound address first.
pub async fn serve(
    state: AppState,
    bind: &str,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let bus = state.bus.clone();
    let header_read_timeout = state.limits.header_read_timeout;
    // Subscriptions end with the server: their connections would hold the shutdown.
    let shutdown = async move {
        shutdown.await;
        bus.close();
    };
    serve_endpoint(app(state), header_read_timeout, bind, on_bound, shutdown).await
}

/// [`serve`] for any endpoint (the benchmark's reference servers use it too).
pub async fn serve_endpoint(
    endpoint: impl Endpoint + 'static,
    header_read_timeout: Duration,
    bind: &str,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    on_bound(local);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_headers(MAX_HEADERS);
    let endpoint = Arc::new(endpoint.map_to_response());
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let endpoint = endpoint.clone();
        let service = hyper::service::service_fn(move |request| {
            let endpoint = endpoint.clone();
            async move {
                let request = poem::Request::from((
                    request,
                    LocalAddr(Addr::SocketAddr(local)),
                    RemoteAddr(Addr::SocketAddr(remote)),
                    poem::http::uri::Scheme::HTTP,
                ));
                let response = endpoint.get_response(request).await;
                Ok::<_, Infallible>(hyper::Response::from(response))
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopping.changed() => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%remote, error = %err, "connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "requests still in flight after {} s; stopping",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    Ok(())
}
