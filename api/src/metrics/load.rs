//! Reading the analytics tables: only the columns metrics use, straight into columns.
//!
//! Enumerations are turned into small codes by the query itself, so no string is decoded
//! per row. Ids in `IN (…)` lists are formatted integers, never user text.

use analytics::{DeploymentStatus, GateStatus, Tables, Tier};
use sea_orm::{ConnectionTrait, DbErr, StreamTrait};

use crate::db::{each_row as each, id_list};
use crate::time::DAY_MICROS;

/// Which rows to read.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    /// Everything that belongs to these releases, and these incidents.
    Only {
        releases: &'a [i64],
        incidents: &'a [i64],
    },
}

impl Selection<'_> {
    /// A condition on `column` holding a release id.
    fn releases(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { releases, .. } => {
                format!("{column} IN ({})", id_list(releases.iter().copied()))
            }
        }
    }

    fn incidents(&self) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only {
                releases,
                incidents,
            } => format!(
                "release_id IN ({}) OR id IN ({})",
                id_list(releases.iter().copied()),
                id_list(incidents.iter().copied())
            ),
        }
    }
}

fn tier(code: i32) -> Tier {
    match code {
        0 => Tier::Development,
        1 => Tier::Testing,
        2 => Tier::Staging,
        _ => Tier::Production,
    }
}

fn deployment_status(code: i32) -> DeploymentStatus {
    match code {
        0 => DeploymentStatus::InProgress,
        1 => DeploymentStatus::Succeeded,
        2 => DeploymentStatus::Failed,
        _ => DeploymentStatus::RolledBack,
    }
}

fn gate_status(code: i32) -> GateStatus {
    match code {
        0 => GateStatus::Pending,
        1 => GateStatus::Passed,
        2 => GateStatus::Failed,
        _ => GateStatus::Waived,
    }
}

