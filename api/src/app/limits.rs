//! Limits checked once a document parses and before async-graphql validates or runs it,
//! and the operation type for request metrics. The checks of a document alone run once per
//! document (`documents` keeps the documents that passed them); a request's variables are
//! checked every time. They run before the schema sees the request rather than in an
//! extension: an extension puts every field of every request through its hooks.
//!
//! Depth and complexity are async-graphql's (`graphql::complexity`). These checks add what
//! they do not see:
//! - aliases and root fields counted after fragment expansion, since one fragment spread
//!   many times runs many times;
//! - at most one of each directive per location, as the specification requires;
//! - input bounds: at most [`MAX_LIST_ITEMS`] items in any list argument or list input
//!   field, and no NUL character in any string (PostgreSQL cannot store one), in literals
//!   and variables alike, so such input is `BAD_USER_INPUT` on both databases.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError, ServerResult, Value, Variables};

use crate::graphql::complexity::MAX_COMPLEXITY;

pub const MAX_ALIASES: usize = 30;
pub const MAX_ROOT_FIELDS: usize = 30;
/// Selections (fields, spreads, inline fragments) once fragments are expanded. Every field
/// costs at least 1 of complexity, so this refuses almost nothing the complexity limit
/// would accept; it refuses it before anything expands it.
pub const MAX_SELECTIONS: usize = 2 * MAX_COMPLEXITY;
/// The most items a list argument or list input field may hold.
pub const MAX_LIST_ITEMS: usize = 100;

/// Per-request record of what the query was, for logs and metrics.
#[derive(Default, Debug)]
pub struct RequestMeta {
    operation: OnceLock<&'static str>,
}

impl RequestMeta {
    /// `query`, `mutation`, `subscription`, or `invalid` when the document did not parse.
    pub fn operation(&self) -> &'static str {
        self.operation.get().copied().unwrap_or("invalid")
    }

    /// Notes the type of the operation of `document` a request named `name` runs.
    pub fn note(&self, document: &ExecutableDocument, name: Option<&str>) {
        if let Some(operation) = crate::graphql::selected_operation(document, name) {
            let _ = self.operation.set(operation_name(operation.node.ty));
        }
    }

    /// Whether the request runs a mutation.
    pub fn is_mutation(&self) -> bool {
        self.operation() == "mutation"
    }
}

fn operation_name(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// What a selection set amounts to once every fragment spread is expanded where it is
/// spread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    aliases: usize,
    /// Fields selected at this level (through inline fragments and spreads).
    fields: usize,
    /// Selections (fields, fragment spreads, inline fragments) at every level.
    total: usize,
    /// A fragment spreads itself, directly or not.
    cycle: bool,
}

impl Counts {
    fn plus(self, other: Self) -> Self {
        Self {
            aliases: self.aliases.saturating_add(other.aliases),
            fields: self.fields.saturating_add(other.fields),
            total: self.total.saturating_add(other.total),
            cycle: self.cycle || other.cycle,
        }
    }

    /// These counts inside one more selection.
    fn nested(self) -> Self {
        Self {
            total: self.total.saturating_add(1),
            ..self
        }
    }
}

/// Counts selection sets with fragments expanded. Each fragment is counted once and its
/// counts reused, so a fragment spread twice in a fragment spread twice in… costs linear
/// time here, while expanding it takes exponential time (async-graphql's depth check and
/// validation do, which is why such a document, and a fragment cycle, must be refused
/// before they see it).
struct Expanded<'a> {
    document: &'a ExecutableDocument,
    fragments: HashMap<&'a Name, Counts>,
    visiting: HashSet<&'a Name>,
}

