//! Proving a delivery came from the source: an HMAC-SHA256 of the raw body with the
//! source's secret, the secret itself as a token, or (GENERIC) Standard Webhooks' HMAC of
//! the message id, timestamp and body, as each sender does it. Every comparison takes the
//! same time whatever matches (`subtle`), and a request is checked against the same number
//! of secrets whatever its key (see [`SECRETS`]), so an unknown key costs what a known one
//! does.
//!
//! Standard Webhooks is a few lines over `hmac` and `base64`, which relm already uses: the
//! `standardwebhooks` crate would bring second copies of `base64` and an HMAC, and takes
//! only a `whsec_` base64 key where relm keys with the secret's text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::enums::IngestKind;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Headers;

/// The most signatures one request may offer: PagerDuty sends one per active secret of a
/// subscription, Standard Webhooks one per key. More are not looked at, so a header cannot
/// make relm hash the body thousands of times.
const MAX_SIGNATURES: usize = 8;

/// How many secrets every request is checked against: the current one and the previous one
/// (valid for 24 hours after a rotation). Where a source has fewer, or the key is unknown,
/// stand-ins take their place.
pub const SECRETS: usize = 2;

/// How far a Standard Webhooks timestamp may be from relm's clock, in seconds.
pub const TIMESTAMP_TOLERANCE_SECONDS: u64 = 5 * 60;

/// How a delivery proved itself, which decides what of it is trusted (ingestion.md,
/// *Replays*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// An HMAC of the body: only the body is signed, so ids and types come from it alone.
    BodyHmac,
    /// The secret itself (a bearer token, GitLab's token): the sender's headers are as
    /// trustworthy as its body.
    Token,
    /// Standard Webhooks: the message id, timestamp and body are signed.
    StandardWebhooks { id: String },
}

/// How a request is checked: the secrets it may be signed with (always [`SECRETS`] of
/// them), and relm's clock in Unix seconds.
pub struct Check<'s> {
    /// `None` for a secret that could not be read: it matches nothing.
    pub secrets: [Option<&'s str>; SECRETS],
    pub now_seconds: i64,
}

/// The proof `body` with `headers` offers for a source of `kind`, if it is signed with one
/// of the secrets. Each secret is tried the same way whichever matches, so the time taken
/// says nothing of which one (or whether any) did.
pub fn verify(kind: IngestKind, check: &Check, headers: &Headers, body: &[u8]) -> Option<Proof> {
    let offered = offered(kind, headers);
    let mut proof = None;
    for secret in check.secrets.into_iter().flatten() {
        let token = offered
            .token
            .is_some_and(|token| bool::from(token.as_bytes().ct_eq(secret.as_bytes())));
        // The body's HMAC is computed whatever the kind or the headers, so the time taken
        // does not depend on what the key is the key of.
        let body_tag = tag(secret.as_bytes(), &[body]);
        let hmac = any_matches(&offered.body, &body_tag);
        let standard = offered.standard.as_ref().is_some_and(|standard| {
            standard.fresh(check.now_seconds)
                && any_matches(
                    &standard.signatures,
                    &tag(
                        secret.as_bytes(),
                        &[
                            standard.id.as_bytes(),
                            b".",
                            standard.timestamp.as_bytes(),
                            b".",
                            body,
                        ],
                    ),
                )
        });
        proof = proof.or(match (token, hmac, standard) {
            (true, _, _) => Some(Proof::Token),
            (_, true, _) => Some(Proof::BodyHmac),
            (_, _, true) => offered.standard.as_ref().map(|s| Proof::StandardWebhooks {
                id: s.id.to_owned(),
            }),
            _ => None,
        });
    }
    proof
}

fn any_matches(signatures: &[Vec<u8>], tag: &[u8]) -> bool {
    signatures.iter().fold(false, |found, signature| {
        found | bool::from(signature.as_slice().ct_eq(tag))
    })
}

/// What a request offers as proof.
#[derive(Default)]
struct Offered<'h> {
    /// HMACs of the body, decoded (32 bytes each).
    body: Vec<Vec<u8>>,
    token: Option<&'h str>,
    standard: Option<Standard<'h>>,
}

/// Standard Webhooks' headers.
struct Standard<'h> {
    id: &'h str,
    timestamp: &'h str,
    signatures: Vec<Vec<u8>>,
}

impl Standard<'_> {
    fn fresh(&self, now_seconds: i64) -> bool {
        self.timestamp
            .parse::<i64>()
            .is_ok_and(|at| at.abs_diff(now_seconds) <= TIMESTAMP_TOLERANCE_SECONDS)
    }
}

