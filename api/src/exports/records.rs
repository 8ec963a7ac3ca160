//! The record datasets: one row per release, deployment, incident or improvement action,
//! with the program key, release version, environment name and other readable names next
//! to the ids the GraphQL API uses.
//!
//! Rows are read in keyset pages on the record's id (`WHERE id > last ORDER BY id LIMIT n`),
//! so each page is one indexed query and no connection is held while the client reads.
//! Every value in the SQL is a number: ids, times and the page size, never user text.

use std::collections::HashMap;

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;

use super::batch::{Batch, Kind, Spec, Values};
use super::{Dataset, Export, Message, send};
use crate::db::{each_row, id_list};
use crate::error::{ApiError, ApiResult};
use crate::ids::NodeType;
use crate::queries::derived::DEPLOYED_AT_SQL;
use crate::queries::span::{Ends, Span};

/// How `from` and `to` select rows (the API's rule, `queries::span`).
#[derive(Debug, Clone, Copy)]
enum Window {
    /// The value is in `[from, to)`; rows without one are left out once either is given.
    Within(&'static str),
    /// The span from `start` to `end` (open while `end` is null) overlaps `[from, to)`.
    Overlaps {
        start: &'static str,
        end: &'static str,
    },
}

impl Window {
    fn condition(self, from: Option<i64>, to: Option<i64>) -> String {
        let span = Span::new(from, to);
        match self {
            Self::Within(column) => span.contains_sql(column),
            Self::Overlaps { start, end } => span.overlaps_sql(start, end, Ends::At),
        }
    }
}

/// Where a record dataset's rows come from.
pub struct Table {
    pub columns: &'static [Spec],
    from: &'static str,
    /// The record's id: the first column, and the key of the pages.
    key: &'static str,
    program: &'static str,
    window: Window,
}

use Kind::{Bool, Date, Id, Int, Text, Time};

const RELEASES: &[Spec] = &[
    Spec::new("id", Id(NodeType::Release), "r.id"),
    Spec::new("program_key", Text, "p.key"),
    Spec::new("program_name", Text, "p.name"),
    Spec::new("version", Text, "r.version"),
    Spec::new("name", Text, "r.name"),
    Spec::new("description", Text, "r.description"),
    Spec::new("type", Text, "r.type"),
    Spec::new("risk", Text, "r.risk"),
    Spec::new("strategy", Text, "r.strategy"),
    Spec::new("status", Text, "r.status"),
    Spec::new("owner", Text, "r.owner"),
    // Filled per page from release_parties, in their order.
    Spec::new("teams", Text, "CAST(NULL AS TEXT)"),
    Spec::new("suppliers", Text, "CAST(NULL AS TEXT)"),
    Spec::new("planned_start", Time, "r.planned_start"),
    Spec::new("planned_end", Time, "r.planned_end"),
    Spec::new("deployed_at", Time, DEPLOYED_AT_SQL),
    Spec::new("rollback_plan", Text, "r.rollback_plan"),
    Spec::new("outcome", Text, "o.result"),
    Spec::new("objectives_met", Bool, "o.objectives_met"),
    Spec::new("defects_escaped", Int, "CAST(o.defects_escaped AS BIGINT)"),
    Spec::new("reviewed_at", Time, "o.reviewed_at"),
    Spec::new("revision", Int, "CAST(r.revision AS BIGINT)"),
    Spec::new("created_at", Time, "r.created_at"),
    Spec::new("updated_at", Time, "r.updated_at"),
];

const DEPLOYMENTS: &[Spec] = &[
    Spec::new("id", Id(NodeType::Deployment), "d.id"),
    Spec::new("program_key", Text, "p.key"),
    Spec::new("release_id", Id(NodeType::Release), "r.id"),
    Spec::new("release_version", Text, "r.version"),
    Spec::new("release_type", Text, "r.type"),
    Spec::new("environment", Text, "e.name"),
    Spec::new("tier", Text, "e.tier"),
    Spec::new("status", Text, "d.status"),
    Spec::new("strategy", Text, "d.strategy"),
    Spec::new("stage", Text, "d.stage"),
    Spec::new("is_rollback", Bool, "d.is_rollback"),
    Spec::new("started_at", Time, "d.started_at"),
    Spec::new("finished_at", Time, "d.finished_at"),
];

const INCIDENTS: &[Spec] = &[
    Spec::new("id", Id(NodeType::Incident), "i.id"),
    Spec::new("program_key", Text, "p.key"),
    Spec::new("release_id", Id(NodeType::Release), "i.release_id"),
    Spec::new("release_version", Text, "r.version"),
    Spec::new("deployment_id", Id(NodeType::Deployment), "i.deployment_id"),
    Spec::new("environment", Text, "e.name"),
    Spec::new("title", Text, "i.title"),
    Spec::new("severity", Text, "i.severity"),
    Spec::new("caused_by_change", Bool, "i.caused_by_change"),
    Spec::new("opened_at", Time, "i.opened_at"),
    Spec::new("resolved_at", Time, "i.resolved_at"),
];

const ACTIONS: &[Spec] = &[
    Spec::new("id", Id(NodeType::ImprovementAction), "a.id"),
    Spec::new("program_key", Text, "p.key"),
    Spec::new("release_id", Id(NodeType::Release), "r.id"),
    Spec::new("release_version", Text, "r.version"),
    Spec::new("title", Text, "a.title"),
    Spec::new("owner", Text, "a.owner"),
    Spec::new("due_date", Date, "a.due_date"),
    Spec::new("status", Text, "a.status"),
    Spec::new("created_at", Time, "a.created_at"),
    Spec::new("closed_at", Time, "a.closed_at"),
];

/// The table of a record dataset; the trend has none.
pub fn table(dataset: Dataset) -> Option<Table> {
    Some(match dataset {
        Dataset::Trend | Dataset::Impact | Dataset::Forecast => return None,
        Dataset::Deployments => Table {
            columns: DEPLOYMENTS,
            from: "deployments d JOIN releases r ON r.id = d.release_id \
                   JOIN programs p ON p.id = r.program_id \
                   JOIN environments e ON e.id = d.environment_id",
            key: "d.id",
            program: "r.program_id",
            window: Window::Overlaps {
                start: "d.started_at",
                end: "d.finished_at",
            },
        },
        Dataset::Incidents => Table {
            columns: INCIDENTS,
            from: "incidents i JOIN programs p ON p.id = i.program_id \
                   LEFT JOIN releases r ON r.id = i.release_id \
                   LEFT JOIN deployments d ON d.id = i.deployment_id \
                   LEFT JOIN environments e ON e.id = d.environment_id",
            key: "i.id",
            program: "i.program_id",
            window: Window::Overlaps {
                start: "i.opened_at",
                end: "i.resolved_at",
            },
        },
        Dataset::Actions => Table {
            columns: ACTIONS,
            from: "improvement_actions a JOIN releases r ON r.id = a.release_id \
                   JOIN programs p ON p.id = r.program_id",
            key: "a.id",
            program: "r.program_id",
            window: Window::Overlaps {
                start: "a.created_at",
                end: "a.closed_at",
            },
        },
        Dataset::Releases => Table {
            columns: RELEASES,
            from: "releases r JOIN programs p ON p.id = r.program_id \
                   LEFT JOIN outcomes o ON o.release_id = r.id",
            key: "r.id",
            program: "r.program_id",
            window: Window::Within("r.planned_end"),
        },
    })
}

impl Table {
    /// The conditions of `export`'s rows, after id `after` when given.
    fn conditions(&self, export: &Export, after: Option<i64>) -> Vec<String> {
        let mut conditions: Vec<String> = after
            .map(|after| format!("{} > {after}", self.key))
            .into_iter()
            .collect();
        if !export.every_program {
            conditions.push(format!(
                "{} IN ({})",
                self.program,
                id_list(export.programs.iter().map(|p| p.id))
            ));
        }
        conditions.push(self.window.condition(export.from, export.to));
        conditions
    }

