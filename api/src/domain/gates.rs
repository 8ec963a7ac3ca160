//! The current state of quality gates, derived from every recorded result.

use entity::enums::GateStatus;
use entity::{gate_result, quality_gate};

/// A gate with its latest result and how many results it has.
#[derive(Debug, Clone)]
pub struct GateState {
    pub gate: quality_gate::Model,
    pub latest: gate_result::Model,
    pub attempts: usize,
}

impl GateState {
    /// The latest result is the one with the latest `checked_at`, then the latest recorded.
    /// `None` for a gate with no result yet, which cannot happen through the API (a gate is
    /// created with its first result).
    pub fn from_results(gate: quality_gate::Model, results: &[gate_result::Model]) -> Option<Self> {
        let latest = results.iter().max_by_key(|r| (r.checked_at, r.id))?.clone();
        Some(Self {
            gate,
            latest,
            attempts: results.len(),
        })
    }

    pub fn status(&self) -> GateStatus {
        self.latest.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::GateKind;

    pub fn result(id: i64, status: GateStatus, checked_at: i64) -> gate_result::Model {
        gate_result::Model {
            id,
            gate_id: 1,
            status,
            evidence_url: None,
            note: None,
            checked_at,
            checked_by: "ci".into(),
        }
    }

    fn gate() -> quality_gate::Model {
        quality_gate::Model {
            id: 1,
            release_id: 1,
            name: "unit".into(),
            kind: GateKind::UnitTest,
            required: true,
        }
    }

    #[test]
    fn latest_by_checked_at_then_recorded_order() {
        let results = [
            result(1, GateStatus::Failed, 100),
            result(2, GateStatus::Passed, 300),
            result(3, GateStatus::Pending, 200),
        ];
        let state = GateState::from_results(gate(), &results);
        assert_eq!(
            state.as_ref().map(GateState::status),
            Some(GateStatus::Passed)
        );
        assert_eq!(state.map(|s| s.attempts), Some(3));

        let tied = [
            result(1, GateStatus::Passed, 100),
            result(2, GateStatus::Failed, 100),
        ];
        let state = GateState::from_results(gate(), &tied);
        assert_eq!(state.map(|s| s.status()), Some(GateStatus::Failed));
    }

    #[test]
    fn no_results_no_state() {
        assert!(GateState::from_results(gate(), &[]).is_none());
    }
}