/// The headers that can carry a proof, whatever the kind: a request with none of them is
/// unsigned and refused before anything is read.
pub const PROOF_HEADERS: [&str; 6] = [
    "x-hub-signature-256",
    "x-gitlab-token",
    "x-pagerduty-signature",
    "x-relm-signature-256",
    "authorization",
    "webhook-signature",
];

/// The proofs a request offers, by kind.
fn offered(kind: IngestKind, headers: &Headers) -> Offered<'_> {
    let hex_tag = |hex: &str| {
        hex::decode(hex.trim())
            .ok()
            .filter(|b| b.len() == TAG_BYTES)
    };
    let relm_hmac = || {
        prefixed(headers.get("x-relm-signature-256"), "sha256=")
            .and_then(hex_tag)
            .into_iter()
            .collect()
    };
    match kind {
        IngestKind::Github => Offered {
            body: prefixed(headers.get("x-hub-signature-256"), "sha256=")
                .and_then(hex_tag)
                .into_iter()
                .collect(),
            ..Offered::default()
        },
        IngestKind::Gitlab => Offered {
            token: headers.get("x-gitlab-token"),
            ..Offered::default()
        },
        IngestKind::Pagerduty => Offered {
            body: headers
                .get("x-pagerduty-signature")
                .map(|all| {
                    all.split(',')
                        .filter_map(|one| one.trim().strip_prefix("v1="))
                        .take(MAX_SIGNATURES)
                        .filter_map(hex_tag)
                        .collect()
                })
                .unwrap_or_default(),
            ..Offered::default()
        },
        IngestKind::Cdevents => Offered {
            body: relm_hmac(),
            token: prefixed(headers.get("authorization"), "Bearer "),
            standard: None,
        },
        IngestKind::Generic => Offered {
            body: relm_hmac(),
            token: prefixed(headers.get("authorization"), "Bearer "),
            standard: standard(headers),
        },
    }
}

/// Standard Webhooks' `webhook-id`, `webhook-timestamp` and the `v1,` entries of
/// `webhook-signature` (space-separated).
fn standard(headers: &Headers) -> Option<Standard<'_>> {
    let signatures = headers
        .get("webhook-signature")?
        .split(' ')
        .filter_map(|one| one.strip_prefix("v1,"))
        .take(MAX_SIGNATURES)
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .filter(|bytes| bytes.len() == TAG_BYTES)
        .collect();
    Some(Standard {
        id: headers.get("webhook-id")?,
        timestamp: headers.get("webhook-timestamp")?,
        signatures,
    })
}

/// The length of an HMAC-SHA256.
const TAG_BYTES: usize = 32;

/// The hex HMAC-SHA256 of `body` with `secret`, as senders compute it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    hex::encode(tag(secret.as_bytes(), &[body]))
}

/// Standard Webhooks' `webhook-signature` value for a message: `v1,` and the base64
/// HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the secret's text.
pub fn sign_standard(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    sign_standard_key(secret.as_bytes(), id, timestamp, body)
}

/// [`sign_standard`] keyed with raw bytes: a `whsec_` secret's key is the bytes its base64
/// holds (notifications relm sends).
pub fn sign_standard_key(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
    format!("v1,{}", STANDARD.encode(tag(key, &signed)))
}

