//! `node(id:)`: any object by its global id, within the caller's programs.

use async_graphql::{Context, ID, Interface, Object};
use entity::{approval, quality_gate, release_event, release_item};

use crate::domain::gates::GateState;
use crate::error::ApiResult;
use crate::graphql::calendar_feed::CalendarFeed;
use crate::graphql::context::{loaders, reads, viewer, visible};
use crate::graphql::deployment::Deployment;
use crate::graphql::environment::Environment;
use crate::graphql::event::ReleaseEvent;
use crate::graphql::freeze::FreezeWindow;
use crate::graphql::incident::Incident;
use crate::graphql::ingest::{Delivery, IngestSource};
use crate::graphql::notification::{
    NotificationChannel, NotificationDelivery, node_channel, node_delivery,
};
use crate::graphql::program::Program;
use crate::graphql::quality::{Approval, QualityGate, ReleaseItem};
use crate::graphql::release::Release;
use crate::graphql::review::ImprovementAction;
use crate::ids::{self, NodeType};
use crate::queries::calendar_feeds;

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
    IngestSource(IngestSource),
    Delivery(Delivery),
    CalendarFeed(CalendarFeed),
    NotificationChannel(NotificationChannel),
    NotificationDelivery(NotificationDelivery),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when it does not exist or is out of the caller's programs.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let (ty, row) = ids::decode_any(&id)?;
        let visible = visible(ctx)?;
        let node = match ty {
            NodeType::Program => visible
                .program(row)
                .await?
                .map(|p| Node::Program(Program(p))),
            NodeType::Environment => loaders(ctx)?
                .environment
                .load_one(row)
                .await?
                .map(|e| Node::Environment(Environment(e))),
            NodeType::Release => visible
                .release(row)
                .await?
                .map(|r| Node::Release(Release(r))),
            NodeType::ReleaseItem => visible
                .release_child::<release_item::Entity>(row, |m| m.release_id)
                .await?
                .map(|m| Node::ReleaseItem(ReleaseItem(m))),
            NodeType::QualityGate => {
                match visible
                    .release_child::<quality_gate::Entity>(row, |m| m.release_id)
                    .await?
                {
                    Some(gate) => {
                        let results = loaders(ctx)?
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
            NodeType::Approval => visible
                .release_child::<approval::Entity>(row, |m| m.release_id)
                .await?
                .map(|m| Node::Approval(Approval(m))),
            NodeType::Deployment => visible
                .deployment(row)
                .await?
                .map(|m| Node::Deployment(Deployment(m))),
            NodeType::ImprovementAction => visible
                .improvement_action(row)
                .await?
                .map(|m| Node::ImprovementAction(ImprovementAction(m))),
            NodeType::ReleaseEvent => visible
                .release_child::<release_event::Entity>(row, |m| m.release_id)
                .await?
                .map(|m| Node::ReleaseEvent(ReleaseEvent(m))),
            NodeType::Incident => visible
                .incident(row)
                .await?
                .map(|i| Node::Incident(Incident(i))),
            NodeType::FreezeWindow => visible
                .freeze_window(row)
                .await?
                .map(|f| Node::FreezeWindow(FreezeWindow(f))),
            NodeType::IngestSource => visible
                .ingest_source(row)
                .await?
                .map(|s| Node::IngestSource(IngestSource(s))),
            NodeType::Delivery => visible
                .delivery(row)
                .await?
                .map(|d| Node::Delivery(Delivery(d))),
            NodeType::CalendarFeed => calendar_feeds::managed(reads(ctx)?, viewer(ctx)?, row)
                .await?
                .map(|f| Node::CalendarFeed(CalendarFeed(f))),
            NodeType::NotificationChannel => {
                node_channel(ctx, row).await?.map(Node::NotificationChannel)
            }
            NodeType::NotificationDelivery => node_delivery(ctx, row)
                .await?
                .map(Node::NotificationDelivery),
        };
        Ok(node)
    }
}
