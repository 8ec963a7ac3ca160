//! Which incidents `Query.incidents` lists, newest opened first.

use entity::enums::Severity;
use entity::incident;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition};

use super::span::Span;

/// What narrows the list; every part optional.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Opened in `[from, to)`.
    pub opened: Span,
    /// None for every severity; an empty list matches nothing.
    pub severities: Option<Vec<Severity>>,
    pub caused_by_change: Option<bool>,
    /// True for unresolved incidents only, false for resolved only.
    pub open: Option<bool>,
}

impl IncidentFilter {
    pub fn condition(&self) -> Condition {
        let mut condition = self.opened.contains(Expr::col(incident::Column::OpenedAt));
        if let Some(severities) = &self.severities {
            condition = condition.add(incident::Column::Severity.is_in(severities.iter().copied()));
        }
        if let Some(caused) = self.caused_by_change {
            condition = condition.add(incident::Column::CausedByChange.eq(caused));
        }
        match self.open {
            Some(true) => condition.add(incident::Column::ResolvedAt.is_null()),
            Some(false) => condition.add(incident::Column::ResolvedAt.is_not_null()),
            None => condition,
        }
    }
}
