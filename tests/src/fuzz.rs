//! A bounded fuzzer that runs with the tests: random and mutated GraphQL documents,
//! variables and HTTP bodies go to the real router in-process, as an admin (so mutations
//! run), a scoped viewer and nobody; and deliveries go to `POST /v1/ingest/{key}`: each
//! sender's payloads with values replaced or removed, signed correctly or not at all, with
//! the headers senders use set to odd values, to real and impossible keys. Any panic, any
//! 5xx and any `INTERNAL` error fails.
//!
//! Documents are built from the server's own schema (fields with their arguments, input
//! objects, enums), with values that are often wrong on purpose (huge numbers, NUL, far
//! dates, long lists), then sometimes mangled byte by byte.
//!
//! `RELM_FUZZ_SECONDS` (default 10) bounds a run; `RELM_FUZZ_SEED` replays one (the seed
//! of a failure is in its message).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::app::AppState;
use api::auth::Role;
use api::http::app as router;
use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use poem::{Endpoint, EndpointExt};
use serde_json::{Value, json};

use crate::support::{TestApp, keys, token};

/// A small, fast, seedable generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

struct Field {
    name: String,
    arguments: Vec<(String, Type)>,
    ty: Type,
}

/// What the schema offers to build documents from.
#[derive(Default)]
struct Vocabulary {
    outputs: HashMap<String, Vec<Field>>,
    inputs: HashMap<String, Vec<(String, Type)>>,
    enums: HashMap<String, Vec<String>>,
    unions: HashMap<String, Vec<String>>,
}

impl Vocabulary {
    fn of(sdl: &str) -> Self {
        let mut vocabulary = Self::default();
        let document = async_graphql::parser::parse_schema(sdl).unwrap();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            match &ty.node.kind {
                TypeKind::Object(o) => {
                    let fields = o.fields.iter().map(|f| Field {
                        name: f.node.name.node.to_string(),
                        arguments: f
                            .node
                            .arguments
                            .iter()
                            .map(|a| (a.node.name.node.to_string(), a.node.ty.node.clone()))
                            .collect(),
                        ty: f.node.ty.node.clone(),
                    });
                    vocabulary.outputs.insert(name, fields.collect());
                }
                TypeKind::Interface(i) => {
                    let fields = i.fields.iter().map(|f| Field {
                        name: f.node.name.node.to_string(),
                        arguments: Vec::new(),
                        ty: f.node.ty.node.clone(),
                    });
                    vocabulary.outputs.insert(name, fields.collect());
                }
                TypeKind::InputObject(i) => {
                    let fields = i
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()));
                    vocabulary.inputs.insert(name, fields.collect());
                }
                TypeKind::Enum(e) => {
                    let values = e.values.iter().map(|v| v.node.value.node.to_string());
                    vocabulary.enums.insert(name, values.collect());
                }
                TypeKind::Union(u) => {
                    let members = u.members.iter().map(|m| m.node.to_string());
                    vocabulary.unions.insert(name, members.collect());
                }
                TypeKind::Scalar => {}
            }
        }
        vocabulary
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named(item),
    }
}

const STRINGS: &[&str] = &[
    "PAY",
    "MOB",
    "2026.1.0",
    "5.0.0",
    "prod-eu",
    "staging",
    "payments-core",
    "Fix",
    "x",
];
/// Strings that are wrong somewhere, used one time in ten.
const ODD_STRINGS: &[&str] = &[
    "",
    " ",
    "a\u{0}b",
    "é🚀",
    "=1+1",
    "\\",
    "\"",
    "UmVsZWFzZTox",
    "UmVsZWFzZTo5OTk5OTk5OTk5OTk5OTk5OTk5",
    "bm90IGFuIGlk",
];
const TIMES: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-03-15T10:30:00+02:00",
    "2026-06-01T00:00:00Z",
    "2025-06-01T00:00:00Z",
    "2027-01-01T00:00:00Z",
    "2026-01-15T09:00:00Z",
    "2026-02-01T00:00:00Z",
    "2026-12-31T23:59:59Z",
    "-262143-01-01T00:00:00Z",
    "+262142-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "yesterday",
    "2026-13-01T00:00:00Z",
];
const NUMBERS: &[&str] = &["0", "1", "2", "3", "5", "10", "20", "50", "100"];
/// Numbers that are wrong somewhere, used one time in ten.
const ODD_NUMBERS: &[&str] = &[
    "-1",
    "101",
    "2147483647",
    "-2147483648",
    "99999999999",
    "1.5",
    "1e308",
];

