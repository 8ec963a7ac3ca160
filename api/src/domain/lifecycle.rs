//! The release lifecycle of lifecycle.md: which status may follow which, and freeze windows.

use entity::enums::DeploymentStatus;
use entity::enums::ReleaseStatus::{self, *};
use entity::freeze_window;

use crate::error::{ApiError, ApiResult};
use crate::time;

/// The statuses a release may move to from `from` (lifecycle.md's table).
pub fn allowed_targets(from: ReleaseStatus) -> &'static [ReleaseStatus] {
    match from {
        Planned => &[Scheduled, Cancelled],
        Scheduled => &[Planned, InBuild, Cancelled],
        InBuild => &[InTest, Cancelled],
        InTest => &[InBuild, Approved, Cancelled],
        Approved => &[InTest, Deploying, Cancelled],
        Deploying => &[Deployed, RolledBack],
        Deployed => &[Reviewed, RolledBack],
        RolledBack => &[Reviewed],
        Reviewed | Cancelled => &[],
    }
}

/// REVIEWED and CANCELLED releases are read-only.
pub fn is_terminal(status: ReleaseStatus) -> bool {
    allowed_targets(status).is_empty()
}

/// The mutation that reaches a status other than through `transitionRelease`.
fn reached_through(status: ReleaseStatus) -> Option<&'static str> {
    match status {
        RolledBack => Some("rollbackRelease"),
        Reviewed => Some("recordOutcome"),
        _ => None,
    }
}

fn describe_targets(from: ReleaseStatus) -> String {
    let targets = allowed_targets(from);
    if targets.is_empty() {
        return format!("{} is terminal: nothing may follow it", from.as_str());
    }
    let names: Vec<String> = targets
        .iter()
        .map(|t| match reached_through(*t) {
            Some(mutation) => format!("{} (through {mutation})", t.as_str()),
            None => t.as_str().to_owned(),
        })
        .collect();
    format!("allowed from {}: {}", from.as_str(), names.join(", "))
}

/// Checks a `transitionRelease` from `from` to `to`; ROLLED_BACK and REVIEWED are reached
/// only through their own mutations.
pub fn check_transition(from: ReleaseStatus, to: ReleaseStatus) -> ApiResult<()> {
    let allowed = allowed_targets(from).contains(&to) && reached_through(to).is_none();
    if allowed {
        return Ok(());
    }
    let why = match reached_through(to) {
        Some(mutation) if allowed_targets(from).contains(&to) => {
            format!("; {} is reached through {mutation}", to.as_str())
        }
        _ => String::new(),
    };
    Err(ApiError::InvalidTransition(format!(
        "the release is {} and cannot move to {}{why}; {}",
        from.as_str(),
        to.as_str(),
        describe_targets(from)
    )))
}

/// Fails with `INVALID_TRANSITION` when the release is read-only.
pub fn check_writable(status: ReleaseStatus) -> ApiResult<()> {
    if is_terminal(status) {
        Err(ApiError::InvalidTransition(format!(
            "the release is {} and read-only",
            status.as_str()
        )))
    } else {
        Ok(())
    }
}

/// The status a release takes when one of its production deployments is recorded or
/// completed with `deployment` status: recording one moves an APPROVED release to
/// DEPLOYING; a SUCCEEDED one moves an APPROVED or DEPLOYING release to DEPLOYED.
pub fn after_production_deployment(
    current: ReleaseStatus,
    deployment: DeploymentStatus,
) -> Option<ReleaseStatus> {
    match (current, deployment) {
        (Approved | Deploying, DeploymentStatus::Succeeded) => Some(Deployed),
        (Approved, _) => Some(Deploying),
        _ => None,
    }
}

/// Whether a release may be deployed to a tier: production needs APPROVED, DEPLOYING or
/// DEPLOYED; other tiers IN_BUILD or later, and not terminal.
pub fn check_deployable(status: ReleaseStatus, production: bool) -> ApiResult<()> {
    let allowed = if production {
        matches!(status, Approved | Deploying | Deployed)
    } else {
        !matches!(status, Planned | Scheduled) && !is_terminal(status)
    };
    if allowed {
        return Ok(());
    }
    let needs = if production {
        "a production deployment needs the release APPROVED, DEPLOYING or DEPLOYED"
    } else {
        "a deployment needs the release IN_BUILD or later, and not REVIEWED or CANCELLED"
    };
    Err(ApiError::InvalidTransition(format!(
        "{needs}; it is {}",
        status.as_str()
    )))
}

/// The first window (by start) covering `at`; a window covers `[starts_at, ends_at)`.
pub fn covering(windows: &[freeze_window::Model], at: i64) -> Option<&freeze_window::Model> {
    windows
        .iter()
        .filter(|w| w.starts_at <= at && at < w.ends_at)
        .min_by_key(|w| (w.starts_at, w.id))
}

