//! Conversions between stored Unix microseconds and chrono's UTC timestamps.

use chrono::{DateTime, SecondsFormat, Utc};

/// Unix microseconds of `t`.
pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The UTC timestamp of stored Unix microseconds (clamped to chrono's range).
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Now, in Unix microseconds.
pub fn now_micros() -> i64 {
    to_micros(Utc::now())
}

/// RFC 3339 in UTC with a `Z`, the form every timestamp leaves relm in.
pub fn rfc3339(micros: i64) -> String {
    from_micros(micros).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Unix microseconds of an RFC 3339 timestamp with an offset, or None if `text` is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| to_micros(t.with_timezone(&Utc)))
}

/// Microseconds in an hour.
pub const HOUR_MICROS: i64 = 3_600_000_000;

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;
