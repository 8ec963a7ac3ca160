//! JWT authentication, roles and program scoping.
//!
//! relm's own tokens are verified with exactly one configured algorithm (HS256 with a shared
//! secret, or RS256/ES256/EdDSA with a fixed public key); an identity provider's, against its
//! key set ([`provider`]). [`Tokens`] sends each token to the one its `iss` names. The
//! decoded caller becomes a [`Viewer`] that every resolver consults: its [`Role`] for what it
//! may do, and its [`Scope`] for which programs it may see.

pub mod claims_map;
pub mod key_set;
pub mod provider;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
pub use claims_map::ClaimsMap;
pub use key_set::KeySet;
pub use provider::Provider;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;
/// The most verified tokens remembered; when full the map starts over.
const VERIFIED_TOKENS: usize = 4_096;
/// The most program keys a token may name (one `IN` list when the caller is resolved).
pub const MAX_TOKEN_PROGRAMS: usize = 1_000;

/// What a caller may do, in increasing order of power.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, strum::EnumString, strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// Reads releases, programs, outcomes and metrics.
    Viewer,
    /// VIEWER + report exports.
    Analyst,
    /// ANALYST + every release mutation inside its programs.
    ReleaseManager,
    /// Everything, in every program; programs, environments, freeze windows.
    Admin,
}

impl Role {
    /// The claim value, e.g. `release_manager`.
    pub fn claim(self) -> &'static str {
        self.into()
    }

    pub fn from_claim(claim: &str) -> Option<Self> {
        claim.parse().ok()
    }
}

/// The claims relm reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    /// Absent for every program; when present it must be a list of keys (a `null` is
    /// refused, never read as "every program").
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub programs: Option<Vec<String>>,
    pub iss: String,
    pub aud: Audience,
    pub exp: u64,
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// `aud`: one audience or several (RFC 7519, section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Self::One(audience.to_owned())
    }
}

/// A claim that, when present, must be a list: `null` fails instead of meaning "absent".
pub(crate) fn present_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    Vec::deserialize(deserializer).map(Some)
}

/// The programs a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Ids of the programs named in the token that exist.
    Programs(Vec<i64>),
}

impl Scope {
    pub fn contains(&self, program_id: i64) -> bool {
        match self {
            Self::All => true,
            Self::Programs(ids) => ids.contains(&program_id),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub subject: String,
    pub role: Role,
    /// Program keys of the token; `None` for every program.
    pub program_keys: Option<Vec<String>>,
    pub scope: Scope,
    /// The token's `exp` (Unix seconds); `None` for callers without a token (an ingest
    /// source acting through its signature).
    pub expires_at: Option<u64>,
}

impl Viewer {
    /// Whether the caller's token has expired by `now` (Unix seconds): the moment a
    /// WebSocket connection ends (interface.md).
    pub fn expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|exp| now >= exp)
    }

    /// Fails with `FORBIDDEN` unless the caller is an ADMIN of every program: what reaches
    /// beyond any one program (lifecycle.md, *Who may do what*) is not for an ADMIN token
    /// scoped to some.
    pub fn require_global_admin(&self) -> ApiResult<()> {
        self.require(Role::Admin)?;
        match self.scope {
            Scope::All => Ok(()),
            Scope::Programs(_) => Err(ApiError::Forbidden(
                "this reaches beyond your programs: it needs an ADMIN token without programs"
                    .into(),
            )),
        }
    }

    /// Fails with `FORBIDDEN` unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(forbidden(role))
        }
    }

    /// Resolves verified claims into a caller with the ids of its programs.
    pub async fn from_claims(
        db: &impl ConnectionTrait,
        programs: &ProgramIds,
        claims: Claims,
    ) -> ApiResult<Self> {
        let role = Role::from_claim(&claims.role)
            .ok_or_else(|| ApiError::Unauthenticated(format!("unknown role '{}'", claims.role)))?;
        if claims.sub.trim().is_empty() {
            return Err(ApiError::Unauthenticated(
                "the token's sub claim is empty".into(),
            ));
        }
        let keys = claims.programs.as_deref().unwrap_or_default();
        if keys.len() > MAX_TOKEN_PROGRAMS {
            return Err(ApiError::Unauthenticated(format!(
                "the token names more than {MAX_TOKEN_PROGRAMS} programs"
            )));
        }
        // PostgreSQL cannot store or compare text with NUL; refuse it like any bad claim.
        if claims.sub.contains('\0') || keys.iter().any(|k| k.contains('\0')) {
            return Err(ApiError::Unauthenticated(
                "the token's claims contain a NUL character".into(),
            ));
        }
        let scope = match &claims.programs {
            None => Scope::All,
            Some(keys) => Scope::Programs(programs.resolve(db, keys).await?),
        };
        Ok(Self {
            subject: claims.sub,
            role,
            program_keys: claims.programs,
            scope,
            expires_at: Some(claims.exp),
        })
    }
}