impl<'a> Expanded<'a> {
    fn new(document: &'a ExecutableDocument) -> Self {
        Self {
            document,
            fragments: HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    fn set(&mut self, set: &'a SelectionSet) -> Counts {
        set.items.iter().fold(Counts::default(), |sum, item| {
            let counts = match &item.node {
                Selection::Field(f) => {
                    let inner = self.set(&f.node.selection_set.node);
                    Counts {
                        aliases: usize::from(f.node.alias.is_some()).saturating_add(inner.aliases),
                        fields: 1,
                        ..inner.nested()
                    }
                }
                Selection::InlineFragment(f) => self.set(&f.node.selection_set.node).nested(),
                Selection::FragmentSpread(s) => self.fragment(&s.node.fragment_name.node).nested(),
            };
            sum.plus(counts)
        })
    }

    fn fragment(&mut self, name: &'a Name) -> Counts {
        if let Some(counts) = self.fragments.get(name) {
            return *counts;
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Counts::default();
        };
        if !self.visiting.insert(name) {
            return Counts {
                cycle: true,
                ..Counts::default()
            };
        }
        let counts = self.set(&fragment.node.selection_set.node);
        self.visiting.remove(name);
        self.fragments.insert(name, counts);
        counts
    }
}

fn refuse(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    error.extensions = Some(extensions);
    error
}

fn check_counts(document: &ExecutableDocument) -> ServerResult<()> {
    let mut expanded = Expanded::new(document);
    for (_, operation) in document.operations.iter() {
        let counts = expanded.set(&operation.node.selection_set.node);
        if counts.cycle {
            return Err(refuse("a fragment spreads itself".into()));
        }
        if counts.aliases > MAX_ALIASES {
            return Err(refuse(format!(
                "the operation uses {} aliases once fragments are expanded; at most {MAX_ALIASES} are allowed",
                counts.aliases
            )));
        }
        if counts.fields > MAX_ROOT_FIELDS {
            return Err(refuse(format!(
                "the operation selects {} root fields once fragments are expanded; at most {MAX_ROOT_FIELDS} are allowed",
                counts.fields
            )));
        }
        if counts.total > MAX_SELECTIONS {
            return Err(refuse(format!(
                "the operation has {} selections once fragments are expanded; at most {MAX_SELECTIONS} are allowed",
                counts.total
            )));
        }
    }
    Ok(())
}

/// Every location's directives, each directive at most once.
fn check_directives(document: &ExecutableDocument) -> ServerResult<()> {
    fn unique(directives: &[Positioned<Directive>]) -> ServerResult<()> {
        let mut seen = HashSet::new();
        for directive in directives {
            let name = &directive.node.name.node;
            if !seen.insert(name) {
                return Err(refuse(format!(
                    "the directive @{name} appears more than once at one location"
                )));
            }
        }
        Ok(())
    }
    fn in_set(set: &SelectionSet) -> ServerResult<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    unique(&f.node.directives)?;
                    in_set(&f.node.selection_set.node)?;
                }
                Selection::InlineFragment(f) => {
                    unique(&f.node.directives)?;
                    in_set(&f.node.selection_set.node)?;
                }
                Selection::FragmentSpread(s) => unique(&s.node.directives)?,
            }
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        unique(&operation.node.directives)?;
        for variable in &operation.node.variable_definitions {
            unique(&variable.node.directives)?;
        }
        in_set(&operation.node.selection_set.node)?;
    }
    for fragment in document.fragments.values() {
        unique(&fragment.node.directives)?;
        in_set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// Checks a value's lists and strings; `path` names it in the message.
fn check_value<V: InputValue>(value: &V, path: &mut String) -> ServerResult<()> {
    match value.shape() {
        Shape::Text(text) if text.contains('\0') => Err(refuse(format!(
            "{path}: text may not contain the NUL character"
        ))),
        Shape::List(items) if items.len() > MAX_LIST_ITEMS => Err(refuse(format!(
            "{path}: at most {MAX_LIST_ITEMS} items are allowed, got {}",
            items.len()
        ))),
        Shape::List(items) => items.iter().try_for_each(|item| check_value(item, path)),
        Shape::Object(fields) => fields.into_iter().try_for_each(|(name, field)| {
            let len = path.len();
            path.push('.');
            path.push_str(name);
            let result = check_value(field, path);
            path.truncate(len);
            result
        }),
        Shape::Text(_) | Shape::Other => Ok(()),
    }
}

/// The parts of a literal or variable value that input bounds look at.
enum Shape<'v, V> {
    Text(&'v str),
    List(&'v [V]),
    Object(Vec<(&'v str, &'v V)>),
    Other,
}

trait InputValue: Sized {
    fn shape(&self) -> Shape<'_, Self>;
}

impl InputValue for Value {
    fn shape(&self) -> Shape<'_, Self> {
        match self {
            Self::String(s) => Shape::Text(s),
            Self::List(items) => Shape::List(items),
            Self::Object(fields) => {
                Shape::Object(fields.iter().map(|(k, v)| (k.as_str(), v)).collect())
            }
            _ => Shape::Other,
        }
    }
}

impl InputValue for async_graphql_value::Value {
    fn shape(&self) -> Shape<'_, Self> {
        use async_graphql_value::Value as Literal;
        match self {
            Literal::String(s) => Shape::Text(s),
            Literal::List(items) => Shape::List(items),
            Literal::Object(fields) => {
                Shape::Object(fields.iter().map(|(k, v)| (k.as_str(), v)).collect())
            }
            _ => Shape::Other,
        }
    }
}

