//! Improvement impact (metrics.md, *Improvement impact*): which actions have one, when each
//! took effect, and the figures around it from this process's analytics store.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use analytics::{ActionRef, Impact, ImpactQuery};
use entity::enums::ActionStatus;
use entity::{improvement_action, release};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::Visible;
use super::metrics::metric;
use crate::auth::{Role, Scope};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::metrics::cache::Snapshot;
use crate::time::{self, DAY_MICROS};

/// Who may read impact, wherever it is asked for (lifecycle.md).
pub const READER: Role = Role::Analyst;

/// The window sizes `windowDays` may ask for.
pub const WINDOW_DAYS: RangeInclusive<i32> = 7..=365;

/// `windowDays` when left out or null.
pub const DEFAULT_WINDOW_DAYS: i32 = 90;

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

/// The impacts of `actions` for the caller of `visible` ([`READER`] and up), its baseline
/// over the other programs it may see.
pub async fn impacts<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    snapshot: &Snapshot,
    window_days: u32,
    now: i64,
    actions: Vec<ActionRef>,
) -> ApiResult<Vec<Impact>> {
    visible.require(READER)?;
    impacts_in_scope(snapshot, visible.scope(), window_days, now, actions).await
}

/// The impacts of `actions` with the baseline over the programs of `scope`, for a caller
/// whose role was checked where it came in (a report).
pub async fn impacts_in_scope(
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

/// An action `Query.improvementImpact` lists, with its release.
pub struct Listed {
    pub action: improvement_action::Model,
    pub release: release::Model,
    pub reference: ActionRef,
}

/// The actions `Query.improvementImpact` lists (ANALYST and up): see [`in_effect`].
pub async fn listed<C: ConnectionTrait>(
    visible: &Visible<'_, C>,
    from: i64,
    to: i64,
) -> ApiResult<Vec<Listed>> {
    visible.require(READER)?;
    in_effect(visible.db(), visible.scope(), from, to).await
}

/// The actions not DROPPED, with a target, in effect within `[from, to)` (at most
/// [`MAX_LIST_DAYS`]) and before now, of the programs of `scope`; ordered by the time they
/// took effect, then id.
pub async fn in_effect<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    from: i64,
    to: i64,
) -> ApiResult<Vec<Listed>> {
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
    let until = to.min(now);
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
    let in_scope = match scope {
        Scope::All => Condition::all(),
        Scope::Programs(ids) => Condition::all().add(
            A::ReleaseId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(release::Column::Id)
                    .from(release::Entity)
                    .and_where(release::Column::ProgramId.is_in(ids.iter().copied()))
                    .to_owned(),
            ),
        ),
    };
    let actions = improvement_action::Entity::find()
        .filter(in_scope)
        .filter(A::Target.is_not_null())
        .filter(A::Status.ne(ActionStatus::Dropped))
        .filter(effective)
        .all(db)
        .await?;
    let releases = releases_of(db, actions.iter().map(|a| a.release_id)).await?;
    let mut listed: Vec<Listed> = actions
        .into_iter()
        .filter_map(|action| {
            let release = releases.get(&action.release_id)?.clone();
            let reference = reference(&action, release.program_id, now)?;
            Some(Listed {
                action,
                release,
                reference,
            })
        })
        .collect();
    listed.sort_by_key(|l| (l.reference.effective_at, l.action.id));
    Ok(listed)
}

/// Each release, by id.
async fn releases_of<C: ConnectionTrait>(
    db: &C,
    releases: impl Iterator<Item = i64>,
) -> ApiResult<HashMap<i64, release::Model>> {
    let mut ids: Vec<i64> = releases.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::with_capacity(ids.len());
    // Bounded lists of ids: both databases cap the parameters of a statement.
    for chunk in ids.chunks(1_000) {
        let rows = release::Entity::find()
            .filter(release::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|r| (r.id, r)));
    }
    Ok(found)
}
