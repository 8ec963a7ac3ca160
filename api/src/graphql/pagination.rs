//! Relay connections over keyset pages (`queries::page`).
//!
//! A cursor is the opaque form of a row's [`Position`] in its list, tagged with the list's
//! ordering, so a cursor of one ordering is refused by another instead of paging wrongly.
//! `totalCount` is counted only when the query selects it.

use async_graphql::{Context, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Select};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::queries::page::{MAX_PAGE, Ordering, PageRequest, Position};

const CURSOR_PREFIX: &str = "relm:cursor:";

/// The arguments every connection field takes.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// What a cursor holds: the list's ordering and the row's position in it.
#[derive(Serialize, Deserialize)]
struct Cursor {
    order: String,
    #[serde(flatten)]
    at: Position,
}

pub fn encode_cursor(order: &str, at: &Position) -> String {
    let cursor = Cursor {
        order: order.to_owned(),
        at: at.clone(),
    };
    let json = serde_json::to_string(&cursor).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{json}"))
}

fn decode_cursor(name: &str, order: &str, cursor: &str) -> ApiResult<Position> {
    let decoded = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| serde_json::from_str::<Cursor>(text.strip_prefix(CURSOR_PREFIX)?).ok())
        .ok_or_else(|| ApiError::bad_input(name, "not a cursor issued by this server"))?;
    if decoded.order != order {
        return Err(ApiError::bad_input(
            name,
            "the cursor belongs to another ordering of the list",
        ));
    }
    Ok(decoded.at)
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

impl PageArgs {
    /// The checked request for a list ordered by `order`; bad input costs no query.
    pub fn request(&self, order: &str) -> ApiResult<PageRequest> {
        let cursor = |name: &str, cursor: &Option<String>| {
            cursor
                .as_deref()
                .map(|c| decode_cursor(name, order, c))
                .transpose()
        };
        Ok(PageRequest {
            first: page_size("first", self.first)?,
            after: cursor("after", &self.after)?,
            last: page_size("last", self.last)?,
            before: cursor("before", &self.before)?,
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

/// A page of rows with their cursors, and the size of the whole list when asked for.
pub struct Paged<M> {
    pub edges: Vec<(String, M)>,
    pub page_info: PageInfo,
    pub total: u64,
}

/// Reads the page `args` ask for of `select` in `ordering` (named `order` in cursors), and
/// counts the whole list when the query selects `totalCount`.
pub async fn paged<E: EntityTrait>(
    ctx: &Context<'_>,
    db: &impl ConnectionTrait,
    select: Select<E>,
    ordering: &Ordering<E>,
    order: &str,
    args: &PageArgs,
) -> ApiResult<Paged<E::Model>>
where
    E::Model: Sync,
{
    let request = args.request(order)?;
    let wants_total = ctx.look_ahead().field("totalCount").exists();
    let total_of = wants_total.then(|| select.clone());
    let page = ordering.fetch(db, select, &request).await?;
    let total = match total_of {
        Some(select) => select.count(db).await?,
        None => 0,
    };
    let edges: Vec<(String, E::Model)> = page
        .rows
        .into_iter()
        .map(|(at, row)| (encode_cursor(order, &at), row))
        .collect();
    let page_info = PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor: edges.first().map(|(c, _)| c.clone()),
        end_cursor: edges.last().map(|(c, _)| c.clone()),
    };
    Ok(Paged {
        edges,
        page_info,
        total,
    })
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
            pub fn new<M>(
                page: $crate::graphql::pagination::Paged<M>,
                node: impl Fn(M) -> $node,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .edges
                    .into_iter()
                    .map(|(cursor, row)| $edge {
                        cursor,
                        node: node(row),
                    })
                    .collect();
                Self {
                    nodes: edges.iter().map(|e| e.node.clone()).collect(),
                    edges,
                    page_info: page.page_info,
                    total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
                }
            }
        }
    };
}
pub(crate) use connection;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::page::Key;

    #[test]
    fn cursors_round_trip_within_their_ordering() {
        let at = Position {
            key: Key::Text("2026.1.0".into()),
            id: 7,
        };
        let cursor = encode_cursor("VERSION_ASC", &at);
        assert_eq!(
            decode_cursor("after", "VERSION_ASC", &cursor).ok(),
            Some(at)
        );
        assert!(decode_cursor("after", "CREATED_AT_DESC", &cursor).is_err());
        let null = Position {
            key: Key::Null,
            id: 3,
        };
        let cursor = encode_cursor("PLANNED_END_ASC", &null);
        assert_eq!(
            decode_cursor("after", "PLANNED_END_ASC", &cursor).ok(),
            Some(null)
        );
    }

    #[test]
    fn rejects_sizes_out_of_range_and_forged_cursors() {
        let args = |first: Option<i32>, last: Option<i32>| PageArgs {
            first,
            last,
            ..PageArgs::default()
        };
        assert!(args(Some(-1), None).request("ID").is_err());
        assert!(args(Some(101), None).request("ID").is_err());
        assert!(args(None, Some(-5)).request("ID").is_err());
        assert!(args(Some(100), None).request("ID").is_ok());
        let forged = PageArgs {
            after: Some("bm9wZQ".into()),
            ..PageArgs::default()
        };
        assert!(forged.request("ID").is_err());
    }
}
