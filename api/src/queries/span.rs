//! Which rows a time range `[from, to)` selects: one rule for the calendar, freeze windows
//! and the exports, as a query condition and, for the exports' SQL, as text rendered from
//! that same condition.

use sea_orm::Condition;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr, SqliteQueryBuilder};

/// A range of times `[from, to)`, either bound open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// How a row's span ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    /// At a moment that belongs to it (a deployment's finish, a release's planned end); a
    /// null end means it has not ended.
    At,
    /// Just before a moment (a freeze window covers `[startsAt, endsAt)`).
    Before,
}

impl Span {
    pub fn new(from: Option<i64>, to: Option<i64>) -> Self {
        Self { from, to }
    }

    /// Rows whose span from `start` to `end` overlaps the range: it starts before `to` and
    /// has not ended before `from`.
    pub fn overlaps(
        &self,
        start: impl Into<SimpleExpr>,
        end: impl Into<SimpleExpr>,
        ends: Ends,
    ) -> Condition {
        let (start, end) = (start.into(), end.into());
        let mut condition = Condition::all();
        if let Some(to) = self.to {
            condition = condition.add(start.lt(to));
        }
        if let Some(from) = self.from {
            condition = condition.add(match ends {
                Ends::At => Condition::any()
                    .add(end.clone().is_null())
                    .add(end.gte(from)),
                Ends::Before => Condition::all().add(end.gt(from)),
            });
        }
        condition
    }

    /// Rows whose `column` is in the range.
    pub fn contains(&self, column: impl Into<SimpleExpr>) -> Condition {
        let column = column.into();
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column.clone().gte(from));
        }
        if let Some(to) = self.to {
            condition = condition.add(column.lt(to));
        }
        condition
    }

    /// [`Self::overlaps`] over SQL expressions, as SQL text (`TRUE` when the range is open).
    pub fn overlaps_sql(&self, start: &str, end: &str, ends: Ends) -> String {
        sql(self.overlaps(
            Expr::cust(start.to_owned()),
            Expr::cust(end.to_owned()),
            ends,
        ))
    }

    /// [`Self::contains`] over an SQL expression, as SQL text.
    pub fn contains_sql(&self, column: &str) -> String {
        sql(self.contains(Expr::cust(column.to_owned())))
    }
}

/// A condition as SQL text, its values written in (numbers only here, so the text is the
/// same on both databases).
fn sql(condition: Condition) -> String {
    let rendered = Query::select()
        .expr(Expr::cust("1"))
        .cond_where(condition)
        .to_string(SqliteQueryBuilder);
    rendered
        .strip_prefix("SELECT 1 WHERE ")
        .map_or_else(|| "TRUE".to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_that_ends_at_a_moment_overlaps_while_it_runs() {
        let range = Span::new(Some(10), Some(20));
        assert_eq!(
            range.overlaps_sql("d.started_at", "d.finished_at", Ends::At),
            "(d.started_at) < 20 AND ((d.finished_at) IS NULL OR (d.finished_at) >= 10)"
        );
        assert_eq!(
            range.overlaps_sql("f.starts_at", "f.ends_at", Ends::Before),
            "(f.starts_at) < 20 AND (f.ends_at) > 10"
        );
        assert_eq!(
            range.contains_sql("r.planned_end"),
            "(r.planned_end) >= 10 AND (r.planned_end) < 20"
        );
        let open = Span::default();
        assert_eq!(open.overlaps_sql("a", "b", Ends::At), "TRUE");
        assert_eq!(open.contains_sql("a"), "TRUE");
        assert_eq!(Span::new(None, Some(5)).contains_sql("a"), "(a) < 5");
    }
}