/// The ids of program keys, remembered once read. A program's key never changes and
/// programs are never deleted, so a key once found keeps its id in every process sharing
/// the database; a key not found is asked again, as its program may be created later.
/// Only keys of existing programs are remembered, so tokens cannot grow the map.
#[derive(Debug, Default)]
pub struct ProgramIds(RwLock<HashMap<String, i64>>);

impl ProgramIds {
    /// The ids of those of `keys` whose programs exist, each once.
    pub async fn resolve(&self, db: &impl ConnectionTrait, keys: &[String]) -> ApiResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(keys.len());
        let mut unknown = Vec::new();
        if let Ok(known) = self.0.read() {
            for key in keys {
                match known.get(key) {
                    Some(id) => ids.push(*id),
                    None => unknown.push(key.clone()),
                }
            }
        } else {
            unknown.extend_from_slice(keys);
        }
        if !unknown.is_empty() {
            let found: Vec<(String, i64)> = entity::program::Entity::find()
                .select_only()
                .column(entity::program::Column::Key)
                .column(entity::program::Column::Id)
                .filter(entity::program::Column::Key.is_in(unknown))
                .into_tuple()
                .all(db)
                .await?;
            ids.extend(found.iter().map(|(_, id)| *id));
            if let Ok(mut known) = self.0.write() {
                known.extend(found);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

/// `FORBIDDEN` for a caller below `role`.
pub fn forbidden(role: Role) -> ApiError {
    ApiError::Forbidden(format!(
        "this needs the {} role or above",
        role.claim().to_uppercase()
    ))
}

/// Who is calling: the outcome of reading the `Authorization` header.
#[derive(Debug, Clone)]
pub enum Caller {
    Authenticated(Viewer),
    Anonymous,
    Rejected(String),
    /// A valid token without a role (`RELM_CLAIMS_MAP` matched none of its groups).
    NoRole,
}

impl Caller {
    /// The authenticated viewer, or `UNAUTHENTICATED`.
    pub fn viewer(&self) -> ApiResult<&Viewer> {
        match self {
            Self::Authenticated(v) => Ok(v),
            Self::Anonymous => Err(ApiError::Unauthenticated(
                "send a bearer token in the Authorization header".into(),
            )),
            Self::Rejected(why) => Err(ApiError::Unauthenticated(why.clone())),
            Self::NoRole => Err(ApiError::Forbidden("no role for this token".into())),
        }
    }
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(pub Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where the verification key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    Secret(Secret),
    PublicKeyPem(Vec<u8>),
}

/// Verifies (and, with a shared secret, signs) tokens.
#[derive(Clone)]
pub struct JwtKeys {
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    issuer: String,
    audience: String,
    verified: Arc<VerifiedTokens>,
}

/// Tokens that verified, with their claims and the generation of the keys that verified
/// them (a provider's key set changes; relm's own key does not). A client sends the same token with every
/// request, and verifying it again (base64, two JSON documents, the signature) cost more than
/// the rest of a small request's authentication. Only tokens that verified are kept, and the
/// one claim whose verdict changes with time, `exp`, is checked again on every use (`nbf`,
/// once passed, stays passed). A refused token takes no write lock, so a flood of bad tokens
/// does not hold up the callers whose tokens are remembered; an expired entry stays until the
/// map starts over.
#[derive(Default)]
struct VerifiedTokens(RwLock<HashMap<String, (Claims, u64)>>);

impl VerifiedTokens {
    /// The claims of `token` if it verified before under keys of `generation` and has not
    /// expired since.
    fn get(&self, token: &str, now: u64, generation: u64) -> Option<Claims> {
        let verified = self.0.read().ok()?;
        let (claims, verified_under) = verified.get(token)?;
        (*verified_under == generation && claims.exp.saturating_add(LEEWAY_SECONDS) >= now)
            .then(|| claims.clone())
    }

    fn keep(&self, token: &str, claims: &Claims, generation: u64) {
        if let Ok(mut verified) = self.0.write() {
            if verified.len() >= VERIFIED_TOKENS {
                verified.clear();
            }
            verified.insert(token.to_owned(), (claims.clone(), generation));
        }
    }
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused, in words a person who pasted it can act on.
fn refusal(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => {
            "the token's signature does not match this server's key".into()
        }
        ErrorKind::InvalidAlgorithm => {
            "the token is signed with another algorithm than this server's".into()
        }
        ErrorKind::InvalidIssuer => "the token was issued for another issuer (iss)".into(),
        ErrorKind::InvalidAudience => "the token is meant for another audience (aud)".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            "this is not a JWT (three base64url parts separated by dots)".into()
        }
        _ => format!("invalid token: {error}"),
    }
}

impl JwtKeys {
    /// The `iss` of relm's own tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether relm's own tokens are HS256 (a shared secret), not a provider's public key.
    pub fn shared_secret(&self) -> bool {
        self.algorithm == Algorithm::HS256
    }

    /// The `aud` every token must carry.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn new(source: &KeySource, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let (algorithm, decoding, encoding) = match source {
            KeySource::Secret(secret) => {
                anyhow::ensure!(
                    secret.0.len() >= 32,
                    "RELM_JWT_SECRET must be at least 32 bytes"
                );
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(&secret.0),
                    Some(EncodingKey::from_secret(&secret.0)),
                )
            }
            KeySource::PublicKeyPem(pem) => {
                let (algorithm, key) = public_key(pem)?;
                (algorithm, key, None)
            }
        };
        Ok(Self {
            algorithm,
            decoding,
            encoding,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            verified: Arc::default(),
        })
    }

