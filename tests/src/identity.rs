//! Tokens of an organisation's identity provider (interface.md, *Front-end applications*),
//! against a local OpenID Connect provider: discovery, keys by `kid` (RS256 and ES256),
//! rotation without restart, the refetch limit, a provider that is down, issuer routing and
//! the claims map.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::auth::key_set::{KeySet, Location};
use api::auth::{ClaimsMap, Provider, Role};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{SECRET, TestApp, hs256};

/// How long relm waits before fetching the set again for an unknown `kid` (30 s in
/// production), so that a test can rotate keys.
const REFETCH: Duration = Duration::from_secs(2);

/// The contract's example map, and one rule for analysts.
const MAP: &str = r#"{"claim": "groups",
 "rules": [
   {"value": "release-admins", "role": "admin"},
   {"value": "rm-payments",    "role": "release_manager", "programs": ["PAY"]},
   {"value": "rm-mobile",      "role": "release_manager", "programs": ["MOB"]},
   {"value": "analysts",       "role": "analyst",         "programs": ["PAY"]},
   {"value": "engineering",    "role": "viewer"}]}"#;

/// One of the provider's signing keys.
struct SigningKey {
    kid: &'static str,
    algorithm: Algorithm,
    encoding: EncodingKey,
}

impl SigningKey {
    fn rsa(kid: &'static str, pem: &[u8]) -> Self {
        Self {
            kid,
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem).unwrap(),
        }
    }

    fn ec(kid: &'static str, pem: &[u8]) -> Self {
        Self {
            kid,
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_pem(pem).unwrap(),
        }
    }

    /// The public key as the provider publishes it.
    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.algorithm).unwrap();
        jwk.common.key_id = Some(self.kid.to_owned());
        serde_json::to_value(jwk).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    fn sign_without_kid(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.encoding).unwrap()
    }
}

fn rsa() -> SigningKey {
    SigningKey::rsa("rsa-1", include_bytes!("../keys/rsa_private.pem"))
}

fn rsa_rotated() -> SigningKey {
    SigningKey::rsa("rsa-2", include_bytes!("../keys/rsa_rotated_private.pem"))
}

fn ec() -> SigningKey {
    SigningKey::ec("ec-1", include_bytes!("../keys/ec_private.pem"))
}

/// A local OpenID Connect provider: its discovery document and its key set, which the test
/// changes as it goes, or no answer at all.
struct LocalProvider {
    issuer: String,
    /// The published keys; `None` while the provider hangs.
    keys: Arc<Mutex<Option<Vec<Value>>>>,
    /// How often the key set was fetched.
    fetches: Arc<AtomicUsize>,
}

impl LocalProvider {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let issuer = format!("{base}/realms/acme");
        let keys = Arc::new(Mutex::new(Some(Vec::new())));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, count, iss) = (keys.clone(), fetches.clone(), issuer.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, iss.clone(), served.clone(), count.clone()));
            }
        });
        Self {
            issuer,
            keys,
            fetches,
        }
    }

    fn publish(&self, keys: &[&SigningKey]) {
        *self.keys.lock().unwrap() = Some(keys.iter().map(|key| key.jwk()).collect());
    }

    fn publish_values(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = Some(keys);
    }

    /// From now on, every request waits without an answer.
    fn hang(&self) {
        *self.keys.lock().unwrap() = None;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Claims of a token of this provider for `sub`, with `extra` claims.
    fn claims(&self, sub: &str, extra: Value) -> Value {
        claims_of(&self.issuer, sub, extra)
    }
}

fn claims_of(issuer: &str, sub: &str, extra: Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims =
        json!({"iss": issuer, "aud": "relm", "sub": sub, "iat": now, "exp": now + 600});
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    claims
}

async fn answer(
    mut stream: tokio::net::TcpStream,
    issuer: String,
    keys: Arc<Mutex<Option<Vec<Value>>>>,
    fetches: Arc<AtomicUsize>,
) {
    let mut request = Vec::new();
    let mut buffer = [0; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split(' ').nth(1).unwrap_or_default().to_owned();
    let published = keys.lock().unwrap().clone();
    let Some(published) = published else {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    };
    let body = if path == "/realms/acme/.well-known/openid-configuration" {
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/certs")})
    } else if path == "/realms/acme/certs" {
        fetches.fetch_add(1, Ordering::SeqCst);
        json!({"keys": published})
    } else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    };
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
}

