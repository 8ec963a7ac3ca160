//! The tables that sets of tiers are derived from, as polars frames, with the enums as
//! their codes ([`Coded`]).

use polars::prelude::*;

use crate::index::{ById, Numbering};
use crate::model::{Coded, DeploymentStatus, Environments, ReleaseType, Tables, Tier};

/// Codes the derivations compare with.
pub const SUCCEEDED: i32 = DeploymentStatus::Succeeded as i32;
pub const FAILED: i32 = DeploymentStatus::Failed as i32;
pub const ROLLED_BACK: i32 = DeploymentStatus::RolledBack as i32;

/// A deployment's tier and status in one code (`tier * STATUSES + status`), one column
/// instead of two.
const STATUSES: i32 = 4;

fn tier_status(tier: Tier, status: DeploymentStatus) -> i32 {
    tier.code() * STATUSES + status.code()
}

/// The status of a [`tier_status`] code.
pub fn status_of(tier_status: i32) -> i32 {
    tier_status % STATUSES
}

/// The [`tier_status`] codes of deployments to `tiers`, any status.
pub fn tier_status_codes(tiers: &[i32]) -> Vec<i32> {
    tiers
        .iter()
        .flat_map(|tier| (0..STATUSES).map(move |status| tier * STATUSES + status))
        .collect()
}

fn column<T, V>(name: &str, values: V) -> Column
where
    Series: NamedFrom<V, T>,
    T: ?Sized,
{
    Series::new(name.into(), values).into_column()
}

/// A failure inside the analytics (a polars error), as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "analytics: {}", self.0)
    }
}

impl std::error::Error for Error {}

impl From<PolarsError> for Error {
    fn from(err: PolarsError) -> Self {
        Self(err.to_string())
    }
}

/// The tier of each environment.
struct Tiers(ById<Tier>);

impl Tiers {
    fn new(environments: &Environments) -> Self {
        Self(ById::new(
            &environments.id,
            environments.tier.iter().copied(),
        ))
    }

    /// The tier of `environment`; one that was not read fails, as its rows cannot be
    /// counted in the right tier (the next load reads it).
    fn of(&self, environment: i64) -> Result<Tier, Error> {
        self.0.get(environment).ok_or_else(|| {
            Error(format!(
                "a row of environment {environment}, which was not read"
            ))
        })
    }
}

/// The frames a set of tiers is derived from. Releases and programs are numbered
/// ([`Numbering`]), which holds each release's program.
#[derive(Clone)]
pub struct Frames {
    pub releases: DataFrame,
    pub deployments: DataFrame,
    pub items: DataFrame,
    pub incidents: DataFrame,
    pub outcomes: DataFrame,
    pub unplanned: DataFrame,
}

impl Frames {
    /// The frames of `t`; its other tables (what [`crate::shared::Shared`] takes) are dropped.
    pub fn from_tables(t: Tables, numbering: &mut Numbering) -> Result<Self, Error> {
        let r = t.releases;
        let tiers = Tiers::new(&t.environments);
        let emergency = ById::new(
            &r.id,
            r.kind.iter().map(|kind| *kind == ReleaseType::Emergency),
        );
        let releases = DataFrame::new_infer_height(vec![
            column("release", numbering.placed(&r.id, &r.program)),
            column("planned_end", r.planned_end),
        ])?;
        let d = t.deployments;
        let deployments = DataFrame::new_infer_height(vec![
            column("id", d.id),
            column("release", numbering.releases(&d.release)),
            column(
                "emergency",
                d.release
                    .iter()
                    .map(|release| emergency.get(*release).unwrap_or(false))
                    .collect::<Vec<_>>(),
            ),
            column(
                "tier_status",
                d.environment
                    .iter()
                    .zip(d.status)
                    .map(|(environment, status)| Ok(tier_status(tiers.of(*environment)?, status)))
                    .collect::<Result<Vec<_>, Error>>()?,
            ),
            column("rollback", d.rollback),
            column("finished_at", d.finished_at),
            column("ingested", d.ingested),
        ])?;
        let items = DataFrame::new_infer_height(vec![
            column("release", numbering.releases(&t.items.release)),
            column("committed_at", t.items.committed_at),
        ])?;
        let i = t.incidents;
        let incidents = DataFrame::new_infer_height(vec![
            column("id", i.id),
            column(
                "release",
                i.release
                    .iter()
                    .map(|r| r.map(|id| numbering.release(id)))
                    .collect::<Vec<_>>(),
            ),
            column("deployment", i.deployment),
            column("caused_by_change", i.caused_by_change),
            column(
                "severity",
                i.severity.iter().map(|s| s.code()).collect::<Vec<i32>>(),
            ),
            column("opened_at", i.opened_at),
        ])?;
        let outcomes = DataFrame::new_infer_height(vec![column(
            "release",
            numbering.releases(&t.outcomes.release),
        )])?;
        let u = t.unplanned;
        let unplanned = DataFrame::new_infer_height(vec![
            column("id", u.id),
            column("program", numbering.programs.numbers(&u.program)),
            column("received_at", u.received_at),
            column(
                "tier",
                u.environment
                    .iter()
                    .map(|environment| Ok(tiers.of(*environment)?.code()))
                    .collect::<Result<Vec<_>, Error>>()?,
            ),
        ])?;
        Ok(Self {
            unplanned,
            releases,
            deployments,
            items,
            incidents,
            outcomes,
        })
    }

    /// polars' estimate of the bytes the frames hold.
    pub fn estimated_size(&self) -> usize {
        [
            &self.releases,
            &self.deployments,
            &self.items,
            &self.incidents,
            &self.outcomes,
            &self.unplanned,
        ]
        .iter()
        .map(|frame| frame.estimated_size())
        .sum()
    }
}

/// A set of values to test membership in with `is_in` (which wants a one-element list).
pub(crate) fn set<T>(values: &[T]) -> Expr
where
    Series: for<'a> NamedFrom<&'a [T], [T]>,
{
    lit(Series::new("set".into(), values)).implode(false)
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn a_tier_and_status_code_gives_back_both() {
        for tier in Tier::iter() {
            for status in DeploymentStatus::iter() {
                let code = tier_status(tier, status);
                assert_eq!(status_of(code), status.code(), "{tier:?} {status:?}");
                assert!(tier_status_codes(&[tier.code()]).contains(&code));
                let others: Vec<i32> = Tier::iter()
                    .filter(|t| *t != tier)
                    .map(Coded::code)
                    .collect();
                assert!(!tier_status_codes(&others).contains(&code));
            }
        }
    }
}