/// Input bounds on a request's variables.
pub fn check_variables(variables: &Variables) -> ServerResult<()> {
    for (name, value) in variables.iter() {
        check_value(value, &mut format!("variable ${name}"))?;
    }
    Ok(())
}

/// Input bounds on the document's literals: arguments and variables' defaults.
fn check_literals(document: &ExecutableDocument) -> ServerResult<()> {
    fn arguments(
        args: &[(Positioned<Name>, Positioned<async_graphql_value::Value>)],
    ) -> ServerResult<()> {
        args.iter().try_for_each(|(name, value)| {
            check_value(&value.node, &mut format!("argument {}", name.node))
        })
    }
    fn directives(list: &[Positioned<Directive>]) -> ServerResult<()> {
        list.iter().try_for_each(|d| arguments(&d.node.arguments))
    }
    fn in_set(set: &SelectionSet) -> ServerResult<()> {
        set.items.iter().try_for_each(|item| match &item.node {
            Selection::Field(f) => {
                arguments(&f.node.arguments)?;
                directives(&f.node.directives)?;
                in_set(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => {
                directives(&f.node.directives)?;
                in_set(&f.node.selection_set.node)
            }
            Selection::FragmentSpread(s) => directives(&s.node.directives),
        })
    }
    for (_, operation) in document.operations.iter() {
        for variable in &operation.node.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                check_value(
                    &default.node,
                    &mut format!("variable ${}", variable.node.name.node),
                )?;
            }
        }
        directives(&operation.node.directives)?;
        in_set(&operation.node.selection_set.node)?;
    }
    document
        .fragments
        .values()
        .try_for_each(|f| in_set(&f.node.selection_set.node))
}

