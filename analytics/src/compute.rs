//! The figures of metrics.md, computed with polars over the store's frames.
//!
//! Every family of figures (deployments, change failures, lead times, restores, deliveries,
//! gates, actions) is a frame of one row per counted thing, with the program and the time
//! that places it in the window. Each frame is aggregated three ways: over the whole window,
//! by program, and by trend bucket.

use std::collections::HashMap;

use polars::prelude::search_sorted::SearchSortedSide;
use polars::prelude::*;

use crate::calendar::{buckets, days_from_civil};
use crate::model::*;
use crate::rules::*;
use crate::store::{
    Error, FAILED, GATE_PASSED, GATE_PENDING, ROLLED_BACK, SUCCEEDED, Store, tier_code,
};

fn ids(values: &[i64]) -> Expr {
    lit(Series::new("ids".into(), values))
}

fn codes(values: &[i32]) -> Expr {
    lit(Series::new("codes".into(), values))
}

fn within(column: &str, from: i64, to: i64) -> Expr {
    col(column).gt_eq(lit(from)).and(col(column).lt(lit(to)))
}

fn hours(later: &str, earlier: &str) -> Expr {
    (col(later) - col(earlier)).cast(DataType::Float64) / lit(HOUR as f64)
}

/// `count`, `mean`, `median`, `p90`, `p95`, `min`, `max` of `column`, prefixed.
fn stats(column: &str, prefix: &str) -> Vec<Expr> {
    let v = || col(column);
    vec![
        v().count().alias(format!("{prefix}count")),
        v().mean().alias(format!("{prefix}mean")),
        v().quantile(lit(0.5), QuantileMethod::Linear)
            .alias(format!("{prefix}median")),
        v().quantile(lit(0.9), QuantileMethod::Linear)
            .alias(format!("{prefix}p90")),
        v().quantile(lit(0.95), QuantileMethod::Linear)
            .alias(format!("{prefix}p95")),
        v().min().alias(format!("{prefix}min")),
        v().max().alias(format!("{prefix}max")),
    ]
}

fn count_true(expr: Expr, name: &str) -> Expr {
    expr.cast(DataType::Int64).sum().alias(name)
}

/// An aggregated frame, readable by key (0 for the whole window) and column.
struct Agg {
    rows: HashMap<i64, usize>,
    columns: HashMap<String, Vec<Option<f64>>>,
}

impl Agg {
    fn new(df: DataFrame) -> PolarsResult<Self> {
        let keys = df.column("key")?.cast(&DataType::Int64)?;
        let rows = keys
            .i64()?
            .iter()
            .enumerate()
            .filter_map(|(row, key)| key.map(|k| (k, row)))
            .collect();
        let mut columns = HashMap::new();
        for column in df.columns() {
            let values = column.cast(&DataType::Float64)?.f64()?.iter().collect();
            columns.insert(column.name().to_string(), values);
        }
        Ok(Self { rows, columns })
    }

    fn float(&self, key: i64, name: &str) -> Option<f64> {
        let row = *self.rows.get(&key)?;
        self.columns.get(name)?.get(row).copied().flatten()
    }

    fn count(&self, key: i64, name: &str) -> u64 {
        self.float(key, name).map_or(0, |v| v as u64)
    }

    fn stats(&self, key: i64, prefix: &str) -> DurationStats {
        let count = self.count(key, &format!("{prefix}count"));
        let get = |name: &str| {
            (count > 0)
                .then(|| self.float(key, &format!("{prefix}{name}")))
                .flatten()
        };
        DurationStats {
            count,
            mean: get("mean"),
            median: get("median"),
            p90: get("p90"),
            p95: get("p95"),
            min: get("min"),
            max: get("max"),
        }
    }
}