/// relm accepting the local provider's tokens, found by discovery.
fn relm(app: &TestApp, idp: &LocalProvider, map: Option<&str>) -> TestClient<impl poem::Endpoint> {
    let location = Location::parse(&idp.issuer, true).unwrap();
    with_provider(app, &idp.issuer, location, map)
}

fn with_provider(
    app: &TestApp,
    issuer: &str,
    location: Location,
    map: Option<&str>,
) -> TestClient<impl poem::Endpoint> {
    let keys = KeySet::new(location)
        .unwrap()
        .with_refetch_interval(REFETCH);
    let map = map.map(|text| ClaimsMap::parse(text).unwrap());
    let provider = Provider::new(issuer, "relm", "relm", keys, map);
    TestClient::new(api::http::app(
        app.another_process().with_provider(provider),
    ))
}

/// `me` for a token: the status and the body.
async fn me(relm: &TestClient<impl poem::Endpoint>, token: &str) -> (StatusCode, Value) {
    let response = relm
        .post("/graphql")
        .header("authorization", format!("Bearer {token}"))
        .content_type("application/json")
        .body(json!({"query": "{ me { subject role programKeys } }"}).to_string())
        .send()
        .await;
    let status = response.0.status();
    (status, response.0.into_body().into_json().await.unwrap())
}

/// Who `me` says the caller is, or the error code and message.
async fn who(relm: &TestClient<impl poem::Endpoint>, token: &str) -> Value {
    let (_, body) = me(relm, token).await;
    match body["errors"].get(0) {
        Some(error) => json!([error["extensions"]["code"], error["message"]]),
        None => body["data"]["me"].clone(),
    }
}

fn caller(subject: &str, role: &str, programs: Value) -> Value {
    json!({"subject": subject, "role": role, "programKeys": programs})
}

fn refused(why: &str) -> Value {
    json!(["UNAUTHENTICATED", format!("authentication required: {why}")])
}

const UNKNOWN_KID: &str = "the token's key (kid) is not in the identity provider's key set";

async fn readiness(relm: &TestClient<impl poem::Endpoint>) -> (StatusCode, String) {
    let response = relm.get("/readyz").send().await;
    let status = response.0.status();
    (status, response.0.into_body().into_string().await.unwrap())
}

#[tokio::test]
async fn keys_are_chosen_by_kid_and_rotate_without_a_restart() {
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let (rsa, ec, rotated) = (rsa(), ec(), rsa_rotated());
    idp.publish(&[&rsa, &ec]);
    let relm = relm(&app, &idp, None);
    let alice = rsa.sign(&idp.claims("alice", json!({"role": "analyst"})));
    let bob = ec.sign(&idp.claims("bob", json!({"role": "viewer", "programs": ["PAY"]})));
    // Subjects of another issuer than relm's own are known within it.
    let (ana, bo) = (
        format!("{}#alice", idp.issuer),
        format!("{}#bob", idp.issuer),
    );
    assert_eq!(
        who(&relm, &alice).await,
        caller(&ana, "ANALYST", Value::Null)
    );
    assert_eq!(
        who(&relm, &bob).await,
        caller(&bo, "VIEWER", json!(["PAY"]))
    );
    assert_eq!(idp.fetches(), 1, "the second key came from the cached set");

    // The provider replaces its RSA key. Within the refetch interval an unknown kid fetches
    // nothing, however often it is sent.
    idp.publish(&[&rotated, &ec]);
    let carol = rotated.sign(&idp.claims("carol", json!({"role": "admin"})));
    for _ in 0..5 {
        assert_eq!(who(&relm, &carol).await, refused(UNKNOWN_KID));
    }
    assert_eq!(idp.fetches(), 1);

    tokio::time::sleep(REFETCH).await;
    let carol_is = caller(&format!("{}#carol", idp.issuer), "ADMIN", Value::Null);
    assert_eq!(who(&relm, &carol).await, carol_is);
    assert_eq!(idp.fetches(), 2);
    // The key missing from the last fetch stops verifying, for a token verified before too;
    // the key still published goes on.
    assert_eq!(who(&relm, &alice).await, refused(UNKNOWN_KID));
    assert_eq!(
        who(&relm, &bob).await,
        caller(&bo, "VIEWER", json!(["PAY"]))
    );
}

