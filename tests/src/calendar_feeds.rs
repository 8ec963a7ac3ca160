//! Calendar feeds (communication.md): made by any role, shown once, stored hashed, read as
//! the token that made it, parsed here by an independent iCalendar parser.

use api::auth::Role;
use api::origins::Origins;
use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestApp, data, error_code};

const CREATE_PROGRAM: &str =
    "mutation($input: CreateProgramInput!) { createProgram(input: $input) { key } }";
const CREATE_RELEASE: &str =
    "mutation($input: CreateReleaseInput!) { createRelease(input: $input) { id revision } }";
const CREATE_FREEZE: &str =
    "mutation($input: CreateFreezeWindowInput!) { createFreezeWindow(input: $input) { id } }";
const TRANSITION: &str =
    "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { status } }";
const CREATE_FEED: &str = "mutation($input: CreateCalendarFeedInput!) { createCalendarFeed(input: $input) { url feed { id name programKeys owner createdAt expiresAt } } }";
const REVOKE_FEED: &str =
    "mutation($input: RevokeCalendarFeedInput!) { revokeCalendarFeed(input: $input) }";
const FEEDS: &str = "{ calendarFeeds { name owner } }";

const PUBLIC: &str = "https://relm.example.com";

/// Two programs; PAY has a planned release named with characters iCalendar escapes, a
/// scheduled one and a cancelled one; MOB has one; PAY has a freeze window.
async fn world() -> TestApp {
    let app = TestApp::empty().await;
    for key in ["PAY", "MOB"] {
        app.admin(CREATE_PROGRAM, json!({"input": {"key": key, "name": key}}))
            .await;
    }
    let day = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::days(days))
            .format("%Y-%m-%dT10:00:00Z")
            .to_string()
    };
    let release = |program: &str, version: &str, name: &str, start: i64, end: i64| {
        json!({"input": {"programKey": program, "version": version, "name": name, "type": "MINOR",
                         "plannedStart": day(start), "plannedEnd": day(end)}})
    };
    let long_name = format!("Checkout; refunds, and \\ more — {}", "é".repeat(40));
    app.admin(CREATE_RELEASE, release("PAY", "1.0", &long_name, 3, 10))
        .await;
    let scheduled = app
        .admin(CREATE_RELEASE, release("PAY", "1.1", "Wallet", 12, 12))
        .await;
    let id = scheduled["createRelease"]["id"].clone();
    app.admin(
        TRANSITION,
        json!({"input": {"releaseId": id, "to": "SCHEDULED"}}),
    )
    .await;
    let cancelled = app
        .admin(CREATE_RELEASE, release("PAY", "0.9", "Dropped", -20, -10))
        .await;
    let id = cancelled["createRelease"]["id"].clone();
    app.admin(
        TRANSITION,
        json!({"input": {"releaseId": id, "to": "CANCELLED"}}),
    )
    .await;
    app.admin(CREATE_RELEASE, release("MOB", "2.0", "App", 5, 6))
        .await;
    // Outside the feed's range: more than 90 days ago.
    app.admin(CREATE_RELEASE, release("PAY", "0.1", "Ancient", -200, -150))
        .await;
    app.admin(
        CREATE_FREEZE,
        json!({"input": {"name": "Quarter close", "programKey": "PAY", "startsAt": day(20), "endsAt": day(22)}}),
    )
    .await;
    app
}

fn client(app: &TestApp, public_url: Option<&str>) -> TestClient<impl poem::Endpoint> {
    let state = app
        .another_process()
        .with_origins(Origins::default(), public_url.map(str::to_owned));
    TestClient::new(api::http::app(state))
}

async fn create(app: &TestApp, role: Role, programs: Option<&[&str]>, input: Value) -> Value {
    data(
        app.run_as(role, programs, CREATE_FEED, json!({ "input": input }))
            .await,
    )["createCalendarFeed"]
        .clone()
}

async fn fetch(relm: &TestClient<impl poem::Endpoint>, path: &str) -> (StatusCode, String) {
    let response = relm.get(path).send().await;
    let status = response.0.status();
    let content_type = response
        .0
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.0.into_body().into_string().await.unwrap();
    if status == StatusCode::OK {
        assert_eq!(content_type, "text/calendar; charset=utf-8");
    }
    (status, body)
}

