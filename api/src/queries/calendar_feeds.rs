//! Calendar feeds (communication.md): who sees which feed, the feed a key opens, and what it
//! holds, read as the token that made it would read it.

use std::collections::HashMap;

use entity::enums::ReleaseStatus;
use entity::{approval, calendar_feed, freeze_window, gate_result, quality_gate, release};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Visible;
use super::calendar::freeze_overlapping;
use super::dependencies::{self, Direction};
use super::derived::gate_states;
use super::span::{Ends, Span};
use crate::auth::{ProgramIds, Role, Scope, Viewer};
use crate::domain::readiness::readiness;
use crate::error::ApiResult;
use crate::time::DAY_MICROS;

/// How far back and ahead a feed reaches from now.
pub const DAYS_BEFORE: i64 = 90;
pub const DAYS_AFTER: i64 = 365;

/// Hex SHA-256 of a feed key: all that is stored of it.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether `viewer` may see and revoke `feed`: its owner (by issuer and subject), or an
/// ADMIN without programs.
pub fn manages(viewer: &Viewer, feed: &calendar_feed::Model) -> bool {
    feed.owner == viewer.subject || (viewer.role == Role::Admin && viewer.scope == Scope::All)
}

/// The feeds `viewer` manages that are not revoked, newest first.
pub async fn listed(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
) -> ApiResult<Vec<calendar_feed::Model>> {
    let mut select = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .order_by_desc(calendar_feed::Column::Id);
    if !(viewer.role == Role::Admin && viewer.scope == Scope::All) {
        select = select.filter(calendar_feed::Column::Owner.eq(viewer.subject.as_str()));
    }
    Ok(select.all(db).await?)
}

/// The live feed `key` opens: neither revoked nor expired at `now`.
pub async fn opened(
    db: &impl ConnectionTrait,
    key: &str,
    now: i64,
) -> ApiResult<Option<calendar_feed::Model>> {
    let hash = key_hash(key);
    let feed = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::KeyHash.eq(hash.as_str()))
        .one(db)
        .await?;
    Ok(feed.filter(|feed| {
        bool::from(feed.key_hash.as_bytes().ct_eq(hash.as_bytes()))
            && feed.revoked_at.is_none()
            && feed.expires_at > now
    }))
}

/// The program keys a feed column holds; `None` for every program.
pub fn keys_of(column: Option<&str>) -> Option<Vec<String>> {
    column.and_then(|json| serde_json::from_str(json).ok())
}

/// The caller a feed reads as: the role and programs of the token that made it.
pub async fn reader(
    db: &impl ConnectionTrait,
    programs: &ProgramIds,
    feed: &calendar_feed::Model,
) -> ApiResult<Viewer> {
    let token_programs = keys_of(feed.token_programs.as_deref());
    let scope = match &token_programs {
        None => Scope::All,
        Some(keys) => Scope::Programs(programs.resolve(db, keys).await?),
    };
    Ok(Viewer {
        subject: feed.owner.clone(),
        role: Role::from_claim(&feed.role).unwrap_or(Role::Viewer),
        program_keys: token_programs,
        scope,
        expires_at: None,
    })
}

/// A release of a feed, with what its event says.
pub struct FeedRelease {
    pub release: release::Model,
    pub program_key: String,
    /// Readiness blockers, for a release under way.
    pub blockers: Vec<String>,
}

/// What a feed shows at `now`.
pub struct FeedContent {
    pub releases: Vec<FeedRelease>,
    pub freeze_windows: Vec<freeze_window::Model>,
}

