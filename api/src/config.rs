//! Configuration: flags win over environment variables, which win over defaults.
//! Loaded once at start-up and passed explicitly.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::auth::{KeySource, Secret, read_public_key};

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