    /// The page of rows after id `after`.
    fn page(&self, export: &Export, after: i64) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|c| c.sql).collect();
        format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}",
            columns.join(", "),
            self.from,
            self.conditions(export, Some(after)).join(" AND "),
            self.key,
            export.dataset.batch_rows()
        )
    }

    /// How many rows `export` has.
    fn count(&self, export: &Export) -> String {
        let mut conditions = self.conditions(export, None);
        if conditions.is_empty() {
            conditions.push("1 = 1".into());
        }
        format!(
            "SELECT COUNT(*) FROM {} WHERE {}",
            self.from,
            conditions.join(" AND ")
        )
    }
}

/// How many rows the record report `export` has; `None` for a dataset of another kind.
pub async fn count(db: &DatabaseConnection, export: &Export) -> ApiResult<Option<u64>> {
    let Some(table) = table(export.dataset) else {
        return Ok(None);
    };
    let mut total = 0;
    each_row(db, table.count(export), |row| {
        total = row.try_get_by_index::<i64>(0)?;
        Ok(())
    })
    .await?;
    Ok(Some(total.max(0) as u64))
}

/// Reads the rows of `export` page by page and hands them to the writer.
pub async fn produce(
    db: &DatabaseConnection,
    export: &Export,
    tx: &mpsc::Sender<Message>,
) -> ApiResult<()> {
    let Some(table) = table(export.dataset) else {
        return Err(ApiError::Internal(format!(
            "{} is not a record dataset",
            export.dataset.name()
        )));
    };
    let mut after = i64::MIN;
    loop {
        let mut batch = Batch::new(table.columns);
        let mut ids = Vec::new();
        each_row(db, table.page(export, after), |row| {
            ids.push(row.try_get_by_index::<i64>(0)?);
            batch.push_row(&row)
        })
        .await?;
        if export.dataset == Dataset::Releases {
            add_parties(db, &ids, &mut batch).await?;
        }
        let full = ids.len() == export.dataset.batch_rows();
        match ids.last() {
            Some(last) => after = *last,
            None => return Ok(()),
        }
        if !send(tx, batch).await || !full {
            return Ok(());
        }
    }
}

/// Fills the teams and suppliers of a page of releases, each joined with "; ".
async fn add_parties(
    db: &DatabaseConnection,
    releases: &[i64],
    batch: &mut Batch,
) -> Result<(), DbErr> {
    let mut parties: HashMap<(i64, String), Vec<String>> = HashMap::new();
    let sql = format!(
        "SELECT release_id, role, name FROM release_parties WHERE release_id IN ({}) \
         ORDER BY release_id, role, position",
        id_list(releases.iter().copied())
    );
    each_row(db, sql, |row| {
        let (release, role, name): (i64, String, String) = row.try_get_many_by_index()?;
        parties.entry((release, role)).or_default().push(name);
        Ok(())
    })
    .await?;
    for (column, role) in [("teams", "TEAM"), ("suppliers", "SUPPLIER")] {
        let values = releases
            .iter()
            .map(|id| {
                parties
                    .get(&(*id, role.to_owned()))
                    .map(|names| names.join("; "))
            })
            .collect();
        batch.set(column, Values::Text(values));
    }
    Ok(())
}
