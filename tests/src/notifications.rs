//! Notifications (communication.md, *Notifications*), through the request pipeline and the
//! sender, to a real HTTP receiver on this machine: signatures checked as a receiver would,
//! bodies, retries and order, a restart with notifications pending, two processes on one
//! PostgreSQL, egress refusals, scope and roles, auto-disable, secrets and test sends.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::app::AppState;
use api::auth::Role;
use api::notify::{AllowHosts, Resolver, Settings};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::support::{TestApp, data, error_code, run_in, token};

const CREATE: &str = "mutation($input: CreateNotificationChannelInput!) { createNotificationChannel(input: $input) { secret channel { id name kind urlHint programKeys kinds enabled } } }";
const UPDATE: &str = "mutation($input: UpdateNotificationChannelInput!) { updateNotificationChannel(input: $input) { id enabled disabledReason } }";
const ROTATE: &str = "mutation($id: ID!) { rotateNotificationSecret(input: {channelId: $id}) { secret channel { id } } }";
const TEST: &str = "mutation($id: ID!) { testNotificationChannel(input: {channelId: $id}) { id status attempts lastHttpStatus lastError event { id } } }";
const DELETE: &str = "mutation($id: ID!) { deleteNotificationChannel(input: {channelId: $id}) }";
const CHANNELS: &str = "query { notificationChannels { id name enabled disabledReason programKeys deliveries(first: 100) { totalCount nodes { id status attempts lastHttpStatus lastError nextAttemptAt event { kind } } } } }";
const CREATE_RELEASE: &str =
    "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id } }";

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// An HTTP/1.1 receiver on 127.0.0.1: records every request and answers each with the
/// next status queued (200 when none is), with a body no log may show.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    always: Arc<Mutex<u16>>,
}

const RECEIVER_BODY: &str = "receiver-body-never-logged";

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Self {
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            answers: Arc::default(),
            always: Arc::new(Mutex::new(200)),
        };
        let serving = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let serving = serving.clone();
                tokio::spawn(async move { serving.connection(stream).await });
            }
        });
        receiver
    }

    async fn connection(&self, stream: tokio::net::TcpStream) {
        let mut stream = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
            let mut headers = HashMap::new();
            loop {
                let mut header = String::new();
                stream.read_line(&mut header).await.unwrap();
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                }
            }
            let length = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            stream.read_exact(&mut body).await.unwrap();
            let status = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(*self.always.lock().unwrap());
            self.seen.lock().unwrap().push(Received {
                path,
                headers,
                body,
            });
            let answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{RECEIVER_BODY}",
                RECEIVER_BODY.len()
            );
            if stream.get_mut().write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    fn answer_always(&self, status: u16) {
        *self.always.lock().unwrap() = status;
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests once there are at least `n` (fails after 30 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..3000 {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the receiver got {} requests, not {n}", self.seen().len());
    }
}

/// Names the test decides the addresses of.
#[derive(Default)]
struct Names(Mutex<HashMap<String, IpAddr>>);

impl Names {
    fn set(&self, name: &str, ip: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), ip.parse().unwrap());
    }
}

#[async_trait::async_trait]
impl Resolver for Names {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        match self.0.lock().unwrap().get(host) {
            Some(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
            None => Err(std::io::Error::other("unknown name")),
        }
    }
}

/// Settings of the tests: `allow` listed, retries after 20 ms, names from `names`.
fn settings(allow: &str, names: Arc<Names>) -> Settings {
    Settings {
        allow: AllowHosts::parse(allow).unwrap(),
        public_url: Some("https://relm.example".into()),
        retries: vec![Duration::from_millis(20); 7],
        poll: Duration::from_millis(20),
        resolver: names,
    }
}

/// The app's state sending to 127.0.0.1 over http.
fn local(app: &TestApp) -> AppState {
    app.state
        .clone()
        .with_notifications(settings("127.0.0.1", Arc::default()))
}

