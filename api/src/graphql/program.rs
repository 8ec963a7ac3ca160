//! Programs: portfolios of related releases.

use async_graphql::{Context, ID, InputObject, Object};
use entity::program;

use crate::commands;
use crate::domain::validate::{Name, ProgramKey, Text};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, visible};
use crate::graphql::pagination::{PageArgs, connection, paged};
use crate::graphql::release::{ReleaseConnection, ReleaseFilter, ReleaseOrder, release_connection};
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries::page::{Key, Ordering, Position};

/// A portfolio of related releases that serves one business objective.
#[derive(Clone)]
pub struct Program(pub program::Model);

#[Object]
impl Program {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Program, self.0.id).into()
    }

    /// Unique, 2 to 10 characters of A-Z and 0-9, starting with a letter.
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }

    async fn business_objective(&self) -> Option<&str> {
        self.0.business_objective.as_deref()
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }

    /// The program's releases, filtered and ordered like `Query.releases`.
    #[allow(clippy::too_many_arguments, reason = "the contract's arguments")]
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, last, child_complexity)")]
    async fn releases(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReleaseFilter>,
        order_by: Option<ReleaseOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<ReleaseConnection> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        release_connection(
            ctx,
            Some(self.0.id),
            filter.unwrap_or_default(),
            order_by,
            page,
        )
        .await
    }
}

connection!(
    ProgramConnection,
    ProgramEdge,
    Program,
    "A page of programs."
);

#[derive(Default)]
pub struct ProgramQuery;

#[Object]
impl ProgramQuery {
    /// The programs the caller may see, ordered by key.
    #[graphql(complexity = "crate::graphql::complexity::page_cost(first, last, child_complexity)")]
    async fn programs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<ProgramConnection> {
        let visible = visible(ctx)?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        let ordering = Ordering {
            column: Some(program::Column::Key),
            nullable: false,
            ascending: true,
            id: program::Column::Id,
            position: |p: &program::Model| Position {
                key: Key::Text(p.key.clone()),
                id: p.id,
            },
        };
        let select = visible.programs();
        let page = paged(ctx, visible.db(), select, &ordering, "KEY_ASC", &page).await?;
        Ok(ProgramConnection::new(page, Program))
    }

    /// The program with this key, or null when it does not exist or the caller may not see it.
    async fn program(&self, ctx: &Context<'_>, key: String) -> ApiResult<Option<Program>> {
        Ok(visible(ctx)?.program_by_key(&key).await?.map(Program))
    }
}

/// A new program.
#[derive(InputObject)]
pub struct CreateProgramInput {
    /// 2 to 10 characters of A-Z and 0-9, starting with a letter; unique.
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub business_objective: Option<String>,
}

impl TryFrom<CreateProgramInput> for commands::program::NewProgram {
    type Error = ApiError;

    fn try_from(input: CreateProgramInput) -> ApiResult<Self> {
        Ok(Self {
            key: ProgramKey::parse("key", &input.key)?,
            name: Name::parse("name", &input.name)?,
            description: Text::optional("description", input.description.as_deref())?,
            owner: Name::optional("owner", input.owner.as_deref())?,
            business_objective: Text::optional(
                "businessObjective",
                input.business_objective.as_deref(),
            )?,
        })
    }
}

#[derive(Default)]
pub struct ProgramMutation;

#[Object]
impl ProgramMutation {
    /// ADMIN
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        input: CreateProgramInput,
    ) -> ApiResult<Program> {
        let input = commands::program::NewProgram::try_from(input)?;
        command!(ctx, commands::program::create_program, input).map(Program)
    }
}
