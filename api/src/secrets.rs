//! Secrets at rest (ingestion.md, *Replays*): every secret relm must be able to read again
//! (an ingest source's, a notification channel's) is stored sealed with the server key,
//! `RELM_SECRET_KEY`, by AES-256-GCM (RustCrypto's `aes-gcm`), never in plain text.
//!
//! A sealed value is `v1.` and the base64url of a random 96-bit nonce followed by the
//! ciphertext and its tag; the purpose (e.g. `ingest-source`) is the associated data, so a
//! value sealed for one use does not open for another. With SQLite and no key set, a key is
//! generated beside the database file, owner-only, as the JWT secret is.

use std::fmt;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use entity::{ingest_source, notification_channel};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel,
    TransactionTrait,
};

use crate::config::{Backend, sqlite_file};
use crate::error::{ApiError, ApiResult};

/// The prefix of a sealed value, naming the scheme.
const SEALED: &str = "v1.";
const NONCE_BYTES: usize = 12;
const KEY_BYTES: usize = 32;
/// What starts a Standard Webhooks secret.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// What a sealed value is for: its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    IngestSource,
    /// A notification channel's URL and signing secret.
    NotificationChannel,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::IngestSource => b"ingest-source",
            Self::NotificationChannel => b"notification-channel",
        }
    }
}

/// The server key. It never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Cipher(Aes256Gcm);

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(..)")
    }
}

/// A secret just made: the text shown once, and the value stored.
#[derive(Clone)]
pub struct NewSecret {
    pub plain: String,
    pub sealed: String,
}

impl fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewSecret(..)")
    }
}

impl Cipher {
    /// A cipher for a key of 32 bytes given as hex or base64 (standard or URL-safe, padded
    /// or not).
    pub fn from_text(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            let unpadded = text.trim_end_matches('=');
            [STANDARD_NO_PAD, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(unpadded).ok())
        };
        match bytes.and_then(|b| <[u8; KEY_BYTES]>::try_from(b).ok()) {
            Some(bytes) => Ok(Self::from_bytes(&bytes)),
            None => anyhow::bail!("RELM_SECRET_KEY must be 32 bytes, as 64 hex digits or base64"),
        }
    }

    fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        Self(Aes256Gcm::new(&(*bytes).into()))
    }

    /// Seals `plain` for `purpose` with a fresh random nonce.
    pub fn seal(&self, purpose: Purpose, plain: &str) -> ApiResult<String> {
        let nonce = random::<NONCE_BYTES>()?;
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: purpose.label(),
                },
            )
            .map_err(|_| ApiError::Internal("a secret could not be sealed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The plain text of a value sealed for `purpose` with this key, or `None`: another
    /// key, another purpose, a value altered or not sealed at all.
    pub fn open(&self, purpose: Purpose, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(SEALED)?).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce = <[u8; NONCE_BYTES]>::try_from(nonce).ok()?;
        let plain = self
            .0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: purpose.label(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }

    /// A new secret of 32 random bytes, hex-encoded, with its sealed form.
    pub fn new_secret(&self, purpose: Purpose) -> ApiResult<NewSecret> {
        let plain = hex::encode(random::<32>()?);
        let sealed = self.seal(purpose, &plain)?;
        Ok(NewSecret { plain, sealed })
    }

    /// A new Standard Webhooks secret, `whsec_` and the base64 of 32 random bytes (the
    /// HMAC key), with its sealed form.
    pub fn new_webhook_secret(&self, purpose: Purpose) -> ApiResult<NewSecret> {
        let plain = format!(
            "{WEBHOOK_SECRET_PREFIX}{}",
            STANDARD.encode(random::<32>()?)
        );
        let sealed = self.seal(purpose, &plain)?;
        Ok(NewSecret { plain, sealed })
    }
}

/// Whether a stored value is sealed (rather than a plain secret from before sealing).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

/// Seals the secrets stored in plain text (written before relm sealed them), in one
/// transaction, and checks that every stored secret opens with `cipher`. Run at start: a
/// server given another key than the one its secrets were sealed with stops here with a
/// message naming the variable, instead of refusing every delivery later.
pub async fn prepare_stored(db: &DatabaseConnection, cipher: &Cipher) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    match seal_plain(&txn, cipher).await {
        Ok(sealed_now) => {
            txn.commit().await?;
            if sealed_now > 0 {
                tracing::info!(
                    secrets = sealed_now,
                    "sealed the secrets stored in plain text"
                );
            }
            Ok(())
        }
        Err(err) => {
            txn.rollback().await.ok();
            Err(err)
        }
    }
}

