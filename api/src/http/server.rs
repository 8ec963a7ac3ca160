//! The accept loop: poem's routes on hyper connections with the timeouts poem's own server
//! cannot set, and a graceful shutdown.
//!
//! A client that opens a connection and sends nothing, or trickles a request's headers a
//! byte at a time, would otherwise hold a connection and its task forever. hyper's header
//! read timeout (which needs a timer, hence this loop) bounds the time from the moment a
//! connection waits for a request until the request's headers are complete: it closes
//! silent connections, trickled headers and idle keep-alive connections alike. Bodies are
//! bounded by the handlers ([`super::graphql::BODY_READ_TIMEOUT`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt};
use tokio::net::TcpListener;

use super::{AppState, app};

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a connection may wait for a request's headers to be complete, including the
/// wait for the next request on a kept-alive connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 connections are pinged this often, and closed when a ping is not answered
/// within [`HEADER_READ_TIMEOUT`].
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);
/// The most headers a request may have.
const MAX_HEADERS: usize = 100;

fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HEADER_READ_TIMEOUT);
    builder
}

/// Binds `bind`, then serves until `shutdown` completes, letting requests in flight finish
/// for up to [`SHUTDOWN_GRACE`]. `on_bound` learns the bound address first.
pub async fn serve(
    state: AppState,
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
    let bus = state.bus.clone();
    let endpoint = Arc::new(app(state).map_to_response());
    let builder = builder();
    let graceful = GracefulShutdown::new();
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
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%remote, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    bus.close();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight after {} s; stopping", SHUTDOWN_GRACE.as_secs());
        }
    }
    Ok(())
}
