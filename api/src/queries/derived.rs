//! Values derived from stored rows, each defined once here for every reader: GraphQL, the
//! exports (as SQL) and the commands that check them. The analytics crate computes the same
//! `deployedAt` in polars over its own columns; a test holds the two definitions together.

use entity::enums::{DeliveryStatus, DeploymentStatus, EnvironmentTier, ReleaseType};
use entity::{approval, deployment, freeze_window, gate_result, quality_gate, release};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Scope;
use crate::domain::gates::GateState;
use crate::domain::lifecycle::covering;
use crate::domain::readiness::{Readiness, readiness};
use crate::error::ApiResult;

/// `Release.deployedAt`: finishedAt of the earliest non-rollback PRODUCTION deployment whose
/// status is SUCCEEDED; `tier` tells each deployment's environment tier.
pub fn deployed_at<'d>(
    deployments: impl IntoIterator<Item = &'d deployment::Model>,
    tier: impl Fn(i64) -> Option<EnvironmentTier>,
) -> Option<i64> {
    deployments
        .into_iter()
        .filter(|d| !d.is_rollback && d.status == DeploymentStatus::Succeeded)
        .filter(|d| tier(d.environment_id) == Some(EnvironmentTier::Production))
        .filter_map(|d| d.finished_at)
        .min()
}

/// `Release.deployedAt` of the release aliased `r`, as an SQL expression.
pub const DEPLOYED_AT_SQL: &str = "(SELECT MIN(d.finished_at) FROM deployments d \
     JOIN environments e ON e.id = d.environment_id \
     WHERE d.release_id = r.id AND e.tier = 'PRODUCTION' AND d.status = 'SUCCEEDED' \
     AND NOT d.is_rollback)";

/// The statuses of deliveries compliance counts as unplanned changes (metrics.md): deployment
/// events that stayed outside the release process.
pub const UNPLANNED: [DeliveryStatus; 2] = [DeliveryStatus::Unmatched, DeliveryStatus::Rejected];

/// Whether a delivery of `status` is an unplanned change.
pub fn unplanned(status: DeliveryStatus) -> bool {
    UNPLANNED.contains(&status)
}

/// [`unplanned`] as an SQL condition on the column `status`.
pub fn unplanned_sql(status: &str) -> String {
    let statuses: Vec<String> = UNPLANNED
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("{status} IN ({})", statuses.join(", "))
}

/// The gates of a release with their latest results.
pub fn gate_states(
    gates: Vec<quality_gate::Model>,
    results: &[gate_result::Model],
) -> Vec<GateState> {
    gates
        .into_iter()
        .filter_map(|gate| {
            let own: Vec<_> = results
                .iter()
                .filter(|r| r.gate_id == gate.id)
                .cloned()
                .collect();
            GateState::from_results(gate, &own)
        })
        .collect()
}

/// The readiness of a release as stored now, its dependencies named for `scope`.
pub async fn current_readiness(
    db: &impl ConnectionTrait,
    release: &release::Model,
    scope: &Scope,
) -> ApiResult<Readiness> {
    let gates = quality_gate::Entity::find()
        .filter(quality_gate::Column::ReleaseId.eq(release.id))
        .all(db)
        .await?;
    let results = gate_result::Entity::find()
        .filter(gate_result::Column::GateId.is_in(gates.iter().map(|g| g.id)))
        .all(db)
        .await?;
    let approvals = approval::Entity::find()
        .filter(approval::Column::ReleaseId.eq(release.id))
        .all(db)
        .await?;
    Ok(readiness(
        &gate_states(gates, &results),
        &approvals,
        release.rollback_plan.as_deref(),
        super::dependencies::open_blockers(db, release.id, scope).await?,
    ))
}

/// The freeze window that binds the release at `at`: one of its program, or a global one,
/// that covers `at`. None binds an EMERGENCY release (lifecycle.md).
pub async fn freeze_covering(
    db: &impl ConnectionTrait,
    release: &release::Model,
    at: i64,
) -> ApiResult<Option<freeze_window::Model>> {
    if release.release_type == ReleaseType::Emergency {
        return Ok(None);
    }
    let windows = freeze_window::Entity::find()
        .filter(
            Condition::any()
                .add(freeze_window::Column::ProgramId.is_null())
                .add(freeze_window::Column::ProgramId.eq(release.program_id)),
        )
        .filter(freeze_window::Column::StartsAt.lte(at))
        .filter(freeze_window::Column::EndsAt.gt(at))
        .all(db)
        .await?;
    Ok(covering(&windows, at).cloned())
}