struct Generator<'v> {
    vocabulary: &'v Vocabulary,
    rng: Rng,
    ids: Vec<String>,
}

impl Generator<'_> {
    fn string_literal(&mut self, text: &str) -> String {
        serde_json::to_string(text).unwrap_or_default()
    }

    fn scalar(&mut self, name: &str) -> String {
        if self.rng.chance(5) {
            let wrong = ["null", "[]", "{}", "true", "\"x\"", "3"];
            return (*self.rng.pick(&wrong)).to_owned();
        }
        match name {
            "String" => {
                let text = match self.rng.below(20) {
                    0 => "x".repeat(self.rng.below(5_000)),
                    1 | 2 => (*self.rng.pick(ODD_STRINGS)).to_owned(),
                    _ => (*self.rng.pick(STRINGS)).to_owned(),
                };
                self.string_literal(&text)
            }
            "ID" => {
                let id = if self.ids.is_empty() || self.rng.chance(15) {
                    (*self.rng.pick(ODD_STRINGS)).to_owned()
                } else {
                    self.rng.pick(&self.ids).clone()
                };
                self.string_literal(&id)
            }
            "Int" | "Float" if self.rng.chance(10) => (*self.rng.pick(ODD_NUMBERS)).to_owned(),
            "Int" | "Float" => (*self.rng.pick(NUMBERS)).to_owned(),
            "Boolean" => (*self.rng.pick(&["true", "false"])).to_owned(),
            "DateTime" => {
                let time = if self.rng.chance(85) {
                    *self.rng.pick(&TIMES[..8])
                } else {
                    *self.rng.pick(TIMES)
                };
                self.string_literal(time)
            }
            "Date" => {
                let date = *self.rng.pick(&[
                    "2026-12-01",
                    "2026-02-30",
                    "+262142-12-31",
                    "-0001-01-01",
                    "today",
                ]);
                self.string_literal(date)
            }
            other => match self.vocabulary.enums.get(other) {
                Some(values) if !self.rng.chance(10) => self.rng.pick(values).clone(),
                Some(_) => "NOT_A_VALUE".to_owned(),
                None => "null".to_owned(),
            },
        }
    }

    fn value(&mut self, ty: &Type, depth: usize) -> String {
        if ty.nullable && self.rng.chance(10) {
            return "null".into();
        }
        match &ty.base {
            BaseType::List(item) => {
                let n = if self.rng.chance(5) {
                    101 + self.rng.below(50)
                } else {
                    self.rng.below(4)
                };
                let items: Vec<String> = (0..n).map(|_| self.value(item, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => match self.vocabulary.inputs.get(name.as_str()) {
                Some(fields) if depth < 4 => {
                    let mut parts = Vec::new();
                    for (field, field_ty) in fields {
                        if !field_ty.nullable || self.rng.chance(50) {
                            parts.push(format!("{field}: {}", self.value(field_ty, depth + 1)));
                        }
                    }
                    format!("{{ {} }}", parts.join(", "))
                }
                Some(_) => "{}".into(),
                None => self.scalar(name.as_str()),
            },
        }
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        if let Some(members) = self.vocabulary.unions.get(type_name) {
            let member = self.rng.pick(members).clone();
            return format!(
                "{{ __typename ... on {member} {} }}",
                self.selection(&member, depth)
            );
        }
        let vocabulary = self.vocabulary;
        let Some(fields) = vocabulary.outputs.get(type_name) else {
            return String::new();
        };
        let count = 1 + self.rng.below(4);
        let mut parts = Vec::new();
        for n in 0..count {
            // Fields seldom repeat: a repeat with other arguments fails validation.
            let field = self.rng.pick(fields);
            if n > 0
                && self.rng.chance(80)
                && parts.iter().any(|p: &String| p.contains(&field.name))
            {
                continue;
            }
            let mut text = String::new();
            if self.rng.chance(10) {
                text.push_str(&format!("a{n}: "));
            }
            text.push_str(&field.name);
            let mut arguments = Vec::new();
            for (name, ty) in &field.arguments {
                if !ty.nullable || self.rng.chance(60) {
                    arguments.push(format!("{name}: {}", self.value(ty, 0)));
                }
            }
            if !arguments.is_empty() {
                text.push_str(&format!("({})", arguments.join(", ")));
            }
            if self.rng.chance(5) {
                text.push_str(" @include(if: true)");
            }
            let inner = named(&field.ty).to_owned();
            if self.vocabulary.outputs.contains_key(&inner)
                || self.vocabulary.unions.contains_key(&inner)
            {
                if depth > 6 {
                    continue;
                }
                text.push(' ');
                text.push_str(&self.selection(&inner, depth + 1));
            }
            parts.push(text);
        }
        if parts.is_empty() {
            parts.push("__typename".into());
        }
        format!("{{ {} }}", parts.join(" "))
    }

    /// Fragments on Query spreading one another: chains where each spreads the next one to
    /// three times, and now and then a spread anywhere (a cycle, often).
    fn fragment_graph(&mut self) -> String {
        let count = 2 + self.rng.below(40);
        let mut document = String::from("query { ...F0 }");
        for n in 0..count {
            let mut body = self.selection("Query", 5);
            body.pop();
            if n + 1 < count {
                for _ in 0..1 + self.rng.below(3) {
                    body.push_str(&format!(" ...F{}", n + 1));
                }
            }
            if self.rng.chance(10) {
                body.push_str(&format!(" ...F{}", self.rng.below(count)));
            }
            document.push_str(&format!(" fragment F{n} on Query {body} }}"));
        }
        document
    }

    fn document(&mut self) -> String {
        if self.rng.chance(10) {
            return self.fragment_graph();
        }
        let root = if self.rng.chance(35) {
            "Mutation"
        } else {
            "Query"
        };
        let keyword = if root == "Mutation" {
            "mutation"
        } else {
            "query"
        };
        let mut document = format!("{keyword} {}", self.selection(root, 0));
        if self.rng.chance(8) {
            document = self.mangle(document);
        }
        document
    }

    /// Byte-level damage: cut, duplicate, insert punctuation, nest.
    fn mangle(&mut self, mut text: String) -> String {
        for _ in 0..1 + self.rng.below(4) {
            let bytes = text.len();
            let at = self.rng.below(bytes + 1);
            let at = (0..=at)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            match self.rng.below(5) {
                0 => text.truncate(at),
                1 => {
                    let tail = text[at..].to_owned();
                    text.push_str(&tail);
                }
                2 => {
                    let punctuation = *self.rng.pick(&[
                        "{", "}", "[", "]", "(", ")", ":", "$", "@", "...", "\"", "#", "!", "\u{0}",
                    ]);
                    text.insert_str(at, punctuation);
                }
                3 => text.insert_str(at, &"[".repeat(self.rng.below(200))),
                _ => text.insert_str(at, " ...F fragment F on Query { __typename } "),
            }
        }
        text
    }

    fn json(&mut self, depth: usize) -> Value {
        match self.rng.below(if depth > 4 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.rng.chance(50)),
            2 => json!(self.rng.next() as i64),
            3 => json!(*self.rng.pick(STRINGS)),
            4 => json!(*self.rng.pick(TIMES)),
            5 => Value::Array(
                (0..self.rng.below(4))
                    .map(|_| self.json(depth + 1))
                    .collect(),
            ),
            _ => {
                let keys = [
                    "programKeys",
                    "input",
                    "id",
                    "first",
                    "filter",
                    "releaseId",
                    "status",
                    "x",
                ];
                let mut map = serde_json::Map::new();
                for _ in 0..self.rng.below(4) {
                    map.insert((*self.rng.pick(&keys)).into(), self.json(depth + 1));
                }
                Value::Object(map)
            }
        }
    }

    /// A POST body: mostly a GraphQL request, sometimes something else.
    fn body(&mut self) -> String {
        let query = self.document();
        match self.rng.below(20) {
            0 => self.mangle(json!({ "query": query }).to_string()),
            1 => self.json(0).to_string(),
            2 => json!({ "query": query, "variables": self.json(0), "operationName": self.json(2) }).to_string(),
            _ => json!({ "query": query, "variables": { "id": self.json(1), "input": self.json(1) } }).to_string(),
        }
    }
}

/// An ingest source the fuzzer posts to: its key, kind and secret.
struct Source {
    key: &'static str,
    kind: &'static str,
    secret: String,
}

/// Each sender's real payloads.
const PAYLOADS: [&str; 8] = [
    include_str!("../../api/src/ingest/fixtures/github_deployment_status.json"),
    include_str!("../../api/src/ingest/fixtures/gitlab_deployment.json"),
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_triggered.json"),
    include_str!("../../api/src/ingest/fixtures/pagerduty_incident_resolved.json"),
    include_str!("../../api/src/ingest/fixtures/cdevents_service_deployed.json"),
    include_str!("../../api/src/ingest/fixtures/cloudevents_binary_service_rolledback.json"),
    include_str!("../../api/src/ingest/fixtures/generic_deployment.json"),
    include_str!("../../api/src/ingest/fixtures/generic_incident.json"),
];

impl Generator<'_> {
    /// A sender's payload with a few values replaced by odd ones or removed.
    fn payload(&mut self) -> String {
        let mut body: Value =
            serde_json::from_str(PAYLOADS[self.rng.below(PAYLOADS.len())]).unwrap_or_default();
        for _ in 0..self.rng.below(4) {
            let replacement = self.json(2);
            let remove = self.rng.chance(30);
            let mut at = &mut body;
            loop {
                let keys: Vec<String> = match at {
                    Value::Object(map) if !map.is_empty() => map.keys().cloned().collect(),
                    _ => break,
                };
                let key = self.rng.pick(&keys).clone();
                let descend = self.rng.chance(60)
                    && at[&key].as_object().is_some_and(|inner| !inner.is_empty());
                if descend {
                    at = &mut at[&key];
                    continue;
                }
                if let Value::Object(map) = at {
                    if remove {
                        map.remove(&key);
                    } else {
                        map.insert(key, replacement);
                    }
                }
                break;
            }
        }
        let text = body.to_string();
        if self.rng.chance(5) {
            self.mangle(text)
        } else {
            text
        }
    }

    /// A delivery: the path, headers and body.
    fn delivery(&mut self, sources: &[Source]) -> (String, Vec<(String, String)>, String) {
        let body = match self.rng.below(10) {
            0 => self.json(0).to_string(),
            _ => self.payload(),
        };
        let source = self.rng.pick(sources);
        let key = match self.rng.below(10) {
            0 => (*self.rng.pick(ODD_STRINGS)).to_owned(),
            1 => "x".repeat(self.rng.below(100)),
            _ => source.key.to_owned(),
        };
        let text = |rng: &mut Rng| (*rng.pick(STRINGS)).to_owned();
        let mut headers = Vec::new();
        let hmac = api::ingest::signature::sign(&source.secret, body.as_bytes());
        let proof = match self.rng.below(5) {
            0 => None,
            1 => Some(text(&mut self.rng)),
            _ => Some(hmac.clone()),
        };
        if let Some(proof) = proof {
            headers.extend(match source.kind {
                "GITHUB" => vec![("X-Hub-Signature-256".into(), format!("sha256={proof}"))],
                "GITLAB" => vec![("X-Gitlab-Token".into(), source.secret.clone())],
                "PAGERDUTY" => vec![("X-PagerDuty-Signature".into(), format!("v1=00, v1={proof}"))],
                _ if self.rng.chance(30) => {
                    let now = chrono::Utc::now().timestamp();
                    let id = text(&mut self.rng);
                    let signature = api::ingest::signature::sign_standard(
                        &source.secret,
                        &id,
                        now,
                        body.as_bytes(),
                    );
                    vec![
                        ("webhook-id".into(), id),
                        ("webhook-timestamp".into(), now.to_string()),
                        ("webhook-signature".into(), signature),
                    ]
                }
                _ if self.rng.chance(20) => {
                    vec![("Authorization".into(), format!("Bearer {}", source.secret))]
                }
                _ => vec![("X-Relm-Signature-256".into(), format!("sha256={proof}"))],
            });
        }
        let odd = [
            "X-GitHub-Event",
            "X-GitHub-Delivery",
            "X-Gitlab-Event-UUID",
            "Idempotency-Key",
            "ce-id",
            "ce-type",
            "ce-source",
            "ce-time",
            "webhook-timestamp",
        ];
        if source.kind == "GITHUB" || self.rng.chance(50) {
            headers.push(("X-GitHub-Event".into(), "deployment_status".into()));
            headers.push(("X-GitHub-Delivery".into(), format!("d{}", self.rng.next())));
        }
        for _ in 0..self.rng.below(3) {
            let value = text(&mut self.rng);
            headers.push(((*self.rng.pick(&odd)).into(), value));
        }
        (
            format!("/v1/ingest/{}", percent_encode(&key)),
            headers,
            body,
        )
    }
}