    /// Verifies a token and returns its claims; the error says why it was refused. A token
    /// that verified before is only checked for expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(claims) = self.verified.get(token, now, 0) {
            return Ok(claims);
        }
        let claims = self.decode(token)?;
        self.verified.keep(token, &claims, 0);
        Ok(claims)
    }

    fn decode(&self, token: &str) -> Result<Claims, String> {
        let mut validation = Validation::new(self.algorithm);
        validation.algorithms = vec![self.algorithm];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| refusal(&e))
    }

    /// Signs a token; only possible with a shared secret.
    pub fn sign(
        &self,
        subject: &str,
        role: Role,
        programs: Option<Vec<String>>,
        ttl_seconds: u64,
    ) -> anyhow::Result<String> {
        let key = self.encoding.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "tokens can only be issued with RELM_JWT_SECRET; with RELM_JWT_PUBLIC_KEY_FILE your identity provider issues them"
            )
        })?;
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let claims = Claims {
            sub: subject.to_owned(),
            role: role.claim().to_owned(),
            programs,
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + ttl_seconds,
            iat: now,
            nbf: None,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(self.algorithm),
            &claims,
            key,
        )?)
    }
}

/// Reads a PEM public key and the one algorithm it verifies.
fn public_key(pem: &[u8]) -> anyhow::Result<(Algorithm, DecodingKey)> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((Algorithm::RS256, key));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        return Ok((Algorithm::ES256, key));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok((Algorithm::EdDSA, key));
    }
    anyhow::bail!("the public key is not an RSA, EC P-256 or Ed25519 PEM key")
}

/// Reads the key file named by RELM_JWT_PUBLIC_KEY_FILE.
pub fn read_public_key(path: &Path) -> anyhow::Result<KeySource> {
    let pem = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read RELM_JWT_PUBLIC_KEY_FILE {}: {e}",
            path.display()
        )
    })?;
    Ok(KeySource::PublicKeyPem(pem))
}

/// Why a token gives no caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a valid token: UNAUTHENTICATED, saying why.
    Unauthenticated(String),
    /// A valid provider token that no rule of the claims map gives a role (FORBIDDEN), with
    /// its subject, whose budget it spends.
    NoRole(String),
}

/// Every source of valid tokens: relm's own key, and an identity provider's key set.
#[derive(Clone, Copy)]
pub struct Tokens<'a> {
    pub own: &'a JwtKeys,
    pub provider: Option<&'a Provider>,
}

/// The one claim read before a token is verified, to choose what verifies it.
#[derive(Deserialize)]
struct Issuer {
    iss: Option<String>,
}