async fn admin(state: &AppState, query: &str, variables: Value) -> Value {
    data(run_in(state, Some(&token(Role::Admin, None)), query, variables).await)
}

async fn create_channel(state: &AppState, input: Value) -> (String, Option<String>) {
    let made = admin(state, CREATE, json!({ "input": input })).await;
    let payload = &made["createNotificationChannel"];
    (
        payload["channel"]["id"].as_str().unwrap().to_owned(),
        payload["secret"].as_str().map(str::to_owned),
    )
}

async fn create_release(state: &AppState, program: &str, version: &str) {
    admin(
        state,
        CREATE_RELEASE,
        json!({"input": {"programKey": program, "version": version, "name": format!("Release {version}"), "type": "MINOR"}}),
    )
    .await;
}

async fn programs(app: &TestApp, keys: &[&str]) {
    for key in keys {
        admin(
            &app.state,
            "mutation($input: CreateProgramInput!) { createProgram(input: $input) { id } }",
            json!({"input": {"key": key, "name": format!("Program {key}")}}),
        )
        .await;
    }
}

async fn channels(state: &AppState) -> Value {
    admin(state, CHANNELS, json!({})).await["notificationChannels"].clone()
}

/// What a receiver does with a Standard Webhooks request: the HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the base64-decoded `whsec_` secret.
fn verifies(secret: &str, request: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(key.len(), 32);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(request.header("webhook-id").as_bytes());
    mac.update(b".");
    mac.update(request.header("webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    request
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

#[tokio::test]
async fn a_webhook_is_signed_per_standard_webhooks_and_says_what_happened() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY", "MOB"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    let (_, secret) = create_channel(
        &state,
        json!({"name": "payments", "kind": "WEBHOOK", "url": receiver.url("/hook?token=x"), "programKeys": ["PAY"]}),
    )
    .await;
    let secret = secret.unwrap();
    assert!(secret.starts_with("whsec_"));
    let sender = state.notification_sender();
    create_release(&state, "MOB", "1.0").await;
    create_release(&state, "PAY", "2.1").await;
    let seen = receiver.wait_for(1).await;
    sender.stop().await;
    assert_eq!(seen.len(), 1, "MOB's event is not the channel's");
    let request = &seen[0];
    assert_eq!(request.path, "/hook?token=x");
    assert!(verifies(&secret, request));
    let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    assert!((timestamp - chrono::Utc::now().timestamp()).abs() < 60);
    assert!(
        request
            .header("content-type")
            .starts_with("application/json")
    );
    let body = request.json();
    assert_eq!(body["type"], "release.created");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    let event = &body["data"]["event"];
    assert_eq!(event["kind"], "CREATED");
    assert_eq!(event["actor"], "tester");
    let release = &body["data"]["release"];
    assert_eq!(release["programKey"], "PAY");
    assert_eq!(release["version"], "2.1");
    assert_eq!(release["name"], "Release 2.1");
    assert_eq!(release["status"], "PLANNED");
    let release_id = release["id"].as_str().unwrap();
    assert_eq!(
        release["url"],
        format!("https://relm.example/dashboard?program=PAY#release={release_id}")
    );
    // The event is the one the API shows.
    let shown = admin(
        &state,
        "query($id: ID!) { node(id: $id) { ... on ReleaseEvent { kind actor at } } }",
        json!({"id": event["id"]}),
    )
    .await;
    assert_eq!(shown["node"]["at"], event["at"]);
    let log = channels(&state).await;
    let delivery = &log[0]["deliveries"]["nodes"][0];
    assert_eq!(delivery["status"], "SENT");
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["lastHttpStatus"], 200);
    assert_eq!(delivery["event"]["kind"], "CREATED");
    assert_eq!(
        request.header("webhook-id"),
        delivery["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_failed_attempt_is_retried_with_the_same_id_and_later_ones_wait_their_turn() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503, 302]);
    let (_, secret) = create_channel(
        &state,
        json!({"name": "ordered", "kind": "WEBHOOK", "url": receiver.url("/")}),
    )
    .await;
    for version in ["1", "2", "3", "4", "5"] {
        create_release(&state, "PAY", version).await;
    }
    let sender = state.notification_sender();
    let seen = receiver.wait_for(8).await;
    sender.stop().await;
    let secret = secret.unwrap();
    assert!(seen.iter().all(|r| verifies(&secret, r)));
    let versions: Vec<String> = seen
        .iter()
        .map(|r| {
            r.json()["data"]["release"]["version"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(versions, ["1", "1", "1", "1", "2", "3", "4", "5"]);
    let first_ids: Vec<&str> = seen[..4].iter().map(|r| r.header("webhook-id")).collect();
    assert!(first_ids.iter().all(|id| *id == first_ids[0]));
    let log = channels(&state).await;
    let nodes = log[0]["deliveries"]["nodes"].as_array().unwrap().clone();
    let first = nodes.last().unwrap();
    assert_eq!(first["status"], "SENT");
    assert_eq!(first["attempts"], 4);
    assert_eq!(first["lastHttpStatus"], 200);
    assert!(first["lastError"].is_null());
    assert!(nodes.iter().all(|n| n["status"] == "SENT"));
}

#[tokio::test]
async fn a_notification_that_keeps_failing_is_failed_after_the_last_retry_without_the_answer_body()
{
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    receiver.answer_always(500);
    create_channel(
        &state,
        json!({"name": "down", "kind": "SLACK", "url": receiver.url("/services/T/B/secret-path")}),
    )
    .await;
    create_release(&state, "PAY", "1").await;
    let sender = state.notification_sender();
    receiver.wait_for(8).await;
    let mut delivery = Value::Null;
    for _ in 0..500 {
        delivery = channels(&state).await[0]["deliveries"]["nodes"][0].clone();
        if delivery["status"] == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    sender.stop().await;
    assert_eq!(receiver.seen().len(), 8, "one attempt and seven retries");
    assert_eq!(delivery["status"], "FAILED");
    assert_eq!(delivery["attempts"], 8);
    assert_eq!(delivery["lastHttpStatus"], 500);
    assert!(delivery["nextAttemptAt"].is_null());
    let error = delivery["lastError"].as_str().unwrap();
    assert_eq!(error, "HTTP 500");
    assert!(!error.contains(RECEIVER_BODY) && !error.contains("secret-path"));
}

#[tokio::test]
async fn notifications_pending_at_a_restart_are_sent_by_the_next_process() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    create_channel(
        &state,
        json!({"name": "later", "kind": "WEBHOOK", "url": receiver.url("/")}),
    )
    .await;
    // No sender runs: the notifications wait in the outbox.
    create_release(&state, "PAY", "1").await;
    create_release(&state, "PAY", "2").await;
    let log = channels(&state).await;
    let statuses = crate::support::strings(&log[0]["deliveries"]["nodes"], "status");
    assert_eq!(statuses, ["PENDING", "PENDING"]);
    drop(state);
    let next = app
        .another_process()
        .with_notifications(settings("127.0.0.1", Arc::default()));
    let sender = next.notification_sender();
    let seen = receiver.wait_for(2).await;
    sender.stop().await;
    let versions: Vec<Value> = seen
        .iter()
        .map(|r| r.json()["data"]["release"]["version"].clone())
        .collect();
    assert_eq!(versions, [json!("1"), json!("2")]);
}

#[tokio::test]
async fn two_processes_on_postgres_send_each_notification_once() {
    if std::env::var("RELM_TEST_DATABASE_URL").is_err() {
        return;
    }
    let app = TestApp::empty().await;
    programs(&app, &["PAY", "MOB"]).await;
    let first = local(&app);
    let second = app
        .another_process()
        .with_notifications(settings("127.0.0.1", Arc::default()));
    let receiver = Receiver::start().await;
    for name in ["a", "b", "c"] {
        create_channel(
            &first,
            json!({"name": name, "kind": "WEBHOOK", "url": receiver.url(&format!("/{name}"))}),
        )
        .await;
    }
    let senders = [first.notification_sender(), second.notification_sender()];
    for i in 0..40 {
        let program = if i % 2 == 0 { "PAY" } else { "MOB" };
        create_release(&first, program, &format!("{i}")).await;
    }
    receiver.wait_for(120).await;
    // Time for a second sending of any of them to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for sender in senders {
        sender.stop().await;
    }
    let seen = receiver.seen();
    assert_eq!(seen.len(), 120, "each notification is sent once");
    let mut ids: Vec<&str> = seen.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 120);
    for path in ["/a", "/b", "/c"] {
        let versions: Vec<i64> = seen
            .iter()
            .filter(|r| r.path == path)
            .map(|r| {
                r.json()["data"]["release"]["version"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            versions,
            (0..40).collect::<Vec<_>>(),
            "{path} in commit order"
        );
    }
}

#[tokio::test]
async fn egress_is_refused_at_creation_and_checked_again_at_each_send() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let names = Arc::new(Names::default());
    names.set("hooks.example", "93.184.216.34");
    names.set("internal.example", "10.1.2.3");
    let state = app
        .state
        .clone()
        .with_notifications(settings("", names.clone()));
    let admin_token = token(Role::Admin, None);
    for url in [
        "http://hooks.example/x",
        "https://user:password@hooks.example/x",
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:169.254.169.254]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://[fd00::1]/x",
        "https://internal.example/x",
        "https://unknown.example/x",
        "ftp://hooks.example/x",
    ] {
        let refused = run_in(
            &state,
            Some(&admin_token),
            CREATE,
            json!({"input": {"name": "n", "kind": "WEBHOOK", "url": url}}),
        )
        .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{url}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("url:"), "{message}");
    }
    assert!(channels(&state).await.as_array().unwrap().is_empty());

    // A name that resolves to a public address at creation and to 127.0.0.1 at send time.
    let receiver = Receiver::start().await;
    let (id, _) = create_channel(
        &state,
        json!({"name": "rebinding", "kind": "WEBHOOK", "url": format!("https://hooks.example:{}/x", receiver.addr.port())}),
    )
    .await;
    assert_eq!(channels(&state).await[0]["name"], "rebinding");
    names.set("hooks.example", "127.0.0.1");
    let tested = admin(&state, TEST, json!({"id": id})).await["testNotificationChannel"].clone();
    assert_eq!(tested["status"], "FAILED");
    assert!(tested["lastHttpStatus"].is_null());
    assert!(
        tested["lastError"]
            .as_str()
            .unwrap()
            .contains("resolves to 127.0.0.1"),
        "{tested}"
    );
    create_release(&state, "PAY", "1").await;
    let sender = state.notification_sender();
    let mut delivery = Value::Null;
    for _ in 0..500 {
        let log = channels(&state).await;
        delivery = log[0]["deliveries"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| !n["event"].is_null())
            .cloned()
            .unwrap_or(Value::Null);
        if delivery["attempts"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sender.stop().await;
    assert!(
        delivery["lastError"]
            .as_str()
            .unwrap()
            .contains("resolves to 127.0.0.1")
    );
    assert!(receiver.seen().is_empty(), "nothing reached the loopback");
}

#[tokio::test]
async fn channels_exist_only_for_release_managers_and_admins_covering_their_programs() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY", "MOB"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    let as_role = |role: Role, programs: Option<&'static [&'static str]>| token(role, programs);
    let pay_manager = as_role(Role::ReleaseManager, Some(&["PAY"]));
    let mob_manager = as_role(Role::ReleaseManager, Some(&["MOB"]));
    let made = data(
        run_in(
            &state,
            Some(&pay_manager),
            CREATE,
            json!({"input": {"name": "pay", "kind": "TEAMS", "url": receiver.url("/t"), "programKeys": ["PAY"], "kinds": ["STATUS_CHANGED", "CREATED"]}}),
        )
        .await,
    );
    let channel = &made["createNotificationChannel"]["channel"];
    assert_eq!(channel["programKeys"], json!(["PAY"]));
    assert_eq!(channel["kinds"], json!(["CREATED", "STATUS_CHANGED"]));
    assert_eq!(channel["urlHint"], format!("http://{}/…", receiver.addr));
    assert!(made["createNotificationChannel"]["secret"].is_null());
    let id = channel["id"].as_str().unwrap();

    for role in [Role::Viewer, Role::Analyst] {
        let refused = run_in(&state, Some(&as_role(role, None)), CHANNELS, json!({})).await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
        let refused = run_in(
            &state,
            Some(&as_role(role, Some(&["PAY"]))),
            CREATE,
            json!({"input": {"name": "x", "kind": "SLACK", "url": receiver.url("/")}}),
        )
        .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
    }
    let listed = data(run_in(&state, Some(&mob_manager), CHANNELS, json!({})).await);
    assert!(
        listed["notificationChannels"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    for (query, variables) in [
        (TEST, json!({"id": id})),
        (ROTATE, json!({"id": id})),
        (DELETE, json!({"id": id})),
        (
            UPDATE,
            json!({"input": {"channelId": id, "enabled": false}}),
        ),
    ] {
        let hidden = run_in(&state, Some(&mob_manager), query, variables).await;
        assert_eq!(error_code(&hidden), "NOT_FOUND", "{query}");
    }
    let node = data(
        run_in(
            &state,
            Some(&mob_manager),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": id}),
        )
        .await,
    );
    assert!(node["node"].is_null());
    let listed = data(run_in(&state, Some(&pay_manager), CHANNELS, json!({})).await);
    assert_eq!(listed["notificationChannels"][0]["id"], id);
    // A channel of two programs is only for a token covering both.
    let both = create_channel(
        &state,
        json!({"name": "both", "kind": "SLACK", "url": receiver.url("/s"), "programKeys": ["PAY", "MOB"]}),
    )
    .await
    .0;
    let listed = data(run_in(&state, Some(&pay_manager), CHANNELS, json!({})).await);
    assert_eq!(
        crate::support::strings(&listed["notificationChannels"], "id"),
        [id]
    );
    let listed = data(
        run_in(
            &state,
            Some(&as_role(Role::ReleaseManager, Some(&["PAY", "MOB"]))),
            CHANNELS,
            json!({}),
        )
        .await,
    );
    assert_eq!(listed["notificationChannels"].as_array().unwrap().len(), 2);
    // A channel for every program: an ADMIN without programs only.
    for caller in [
        pay_manager.clone(),
        as_role(Role::ReleaseManager, None),
        as_role(Role::Admin, Some(&["PAY", "MOB"])),
    ] {
        let refused = run_in(
            &state,
            Some(&caller),
            CREATE,
            json!({"input": {"name": "all", "kind": "SLACK", "url": receiver.url("/")}}),
        )
        .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
    }
    let every = create_channel(
        &state,
        json!({"name": "all", "kind": "SLACK", "url": receiver.url("/all")}),
    )
    .await
    .0;
    let listed = data(
        run_in(
            &state,
            Some(&as_role(Role::Admin, Some(&["PAY", "MOB"]))),
            CHANNELS,
            json!({}),
        )
        .await,
    );
    assert!(!crate::support::strings(&listed["notificationChannels"], "id").contains(&every));
    // Bad input names its field and changes nothing.
    for (input, field) in [
        (
            json!({"name": " ", "kind": "SLACK", "url": receiver.url("/")}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "SLACK", "url": receiver.url("/"), "programKeys": []}),
            "programKeys",
        ),
        (
            json!({"name": "x", "kind": "SLACK", "url": receiver.url("/"), "kinds": []}),
            "kinds",
        ),
    ] {
        let refused = run_in(
            &state,
            Some(&token(Role::Admin, None)),
            CREATE,
            json!({"input": input}),
        )
        .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    let missing = run_in(
        &state,
        Some(&pay_manager),
        CREATE,
        json!({"input": {"name": "x", "kind": "SLACK", "url": receiver.url("/"), "programKeys": ["MOB"]}}),
    )
    .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    assert_eq!(channels(&state).await.as_array().unwrap().len(), 3);
    // Deleting answers the id and the channel is gone.
    let deleted = admin(&state, DELETE, json!({"id": both})).await;
    assert_eq!(deleted["deleteNotificationChannel"], both);
    assert_eq!(channels(&state).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_channel_whose_last_50_attempts_failed_is_disabled_and_enabling_counts_afresh() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = app.state.clone().with_notifications(Settings {
        retries: vec![Duration::from_millis(1); 7],
        ..settings("127.0.0.1", Arc::default())
    });
    let receiver = Receiver::start().await;
    receiver.answer_always(500);
    let (id, _) = create_channel(
        &state,
        json!({"name": "flaky", "kind": "WEBHOOK", "url": receiver.url("/")}),
    )
    .await;
    for version in 0..8 {
        create_release(&state, "PAY", &version.to_string()).await;
    }
    let sender = state.notification_sender();
    receiver.wait_for(50).await;
    let mut channel = Value::Null;
    for _ in 0..500 {
        channel = channels(&state).await[0].clone();
        if channel["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.seen().len(), 50);
    assert_eq!(channel["enabled"], false);
    assert!(
        channel["disabledReason"]
            .as_str()
            .unwrap()
            .starts_with("the last 50 attempts failed")
    );
    let nodes = channel["deliveries"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 8);
    // 6 notifications used 8 attempts each, the seventh 2; the eighth never went out.
    let disabled: Vec<&Value> = nodes
        .iter()
        .filter(|n| n["lastError"] == "channel disabled")
        .collect();
    assert_eq!(disabled.len(), 2);
    assert!(nodes.iter().all(|n| n["status"] == "FAILED"));
    // Events of a disabled channel are not queued.
    create_release(&state, "PAY", "later").await;
    assert_eq!(channels(&state).await[0]["deliveries"]["totalCount"], 8);
    // Enabled again, one failure does not disable it.
    let enabled = admin(
        &state,
        UPDATE,
        json!({"input": {"channelId": id, "enabled": true}}),
    )
    .await;
    assert_eq!(enabled["updateNotificationChannel"]["enabled"], true);
    assert!(enabled["updateNotificationChannel"]["disabledReason"].is_null());
    receiver.answer(&[500]);
    receiver.answer_always(200);
    create_release(&state, "PAY", "again").await;
    receiver.wait_for(52).await;
    sender.stop().await;
    assert_eq!(channels(&state).await[0]["enabled"], true);
}

#[tokio::test]
async fn disabling_a_channel_by_hand_fails_its_pending_notifications() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    let (id, _) = create_channel(
        &state,
        json!({"name": "paused", "kind": "SLACK", "url": receiver.url("/")}),
    )
    .await;
    create_release(&state, "PAY", "1").await;
    let disabled = admin(
        &state,
        UPDATE,
        json!({"input": {"channelId": id, "enabled": false}}),
    )
    .await;
    assert_eq!(disabled["updateNotificationChannel"]["enabled"], false);
    let delivery = channels(&state).await[0]["deliveries"]["nodes"][0].clone();
    assert_eq!(delivery["status"], "FAILED");
    assert_eq!(delivery["lastError"], "channel disabled");
    assert_eq!(delivery["attempts"], 0);
}

#[tokio::test]
async fn a_rotated_secret_signs_and_the_old_one_signs_nothing_more() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    let (id, old) = create_channel(
        &state,
        json!({"name": "rotating", "kind": "WEBHOOK", "url": receiver.url("/")}),
    )
    .await;
    let rotated = admin(&state, ROTATE, json!({"id": id})).await;
    let new = rotated["rotateNotificationSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(Some(new.clone()), old);
    admin(&state, TEST, json!({"id": id})).await;
    let seen = receiver.wait_for(1).await;
    assert!(verifies(&new, &seen[0]));
    let old = old.unwrap();
    assert!(!verifies(&old, &seen[0]));
    // Audited, without secrets or the URL's path.
    use sea_orm::{EntityTrait, QueryOrder};
    let audit = entity::admin_event::Entity::find()
        .order_by_asc(entity::admin_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let actions: Vec<_> = audit.iter().map(|e| e.action).collect();
    use entity::admin_event::AdminAction;
    assert_eq!(
        actions,
        [
            AdminAction::ProgramCreated,
            AdminAction::NotificationChannelCreated,
            AdminAction::NotificationSecretRotated
        ]
    );
    assert!(audit.iter().all(|e| e.actor == "tester"
        && !e.detail.contains(&old)
        && !e.detail.contains(&new)
        && !e.detail.contains("whsec_")));
    // Stored sealed: neither the secret nor the URL is in the table as text.
    let stored = entity::notification_channel::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.url.contains("127.0.0.1"));
    assert!(!stored.secret.unwrap().contains(&new));
    // Only WEBHOOK channels have a secret.
    let (slack, secret) = create_channel(
        &state,
        json!({"name": "chat", "kind": "SLACK", "url": receiver.url("/s")}),
    )
    .await;
    assert!(secret.is_none());
    let refused = run_in(
        &state,
        Some(&token(Role::Admin, None)),
        ROTATE,
        json!({"id": slack}),
    )
    .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_test_notification_is_sent_at_once_never_retried_and_not_counted() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    let (id, secret) = create_channel(
        &state,
        json!({"name": "probe", "kind": "WEBHOOK", "url": receiver.url("/")}),
    )
    .await;
    let sender = state.notification_sender();
    receiver.answer(&[503]);
    let failed = admin(&state, TEST, json!({"id": id})).await["testNotificationChannel"].clone();
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["lastHttpStatus"], 503);
    assert_eq!(failed["lastError"], "HTTP 503");
    assert!(failed["event"].is_null());
    let sent = admin(&state, TEST, json!({"id": id})).await["testNotificationChannel"].clone();
    assert_eq!(sent["status"], "SENT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    sender.stop().await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 2, "a failed test is not retried");
    assert_eq!(seen[0].json()["type"], "relm.test");
    assert!(verifies(&secret.unwrap(), &seen[0]));
    let log = channels(&state).await;
    assert_eq!(log[0]["deliveries"]["totalCount"], 2);
    assert_eq!(log[0]["enabled"], true);
}

#[tokio::test]
async fn slack_and_teams_get_their_own_shapes() {
    let app = TestApp::empty().await;
    programs(&app, &["PAY"]).await;
    let state = local(&app);
    let receiver = Receiver::start().await;
    create_channel(
        &state,
        json!({"name": "slack", "kind": "SLACK", "url": receiver.url("/slack")}),
    )
    .await;
    create_channel(
        &state,
        json!({"name": "teams", "kind": "TEAMS", "url": receiver.url("/teams")}),
    )
    .await;
    let sender = state.notification_sender();
    create_release(&state, "PAY", "3.0").await;
    let seen = receiver.wait_for(2).await;
    sender.stop().await;
    let slack = seen.iter().find(|r| r.path == "/slack").unwrap();
    assert!(slack.header("webhook-signature").is_empty());
    let slack = slack.json();
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("PAY 3.0 (Release 3.0): CREATED by tester"),
        "{text}"
    );
    assert_eq!(slack["blocks"][0]["type"], "section");
    assert_eq!(slack["blocks"][0]["text"]["type"], "mrkdwn");
    assert!(
        slack["blocks"][1]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("<https://relm.example/dashboard?program=PAY")
    );
    let teams = seen.iter().find(|r| r.path == "/teams").unwrap().json();
    assert_eq!(teams["type"], "message");
    let attachments = teams["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(
        attachments[0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachments[0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["type"], "TextBlock");
    assert!(
        card["body"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("PAY 3.0")
    );
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
}
