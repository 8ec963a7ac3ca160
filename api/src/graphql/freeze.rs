//! Freeze windows: periods in which releases may not go live.

use async_graphql::{Context, ID, InputObject, Object};
use entity::freeze_window;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Scope;
use crate::commands;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{command, db, loaders, viewer};
use crate::graphql::loaders::required;
use crate::graphql::program::{Program, find_by_key};
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// A period covering [startsAt, endsAt) in which releases may not go live.
#[derive(Clone)]
pub struct FreezeWindow(pub freeze_window::Model);

#[Object]
impl FreezeWindow {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::FreezeWindow, self.0.id)
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

/// The windows that apply to the programs of `scope`: global ones and their own.
pub fn visible(scope: &Scope) -> Condition {
    let global = freeze_window::Column::ProgramId.is_null();
    match scope {
        Scope::All => Condition::all(),
        Scope::Programs(ids) => Condition::any()
            .add(global)
            .add(freeze_window::Column::ProgramId.is_in(ids.iter().copied())),
    }
}

/// Windows overlapping [from, to), either bound optional.
pub fn overlapping(from: Option<Timestamp>, to: Option<Timestamp>) -> Condition {
    let mut condition = Condition::all();
    if let Some(to) = to {
        condition = condition.add(freeze_window::Column::StartsAt.lt(to.micros()));
    }
    if let Some(from) = from {
        condition = condition.add(freeze_window::Column::EndsAt.gt(from.micros()));
    }
    condition
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
        let viewer = viewer(ctx)?;
        let mut select = freeze_window::Entity::find()
            .filter(visible(&viewer.scope))
            .filter(overlapping(from, to));
        if let Some(key) = program_key {
            let program = find_by_key(ctx, &key)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("program {key}")))?;
            select = select.filter(
                Condition::any()
                    .add(freeze_window::Column::ProgramId.is_null())
                    .add(freeze_window::Column::ProgramId.eq(program.id)),
            );
        }
        let rows = select
            .order_by_asc(freeze_window::Column::StartsAt)
            .order_by_asc(freeze_window::Column::Id)
            .all(db(ctx)?)
            .await?;
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
        command!(ctx, commands::program::create_freeze_window, input).map(FreezeWindow)
    }
}
