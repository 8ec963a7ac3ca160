//! Did an improvement action work? `ImprovementAction.impact` and `Query.improvementImpact`
//! (metrics.md, *Improvement impact*).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::context::{snapshot, visible};
use crate::graphql::enums::MetricName;
use crate::graphql::metrics::int;
use crate::graphql::review::ImprovementAction;
use crate::graphql::scalars::Timestamp;
use crate::queries::impact::{
    DEFAULT_WINDOW_DAYS, READER, impacts, listed, reference, window_days,
};
use crate::queries::metrics::stored;
use crate::time;

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ImpactVerdict {
    Improved,
    Worsened,
    NoDetectableChange,
    InsufficientData,
}

impl From<analytics::Verdict> for ImpactVerdict {
    fn from(verdict: analytics::Verdict) -> Self {
        match verdict {
            analytics::Verdict::Improved => Self::Improved,
            analytics::Verdict::Worsened => Self::Worsened,
            analytics::Verdict::NoDetectableChange => Self::NoDetectableChange,
            analytics::Verdict::InsufficientData => Self::InsufficientData,
        }
    }
}

#[derive(SimpleObject, Clone, Copy)]
pub struct ImpactWindow {
    pub from: Timestamp,
    pub to: Timestamp,
    pub value: Option<f64>,
    pub observations: i32,
}

impl From<analytics::ImpactWindow> for ImpactWindow {
    fn from(w: analytics::ImpactWindow) -> Self {
        Self {
            from: Timestamp(w.from),
            to: Timestamp(w.to),
            value: w.value,
            observations: int(w.observations),
        }
    }
}

/// Did the action move its target metric? See metrics.md, Improvement impact.
#[derive(SimpleObject, Clone, Copy)]
pub struct ActionImpact {
    pub metric: MetricName,
    pub effective_at: Timestamp,
    pub window_days: i32,
    pub before: ImpactWindow,
    pub after: ImpactWindow,
    /// True while the after window has not ended.
    pub partial: bool,
    pub change: Option<f64>,
    pub relative_change: Option<f64>,
    /// 95 % interval of after − before.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub verdict: ImpactVerdict,
    /// The same change over every other program the caller may see.
    pub baseline_change: Option<f64>,
    pub net_change: Option<f64>,
}

impl From<analytics::Impact> for ActionImpact {
    fn from(i: analytics::Impact) -> Self {
        Self {
            metric: stored(i.metric).into(),
            effective_at: Timestamp(i.effective_at),
            window_days: int(u64::from(i.window_days)),
            before: i.before.into(),
            after: i.after.into(),
            partial: i.partial,
            change: i.change,
            relative_change: i.relative_change,
            low: i.low,
            high: i.high,
            verdict: i.verdict.into(),
            baseline_change: i.baseline_change,
            net_change: i.net_change,
        }
    }
}

/// The impact of one action, or None when it has none (metrics.md: no target, no
/// effective time, DROPPED, not yet in effect); ANALYST and up.
pub async fn action_impact(
    ctx: &Context<'_>,
    action: &entity::improvement_action::Model,
    program: i64,
    days: i32,
) -> ApiResult<Option<ActionImpact>> {
    let visible = visible(ctx)?;
    visible.require(READER)?;
    let days = window_days(days)?;
    let now = time::now_micros();
    let Some(reference) = reference(action, program, now) else {
        return Ok(None);
    };
    let snapshot = snapshot(ctx).await?;
    let found = impacts(&visible, &snapshot, days, now, vec![reference]).await?;
    Ok(found.into_iter().next().map(Into::into))
}

/// The actions Query.improvementImpact lists.
#[derive(InputObject)]
pub struct ImpactFilter {
    pub from: Timestamp,
    pub to: Timestamp,
    pub program_keys: Option<Vec<String>>,
    #[graphql(default_with = "Some(DEFAULT_WINDOW_DAYS)")]
    pub window_days: Option<i32>,
}

/// An action and its impact, as Query.improvementImpact lists them.
#[derive(SimpleObject, Clone)]
pub struct ActionWithImpact {
    pub action: ImprovementAction,
    pub impact: ActionImpact,
}

#[derive(Default)]
pub struct ImpactQuery;

#[Object]
impl ImpactQuery {
    /// Actions with a target whose effectiveAt is in the window; ANALYST and up.
    async fn improvement_impact(
        &self,
        ctx: &Context<'_>,
        filter: ImpactFilter,
    ) -> ApiResult<Vec<ActionWithImpact>> {
        let caller = visible(ctx)?;
        caller.require(READER)?;
        let days = window_days(filter.window_days.unwrap_or(DEFAULT_WINDOW_DAYS))?;
        let listed_of = match &filter.program_keys {
            Some(keys) => caller.narrowed("programKeys", keys).await?,
            None => visible(ctx)?,
        };
        let actions = listed(&listed_of, filter.from.micros(), filter.to.micros()).await?;
        let snapshot = snapshot(ctx).await?;
        let (models, references): (Vec<_>, Vec<_>) =
            actions.into_iter().map(|l| (l.action, l.reference)).unzip();
        let found = impacts(&caller, &snapshot, days, time::now_micros(), references).await?;
        Ok(models
            .into_iter()
            .zip(found)
            .map(|(action, impact)| ActionWithImpact {
                action: ImprovementAction(action),
                impact: impact.into(),
            })
            .collect())
    }
}
