//! Benchmark editions (metrics.md, *Benchmark editions*): the built-in ones, then those an
//! ADMIN defined, by name.

use analytics::{Benchmark, Thresholds};
use entity::benchmark;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::error::ApiResult;

/// Every edition, built-in ones first.
pub async fn all<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<Benchmark>> {
    let defined = benchmark::Entity::find()
        .order_by_asc(benchmark::Column::Name)
        .all(db)
        .await?;
    Ok(Benchmark::built_ins()
        .into_iter()
        .chain(defined.into_iter().map(edition))
        .collect())
}

/// A stored edition.
pub fn edition(row: benchmark::Model) -> Benchmark {
    Benchmark {
        name: row.name,
        built_in: false,
        deployment_frequency: Thresholds {
            elite: row.deployment_frequency_elite,
            high: row.deployment_frequency_high,
            medium: row.deployment_frequency_medium,
        },
        lead_time: Thresholds {
            elite: row.lead_time_elite,
            high: row.lead_time_high,
            medium: row.lead_time_medium,
        },
        change_failure_rate: Thresholds {
            elite: row.change_failure_rate_elite,
            high: row.change_failure_rate_high,
            medium: row.change_failure_rate_medium,
        },
        time_to_restore: Thresholds {
            elite: row.time_to_restore_elite,
            high: row.time_to_restore_high,
            medium: row.time_to_restore_medium,
        },
    }
}
