//! The `relm` command line: one clear line and a non-zero exit on every failure, the
//! first run on SQLite, and a clean shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn relm() -> Command {
    crate::support::relm_binary()
}

fn run(args: &[&str]) -> Output {
    relm().args(args).stdin(Stdio::null()).output().unwrap()
}

/// [`run`] with info logs, whatever the tests' environment says.
fn run_logged(args: &[&str]) -> Output {
    relm()
        .env("RELM_LOG", "info")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Asserts a failure with exactly one line on stderr containing `needle`.
fn fails_with_one_line(args: &[&str], needle: &str) {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?} printed: {stderr}"
    );
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A SQLite database holding the demo data, in a directory of its own: (directory, URL).
fn demo_database() -> (PathBuf, String) {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    assert!(
        run(&["seed", "--demo", "--database-url", &url])
            .status
            .success()
    );
    (dir, url)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relm-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_failure_is_one_line() {
    fails_with_one_line(
        &["migrate", "--database-url", "mysql://localhost/relm"],
        "unsupported database URL",
    );
    fails_with_one_line(
        &[
            "migrate",
            "--database-url",
            "postgres://relm:pw@127.0.0.1:1/relm",
        ],
        "cannot connect",
    );
    fails_with_one_line(
        &[
            "token",
            "--role",
            "admin",
            "--database-url",
            "postgres://127.0.0.1:1/relm",
        ],
        "RELM_JWT_SECRET",
    );
    fails_with_one_line(
        &["serve", "--database-url", "postgres://127.0.0.1:1/relm"],
        "RELM_JWT_SECRET",
    );
    fails_with_one_line(&["token", "--role", "god"], "god");
    fails_with_one_line(&["seed", "--demo", "--scale", "0"], "0");
    fails_with_one_line(&["token", "--role", "admin", "--ttl", "soon"], "soon");
    fails_with_one_line(&["frobnicate"], "frobnicate");
    fails_with_one_line(&["serve", "--request-timeout", "0"], "positive duration");
    fails_with_one_line(&["serve", "--client-timeout", "soon"], "soon");
    fails_with_one_line(&["serve", "--rate-limit", "-1"], "-1");
    fails_with_one_line(&["schema", "--log", "[[["], "RELM_LOG");
    let output = run(&[
        "migrate",
        "--database-url",
        "postgres://relm:hunter2@127.0.0.1:1/relm",
    ]);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("hunter2"),
        "the password leaked"
    );
}