/// Reads the tables of `selection`, all at once on separate connections.
pub async fn tables<C>(db: &C, selection: Selection<'_>) -> Result<Tables, DbErr>
where
    C: ConnectionTrait + StreamTrait,
{
    let releases = async {
        let mut out = analytics::Releases::default();
        each(
            db,
            format!(
                "SELECT id, program_id, planned_end FROM releases WHERE {}",
                selection.releases("id")
            ),
            |row| {
                let (id, program, planned_end): (i64, i64, Option<i64>) =
                    row.try_get_many_by_index()?;
                out.id.push(id);
                out.program.push(program);
                out.planned_end.push(planned_end);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let teams = async {
        let mut out = analytics::Teams::default();
        each(
            db,
            format!(
                "SELECT release_id, name FROM release_parties WHERE role = 'TEAM' AND {}",
                selection.releases("release_id")
            ),
            |row| {
                let (release, team): (i64, String) = row.try_get_many_by_index()?;
                out.release.push(release);
                out.team.push(team);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let deployments = async {
        let mut out = analytics::Deployments::default();
        each(
            db,
            format!(
                "SELECT d.id, d.release_id, r.program_id, \
                 CASE WHEN r.type = 'EMERGENCY' THEN 1 ELSE 0 END, \
                 CASE e.tier WHEN 'DEVELOPMENT' THEN 0 WHEN 'TESTING' THEN 1 WHEN 'STAGING' THEN 2 ELSE 3 END, \
                 CASE d.status WHEN 'IN_PROGRESS' THEN 0 WHEN 'SUCCEEDED' THEN 1 WHEN 'FAILED' THEN 2 ELSE 3 END, \
                 CASE WHEN d.is_rollback THEN 1 ELSE 0 END, d.finished_at \
                 FROM deployments d JOIN releases r ON r.id = d.release_id \
                 JOIN environments e ON e.id = d.environment_id WHERE {}",
                selection.releases("d.release_id")
            ),
            |row| {
                let (id, release, program, emergency, tier_code, status, rollback, finished): (i64, i64, i64, i32, i32, i32, i32, Option<i64>) =
                    row.try_get_many_by_index()?;
                let d = &mut out;
                d.id.push(id);
                d.release.push(release);
                d.program.push(program);
                d.emergency.push(emergency == 1);
                d.tier.push(tier(tier_code));
                d.status.push(deployment_status(status));
                d.rollback.push(rollback == 1);
                d.finished_at.push(finished);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let items = async {
        let mut out = analytics::Items::default();
        each(
            db,
            format!(
                "SELECT i.release_id, r.program_id, i.committed_at FROM release_items i \
                 JOIN releases r ON r.id = i.release_id WHERE {}",
                selection.releases("i.release_id")
            ),
            |row| {
                let (release, program, committed): (i64, i64, Option<i64>) =
                    row.try_get_many_by_index()?;
                out.release.push(release);
                out.program.push(program);
                out.committed_at.push(committed);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let incidents = async {
        let mut out = analytics::Incidents::default();
        each(
            db,
            format!(
                "SELECT id, program_id, release_id, deployment_id, CASE WHEN caused_by_change THEN 1 ELSE 0 END, \
                 opened_at, resolved_at FROM incidents WHERE {}",
                selection.incidents()
            ),
            |row| {
                let (id, program, release, deployment, caused, opened, resolved): (i64, i64, Option<i64>, Option<i64>, i32, i64, Option<i64>) =
                    row.try_get_many_by_index()?;
                let i = &mut out;
                i.id.push(id);
                i.program.push(program);
                i.release.push(release);
                i.deployment.push(deployment);
                i.caused_by_change.push(caused == 1);
                i.opened_at.push(opened);
                i.resolved_at.push(resolved);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let gate_results = async {
        let mut out = analytics::GateResults::default();
        each(
            db,
            format!(
                "SELECT gr.id, gr.gate_id, g.release_id, r.program_id, \
                 CASE gr.status WHEN 'PENDING' THEN 0 WHEN 'PASSED' THEN 1 WHEN 'FAILED' THEN 2 ELSE 3 END, gr.checked_at \
                 FROM gate_results gr JOIN quality_gates g ON g.id = gr.gate_id \
                 JOIN releases r ON r.id = g.release_id WHERE {}",
                selection.releases("g.release_id")
            ),
            |row| {
                let (id, gate, release, program, status, checked): (i64, i64, i64, i64, i32, i64) = row.try_get_many_by_index()?;
                let g = &mut out;
                g.id.push(id);
                g.gate.push(gate);
                g.release.push(release);
                g.program.push(program);
                g.status.push(gate_status(status));
                g.checked_at.push(checked);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let outcomes = async {
        let mut out = analytics::Outcomes::default();
        each(
            db,
            format!(
                "SELECT release_id FROM outcomes WHERE {}",
                selection.releases("release_id")
            ),
            |row| {
                out.release.push(row.try_get_by_index(0)?);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let actions = async {
        let mut out = analytics::Actions::default();
        each(
            db,
            format!(
                "SELECT a.release_id, r.program_id, a.created_at, a.closed_at, a.due_date \
                 FROM improvement_actions a JOIN releases r ON r.id = a.release_id WHERE {}",
                selection.releases("a.release_id")
            ),
            |row| {
                let (release, program, created, closed, due): (
                    i64,
                    i64,
                    i64,
                    Option<i64>,
                    Option<chrono::NaiveDate>,
                ) = row.try_get_many_by_index()?;
                let a = &mut out;
                a.release.push(release);
                a.program.push(program);
                a.created_at.push(created);
                a.closed_at.push(closed);
                a.due_date.push(due.map(|d| {
                    (d.and_time(chrono::NaiveTime::MIN)
                        .and_utc()
                        .timestamp_micros()
                        / DAY_MICROS) as i32
                }));
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    let (releases, teams, deployments, items, incidents, gate_results, outcomes, actions) = futures_util::try_join!(
        releases,
        teams,
        deployments,
        items,
        incidents,
        gate_results,
        outcomes,
        actions
    )?;
    Ok(Tables {
        releases,
        teams,
        deployments,
        items,
        incidents,
        gate_results,
        outcomes,
        actions,
    })
}