/// How a family of figures is grouped.
enum By {
    Window,
    Program,
    Bucket { starts: Series, time: &'static str },
}

fn aggregate(frame: &DataFrame, by: &By, aggs: &[Expr]) -> PolarsResult<Agg> {
    let lf = frame.clone().lazy();
    let df = match by {
        By::Window => lf
            .select(aggs)
            .with_column(lit(0i64).alias("key"))
            .collect()?,
        By::Program => lf
            .group_by([col("program").alias("key")])
            .agg(aggs)
            .collect()?,
        By::Bucket { starts, time } => {
            let bucket = lit(starts.clone())
                .search_sorted(col(*time), SearchSortedSide::Right, false)
                .cast(DataType::Int64)
                - lit(1i64);
            lf.group_by([bucket.alias("key")]).agg(aggs).collect()?
        }
    };
    Agg::new(df)
}

/// A family's three aggregations.
struct Family {
    window: Agg,
    program: Agg,
    bucket: Option<Agg>,
}

fn family(
    frame: &DataFrame,
    time: &'static str,
    aggs: &[Expr],
    trend: Option<&(Series, i64)>,
) -> PolarsResult<Family> {
    let window = aggregate(frame, &By::Window, aggs)?;
    let program = aggregate(frame, &By::Program, aggs)?;
    let bucket = match trend {
        Some((starts, last_end)) => {
            let in_buckets = frame
                .clone()
                .lazy()
                .filter(col(time).lt(lit(*last_end)))
                .collect()?;
            Some(aggregate(
                &in_buckets,
                &By::Bucket {
                    starts: starts.clone(),
                    time,
                },
                aggs,
            )?)
        }
        None => None,
    };
    Ok(Family {
        window,
        program,
        bucket,
    })
}

/// Deployments failed by a change-caused incident: the one it names, or else the latest
/// counted production deployment of its release finished by the time it opened.
fn failed_by_incidents(counted: &DataFrame, incidents: &DataFrame) -> PolarsResult<Vec<i64>> {
    let caused = incidents
        .clone()
        .lazy()
        .filter(col("caused_by_change"))
        .select([col("deployment"), col("release"), col("opened_at")])
        .collect()?;
    let deployment = caused.column("deployment")?.i64()?;
    let release = caused.column("release")?.i64()?;
    let opened = caused.column("opened_at")?.i64()?;
    let mut failed: Vec<i64> = deployment.iter().flatten().collect();
    let through_release: Vec<(i64, i64)> = deployment
        .iter()
        .zip(release.iter())
        .zip(opened.iter())
        .filter_map(|((d, r), o)| match (d, r, o) {
            (None, Some(r), Some(o)) => Some((r, o)),
            _ => None,
        })
        .collect();
    if through_release.is_empty() {
        return Ok(failed);
    }
    let releases: Vec<i64> = through_release.iter().map(|(r, _)| *r).collect();
    let candidates = counted
        .clone()
        .lazy()
        .filter(col("release").is_in(ids(&releases), false))
        .select([col("release"), col("finished_at"), col("id")])
        .collect()?;
    let mut by_release: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    for ((r, f), id) in candidates
        .column("release")?
        .i64()?
        .iter()
        .zip(candidates.column("finished_at")?.i64()?.iter())
        .zip(candidates.column("id")?.i64()?.iter())
    {
        if let (Some(r), Some(f), Some(id)) = (r, f, id) {
            by_release.entry(r).or_default().push((f, id));
        }
    }
    for list in by_release.values_mut() {
        list.sort_unstable();
    }
    for (release, opened_at) in through_release {
        if let Some(list) = by_release.get(&release) {
            let finished_by = list.partition_point(|(f, _)| *f <= opened_at);
            if finished_by > 0 {
                failed.push(list[finished_by - 1].1);
            }
        }
    }
    Ok(failed)
}

impl Store {
    /// Every figure of metrics.md for `query`.
    pub fn metrics(&self, q: &Query) -> Result<Metrics, Error> {
        Ok(self.compute(q)?)
    }

