//! Benchmark editions (metrics.md, *Benchmark editions*): what each band is read against.

use crate::model::{Band, MetricName};

/// The thresholds of ELITE, HIGH and MEDIUM for one metric; LOW otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub elite: f64,
    pub high: f64,
    pub medium: f64,
}

const fn thresholds(elite: f64, high: f64, medium: f64) -> Thresholds {
    Thresholds {
        elite,
        high,
        medium,
    }
}

impl Thresholds {
    /// The band of a value that is better the larger it is (`value ≥ threshold`).
    fn at_least(&self, value: f64) -> Band {
        match value {
            v if v >= self.elite => Band::Elite,
            v if v >= self.high => Band::High,
            v if v >= self.medium => Band::Medium,
            _ => Band::Low,
        }
    }

    /// The band of a value that is better the smaller it is, below each threshold.
    fn below(&self, value: f64) -> Band {
        match value {
            v if v < self.elite => Band::Elite,
            v if v < self.high => Band::High,
            v if v < self.medium => Band::Medium,
            _ => Band::Low,
        }
    }

    /// The band of a value that is better the smaller it is, at most each threshold.
    fn at_most(&self, value: f64) -> Band {
        match value {
            v if v <= self.elite => Band::Elite,
            v if v <= self.high => Band::High,
            v if v <= self.medium => Band::Medium,
            _ => Band::Low,
        }
    }
}

/// A benchmark edition.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    pub name: String,
    pub built_in: bool,
    /// Deployments per day, at least.
    pub deployment_frequency: Thresholds,
    /// Median hours, below.
    pub lead_time: Thresholds,
    /// Rate, at most.
    pub change_failure_rate: Thresholds,
    /// Median hours, below.
    pub time_to_restore: Thresholds,
}

/// The default edition's name.
pub const DEFAULT_BENCHMARK: &str = "DORA_2023";

impl Benchmark {
    fn built_in(
        name: &str,
        deployment_frequency: Thresholds,
        lead_time: Thresholds,
        change_failure_rate: Thresholds,
        time_to_restore: Thresholds,
    ) -> Self {
        Self {
            name: name.into(),
            built_in: true,
            deployment_frequency,
            lead_time,
            change_failure_rate,
            time_to_restore,
        }
    }

    /// The editions relm knows without being told, in the order they are listed.
    pub fn built_ins() -> [Self; 3] {
        let restore = thresholds(1.0, 24.0, 168.0);
        [
            Self::built_in(
                "DORA_2021",
                thresholds(1.0, 1.0 / 30.0, 1.0 / 182.0),
                thresholds(1.0, 168.0, 4320.0),
                thresholds(0.15, 0.30, 0.30),
                restore,
            ),
            Self::built_in(
                DEFAULT_BENCHMARK,
                thresholds(1.0, 1.0 / 7.0, 1.0 / 30.0),
                thresholds(24.0, 168.0, 720.0),
                thresholds(0.05, 0.10, 0.15),
                restore,
            ),
            Self::built_in(
                "DORA_2024",
                thresholds(1.0, 1.0 / 7.0, 1.0 / 30.0),
                thresholds(24.0, 168.0, 720.0),
                thresholds(0.05, 0.10, 0.20),
                thresholds(1.0, 24.0, 24.0),
            ),
        ]
    }

    /// The default edition, whose bands are the ones metrics.md writes out.
    pub fn default_edition() -> Self {
        let [_, default, _] = Self::built_ins();
        default
    }

    pub fn deployment_frequency_band(&self, deployments: u64, per_day: f64) -> Band {
        if deployments == 0 {
            return Band::NoData;
        }
        self.deployment_frequency.at_least(per_day)
    }

    pub fn lead_time_band(&self, median_hours: Option<f64>) -> Band {
        median_hours.map_or(Band::NoData, |h| self.lead_time.below(h))
    }

    pub fn change_failure_band(&self, rate: Option<f64>) -> Band {
        rate.map_or(Band::NoData, |r| self.change_failure_rate.at_most(r))
    }

    pub fn time_to_restore_band(&self, median_hours: Option<f64>) -> Band {
        median_hours.map_or(Band::NoData, |h| self.time_to_restore.below(h))
    }