/// A TEXT value as RFC 5545 section 3.3.11 escapes it, read back.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A component's properties: name and unescaped value.
type Properties = Vec<(String, String)>;

/// The calendar as an independent parser reads it: its properties and each event's.
fn parse(text: &str) -> (Properties, Vec<Properties>) {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = parser
        .next()
        .expect("a VCALENDAR")
        .expect("valid iCalendar");
    assert!(parser.next().is_none(), "one VCALENDAR");
    let pairs = |properties: &[ical::property::Property]| {
        properties
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    unescape(p.value.as_deref().unwrap_or_default()),
                )
            })
            .collect::<Vec<_>>()
    };
    let events = calendar
        .events
        .iter()
        .map(|e| pairs(&e.properties))
        .collect();
    (pairs(&calendar.properties), events)
}

fn value<'a>(properties: &'a Properties, name: &str) -> Option<&'a str> {
    properties
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_feed_shows_what_its_token_saw_as_valid_icalendar() {
    let app = world().await;
    let made = create(
        &app,
        Role::Viewer,
        Some(&["PAY"]),
        json!({"name": "PAY releases, all; of them"}),
    )
    .await;
    let url = made["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("/v1/calendar/") && url.ends_with(".ics"),
        "{url}"
    );
    assert_eq!(made["feed"]["programKeys"], Value::Null);
    assert_eq!(made["feed"]["owner"], "tester");

    let relm = client(&app, Some(PUBLIC));
    let (status, text) = fetch(&relm, &url).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "a line longer than 75 octets: {line:?}");
    }
    let (calendar, events) = parse(&text);
    assert_eq!(
        value(&calendar, "PRODID"),
        Some("-//relm//release calendar//EN")
    );
    assert_eq!(value(&calendar, "VERSION"), Some("2.0"));
    assert_eq!(
        value(&calendar, "X-WR-CALNAME"),
        Some("PAY releases, all; of them")
    );

    let summaries: Vec<&str> = events.iter().filter_map(|e| value(e, "SUMMARY")).collect();
    let long_name = format!(
        "PAY 1.0: Checkout; refunds, and \\ more — {}",
        "é".repeat(40)
    );
    assert_eq!(
        summaries,
        [
            "PAY 0.9: Dropped",
            long_name.as_str(),
            "PAY 1.1: Wallet",
            "Freeze: Quarter close"
        ],
        "PAY's releases within the range by plannedEnd, then its freeze window; nothing of MOB"
    );
    assert_eq!(value(&events[0], "STATUS"), Some("CANCELLED"));
    let planned = &events[1];
    assert_eq!(value(planned, "STATUS"), Some("TENTATIVE"));
    assert_eq!(value(planned, "SEQUENCE"), Some("1"));
    assert!(value(planned, "UID").unwrap().starts_with("release-"));
    assert!(value(planned, "UID").unwrap().ends_with("@relm"));
    assert!(value(planned, "DTSTART").unwrap().ends_with('Z'));
    assert!(value(planned, "DTEND").unwrap().ends_with('Z'));
    let description = value(planned, "DESCRIPTION").unwrap();
    assert!(
        description.starts_with("Status: PLANNED\nBlockers:\n- "),
        "{description}"
    );
    assert!(description.contains("- no rollback plan"), "{description}");
    assert!(
        value(planned, "URL")
            .unwrap()
            .starts_with("https://relm.example.com/dashboard?program=PAY#release=")
    );
    // A release planned to start and end at once has no DTEND.
    let scheduled = &events[2];
    assert_eq!(value(scheduled, "STATUS"), Some("CONFIRMED"));
    assert_eq!(value(scheduled, "DTEND"), None);
    assert_eq!(value(scheduled, "SEQUENCE"), Some("2"));
    let freeze = &events[3];
    assert!(value(freeze, "UID").unwrap().starts_with("freeze-"));
    assert_eq!(value(freeze, "TRANSP"), Some("OPAQUE"));

    // The key is stored only as its SHA-256.
    let key = url
        .trim_start_matches("/v1/calendar/")
        .trim_end_matches(".ics");
    let stored = app.state().await;
    assert!(!stored.contains(key), "the key itself is stored");
    assert!(stored.contains(&hex::encode(Sha256::digest(key.as_bytes()))));
}