impl Tokens<'_> {
    /// Verifies a token with the source its `iss` names: relm's own issuer its key, the
    /// provider's issuer the key set; where the two are the same, HS256 tokens go to relm's
    /// secret and the others to the key set. Any other issuer is refused.
    pub async fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let Some(provider) = self.provider else {
            return self.own.verify(token).map_err(Refused::Unauthenticated);
        };
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(claims) = self.own.verified.get(token, now, 0) {
            return Ok(claims);
        }
        if let Some(claims) = provider.remembered(token, now) {
            return Ok(claims);
        }
        let not_a_token = |e: jsonwebtoken::errors::Error| Refused::Unauthenticated(refusal(&e));
        let header = jsonwebtoken::decode_header(token).map_err(not_a_token)?;
        let issuer = jsonwebtoken::dangerous::insecure_decode_claims::<Issuer>(token)
            .map_err(not_a_token)?
            .iss
            .ok_or_else(|| Refused::Unauthenticated("the token has no iss claim".into()))?;
        let ours = issuer == self.own.issuer;
        if issuer == provider.issuer() && !(ours && header.alg == Algorithm::HS256) {
            provider.verify(token, &header).await
        } else if ours {
            let claims = self.own.verify(token).map_err(Refused::Unauthenticated)?;
            // `{iss}#{sub}` names the provider's subjects: none of relm's may pass for one.
            let theirs = format!("{}#", provider.issuer());
            if issuer != provider.issuer() && claims.sub.starts_with(&theirs) {
                return Err(Refused::Unauthenticated(
                    "the token's subject names an identity provider's user".into(),
                ));
            }
            Ok(claims)
        } else {
            Err(Refused::Unauthenticated(
                "the token was issued for another issuer (iss)".into(),
            ))
        }
    }
}

/// What an `Authorization` header says, read without the database: enough to know whose
/// request budget a request spends before any work is done for it.
#[derive(Debug, Clone)]
pub enum Credentials {
    None,
    Verified(Claims),
    Rejected(String),
    /// A valid token that the claims map gives no role, with its subject.
    NoRole(String),
}

impl Credentials {
    /// Reads and verifies a header value.
    pub async fn read(tokens: Tokens<'_>, header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Self::None;
        };
        let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
        else {
            return Self::Rejected("the Authorization header must be 'Bearer <token>'".into());
        };
        let token = token.trim();
        match tokens.verify(token).await {
            Ok(claims) => Self::Verified(claims),
            Err(Refused::Unauthenticated(why)) => Self::Rejected(why),
            Err(Refused::NoRole(subject)) => Self::NoRole(subject),
        }
    }

    /// The token's subject, when the token is valid.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::Verified(claims) => Some(&claims.sub),
            Self::NoRole(subject) => Some(subject),
            Self::None | Self::Rejected(_) => None,
        }
    }

    /// The caller, with the ids of the token's programs.
    pub async fn caller(
        self,
        db: &impl ConnectionTrait,
        programs: &ProgramIds,
    ) -> ApiResult<Caller> {
        match self {
            Self::None => Ok(Caller::Anonymous),
            Self::Rejected(why) => Ok(Caller::Rejected(why)),
            Self::NoRole(_) => Ok(Caller::NoRole),
            Self::Verified(claims) => match Viewer::from_claims(db, programs, claims).await {
                Ok(viewer) => Ok(Caller::Authenticated(viewer)),
                Err(ApiError::Unauthenticated(why)) => Ok(Caller::Rejected(why)),
                Err(other) => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        let secret = Secret(b"a-secret-of-at-least-thirty-two-bytes".to_vec());
        JwtKeys::new(&KeySource::Secret(secret), "relm", "relm").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_it_expires() {
        let keys = keys();
        let token = keys
            .sign("ana", Role::Viewer, None, 60)
            .unwrap_or_else(|e| panic!("{e}"));
        let claims = keys.verify(&token).unwrap_or_else(|e| panic!("{e}"));
        let expiry = claims.exp + LEEWAY_SECONDS;
        assert!(keys.verified.get(&token, expiry, 0).is_some());
        assert!(keys.verified.get(&token, expiry + 1, 0).is_none());
    }

    #[test]
    fn only_the_exact_token_that_verified_is_remembered() {
        let keys = keys();
        let other = JwtKeys::new(
            &KeySource::Secret(Secret(b"another-secret-of-thirty-two-bytes!!".to_vec())),
            "relm",
            "relm",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let token = keys
            .sign("ana", Role::Viewer, None, 60)
            .unwrap_or_else(|e| panic!("{e}"));
        let forged = other
            .sign("ana", Role::Viewer, None, 60)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(keys.verify(&token).is_ok());
        assert!(other.verify(&forged).is_ok());
        assert_eq!(
            keys.verify(&forged).err().as_deref(),
            Some("the token's signature does not match this server's key")
        );
        assert!(other.verify(&token).is_err(), "each key set keeps its own");
    }
}