/// HMAC-SHA256 of the concatenated `parts` with `key`; HMAC takes keys of every length,
/// so it is never empty (and an empty one would match no signature, which must be 32
/// bytes).
fn tag(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn prefixed<'h>(value: Option<&'h str>, prefix: &str) -> Option<&'h str> {
    value?.trim().strip_prefix(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers::new(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        )
    }

    fn check<'s>(first: &'s str, second: &'s str) -> Check<'s> {
        Check {
            secrets: [Some(first), Some(second)],
            now_seconds: NOW,
        }
    }

    #[test]
    fn each_kind_checks_its_own_header() {
        let body = br#"{"a":1}"#;
        let good = sign("s3cret", body);
        let github = headers(&[("X-Hub-Signature-256", &format!("sha256={good}"))]);
        let ours = check("s3cret", "-");
        assert_eq!(
            verify(IngestKind::Github, &ours, &github, body),
            Some(Proof::BodyHmac)
        );
        assert_eq!(
            verify(IngestKind::Github, &check("other", "-"), &github, body),
            None
        );
        assert_eq!(
            verify(IngestKind::Github, &ours, &github, b"{\"a\":2}"),
            None
        );

        let gitlab = headers(&[("X-Gitlab-Token", "s3cret")]);
        assert_eq!(
            verify(IngestKind::Gitlab, &check("old", "s3cret"), &gitlab, body),
            Some(Proof::Token)
        );
        assert_eq!(
            verify(IngestKind::Gitlab, &check("old", "-"), &gitlab, body),
            None
        );

        let pagerduty = headers(&[("X-PagerDuty-Signature", &format!("v1=00ff, v1={good}"))]);
        assert_eq!(
            verify(IngestKind::Pagerduty, &ours, &pagerduty, body),
            Some(Proof::BodyHmac)
        );

        let bearer = headers(&[("Authorization", "Bearer s3cret")]);
        assert_eq!(
            verify(IngestKind::Generic, &ours, &bearer, body),
            Some(Proof::Token)
        );
        let relm = headers(&[("X-Relm-Signature-256", &format!("sha256={good}"))]);
        assert_eq!(
            verify(IngestKind::Cdevents, &ours, &relm, body),
            Some(Proof::BodyHmac)
        );
        assert_eq!(
            verify(IngestKind::Cdevents, &ours, &headers(&[]), body),
            None
        );
        assert_eq!(verify(IngestKind::Generic, &ours, &github, body), None);
    }

    #[test]
    fn standard_webhooks_sign_id_timestamp_and_body_within_five_minutes() {
        let body = br#"{"kind":"incident"}"#;
        let signed = |id: &str, at: i64| {
            headers(&[
                ("webhook-id", id),
                ("webhook-timestamp", &at.to_string()),
                (
                    "webhook-signature",
                    &format!("v1,AAAA {}", sign_standard("s3cret", id, at, body)),
                ),
            ])
        };
        let ours = check("-", "s3cret");
        assert_eq!(
            verify(
                IngestKind::Generic,
                &ours,
                &signed("msg_1", NOW - 299),
                body
            ),
            Some(Proof::StandardWebhooks { id: "msg_1".into() })
        );
        assert_eq!(
            verify(
                IngestKind::Generic,
                &ours,
                &signed("msg_1", NOW - 301),
                body
            ),
            None,
            "too old"
        );
        assert_eq!(
            verify(
                IngestKind::Generic,
                &ours,
                &signed("msg_1", NOW + 301),
                body
            ),
            None,
            "too far ahead"
        );
        // Another id under the same signature is refused: the id is signed.
        let mut moved = signed("msg_1", NOW);
        moved = Headers::new(
            [("webhook-id", "msg_2")]
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .chain(
                    ["webhook-timestamp", "webhook-signature"]
                        .iter()
                        .map(|n| ((*n).to_owned(), moved.get(n).unwrap_or_default().to_owned())),
                ),
        );
        assert_eq!(verify(IngestKind::Generic, &ours, &moved, body), None);
        assert_eq!(
            verify(IngestKind::Cdevents, &ours, &signed("msg_1", NOW), body),
            None,
            "Standard Webhooks is GENERIC's"
        );
    }

    /// The test vector of Standard Webhooks' reference libraries (a key given as
    /// `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, i.e. base64 of its bytes).
    #[test]
    fn standard_webhooks_match_the_reference_vector() {
        let key = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_else(|e| panic!("{e}"));
        let signed: [&[u8]; 5] = [
            b"msg_p5jXN8AQM9LWM0D4loKWxJek",
            b".",
            b"1614265330",
            b".",
            br#"{"test": 2432232314}"#,
        ];
        assert_eq!(
            STANDARD.encode(tag(&key, &signed)),
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // relm keys with the secret's text (a library's whsec_ + base64 of that text).
        assert_eq!(
            sign_standard(
                "s3cret",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,+ovFnGFuIqjGihpeGWWpQI81Q0lhpDv9t/URyHZUADQ="
        );
    }

    #[test]
    fn only_the_first_signatures_offered_are_looked_at() {
        let body = br#"{"a":1}"#;
        let good = sign("s3cret", body);
        let decoys = ["v1=00"; MAX_SIGNATURES].join(",");
        let late = headers(&[("X-PagerDuty-Signature", &format!("{decoys},v1={good}"))]);
        let ours = check("s3cret", "-");
        assert_eq!(verify(IngestKind::Pagerduty, &ours, &late, body), None);
        let early = headers(&[("X-PagerDuty-Signature", &format!("v1={good},{decoys}"))]);
        assert!(verify(IngestKind::Pagerduty, &ours, &early, body).is_some());
    }

    #[test]
    fn signatures_match_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