/// A path segment with every byte outside `[A-Za-z0-9-_.]` percent-encoded.
fn percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn sources(app: &TestApp) -> Vec<Source> {
    let mut sources = Vec::new();
    for (key, kind) in [
        ("fz-github", "GITHUB"),
        ("fz-gitlab", "GITLAB"),
        ("fz-pagerduty", "PAGERDUTY"),
        ("fz-cdevents", "CDEVENTS"),
        ("fz-generic", "GENERIC"),
    ] {
        let created = app
            .admin(
                "mutation($i: CreateIngestSourceInput!) { createIngestSource(input: $i) { secret } }",
                json!({"i": {"programKey": "MOB", "key": key, "kind": kind,
                             "environmentAliases": [{"external": "production", "environment": "prod-eu"}]}}),
            )
            .await;
        let secret = created["createIngestSource"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        sources.push(Source { key, kind, secret });
    }
    sources
}

async fn ids(app: &TestApp) -> Vec<String> {
    let data = app
        .admin(
            "{ releases(first: 100) { nodes { id deployments { id } incidents { id } program { id } } } freezeWindows { id } }",
            json!({}),
        )
        .await;
    let mut ids = Vec::new();
    fn collect(value: &Value, ids: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("id", Value::String(id)) => ids.push(id.clone()),
                        _ => collect(value, ids),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, ids)),
            _ => {}
        }
    }
    collect(&data, &mut ids);
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_survives_random_and_mangled_requests() {
    let seconds: u64 = std::env::var("RELM_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("RELM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()) << 20 | 0x5eed);
    let (app, _) = TestApp::with_fixture().await;
    let state = AppState::new(app.db.clone(), keys(), crate::support::cipher(), true).with_limits(
        api::guard::Limits {
            rate_limit: 0,
            request_timeout: Duration::from_secs(5),
            ..api::guard::Limits::default()
        },
    );
    let endpoint = Arc::new(router(state).map_to_response());
    let vocabulary = Vocabulary::of(&api::graphql::sdl());
    let tokens = [
        Some(token(Role::Admin, None)),
        Some(token(Role::Admin, None)),
        Some(token(Role::Viewer, Some(&["MOB"]))),
        Some(token(Role::ReleaseManager, Some(&["PAY"]))),
        Some(token(Role::ReleaseManager, None)),
        None,
    ];
    let mut generator = Generator {
        vocabulary: &vocabulary,
        rng: Rng(seed.max(1)),
        ids: ids(&app).await,
    };
    let sources = sources(&app).await;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut requests, mut deliveries) = (0u64, 0u64);
    while Instant::now() < deadline {
        let bearer = generator.rng.pick(&tokens).clone();
        let get = generator.rng.chance(10);
        let ingest = !get && generator.rng.chance(25);
        let (description, builder, body) = if ingest {
            let (path, headers, body) = generator.delivery(&sources);
            let mut builder = poem::Request::builder()
                .method(poem::http::Method::POST)
                .uri_str(&path)
                .content_type("application/json");
            for (name, value) in &headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            deliveries += 1;
            (format!("POST {path} {headers:?} {body}"), builder, body)
        } else if get {
            let document = generator.document();
            let mut query =
                serde_urlencoded::to_string([("query", document.as_str())]).unwrap_or_default();
            // Real clients and proxies cap URIs too.
            query.truncate(16 * 1024);
            let builder = poem::Request::builder().uri_str(format!("/graphql?{query}"));
            (format!("GET {document}"), builder, String::new())
        } else {
            let body = generator.body();
            let builder = poem::Request::builder()
                .method(poem::http::Method::POST)
                .uri_str("/graphql")
                .content_type("application/json");
            (format!("POST {body}"), builder, body)
        };
        let builder = match &bearer {
            Some(t) if !ingest => builder.header("authorization", format!("Bearer {t}")),
            _ => builder,
        };
        let request = builder.body(body);
        let shown: String = description.chars().take(2_000).collect();
        // Each request runs in a task of its own, so that one that never ends (or spins)
        // fails the run instead of hanging it.
        let endpoint = endpoint.clone();
        let running = tokio::spawn(async move { endpoint.get_response(request).await });
        let response = match tokio::time::timeout(Duration::from_secs(10), running).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => panic!("seed {seed}, request {requests}: {err} for {shown}"),
            Err(_) => panic!("seed {seed}, request {requests}: no answer in 10 s for {shown}"),
        };
        let status = response.status();
        let text = response.into_body().into_string().await.unwrap_or_default();
        assert!(
            !status.is_server_error(),
            "seed {seed}, request {requests}: {status} for {shown}\n{text}"
        );
        assert!(
            !text.contains("\"INTERNAL\""),
            "seed {seed}, request {requests}: INTERNAL for {shown}\n{text}"
        );
        requests += 1;
    }
    println!("fuzz: {requests} requests ({deliveries} deliveries) in {seconds} s, seed {seed}");
    assert!(requests > 0);
}
