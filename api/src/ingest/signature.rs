//! Proving a delivery came from the source: an HMAC-SHA256 of the raw body with the
//! source's secret, or the secret itself as a token, as each sender does it. Every
//! comparison takes the same time whatever matches (`subtle`).

use entity::enums::IngestKind;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Headers;

/// The most signatures one request may offer: PagerDuty sends one per active secret of a
/// subscription. More are not looked at, so a header cannot make relm hash the body
/// thousands of times.
const MAX_SIGNATURES: usize = 8;

/// Whether `body` with `headers` is signed with one of `secrets` (the current one, and the
/// previous one while it is still valid). The body is hashed once per secret, however many
/// signatures the request offers.
pub fn verify(kind: IngestKind, secrets: &[&str], headers: &Headers, body: &[u8]) -> bool {
    let (signatures, token) = offered(kind, headers);
    secrets.iter().any(|secret| {
        token.is_some_and(|token| same(token, secret))
            || (!signatures.is_empty() && {
                let tag = tag(secret, body);
                signatures
                    .iter()
                    .any(|signature| bool::from(signature.as_slice().ct_eq(&tag)))
            })
    })
}

/// The HMAC signatures (decoded, 32 bytes each) and the token a request offers, by kind.
fn offered(kind: IngestKind, headers: &Headers) -> (Vec<Vec<u8>>, Option<&str>) {
    let hmac = |hex: &str| {
        hex::decode(hex.trim())
            .ok()
            .filter(|bytes| bytes.len() == TAG_BYTES)
    };
    match kind {
        IngestKind::Github => (
            prefixed(headers.get("x-hub-signature-256"), "sha256=")
                .and_then(hmac)
                .into_iter()
                .collect(),
            None,
        ),
        IngestKind::Gitlab => (Vec::new(), headers.get("x-gitlab-token")),
        IngestKind::Pagerduty => (
            headers
                .get("x-pagerduty-signature")
                .map(|all| {
                    all.split(',')
                        .filter_map(|one| one.trim().strip_prefix("v1="))
                        .take(MAX_SIGNATURES)
                        .filter_map(hmac)
                        .collect()
                })
                .unwrap_or_default(),
            None,
        ),
        IngestKind::Cdevents | IngestKind::Generic => (
            prefixed(headers.get("x-relm-signature-256"), "sha256=")
                .and_then(hmac)
                .into_iter()
                .collect(),
            prefixed(headers.get("authorization"), "Bearer "),
        ),
    }
}

/// The length of an HMAC-SHA256.
const TAG_BYTES: usize = 32;

/// The hex HMAC-SHA256 of `body` with `secret`, as senders compute it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    hex::encode(tag(secret, body))
}

/// HMAC-SHA256 of `body` with `secret`; HMAC takes keys of every length, so it is never
/// empty (and an empty one would match no signature, which must be 32 bytes).
fn tag(secret: &str, body: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn prefixed<'h>(value: Option<&'h str>, prefix: &str) -> Option<&'h str> {
    value?.trim().strip_prefix(prefix)
}

fn same(given: &str, secret: &str) -> bool {
    given.as_bytes().ct_eq(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers::new(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn each_kind_checks_its_own_header() {
        let body = br#"{"a":1}"#;
        let good = sign("s3cret", body);
        let github = headers(&[("X-Hub-Signature-256", &format!("sha256={good}"))]);
        assert!(verify(IngestKind::Github, &["s3cret"], &github, body));
        assert!(!verify(IngestKind::Github, &["other"], &github, body));
        assert!(!verify(
            IngestKind::Github,
            &["s3cret"],
            &github,
            b"{\"a\":2}"
        ));

        let gitlab = headers(&[("X-Gitlab-Token", "s3cret")]);
        assert!(verify(
            IngestKind::Gitlab,
            &["old", "s3cret"],
            &gitlab,
            body
        ));
        assert!(!verify(IngestKind::Gitlab, &["old"], &gitlab, body));

        let pagerduty = headers(&[("X-PagerDuty-Signature", &format!("v1=00ff, v1={good}"))]);
        assert!(verify(IngestKind::Pagerduty, &["s3cret"], &pagerduty, body));

        let bearer = headers(&[("Authorization", "Bearer s3cret")]);
        assert!(verify(IngestKind::Generic, &["s3cret"], &bearer, body));
        let relm = headers(&[("X-Relm-Signature-256", &format!("sha256={good}"))]);
        assert!(verify(IngestKind::Cdevents, &["s3cret"], &relm, body));
        assert!(!verify(
            IngestKind::Cdevents,
            &["s3cret"],
            &headers(&[]),
            body
        ));
        assert!(!verify(IngestKind::Generic, &["s3cret"], &github, body));
    }

    #[test]
    fn only_the_first_signatures_offered_are_looked_at() {
        let body = br#"{"a":1}"#;
        let good = sign("s3cret", body);
        let decoys = ["v1=00"; MAX_SIGNATURES].join(",");
        let late = headers(&[("X-PagerDuty-Signature", &format!("{decoys},v1={good}"))]);
        assert!(!verify(IngestKind::Pagerduty, &["s3cret"], &late, body));
        let early = headers(&[("X-PagerDuty-Signature", &format!("v1={good},{decoys}"))]);
        assert!(verify(IngestKind::Pagerduty, &["s3cret"], &early, body));
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
