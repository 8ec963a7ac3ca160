//! Reading fields of a JSON body by path, each failure naming the field.

use serde_json::Value;

use super::BadInput;
use crate::time;

/// The value at a dotted `path` (`deployment.id`, `commits.0.sha`), if present and not null.
pub fn at<'v>(body: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(body, |value, key| match (value, key.parse::<usize>()) {
            (Value::Array(items), Ok(index)) => items.get(index),
            _ => value.get(key),
        })
        .filter(|v| !v.is_null())
}

/// A string or number at `path` as text.
pub fn text(body: &Value, path: &str) -> Option<String> {
    match at(body, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Like [`text`], but required.
pub fn required(body: &Value, path: &str) -> Result<String, BadInput> {
    text(body, path).ok_or_else(|| BadInput::new(path, "is required"))
}

/// An RFC 3339 timestamp at `path`, if present.
pub fn time(body: &Value, path: &str) -> Result<Option<i64>, BadInput> {
    text(body, path)
        .map(|t| {
            time::parse_rfc3339(&t)
                .ok_or_else(|| BadInput::new(path, format!("'{t}' is not an RFC 3339 timestamp")))
        })
        .transpose()
}

/// Like [`time`], but required.
pub fn required_time(body: &Value, path: &str) -> Result<i64, BadInput> {
    time(body, path)?.ok_or_else(|| BadInput::new(path, "is required"))
}

/// A boolean at `path`, if present.
pub fn flag(body: &Value, path: &str) -> Result<Option<bool>, BadInput> {
    match at(body, path) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(BadInput::new(path, "must be true or false")),
    }
}
