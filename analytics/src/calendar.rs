//! Trend buckets: calendar periods in UTC, clipped to the window.

use crate::model::Granularity;
use crate::rules::DAY;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The start of the calendar period holding `t`.
fn period_start(t: i64, granularity: Granularity) -> i64 {
    let days = t.div_euclid(DAY);
    let start_day = match granularity {
        Granularity::Day => days,
        // 1970-01-01 was a Thursday: Monday is 3 days earlier.
        Granularity::Week => days - (days + 3).rem_euclid(7),
        Granularity::Month => {
            let (y, m, _) = civil_from_days(days);
            days_from_civil(y, m, 1)
        }
        Granularity::Quarter => {
            let (y, m, _) = civil_from_days(days);
            days_from_civil(y, (m - 1) / 3 * 3 + 1, 1)
        }
    };
    start_day * DAY
}

/// The start of the period after the one starting at `start`.
fn next_period(start: i64, granularity: Granularity) -> i64 {
    let days = start.div_euclid(DAY);
    let next_day = match granularity {
        Granularity::Day => days + 1,
        Granularity::Week => days + 7,
        Granularity::Month | Granularity::Quarter => {
            let step = if granularity == Granularity::Month {
                1
            } else {
                3
            };
            let (y, m, _) = civil_from_days(days);
            let months = y * 12 + i64::from(m) - 1 + step;
            days_from_civil(months.div_euclid(12), (months.rem_euclid(12) + 1) as u32, 1)
        }
    };
    next_day * DAY
}

/// Every bucket from the one holding `from` to the one holding `to - 1 s`, in order, each
/// `[max(boundary, from), min(next boundary, to))`.
pub fn buckets(from: i64, to: i64, granularity: Granularity) -> Vec<(i64, i64)> {
    let last = to - 1_000_000;
    if last < from {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut boundary = period_start(from, granularity);
    while boundary <= last {
        let next = next_period(boundary, granularity);
        out.push((boundary.max(from), next.min(to)));
        boundary = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        days_from_civil(y, m, d) * DAY + hour * 3_600_000_000
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1000, 0, 59, 60, 10_957, 20_000, 20_513] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2026, 11, 27), 20_784);
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
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
