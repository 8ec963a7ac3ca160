//! Each mutation commits once its own answer is built (`db::RequestReads`): an extension on
//! the schema that runs mutation requests only, so queries pay nothing for it. A mutation
//! field whose answer came out null (a non-null field of it failed) is rolled back, and a
//! commit that fails becomes that field's error, leaving the mutations before it as they
//! were answered.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ErrorExtensions, PathSegment, ServerResult, Value};

use crate::db::RequestReads;

/// Installs [`CommitField`].
pub struct CommitEachMutation;

impl ExtensionFactory for CommitEachMutation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CommitField)
    }
}

/// Finishes the write of each root field of a mutation once it is resolved.
struct CommitField;

#[async_trait::async_trait]
impl Extension for CommitField {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        let (position, key) = (info.field.name.pos, info.path_node.to_string_vec());
        let resolved = next.run(ctx, info).await;
        let Some(reads) = root.then(|| ctx.data_opt::<RequestReads>()).flatten() else {
            return resolved;
        };
        let answered = matches!(&resolved, Ok(Some(value)) if *value != Value::Null);
        match reads.finish(answered).await {
            Ok(()) => resolved,
            Err(error) => {
                let mut error = error.extend().into_server_error(position);
                error.path = key.into_iter().map(PathSegment::Field).collect();
                Err(error)
            }
        }
    }
}
