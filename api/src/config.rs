//! Configuration: flags win over environment variables, which win over defaults.
//! Loaded once at start-up and passed explicitly.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::auth::key_set::{KeySet, Location};
use crate::auth::{ClaimsMap, JwtKeys, KeySource, Provider, Secret, read_public_key};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://relm.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!(
                "unsupported database URL '{}': use sqlite://FILE or postgres://…",
                redact(url)
            )
        }
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The address people open relm at, for the links relm prints: `public_url` when set
/// (e.g. behind a proxy), else `http://` and the listen address, with a wildcard address
/// (`0.0.0.0`, `[::]`) replaced by the loopback one.
pub fn base_url(public_url: Option<&str>, bind: &str) -> String {
    if let Some(url) = public_url.filter(|u| !u.trim().is_empty()) {
        return url.trim().trim_end_matches('/').to_owned();
    }
    let host = match bind.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            let loopback: std::net::IpAddr = if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            };
            std::net::SocketAddr::new(loopback, addr.port()).to_string()
        }
        _ => bind.to_owned(),
    };
    format!("http://{host}")
}

/// The dashboard's link that signs its opener in with `token` (web.md): the token travels
/// in the fragment, which browsers never send to a server.
pub fn dashboard_link(base_url: &str, token: &str) -> String {
    format!("{base_url}/dashboard#token={token}")
}

/// A release on the dashboard (communication.md: notifications and calendar feeds link
/// there): its program's view, the release named in the fragment.
pub fn release_link(base_url: &str, program_key: &str, release_global_id: &str) -> String {
    format!(
        "{}/dashboard?program={program_key}#release={release_global_id}",
        base_url.trim_end_matches('/')
    )
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub key: KeySource,
    pub issuer: String,
    pub audience: String,
    /// The generated secret file, when relm made its own key for a SQLite database.
    pub generated_secret: Option<PathBuf>,
}

/// The sources of the JWT settings, before they are resolved.
#[derive(Debug, Clone, Default)]
pub struct JwtSettings {
    pub secret: Option<String>,
    pub public_key_file: Option<PathBuf>,
    pub issuer: String,
    pub audience: String,
    /// Whether an identity provider verifies tokens too: then PostgreSQL needs no key of
    /// relm's own.
    pub has_provider: bool,
}

impl JwtSettings {
    /// Resolves the key: the configured secret or public key, or for SQLite a secret
    /// generated once and kept beside the database file with owner-only permissions.
    pub fn resolve(&self, database_url: &str) -> anyhow::Result<JwtConfig> {
        let (key, generated_secret) = match (&self.secret, &self.public_key_file) {
            (Some(_), Some(_)) => {
                anyhow::bail!("set either RELM_JWT_SECRET or RELM_JWT_PUBLIC_KEY_FILE, not both")
            }
            (Some(secret), None) => (KeySource::Secret(Secret(secret.as_bytes().to_vec())), None),
            (None, Some(path)) => (read_public_key(path)?, None),
            (None, None) => match Backend::of(database_url)? {
                // A secret nobody knows: only the provider's tokens verify.
                Backend::Postgres if self.has_provider => {
                    let mut secret = vec![0; 32];
                    getrandom::fill(&mut secret)
                        .map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
                    (KeySource::Secret(Secret(secret)), None)
                }
                Backend::Postgres => anyhow::bail!(
                    "no JWT key configured: set RELM_JWT_SECRET (HS256, at least 32 bytes) or RELM_JWT_PUBLIC_KEY_FILE"
                ),
                Backend::Sqlite => {
                    let path = secret_path(database_url)?;
                    (KeySource::Secret(load_or_create_secret(&path)?), Some(path))
                }
            },
        };
        Ok(JwtConfig {
            key,
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            generated_secret,
        })
    }
}

/// The file of a `sqlite://FILE?…` URL.
pub fn sqlite_file(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("not a SQLite URL")?;
    let file = rest.split('?').next().unwrap_or_default();
    anyhow::ensure!(
        !file.is_empty() && file != ":memory:",
        "an in-memory SQLite database has no place for a generated key: set RELM_JWT_SECRET and RELM_SECRET_KEY"
    );
    Ok(PathBuf::from(file))
}