#[tokio::test]
async fn feeds_are_listed_for_their_owner_and_end_when_revoked_or_expired() {
    let app = world().await;
    let made = create(
        &app,
        Role::Viewer,
        None,
        json!({"name": "mine", "programKeys": ["MOB"]}),
    )
    .await;
    assert_eq!(made["feed"]["programKeys"], json!(["MOB"]));
    let relm = client(&app, None);
    let url = made["url"].as_str().unwrap().to_owned();
    let (_, text) = fetch(&relm, &url).await;
    let (_, events) = parse(&text);
    assert_eq!(events.len(), 1, "MOB's one release");

    let viewer_feeds = data(app.run_as(Role::Viewer, None, FEEDS, json!({})).await);
    assert_eq!(
        viewer_feeds["calendarFeeds"],
        json!([{"name": "mine", "owner": "tester"}])
    );
    // Another subject sees none of them and cannot revoke them; an ADMIN without programs can.
    let someone_else = |role: &str, programs: Option<Vec<String>>| {
        crate::support::hs256(&api::auth::Claims {
            sub: "someone-else".into(),
            role: role.into(),
            programs,
            ..crate::support::claims()
        })
    };
    let other = someone_else("viewer", None);
    let theirs = app.run(Some(&other), FEEDS, json!({})).await;
    assert_eq!(data(theirs)["calendarFeeds"], json!([]));
    let revoke = json!({"input": {"feedId": made["feed"]["id"]}});
    let refused = app.run(Some(&other), REVOKE_FEED, revoke.clone()).await;
    assert_eq!(error_code(&refused), "NOT_FOUND");
    let scoped_admin = app
        .run(
            Some(&someone_else("admin", Some(vec!["MOB".into()]))),
            REVOKE_FEED,
            revoke.clone(),
        )
        .await;
    assert_eq!(error_code(&scoped_admin), "NOT_FOUND");
    let revoked = data(
        app.run_as(Role::Admin, None, REVOKE_FEED, revoke.clone())
            .await,
    );
    assert_eq!(revoked["revokeCalendarFeed"], made["feed"]["id"]);
    let (status, body) = fetch(&relm, &url).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, ""));
    let again = app.run_as(Role::Admin, None, REVOKE_FEED, revoke).await;
    assert_eq!(error_code(&again), "NOT_FOUND");

    // Unknown keys, and keys that cannot be keys, are the same bare 404.
    for path in [
        format!("/v1/calendar/{}.ics", "A".repeat(43)),
        "/v1/calendar/short.ics".to_owned(),
        "/v1/calendar/..%2f..%2fetc.ics".to_owned(),
    ] {
        assert_eq!(
            fetch(&relm, &path).await,
            (StatusCode::NOT_FOUND, String::new()),
            "{path}"
        );
    }

    // A feed lives RELM_CALENDAR_FEED_TTL.
    let brief = TestClient::new(api::http::app(
        app.another_process()
            .with_feed_ttl(std::time::Duration::from_secs(1)),
    ));
    let response = brief
        .post("/graphql")
        .header(
            "authorization",
            format!("Bearer {}", app.token(Role::Viewer, None)),
        )
        .content_type("application/json")
        .body(json!({"query": CREATE_FEED, "variables": {"input": {"name": "brief"}}}).to_string())
        .send()
        .await;
    let created: Value = response.0.into_body().into_json().await.unwrap();
    let url = created["data"]["createCalendarFeed"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fetch(&brief, &url).await.0, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(fetch(&brief, &url).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_feed_cannot_name_programs_its_token_does_not_see() {
    let app = world().await;
    let response = app
        .run_as(
            Role::Viewer,
            Some(&["PAY"]),
            CREATE_FEED,
            json!({"input": {"name": "x", "programKeys": ["MOB"]}}),
        )
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    for input in [
        json!({"name": "x", "programKeys": []}),
        json!({"name": "  "}),
    ] {
        let response = app
            .run_as(Role::Viewer, None, CREATE_FEED, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{input}");
    }
}
