//! `GET /v1/exports/{dataset}.{csv,parquet,json}`: a report streamed as it is written.
//!
//! Everything that can be refused is checked before the first byte: an unknown dataset or
//! format is 404, no or a bad token 401, a caller over its request budget 429, a role
//! below ANALYST 403, a bad parameter 400 naming it. A failure after that aborts the response, so a client never mistakes a cut
//! report for a whole one.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use tokio::sync::mpsc;

use super::graphql::{client_address, refused as refusal_response};
use super::{error_response, status_of};
use crate::app::{AppState, admit};
use crate::auth::Role;
use crate::error::ApiError;
use crate::exports::{self, Dataset, ExportError, Format, ParamError, Params};
use crate::progress::Progress;

/// Bytes handed to the connection at a time.
const CHUNK_BYTES: usize = 64 * 1024;

type Chunk = io::Result<Vec<u8>>;

fn error(status: StatusCode, code: &str, message: &str, parameter: Option<&str>) -> Response {
    let mut extensions = serde_json::json!({ "code": code });
    if let Some(parameter) = parameter {
        extensions["parameter"] = parameter.into();
    }
    let mut response = error_response(status, message, Some(extensions));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

fn bad_parameter(err: &ParamError) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "BAD_USER_INPUT",
        &err.to_string(),
        Some(&err.parameter),
    )
}

fn api_error(err: &ApiError) -> Response {
    let status = status_of(err);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = ?err, "export refused");
    }
    error(status, err.code(), &err.to_string(), None)
}

/// The dataset and format of `name.ext`.
fn report(file: &str) -> Result<(Dataset, Format), String> {
    let (name, extension) = file.rsplit_once('.').unwrap_or((file, ""));
    Ok((name.parse()?, extension.parse()?))
}

#[handler]
pub async fn export(req: &Request, Path(file): Path<String>, state: Data<&AppState>) -> Response {
    let (dataset, format) = match report(&file) {
        Ok(report) => report,
        Err(message) => return error(StatusCode::NOT_FOUND, "NOT_FOUND", &message, None),
    };
    let refused = |response: Response| {
        let outcome = if response.status().is_server_error() {
            "failed"
        } else {
            "refused"
        };
        let (dataset, format) = (dataset.name(), format.extension());
        state.telemetry.record_export(dataset, format, outcome, 0);
        response
    };
    let authorization = req.header(header::AUTHORIZATION);
    let caller = match admit(&state, authorization, client_address(req)).await {
        Ok(caller) => caller,
        Err(refusal) => return refused(refusal_response(refusal)),
    };
    let viewer = match caller.viewer() {
        Ok(viewer) => viewer.clone(),
        Err(err) => return refused(api_error(&err)),
    };
    if let Err(err) = viewer.require(Role::Analyst) {
        return refused(api_error(&err));
    }
    let params = req
        .params::<Vec<(String, String)>>()
        .map_err(|_| ParamError {
            parameter: "query".into(),
            message: "the query string is not valid URL encoding".into(),
        })
        .and_then(Params::from_pairs);
    let params = match params {
        Ok(params) => params,
        Err(err) => return refused(bad_parameter(&err)),
    };
    let resolved = crate::db::once_more_if_lost(&state.db, || {
        exports::resolve(&state.db, &viewer.scope, dataset, format, params.clone())
    })
    .await;
    let export = match resolved {
        Ok(export) => export,
        Err(ExportError::Param(err)) => return refused(bad_parameter(&err)),
        Err(ExportError::Failed(err)) => return refused(api_error(&err)),
    };

    let (tx, mut rx) = mpsc::channel::<Chunk>(16);
    let aborted = Arc::new(AtomicBool::new(false));
    let writer = ChannelWriter {
        tx: tx.clone(),
        buffer: Vec::with_capacity(CHUNK_BYTES),
        runtime: tokio::runtime::Handle::current(),
        stall: state.limits.body_read_timeout,
        aborted: aborted.clone(),
    };
    let (db, cache, subject) = (state.db.clone(), state.analytics.clone(), viewer.subject);
    let (telemetry, failed) = (state.telemetry.clone(), aborted.clone());
    tokio::spawn(async move {
        let started = Instant::now();
        let (dataset, format) = (export.dataset.name(), export.format.extension());
        match exports::run(&db, &cache, &export, writer, Progress::hidden()).await {
            Ok(rows) => {
                telemetry.record_export(dataset, format, "ok", rows);
                tracing::info!(
                    dataset,
                    format,
                    rows,
                    millis = started.elapsed().as_millis() as u64,
                    subject = subject.as_str(),
                    "export written"
                );
            }
            Err(err) => {
                telemetry.record_export(dataset, format, "failed", 0);
                tracing::warn!(dataset, format, error = ?err, "export failed");
                failed.store(true, Ordering::Relaxed);
                // The stream ends in an error whether or not the channel has room.
                tx.try_send(Err(io::Error::other("the export failed"))).ok();
            }
        }
    });
    // A failed report ends the body in an error, never in what looks like a whole file.
    let body = futures_util::stream::poll_fn(move |cx| {
        if aborted.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(io::Error::other("the export failed"))));
        }
        rx.poll_recv(cx)
    });
    Response::builder()
        .status(StatusCode::OK)
        .content_type(format.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}.{}\"",
                dataset.name(),
                format.extension()
            ),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_bytes_stream(body))
}

