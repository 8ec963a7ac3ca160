//! The read path against its framework's ceiling: requests per second of small GraphQL
//! reads through relm's whole HTTP path, beside two reference servers in the same process
//! and accept loop: a bare poem handler answering a fixed JSON body, and an async-graphql
//! schema answering `{ hello }`. The ratios show what relm adds to the framework.

use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, EndpointExt, IntoResponse, Response, Route, handler};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;

use super::http::{Load, listen, load, post, serve_relm};
use super::summary;
use crate::output::outln;
use api::app::trusted::{self, Only, Trusted};
use api::auth::key_set::{KeySet, Location};
use api::auth::{JwtKeys, Provider, Role};
use api::progress::Progress;

/// PKCS#8 v1 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// An identity provider for the run: an Ed25519 key made now, published as a key set on a
/// local port, and an ADMIN token it signed. relm fetches the set on the token's first use.
async fn identity_provider(keys: &JwtKeys) -> anyhow::Result<(Provider, String)> {
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    let mut seed = [0; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    der.extend_from_slice(&seed);
    let signing = EncodingKey::from_ed_der(&der);
    let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::EdDSA)?;
    jwk.common.key_id = Some("bench".into());
    let set = json!({ "keys": [jwk] }).to_string();
    let addr = listen(Route::new().at(
        "/certs",
        poem::get(poem::endpoint::make_sync(move |_| set.clone())),
    ))
    .await?;
    let issuer = "relm-bench-provider";
    let location =
        Location::parse(&format!("http://{addr}/certs"), false).map_err(|e| anyhow::anyhow!(e))?;
    let key_set = KeySet::new(location)?;
    let provider = Provider::new(issuer, keys.audience(), keys.issuer(), key_set, None);
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"iss": issuer, "aud": keys.audience(), "sub": "relm-bench",
                        "role": "admin", "iat": now, "exp": now + 3600});
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("bench".into());
    Ok((provider, jsonwebtoken::encode(&header, &claims, &signing)?))
}

/// The reference schema: one field.
struct Hello;

#[Object]
impl Hello {
    async fn hello(&self) -> &'static str {
        "world"
    }
}

type HelloSchema = Schema<Hello, EmptyMutation, EmptySubscription>;

/// async-graphql over poem, the shortest way: parse the body, execute, serialise.
#[handler]
async fn graphql_hello(body: Body, Data(schema): Data<&HelloSchema>) -> Response {
    let Ok(bytes) = body.into_bytes_limit(1 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(request) = serde_json::from_slice::<async_graphql::Request>(&bytes) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let response = schema.execute(request).await;
    match serde_json::to_vec(&response) {
        Ok(body) => Response::builder()
            .content_type("application/json")
            .body(body),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The bare framework: a fixed answer.
#[handler]
fn bare() -> Response {
    Response::builder()
        .content_type("application/json")
        .body(r#"{"data":{"hello":"world"}}"#)
}

/// One row of the table: what was asked of which server.
struct Target {
    name: String,
    addr: SocketAddr,
    body: String,
    token: Option<String>,
}

/// The newest release of the first program, to look up by key and version.
async fn some_release(db: &DatabaseConnection) -> anyhow::Result<(String, String)> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT p.key, r.version FROM releases r JOIN programs p ON p.id = r.program_id \
             ORDER BY r.id DESC LIMIT 1",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no release to read: seed the database first"))?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

/// The read rows of the table: the reference servers, then relm's reads, each loaded by
/// `connections` connections for `seconds`.
pub async fn read(
    db: &DatabaseConnection,
    keys: JwtKeys,
    cipher: api::secrets::Cipher,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    // `{ me }` is also read by its id in a manifest of trusted documents.
    let me = "{ me { subject role } }";
    let me_id = trusted::id_of(me);
    let manifest = json!({ format!("sha256:{me_id}"): me }).to_string();
    let trusted = Trusted::load(&manifest, Only::Off).map_err(|e| anyhow::anyhow!(e))?;
    let (provider, provider_token) = identity_provider(&keys).await?;
    let (state, relm) = serve_relm(db, keys.clone(), cipher, trusted, Some(provider)).await?;
    let schema = Schema::new(Hello, EmptyMutation, EmptySubscription);
    let hello = listen(
        Route::new()
            .at("/graphql", poem::post(graphql_hello))
            .data(schema),
    )
    .await?;
    let poem = listen(Route::new().at("/graphql", poem::post(bare))).await?;

    let (program, version) = some_release(db).await?;
    let admin = keys.sign("relm-bench", Role::Admin, None, 3600)?;
    let scoped = keys.sign(
        "relm-bench",
        Role::Viewer,
        Some(vec![program.clone()]),
        3600,
    )?;
    let query = |q: String| json!({ "query": q }).to_string();
    let targets = [
        Target {
            name: "bare poem handler (reference)".into(),
            addr: poem,
            body: query("{ hello }".into()),
            token: None,
        },
        Target {
            name: "async-graphql + poem { hello } (reference)".into(),
            addr: hello,
            body: query("{ hello }".into()),
            token: None,
        },
        Target {
            name: "relm { me { subject role } }".into(),
            addr: relm,
            body: query(me.into()),
            token: Some(admin.clone()),
        },
        Target {
            name: "relm { me { subject role } }, a token of a JWKS key".into(),
            addr: relm,
            body: query(me.into()),
            token: Some(provider_token),
        },
        Target {
            name: "relm { me { subject role } } by trusted document id".into(),
            addr: relm,
            body: json!({ "documentId": me_id }).to_string(),
            token: Some(admin.clone()),
        },
        Target {
            name: format!("relm release(programKey, version), a token of {program}"),
            addr: relm,
            body: query(format!(
                "{{ release(programKey: {}, version: {}) {{ id version status }} }}",
                json!(program),
                json!(version)
            )),
            token: Some(scoped),
        },
        Target {
            name: "relm a page of 20 releases with program, readiness, deployments".into(),
            addr: relm,
            body: query(format!(
                "{{ releases(first: 20, filter: {{ programKeys: [{}] }}) {{ nodes {{ id version status \
                 program {{ key name }} readiness {{ ready blockers }} \
                 deployments {{ status environment {{ name tier }} }} }} }} }}",
                json!(program)
            )),
            token: Some(admin),
        },
    ];
    outln!(
        "read path: {connections} keep-alive connections, {seconds} s each (after 1 s of warm-up), \
         load from a runtime of two threads in this process"
    );
    let mut reference = None;
    for target in targets {
        let bearer = target.token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("Authorization", b)])
            .unwrap_or_default();
        let request = post("/graphql", &headers, &target.body);
        let progress = Progress::of(None, "answers");
        progress.say(target.name.clone());
        let wait = Duration::from_secs(seconds);
        let result = load(target.addr, request, connections, wait, &progress).await;
        progress.finish();
        let result = result?;
        let per_second = result.per_second();
        let ratio = *reference.get_or_insert(per_second);
        let Load {
            latencies,
            failed,
            failures,
            ..
        } = result;
        outln!(
            "{:<70} {:>9.0} req/s  {:>5.2}x bare poem  latency {}",
            target.name,
            per_second,
            per_second / ratio,
            summary(latencies)
        );
        anyhow::ensure!(failed == 0, "{failed} requests failed: {failures:?}");
    }
    super::feed::feed(&state, relm, 30).await
}