#[test]
fn token_prints_a_dashboard_link_that_signs_in() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let link = |extra: &[&str]| {
        let mut args = vec![
            "token",
            "--role",
            "viewer",
            "--program",
            "PAY",
            "--dashboard-url",
            "--database-url",
            &url,
        ];
        args.extend_from_slice(extra);
        let output = run(&args);
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let local = link(&["--bind", "0.0.0.0:9000"]);
    let token = local
        .strip_prefix("http://127.0.0.1:9000/dashboard#token=")
        .unwrap_or_else(|| panic!("{local}"));
    let secret = std::fs::read_to_string(dir.join("relm.db.secret")).unwrap();
    let keys = api::auth::JwtKeys::new(
        &api::auth::KeySource::Secret(api::auth::Secret(secret.into_bytes())),
        "relm",
        "relm",
    )
    .unwrap();
    let claims = keys.verify(token).unwrap();
    assert_eq!(
        (claims.role.as_str(), claims.programs),
        ("viewer", Some(vec!["PAY".to_owned()]))
    );
    let public = link(&["--public-url", "https://relm.example.com/"]);
    assert!(
        public.starts_with("https://relm.example.com/dashboard#token=ey"),
        "{public}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn short_secrets_and_missing_key_files_are_refused() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/r.db?mode=rwc", dir.display());
    let output = relm()
        .args(["token", "--role", "admin", "--database-url", &url])
        .env("RELM_JWT_SECRET", "short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
    let output = relm()
        .args(["token", "--role", "admin", "--database-url", &url])
        .env("RELM_JWT_PUBLIC_KEY_FILE", dir.join("missing.pem"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("RELM_JWT_PUBLIC_KEY_FILE"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn output_into_a_closed_pipe_ends_without_a_panic() {
    let commands: [&[&str]; 3] = [&["schema"], &["--help"], &["token", "--role", "viewer"]];
    for args in commands {
        ends_quietly_into_a_closed_pipe(args);
    }
}

/// `relm bench` prints through the same path as the other commands.
#[test]
fn bench_into_a_closed_pipe_ends_without_a_panic() {
    let (dir, url) = demo_database();
    ends_quietly_into_a_closed_pipe(&[
        "bench",
        "--iterations",
        "1",
        "--writes",
        "1",
        "--read-seconds",
        "0",
        "--database-url",
        &url,
    ]);
    let _ = std::fs::remove_dir_all(dir);
}

fn ends_quietly_into_a_closed_pipe(args: &[&str]) {
    let mut child = relm()
        .args(args)
        .env("RELM_JWT_SECRET", "a-secret-of-at-least-thirty-two-bytes")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before relm writes, as `relm schema | head -0` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "relm {args:?}: {stderr}");
    assert!(output.status.success(), "relm {args:?}: {stderr}");
}

#[test]
fn schema_prints_the_sdl() {
    let output = run(&["schema"]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), api::graphql::sdl());
}

#[test]
fn the_first_sqlite_run_makes_a_private_secret_that_token_shares() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let output = run(&[
        "token",
        "--role",
        "release_manager",
        "--program",
        "PAY",
        "--program",
        "MOB",
        "--database-url",
        &url,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secret_file = dir.join("relm.db.secret");
    let mode = std::fs::metadata(&secret_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    let keys = api::auth::JwtKeys::new(
        &api::auth::KeySource::Secret(api::auth::Secret(secret.into_bytes())),
        "relm",
        "relm",
    )
    .unwrap();
    let token = String::from_utf8(output.stdout).unwrap();
    let claims = keys.verify(token.trim()).unwrap();
    assert_eq!(claims.role, "release_manager");
    assert_eq!(
        claims.programs,
        Some(vec!["PAY".to_owned(), "MOB".to_owned()])
    );
    assert_eq!(claims.exp - claims.iat, 24 * 3600);
    // The same secret is used again.
    let again = run(&[
        "token",
        "--role",
        "viewer",
        "--ttl",
        "30m",
        "--database-url",
        &url,
    ]);
    let claims = keys
        .verify(String::from_utf8(again.stdout).unwrap().trim())
        .unwrap();
    assert_eq!(claims.exp - claims.iat, 1800);
    std::fs::remove_dir_all(dir).ok();
}

fn http_get(addr: &str, path: &str, token: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_starts_with_demo_data_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let mut child = relm()
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let graphiql = lines.next().unwrap().unwrap();
    let dashboard = lines.next().unwrap().unwrap();
    let token_line = lines.next().unwrap().unwrap();
    let addr = graphiql
        .strip_prefix("GraphiQL: http://")
        .and_then(|rest| rest.strip_suffix("/graphql"))
        .unwrap_or_else(|| panic!("unexpected first line: {graphiql}"))
        .to_owned();
    let token = token_line
        .strip_prefix("Admin token (24h): ")
        .unwrap_or_else(|| panic!("unexpected third line: {token_line}"))
        .to_owned();
    assert_eq!(
        dashboard,
        format!("Dashboard: http://{addr}/dashboard#token={token}")
    );
    let page = http_get(&addr, "/dashboard", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Release dashboard"), "{page}");

    let response = http_get(
        &addr,
        "/graphql?query=%7Bprograms%7BtotalCount%7D%7D",
        &token,
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"totalCount\":5"), "{response}");
    assert!(http_get(&addr, "/readyz", "").starts_with("HTTP/1.1 200"));

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert!(
        TcpStream::connect(&addr).is_err(),
        "still listening after shutdown"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// On PostgreSQL (when the tests run there) the event listener holds a pooled connection;
/// shutting down must release it rather than wait for it.
#[tokio::test]
async fn serve_stops_cleanly_on_sigterm_on_the_test_database() {
    let app = crate::support::TestApp::empty().await;
    let mut server = crate::support::OtherProcess::start(&app);
    let status = server
        .terminate()
        .expect("relm serve still runs 20 s after SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

/// `relm bench` prints every row of its table: the metrics timings, then the read path
/// beside its two reference servers, each with a ratio to bare poem.
#[test]
fn bench_prints_the_metrics_timings_and_the_read_table() {
    let (dir, url) = demo_database();
    let bench = run(&[
        "bench",
        "--iterations",
        "1",
        "--writes",
        "1",
        "--read-seconds",
        "1",
        "--connections",
        "2",
        "--database-url",
        &url,
    ]);
    let stdout = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    for row in [
        "cold (first query",
        "warm: median",
        "first query after one write",
        "metrics with benchmark DORA_2021, warm: median",
        "metrics with severities SEV1, SEV2, warm: median",
        "improvementImpact over the last year, every program (5 actions): first",
        "one action's impact, warm: median",
        "forecasts of every release under way (",
        "a page of 20 releases under way, bare, warm: median",
        "a page of 20 releases under way, with program, readiness, deployments, warm: median",
        "the same page with forecast, warm: median",
        "forecastAccuracy over the last year of DATA (",
    ] {
        assert!(stdout.contains(row), "{row}: {stdout}");
    }
    // The store's size and its two parts, each rounded to a tenth of a MiB.
    let store: Vec<f64> = stdout
        .lines()
        .find_map(|l| l.strip_prefix("the analytics store holds "))
        .unwrap_or_else(|| panic!("no store line: {stdout}"))
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        matches!(store[..], [all, tables, derived]
            if tables > 0.0 && derived > 0.0 && (all - tables - derived).abs() < 0.11),
        "{store:?}"
    );
    if cfg!(target_os = "linux") {
        let memory = stdout
            .lines()
            .find_map(|l| l.strip_prefix("memory with the store loaded: resident "))
            .unwrap_or_else(|| panic!("no memory line: {stdout}"));
        let mebibytes: Vec<u64> = memory
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        assert!(
            matches!(mebibytes[..], [resident, peak] if resident > 0 && peak >= resident),
            "{memory}"
        );
    }
    let read: Vec<&str> = stdout.lines().filter(|l| l.contains(" req/s ")).collect();
    assert_eq!(read.len(), 7, "{stdout}");
    assert!(read[0].starts_with("bare poem handler") && read[0].contains("1.00x bare poem"));
    assert!(read[1].starts_with("async-graphql + poem { hello }"));
    for (line, name) in read[2..].iter().zip([
        "relm { me",
        "relm { me { subject role } }, a token of a JWKS key",
        "relm { me { subject role } } by trusted document id",
        "relm release(",
        "relm a page",
    ]) {
        assert!(
            line.starts_with(name) && line.contains("x bare poem"),
            "{line}"
        );
    }
    assert!(
        stdout.contains("calendar feed of ") && stdout.contains("one request at a time: median"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Progress bars are for terminals: through a pipe, seed and export print their logs only.
#[test]
fn seed_and_export_draw_no_progress_off_a_terminal() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let seed = run_logged(&["seed", "--demo", "--database-url", &url]);
    let stderr = String::from_utf8_lossy(&seed.stderr);
    assert!(seed.status.success(), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(String::from_utf8_lossy(&seed.stdout).starts_with("seeded 5 programs"));
    let file = dir.join("deployments.csv");
    let export = run_logged(&[
        "export",
        "deployments",
        "-o",
        file.to_str().unwrap_or_default(),
        "--database-url",
        &url,
    ]);
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert!(export.status.success(), "{stderr}");
    assert!(stderr.lines().all(|line| line.contains("INFO")), "{stderr}");
    for output in [&seed, &export] {
        assert!(
            !output.stderr.iter().any(|b| *b == b'\r' || *b == 0x1b),
            "{output:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrating_logs_one_line_not_one_per_step() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let migrate = || run_logged(&["migrate", "--database-url", &url]);
    let output = migrate();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("database schema up to date"), "{stderr}");
    assert!(!stderr.contains("Applying migration"), "{stderr}");
    let again = migrate();
    assert!(String::from_utf8_lossy(&again.stderr).contains("applied=0"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_keeps_serving_when_its_output_is_closed() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = relm()
        .args(["serve", "--bind", &addr, "--database-url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Whoever started the server stops reading before it prints its links.
    drop(child.stdout.take());
    let mut healthy = false;
    for _ in 0..200 {
        if TcpStream::connect(&addr).is_ok()
            && http_get(&addr, "/healthz", "").starts_with("HTTP/1.1 200")
        {
            healthy = true;
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "relm serve exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(healthy, "relm serve never answered");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "relm serve exited after printing"
    );
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn postgres_needs_a_server_key_and_sqlite_makes_one() {
    let output = relm()
        .env("RELM_JWT_SECRET", crate::support::SECRET)
        .args(["serve", "--database-url", "postgres://127.0.0.1:1/relm"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("RELM_SECRET_KEY"), "{stderr}");
}

#[test]
fn the_database_and_its_keys_are_owner_only_and_another_key_stops_serve() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, url) = demo_database();
    for file in ["relm.db", "relm.db.key"] {
        let mode = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let wrong = "ab".repeat(32);
    let output = run(&["serve", "--database-url", &url, "--secret-key", &wrong]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("RELM_SECRET_KEY cannot read the secrets stored"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn hostile_ingest_keys_never_reach_the_log() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/relm.db?mode=rwc", dir.display());
    let log = dir.join("relm.log");
    let mut child = relm()
        .env("RELM_LOG", "info")
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let first = crate::support::first_line(child.stdout.take().unwrap());
    let addr = first
        .strip_prefix("GraphiQL: http://")
        .and_then(|rest| rest.strip_suffix("/graphql"))
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    let post = |path: &str| {
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: relm\r\nContent-Type: application/json\r\nX-Relm-Signature-256: sha256=00\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let forged = "/v1/ingest/k%0A2026-12-07T00:00:00Z%20%20INFO%20relm:%20forged%1B%5B31m";
    assert!(post(forged).starts_with("HTTP/1.1 401"));
    assert!(post(&format!("/v1/ingest/{}", "x".repeat(60_000))).starts_with("HTTP/1.1 "));
    // A key that could be one, of a request offering a proof, is logged: the log is being
    // written.
    assert!(post("/v1/ingest/no-such-source").starts_with("HTTP/1.1 401"));
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.wait().unwrap();
    let written = std::fs::read(&log).unwrap();
    let text = String::from_utf8_lossy(&written);
    assert!(text.contains("no-such-source"), "{text}");
    assert!(
        !written.contains(&0x1b),
        "an escape sequence reached the log"
    );
    assert!(!text.contains("forged"), "{text}");
    assert!(
        !text.contains(&"x".repeat(100)),
        "a long key reached the log"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// `serve` stops at start on a manifest whose id is not its document's hash, on a mode it
/// does not know and on an origin list it cannot read, each naming the problem.
#[test]
fn serve_refuses_a_wrong_manifest_mode_origin_list_or_identity_provider() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/r.db?mode=rwc", dir.display());
    let manifest = dir.join("documents.json");
    std::fs::write(&manifest, r#"{"sha256:0000": "{ me { subject } }"}"#).unwrap();
    let manifest = manifest.display().to_string();
    let map = dir.join("claims.json");
    std::fs::write(
        &map,
        r#"{"claim": "groups", "rules": [{"value": "ops", "role": "operator"}]}"#,
    )
    .unwrap();
    let map = map.display().to_string();
    let garbled = dir.join("garbled.json");
    std::fs::write(&garbled, "groups: admins").unwrap();
    let garbled = garbled.display().to_string();
    let issuer = "https://id.example.com/realms/acme";
    let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/rsa_public.pem");
    for (args, says) in [
        (
            vec!["--oidc-issuer", issuer, "--claims-map", garbled.as_str()],
            "not a claims map",
        ),
        (
            vec![
                "--jwt-public-key-file",
                pem,
                "--jwks-url",
                "https://id.example.com/certs",
            ],
            "set RELM_JWKS_ISSUER",
        ),
        (
            vec!["--oidc-issuer", issuer, "--claims-map", map.as_str()],
            "rule 1: unknown role 'operator'",
        ),
        (
            vec!["--claims-map", map.as_str()],
            "set RELM_OIDC_ISSUER or RELM_JWKS_URL",
        ),
        (
            vec!["--jwks-url", "http://id.example.com/certs"],
            "only fetched over https",
        ),
        (
            vec![
                "--oidc-issuer",
                issuer,
                "--jwks-url",
                "https://id.example.com/certs",
            ],
            "not both",
        ),
        (
            vec!["--trusted-documents", manifest.as_str()],
            "sha256:0000",
        ),
        (vec!["--trusted-documents-only", "some"], "some"),
        (vec!["--cors-origins", "https://ok.example.com,*"], "'*'"),
    ] {
        let output = relm()
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} started");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(dir).ok();
}

/// `relm forecast backtest` prints the accuracy of the last year with its ten calibration
/// bins, whose releases add up to the releases forecast; a bad flag is one line naming it.
#[test]
fn forecast_backtest_prints_the_scores_and_the_calibration_bins() {
    let (dir, url) = demo_database();
    let output = run(&["forecast", "backtest", "--database-url", &url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value = |label: &str| -> String {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_default();
        line[label.len()..].trim().to_owned()
    };
    let releases: u64 = value("releases forecast").parse().unwrap();
    assert!(releases > 0, "{stdout}");
    for label in ["Brier score", "base rate Brier score"] {
        let score: f64 = value(label).parse().unwrap();
        assert!((0.0..=1.0).contains(&score), "{stdout}");
    }
    let bins: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("calibration"))
        .skip(1)
        .collect();
    assert_eq!(bins.len(), 10, "{stdout}");
    let mut binned = 0;
    for (i, line) in bins.iter().enumerate() {
        assert!(
            line.starts_with(&format!(
                "{:.1}–{:.1}",
                i as f64 / 10.0,
                (i + 1) as f64 / 10.0
            )),
            "{line}"
        );
        binned += line
            .split_whitespace()
            .last()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap();
    }
    assert_eq!(binned, releases);
    for (flags, needle) in [
        (&["--lead-days", "0"][..], "invalid --lead-days"),
        (
            &["--program", "NOPE"][..],
            "invalid --program: program NOPE",
        ),
        (&["--from", "yesterday"][..], "invalid --from"),
    ] {
        let mut args = vec!["forecast", "backtest", "--database-url", &url];
        args.extend_from_slice(flags);
        fails_with_one_line(&args, needle);
    }
    let _ = std::fs::remove_dir_all(dir);
}
