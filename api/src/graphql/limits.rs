//! Limits checked before a query runs, and the operation type for request metrics.
//!
//! Depth and complexity limits are async-graphql's; this extension adds an alias limit
//! (aliases let one small query ask for the same expensive field hundreds of times) and
//! notes the operation type of each request.

use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

pub const MAX_DEPTH: usize = 15;
pub const MAX_COMPLEXITY: usize = 2_000;
pub const MAX_ALIASES: usize = 30;

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

fn aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

fn operation_name(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
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
        let count: usize = document
            .operations
            .iter()
            .map(|(_, op)| aliases(&op.node.selection_set.node))
            .chain(
                document
                    .fragments
                    .values()
                    .map(|f| aliases(&f.node.selection_set.node)),
            )
            .sum();
        if count > MAX_ALIASES {
            return Err(ServerError::new(
                format!("the query uses {count} aliases; at most {MAX_ALIASES} are allowed"),
                None,
            ));
        }
        if let (Some(meta), Some((_, op))) = (
            ctx.data_opt::<Arc<RequestMeta>>(),
            document.operations.iter().next(),
        ) {
            let _ = meta.operation.set(operation_name(op.node.ty));
        }
        Ok(document)
    }
}