/// Seals what [`prepare_stored`] finds in plain text; how many it sealed.
async fn seal_plain(txn: &DatabaseTransaction, cipher: &Cipher) -> anyhow::Result<usize> {
    // Notification channels were sealed from the start: they only need to open.
    for channel in notification_channel::Entity::find().all(txn).await? {
        for stored in std::iter::once(&channel.url).chain(channel.secret.as_ref()) {
            anyhow::ensure!(
                cipher.open(Purpose::NotificationChannel, stored).is_some(),
                "RELM_SECRET_KEY cannot read the secrets stored in this database (they were sealed with another key)"
            );
        }
    }
    let sources = ingest_source::Entity::find().all(txn).await?;
    let mut sealed_now = 0;
    for source in sources {
        let purpose = Purpose::IngestSource;
        let mut model = source.clone().into_active_model();
        for (stored, column) in [
            (Some(&source.secret), ingest_source::Column::Secret),
            (
                source.previous_secret.as_ref(),
                ingest_source::Column::PreviousSecret,
            ),
        ] {
            let Some(stored) = stored else { continue };
            if is_sealed(stored) {
                anyhow::ensure!(
                    cipher.open(purpose, stored).is_some(),
                    "RELM_SECRET_KEY cannot read the secrets stored in this database (they were sealed with another key)"
                );
            } else {
                let sealed = cipher
                    .seal(purpose, stored)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                model.set(column, sealed.into());
                sealed_now += 1;
            }
        }
        if model.is_changed() {
            model.update(txn).await?;
        }
    }
    Ok(sealed_now)
}

/// `N` random bytes from the operating system.
pub fn random<const N: usize>() -> ApiResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("no randomness for a secret: {e}")))?;
    Ok(bytes)
}

/// The server key: `RELM_SECRET_KEY`, or with SQLite a key generated once beside the
/// database file (owner-only). With PostgreSQL a missing key is a start-up error naming the
/// variable.
pub fn resolve(configured: Option<&str>, database_url: &str) -> anyhow::Result<Cipher> {
    if let Some(text) = configured.filter(|t| !t.trim().is_empty()) {
        return Cipher::from_text(text);
    }
    match Backend::of(database_url)? {
        Backend::Postgres => anyhow::bail!(
            "no server key configured: set RELM_SECRET_KEY (32 bytes as 64 hex digits or base64), which encrypts stored secrets"
        ),
        Backend::Sqlite => load_or_create(&key_path(database_url)?),
    }
}

/// The generated key's file: the database file's name with `.key` added.
pub fn key_path(database_url: &str) -> anyhow::Result<PathBuf> {
    let db = sqlite_file(database_url)?;
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".key");
    Ok(db.with_file_name(name))
}

fn load_or_create(path: &Path) -> anyhow::Result<Cipher> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    match std::fs::read_to_string(path) {
        Ok(text) => {
            return Cipher::from_text(&text)
                .with_context(|| format!("{} does not hold a server key", path.display()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let key = random::<KEY_BYTES>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    // Written whole beside it, then renamed: a crash leaves no half key behind. A process
    // that made one first keeps its own (hard_link fails when the name exists).
    let temporary = path.with_extension(format!("key.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(STANDARD.encode(key).as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&temporary, path));
    std::fs::remove_file(&temporary).ok();
    match written {
        Ok(()) => Ok(Cipher::from_bytes(&key)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::from_text(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_purpose() {
        let cipher = cipher();
        let sealed = cipher
            .seal(Purpose::IngestSource, "s3cret")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(
            cipher.open(Purpose::IngestSource, &sealed).as_deref(),
            Some("s3cret")
        );
        let other = Cipher::from_text(&"cd".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other.open(Purpose::IngestSource, &sealed), None);
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(cipher.open(Purpose::IngestSource, &altered), None);
        assert_eq!(cipher.open(Purpose::IngestSource, "s3cret"), None);
    }

    #[test]
    fn each_seal_takes_a_new_nonce() {
        let cipher = cipher();
        let a = cipher.seal(Purpose::IngestSource, "x");
        let b = cipher.seal(Purpose::IngestSource, "x");
        assert_ne!(a.ok(), b.ok());
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_of_32_bytes() {
        let bytes = [7u8; 32];
        for text in [
            hex::encode(bytes),
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
        ] {
            let cipher = Cipher::from_text(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let sealed = cipher
                .seal(Purpose::IngestSource, "x")
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                Cipher::from_text(&hex::encode(bytes))
                    .is_ok_and(|c| c.open(Purpose::IngestSource, &sealed).is_some())
            );
        }
        assert!(Cipher::from_text("short").is_err());
        assert!(Cipher::from_text(&hex::encode([1u8; 16])).is_err());
    }

    #[test]
    fn a_generated_key_is_kept_owner_only_and_read_again() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("relm-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}/r.db?mode=rwc", dir.display());
        let first = resolve(None, &url).unwrap_or_else(|e| panic!("{e}"));
        let sealed = first
            .seal(Purpose::IngestSource, "x")
            .unwrap_or_else(|e| panic!("{e}"));
        let again = resolve(None, &url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            again.open(Purpose::IngestSource, &sealed).as_deref(),
            Some("x")
        );
        let mode = std::fs::metadata(dir.join("r.db.key"))
            .unwrap_or_else(|e| panic!("{e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(resolve(None, "postgres://h/db").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