/// The releases with a plannedEnd whose span overlaps the feed's range, and the freeze
/// windows overlapping it, as `reader` sees them within the feed's programs.
pub async fn content<C: ConnectionTrait>(
    db: &C,
    reader: &Viewer,
    feed: &calendar_feed::Model,
    now: i64,
) -> ApiResult<FeedContent> {
    let mut visible = Visible::new(db, reader);
    if let Some(keys) = keys_of(feed.program_keys.as_deref()) {
        // A program the token no longer sees simply shows nothing.
        visible = match visible.narrowed("programKeys", &keys).await {
            Ok(narrowed) => narrowed,
            Err(_) => Visible::new(
                db,
                &Viewer {
                    scope: Scope::Programs(Vec::new()),
                    ..reader.clone()
                },
            ),
        };
    }
    let range = Span::new(
        Some(now - DAYS_BEFORE * DAY_MICROS),
        Some(now + DAYS_AFTER * DAY_MICROS),
    );
    let planned_end = Expr::col(release::Column::PlannedEnd);
    let releases = visible
        .releases()
        .filter(release::Column::PlannedEnd.is_not_null())
        .filter(range.overlaps(
            Expr::col(release::Column::PlannedStart).if_null(planned_end.clone()),
            planned_end,
            Ends::At,
        ))
        .order_by_asc(release::Column::PlannedEnd)
        .order_by_asc(release::Column::Id)
        .all(db)
        .await?;
    let freeze_windows = visible
        .freeze_windows()
        .filter(freeze_overlapping(range))
        .order_by_asc(freeze_window::Column::StartsAt)
        .order_by_asc(freeze_window::Column::Id)
        .all(db)
        .await?;
    let blockers = blockers(db, &releases, &reader.scope).await?;
    let keys = super::program_keys(db, releases.iter().map(|r| r.program_id)).await?;
    let releases = releases
        .into_iter()
        .map(|release| FeedRelease {
            program_key: keys.get(&release.program_id).cloned().unwrap_or_default(),
            blockers: blockers.get(&release.id).cloned().unwrap_or_default(),
            release,
        })
        .collect();
    Ok(FeedContent {
        releases,
        freeze_windows,
    })
}

/// Readiness blockers of the releases not yet approved among `releases`, read in a fixed
/// number of statements.
async fn blockers(
    db: &impl ConnectionTrait,
    releases: &[release::Model],
    scope: &Scope,
) -> ApiResult<HashMap<i64, Vec<String>>> {
    // Readiness is what stands before APPROVED: it says nothing of a release past it.
    let before_approval: Vec<&release::Model> = releases
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                ReleaseStatus::Planned
                    | ReleaseStatus::Scheduled
                    | ReleaseStatus::InBuild
                    | ReleaseStatus::InTest
            )
        })
        .collect();
    let ids: Vec<i64> = before_approval.iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let gates = quality_gate::Entity::find()
        .filter(quality_gate::Column::ReleaseId.is_in(ids.clone()))
        .all(db)
        .await?;
    let results = gate_result::Entity::find()
        .filter(gate_result::Column::GateId.is_in(gates.iter().map(|g| g.id)))
        .all(db)
        .await?;
    let approvals = approval::Entity::find()
        .filter(approval::Column::ReleaseId.is_in(ids.clone()))
        .all(db)
        .await?;
    let links = dependencies::links(db, &ids, Direction::DependsOn).await?;
    // Each release's rows, grouped once: a year of a program is hundreds of releases.
    let release_of: HashMap<i64, i64> = gates.iter().map(|g| (g.id, g.release_id)).collect();
    let mut own_results: HashMap<i64, Vec<gate_result::Model>> = HashMap::new();
    for result in results {
        if let Some(release) = release_of.get(&result.gate_id) {
            own_results.entry(*release).or_default().push(result);
        }
    }
    let mut own_gates: HashMap<i64, Vec<quality_gate::Model>> = HashMap::new();
    for gate in gates {
        own_gates.entry(gate.release_id).or_default().push(gate);
    }
    let mut own_approvals: HashMap<i64, Vec<approval::Model>> = HashMap::new();
    for approval in approvals {
        own_approvals
            .entry(approval.release_id)
            .or_default()
            .push(approval);
    }
    Ok(before_approval
        .into_iter()
        .map(|r| {
            let open = links
                .get(&r.id)
                .into_iter()
                .flatten()
                .filter(|link| !link.met())
                .map(|link| link.blocker(scope))
                .collect();
            let ready = readiness(
                &gate_states(
                    own_gates.remove(&r.id).unwrap_or_default(),
                    own_results.get(&r.id).map_or(&[], Vec::as_slice),
                ),
                own_approvals.get(&r.id).map_or(&[], Vec::as_slice),
                r.rollback_plan.as_deref(),
                open,
            );
            (r.id, ready.blockers)
        })
        .collect())
}

/// The feed `id` if `viewer` manages it and it is not revoked.
pub async fn managed(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<Option<calendar_feed::Model>> {
    Ok(calendar_feed::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|feed| manages(viewer, feed) && feed.revoked_at.is_none()))
}
