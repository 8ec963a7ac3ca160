//! What async-graphql's responses miss of the GraphQL specification, mended after
//! execution from the schema's types:
//! - a field error makes the nearest nullable position at or above the field null
//!   (specification, "Handling Execution Errors"); async-graphql drops the failed field's
//!   key from its parent instead, so a client saw a half object where it should see null;
//! - every error carries `extensions.code`: errors async-graphql raises itself (syntax,
//!   validation, argument and variable coercion, limits) have none, and are all about the
//!   request the client sent, so they get `BAD_USER_INPUT`.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Name, PathSegment, Response, Value};

/// Every object and interface field's type, read once from the schema's SDL.
#[derive(Debug, Default)]
pub struct OutputTypes {
    fields: HashMap<String, HashMap<String, Type>>,
}

impl OutputTypes {
    pub fn of(sdl: &str) -> Self {
        let mut fields: HashMap<String, HashMap<String, Type>> = HashMap::new();
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return Self::default();
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let list = match &ty.node.kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                _ => continue,
            };
            let entry = fields.entry(ty.node.name.node.to_string()).or_default();
            for field in list {
                entry.insert(field.node.name.node.to_string(), field.node.ty.node.clone());
            }
        }
        Self { fields }
    }

    fn field(&self, parent: &str, name: &str) -> Option<&Type> {
        self.fields.get(parent)?.get(name)
    }
}

/// Mends `response` to `query` (the operation `operation_name` selects).
pub fn conform(
    types: &OutputTypes,
    query: &str,
    operation_name: Option<&str>,
    response: &mut Response,
) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
    if response.errors.iter().all(|e| e.path.is_empty()) {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let Some(operation) = crate::graphql::selected_operation(&document, operation_name) else {
        return;
    };
    let root = match operation.node.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let walker = Walker {
        types,
        document: &document,
    };
    // All root fields failed: async-graphql answers `data: null`; fields that may be null
    // are put back below, and if none is, `data` stays null.
    let was_null = response.data == Value::Null;
    if was_null {
        response.data = Value::Object(Default::default());
    }
    let mut data_null = false;
    for error in &response.errors {
        if error.path.is_empty() {
            continue;
        }
        let Some(nullable) =
            walker.nullability(root, &operation.node.selection_set.node, &error.path)
        else {
            continue;
        };
        data_null |= null_nearest(&mut response.data, &error.path, &nullable);
    }
    let nothing_kept = matches!(&response.data, Value::Object(map) if map.is_empty());
    if data_null || (was_null && nothing_kept) {
        response.data = Value::Null;
    }
}

/// Sets the nearest nullable position at or above the first one the error left missing
/// (or null where null is not allowed); true when there is none and `data` must be null.
fn null_nearest(data: &mut Value, path: &[PathSegment], nullable: &[bool]) -> bool {
    let mut current = &*data;
    let mut broken = None;
    for (i, segment) in path.iter().enumerate() {
        match child(current, segment) {
            None => {
                broken = Some(i);
                break;
            }
            Some(Value::Null) => {
                if !nullable[i] {
                    broken = Some(i);
                }
                break;
            }
            Some(value) => current = value,
        }
    }
    let Some(broken) = broken else {
        return false;
    };
    match (0..=broken).rev().find(|&j| nullable[j]) {
        Some(j) => {
            set_null(data, &path[..=j]);
            false
        }
        None => true,
    }
}

fn child<'v>(value: &'v Value, segment: &PathSegment) -> Option<&'v Value> {
    match (value, segment) {
        (Value::Object(map), PathSegment::Field(key)) => map.get(key.as_str()),
        (Value::List(list), PathSegment::Index(i)) => list.get(*i),
        _ => None,
    }
}

