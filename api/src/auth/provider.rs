//! Tokens of an OpenID Connect provider, verified against its key set: the algorithm
//! allow-list, `iss` and `aud`, and role and programs from the token's own claims or from
//! `RELM_CLAIMS_MAP`.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::Value;

use super::claims_map::ClaimsMap;
use super::key_set::{KeySet, Missing};
use super::{Audience, Claims, LEEWAY_SECONDS, Refused, VerifiedTokens, refusal};

/// The algorithms a key set may sign with; never a shared secret.
const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// An identity provider whose tokens relm accepts.
pub struct Provider {
    /// The `iss` its tokens carry.
    issuer: String,
    audience: String,
    /// relm's own issuer: subjects of another issuer are told apart by theirs.
    own_issuer: String,
    keys: Arc<KeySet>,
    map: Option<ClaimsMap>,
    verified: VerifiedTokens,
}

impl Provider {
    pub fn new(
        issuer: &str,
        audience: &str,
        own_issuer: &str,
        keys: KeySet,
        map: Option<ClaimsMap>,
    ) -> Self {
        Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            own_issuer: own_issuer.to_owned(),
            keys: Arc::new(keys),
            map,
            verified: VerifiedTokens::default(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key set, to keep fresh and to ask whether it has keys.
    pub fn key_set(&self) -> &Arc<KeySet> {
        &self.keys
    }

    /// The claims of a token that verified before under the same keys, unexpired.
    pub fn remembered(&self, token: &str, now: u64) -> Option<Claims> {
        self.verified.get(token, now, self.keys.generation())
    }

    /// Verifies a token whose `iss` is this provider's.
    pub async fn verify(&self, token: &str, header: &Header) -> Result<Claims, Refused> {
        if !ALGORITHMS.contains(&header.alg) {
            return Err(Refused::Unauthenticated(
                "the token is signed with an algorithm relm does not accept from an identity provider (RS256, ES256 or EdDSA)".into(),
            ));
        }
        let generation = self.keys.generation();
        let key = self
            .keys
            .key(header.kid.as_deref(), header.alg)
            .await
            .map_err(|missing| {
                Refused::Unauthenticated(match missing {
                    Missing::Unknown => {
                        "the token's key (kid) is not in the identity provider's key set".into()
                    }
                    Missing::Ambiguous => {
                        "the token names no key (kid) and the identity provider has several".into()
                    }
                })
            })?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let value = jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
            .map_err(|e| Refused::Unauthenticated(refusal(&e)))?
            .claims;
        let claims = self.claims_of(&value)?;
        // Only what the keys of this generation verified is remembered with it.
        if generation == self.keys.generation() {
            self.verified.keep(token, &claims, generation);
        }
        Ok(claims)
    }

    /// relm's claims from a verified token: role and programs from the map when there is
    /// one (the token's own `role` and `programs` then count for nothing), else from the
    /// token as relm's own tokens carry them.
    fn claims_of(&self, value: &Value) -> Result<Claims, Refused> {
        let text = |name: &str| value.get(name).and_then(Value::as_str);
        let time = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_f64)
                .map(|seconds| seconds.max(0.0) as u64)
        };
        let sub = text("sub").ok_or_else(|| {
            Refused::Unauthenticated("the token's sub claim is not a string".into())
        })?;
        if sub.trim().is_empty() {
            return Err(Refused::Unauthenticated(
                "the token's sub claim is empty".into(),
            ));
        }
        let (role, programs) = match &self.map {
            Some(map) => {
                let grant = map
                    .grant(value)
                    .ok_or_else(|| Refused::NoRole(self.subject(sub)))?;
                (grant.role.claim().to_owned(), grant.programs)
            }
            None => {
                let role = text("role").ok_or_else(|| {
                    Refused::Unauthenticated("the token has no role claim".into())
                })?;
                let programs = match value.get("programs") {
                    None => None,
                    Some(list) => Some(serde_json::from_value(list.clone()).map_err(|_| {
                        Refused::Unauthenticated(
                            "the token's programs claim is not a list of program keys".into(),
                        )
                    })?),
                };
                (role.to_owned(), programs)
            }
        };
        let aud = serde_json::from_value::<Audience>(value["aud"].clone())
            .unwrap_or_else(|_| Audience::from(self.audience.as_str()));
        Ok(Claims {
            sub: self.subject(sub),
            role,
            programs,
            iss: self.issuer.clone(),
            aud,
            exp: time("exp").unwrap_or_default(),
            iat: time("iat").unwrap_or_default(),
            nbf: time("nbf"),
        })
    }

    /// Request budgets, feeds and the audit's actor belong to the subject within its issuer:
    /// where the provider is not relm's own issuer, its subjects are named as Kubernetes
    /// names them, `{iss}#{sub}`, so that no provider's user can pass for relm's.
    fn subject(&self, sub: &str) -> String {
        if self.issuer == self.own_issuer {
            sub.to_owned()
        } else {
            format!("{}#{sub}", self.issuer)
        }
    }
}
