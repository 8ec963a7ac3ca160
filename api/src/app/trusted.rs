//! Trusted documents (interface.md, *Front-end applications*): a manifest of GraphQL
//! documents by the SHA-256 of their text, as GraphQL Code Generator and Relay write it. A
//! request may name one (`documentId`, or Apollo's `extensions.persistedQuery.sha256Hash`)
//! instead of sending its text, and a mode restricts who may run anything else.
//!
//! The id is read after the token: an unknown id from a caller without a valid token is
//! `UNAUTHENTICATED`, like any request of theirs. The manifest's text then goes the way of
//! every document (scan, limits, the document cache that parses it once).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::Role;
use crate::error::ApiError;

/// Who may run documents that are not in the manifest (`RELM_TRUSTED_DOCUMENTS_ONLY`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Only {
    /// Everybody.
    #[default]
    Off,
    /// Everybody but VIEWER tokens.
    Viewers,
    /// ADMIN tokens only.
    All,
}

impl std::str::FromStr for Only {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" | "" => Ok(Self::Off),
            "viewers" => Ok(Self::Viewers),
            "all" => Ok(Self::All),
            other => Err(format!(
                "RELM_TRUSTED_DOCUMENTS_ONLY: '{other}' is not one of off, viewers or all"
            )),
        }
    }
}

impl Only {
    /// Whether a caller of `role` may run only trusted documents.
    fn restricts(self, role: Role) -> bool {
        match self {
            Self::Off => false,
            Self::Viewers => role == Role::Viewer,
            Self::All => role != Role::Admin,
        }
    }
}

/// The manifest and the mode.
#[derive(Debug, Clone, Default)]
pub struct Trusted {
    /// Document text by the lower-case hex of its SHA-256.
    documents: HashMap<String, Arc<str>>,
    only: Only,
}

/// The lower-case hex of an id written `sha256:<hex>` or `<hex>`, in any case.
fn hex_of(id: &str) -> String {
    let id = id.to_ascii_lowercase();
    match id.strip_prefix("sha256:") {
        Some(hex) => hex.to_owned(),
        None => id,
    }
}