fn set_null(value: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = value;
    for segment in parents {
        let next = match (current, segment) {
            (Value::Object(map), PathSegment::Field(key)) => map.get_mut(key.as_str()),
            (Value::List(list), PathSegment::Index(i)) => list.get_mut(*i),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    match (current, last) {
        (Value::Object(map), PathSegment::Field(key)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (Value::List(list), PathSegment::Index(i)) => {
            if let Some(item) = list.get_mut(*i) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

/// Follows an error's path through the operation's selections to the types it crosses.
struct Walker<'a> {
    types: &'a OutputTypes,
    document: &'a ExecutableDocument,
}

/// Fragments may spread fragments; validation refuses cycles, this bounds the walk anyway.
const MAX_FRAGMENT_NESTING: usize = 64;

impl<'a> Walker<'a> {
    /// Whether each position of `path` may be null, or None when the path does not follow
    /// the schema (e.g. introspection, which this does not model).
    fn nullability(
        &self,
        root: &'a str,
        selection: &'a SelectionSet,
        path: &[PathSegment],
    ) -> Option<Vec<bool>> {
        let mut sets: Vec<(&SelectionSet, &str)> = vec![(selection, root)];
        let mut current: Option<&Type> = None;
        let mut nullable = Vec::with_capacity(path.len());
        for segment in path {
            match segment {
                PathSegment::Field(key) => {
                    let mut found = Vec::new();
                    for (set, parent) in &sets {
                        self.collect(set, parent, key, &mut found, 0);
                    }
                    let (field, parent) = found.first()?;
                    let ty = self.types.field(parent, field.node.name.node.as_str())?;
                    nullable.push(ty.nullable);
                    let named = named_type(ty);
                    sets = found
                        .iter()
                        .map(|(f, _)| (&f.node.selection_set.node, named))
                        .collect();
                    current = Some(ty);
                }
                PathSegment::Index(_) => match &current?.base {
                    BaseType::List(item) => {
                        nullable.push(item.nullable);
                        current = Some(item);
                    }
                    BaseType::Named(_) => return None,
                },
            }
        }
        Some(nullable)
    }

    /// The fields of `set` (and of its fragments) answering to `key`, with the type each
    /// is selected on.
    fn collect(
        &self,
        set: &'a SelectionSet,
        parent: &'a str,
        key: &str,
        found: &mut Vec<(
            &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
            &'a str,
        )>,
        nesting: usize,
    ) {
        if nesting > MAX_FRAGMENT_NESTING {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    if field.node.response_key().node.as_str() == key {
                        found.push((field, parent));
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.collect(
                        &fragment.node.selection_set.node,
                        on,
                        key,
                        found,
                        nesting + 1,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.collect(
                            &fragment.node.selection_set.node,
                            on,
                            key,
                            found,
                            nesting + 1,
                        );
                    }
                }
            }
        }
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named_type(item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::ServerError;

    const SDL: &str = r"
        type Query { program(key: String!): Program  releases: Conn!  node: Node }
        type Program { key: String!  releases: Conn!  owner: String }
        type Conn { totalCount: Int!  nodes: [Release!]!  maybe: [Release] }
        type Release implements Node { id: ID!  version: String! }
        interface Node { id: ID! }
    ";

    fn mend(query: &str, data: serde_json::Value, paths: &[&[PathSegment]]) -> serde_json::Value {
        let mut response = Response::new(Value::from_json(data).unwrap_or_default());
        response.errors = paths
            .iter()
            .map(|path| {
                let mut e = ServerError::new("failed", None);
                e.path = path.to_vec();
                e
            })
            .collect();
        conform(&OutputTypes::of(SDL), query, None, &mut response);
        serde_json::to_value(&response).unwrap_or_default()
    }

    fn field(name: &str) -> PathSegment {
        PathSegment::Field(name.into())
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nullable_parent() {
        let out = mend(
            "{ program(key: \"P\") { key releases { totalCount } } }",
            serde_json::json!({ "program": { "key": "P" } }),
            &[&[field("program"), field("releases")]],
        );
        assert_eq!(out["data"], serde_json::json!({ "program": null }));
    }

    #[test]
    fn a_failed_nullable_field_becomes_null_in_place() {
        let out = mend(
            "{ program(key: \"P\") { key owner } }",
            serde_json::json!({ "program": { "key": "P" } }),
            &[&[field("program"), field("owner")]],
        );
        assert_eq!(
            out["data"],
            serde_json::json!({ "program": { "key": "P", "owner": null } })
        );
        let out = mend(
            "{ program(key: \"P\") { key } }",
            serde_json::Value::Null,
            &[&[field("program")]],
        );
        assert_eq!(out["data"], serde_json::json!({ "program": null }));
    }

    #[test]
    fn a_failed_non_null_root_field_nulls_data() {
        let out = mend(
            "{ program(key: \"P\") { key } releases { totalCount } }",
            serde_json::json!({ "program": { "key": "P" } }),
            &[&[field("releases")]],
        );
        assert_eq!(out["data"], serde_json::Value::Null);
        assert_eq!(out["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }

    #[test]
    fn follows_aliases_fragments_and_list_items() {
        let query = "{ p: program(key: \"P\") { ...F } } fragment F on Program { r: releases { nodes { version } maybe { version } } }";
        let data = serde_json::json!({ "p": { "r": { "nodes": [{}], "maybe": [{ "version": "1" }, {}] } } });
        let out = mend(
            query,
            data.clone(),
            &[&[
                field("p"),
                field("r"),
                field("maybe"),
                PathSegment::Index(1),
                field("version"),
            ]],
        );
        assert_eq!(
            out["data"]["p"]["r"]["maybe"],
            serde_json::json!([{ "version": "1" }, null])
        );
        let out = mend(
            query,
            data,
            &[&[
                field("p"),
                field("r"),
                field("nodes"),
                PathSegment::Index(0),
                field("version"),
            ]],
        );
        assert_eq!(out["data"], serde_json::json!({ "p": null }));
    }

    #[test]
    fn an_error_under_a_null_allowed_value_changes_nothing() {
        let out = mend(
            "{ program(key: \"P\") { releases { totalCount } } }",
            serde_json::json!({ "program": null }),
            &[&[field("program"), field("releases")]],
        );
        assert_eq!(out["data"], serde_json::json!({ "program": null }));
    }

    #[test]
    fn a_path_outside_the_schema_leaves_data_null() {
        let out = mend(
            "{ __schema { nope } }",
            serde_json::Value::Null,
            &[&[field("__schema")]],
        );
        assert!(out["data"].is_null(), "{out}");
    }

    #[test]
    fn keeps_codes_that_are_there() {
        let mut response = Response::new(Value::Null);
        let mut error = ServerError::new("nope", None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "FORBIDDEN");
        error.extensions = Some(extensions);
        response.errors = vec![error, ServerError::new("syntax", None)];
        conform(&OutputTypes::of(SDL), "{", None, &mut response);
        let out = serde_json::to_value(&response).unwrap_or_default();
        assert_eq!(out["errors"][0]["extensions"]["code"], "FORBIDDEN");
        assert_eq!(out["errors"][1]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(out.get("data").is_none_or(serde_json::Value::is_null));
    }
}
