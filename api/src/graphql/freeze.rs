//! Freeze windows: periods in which releases may not go live.

use async_graphql::{Context, ID, InputObject, Object};
use entity::freeze_window;

use crate::commands;
use crate::domain::validate::{Name, Text};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, loaders, visible};
use crate::graphql::loaders::required;
use crate::graphql::program::Program;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};
use crate::queries::calendar;
use crate::queries::span::Span;

/// A period covering [startsAt, endsAt) in which releases may not go live.
#[derive(Clone)]
pub struct FreezeWindow(pub freeze_window::Model);

#[Object]
impl FreezeWindow {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::FreezeWindow, self.0.id).into()
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    async fn starts_at(&self) -> Timestamp {
        Timestamp(self.0.starts_at)
    }

    async fn ends_at(&self) -> Timestamp {
        Timestamp(self.0.ends_at)
    }

    /// null for a freeze that applies to every program
    async fn program(&self, ctx: &Context<'_>) -> ApiResult<Option<Program>> {
        match self.0.program_id {
            Some(id) => Ok(Some(Program(required(&loaders(ctx)?.program, id).await?))),
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct FreezeQuery;

#[Object]
impl FreezeQuery {
    /// Freeze windows overlapping [from, to); both optional. With `programKey`, the windows
    /// that apply to that program: its own and the global ones.
    async fn freeze_windows(
        &self,
        ctx: &Context<'_>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        program_key: Option<String>,
    ) -> ApiResult<Vec<FreezeWindow>> {
        let mut visible = visible(ctx)?;
        if let Some(key) = program_key {
            visible = visible.narrowed("programKey", &[key]).await?;
        }
        let range = Span::new(from.map(Timestamp::micros), to.map(Timestamp::micros));
        let rows = calendar::freeze_windows(&visible, range).await?;
        Ok(rows.into_iter().map(FreezeWindow).collect())
    }
}

/// A new freeze window covering [startsAt, endsAt).
#[derive(InputObject)]
pub struct CreateFreezeWindowInput {
    pub name: String,
    pub reason: Option<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Omit for a freeze that applies to every program.
    pub program_key: Option<String>,
}

impl TryFrom<CreateFreezeWindowInput> for commands::program::NewFreezeWindow {
    type Error = ApiError;

    fn try_from(input: CreateFreezeWindowInput) -> ApiResult<Self> {
        Ok(Self {
            name: Name::parse("name", &input.name)?,
            reason: Text::optional("reason", input.reason.as_deref())?,
            starts_at: input.starts_at.micros(),
            ends_at: input.ends_at.micros(),
            program_key: input.program_key,
        })
    }
}

#[derive(Default)]
pub struct FreezeMutation;

#[Object]
impl FreezeMutation {
    /// ADMIN
    async fn create_freeze_window(
        &self,
        ctx: &Context<'_>,
        input: CreateFreezeWindowInput,
    ) -> ApiResult<FreezeWindow> {
        let input = commands::program::NewFreezeWindow::try_from(input)?;
        command!(ctx, commands::program::create_freeze_window, input).map(FreezeWindow)
    }
}
