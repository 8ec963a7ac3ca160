//! Improvement impact (metrics.md, *Improvement impact*): which actions have one, when each
//! took effect, and the figures around it from this process's analytics store.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use analytics::{ActionRef, Impact, ImpactQuery};
use entity::enums::ActionStatus;
use entity::{improvement_action, release};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};

use super::Visible;
use super::metrics::metric;
use crate::auth::{Role, Scope};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::metrics::cache::Snapshot;
use crate::time::{self, DAY_MICROS};

/// The window sizes `windowDays` may ask for.
pub const WINDOW_DAYS: RangeInclusive<i32> = 7..=365;

/// The longest window `Query.improvementImpact` lists actions of, in days.
pub const MAX_LIST_DAYS: i64 = 366;

/// `windowDays` checked.
pub fn window_days(days: i32) -> ApiResult<u32> {
    if WINDOW_DAYS.contains(&days) {
        Ok(days.unsigned_abs())
    } else {
        Err(ApiError::bad_input(
            "windowDays",
            format!(
                "must be from {} to {}",
                WINDOW_DAYS.start(),
                WINDOW_DAYS.end()
            ),
        ))
    }
}

/// When an action took effect: its `effectiveAt`, else its `closedAt` once DONE.
pub fn effective_at(action: &improvement_action::Model) -> Option<i64> {
    action.effective_at.or(match action.status {
        ActionStatus::Done => action.closed_at,
        _ => None,
    })
}

/// The bootstrap's seed: the first 8 bytes (big-endian) of the SHA-256 of the action's
/// global id.
pub fn seed(action_id: i64) -> u64 {
    let digest = Sha256::digest(ids::encode(NodeType::ImprovementAction, action_id).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The action as its impact needs it, or None when it has none: no target, no effective
/// time, DROPPED, or not yet in effect at `now`.
pub fn reference(action: &improvement_action::Model, program: i64, now: i64) -> Option<ActionRef> {
    let target = action.target?;
    let effective_at = effective_at(action)?;
    if action.status == ActionStatus::Dropped || now < effective_at {
        return None;
    }
    Some(ActionRef {
        program,
        target: metric(target),
        effective_at,
        seed: seed(action.id),
    })
}

/// The impacts of `actions` as a caller with `scope` sees them (its baseline covers the
/// other programs of its scope).
pub async fn impacts(
    snapshot: &Snapshot,
    scope: &Scope,
    window_days: u32,
    now: i64,
    actions: Vec<ActionRef>,
) -> ApiResult<Vec<Impact>> {
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    let visible = match scope {
        Scope::All => None,
        Scope::Programs(ids) => Some(ids.clone()),
    };
    snapshot
        .impacts(ImpactQuery {
            now,
            window_days,
            visible,
            actions,
        })
        .await
}

/// The actions `Query.improvementImpact` lists: not DROPPED, with a target, in effect
/// within `[from, to)` and before now, of the programs `visible` covers; with their
/// release's program, ordered by the time they took effect, then id.
pub async fn listed<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    from: i64,
    to: i64,
) -> ApiResult<Vec<(improvement_action::Model, ActionRef)>> {
    visible.require(Role::Analyst)?;
    if to <= from {
        return Err(ApiError::bad_input("to", "must be after from"));
    }
    if to - from > MAX_LIST_DAYS * DAY_MICROS {
        return Err(ApiError::bad_input(
            "to",
            format!("the window may span at most {MAX_LIST_DAYS} days"),
        ));
    }
    let now = time::now_micros();
    let until = to.min(now.saturating_add(1));
    use improvement_action::Column as A;
    let effective = Condition::any()
        .add(
            Condition::all()
                .add(A::EffectiveAt.gte(from))
                .add(A::EffectiveAt.lt(until)),
        )
        .add(
            Condition::all()
                .add(A::EffectiveAt.is_null())
                .add(A::Status.eq(ActionStatus::Done))
                .add(A::ClosedAt.gte(from))
                .add(A::ClosedAt.lt(until)),
        );
    let actions = visible
        .improvement_actions()
        .filter(A::Target.is_not_null())
        .filter(A::Status.ne(ActionStatus::Dropped))
        .filter(effective)
        .all(visible.db())
        .await?;
    let programs = programs_of(visible.db(), actions.iter().map(|a| a.release_id)).await?;
    let mut listed: Vec<(improvement_action::Model, ActionRef)> = actions
        .into_iter()
        .filter_map(|action| {
            let program = *programs.get(&action.release_id)?;
            let reference = reference(&action, program, now)?;
            Some((action, reference))
        })
        .collect();
    listed.sort_by_key(|(action, reference)| (reference.effective_at, action.id));
    Ok(listed)
}

/// The program of each release, by release id.
async fn programs_of<C: ConnectionTrait>(
    db: &C,
    releases: impl Iterator<Item = i64>,
) -> ApiResult<HashMap<i64, i64>> {
    let mut ids: Vec<i64> = releases.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut programs = HashMap::with_capacity(ids.len());
    // Bounded lists of ids: both databases cap the parameters of a statement.
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(i64, i64)> = release::Entity::find()
            .select_only()
            .columns([release::Column::Id, release::Column::ProgramId])
            .filter(release::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        programs.extend(rows);
    }
    Ok(programs)
}
