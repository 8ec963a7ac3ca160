//! Keyset pages of ordered lists.
//!
//! A list is ordered by one column and then by id, in one direction; a [`Position`] is the
//! value of that column and the id of one row. A page is read from a position with a
//! condition on the ordering key (`WHERE (key, id) > (value, id)`, spelled out so nulls sort
//! last), so rows inserted or moved elsewhere in the list never shift a page: a client
//! walking a list meets each row that stayed put exactly once.

use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition, NullOrdering, SimpleExpr};
use sea_orm::{
    ColumnTrait, ColumnType, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// A value of the ordering column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    Null,
    Int(i64),
    Text(String),
}

impl Key {
    fn value(&self) -> Value {
        match self {
            Self::Null => Value::BigInt(None),
            Self::Int(n) => Value::BigInt(Some(*n)),
            Self::Text(text) => Value::String(Some(text.clone())),
        }
    }
}

/// Where a row stands in its list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub key: Key,
    pub id: i64,
}

/// How a list is ordered: by `column` (or by id alone), then by id, both in `ascending`
/// order or both descending. Nulls of a `nullable` column come last either way.
pub struct Ordering<E: EntityTrait> {
    pub column: Option<E::Column>,
    pub nullable: bool,
    pub ascending: bool,
    pub id: E::Column,
    /// The position of a row in this ordering.
    pub position: fn(&E::Model) -> Position,
}

/// Which part of a list to read (Relay's `first`/`after`/`last`/`before`, checked).
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: Option<u64>,
    pub after: Option<Position>,
    pub last: Option<u64>,
    pub before: Option<Position>,
}

/// Rows of a list with their positions, and whether the list goes on either side.
pub struct Page<M> {
    pub rows: Vec<(Position, M)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<E: EntityTrait> Ordering<E> {
    /// `column > value` in the list's order (or `<` when `forward` is false).
    fn beyond(&self, column: E::Column, value: Value, forward: bool) -> SimpleExpr {
        if forward == self.ascending {
            Expr::col(column).gt(value)
        } else {
            Expr::col(column).lt(value)
        }
    }

    /// Rows strictly after `at` in the list's order (`forward`), or strictly before it.
    fn past(&self, at: &Position, forward: bool) -> Condition {
        let id_past = self.beyond(self.id, Value::BigInt(Some(at.id)), forward);
        let Some(column) = self.column else {
            return id_past.into_condition();
        };
        let key = at.key.value();
        let same_key_then_id = Condition::all()
            .add(Expr::col(column).eq(key.clone()))
            .add(id_past.clone());
        let non_null_past = Condition::any()
            .add(self.beyond(column, key, forward))
            .add(same_key_then_id);
        match (&at.key, self.nullable, forward) {
            (Key::Null, _, true) => Condition::all().add(column.is_null()).add(id_past),
            (Key::Null, _, false) => Condition::any()
                .add(column.is_not_null())
                .add(Condition::all().add(column.is_null()).add(id_past)),
            (_, true, true) => non_null_past.add(column.is_null()),
            (_, true, false) => Condition::all()
                .add(column.is_not_null())
                .add(non_null_past),
            (_, false, _) => non_null_past,
        }
    }

    /// Orders `select` as the list (`forward`) or in reverse.
    fn order(&self, mut select: Select<E>, forward: bool) -> Select<E> {
        let direction = || {
            if forward == self.ascending {
                Order::Asc
            } else {
                Order::Desc
            }
        };
        if let Some(column) = self.column {
            select = if self.nullable {
                let nulls = if forward {
                    NullOrdering::Last
                } else {
                    NullOrdering::First
                };
                select.order_by_with_nulls(column, direction(), nulls)
            } else {
                select.order_by(column, direction())
            };
        }
        select.order_by(self.id, direction())
    }

    /// Whether `key` can stand in this ordering's column. A cursor is opaque but can be
    /// forged; one whose key has another type is refused here, before PostgreSQL would
    /// fail comparing a number column with text.
    fn fits(&self, key: &Key) -> bool {
        let Some(column) = self.column else {
            return true;
        };
        let text = matches!(
            column.def().get_column_type(),
            ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_)
        );
        match key {
            Key::Null => self.nullable,
            Key::Int(_) => !text,
            Key::Text(_) => text,
        }
    }

    /// Reads the page `request` asks for from the rows of `select`.
    pub async fn fetch(
        &self,
        db: &impl ConnectionTrait,
        mut select: Select<E>,
        request: &PageRequest,
    ) -> ApiResult<Page<E::Model>> {
        for (name, at) in [("after", &request.after), ("before", &request.before)] {
            if at.as_ref().is_some_and(|at| !self.fits(&at.key)) {
                return Err(ApiError::bad_input(
                    name,
                    "not a cursor issued by this server",
                ));
            }
        }
        if let Some(after) = &request.after {
            select = select.filter(self.past(after, true));
        }
        if let Some(before) = &request.before {
            select = select.filter(self.past(before, false));
        }
        // Reading backwards only when the page is counted from the end.
        let forward = request.first.is_some() || request.last.is_none();
        let size = if forward {
            request.first.unwrap_or(DEFAULT_PAGE)
        } else {
            request.last.unwrap_or(DEFAULT_PAGE)
        };
        let mut rows = self.order(select, forward).limit(size + 1).all(db).await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let (has_next_page, mut has_previous_page) = if forward {
            (more, request.after.is_some())
        } else {
            rows.reverse();
            (request.before.is_some(), more)
        };
        // `first` and `last` together: the last rows of the first ones.
        if let (true, Some(last)) = (forward, request.last)
            && rows.len() as u64 > last
        {
            rows.drain(..rows.len() - last as usize);
            has_previous_page = true;
        }
        Ok(Page {
            rows: rows
                .into_iter()
                .map(|row| ((self.position)(&row), row))
                .collect(),
            has_next_page,
            has_previous_page,
        })
    }
}
