//! Proving a delivery came from the source: an HMAC-SHA256 of the raw body with the
//! source's secret, or the secret itself as a token, as each sender does it. Every
//! comparison takes the same time whatever matches (`hmac`'s `verify_slice`, `subtle`).

use entity::enums::IngestKind;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Headers;

/// Whether `body` with `headers` is signed with one of `secrets` (the current one, and the
/// previous one while it is still valid).
pub fn verify(kind: IngestKind, secrets: &[&str], headers: &Headers, body: &[u8]) -> bool {
    secrets.iter().any(|secret| match kind {
        IngestKind::Github => prefixed(headers.get("x-hub-signature-256"), "sha256=")
            .is_some_and(|hex| hmac_matches(secret, body, hex)),
        IngestKind::Gitlab => headers
            .get("x-gitlab-token")
            .is_some_and(|token| same(token, secret)),
        IngestKind::Pagerduty => headers.get("x-pagerduty-signature").is_some_and(|all| {
            all.split(',')
                .filter_map(|one| one.trim().strip_prefix("v1="))
                .any(|hex| hmac_matches(secret, body, hex))
        }),
        IngestKind::Cdevents | IngestKind::Generic => {
            prefixed(headers.get("x-relm-signature-256"), "sha256=")
                .is_some_and(|hex| hmac_matches(secret, body, hex))
                || prefixed(headers.get("authorization"), "Bearer ")
                    .is_some_and(|token| same(token, secret))
        }
    })
}

/// The hex HMAC-SHA256 of `body` with `secret`, as senders compute it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    mac(secret, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// HMAC-SHA256 over `body`; HMAC takes keys of every length, so this is always `Some`.
fn mac(secret: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(body);
    Some(mac)
}

fn prefixed<'h>(value: Option<&'h str>, prefix: &str) -> Option<&'h str> {
    value?.trim().strip_prefix(prefix)
}

fn hmac_matches(secret: &str, body: &[u8], hex_signature: &str) -> bool {
    let Ok(signature) = hex::decode(hex_signature.trim()) else {
        return false;
    };
    mac(secret, body).is_some_and(|mac| mac.verify_slice(&signature).is_ok())
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
    fn signatures_match_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
