//! Limits checked once a document parses and before it is validated or run, and the
//! operation type for request metrics.
//!
//! Depth and complexity are async-graphql's (complexity multiplies a connection's children
//! by its page size, see [`page_cost`]). This extension adds what they do not see:
//! - aliases and root fields counted after fragment expansion, since one fragment spread
//!   many times runs many times;
//! - at most one of each directive per location, as the specification requires;
//! - input bounds: at most [`MAX_LIST_ITEMS`] items in any list argument or list input
//!   field, and no NUL character in any string (PostgreSQL cannot store one), in literals
//!   and variables alike, so such input is `BAD_USER_INPUT` on both databases.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError, ServerResult, Value, Variables};

use crate::graphql::pagination::{DEFAULT_PAGE, MAX_PAGE};

pub const MAX_DEPTH: usize = 15;
/// Each field costs 1; a connection's children cost as many times as its page holds.
pub const MAX_COMPLEXITY: usize = 10_000;
pub const MAX_ALIASES: usize = 30;
pub const MAX_ROOT_FIELDS: usize = 30;
/// The most items a list argument or list input field may hold.
pub const MAX_LIST_ITEMS: usize = 100;

/// The complexity of a connection field: its children once per row its page may hold.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.or(last).map_or(DEFAULT_PAGE, |n| {
        u64::try_from(n).unwrap_or(0).min(MAX_PAGE)
    });
    (rows.max(1) as usize).saturating_mul(child_complexity) + 1
}

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
}

fn operation_name(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// Counts over a selection set with every fragment spread expanded where it is spread.
/// Each fragment is counted once and its count reused; a fragment cycle counts nothing
/// here (validation refuses it).
struct Expanded<'a> {
    document: &'a ExecutableDocument,
    aliases: HashMap<&'a Name, usize>,
    visiting: HashSet<&'a Name>,
}

impl<'a> Expanded<'a> {
    fn new(document: &'a ExecutableDocument) -> Self {
        Self {
            document,
            aliases: HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    fn aliases(&mut self, set: &'a SelectionSet) -> usize {
        set.items.iter().fold(0usize, |sum, item| {
            let n = match &item.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some())
                    .saturating_add(self.aliases(&f.node.selection_set.node)),
                Selection::InlineFragment(f) => self.aliases(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => self.fragment_aliases(&s.node.fragment_name.node),
            };
            sum.saturating_add(n)
        })
    }

    fn fragment_aliases(&mut self, name: &'a Name) -> usize {
        if let Some(n) = self.aliases.get(name) {
            return *n;
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return 0;
        };
        if !self.visiting.insert(name) {
            return 0;
        }
        let n = self.aliases(&fragment.node.selection_set.node);
        self.visiting.remove(name);
        self.aliases.insert(name, n);
        n
    }

    /// Fields selected at this level, through inline fragments and spreads.
    fn fields(&mut self, set: &'a SelectionSet) -> usize {
        set.items.iter().fold(0usize, |sum, item| {
            let n = match &item.node {
                Selection::Field(_) => 1,
                Selection::InlineFragment(f) => self.fields(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    match self.document.fragments.get(name) {
                        Some(f) if self.visiting.insert(name) => {
                            let n = self.fields(&f.node.selection_set.node);
                            self.visiting.remove(name);
                            n
                        }
                        _ => 0,
                    }
                }
            };
            sum.saturating_add(n)
        })
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
        let set = &operation.node.selection_set.node;
        let aliases = expanded.aliases(set);
        if aliases > MAX_ALIASES {
            return Err(refuse(format!(
                "the operation uses {aliases} aliases once fragments are expanded; at most {MAX_ALIASES} are allowed"
            )));
        }
        let fields = expanded.fields(set);
        if fields > MAX_ROOT_FIELDS {
            return Err(refuse(format!(
                "the operation selects {fields} root fields once fragments are expanded; at most {MAX_ROOT_FIELDS} are allowed"
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

fn check_inputs(document: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
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
    for (name, value) in variables.iter() {
        check_value(value, &mut format!("variable ${name}"))?;
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

/// The extension factory to register on the schema.
pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension)
    }
}

struct LimitsExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check_counts(&document)?;
        check_directives(&document)?;
        check_inputs(&document, variables)?;
        if let (Some(meta), Some((_, op))) = (
            ctx.data_opt::<Arc<RequestMeta>>(),
            document.operations.iter().next(),
        ) {
            let _ = meta.operation.set(operation_name(op.node.ty));
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let document = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        let variables = Variables::from_json(variables);
        check_counts(&document)
            .and_then(|()| check_directives(&document))
            .and_then(|()| check_inputs(&document, &variables))
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
    fn a_fragment_cycle_does_not_loop() {
        let query =
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A x: me { subject } }";
        assert_eq!(run(query, serde_json::json!({})), Ok(()));
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

    #[test]
    fn a_page_costs_its_children_per_row() {
        assert_eq!(page_cost(Some(100), None, 10), 1_001);
        assert_eq!(page_cost(None, Some(5), 10), 51);
        assert_eq!(page_cost(None, None, 10), 201);
        assert_eq!(page_cost(Some(0), None, 10), 11);
        assert_eq!(page_cost(Some(-3), None, 10), 11);
        assert_eq!(page_cost(Some(5_000), None, 10), 1_001);
    }
}
