//! What every test needs: a fresh database, tokens, and a way to run GraphQL.

pub mod fixtures;

use std::path::PathBuf;
use std::sync::Arc;

use api::app::answer;
use api::app::limits::RequestMeta;
use api::auth::{Claims, JwtKeys, KeySource, Role, Secret};
use api::guard::Limits;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::Value;
use std::process::Command;
use std::sync::OnceLock;

pub const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

/// Where a test's database lives.
pub enum Place {
    SqliteDir(PathBuf),
    PostgresSchema { base: String, schema: String },
}

/// A database of its own for one test; removed when dropped.
pub struct TestDb {
    pub url: String,
    pub place: Place,
}

impl TestDb {
    /// A new, empty database (not migrated).
    pub async fn new() -> Self {
        let name = format!("t{}", uuid::Uuid::new_v4().simple());
        match std::env::var("RELM_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(base) => {
                let admin = sea_orm::Database::connect(&base)
                    .await
                    .expect("connect to RELM_TEST_DATABASE_URL");
                admin
                    .execute_raw(Statement::from_string(
                        DbBackend::Postgres,
                        format!("CREATE SCHEMA {name}"),
                    ))
                    .await
                    .expect("create schema");
                admin.close().await.ok();
                let separator = if base.contains('?') { '&' } else { '?' };
                // The application name marks the test's own connections, so a test can cut
                // them (pg_terminate_backend) without touching other tests'.
                let url = format!(
                    "{base}{separator}options=-c%20search_path%3D{name}&application_name={name}"
                );
                Self {
                    url,
                    place: Place::PostgresSchema { base, schema: name },
                }
            }
            None => {
                let dir = std::env::temp_dir().join(format!("relm-test-{name}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
                Self {
                    url,
                    place: Place::SqliteDir(dir),
                }
            }
        }
    }

    /// A pool on this database, migrated.
    pub async fn connect(&self) -> DatabaseConnection {
        let db = api::db::connect(&self.url).await.expect("connect");
        api::db::migrate(&db).await.expect("migrate");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.place {
            Place::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::PostgresSchema { base, schema } => {
                let (base, schema) = (base.clone(), schema.clone());
                // Dropping runs outside any runtime the test may be shutting down.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let db = sea_orm::Database::connect(&base).await.ok()?;
                        db.execute_raw(Statement::from_string(
                            DbBackend::Postgres,
                            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                        ))
                        .await
                        .ok()?;
                        db.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// The server key of the tests.
pub fn cipher() -> api::secrets::Cipher {
    api::secrets::Cipher::from_text(&server_key()).unwrap()
}

pub fn keys() -> JwtKeys {
    JwtKeys::new(
        &KeySource::Secret(Secret(SECRET.as_bytes().to_vec())),
        "relm",
        "relm",
    )
    .unwrap()
}

/// A running schema over its own database.
pub struct TestApp {
    pub db: DatabaseConnection,
    /// What an HTTP server of this app would share: the schema, keys and event bus.
    pub state: api::app::AppState,
    /// Keeps the database until the test ends.
    _database: TestDb,
}

impl TestApp {
    /// An empty, migrated database.
    pub async fn empty() -> Self {
        let test_db = TestDb::new().await;
        let db = test_db.connect().await;
        Self {
            state: state_on(&db),
            db,
            _database: test_db,
        }
    }

    /// A database with the hand-made fixture of [`fixtures`].
    pub async fn with_fixture() -> (Self, fixtures::Fixture) {
        let app = Self::empty().await;
        let fixture = fixtures::Fixture::load(&app.db).await;
        (app, fixture)
    }

    pub fn token(&self, role: Role, programs: Option<&[&str]>) -> String {
        token(role, programs)
    }

    /// Runs `query` as the bearer of `token` (none: anonymous) along the path of an HTTP
    /// request; returns the JSON response (for a refused request, its error body).
    pub async fn run(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        run_in(&self.state, token, query, variables).await
    }

    /// What another relm process on this database would share: a state of its own, with
    /// its own analytics store.
    pub fn another_process(&self) -> api::app::AppState {
        state_on(&self.db)
    }

    /// Runs `query` as an admin and returns `data`, failing on any error.
    pub async fn admin(&self, query: &str, variables: Value) -> Value {
        let token = self.token(Role::Admin, None);
        data(self.run(Some(&token), query, variables).await)
    }

    /// Runs `query` as a viewer of `programs` and returns `data`, failing on any error.
    pub async fn viewer_of(&self, programs: &[&str], query: &str, variables: Value) -> Value {
        let token = self.token(Role::Viewer, Some(programs));
        data(self.run(Some(&token), query, variables).await)
    }
}

/// The state of a server on `db`. Tests send many requests as one subject; budgets have
/// tests of their own.
fn state_on(db: &DatabaseConnection) -> api::app::AppState {
    api::app::AppState::new(db.clone(), keys(), cipher(), true).with_limits(Limits {
        rate_limit: 0,
        ..Limits::default()
    })
}

/// Runs `query` in `state` as the bearer of `token` (none: anonymous) along the path of an
/// HTTP request; returns the JSON response (for a refused request, its error body).
pub async fn run_in(
    state: &api::app::AppState,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let header = token.map(|t| format!("Bearer {t}"));
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    let meta = Arc::new(RequestMeta::default());
    match answer(state, header.as_deref(), None, request, meta).await {
        Ok(response) => serde_json::to_value(response).unwrap(),
        Err(refusal) => serde_json::json!({ "errors": [refusal.error_json()] }),
    }
}

/// A token signed with the test secret.
pub fn token(role: Role, programs: Option<&[&str]>) -> String {
    keys()
        .sign(
            "tester",
            role,
            programs.map(|p| p.iter().map(|s| (*s).to_owned()).collect()),
            3600,
        )
        .unwrap()
}

/// Any claims, signed with the test secret.
pub fn hs256(claims: &impl serde::Serialize) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// Claims a test can bend into negative cases.
pub fn claims() -> Claims {
    let now = chrono::Utc::now().timestamp() as u64;
    Claims {
        sub: "tester".into(),
        role: "admin".into(),
        programs: None,
        iss: "relm".into(),
        aud: "relm".into(),
        exp: now + 3600,
        iat: now,
        nbf: None,
    }
}

/// The `data` of a response that must have no errors.
pub fn data(response: Value) -> Value {
    assert!(
        response
            .get("errors")
            .is_none_or(|e| e.as_array().is_none_or(Vec::is_empty)),
        "unexpected errors: {response:#}"
    );
    response["data"].clone()
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response:#}"))
        .to_owned()
}

/// The string values of `key` in a list of objects.
pub fn strings(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

impl TestApp {
    /// Loads the demo data set into this test's database, as `relm seed --demo` does (the
    /// demo data lives behind the binary), with the tests' server key.
    pub async fn seed_demo(&self) {
        let url = self.test_db_url();
        let output = tokio::task::spawn_blocking(move || {
            relm_binary()
                .args(["seed", "--demo", "--database-url", &url])
                .env("RELM_SECRET_KEY", server_key())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "relm seed failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Ends every database connection of this test's processes, as a PostgreSQL restart
    /// or failover would; false on SQLite, where there is no server to cut.
    pub async fn cut_connections(&self) -> bool {
        let Place::PostgresSchema { base, schema } = &self._database.place else {
            return false;
        };
        let admin = sea_orm::Database::connect(base.as_str()).await.unwrap();
        let cut = admin
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{schema}'"
                ),
            ))
            .await
            .unwrap();
        admin.close().await.ok();
        assert!(!cut.is_empty(), "no connection of the test was found");
        true
    }

    /// The URL of this test's database.
    pub fn test_db_url(&self) -> String {
        self._database.url.clone()
    }

    /// Runs `query` as `role` (of `programs`, or every program) and returns the response.
    pub async fn run_as(
        &self,
        role: Role,
        programs: Option<&[&str]>,
        query: &str,
        variables: Value,
    ) -> Value {
        let token = token(role, programs);
        self.run(Some(&token), query, variables).await
    }

    /// Every row of every table, to show that a failed mutation changed nothing.
    pub async fn state(&self) -> String {
        use entity::*;
        use sea_orm::{EntityTrait, QueryOrder};
        macro_rules! rows {
            ($($table:ident),+) => {{
                let mut out = String::new();
                $(
                    let rows = $table::Entity::find().order_by_asc($table::Column::Id).all(&self.db).await.unwrap();
                    out.push_str(&format!("{}: {rows:?}\n", stringify!($table)));
                )+
                out
            }};
        }
        rows!(
            admin_event,
            program,
            environment,
            release,
            release_party,
            release_item,
            quality_gate,
            gate_result,
            approval,
            deployment,
            incident,
            outcome,
            improvement_action,
            freeze_window,
            release_event,
            release_dependency,
            calendar_feed
        )
    }

    /// Runs a mutation that must fail with `code`, checks that it changed nothing, and
    /// returns the error message.
    pub async fn refuses(
        &self,
        role: Role,
        programs: Option<&[&str]>,
        query: &str,
        variables: Value,
        code: &str,
    ) -> String {
        let before = self.state().await;
        let response = self.run_as(role, programs, query, variables.clone()).await;
        assert_eq!(
            error_code(&response),
            code,
            "{query} {variables}: {response:#}"
        );
        assert_eq!(
            self.state().await,
            before,
            "a failed mutation changed something: {query} {variables}"
        );
        response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// An HTTP/1.1 POST on a fresh connection: the status and the JSON body.
pub async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: relm\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Serves `state` on a free port until the test ends.
pub async fn serve(state: api::app::AppState) -> std::net::SocketAddr {
    let (bound, addr) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = api::http::serve(
            state,
            "127.0.0.1:0",
            |a| {
                let _ = bound.send(a);
            },
            std::future::pending(),
        )
        .await;
    });
    addr.await.unwrap()
}

/// The server key (`RELM_SECRET_KEY`) the tests' relm processes share.
pub fn server_key() -> String {
    "5e".repeat(32)
}

/// The `relm` binary of this build, built on first use, with no relm settings inherited.
pub fn relm_binary() -> Command {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    let path = BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .unwrap()
            .to_path_buf();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "api", "--bin", "relm"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        assert!(build.status().unwrap().success(), "building relm failed");
        profile_dir.join("relm")
    });
    let mut command = Command::new(path);
    for var in [
        "RELM_DATABASE_URL",
        "RELM_JWT_SECRET",
        "RELM_JWT_PUBLIC_KEY_FILE",
        "RELM_BIND",
        "RELM_LOG",
        "RELM_GRAPHIQL",
        "RELM_REQUEST_TIMEOUT",
        "RELM_RATE_LIMIT",
        "RELM_CLIENT_TIMEOUT",
        "RELM_PUBLIC_URL",
        "RELM_CORS_ORIGINS",
        "RELM_TRUSTED_DOCUMENTS",
        "RELM_TRUSTED_DOCUMENTS_ONLY",
        "RELM_OIDC_ISSUER",
        "RELM_JWKS_URL",
        "RELM_JWKS_ISSUER",
        "RELM_CLAIMS_MAP",
        "RELM_CALENDAR_FEED_TTL",
        "RELM_SECRET_KEY",
    ] {
        command.env_remove(var);
    }
    command.env("RELM_LOG", "warn");
    command
}

/// The first line a child prints; the rest of its output is read to the end in the
/// background, so that no later line meets a closed pipe.
pub fn first_line(stdout: std::process::ChildStdout) -> String {
    use std::io::{BufRead, BufReader};
    let (first, line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let _ = first.send(lines.next().unwrap_or_default());
        lines.for_each(drop);
    });
    line.recv().unwrap_or_default()
}

/// Another relm process serving this test's database, killed when dropped.
pub struct OtherProcess {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
}

impl OtherProcess {
    /// Starts `relm serve` on `app`'s database and waits until it listens.
    pub fn start(app: &TestApp) -> Self {
        let mut child = relm_binary()
            .args([
                "serve",
                "--no-migrate",
                "--bind",
                "127.0.0.1:0",
                "--graphiql",
                "true",
                "--database-url",
                &app.test_db_url(),
            ])
            .env("RELM_JWT_SECRET", SECRET)
            .env("RELM_SECRET_KEY", server_key())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let line = first_line(child.stdout.take().unwrap());
        let addr = line
            .strip_prefix("GraphiQL: http://")
            .and_then(|rest| rest.strip_suffix("/graphql"))
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .parse()
            .unwrap();
        Self { child, addr }
    }
}

impl OtherProcess {
    /// Sends SIGTERM and waits up to 20 s for the exit; None if the process is still running.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        None
    }
}

impl Drop for OtherProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
