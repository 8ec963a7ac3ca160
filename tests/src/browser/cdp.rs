//! A small client of the Chrome DevTools Protocol: it starts Debian's headless Chromium,
//! opens pages, runs JavaScript in them, and records every request and every console
//! error a page makes, which WebDriver cannot show.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// One event a page sent: its method and parameters.
#[derive(Clone, Debug)]
pub struct Event {
    pub session: String,
    pub method: String,
    pub params: Value,
}

/// Where Chromium is, or None when it is not installed.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RELM_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A headless Chromium with a profile of its own, killed and removed when dropped.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    outgoing: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: Arc<Mutex<Vec<Event>>>,
    next_id: Arc<AtomicU64>,
}

impl Browser {
    pub async fn launch(binary: &Path) -> Self {
        let profile =
            std::env::temp_dir().join(format!("relm-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).unwrap();
        // The flags keep Chromium from reaching for the network on its own (updates, sync,
        // safe browsing): on a machine without internet access they only fail.
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let port_file = profile.join("DevToolsActivePort");
        let started = Instant::now();
        let address = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{port}{path}");
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Chromium did not open its DevTools port"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (socket, _) = tokio_tungstenite::connect_async(address).await.unwrap();
        let (mut write, mut read) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if write.send(message).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let (answers, log) = (pending.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = read.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = value["id"].as_u64() {
                    if let Some(answer) = answers.lock().unwrap().remove(&id) {
                        let result = match value.get("error") {
                            Some(error) => Err(error.to_string()),
                            None => Ok(value["result"].clone()),
                        };
                        let _ = answer.send(result);
                    }
                } else if let Some(method) = value["method"].as_str() {
                    log.lock().unwrap().push(Event {
                        session: value["sessionId"].as_str().unwrap_or_default().to_owned(),
                        method: method.to_owned(),
                        params: value["params"].clone(),
                    });
                }
            }
        });
        Self {
            child,
            profile,
            outgoing,
            pending,
            events,
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let (answer, answered) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, answer);
        self.outgoing
            .send(Message::text(message.to_string()))
            .map_err(|_| "the DevTools connection is closed".to_owned())?;
        match tokio::time::timeout(Duration::from_secs(60), answered).await {
            Ok(Ok(result)) => result,
            _ => Err(format!("{method}: no answer from Chromium")),
        }
    }

    /// A new tab (a browsing context of its own, so its sessionStorage starts empty),
    /// recording its requests and console.
    pub async fn page(&self) -> Page<'_> {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await
            .unwrap();
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await
            .unwrap();
        let page = Page {
            browser: self,
            target: target["targetId"].as_str().unwrap().to_owned(),
            session: attached["sessionId"].as_str().unwrap().to_owned(),
        };
        for domain in ["Page", "Runtime", "Network", "Log"] {
            page.call(&format!("{domain}.enable"), json!({})).await;
        }
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab of the browser.
pub struct Page<'a> {
    browser: &'a Browser,
    target: String,
    session: String,
}

impl Page<'_> {
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.browser
            .call(Some(&self.session), method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Closes the tab.
    pub async fn close(self) {
        let _ = self
            .browser
            .call(
                None,
                "Target.closeTarget",
                json!({ "targetId": self.target }),
            )
            .await;
    }

    pub async fn goto(&self, url: &str) {
        let navigated = self.call("Page.navigate", json!({ "url": url })).await;
        assert!(navigated.get("errorText").is_none(), "{url}: {navigated}");
    }

    /// The value of a JavaScript expression (promises awaited), or the exception it threw.
    pub async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        match result.get("exceptionDetails") {
            Some(details) => Err(details.to_string()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    pub async fn eval(&self, expression: &str) -> Value {
        self.try_eval(expression)
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    /// Waits until `expression` is truthy, for at most 30 s.
    pub async fn wait_for(&self, expression: &str) {
        let started = Instant::now();
        loop {
            let value = self.try_eval(expression).await.unwrap_or(Value::Null);
            if !(value.is_null()
                || value == json!(false)
                || value == json!("")
                || value == json!(0))
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waited 30 s for {expression}; the page says: {}",
                self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
                    .await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sets the size of the page's window, as a phone when it is narrow.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600 }),
        )
        .await;
    }

    /// Writes a PNG of the whole page (beyond the window too).
    pub async fn screenshot(&self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1 },
                }),
            )
            .await;
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    fn events(&self, method: &str) -> Vec<Value> {
        self.browser
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.session == self.session && e.method == method)
            .map(|e| e.params.clone())
            .collect()
    }

    /// The URL of every request the page made, in order.
    pub fn requests(&self) -> Vec<String> {
        self.events("Network.requestWillBeSent")
            .iter()
            .map(|e| e["request"]["url"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The response headers of the last page loaded from `url`.
    pub fn document_headers(&self, url: &str) -> Value {
        self.events("Network.responseReceived")
            .into_iter()
            .rev()
            .find(|e| e["type"] == "Document" && e["response"]["url"] == url)
            .map(|e| e["response"]["headers"].clone())
            .unwrap_or_else(|| panic!("no response for {url}"))
    }

    /// Every error the page reported: uncaught exceptions, console.error calls and the
    /// browser's own errors (failed loads, Content-Security-Policy violations).
    pub fn errors(&self) -> Vec<String> {
        let mut errors: Vec<String> = self
            .events("Runtime.exceptionThrown")
            .iter()
            .map(|e| format!("exception: {}", e["exceptionDetails"]))
            .collect();
        errors.extend(
            self.events("Runtime.consoleAPICalled")
                .iter()
                .filter(|e| e["type"] == "error" || e["type"] == "assert")
                .map(|e| format!("console.error: {}", e["args"])),
        );
        errors.extend(
            self.events("Log.entryAdded")
                .iter()
                .filter(|e| e["entry"]["level"] == "error")
                .map(|e| {
                    format!(
                        "{}: {} {}",
                        e["entry"]["source"], e["entry"]["text"], e["entry"]["url"]
                    )
                }),
        );
        errors
    }
}