/// A writer that hands the bytes to the response in chunks; it runs off the runtime (the
/// blocking pool), and waits while the client is slower than the report, but not for a
/// client that stops reading: after `stall` the report is abandoned, so a stalled client
/// holds no database reads or writer thread.
struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buffer: Vec<u8>,
    runtime: tokio::runtime::Handle,
    stall: Duration,
    /// Set when the report is abandoned, so the body ends in an error.
    aborted: Arc<AtomicBool>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        let (tx, stall) = (&self.tx, self.stall);
        // The timer is made inside the runtime's context, which this thread is not in.
        let sent = self
            .runtime
            .block_on(async { tokio::time::timeout(stall, tx.send(Ok(chunk))).await });
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(_) => {
                self.aborted.store(true, Ordering::Relaxed);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                ))
            }
        }
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_that_stops_reading_abandons_the_report() {
        // A multi-thread runtime, as in `relm serve`: its workers drive the timer that
        // Handle::block_on waits on.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let (tx, mut rx) = mpsc::channel::<Chunk>(1);
        let aborted = Arc::new(AtomicBool::new(false));
        let mut writer = ChannelWriter {
            tx,
            buffer: Vec::new(),
            runtime: runtime.handle().clone(),
            stall: Duration::from_millis(50),
            aborted: aborted.clone(),
        };
        writer.write_all(b"first").unwrap_or_else(|e| panic!("{e}"));
        writer.flush().unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        writer
            .write_all(b"second")
            .unwrap_or_else(|e| panic!("{e}"));
        let error = writer.flush().err().map(|e| e.kind());
        assert_eq!(error, Some(io::ErrorKind::TimedOut));
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(aborted.load(Ordering::Relaxed));
        assert!(matches!(rx.try_recv(), Ok(Ok(chunk)) if chunk == b"first"));
    }

    #[test]
    fn file_names_give_dataset_and_format() {
        assert_eq!(
            report("deployments.parquet"),
            Ok((Dataset::Deployments, Format::Parquet))
        );
        assert_eq!(report("trend.json"), Ok((Dataset::Trend, Format::Json)));
        assert!(
            report("deployments.xlsx")
                .unwrap_err()
                .contains("no format 'xlsx'")
        );
        assert!(
            report("builds.csv")
                .unwrap_err()
                .contains("no dataset 'builds'")
        );
        assert!(report("releases").unwrap_err().contains("no format ''"));
    }
}
