//! An identity provider's signing keys (a JWK set, RFC 7517), chosen by `kid`, fetched from
//! the provider and kept fresh so that it can rotate keys without relm restarting
//! (interface.md, *Front-end applications*).
//!
//! The keys of the last successful fetch are the only ones that verify. A fetch that fails
//! leaves them in use. No request waits on the provider longer than [`FETCH_TIMEOUT`], and a
//! token naming a `kid` not in the set fetches it again at most once per
//! [`REFETCH_INTERVAL`], so a flood of made-up `kid`s costs the provider nothing.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Url;
use serde::Deserialize;

/// The longest a fetch (discovery and key set together) may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// A token naming an unknown `kid` fetches the set again at most this often.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// The set is fetched again at least this often.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// The largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// The most keys kept from one set.
const MAX_KEYS: usize = 100;

/// Where the key set is found.
#[derive(Debug, Clone)]
pub enum Location {
    /// An OpenID Connect issuer, exactly as its tokens' `iss` names it:
    /// `{issuer}/.well-known/openid-configuration` names the set.
    Issuer(String),
    /// The key set's own address.
    KeySet(Url),
}

impl Location {
    /// `RELM_OIDC_ISSUER` or `RELM_JWKS_URL`, checked: `https`, or `http` on a loopback
    /// address.
    pub fn parse(text: &str, of_issuer: bool) -> Result<Self, String> {
        let text = text.trim();
        let url = Url::parse(text).map_err(|e| format!("'{text}' is not a URL: {e}"))?;
        fetchable(&url)?;
        Ok(if of_issuer {
            Self::Issuer(text.to_owned())
        } else {
            Self::KeySet(url)
        })
    }
}

/// Refuses addresses a key set may not be fetched from.
fn fetchable(url: &Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{url}: keys are only fetched over https (or http on a loopback address)"
        )),
    }
}

/// A key that verifies tokens of one algorithm.
#[derive(Clone)]
pub struct Key {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

/// A usable key as the provider published it.
struct Published {
    jwk: Jwk,
    key: Key,
}

impl Published {
    fn kid(&self) -> Option<&str> {
        self.jwk.common.key_id.as_deref()
    }
}

/// The usable keys of one fetch.
#[derive(Default)]
struct Keys(Vec<Published>);

/// Why no key was found for a token.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// The set holds no key of that `kid` (or no key at all): worth fetching again.
    Unknown,
    /// No `kid`, and the set holds several keys.
    Ambiguous,
}

impl Keys {
    /// The key of `kid` that verifies `algorithm` (a provider may publish an RSA and an EC key
    /// under one `kid`).
    fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> Result<Key, Missing> {
        match kid {
            Some(kid) => self
                .0
                .iter()
                .find(|p| p.kid() == Some(kid) && p.key.algorithm == algorithm)
                .map(|published| published.key.clone())
                .ok_or(Missing::Unknown),
            None => match self.0.as_slice() {
                [] => Err(Missing::Unknown),
                [published] => Ok(published.key.clone()),
                _ => Err(Missing::Ambiguous),
            },
        }
    }
}

/// A provider's key set, cached.
pub struct KeySet {
    location: Location,
    client: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    /// Counts the fetches that changed the set: what was verified under an earlier set is
    /// verified again.
    generation: AtomicU64,
    /// Held while fetching; the time of the last attempt.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    /// [`REFETCH_INTERVAL`], shorter where a test rotates keys.
    refetch_interval: Duration,
}

