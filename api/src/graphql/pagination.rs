//! Relay connections over offset windows.
//!
//! A cursor is the opaque position of an edge in the ordered list. Lists in relm only grow
//! and keep a total order (every ordering ends with the id), so positions are stable enough
//! for paging, and `last/before` costs the same as `first/after`.

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;
const CURSOR_PREFIX: &str = "relm:cursor:";

/// The arguments every connection field takes.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// The rows of a list to fetch: `limit` rows from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

fn page_size(name: &str, value: Option<i32>) -> ApiResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => Ok(Some(n as u64)),
        Some(n) => Err(ApiError::bad_input(
            name,
            format!("must be between 0 and {MAX_PAGE}, got {n}"),
        )),
    }
}

pub fn encode_cursor(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{position}"))
}

fn decode_cursor(name: &str, cursor: &str) -> ApiResult<u64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse::<u64>().ok())
        .ok_or_else(|| ApiError::bad_input(name, "not a cursor issued by this server"))
}

impl PageArgs {
    /// Checks the arguments before anything is read, so bad input costs no query.
    pub fn validate(&self) -> ApiResult<()> {
        page_size("first", self.first)?;
        page_size("last", self.last)?;
        if let Some(after) = &self.after {
            decode_cursor("after", after)?;
        }
        if let Some(before) = &self.before {
            decode_cursor("before", before)?;
        }
        Ok(())
    }

    /// The window of a list of `total` rows that these arguments select (Relay's algorithm,
    /// with `first` defaulting to 20 when neither `first` nor `last` is given).
    pub fn window(&self, total: u64) -> ApiResult<Window> {
        let first = page_size("first", self.first)?;
        let last = page_size("last", self.last)?;
        let mut start = match &self.after {
            Some(c) => (decode_cursor("after", c)? + 1).min(total),
            None => 0,
        };
        let mut end = match &self.before {
            Some(c) => decode_cursor("before", c)?.min(total),
            None => total,
        };
        end = end.max(start);
        let first = match (first, last) {
            (None, None) => Some(DEFAULT_PAGE),
            (first, _) => first,
        };
        if let Some(first) = first {
            end = end.min(start + first);
        }
        if let Some(last) = last {
            start = start.max(end.saturating_sub(last));
        }
        Ok(Window {
            offset: start,
            limit: end - start,
        })
    }
}

/// Information about pagination in a connection.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// Builds the edges' cursors and the page info of `window` over `total` rows.
pub fn page_info(window: Window, rows: usize, total: u64) -> (Vec<String>, PageInfo) {
    let cursors: Vec<String> = (0..rows as u64)
        .map(|i| encode_cursor(window.offset + i))
        .collect();
    let info = PageInfo {
        has_next_page: window.offset + (rows as u64) < total,
        has_previous_page: window.offset > 0,
        start_cursor: cursors.first().cloned(),
        end_cursor: cursors.last().cloned(),
    };
    (cursors, info)
}

/// Counts the rows `select` matches and reads the page the arguments ask for; the caller
/// orders `select` with a total order.
pub async fn fetch_page<E>(
    db: &impl sea_orm::ConnectionTrait,
    select: sea_orm::Select<E>,
    page: &PageArgs,
) -> ApiResult<(Vec<E::Model>, Window, u64)>
where
    E: sea_orm::EntityTrait<Model: Sync>,
{
    use sea_orm::{PaginatorTrait, QuerySelect};

    page.validate()?;
    let total = select.clone().count(db).await?;
    let window = page.window(total)?;
    let rows = if window.limit == 0 {
        Vec::new()
    } else {
        select
            .offset(window.offset)
            .limit(window.limit)
            .all(db)
            .await?
    };
    Ok((rows, window, total))
}

/// Defines a Relay connection type and its edge for `$node`.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub nodes: Vec<$node>,
            pub page_info: $crate::graphql::pagination::PageInfo,
            /// How many items the list holds in all.
            pub total_count: i32,
        }

        /// An item of a connection with its cursor.
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        impl $connection {
            pub fn new(
                nodes: Vec<$node>,
                window: $crate::graphql::pagination::Window,
                total: u64,
            ) -> Self {
                let (cursors, page_info) =
                    $crate::graphql::pagination::page_info(window, nodes.len(), total);
                let edges = nodes
                    .iter()
                    .zip(cursors)
                    .map(|(node, cursor)| $edge {
                        cursor,
                        node: node.clone(),
                    })
                    .collect();
                Self {
                    edges,
                    nodes,
                    page_info,
                    total_count: i32::try_from(total).unwrap_or(i32::MAX),
                }
            }
        }
    };
}
pub(crate) use connection;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        first: Option<i32>,
        after: Option<u64>,
        last: Option<i32>,
        before: Option<u64>,
    ) -> PageArgs {
        PageArgs {
            first,
            after: after.map(encode_cursor),
            last,
            before: before.map(encode_cursor),
        }
    }

    fn window(a: PageArgs, total: u64) -> (u64, u64) {
        let w = a.window(total).unwrap_or(Window {
            offset: 999,
            limit: 999,
        });
        (w.offset, w.limit)
    }

    #[test]
    fn defaults_to_the_first_twenty() {
        assert_eq!(window(PageArgs::default(), 50), (0, 20));
        assert_eq!(window(PageArgs::default(), 5), (0, 5));
    }

    #[test]
    fn pages_forward_and_backward() {
        assert_eq!(window(args(Some(10), Some(9), None, None), 50), (10, 10));
        assert_eq!(window(args(None, None, Some(10), None), 50), (40, 10));
        assert_eq!(window(args(None, None, Some(10), Some(40)), 50), (30, 10));
        assert_eq!(window(args(None, Some(5), Some(10), Some(10)), 50), (6, 4));
        assert_eq!(window(args(Some(0), None, None, None), 50), (0, 0));
        assert_eq!(window(args(Some(10), Some(60), None, None), 50), (50, 0));
    }

    #[test]
    fn rejects_sizes_out_of_range_and_forged_cursors() {
        assert!(args(Some(-1), None, None, None).validate().is_err());
        assert!(args(Some(101), None, None, None).validate().is_err());
        assert!(args(None, None, Some(-5), None).validate().is_err());
        assert!(args(Some(100), None, None, None).validate().is_ok());
        let forged = PageArgs {
            after: Some("bm9wZQ".into()),
            ..PageArgs::default()
        };
        assert!(forged.validate().is_err());
    }

    #[test]
    fn page_info_reports_neighbours() {
        let (cursors, info) = page_info(
            Window {
                offset: 10,
                limit: 10,
            },
            10,
            50,
        );
        assert_eq!(cursors.len(), 10);
        assert!(info.has_next_page && info.has_previous_page);
        assert_eq!(info.start_cursor, Some(encode_cursor(10)));
        let (_, info) = page_info(
            Window {
                offset: 0,
                limit: 20,
            },
            5,
            5,
        );
        assert!(!info.has_next_page && !info.has_previous_page);
    }
}
