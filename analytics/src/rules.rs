//! The small rules of metrics.md: percentiles, rates, window days.

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
}