    fn compute(&self, q: &Query) -> PolarsResult<Metrics> {
        let f = &self.frames;
        let (from, to) = (q.from, q.to);
        let program_ids: Vec<i64> = q.programs.iter().map(|p| p.id).collect();
        let all_programs = self.programs.iter().all(|p| program_ids.contains(p));
        let team_releases: Option<Vec<i64>> = match &q.team {
            Some(team) => Some(
                f.teams
                    .clone()
                    .lazy()
                    .filter(col("team").eq(lit(team.as_str())))
                    .select([col("release")])
                    .collect()?
                    .column("release")?
                    .i64()?
                    .iter()
                    .flatten()
                    .collect(),
            ),
            None => None,
        };
        // Scope: the caller's programs, and with a team only what belongs to its releases.
        let scope = |frame: &DataFrame, release: &str| -> LazyFrame {
            let mut lf = frame.clone().lazy();
            if !all_programs {
                lf = lf.filter(col("program").is_in(ids(&program_ids), false));
            }
            if let Some(releases) = &team_releases {
                lf = lf.filter(
                    col(release)
                        .is_in(ids(releases), false)
                        .fill_null(lit(false)),
                );
            }
            lf
        };

        // Production deployments with SUCCEEDED, FAILED or ROLLED_BACK status and finishedAt.
        let tiers: Vec<i32> = q.tiers.iter().map(|t| tier_code(*t)).collect();
        let counted = scope(&f.deployments, "release")
            .filter(
                col("tier")
                    .is_in(codes(&tiers), false)
                    .and(col("rollback").not())
                    .and(col("status").is_in(codes(&[SUCCEEDED, FAILED, ROLLED_BACK]), false))
                    .and(col("finished_at").is_not_null()),
            )
            .collect()?;
        let incidents = scope(&f.incidents, "release").collect()?;
        let failed = failed_by_incidents(&counted, &incidents)?;

        // Delivered at: the first SUCCEEDED production deployment of each release.
        let delivered = counted
            .clone()
            .lazy()
            .filter(col("status").eq(lit(SUCCEEDED)))
            .group_by([col("release")])
            .agg([
                col("finished_at").min().alias("delivered_at"),
                col("program").first(),
            ])
            .join(
                f.releases
                    .clone()
                    .lazy()
                    .select([col("id"), col("planned_end")]),
                [col("release")],
                [col("id")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                f.outcomes
                    .clone()
                    .lazy()
                    .select([col("release"), lit(true).alias("reviewed")]),
                [col("release")],
                [col("release")],
                JoinArgs::new(JoinType::Left),
            )
            .collect()?;

        let trend_buckets = buckets(from, to, q.granularity);
        let trend = trend_buckets.last().map(|(_, last_end)| {
            let starts: Vec<i64> = trend_buckets.iter().map(|(s, _)| *s).collect();
            (Series::new("starts".into(), starts), *last_end)
        });
        let trend = trend.as_ref();

        let deployments = counted
            .clone()
            .lazy()
            .filter(
                col("status")
                    .eq(lit(SUCCEEDED))
                    .and(within("finished_at", from, to)),
            )
            .with_column((col("finished_at") - col("finished_at") % lit(DAY)).alias("day"))
            .collect()?;
        let deployments = family(
            &deployments,
            "finished_at",
            &[
                col("finished_at").count().alias("deployments"),
                col("day").n_unique().alias("days"),
                count_true(col("emergency"), "rework"),
            ],
            trend,
        )?;

        let changes = counted
            .lazy()
            .filter(within("finished_at", from, to))
            .with_column(
                col("status")
                    .neq(lit(SUCCEEDED))
                    .or(col("id").is_in(ids(&failed), false))
                    .alias("failed"),
            )
            .collect()?;
        let changes = family(
            &changes,
            "finished_at",
            &[
                col("finished_at").count().alias("deployments"),
                count_true(col("failed"), "failed"),
                count_true(col("status").eq(lit(ROLLED_BACK)), "rolled_back"),
            ],
            trend,
        )?;

        let leads = scope(&f.items, "release")
            .filter(col("committed_at").is_not_null())
            .join(
                delivered
                    .clone()
                    .lazy()
                    .select([col("release"), col("delivered_at")]),
                [col("release")],
                [col("release")],
                JoinArgs::new(JoinType::Inner),
            )
            .filter(within("delivered_at", from, to))
            .with_column(hours("delivered_at", "committed_at").alias("hours"))
            .filter(col("hours").gt_eq(lit(0.0)))
            .collect()?;
        let leads = family(&leads, "delivered_at", &stats("hours", "lt_"), trend)?;

        let restores = incidents
            .lazy()
            .filter(
                col("resolved_at")
                    .is_not_null()
                    .and(within("opened_at", from, to)),
            )
            .with_column(hours("resolved_at", "opened_at").alias("hours"))
            .collect()?;
        let restores = family(&restores, "opened_at", &stats("hours", "ttr_"), trend)?;

        let deliveries = delivered
            .lazy()
            .filter(within("delivered_at", from, to))
            .with_columns([
                col("delivered_at")
                    .lt_eq(col("planned_end"))
                    .fill_null(lit(false))
                    .alias("on_time"),
                ((col("delivered_at") - col("planned_end")).cast(DataType::Float64)
                    / lit(DAY as f64))
                .alias("slip"),
                col("reviewed").fill_null(lit(false)),
            ])
            .collect()?;
        let deliveries = family(
            &deliveries,
            "delivered_at",
            &[
                col("delivered_at").count().alias("delivered"),
                col("planned_end").count().alias("planned"),
                count_true(col("on_time"), "on_time"),
                count_true(col("reviewed"), "reviewed"),
            ]
            .into_iter()
            .chain(stats("slip", "slip_"))
            .collect::<Vec<_>>(),
            trend,
        )?;

        // A gate's first result: earliest checkedAt, then first recorded; PENDING ignored.
        let gates = scope(&f.gates, "release")
            .filter(col("status").neq(lit(GATE_PENDING)))
            .group_by([col("gate")])
            .agg([
                col("status")
                    .sort_by(
                        [col("checked_at"), col("id")],
                        SortMultipleOptions::default(),
                    )
                    .first()
                    .alias("status"),
                col("checked_at").min().alias("first_at"),
                col("program").first(),
            ])
            .filter(within("first_at", from, to))
            .collect()?;
        let gates = family(
            &gates,
            "first_at",
            &[
                col("first_at").count().alias("gates"),
                count_true(col("status").eq(lit(GATE_PASSED)), "passed"),
            ],
            None,
        )?;

        let to_date = days_from_civil_of(to);
        let open = col("created_at").lt(lit(to)).and(
            col("closed_at")
                .is_null()
                .or(col("closed_at").gt_eq(lit(to))),
        );
        let actions = scope(&f.actions, "release").collect()?;
        let actions = family(
            &actions,
            "created_at",
            &[
                count_true(open.clone(), "open"),
                count_true(
                    open.and(col("due_date").lt(lit(to_date)).fill_null(lit(false))),
                    "overdue",
                ),
                count_true(
                    within("closed_at", from, to).fill_null(lit(false)),
                    "closed",
                ),
            ],
            None,
        )?;

        let window_days = window_days(from, to);
        let figures = |key: i64, by: fn(&Family) -> &Agg| Figures {
            deployments: by(&deployments),
            changes: by(&changes),
            leads: by(&leads),
            restores: by(&restores),
            deliveries: by(&deliveries),
            gates: by(&gates),
            actions: by(&actions),
            key,
            window_days,
        };
        let overall = figures(0, |f| &f.window);
        let trend = match (
            &deployments.bucket,
            &changes.bucket,
            &leads.bucket,
            &restores.bucket,
            &deliveries.bucket,
        ) {
            (Some(d), Some(c), Some(l), Some(r), Some(v)) => trend_buckets
                .iter()
                .enumerate()
                .map(|(i, (start, end))| {
                    let k = i as i64;
                    let (failed, counted) = (c.count(k, "failed"), c.count(k, "deployments"));
                    Bucket {
                        start: *start,
                        end: *end,
                        deployments: d.count(k, "deployments"),
                        failed_deployments: failed,
                        change_failure_rate: rate(failed, counted),
                        lead_time_median_hours: l.stats(k, "lt_").median,
                        time_to_restore_median_hours: r.stats(k, "ttr_").median,
                        releases_delivered: v.count(k, "delivered"),
                        on_time_rate: rate(v.count(k, "on_time"), v.count(k, "planned")),
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        let by_program = q
            .programs
            .iter()
            .map(|p| {
                let figures = figures(p.id, |f| &f.program);
                ProgramMetrics {
                    program_key: p.key.clone(),
                    deployment_frequency: figures.deployment_frequency(),
                    lead_time: figures.lead_time(),
                    change_failure_rate: figures.change_failure_rate(),
                    time_to_restore: figures.time_to_restore(),
                    delivery: figures.delivery(),
                }
            })
            .collect();
        let deployment_frequency = overall.deployment_frequency();
        let rework = overall.deployments.count(0, "rework");
        Ok(Metrics {
            from,
            to,
            deployment_frequency,
            lead_time: overall.lead_time(),
            change_failure_rate: overall.change_failure_rate(),
            time_to_restore: overall.time_to_restore(),
            rework_rate: ReworkRate {
                deployments: deployment_frequency.deployments,
                rework,
                rate: rate(rework, deployment_frequency.deployments),
            },
            delivery: overall.delivery(),
            trend,
            by_program,
        })
    }
}

/// The UTC date of `t`, in days since 1970-01-01.
fn days_from_civil_of(t: i64) -> i32 {
    let days = t.div_euclid(DAY);
    let (y, m, d) = crate::calendar::civil_from_days(days);
    days_from_civil(y, m, d) as i32
}

/// The aggregations of one key (the window, or a program).
struct Figures<'a> {
    deployments: &'a Agg,
    changes: &'a Agg,
    leads: &'a Agg,
    restores: &'a Agg,
    deliveries: &'a Agg,
    gates: &'a Agg,
    actions: &'a Agg,
    key: i64,
    window_days: f64,
}

impl Figures<'_> {
    fn deployment_frequency(&self) -> DeploymentFrequency {
        let deployments = self.deployments.count(self.key, "deployments");
        let per_day = if self.window_days > 0.0 {
            deployments as f64 / self.window_days
        } else {
            0.0
        };
        DeploymentFrequency {
            deployments,
            deployment_days: self.deployments.count(self.key, "days"),
            per_day,
            band: deployment_frequency_band(deployments, per_day),
        }
    }

    fn lead_time(&self) -> LeadTime {
        let hours = self.leads.stats(self.key, "lt_");
        LeadTime {
            hours,
            band: lead_time_band(hours.median),
        }
    }

    fn change_failure_rate(&self) -> ChangeFailureRate {
        let deployments = self.changes.count(self.key, "deployments");
        let failed = self.changes.count(self.key, "failed");
        let rate = rate(failed, deployments);
        ChangeFailureRate {
            deployments,
            failed,
            rate,
            band: change_failure_band(rate),
        }
    }

    fn time_to_restore(&self) -> TimeToRestore {
        let hours = self.restores.stats(self.key, "ttr_");
        TimeToRestore {
            hours,
            band: time_to_restore_band(hours.median),
        }
    }

    fn delivery(&self) -> Delivery {
        let (k, d) = (self.key, self.deliveries);
        let delivered = d.count(k, "delivered");
        Delivery {
            releases_delivered: delivered,
            on_time_rate: rate(d.count(k, "on_time"), d.count(k, "planned")),
            slippage_days: d.stats(k, "slip_"),
            rollback_rate: rate(
                self.changes.count(k, "rolled_back"),
                self.changes.count(k, "deployments"),
            ),
            gate_first_pass_rate: rate(self.gates.count(k, "passed"), self.gates.count(k, "gates")),
            review_completion_rate: rate(d.count(k, "reviewed"), delivered),
            actions_open: self.actions.count(k, "open"),
            actions_overdue: self.actions.count(k, "overdue"),
            actions_closed: self.actions.count(k, "closed"),
        }
    }
}
