//! Trend buckets: calendar periods in UTC, clipped to the window.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime};

use crate::model::Granularity;

/// The UTC date of `t` (microseconds since 1970-01-01).
fn date_of(t: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(t).map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// Microseconds since 1970-01-01 of midnight UTC at the start of `date`.
fn start_of(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp_micros()
}

/// The first day of the calendar period holding `date`.
fn period_first_day(date: NaiveDate, granularity: Granularity) -> NaiveDate {
    let first_of_month = |month: u32| NaiveDate::from_ymd_opt(date.year(), month, 1);
    match granularity {
        Granularity::Day => Some(date),
        Granularity::Week => {
            date.checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
        }
        Granularity::Month => first_of_month(date.month()),
        Granularity::Quarter => first_of_month(date.month0() / 3 * 3 + 1),
    }
    .unwrap_or(date)
}

/// The first day of the period after the one starting on `first`.
fn next_first_day(first: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Day => first.checked_add_days(Days::new(1)),
        Granularity::Week => first.checked_add_days(Days::new(7)),
        Granularity::Month => first.checked_add_months(Months::new(1)),
        Granularity::Quarter => first.checked_add_months(Months::new(3)),
    }
    .unwrap_or(NaiveDate::MAX)
}

/// Every bucket from the one holding `from` to the one holding `to - 1 s`, in order, each
/// `[max(boundary, from), min(next boundary, to))`.
pub fn buckets(from: i64, to: i64, granularity: Granularity) -> Vec<(i64, i64)> {
    let last = to - 1_000_000;
    if last < from {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut first = period_first_day(date_of(from), granularity);
    while start_of(first) <= last && first < NaiveDate::MAX {
        let next = next_first_day(first, granularity);
        out.push((start_of(first).max(from), start_of(next).min(to)));
        first = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(y: i32, m: u32, d: u32, hour: i64) -> i64 {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
        start_of(date) + hour * 3_600_000_000
    }

    #[test]
    fn months_are_cut_by_the_window() {
        let b = buckets(t(2026, 1, 15, 0), t(2026, 3, 10, 12), Granularity::Month);
        assert_eq!(
            b,
            vec![
                (t(2026, 1, 15, 0), t(2026, 2, 1, 0)),
                (t(2026, 2, 1, 0), t(2026, 3, 1, 0)),
                (t(2026, 3, 1, 0), t(2026, 3, 10, 12)),
            ]
        );
    }

    #[test]
    fn a_window_ending_on_a_boundary_has_no_empty_last_bucket() {
        let b = buckets(t(2026, 1, 1, 0), t(2026, 4, 1, 0), Granularity::Quarter);
        assert_eq!(b, vec![(t(2026, 1, 1, 0), t(2026, 4, 1, 0))]);
        let b = buckets(t(2025, 11, 15, 0), t(2026, 4, 1, 0), Granularity::Quarter);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0], (t(2025, 11, 15, 0), t(2026, 1, 1, 0)));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-27 is a Friday; its ISO week starts on Monday 2026-11-23.
        let b = buckets(t(2026, 11, 27, 5), t(2026, 12, 8, 0), Granularity::Week);
        assert_eq!(
            b,
            vec![
                (t(2026, 11, 27, 5), t(2026, 11, 30, 0)),
                (t(2026, 11, 30, 0), t(2026, 12, 7, 0)),
                (t(2026, 12, 7, 0), t(2026, 12, 8, 0)),
            ]
        );
    }

    #[test]
    fn days_and_empty_windows() {
        assert_eq!(
            buckets(t(2026, 1, 1, 6), t(2026, 1, 3, 0), Granularity::Day).len(),
            2
        );
        assert!(buckets(t(2026, 1, 1, 0), t(2026, 1, 1, 0), Granularity::Day).is_empty());
        let december = buckets(t(2025, 12, 5, 0), t(2026, 1, 5, 0), Granularity::Month);
        assert_eq!(december[1], (t(2026, 1, 1, 0), t(2026, 1, 5, 0)));
    }
}