/// The `FREEZE_CONFLICT` for `what` at `at` falling in `window`.
pub fn freeze_conflict(
    what: &str,
    at: i64,
    window: &freeze_window::Model,
    can_override: bool,
) -> ApiError {
    let hint = if can_override {
        "; set overrideFreeze with a note saying why to proceed"
    } else {
        ""
    };
    ApiError::FreezeConflict(format!(
        "{what} {} falls in freeze window '{}' [{}, {}){hint}",
        time::rfc3339(at),
        window.name,
        time::rfc3339(window.starts_at),
        time::rfc3339(window.ends_at),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: ApiResult<()>) -> String {
        match result {
            Err(ApiError::InvalidTransition(m)) => m,
            other => format!("unexpected: {other:?}"),
        }
    }

    #[test]
    fn follows_the_table() {
        assert!(check_transition(Planned, Scheduled).is_ok());
        assert!(check_transition(Scheduled, Planned).is_ok());
        assert!(check_transition(InTest, InBuild).is_ok());
        assert!(check_transition(Approved, Deploying).is_ok());
        assert!(check_transition(Deploying, Deployed).is_ok());
        assert!(check_transition(Planned, InBuild).is_err());
        assert!(check_transition(Deploying, Cancelled).is_err());
    }

    #[test]
    fn every_pair_outside_the_table_is_refused() {
        let all = [
            Planned, Scheduled, InBuild, InTest, Approved, Deploying, Deployed, Reviewed,
            RolledBack, Cancelled,
        ];
        for from in all {
            for to in all {
                let in_table = allowed_targets(from).contains(&to);
                let own_mutation = matches!(to, RolledBack | Reviewed);
                assert_eq!(
                    check_transition(from, to).is_ok(),
                    in_table && !own_mutation,
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn messages_name_the_status_and_every_target() {
        let m = message(check_transition(Planned, Planned));
        assert!(
            m.contains("PLANNED") && m.contains("SCHEDULED") && m.contains("CANCELLED"),
            "{m}"
        );
        let m = message(check_transition(Deployed, RolledBack));
        assert!(
            m.contains("rollbackRelease") && m.contains("REVIEWED") && m.contains("DEPLOYED"),
            "{m}"
        );
        let m = message(check_transition(Reviewed, Planned));
        assert!(m.contains("REVIEWED is terminal"), "{m}");
    }

    #[test]
    fn production_deployments_move_the_release() {
        use DeploymentStatus::*;
        assert_eq!(
            after_production_deployment(Approved, InProgress),
            Some(Deploying)
        );
        assert_eq!(
            after_production_deployment(Approved, Failed),
            Some(Deploying)
        );
        assert_eq!(
            after_production_deployment(Approved, Succeeded),
            Some(Deployed)
        );
        assert_eq!(
            after_production_deployment(Deploying, Succeeded),
            Some(Deployed)
        );
        assert_eq!(after_production_deployment(Deploying, Failed), None);
        assert_eq!(after_production_deployment(Deployed, Succeeded), None);
    }

    #[test]
    fn deployable_statuses_depend_on_the_tier() {
        for status in [Approved, Deploying, Deployed] {
            assert!(check_deployable(status, true).is_ok());
        }
        for status in [
            Planned, Scheduled, InBuild, InTest, RolledBack, Reviewed, Cancelled,
        ] {
            assert!(check_deployable(status, true).is_err(), "{status:?}");
        }
        for status in [InBuild, InTest, Approved, Deploying, Deployed, RolledBack] {
            assert!(check_deployable(status, false).is_ok(), "{status:?}");
        }
        for status in [Planned, Scheduled, Reviewed, Cancelled] {
            assert!(check_deployable(status, false).is_err(), "{status:?}");
        }
    }

    #[test]
    fn terminal_statuses_are_read_only() {
        assert!(check_writable(Reviewed).is_err());
        assert!(check_writable(Cancelled).is_err());
        assert!(check_writable(RolledBack).is_ok());
    }

    #[test]
    fn windows_cover_half_open_ranges() {
        let window = |id, starts_at, ends_at| freeze_window::Model {
            id,
            name: format!("w{id}"),
            reason: None,
            starts_at,
            ends_at,
            program_id: None,
        };
        let windows = [window(1, 100, 200), window(2, 150, 300)];
        assert_eq!(covering(&windows, 99), None);
        assert_eq!(covering(&windows, 100).map(|w| w.id), Some(1));
        assert_eq!(covering(&windows, 170).map(|w| w.id), Some(1));
        assert_eq!(covering(&windows, 200).map(|w| w.id), Some(2));
        assert_eq!(covering(&windows, 300), None);
    }
}
