//! `node(id:)`: any object by its global id, within the caller's programs.

use async_graphql::{Context, ID, Interface, Object};
use entity::*;
use sea_orm::EntityTrait;

use crate::domain::gates::GateState;
use crate::error::ApiResult;
use crate::graphql::context::{db, loaders, viewer};
use crate::graphql::deployment::Deployment;
use crate::graphql::environment::Environment;
use crate::graphql::event::ReleaseEvent;
use crate::graphql::freeze::FreezeWindow;
use crate::graphql::incident::Incident;
use crate::graphql::program::Program;
use crate::graphql::quality::{Approval, QualityGate, ReleaseItem};
use crate::graphql::release::Release;
use crate::graphql::review::ImprovementAction;
use crate::ids::{self, NodeType};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Program(Program),
    Environment(Environment),
    Release(Release),
    ReleaseItem(ReleaseItem),
    QualityGate(QualityGate),
    Approval(Approval),
    Deployment(Deployment),
    Incident(Incident),
    ImprovementAction(ImprovementAction),
    FreezeWindow(FreezeWindow),
    ReleaseEvent(ReleaseEvent),
}

/// Whether the caller may see release `release_id`.
async fn release_visible(ctx: &Context<'_>, release_id: i64) -> ApiResult<bool> {
    let viewer = viewer(ctx)?;
    Ok(loaders(ctx)?
        .release
        .load_one(release_id)
        .await?
        .is_some_and(|r| viewer.scope.contains(r.program_id)))
}

/// Finds `id` in `E` and keeps it when `release_of` names a visible release.
async fn release_child<E: EntityTrait>(
    ctx: &Context<'_>,
    id: i64,
    release_of: impl Fn(&E::Model) -> i64,
) -> ApiResult<Option<E::Model>>
where
    E::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = i64>,
{
    let Some(row) = E::find_by_id(id).one(db(ctx)?).await? else {
        return Ok(None);
    };
    Ok(release_visible(ctx, release_of(&row)).await?.then_some(row))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when it does not exist or is out of the caller's programs.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let viewer = viewer(ctx)?;
        let (ty, row) = ids::decode_any(&id)?;
        let db = db(ctx)?;
        let loaders = loaders(ctx)?;
        let node = match ty {
            NodeType::Program => loaders
                .program
                .load_one(row)
                .await?
                .filter(|p| viewer.scope.contains(p.id))
                .map(|p| Node::Program(Program(p))),
            NodeType::Environment => loaders
                .environment
                .load_one(row)
                .await?
                .map(|e| Node::Environment(Environment(e))),
            NodeType::Release => loaders
                .release
                .load_one(row)
                .await?
                .filter(|r| viewer.scope.contains(r.program_id))
                .map(|r| Node::Release(Release(r))),
            NodeType::ReleaseItem => {
                release_child::<release_item::Entity>(ctx, row, |m| m.release_id)
                    .await?
                    .map(|m| Node::ReleaseItem(ReleaseItem(m)))
            }
            NodeType::QualityGate => {
                match release_child::<quality_gate::Entity>(ctx, row, |m| m.release_id).await? {
                    Some(gate) => {
                        let results = loaders
                            .gate_results
                            .load_one(gate.id)
                            .await?
                            .unwrap_or_default();
                        GateState::from_results(gate, &results)
                            .map(|s| Node::QualityGate(QualityGate(s)))
                    }
                    None => None,
                }
            }
            NodeType::Approval => release_child::<approval::Entity>(ctx, row, |m| m.release_id)
                .await?
                .map(|m| Node::Approval(Approval(m))),
            NodeType::Deployment => release_child::<deployment::Entity>(ctx, row, |m| m.release_id)
                .await?
                .map(|m| Node::Deployment(Deployment(m))),
            NodeType::ImprovementAction => {
                release_child::<improvement_action::Entity>(ctx, row, |m| m.release_id)
                    .await?
                    .map(|m| Node::ImprovementAction(ImprovementAction(m)))
            }
            NodeType::ReleaseEvent => {
                release_child::<release_event::Entity>(ctx, row, |m| m.release_id)
                    .await?
                    .map(|m| Node::ReleaseEvent(ReleaseEvent(m)))
            }
            NodeType::Incident => incident::Entity::find_by_id(row)
                .one(db)
                .await?
                .filter(|i| viewer.scope.contains(i.program_id))
                .map(|i| Node::Incident(Incident(i))),
            NodeType::FreezeWindow => freeze_window::Entity::find_by_id(row)
                .one(db)
                .await?
                .filter(|f| f.program_id.is_none_or(|p| viewer.scope.contains(p)))
                .map(|f| Node::FreezeWindow(FreezeWindow(f))),
        };
        Ok(node)
    }
}
