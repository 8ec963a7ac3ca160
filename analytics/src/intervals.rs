//! The 95 % intervals of an improvement's change (metrics.md, *Improvement impact*):
//! Newcombe's hybrid score interval for two proportions, a seeded percentile bootstrap of
//! the difference of medians, and Welch's interval for a difference of means.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::rules::percentile_of;

/// The normal quantile of a two-sided 95 % interval, as metrics.md fixes it.
const Z: f64 = 1.959964;
/// Resamples of the bootstrap.
pub const RESAMPLES: usize = 2_000;

/// `[low, high]`.
pub type Interval = (f64, f64);

/// Wilson's score interval of `x` successes in `n` trials: the proportion and its limits.
fn wilson(x: u64, n: u64) -> (f64, f64, f64) {
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (p, centre - half, centre + half)
}

/// Newcombe's hybrid score interval (his method 10) of `after − before`, each given as
/// (successes, trials); None when either has no trials.
pub fn newcombe(after: (u64, u64), before: (u64, u64)) -> Option<Interval> {
    if after.1 == 0 || before.1 == 0 {
        return None;
    }
    let (pa, la, ua) = wilson(after.0, after.1);
    let (pb, lb, ub) = wilson(before.0, before.1);
    let d = pa - pb;
    Some((
        d - ((pa - la).powi(2) + (ub - pb).powi(2)).sqrt(),
        d + ((ua - pa).powi(2) + (pb - lb).powi(2)).sqrt(),
    ))
}

/// Welch's interval of `mean(after) − mean(before)`; `[change, change]` when the standard
/// error is 0. None with fewer than two values on either side.
pub fn welch(after: &[f64], before: &[f64]) -> Option<Interval> {
    let (na, nb) = (after.len() as f64, before.len() as f64);
    if na < 2.0 || nb < 2.0 {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let variance =
        |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
    let (ma, mb) = (mean(after), mean(before));
    let (va, vb) = (variance(after, ma) / na, variance(before, mb) / nb);
    let change = ma - mb;
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some((change, change));
    }
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(0.975);
    Some((change - t * se, change + t * se))
}

/// SplitMix64, the generator metrics.md names for the bootstrap.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An index below `n`: `⌊u·n⌋` with `u = (next >> 11)·2⁻⁵³`.
    fn index(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        ((u * n as f64) as usize).min(n - 1)
    }
}

/// The median of `n` draws with replacement from `sorted` (ascending). The draws of
/// sorted values are in order once their indices are, so counting how often each index is
/// drawn finds the ranks the median reads without sorting anything.
fn resampled_median(sorted: &[f64], rng: &mut SplitMix64, drawn: &mut Vec<u32>) -> f64 {
    let n = sorted.len();
    drawn.clear();
    drawn.resize(n, 0);
    for _ in 0..n {
        drawn[rng.index(n)] += 1;
    }
    // The value at each rank of the resample, for the ranks the median reads.
    let at = |rank: usize| {
        let mut seen = 0usize;
        for (index, times) in drawn.iter().enumerate() {
            seen += *times as usize;
            if seen > rank {
                return sorted[index];
            }
        }
        f64::NAN
    };
    percentile_of(n, 0.5, at).unwrap_or(f64::NAN)
}

