//! Authentication: every way a token can be wrong, and the public-key algorithms.

use api::auth::{Claims, Credentials, JwtKeys, KeySource, ProgramIds, Role, Tokens};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{SECRET, TestApp, claims, error_code, hs256};

fn sign(claims: &impl serde::Serialize, algorithm: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// A token's claims as JSON, to bend into shapes the Claims type cannot express.
fn raw_claims() -> Value {
    serde_json::to_value(claims()).unwrap()
}

async fn code_for(app: &TestApp, token: &str) -> Option<String> {
    let response = app.run(Some(token), "{ me { subject } }", json!({})).await;
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn rejects_every_kind_of_bad_token() {
    let app = TestApp::empty().await;
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        format!("{header}.{payload}.")
    };
    let other_key = sign(
        &claims(),
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-that-is-long-enough-!!!"),
    );
    let other_algorithm = sign(
        &claims(),
        Algorithm::HS384,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    );
    let rsa = sign(
        &claims(),
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(include_bytes!("../keys/rsa_private.pem")).unwrap(),
    );
    let expired = hs256(&Claims {
        exp: now() - 120,
        ..claims()
    });
    let wrong_issuer = hs256(&Claims {
        iss: "someone-else".into(),
        ..claims()
    });
    let wrong_audience = hs256(&Claims {
        aud: "another-service".into(),
        ..claims()
    });
    let not_yet = hs256(&Claims {
        nbf: Some(now() + 600),
        ..claims()
    });
    let unknown_role = hs256(&Claims {
        role: "superuser".into(),
        ..claims()
    });
    let mut missing_exp = raw_claims();
    missing_exp.as_object_mut().unwrap().remove("exp");
    let mut string_exp = raw_claims();
    string_exp["exp"] = json!((now() + 3600).to_string());
    let mut string_nbf = raw_claims();
    string_nbf["nbf"] = json!(now().to_string());
    let mut numeric_sub = raw_claims();
    numeric_sub["sub"] = json!(42);
    let mut string_programs = raw_claims();
    string_programs["programs"] = json!("PAY");
    let mut null_programs = raw_claims();
    null_programs["programs"] = Value::Null;
    let mut numeric_programs = raw_claims();
    numeric_programs["programs"] = json!([1, 2]);
    let mut empty_sub = raw_claims();
    empty_sub["sub"] = json!("");
    let mut blank_sub = raw_claims();
    blank_sub["sub"] = json!("   ");
    let mut nul_sub = raw_claims();
    nul_sub["sub"] = json!("a\u{0}b");
    let mut nul_program = raw_claims();
    nul_program["programs"] = json!(["PAY", "M\u{0}B"]);
    let mut too_many_programs = raw_claims();
    too_many_programs["programs"] = json!((0..1_001).map(|i| format!("P{i}")).collect::<Vec<_>>());
    let mut other_audiences = raw_claims();
    other_audiences["aud"] = json!(["billing", "reports"]);

    let cases = [
        ("alg none", unsigned),
        ("other key", other_key),
        ("other algorithm", other_algorithm),
        ("RS256 when HS256 is configured", rsa),
        ("expired", expired),
        ("wrong iss", wrong_issuer),
        ("wrong aud", wrong_audience),
        ("future nbf", not_yet),
        ("unknown role", unknown_role),
        ("missing exp", hs256(&missing_exp)),
        ("string exp", hs256(&string_exp)),
        ("string nbf", hs256(&string_nbf)),
        ("numeric sub", hs256(&numeric_sub)),
        ("programs not a list", hs256(&string_programs)),
        ("programs null", hs256(&null_programs)),
        ("programs of numbers", hs256(&numeric_programs)),
        ("empty sub", hs256(&empty_sub)),
        ("blank sub", hs256(&blank_sub)),
        ("aud list without relm", hs256(&other_audiences)),
        ("NUL in sub", hs256(&nul_sub)),
        ("NUL in a program key", hs256(&nul_program)),
        ("too many programs", hs256(&too_many_programs)),
        ("garbage", "not.a.token".to_owned()),
    ];
    // The reason a person who pasted the token can act on.
    let reasons = [
        ("expired", "the token has expired"),
        ("other key", "signature does not match"),
        ("other algorithm", "another algorithm"),
        ("wrong iss", "another issuer"),
        ("wrong aud", "another audience"),
        ("future nbf", "not valid yet"),
        ("garbage", "not a JWT"),
    ];
    for (name, token) in cases {
        let response = app.run(Some(&token), "{ me { subject } }", json!({})).await;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "{name}");
        if let Some((_, reason)) = reasons.iter().find(|(case, _)| *case == name) {
            let message = response["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(reason), "{name}: {message}");
        }
    }
}

#[tokio::test]
async fn an_audience_list_naming_relm_is_accepted() {
    let app = TestApp::empty().await;
    let mut claims = raw_claims();
    claims["aud"] = json!(["billing", "relm"]);
    let response = app
        .run(Some(&hs256(&claims)), "{ me { subject } }", json!({}))
        .await;
    assert_eq!(response["data"]["me"]["subject"], "tester", "{response}");
}

#[tokio::test]
async fn a_null_programs_claim_never_widens_the_scope() {
    let (app, _) = TestApp::with_fixture().await;
    let mut claims = raw_claims();
    claims["role"] = json!("release_manager");
    claims["programs"] = Value::Null;
    let response = app
        .run(
            Some(&hs256(&claims)),
            "{ programs { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert!(response["data"].is_null(), "{response}");
}

#[tokio::test]
async fn no_token_or_a_malformed_header_is_unauthenticated() {
    let app = TestApp::empty().await;
    let response = app
        .run(None, "{ programs { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    let caller = Credentials::read(app.state.tokens(), Some("Basic dXNlcjpwdw=="))
        .await
        .caller(&app.db, &ProgramIds::default())
        .await
        .unwrap();
    assert!(caller.viewer().is_err());
}

#[tokio::test]
async fn tolerates_thirty_seconds_of_clock_skew() {
    let app = TestApp::empty().await;
    let just_expired = hs256(&Claims {
        exp: now() - 10,
        ..claims()
    });
    let almost_valid = hs256(&Claims {
        nbf: Some(now() + 10),
        ..claims()
    });
    assert_eq!(code_for(&app, &just_expired).await, None);
    assert_eq!(code_for(&app, &almost_valid).await, None);
}

#[tokio::test]
async fn verifies_public_keys_of_each_algorithm() {
    let app = TestApp::empty().await;
    let pairs: [(Algorithm, &[u8], &[u8]); 3] = [
        (
            Algorithm::RS256,
            include_bytes!("../keys/rsa_public.pem"),
            include_bytes!("../keys/rsa_private.pem"),
        ),
        (
            Algorithm::ES256,
            include_bytes!("../keys/ec_public.pem"),
            include_bytes!("../keys/ec_private.pem"),
        ),
        (
            Algorithm::EdDSA,
            include_bytes!("../keys/ed_public.pem"),
            include_bytes!("../keys/ed_private.pem"),
        ),
    ];
    for (algorithm, public, private) in pairs {
        let keys = JwtKeys::new(&KeySource::PublicKeyPem(public.to_vec()), "relm", "relm").unwrap();
        let encoding = match algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(private),
            Algorithm::ES256 => EncodingKey::from_ec_pem(private),
            _ => EncodingKey::from_ed_pem(private),
        }
        .unwrap();
        let good = sign(&claims(), algorithm, &encoding);
        let caller = Credentials::read(own(&keys), Some(&format!("Bearer {good}")))
            .await
            .caller(&app.db, &ProgramIds::default())
            .await
            .unwrap();
        assert_eq!(
            caller.viewer().map(|v| v.role).ok(),
            Some(Role::Admin),
            "{algorithm:?}"
        );
        // A shared-secret token is refused by a public-key configuration.
        let hs = hs256(&claims());
        let caller = Credentials::read(own(&keys), Some(&format!("Bearer {hs}")))
            .await
            .caller(&app.db, &ProgramIds::default())
            .await
            .unwrap();
        assert!(caller.viewer().is_err(), "{algorithm:?} accepted HS256");
        assert!(
            keys.sign("x", Role::Admin, None, 60).is_err(),
            "a public key cannot sign"
        );
    }
}

fn own(keys: &JwtKeys) -> Tokens<'_> {
    Tokens {
        own: keys,
        provider: None,
    }
}

#[tokio::test]
async fn short_secrets_are_refused() {
    let short = KeySource::Secret(api::auth::Secret(b"short".to_vec()));
    assert!(JwtKeys::new(&short, "relm", "relm").is_err());
}

#[tokio::test]
async fn every_role_may_read() {
    let (app, _) = TestApp::with_fixture().await;
    for role in [
        Role::Viewer,
        Role::Analyst,
        Role::ReleaseManager,
        Role::Admin,
    ] {
        let token = app.token(role, None);
        let response = app
            .run(Some(&token), "{ releases { totalCount } }", json!({}))
            .await;
        assert_eq!(response["data"]["releases"]["totalCount"], 5, "{role:?}");
    }
}
