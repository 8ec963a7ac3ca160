//! `me`: who the caller is.

use async_graphql::{Context, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::context::viewer;
use crate::graphql::enums::Role;

/// The authenticated caller.
#[derive(SimpleObject)]
#[graphql(name = "Viewer")]
pub struct Me {
    pub subject: String,
    pub role: Role,
    /// null when the caller may see every program
    pub program_keys: Option<Vec<String>>,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The caller, as its token says.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Me> {
        let viewer = viewer(ctx)?;
        Ok(Me {
            subject: viewer.subject.clone(),
            role: viewer.role.into(),
            program_keys: viewer.program_keys.clone(),
        })
    }
}