#[tokio::test]
async fn groups_give_the_highest_role_and_its_programs_and_no_group_gives_nothing() {
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let rsa = rsa();
    idp.publish(&[&rsa]);
    let relm = relm(&app, &idp, Some(MAP));
    let subject = format!("{}#dana", idp.issuer);
    for (groups, expected) in [
        (
            json!(["release-admins", "engineering"]),
            caller(&subject, "ADMIN", Value::Null),
        ),
        (
            json!(["engineering", "rm-mobile", "rm-payments"]),
            caller(&subject, "RELEASE_MANAGER", json!(["MOB", "PAY"])),
        ),
        (
            json!(["analysts", "engineering"]),
            caller(&subject, "ANALYST", json!(["PAY"])),
        ),
        (
            json!(["engineering"]),
            caller(&subject, "VIEWER", Value::Null),
        ),
    ] {
        // With a map, the token's own role and programs count for nothing.
        let token = rsa.sign(&idp.claims(
            "dana",
            json!({"groups": groups, "role": "admin", "programs": ["X"]}),
        ));
        assert_eq!(who(&relm, &token).await, expected, "{groups}");
    }

    for groups in [json!(["sales"]), json!([]), json!("release-admins")] {
        let token = rsa.sign(&idp.claims("erin", json!({"groups": groups})));
        let (status, body) = me(&relm, &token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{groups}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
        assert_eq!(body["errors"][0]["message"], "no role for this token");
        assert!(body.get("data").is_none(), "{body}");
    }

    // relm's own tokens keep their claims.
    let own = app.token(Role::Analyst, Some(&["PAY"]));
    assert_eq!(
        who(&relm, &own).await,
        caller("tester", "ANALYST", json!(["PAY"]))
    );
}

#[tokio::test]
async fn a_provider_that_is_down_holds_no_request_and_cached_keys_stay_in_use() {
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let rsa = rsa();
    idp.hang();
    let relm = relm(&app, &idp, None);
    let token = |sub: &str| rsa.sign(&idp.claims(sub, json!({"role": "viewer"})));

    let asked = Instant::now();
    assert_eq!(who(&relm, &token("alice")).await, refused(UNKNOWN_KID));
    // The fetch gives up after 2 s; the rest is slack for a busy machine.
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    let (status, body) = readiness(&relm).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no signing keys"), "{body}");

    idp.publish(&[&rsa]);
    tokio::time::sleep(REFETCH).await;
    let alice = caller(&format!("{}#alice", idp.issuer), "VIEWER", Value::Null);
    assert_eq!(who(&relm, &token("alice")).await, alice);
    assert_eq!(readiness(&relm).await.0, StatusCode::OK);

    // Down again: a token never seen before verifies with the cached key, at once.
    idp.hang();
    let fetches = idp.fetches();
    let asked = Instant::now();
    let bob = caller(&format!("{}#bob", idp.issuer), "VIEWER", Value::Null);
    assert_eq!(who(&relm, &token("bob")).await, bob);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(idp.fetches(), fetches);
    assert_eq!(readiness(&relm).await.0, StatusCode::OK);
}

#[tokio::test]
async fn each_token_is_verified_by_the_issuer_it_names() {
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let rsa = rsa();
    // A shared secret in the key set verifies nothing.
    let mut secret = Jwk::from_encoding_key(
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    secret.common.key_id = Some("oct-1".into());
    idp.publish_values(vec![rsa.jwk(), serde_json::to_value(secret).unwrap()]);
    let relm = relm(&app, &idp, None);

    let stranger = rsa.sign(&claims_of(
        "https://elsewhere.example.com",
        "eve",
        json!({"role": "admin"}),
    ));
    assert_eq!(
        who(&relm, &stranger).await,
        refused("the token was issued for another issuer (iss)")
    );
    // relm's secret does not verify the provider's tokens, nor the provider's key relm's.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("oct-1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &idp.claims("eve", json!({"role": "admin"})),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        who(&relm, &forged).await,
        refused(
            "the token is signed with an algorithm relm does not accept from an identity provider (RS256, ES256 or EdDSA)"
        )
    );
    let posing = rsa.sign(&claims_of("relm", "eve", json!({"role": "admin"})));
    assert_eq!(
        who(&relm, &posing).await,
        refused("the token is signed with another algorithm than this server's")
    );
    // One signing key: a token without kid is its.
    let plain = rsa.sign_without_kid(&idp.claims("frank", json!({"role": "viewer"})));
    let frank = caller(&format!("{}#frank", idp.issuer), "VIEWER", Value::Null);
    assert_eq!(who(&relm, &plain).await, frank);
    let unsigned = hs256(&json!({"sub": "x"}));
    assert_eq!(
        who(&relm, &unsigned).await,
        refused("the token has no iss claim")
    );
}

#[tokio::test]
async fn where_both_issuers_are_relms_hs256_goes_to_the_secret_and_the_rest_to_the_key_set() {
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let (rsa, ec) = (rsa(), ec());
    idp.publish(&[&rsa, &ec]);
    // RELM_JWKS_URL without RELM_JWKS_ISSUER: the key set's tokens carry relm's own issuer.
    let location = Location::parse(&format!("{}/certs", idp.issuer), false).unwrap();
    let relm = with_provider(&app, "relm", location, None);
    let own = app.token(Role::Admin, None);
    assert_eq!(
        who(&relm, &own).await,
        caller("tester", "ADMIN", Value::Null)
    );
    let provided = ec.sign(&claims_of("relm", "gus", json!({"role": "analyst"})));
    assert_eq!(
        who(&relm, &provided).await,
        caller("gus", "ANALYST", Value::Null)
    );
    // Two keys: a token without kid names none of them.
    let plain = rsa.sign_without_kid(&claims_of("relm", "gus", json!({"role": "analyst"})));
    assert_eq!(
        who(&relm, &plain).await,
        refused("the token names no key (kid) and the identity provider has several")
    );
}

#[tokio::test]
async fn a_websocket_of_a_provider_token_ends_once_its_key_is_withdrawn() {
    use crate::subscriptions::{close_code, connect, next, send};
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let (rsa, rotated) = (rsa(), rsa_rotated());
    idp.publish(&[&rsa]);
    let location = Location::parse(&idp.issuer, true).unwrap();
    let keys = KeySet::new(location)
        .unwrap()
        .with_refetch_interval(REFETCH);
    let map = ClaimsMap::parse(MAP).unwrap();
    let state = app.another_process().with_provider(Provider::new(
        &idp.issuer,
        "relm",
        "relm",
        keys,
        Some(map),
    ));
    let addr = crate::support::serve(state.clone()).await;
    let viewer = rsa.sign(&idp.claims("ana", json!({"groups": ["engineering"]})));
    let stranger = rsa.sign(&idp.claims("sam", json!({"groups": ["sales"]})));

    let mut refused = connect(addr, Some(stranger)).await;
    assert_eq!(
        close_code(&mut refused).await,
        Some(4403),
        "no role, no connection"
    );

    let mut socket = connect(addr, Some(viewer)).await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
    let subscribe = |id: &str| {
        json!({"id": id, "type": "subscribe",
               "payload": {"query": "subscription { releaseEvents { kind } }"}})
    };
    send(&mut socket, subscribe("1")).await;
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "pong");

    // The provider withdraws the key; relm learns of it at its next fetch, here the one a
    // token of the new key causes.
    idp.publish(&[&rotated]);
    tokio::time::sleep(REFETCH).await;
    let relm = TestClient::new(api::http::app(state));
    let newcomer = rotated.sign(&idp.claims("bo", json!({"groups": ["engineering"]})));
    assert_eq!(who(&relm, &newcomer).await["role"], "VIEWER");
    send(&mut socket, subscribe("2")).await;
    assert_eq!(close_code(&mut socket).await, Some(4403));
}