/// The id of a document: the lower-case hex of the SHA-256 of its text.
pub fn id_of(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Trusted {
    /// Reads a manifest `{"<id>": "<document>"}`; an id that is not the SHA-256 of its
    /// document is the error, named.
    pub fn load(manifest: &str, only: Only) -> Result<Self, String> {
        let entries: HashMap<String, String> = serde_json::from_str(manifest)
            .map_err(|e| format!("RELM_TRUSTED_DOCUMENTS: not a JSON object of documents: {e}"))?;
        let mut documents = HashMap::with_capacity(entries.len());
        for (id, text) in entries {
            let hex = hex_of(&id);
            if hex != id_of(&text) {
                return Err(format!(
                    "RELM_TRUSTED_DOCUMENTS: the id {id} is not the SHA-256 of its document"
                ));
            }
            documents.insert(hex, Arc::from(text));
        }
        Ok(Self { documents, only })
    }

    /// The text of the document with `id`, if the manifest has it.
    pub fn text(&self, id: &str) -> Option<&str> {
        self.documents.get(&hex_of(id)).map(|text| &**text)
    }

    /// The text of the document `request` names, if the manifest has it.
    pub fn named_text(&self, request: &async_graphql::Request) -> Option<&str> {
        self.text(&document_id(request)?)
    }

    /// Puts the named document's text in `request` for a caller of `role`, or refuses:
    /// an unknown id without text, a text that is not the named document's, or a document
    /// outside the manifest for a caller the mode restricts.
    pub fn resolve(
        &self,
        request: &mut async_graphql::Request,
        role: Role,
    ) -> Result<(), ApiError> {
        let restricted = self.only.restricts(role);
        let required = || {
            ApiError::PersistedQueryRequired(
                "this token may run only trusted documents: send a documentId".into(),
            )
        };
        let Some(id) = document_id(request) else {
            return if restricted { Err(required()) } else { Ok(()) };
        };
        match self.text(&id) {
            Some(text) if request.query.is_empty() => {
                request.query = text.to_owned();
                Ok(())
            }
            Some(text) if request.query == text => Ok(()),
            Some(_) if restricted => Err(required()),
            Some(_) => Err(ApiError::bad_input(
                "query",
                format!("is not the trusted document {id}"),
            )),
            None if request.query.is_empty() => Err(ApiError::PersistedQueryNotFound(format!(
                "no trusted document has the id {id}"
            ))),
            None if restricted => Err(required()),
            None => Ok(()),
        }
    }
}

/// The id a request names: Apollo's `extensions.persistedQuery.sha256Hash`, where
/// [`Sent`] also puts a `documentId`.
fn document_id(request: &async_graphql::Request) -> Option<String> {
    let async_graphql::Value::Object(persisted) = request.extensions.0.get("persistedQuery")?
    else {
        return None;
    };
    match persisted.get("sha256Hash")? {
        async_graphql::Value::String(id) => Some(id.clone()),
        _ => None,
    }
}

/// A GraphQL request as a client sends it: `query`, or a `documentId` beside or instead
/// of it.
#[derive(Deserialize)]
pub struct Sent {
    #[serde(flatten)]
    request: async_graphql::Request,
    #[serde(rename = "documentId")]
    document_id: Option<String>,
}

impl Sent {
    /// The request, its `documentId` carried as Apollo's extension.
    pub fn into_request(self) -> async_graphql::Request {
        with_document_id(self.request, self.document_id)
    }
}

/// `request` naming the document `id`, when there is one.
pub fn with_document_id(
    mut request: async_graphql::Request,
    id: Option<String>,
) -> async_graphql::Request {
    if let Some(id) = id {
        let mut persisted = async_graphql::indexmap::IndexMap::new();
        persisted.insert(
            async_graphql::Name::new("sha256Hash"),
            async_graphql::Value::String(id),
        );
        request.extensions.0.insert(
            "persistedQuery".into(),
            async_graphql::Value::Object(persisted),
        );
    }
    request
}

/// Whether a request names a document rather than sending only text.
pub fn names_a_document(request: &async_graphql::Request) -> bool {
    document_id(request).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "{ me { subject } }";

    fn manifest(only: Only) -> Trusted {
        let id = format!("sha256:{}", id_of(ME));
        Trusted::load(&serde_json::json!({ id: ME }).to_string(), only).unwrap()
    }

    fn request(query: &str, id: Option<&str>) -> async_graphql::Request {
        with_document_id(async_graphql::Request::new(query), id.map(str::to_owned))
    }

    fn code(result: Result<(), ApiError>) -> &'static str {
        result.err().map_or("ok", |e| e.code())
    }

    #[test]
    fn a_sent_request_keeps_its_fields_beside_a_document_id() {
        let sent: Sent = serde_json::from_str(
            r#"{"query": "query X($a: Int) { me { subject } }", "operationName": "X",
                "variables": {"a": 1}, "extensions": {"trace": true}, "documentId": "sha256:ab"}"#,
        )
        .unwrap();
        let request = sent.into_request();
        assert_eq!(request.operation_name.as_deref(), Some("X"));
        assert_eq!(
            request.variables.get("a"),
            Some(&async_graphql::Value::from(1))
        );
        assert!(request.extensions.0.contains_key("trace"));
        assert_eq!(document_id(&request).as_deref(), Some("sha256:ab"));
        let plain: Sent = serde_json::from_str(r#"{"query": "{ me { subject } }"}"#).unwrap();
        assert!(!names_a_document(&plain.into_request()));
    }

    #[test]
    fn a_manifest_with_a_wrong_hash_is_refused_naming_the_id() {
        let err = Trusted::load(r#"{"sha256:00ab": "{ me { subject } }"}"#, Only::Off).unwrap_err();
        assert!(err.contains("sha256:00ab"), "{err}");
        assert!(Trusted::load("[]", Only::Off).is_err());
        // Bare hex in any case is an id too.
        let bare = id_of(ME).to_uppercase();
        assert!(Trusted::load(&serde_json::json!({ bare: ME }).to_string(), Only::Off).is_ok());
    }

    #[test]
    fn an_id_runs_its_document_and_text_beside_it_must_be_that_document() {
        let trusted = manifest(Only::Off);
        let id = id_of(ME);
        let mut by_id = request("", Some(&id));
        assert_eq!(code(trusted.resolve(&mut by_id, Role::Viewer)), "ok");
        assert_eq!(by_id.query, ME);
        let mut prefixed = request(ME, Some(&format!("sha256:{id}")));
        assert_eq!(code(trusted.resolve(&mut prefixed, Role::Viewer)), "ok");
        let mut other = request("{ me { role } }", Some(&id));
        assert_eq!(
            code(trusted.resolve(&mut other, Role::Viewer)),
            "BAD_USER_INPUT"
        );
        let mut unknown = request("", Some("sha256:1234"));
        assert_eq!(
            code(trusted.resolve(&mut unknown, Role::Admin)),
            "PERSISTED_QUERY_NOT_FOUND"
        );
        // Apollo resends an unknown id with its text: it runs where the mode allows.
        let mut resent = request("{ me { role } }", Some("sha256:1234"));
        assert_eq!(code(trusted.resolve(&mut resent, Role::Viewer)), "ok");
    }

    #[test]
    fn each_mode_restricts_its_callers_to_the_manifest() {
        let free = "{ me { role } }";
        for (only, role, expected) in [
            (Only::Off, Role::Viewer, "ok"),
            (Only::Viewers, Role::Viewer, "PERSISTED_QUERY_REQUIRED"),
            (Only::Viewers, Role::Analyst, "ok"),
            (Only::All, Role::ReleaseManager, "PERSISTED_QUERY_REQUIRED"),
            (Only::All, Role::Admin, "ok"),
        ] {
            let trusted = manifest(only);
            assert_eq!(
                code(trusted.resolve(&mut request(free, None), role)),
                expected,
                "{only:?} {role:?}"
            );
            let mut listed = request("", Some(&id_of(ME)));
            assert_eq!(
                code(trusted.resolve(&mut listed, role)),
                "ok",
                "{only:?} {role:?}"
            );
            let mut changed = request(free, Some(&id_of(ME)));
            let refused = code(trusted.resolve(&mut changed, role));
            assert_ne!(refused, "ok", "{only:?} {role:?}");
        }
        assert_eq!("ALL".parse::<Only>(), Ok(Only::All));
        assert!("some".parse::<Only>().is_err());
    }
}