/// Every check of a document alone. Fragments are expanded by counting, so a document that
/// async-graphql's depth check and validation would take exponential time to expand (a
/// fragment spread twice in a fragment spread twice in…) is refused before they see it.
pub fn check_document(document: &ExecutableDocument) -> ServerResult<()> {
    check_counts(document)?;
    check_directives(document)?;
    check_literals(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let document = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        let variables = Variables::from_json(variables);
        check_document(&document)
            .and_then(|()| check_variables(&variables))
            .map_err(|e| e.message)
    }

    #[test]
    fn counts_aliases_in_fragments_once_per_spread() {
        let aliases: String = (0..5).map(|i| format!("a{i}: id ")).collect();
        let spreads = "...F ".repeat(7);
        let query = format!(
            "{{ releases {{ nodes {{ {spreads} }} }} }} fragment F on Release {{ {aliases} }}"
        );
        let error = run(&query, serde_json::json!({})).unwrap_err();
        assert!(error.contains("35 aliases"), "{error}");
        let nested = "query { ...A } fragment A on Query { ...B ...B ...B ...B } fragment B on Query { ...C ...C ...C ...C } fragment C on Query { x: me { subject } y: me { subject } }";
        let error = run(nested, serde_json::json!({})).unwrap_err();
        assert!(error.contains("32 aliases"), "{error}");
        assert_eq!(
            run(
                &format!(
                    "{{ releases {{ nodes {{ ...F ...F }} }} }} fragment F on Release {{ {aliases} }}"
                ),
                serde_json::json!({})
            ),
            Ok(())
        );
    }

    #[test]
    fn counts_root_fields_through_fragments() {
        let query = format!(
            "{{ ...F }} fragment F on Query {{ {} }}",
            "me { subject } ".repeat(31)
        );
        let error = run(&query, serde_json::json!({})).unwrap_err();
        assert!(error.contains("31 root fields"), "{error}");
    }

    #[test]
    fn fragments_doubling_at_every_level_are_counted_without_expanding_them() {
        let mut query = String::from("{ me { ...F0 } }");
        for n in 0..60 {
            query.push_str(&format!(
                " fragment F{n} on Viewer {{ ...F{} ...F{} }}",
                n + 1,
                n + 1
            ));
        }
        query.push_str(" fragment F60 on Viewer { subject }");
        let error = run(&query, serde_json::json!({})).unwrap_err();
        assert!(
            error.contains("selections once fragments are expanded"),
            "{error}"
        );
        let mut root = String::from("{ ...Q0 }");
        for n in 0..60 {
            root.push_str(&format!(
                " fragment Q{n} on Query {{ ...Q{} ...Q{} }}",
                n + 1,
                n + 1
            ));
        }
        root.push_str(" fragment Q60 on Query { me { subject } }");
        let error = run(&root, serde_json::json!({})).unwrap_err();
        assert!(error.contains("root fields"), "{error}");
    }

    #[test]
    fn a_fragment_cycle_is_refused_without_looping() {
        let query = "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A x: me { subject } }";
        let error = run(query, serde_json::json!({})).unwrap_err();
        assert!(error.contains("spreads itself"), "{error}");
    }

    #[test]
    fn refuses_a_directive_twice_at_one_location() {
        let error = run(
            "{ me @include(if: true) @include(if: true) { subject } }",
            serde_json::json!({}),
        )
        .unwrap_err();
        assert!(error.contains("@include"), "{error}");
        assert!(
            run(
                "{ ... on Query @skip(if: false) @skip(if: true) { me { subject } } }",
                serde_json::json!({})
            )
            .is_err()
        );
        assert_eq!(
            run(
                "{ me @include(if: true) @skip(if: false) { subject } }",
                serde_json::json!({})
            ),
            Ok(())
        );
    }

    #[test]
    fn bounds_lists_in_literals_and_variables() {
        let keys: Vec<String> = (0..101).map(|i| format!("\"K{i}\"")).collect();
        let query = format!(
            "{{ releases(filter: {{ programKeys: [{}] }}) {{ totalCount }} }}",
            keys.join(",")
        );
        let error = run(&query, serde_json::json!({})).unwrap_err();
        assert!(
            error.starts_with("argument filter.programKeys: at most 100"),
            "{error}"
        );
        let error = run(
            "query($f: ReleaseFilter) { releases(filter: $f) { totalCount } }",
            serde_json::json!({ "f": { "programKeys": vec!["K"; 20_000] } }),
        )
        .unwrap_err();
        assert!(
            error.starts_with("variable $f.programKeys: at most 100"),
            "{error}"
        );
        assert_eq!(
            run(
                "query($f: ReleaseFilter) { releases(filter: $f) { totalCount } }",
                serde_json::json!({ "f": { "programKeys": vec!["K"; 100] } })
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_nul_in_any_string() {
        let error = run(
            r#"{ program(key: "P\u0000Y") { key } }"#,
            serde_json::json!({}),
        )
        .unwrap_err();
        assert!(
            error.starts_with("argument key: text may not contain"),
            "{error}"
        );
        let error = run(
            "mutation($i: CreateReleaseInput!) { createRelease(input: $i) { id } }",
            serde_json::json!({ "i": { "teams": ["ok", "a\u{0}b"] } }),
        )
        .unwrap_err();
        assert!(
            error.starts_with("variable $i.teams: text may not contain"),
            "{error}"
        );
    }
}
