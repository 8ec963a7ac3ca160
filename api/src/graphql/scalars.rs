//! The contract's `DateTime` and `Date` scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, NaiveDate, Utc};

use crate::time;

/// RFC 3339 timestamp with an offset; returned in UTC, e.g. "2026-11-27T10:00:00Z".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn to_utc(self) -> DateTime<Utc> {
        time::from_micros(self.0)
    }
}

#[Scalar(name = "DateTime")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        time::parse_rfc3339(text).map(Timestamp).ok_or_else(|| {
            InputValueError::custom(format!(
                "'{text}' is not an RFC 3339 timestamp with an offset"
            ))
        })
    }

    /// Checked while the request is validated, so that a bad value is refused with the
    /// path of the field it was given for (`input.plannedEnd`), not only the type that
    /// holds it.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(text) if time::parse_rfc3339(text).is_some())
    }

    fn to_value(&self) -> Value {
        Value::String(time::rfc3339(self.0))
    }
}

/// ISO 8601 calendar date, e.g. "2026-12-01".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| InputValueError::custom(format!("'{text}' is not an ISO 8601 date")))
    }

    /// As for `DateTime`: refused during validation, naming the field.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(text) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}