fn secret_path(database_url: &str) -> anyhow::Result<PathBuf> {
    let db = sqlite_file(database_url)?;
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".secret");
    Ok(db.with_file_name(name))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Secret> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(Secret(text.trim().as_bytes().to_vec())),
        Ok(_) => anyhow::bail!(
            "{} is shorter than 32 bytes; delete it to make a new one",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Secret(secret.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn links_use_the_public_url_or_a_reachable_listen_address() {
        assert_eq!(base_url(None, "127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(base_url(None, "0.0.0.0:80"), "http://127.0.0.1:80");
        assert_eq!(base_url(None, "[::]:8080"), "http://[::1]:8080");
        assert_eq!(
            base_url(None, "relm.internal:8080"),
            "http://relm.internal:8080"
        );
        assert_eq!(
            base_url(Some("https://relm.example.com/"), "0.0.0.0:80"),
            "https://relm.example.com"
        );
        assert_eq!(base_url(Some(" "), "127.0.0.1:1"), "http://127.0.0.1:1");
        assert_eq!(
            dashboard_link("https://r.example", "a.b.c"),
            "https://r.example/dashboard#token=a.b.c"
        );
    }

    #[test]
    fn finds_the_sqlite_file_and_its_secret() {
        assert_eq!(
            sqlite_file("sqlite://relm.db?mode=rwc").ok(),
            Some(PathBuf::from("relm.db"))
        );
        assert_eq!(
            secret_path("sqlite:///tmp/x/r.db").ok(),
            Some(PathBuf::from("/tmp/x/r.db.secret"))
        );
        assert!(sqlite_file("sqlite::memory:").is_err());
    }
}

/// The identity provider settings (interface.md, *Front-end applications*), before they
/// are checked.
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings {
    /// `RELM_OIDC_ISSUER`.
    pub oidc_issuer: Option<String>,
    /// `RELM_JWKS_URL`.
    pub jwks_url: Option<String>,
    /// `RELM_JWKS_ISSUER`: the `iss` of the key set's tokens, relm's own by default.
    pub jwks_issuer: Option<String>,
    /// `RELM_CLAIMS_MAP`: the file of the claims map.
    pub claims_map: Option<PathBuf>,
}

impl ProviderSettings {
    pub fn configured(&self) -> bool {
        self.oidc_issuer.is_some() || self.jwks_url.is_some()
    }

    /// The provider, or `None` when none is configured; every setting is checked, so a
    /// wrong one stops `serve` at start with a message naming it.
    pub fn resolve(&self, own: &JwtKeys) -> anyhow::Result<Option<Provider>> {
        let (location, issuer) = match (&self.oidc_issuer, &self.jwks_url, &self.jwks_issuer) {
            (Some(_), Some(_), _) => {
                anyhow::bail!("set either RELM_OIDC_ISSUER or RELM_JWKS_URL, not both")
            }
            (Some(_), None, Some(_)) => anyhow::bail!(
                "RELM_JWKS_ISSUER goes with RELM_JWKS_URL; with RELM_OIDC_ISSUER the issuer is that"
            ),
            (Some(issuer), None, None) => (
                Location::parse(issuer, true)
                    .map_err(|e| anyhow::anyhow!("RELM_OIDC_ISSUER: {e}"))?,
                issuer.trim().to_owned(),
            ),
            (None, Some(url), issuer) => (
                Location::parse(url, false).map_err(|e| anyhow::anyhow!("RELM_JWKS_URL: {e}"))?,
                issuer.clone().unwrap_or_else(|| own.issuer().to_owned()),
            ),
            (None, None, jwks_issuer) => {
                anyhow::ensure!(
                    jwks_issuer.is_none() && self.claims_map.is_none(),
                    "RELM_JWKS_ISSUER and RELM_CLAIMS_MAP apply to an identity provider's tokens: set RELM_OIDC_ISSUER or RELM_JWKS_URL"
                );
                return Ok(None);
            }
        };
        // Tokens of one issuer signed with relm's key file and with the key set could not be
        // told apart: only a shared secret may share the provider's issuer.
        anyhow::ensure!(
            issuer != own.issuer() || own.shared_secret(),
            "the identity provider's issuer is RELM_JWT_ISSUER, which RELM_JWT_PUBLIC_KEY_FILE verifies: set RELM_JWKS_ISSUER or another RELM_JWT_ISSUER"
        );
        let map = match &self.claims_map {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("RELM_CLAIMS_MAP: cannot read {}: {e}", path.display())
                })?;
                let map = ClaimsMap::parse(&text)
                    .map_err(|e| anyhow::anyhow!("RELM_CLAIMS_MAP {}: {e}", path.display()))?;
                Some(map)
            }
            None => None,
        };
        Ok(Some(Provider::new(
            &issuer,
            own.audience(),
            own.issuer(),
            KeySet::new(location)?,
            map,
        )))
    }
}
