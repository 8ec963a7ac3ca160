//! The list of releases: its filter and its orderings.

use entity::enums::{ReleaseStatus, ReleaseType};
use entity::release_party::PartyRole;
use entity::{program, release, release_party};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, QueryFilter, Select};

use super::page::{Key, Ordering, Position};

/// Narrows a list of releases; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct ReleaseFilter {
    pub program_keys: Option<Vec<String>>,
    pub statuses: Option<Vec<ReleaseStatus>>,
    pub types: Option<Vec<ReleaseType>>,
    /// plannedEnd in [planned_from, planned_to), Unix microseconds.
    pub planned_from: Option<i64>,
    pub planned_to: Option<i64>,
    pub team: Option<String>,
    /// Case-insensitive match on version, name or description.
    pub search: Option<String>,
}

/// A column to order releases by; ties go by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ReleaseSort {
    PlannedEnd,
    CreatedAt,
    UpdatedAt,
    Version,
}

impl ReleaseSort {
    /// The list ordered by this column; releases without a plannedEnd come last.
    pub fn ordering(self, ascending: bool) -> Ordering<release::Entity> {
        let (column, position): (release::Column, fn(&release::Model) -> Position) = match self {
            Self::PlannedEnd => (release::Column::PlannedEnd, |r| Position {
                key: r.planned_end.map_or(Key::Null, Key::Int),
                id: r.id,
            }),
            Self::CreatedAt => (release::Column::CreatedAt, |r| Position {
                key: Key::Int(r.created_at),
                id: r.id,
            }),
            Self::UpdatedAt => (release::Column::UpdatedAt, |r| Position {
                key: Key::Int(r.updated_at),
                id: r.id,
            }),
            Self::Version => (release::Column::Version, |r| Position {
                key: Key::Text(r.version.clone()),
                id: r.id,
            }),
        };
        Ordering {
            column: Some(column),
            nullable: self == Self::PlannedEnd,
            ascending,
            id: release::Column::Id,
            position,
        }
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl ReleaseFilter {
    /// `releases` narrowed by the filter.
    pub fn apply(&self, releases: Select<release::Entity>) -> Select<release::Entity> {
        releases.filter(self.condition())
    }

    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(keys) = &self.program_keys {
            condition = condition.add(
                release::Column::ProgramId.in_subquery(
                    Query::select()
                        .column(program::Column::Id)
                        .from(program::Entity)
                        .and_where(program::Column::Key.is_in(keys.iter().cloned()))
                        .to_owned(),
                ),
            );
        }
        if let Some(statuses) = &self.statuses {
            condition = condition.add(release::Column::Status.is_in(statuses.iter().copied()));
        }
        if let Some(types) = &self.types {
            condition = condition.add(release::Column::ReleaseType.is_in(types.iter().copied()));
        }
        if let Some(from) = self.planned_from {
            condition = condition.add(release::Column::PlannedEnd.gte(from));
        }
        if let Some(to) = self.planned_to {
            condition = condition.add(release::Column::PlannedEnd.lt(to));
        }
        if let Some(team) = &self.team {
            condition = condition.add(
                release::Column::Id.in_subquery(
                    Query::select()
                        .column(release_party::Column::ReleaseId)
                        .from(release_party::Entity)
                        .and_where(release_party::Column::Role.eq(PartyRole::Team))
                        .and_where(release_party::Column::Name.eq(team.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = like_pattern(search);
            let matches = |column: release::Column| {
                Func::lower(Expr::col((release::Entity, column)))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            condition = condition.add(
                Condition::any()
                    .add(matches(release::Column::Version))
                    .add(matches(release::Column::Name))
                    .add(matches(release::Column::Description)),
            );
        }
        condition
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_match_text_literally() {
        assert_eq!(like_pattern("Pay"), "%pay%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
