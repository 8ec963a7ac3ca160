//! The dashboard and GraphiQL in a real browser: Debian's headless Chromium, driven over
//! the DevTools protocol ([`cdp`]), against a real `relm serve --demo` on a free port.
//!
//! Without Chromium these tests say so and pass, unless `RELM_BROWSER_TESTS=required` (as
//! `.ci/run` sets it), where a missing browser fails them.

mod cdp;
mod dashboard;
mod graphiql;
mod measure;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use serde_json::Value;

use crate::support::{SECRET, TestDb, first_line, post, relm_binary};
pub use cdp::{Browser, Page};

/// A headless Chromium, or None (after saying why) when it is not installed.
pub async fn browser() -> Option<Browser> {
    match cdp::chromium() {
        Some(path) => Some(Browser::launch(&path).await),
        None if std::env::var("RELM_BROWSER_TESTS").as_deref() == Ok("required") => {
            panic!(
                "RELM_BROWSER_TESTS=required, but Chromium is not installed (apt-get install chromium)"
            )
        }
        None => {
            eprintln!(
                "skipped: Chromium is not installed (apt-get install chromium, or set RELM_CHROMIUM)"
            );
            None
        }
    }
}

/// `relm serve --demo` on a free port over this test's own database, killed when dropped.
pub struct Demo {
    child: Child,
    pub addr: SocketAddr,
    pub origin: String,
    _database: TestDb,
}

impl Demo {
    pub async fn start() -> Self {
        let database = TestDb::new().await;
        let mut child = relm_binary()
            .args([
                "serve",
                "--demo",
                "--bind",
                "127.0.0.1:0",
                "--graphiql",
                "true",
            ])
            .args(["--database-url", &database.url])
            .env("RELM_JWT_SECRET", SECRET)
            // PostgreSQL needs the server key that SQLite makes on its own.
            .env("RELM_SECRET_KEY", crate::support::server_key())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || first_line(stdout))
            .await
            .unwrap();
        let origin = line
            .strip_prefix("GraphiQL: ")
            .and_then(|rest| rest.strip_suffix("/graphql"))
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        let addr = origin.trim_start_matches("http://").parse().unwrap();
        Self {
            child,
            addr,
            origin,
            _database: database,
        }
    }

    /// `data` of a GraphQL request to this server as the bearer of `token`.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        let (status, response) = post(
            self.addr,
            "/graphql",
            &[("Authorization", format!("Bearer {token}"))],
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{response}");
        crate::support::data(response)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the tests leave what a person may want to look at: `target/browser/`.
pub fn output_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/{profile}/deps/integration-… → target/browser
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let dir = target.join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits until the dashboard has drawn every part of the page for its current filter.
pub async fn ready(page: &Page<'_>, also: &str) {
    page.wait_for(&format!(
        "document.body.dataset.state === 'ready' && ({also})"
    ))
    .await;
}

/// Asserts that every request of `page` went to `origin` (`data:` URLs, which GraphiQL's
/// stylesheet embeds its fonts in, go nowhere), and returns how many there were.
pub fn all_requests_stay_on(page: &Page<'_>, origin: &str) -> usize {
    let requests: Vec<String> = page
        .requests()
        .into_iter()
        .filter(|url| !url.starts_with("data:"))
        .collect();
    let elsewhere: Vec<&String> = requests
        .iter()
        .filter(|url| !url.starts_with(&format!("{origin}/")))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "requests left {origin}: {elsewhere:?}"
    );
    requests.len()
}
