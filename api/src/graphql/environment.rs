//! Environments: deployment targets, shared by every program.

use async_graphql::{Context, ID, InputObject, Object};
use entity::environment;

use crate::commands;
use crate::domain::validate::Name;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, reads, viewer};
use crate::graphql::enums::EnvironmentTier;
use crate::ids::{self, NodeType};
use crate::queries;

/// A deployment target such as prod-eu.
#[derive(Clone)]
pub struct Environment(pub environment::Model);

#[Object]
impl Environment {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Environment, self.0.id).into()
    }

    /// Unique, e.g. prod-eu
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn tier(&self) -> EnvironmentTier {
        self.0.tier.into()
    }
}

#[derive(Default)]
pub struct EnvironmentQuery;

#[Object]
impl EnvironmentQuery {
    /// Every environment, by tier from development to production, then by name.
    async fn environments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Environment>> {
        viewer(ctx)?;
        let rows = queries::environments(reads(ctx)?).await?;
        Ok(rows.into_iter().map(Environment).collect())
    }
}

/// A new environment.
#[derive(InputObject)]
pub struct CreateEnvironmentInput {
    /// Unique, e.g. prod-eu
    pub name: String,
    pub tier: EnvironmentTier,
}

impl TryFrom<CreateEnvironmentInput> for commands::program::NewEnvironment {
    type Error = ApiError;

    fn try_from(input: CreateEnvironmentInput) -> ApiResult<Self> {
        Ok(Self {
            name: Name::parse("name", &input.name)?,
            tier: input.tier.into(),
        })
    }
}

#[derive(Default)]
pub struct EnvironmentMutation;

#[Object]
impl EnvironmentMutation {
    /// ADMIN
    async fn create_environment(
        &self,
        ctx: &Context<'_>,
        input: CreateEnvironmentInput,
    ) -> ApiResult<Environment> {
        let input = commands::program::NewEnvironment::try_from(input)?;
        command!(ctx, commands::program::create_environment, input).map(Environment)
    }
}