/// The percentile bootstrap of `median(after) − median(before)`: [`RESAMPLES`] resamples,
/// each `before.len()` draws from `before` then `after.len()` from `after`, and the 2.5th
/// and 97.5th percentiles of the differences. Both must be sorted ascending and non-empty.
pub fn bootstrap_medians(after: &[f64], before: &[f64], seed: u64) -> Option<Interval> {
    if after.is_empty() || before.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut drawn = Vec::new();
    let mut differences: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let b = resampled_median(before, &mut rng, &mut drawn);
            let a = resampled_median(after, &mut rng, &mut drawn);
            a - b
        })
        .collect();
    differences.sort_unstable_by(f64::total_cmp);
    let at = |rank: usize| differences[rank];
    Some((
        percentile_of(RESAMPLES, 0.025, at)?,
        percentile_of(RESAMPLES, 0.975, at)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round4(i: Interval) -> (f64, f64) {
        let r = |v: f64| (v * 10_000.0).round() / 10_000.0;
        (r(i.0), r(i.1))
    }

    /// Newcombe (1998), "Interval estimation for the difference between independent
    /// proportions", Statistics in Medicine 17, Table II, method 10, examples (a) to (h).
    #[test]
    fn newcombe_matches_the_papers_worked_examples() {
        let examples = [
            ((56, 70), (48, 80), (0.0524, 0.3339)),
            ((9, 10), (3, 10), (0.1705, 0.8090)),
            ((6, 7), (2, 7), (0.0582, 0.8062)),
            ((5, 56), (0, 29), (-0.0381, 0.1926)),
            ((0, 10), (0, 20), (-0.1611, 0.2775)),
            ((0, 10), (0, 10), (-0.2775, 0.2775)),
            ((10, 10), (0, 20), (0.6791, 1.0)),
            ((10, 10), (0, 10), (0.6075, 1.0)),
        ];
        for (after, before, expected) in examples {
            let got = newcombe(after, before).unwrap();
            assert_eq!(round4(got), expected, "{after:?} − {before:?}");
        }
        assert_eq!(newcombe((1, 0), (1, 2)), None);
    }

    /// The example of Welch's test on Wikipedia ("Welch's t-test", Examples, first pair):
    /// t = 2.46, ν ≈ 25.0; scipy's `ttest_ind(a2, a1, equal_var=False).confidence_interval()`
    /// gives (0.349237, 3.984096).
    #[test]
    fn welch_matches_a_known_example() {
        let a1 = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let a2 = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let (low, high) = welch(&a2, &a1).unwrap();
        assert!((low - 0.349_237).abs() < 1e-5, "{low}");
        assert!((high - 3.984_096).abs() < 1e-5, "{high}");
        assert_eq!(welch(&[2.0, 2.0, 2.0], &[1.0, 1.0]), Some((1.0, 1.0)));
        assert_eq!(welch(&[2.0], &[1.0, 1.0]), None);
    }

    /// The reference outputs of SplitMix64 for seed 1234567 (Vigna's splitmix64.c).
    #[test]
    fn splitmix_is_the_reference_generator() {
        let mut rng = SplitMix64::new(1_234_567);
        let first: Vec<u64> = (0..5).map(|_| rng.next()).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821
            ]
        );
    }

    #[test]
    fn a_resampled_median_is_the_median_of_the_values_drawn() {
        let sorted: Vec<f64> = (0..37).map(|i| (i * i) as f64).collect();
        let (mut a, mut b) = (SplitMix64::new(9), SplitMix64::new(9));
        let mut drawn = Vec::new();
        for _ in 0..50 {
            let fast = resampled_median(&sorted, &mut a, &mut drawn);
            let mut values: Vec<f64> = (0..sorted.len())
                .map(|_| sorted[b.index(sorted.len())])
                .collect();
            values.sort_unstable_by(f64::total_cmp);
            assert_eq!(Some(fast), percentile_of(values.len(), 0.5, |r| values[r]));
        }
    }

    #[test]
    fn the_bootstrap_is_the_same_for_the_same_seed_and_covers_a_clear_shift() {
        let before: Vec<f64> = (0..40).map(|i| 10.0 + f64::from(i) * 0.1).collect();
        let after: Vec<f64> = (0..40).map(|i| 5.0 + f64::from(i) * 0.1).collect();
        let one = bootstrap_medians(&after, &before, 42).unwrap();
        assert_eq!(bootstrap_medians(&after, &before, 42), Some(one));
        assert!(
            one.0 < -5.0 + 1.0 && one.1 > -5.0 - 1.0 && one.1 < 0.0,
            "{one:?}"
        );
        assert_ne!(bootstrap_medians(&after, &before, 43), Some(one));
        assert_eq!(bootstrap_medians(&[], &before, 42), None);
    }
}
