//! Parsed documents of recent queries that passed relm's limits. Clients send the same few
//! queries over and over, and parsing and checking one is the largest cost of a small
//! request that relm can avoid.

use std::collections::HashMap;
use std::sync::RwLock;

use async_graphql::ServerResult;
use async_graphql::parser::types::ExecutableDocument;

use super::limits;

/// The most documents kept; when full the map starts over, so a client sending ever new
/// queries costs itself only the parse it would pay anyway.
const CAPACITY: usize = 256;
/// Longer queries are parsed every time, which keeps the cache small.
const MAX_QUERY_BYTES: usize = 4096;

#[derive(Debug, Default)]
pub struct Documents(RwLock<HashMap<String, ExecutableDocument>>);

impl Documents {
    /// The parsed document of `query` if it is within the limits of a document
    /// ([`limits::check_document`]), else the error naming the limit it exceeds: remembered
    /// when it was seen before, otherwise parsed, checked and remembered. `None` for a query
    /// that does not parse, which the executor refuses with its own words.
    pub fn checked(&self, query: &str) -> Option<ServerResult<ExecutableDocument>> {
        let cacheable = query.len() <= MAX_QUERY_BYTES;
        if cacheable
            && let Some(document) = self
                .0
                .read()
                .ok()
                .and_then(|documents| documents.get(query).cloned())
        {
            return Some(Ok(document));
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        if let Err(error) = limits::check_document(&document) {
            return Some(Err(error));
        }
        if cacheable && let Ok(mut documents) = self.0.write() {
            if documents.len() >= CAPACITY {
                documents.clear();
            }
            documents.insert(query.to_owned(), document.clone());
        }
        Some(Ok(document))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(documents: &Documents) -> usize {
        documents.0.read().map(|d| d.len()).unwrap_or_default()
    }

    #[test]
    fn remembers_documents_within_limits_and_stays_bounded() {
        let documents = Documents::default();
        assert!(matches!(
            documents.checked("{ me { subject } }"),
            Some(Ok(_))
        ));
        assert!(documents.checked("{ me {").is_none());
        let over = format!(
            "{{ {} }}",
            (0..=limits::MAX_ALIASES)
                .map(|i| format!("a{i}: me {{ role }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let refused = documents.checked(&over).and_then(Result::err);
        assert!(
            refused.is_some_and(|e| e.message.contains("aliases")),
            "a document over the limits is refused"
        );
        let long = format!("{{ me {{ subject }} }}{}", " ".repeat(MAX_QUERY_BYTES));
        assert!(matches!(documents.checked(&long), Some(Ok(_))));
        assert_eq!(kept(&documents), 1, "only the short valid query is kept");
        for n in 0..CAPACITY + 1 {
            let _ = documents.checked(&format!("{{ a{n}: me {{ role }} }}"));
        }
        assert!((1..=CAPACITY).contains(&kept(&documents)));
    }
}