    /// Why a defined edition cannot be used: the metric at fault and what is wrong, or
    /// None. Thresholds run from ELITE to MEDIUM: deployments per day non-increasing, the
    /// others non-decreasing; every threshold above 0 and rates at most 1.
    pub fn fault(&self) -> Option<(MetricName, &'static str)> {
        let metrics = [
            (MetricName::DeploymentFrequency, self.deployment_frequency),
            (MetricName::LeadTime, self.lead_time),
            (MetricName::ChangeFailureRate, self.change_failure_rate),
            (MetricName::TimeToRestore, self.time_to_restore),
        ];
        metrics.into_iter().find_map(|(metric, t)| {
            let values = [t.elite, t.high, t.medium];
            let fault = if values.iter().any(|v| !v.is_finite() || *v <= 0.0) {
                Some("every threshold must be a number above 0")
            } else if metric == MetricName::ChangeFailureRate && values.iter().any(|v| *v > 1.0) {
                Some("a rate's thresholds must be at most 1")
            } else if metric == MetricName::DeploymentFrequency
                && !(t.elite >= t.high && t.high >= t.medium)
            {
                Some("thresholds must not increase from elite to medium")
            } else if metric != MetricName::DeploymentFrequency
                && !(t.elite <= t.high && t.high <= t.medium)
            {
                Some("thresholds must not decrease from elite to medium")
            } else {
                None
            };
            fault.map(|why| (metric, why))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edition(name: &str) -> Benchmark {
        Benchmark::built_ins()
            .into_iter()
            .find(|b| b.name == name)
            .unwrap()
    }

    /// Each band of each edition, a hair on either side of each threshold.
    #[test]
    fn every_band_of_every_edition_turns_at_its_threshold() {
        let eps = 1e-9;
        for b in Benchmark::built_ins() {
            let t = b.deployment_frequency;
            for (threshold, band) in [
                (t.elite, Band::Elite),
                (t.high, Band::High),
                (t.medium, Band::Medium),
            ] {
                assert_eq!(
                    b.deployment_frequency_band(1, threshold),
                    band,
                    "{}",
                    b.name
                );
                assert_ne!(b.deployment_frequency_band(1, threshold - eps), band);
            }
            for (t, band_of) in [
                (
                    b.lead_time,
                    Benchmark::lead_time_band as fn(&Benchmark, Option<f64>) -> Band,
                ),
                (b.time_to_restore, Benchmark::time_to_restore_band),
            ] {
                assert_eq!(band_of(&b, Some(t.elite - eps)), Band::Elite, "{}", b.name);
                assert_ne!(band_of(&b, Some(t.elite)), Band::Elite, "{}", b.name);
                assert_eq!(band_of(&b, Some(t.medium)), Band::Low, "{}", b.name);
                assert_ne!(band_of(&b, Some(t.medium - eps)), Band::Low, "{}", b.name);
            }
            let t = b.change_failure_rate;
            assert_eq!(
                b.change_failure_band(Some(t.elite)),
                Band::Elite,
                "{}",
                b.name
            );
            assert_ne!(b.change_failure_band(Some(t.elite + eps)), Band::Elite);
            assert_eq!(b.change_failure_band(Some(t.medium + eps)), Band::Low);
            assert_ne!(b.change_failure_band(Some(t.medium)), Band::Low);
            assert_eq!(b.lead_time_band(None), Band::NoData);
            assert_eq!(b.change_failure_band(None), Band::NoData);
            assert_eq!(b.deployment_frequency_band(0, 0.0), Band::NoData);
        }
    }

    #[test]
    fn the_editions_read_the_reports_as_metrics_md_does() {
        let e2021 = edition("DORA_2021");
        assert_eq!(e2021.change_failure_band(Some(0.2)), Band::High);
        assert_eq!(e2021.change_failure_band(Some(0.3)), Band::High);
        assert_eq!(e2021.change_failure_band(Some(0.31)), Band::Low);
        assert_eq!(
            e2021.deployment_frequency_band(1, 1.0 / 100.0),
            Band::Medium
        );
        assert_eq!(e2021.lead_time_band(Some(100.0)), Band::High);
        let e2023 = edition("DORA_2023");
        assert_eq!(e2023.change_failure_band(Some(0.18)), Band::Low);
        assert_eq!(e2023, Benchmark::default_edition());
        let e2024 = edition("DORA_2024");
        assert_eq!(e2024.change_failure_band(Some(0.18)), Band::Medium);
        assert_eq!(e2024.time_to_restore_band(Some(23.9)), Band::High);
        assert_eq!(e2024.time_to_restore_band(Some(24.0)), Band::Low);
        assert_eq!(e2023.time_to_restore_band(Some(24.0)), Band::Medium);
    }

    #[test]
    fn a_defined_edition_must_order_its_thresholds() {
        let mut b = Benchmark::default_edition();
        assert_eq!(b.fault(), None);
        b.deployment_frequency = thresholds(0.1, 1.0, 0.01);
        assert_eq!(
            b.fault().map(|f| f.0),
            Some(MetricName::DeploymentFrequency)
        );
        b = Benchmark::default_edition();
        b.lead_time = thresholds(24.0, 12.0, 720.0);
        assert_eq!(b.fault().map(|f| f.0), Some(MetricName::LeadTime));
        b = Benchmark::default_edition();
        b.change_failure_rate = thresholds(0.1, 0.5, 1.5);
        assert_eq!(b.fault().map(|f| f.0), Some(MetricName::ChangeFailureRate));
        b = Benchmark::default_edition();
        b.time_to_restore = thresholds(0.0, 1.0, 2.0);
        assert_eq!(b.fault().map(|f| f.0), Some(MetricName::TimeToRestore));
        b = Benchmark::default_edition();
        b.time_to_restore = thresholds(1.0, 1.0, f64::NAN);
        assert_eq!(b.fault().map(|f| f.0), Some(MetricName::TimeToRestore));
        b = Benchmark::default_edition();
        b.time_to_restore = thresholds(1.0, 1.0, 1.0);
        assert_eq!(b.fault(), None, "equal thresholds are in order");
    }
}
