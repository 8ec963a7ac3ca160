//! The small rules of metrics.md: percentiles, bands, rates, window days.

use crate::model::Band;

pub const HOUR: i64 = 3_600_000_000;
pub const DAY: i64 = 24 * HOUR;

/// The `p` quantile of `n` sorted values, known by rank, by linear interpolation between
/// closest ranks (as PostgreSQL's `percentile_cont` and polars' linear quantile); None
/// without values. It reads only the ranks [`percentile_ranks`] names.
pub fn percentile_of(n: usize, p: f64, at: impl Fn(usize) -> f64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(at(lo) + (h - h.floor()) * (at(hi) - at(lo)))
}

/// The ranks [`percentile_of`] reads for `p` among `n` values.
pub fn percentile_ranks(n: usize, p: f64) -> [usize; 2] {
    let h = (n.max(1) - 1) as f64 * p;
    [h.floor() as usize, h.ceil() as usize]
}

/// `part / whole`, or None when `whole` is 0.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `(to - from)` in seconds / 86400.
pub fn window_days(from: i64, to: i64) -> f64 {
    (to - from) as f64 / DAY as f64
}

pub fn deployment_frequency_band(deployments: u64, per_day: f64) -> Band {
    match () {
        _ if deployments == 0 => Band::NoData,
        _ if per_day >= 1.0 => Band::Elite,
        _ if per_day >= 1.0 / 7.0 => Band::High,
        _ if per_day >= 1.0 / 30.0 => Band::Medium,
        _ => Band::Low,
    }
}

pub fn lead_time_band(median_hours: Option<f64>) -> Band {
    match median_hours {
        None => Band::NoData,
        Some(h) if h < 24.0 => Band::Elite,
        Some(h) if h < 168.0 => Band::High,
        Some(h) if h < 720.0 => Band::Medium,
        Some(_) => Band::Low,
    }
}

pub fn change_failure_band(rate: Option<f64>) -> Band {
    match rate {
        None => Band::NoData,
        Some(r) if r <= 0.05 => Band::Elite,
        Some(r) if r <= 0.10 => Band::High,
        Some(r) if r <= 0.15 => Band::Medium,
        Some(_) => Band::Low,
    }
}

pub fn time_to_restore_band(median_hours: Option<f64>) -> Band {
    match median_hours {
        None => Band::NoData,
        Some(h) if h < 1.0 => Band::Elite,
        Some(h) if h < 24.0 => Band::High,
        Some(h) if h < 168.0 => Band::Medium,
        Some(_) => Band::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
        percentile_of(sorted.len(), p, |rank| sorted[rank])
    }

    #[test]
    fn the_ranks_named_are_the_ranks_read() {
        for n in 1..40 {
            for p in [0.0, 0.5, 0.9, 0.95, 1.0] {
                let named = percentile_ranks(n, p);
                let read = std::cell::RefCell::new(Vec::new());
                percentile_of(n, p, |rank| {
                    read.borrow_mut().push(rank);
                    0.0
                });
                assert!(
                    read.borrow().iter().all(|r| named.contains(r)),
                    "n={n} p={p}"
                );
            }
        }
    }

    #[test]
    fn percentile_is_polars_linear_quantile() {
        use polars::prelude::*;
        for n in [1usize, 2, 3, 10, 37, 101] {
            let mut values: Vec<f64> = (0..n).map(|i| ((i * 7919) % 613) as f64 / 4.0).collect();
            values.sort_by(f64::total_cmp);
            let series = Float64Chunked::from_slice("v".into(), &values);
            for p in [0.0, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0] {
                let polars = series.quantile(p, QuantileMethod::Linear).ok().flatten();
                let ours = percentile(&values, p);
                assert!(
                    matches!((ours, polars), (Some(a), Some(b)) if (a - b).abs() < 1e-9),
                    "n={n} p={p}: {ours:?} vs {polars:?}"
                );
            }
        }
    }

    #[test]
    fn percentiles_interpolate_linearly() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&xs, 0.5), Some(2.5));
        assert_eq!(percentile(&xs, 0.9), Some(3.7));
        assert_eq!(percentile(&xs, 0.0), Some(1.0));
        assert_eq!(percentile(&xs, 1.0), Some(4.0));
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn bands_follow_the_thresholds() {
        assert_eq!(deployment_frequency_band(0, 0.0), Band::NoData);
        assert_eq!(deployment_frequency_band(30, 1.0), Band::Elite);
        assert_eq!(deployment_frequency_band(1, 1.0 / 7.0), Band::High);
        assert_eq!(deployment_frequency_band(1, 1.0 / 30.0), Band::Medium);
        assert_eq!(deployment_frequency_band(1, 1.0 / 31.0), Band::Low);
        assert_eq!(lead_time_band(Some(23.9)), Band::Elite);
        assert_eq!(lead_time_band(Some(24.0)), Band::High);
        assert_eq!(lead_time_band(Some(720.0)), Band::Low);
        assert_eq!(change_failure_band(Some(0.05)), Band::Elite);
        assert_eq!(change_failure_band(Some(0.1)), Band::High);
        assert_eq!(change_failure_band(Some(0.150001)), Band::Low);
        assert_eq!(change_failure_band(None), Band::NoData);
        assert_eq!(time_to_restore_band(Some(0.99)), Band::Elite);
        assert_eq!(time_to_restore_band(Some(167.9)), Band::Medium);
        assert_eq!(time_to_restore_band(None), Band::NoData);
    }
}
