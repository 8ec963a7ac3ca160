//! Parsed documents of recent queries. Clients send the same few queries over and over,
//! and parsing one is the largest cost of a small request that relm can avoid.

use std::collections::HashMap;
use std::sync::RwLock;

use async_graphql::parser::types::ExecutableDocument;

/// The most documents kept; when full the map starts over, so a client sending ever new
/// queries costs itself only the parse it would pay anyway.
const CAPACITY: usize = 256;
/// Longer queries are parsed every time, which keeps the cache small.
const MAX_QUERY_BYTES: usize = 4096;

#[derive(Debug, Default)]
pub struct Documents(RwLock<HashMap<String, ExecutableDocument>>);

impl Documents {
    /// Gives `request` the parsed document of its query, parsing and remembering it if
    /// it is new. A query that does not parse is left to the executor, which says why.
    pub fn prepare(&self, request: &mut async_graphql::Request) {
        if request.query.len() > MAX_QUERY_BYTES {
            return;
        }
        let known = self
            .0
            .read()
            .ok()
            .and_then(|documents| documents.get(&request.query).cloned());
        if let Some(document) = known {
            request.set_parsed_query(document);
            return;
        }
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            return;
        };
        if let Ok(mut documents) = self.0.write() {
            if documents.len() >= CAPACITY {
                documents.clear();
            }
            documents.insert(request.query.clone(), document.clone());
        }
        request.set_parsed_query(document);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_documents_that_parse_and_stays_bounded() {
        let documents = Documents::default();
        let mut request = async_graphql::Request::new("{ me { subject } }");
        documents.prepare(&mut request);
        assert!(request.parsed_query().is_ok());
        let mut broken = async_graphql::Request::new("{ me {");
        documents.prepare(&mut broken);
        let long = format!("{{ me {{ subject }} }}{}", " ".repeat(MAX_QUERY_BYTES));
        documents.prepare(&mut async_graphql::Request::new(long));
        for n in 0..CAPACITY + 1 {
            documents.prepare(&mut async_graphql::Request::new(format!(
                "{{ a{n}: me {{ role }} }}"
            )));
        }
        let kept = documents.0.read().map(|d| d.len()).unwrap_or_default();
        assert!((1..=CAPACITY).contains(&kept), "{kept}");
        let first = Documents::default();
        first.prepare(&mut async_graphql::Request::new("{ me { subject } }"));
        first.prepare(&mut async_graphql::Request::new("{ me {"));
        let keys: Vec<String> = first
            .0
            .read()
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["{ me { subject } }"]);
    }
}