#[tokio::test]
async fn expired_wrong_audience_and_mismatched_algorithm_tokens_are_refused() {
    let app = TestApp::empty().await;
    let idp = LocalProvider::start().await;
    let (rsa, ec) = (rsa(), ec());
    idp.publish(&[&rsa, &ec]);
    let relm = relm(&app, &idp, None);
    let now = jsonwebtoken::get_current_timestamp();
    let expired = rsa.sign(&idp.claims("a", json!({"role": "viewer", "exp": now - 120})));
    assert_eq!(who(&relm, &expired).await, refused("the token has expired"));
    let elsewhere = rsa.sign(&idp.claims("a", json!({"role": "viewer", "aud": "another-api"})));
    assert_eq!(
        who(&relm, &elsewhere).await,
        refused("the token is meant for another audience (aud)")
    );
    let early = rsa.sign(&idp.claims("a", json!({"role": "viewer", "nbf": now + 600})));
    assert_eq!(
        who(&relm, &early).await,
        refused("the token is not valid yet (nbf)")
    );
    // An RS256 token naming the EC key's kid finds no key of its algorithm.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("ec-1".into());
    let crossed = jsonwebtoken::encode(
        &header,
        &idp.claims("a", json!({"role": "viewer"})),
        &rsa.encoding,
    )
    .unwrap();
    assert_eq!(who(&relm, &crossed).await, refused(UNKNOWN_KID));
}
