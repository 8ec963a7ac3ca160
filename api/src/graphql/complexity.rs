//! The schema's own limits, which async-graphql checks while it validates a request: depth,
//! recursion and complexity, a connection costing its children once per row its page may
//! hold. What async-graphql does not see is checked before it runs (`app::limits`,
//! `app::scan`).

use crate::queries::page::{DEFAULT_PAGE, MAX_PAGE};

pub const MAX_DEPTH: usize = 15;
/// Each field costs 1; a connection's children cost as many times as its page holds.
pub const MAX_COMPLEXITY: usize = 10_000;
/// How deeply brackets may nest in a document (`app::scan` refuses deeper ones before the
/// recursive parser sees them).
pub const MAX_NESTING: usize = 64;

/// The complexity of a connection field: its children once per row its page may hold.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.or(last).map_or(DEFAULT_PAGE, |n| {
        u64::try_from(n).unwrap_or(0).min(MAX_PAGE)
    });
    (rows.max(1) as usize).saturating_mul(child_complexity) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_costs_its_children_per_row() {
        assert_eq!(page_cost(Some(100), None, 10), 1_001);
        assert_eq!(page_cost(None, Some(5), 10), 51);
        assert_eq!(page_cost(None, None, 10), 201);
        assert_eq!(page_cost(Some(0), None, 10), 11);
        assert_eq!(page_cost(Some(-3), None, 10), 11);
        assert_eq!(page_cost(Some(5_000), None, 10), 1_001);
    }
}