impl KeySet {
    pub fn new(location: Location) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            // A redirect could lead away from https; a provider's set has a fixed address.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Self {
            location,
            client,
            keys: RwLock::default(),
            generation: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(None),
            refetch_interval: REFETCH_INTERVAL,
        })
    }

    /// The same set, fetched again for an unknown `kid` at most once per `interval`.
    pub fn with_refetch_interval(self, interval: Duration) -> Self {
        Self {
            refetch_interval: interval,
            ..self
        }
    }

    /// The key for a token's `kid`; an unknown `kid` fetches the set again unless it was
    /// fetched within the refetch interval ([`REFETCH_INTERVAL`]).
    pub async fn key(&self, kid: Option<&str>, algorithm: Algorithm) -> Result<Key, Missing> {
        match self.cached(kid, algorithm) {
            Err(Missing::Unknown) => {}
            found => return found,
        }
        {
            let mut last = self.fetching.lock().await;
            if last.is_none_or(|at| at.elapsed() >= self.refetch_interval) {
                *last = Some(Instant::now());
                self.fetch_now().await;
            }
        }
        self.cached(kid, algorithm)
    }

    fn cached(&self, kid: Option<&str>, algorithm: Algorithm) -> Result<Key, Missing> {
        match self.keys.read() {
            Ok(keys) => keys.find(kid, algorithm),
            Err(_) => Err(Missing::Unknown),
        }
    }

    /// Whether any key can verify a token: what `/readyz` asks.
    pub fn has_keys(&self) -> bool {
        self.keys.read().is_ok_and(|keys| !keys.0.is_empty())
    }

    /// Which set the cached keys are: changes whenever a fetch changes them.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Fetches the set now and every [`REFRESH_INTERVAL`], for as long as the server runs.
    pub async fn keep_fresh(self: Arc<Self>) {
        let mut every = tokio::time::interval(REFRESH_INTERVAL);
        loop {
            every.tick().await;
            let mut last = self.fetching.lock().await;
            *last = Some(Instant::now());
            self.fetch_now().await;
        }
    }

    /// One fetch, within [`FETCH_TIMEOUT`]; a failure is logged and keeps the cached keys.
    async fn fetch_now(&self) {
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, self.download()).await {
            Ok(fetched) => fetched,
            Err(_) => Err(format!(
                "no answer within {} s",
                FETCH_TIMEOUT.as_secs_f64()
            )),
        };
        match fetched {
            Ok(keys) => {
                tracing::debug!(keys = keys.0.len(), "fetched the identity provider's keys");
                if let Ok(mut cached) = self.keys.write() {
                    let jwks =
                        |keys: &Keys| keys.0.iter().map(|p| p.jwk.clone()).collect::<Vec<_>>();
                    if jwks(&cached) != jwks(&keys) {
                        self.generation.fetch_add(1, Ordering::AcqRel);
                    }
                    *cached = Arc::new(keys);
                }
            }
            Err(why) => tracing::warn!(
                error = %why,
                "could not fetch the identity provider's keys; the cached ones stay in use"
            ),
        }
    }

    async fn download(&self) -> Result<Keys, String> {
        let url = match &self.location {
            Location::KeySet(url) => url.clone(),
            Location::Issuer(issuer) => self.discover(issuer).await?,
        };
        let document: KeySetDocument = self.get_json(&url).await?;
        let mut keys: Vec<Published> = document
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| usable(&jwk).map(|key| Published { jwk, key }))
            .take(MAX_KEYS)
            .collect();
        // In a stable order, so that a provider listing its keys in another order does not
        // count as a change.
        keys.sort_by_cached_key(|p| serde_json::to_string(&p.jwk).unwrap_or_default());
        Ok(Keys(keys))
    }

    /// The key set's address from the issuer's discovery document.
    async fn discover(&self, issuer: &str) -> Result<Url, String> {
        let address = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let url = Url::parse(&address).map_err(|e| format!("{address}: {e}"))?;
        let discovery: Discovery = self.get_json(&url).await?;
        // OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one asked.
        if discovery.issuer != issuer {
            return Err(format!(
                "{address} names the issuer '{}', not '{issuer}'",
                discovery.issuer
            ));
        }
        let jwks = Url::parse(&discovery.jwks_uri)
            .map_err(|e| format!("{address}: jwks_uri is not a URL: {e}"))?;
        fetchable(&jwks)?;
        // Plain http is for a provider on this machine: an https issuer's document may not
        // send relm to a local service.
        if jwks.scheme() == "http" && !issuer.starts_with("http://") {
            return Err(format!(
                "{address}: jwks_uri {jwks} is plain http under an https issuer"
            ));
        }
        Ok(jwks)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &Url) -> Result<T, String> {
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("{url}: {e}"))?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{url}: larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not the expected JSON: {e}"))
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Keys are read one by one, so that a key of a kind relm does not know (an encryption key,
/// a new algorithm) leaves the others usable.
#[derive(Deserialize)]
struct KeySetDocument {
    keys: Vec<serde_json::Value>,
}

/// The key of a JWK that signs with an algorithm relm accepts from a key set: RS256, ES256
/// or EdDSA, never a shared secret.
fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(ref other) if *other != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    let named = jwk.common.key_algorithm;
    let agrees = match named {
        None => true,
        Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => algorithm == Algorithm::EdDSA,
        Some(_) => false,
    };
    let decoding = DecodingKey::from_jwk(jwk).ok()?;
    agrees.then_some(Key {
        algorithm,
        decoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: serde_json::Value) -> Jwk {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn only_https_or_loopback_http_is_fetched() {
        for allowed in [
            "https://id.example.com/realms/acme",
            "http://127.0.0.1:8080/jwks",
            "http://localhost:9000",
            "http://[::1]:9000/keys",
        ] {
            assert!(Location::parse(allowed, false).is_ok(), "{allowed}");
        }
        for refused in [
            "http://id.example.com/jwks",
            "http://10.0.0.1/jwks",
            "ftp://127.0.0.1/jwks",
            "file:///etc/jwks.json",
            "not a url",
        ] {
            assert!(Location::parse(refused, true).is_err(), "{refused}");
        }
    }

    #[test]
    fn shared_secrets_encryption_keys_and_other_algorithms_never_verify() {
        let rsa = serde_json::json!({"kty": "RSA", "kid": "r", "n": "uVHPqQ", "e": "AQAB"});
        assert!(usable(&jwk(rsa.clone())).is_some());
        let mut encryption = rsa.clone();
        encryption["use"] = "enc".into();
        assert!(usable(&jwk(encryption)).is_none());
        let mut rs512 = rsa;
        rs512["alg"] = "RS512".into();
        assert!(usable(&jwk(rs512)).is_none());
        let secret = serde_json::json!({"kty": "oct", "kid": "s", "k": "c2VjcmV0"});
        assert!(usable(&jwk(secret)).is_none());
    }

    #[test]
    fn a_token_without_kid_needs_a_set_of_one_key() {
        let key = |kid: Option<&str>| {
            let jwk =
                jwk(serde_json::json!({"kty": "RSA", "kid": kid, "n": "uVHPqQ", "e": "AQAB"}));
            let key = usable(&jwk).unwrap_or_else(|| panic!("an RSA key"));
            Published { jwk, key }
        };
        let one = Keys(vec![key(Some("a"))]);
        let rs = Algorithm::RS256;
        assert!(one.find(None, rs).is_ok());
        assert!(one.find(Some("a"), rs).is_ok());
        assert_eq!(
            one.find(Some("a"), Algorithm::ES256).err(),
            Some(Missing::Unknown)
        );
        assert_eq!(one.find(Some("b"), rs).err(), Some(Missing::Unknown));
        let two = Keys(vec![key(Some("a")), key(None)]);
        assert_eq!(two.find(None, rs).err(), Some(Missing::Ambiguous));
        assert_eq!(Keys::default().find(None, rs).err(), Some(Missing::Unknown));
    }
}
