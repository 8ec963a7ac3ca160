//! Readiness: what stands between a release and APPROVED (lifecycle.md, "to APPROVED").

use entity::approval;
use entity::enums::{ApprovalDecision, GateStatus};

use super::gates::GateState;

/// Whether a release may be approved, and every reason it may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub blockers: Vec<String>,
}

pub const NO_REQUIRED_GATE: &str = "no required quality gate has been recorded";
pub const NO_ROLLBACK_PLAN: &str = "no rollback plan";
pub const NO_APPROVAL: &str = "no go/no-go approval has been recorded";
pub const LATEST_APPROVAL_NO_GO: &str = "the latest approval is NO_GO";

/// Checks the four conditions of readiness. Condition 2 (every required gate PASSED or
/// WAIVED) gives one blocker per gate that fails it, naming the gate and its status; each
/// dependency not yet met (communication.md) adds its own, `open_dependencies`, at the end.
pub fn readiness(
    gates: &[GateState],
    approvals: &[approval::Model],
    rollback_plan: Option<&str>,
    open_dependencies: Vec<String>,
) -> Readiness {
    let mut blockers = Vec::new();
    let required: Vec<&GateState> = gates.iter().filter(|g| g.gate.required).collect();
    if required.is_empty() {
        blockers.push(NO_REQUIRED_GATE.to_owned());
    }
    for gate in required {
        if !matches!(gate.status(), GateStatus::Passed | GateStatus::Waived) {
            blockers.push(format!(
                "gate {} is {}",
                gate.gate.name,
                gate.status().as_str()
            ));
        }
    }
    if rollback_plan.is_none_or(|plan| plan.trim().is_empty()) {
        blockers.push(NO_ROLLBACK_PLAN.to_owned());
    }
    match approvals.iter().max_by_key(|a| (a.decided_at, a.id)) {
        None => blockers.push(NO_APPROVAL.to_owned()),
        Some(latest) if latest.decision == ApprovalDecision::NoGo => {
            blockers.push(LATEST_APPROVAL_NO_GO.to_owned());
        }
        Some(_) => {}
    }
    blockers.extend(open_dependencies);
    Readiness {
        ready: blockers.is_empty(),
        blockers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::GateKind;
    use entity::{gate_result, quality_gate};

    fn gate(name: &str, required: bool, status: GateStatus) -> GateState {
        GateState {
            gate: quality_gate::Model {
                id: 1,
                release_id: 1,
                name: name.into(),
                kind: GateKind::SecurityScan,
                required,
            },
            latest: gate_result::Model {
                id: 1,
                gate_id: 1,
                status,
                evidence_url: None,
                note: None,
                checked_at: 0,
                checked_by: "ci".into(),
            },
            attempts: 1,
        }
    }

    fn approval(id: i64, decision: ApprovalDecision, decided_at: i64) -> approval::Model {
        approval::Model {
            id,
            release_id: 1,
            approver: "cab".into(),
            decision,
            comment: None,
            decided_at,
        }
    }

    #[test]
    fn nothing_recorded_gives_exactly_three_blockers() {
        let r = readiness(&[], &[], None, Vec::new());
        assert!(!r.ready);
        assert_eq!(
            r.blockers,
            vec![NO_REQUIRED_GATE, NO_ROLLBACK_PLAN, NO_APPROVAL]
        );
    }

    #[test]
    fn ready_when_all_four_hold() {
        let gates = [
            gate("unit", true, GateStatus::Passed),
            gate("perf", true, GateStatus::Waived),
            gate("lint", false, GateStatus::Failed),
        ];
        let r = readiness(
            &gates,
            &[approval(1, ApprovalDecision::Go, 5)],
            Some("redeploy 1.2"),
            Vec::new(),
        );
        assert_eq!(
            r,
            Readiness {
                ready: true,
                blockers: vec![]
            }
        );
    }

    #[test]
    fn names_each_failing_required_gate() {
        let gates = [
            gate("security-scan", true, GateStatus::Failed),
            gate("acceptance", true, GateStatus::Pending),
        ];
        let r = readiness(
            &gates,
            &[approval(1, ApprovalDecision::Go, 5)],
            Some("plan"),
            vec!["depends on PAY 2.1 (IN_TEST)".to_owned()],
        );
        assert_eq!(
            r.blockers,
            vec![
                "gate security-scan is FAILED",
                "gate acceptance is PENDING",
                "depends on PAY 2.1 (IN_TEST)"
            ]
        );
    }

    #[test]
    fn only_optional_gates_do_not_count_and_blank_plan_is_no_plan() {
        let r = readiness(
            &[gate("lint", false, GateStatus::Passed)],
            &[approval(1, ApprovalDecision::Go, 5)],
            Some("  "),
            Vec::new(),
        );
        assert_eq!(r.blockers, vec![NO_REQUIRED_GATE, NO_ROLLBACK_PLAN]);
    }

    #[test]
    fn the_latest_approval_by_decision_time_counts() {
        let gates = [gate("unit", true, GateStatus::Passed)];
        let approvals = [
            approval(1, ApprovalDecision::NoGo, 10),
            approval(2, ApprovalDecision::Go, 5),
        ];
        let r = readiness(&gates, &approvals, Some("plan"), Vec::new());
        assert_eq!(r.blockers, vec![LATEST_APPROVAL_NO_GO]);
        let approvals = [
            approval(1, ApprovalDecision::NoGo, 10),
            approval(2, ApprovalDecision::Go, 10),
        ];
        assert!(readiness(&gates, &approvals, Some("plan"), Vec::new()).ready);
    }
}
