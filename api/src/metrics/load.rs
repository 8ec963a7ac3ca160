//! Reading the analytics tables: only the columns metrics use, straight into columns.
//!
//! Enumerations are turned into small codes by the query itself, so no string is decoded
//! per row. Ids in `IN (…)` lists are formatted integers, never user text.

use analytics::{Coded, DeploymentStatus, GateStatus, Tables, Tier};
use sea_orm::{ConnectionTrait, DbErr, StreamTrait};

use crate::db::{each_row as each, id_list};
use crate::time::DAY_MICROS;

/// Which rows to read.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    /// Everything that belongs to these releases, these incidents and these deliveries.
    Only {
        releases: &'a [i64],
        incidents: &'a [i64],
        deliveries: &'a [i64],
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

    /// A condition on `column` holding a delivery id.
    fn deliveries(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { deliveries, .. } => {
                format!("{column} IN ({})", id_list(deliveries.iter().copied()))
            }
        }
    }

    fn incidents(&self) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only {
                releases,
                incidents,
                ..
            } => format!(
                "release_id IN ({}) OR id IN ({})",
                id_list(releases.iter().copied()),
                id_list(incidents.iter().copied())
            ),
        }
    }
}

/// `CASE column WHEN 'PRODUCTION' THEN 3 … END`: stored text to the analytics code, from
/// the one table `E` defines. Text no variant spells gives NULL, which fails the read
/// instead of becoming another value.
fn codes<E: Coded>(column: &str) -> String {
    let arms: String = E::iter()
        .map(|v| format!(" WHEN '{}' THEN {}", Into::<&str>::into(v), v.code()))
        .collect();
    format!("CASE {column}{arms} END")
}

/// The variant of `code`, or the error of a value the loader's `CASE` did not know.
fn decode<E: Coded>(code: Option<i32>) -> Result<E, DbErr> {
    code.and_then(E::from_code).ok_or_else(|| {
        DbErr::Type(format!(
            "a stored {} that analytics does not know",
            std::any::type_name::<E>()
        ))
    })
}

/// id, release, program, emergency, tier code, status code, rollback, finished at, ingested.
type DeploymentRow = (
    i64,
    i64,
    i64,
    i32,
    Option<i32>,
    Option<i32>,
    i32,
    Option<i64>,
    i32,
);

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
                 CASE WHEN r.type = 'EMERGENCY' THEN 1 ELSE 0 END, {}, {}, \
                 CASE WHEN d.is_rollback THEN 1 ELSE 0 END, d.finished_at, \
                 CASE WHEN d.source_id IS NULL THEN 0 ELSE 1 END \
                 FROM deployments d JOIN releases r ON r.id = d.release_id \
                 JOIN environments e ON e.id = d.environment_id WHERE {}",
                codes::<Tier>("e.tier"),
                codes::<DeploymentStatus>("d.status"),
                selection.releases("d.release_id")
            ),
            |row| {
                let (id, release, program, emergency, tier, status, rollback, finished, ingested): DeploymentRow = row.try_get_many_by_index()?;
                let d = &mut out;
                d.id.push(id);
                d.release.push(release);
                d.program.push(program);
                d.emergency.push(emergency == 1);
                d.tier.push(decode(tier)?);
                d.status.push(decode(status)?);
                d.rollback.push(rollback == 1);
                d.finished_at.push(finished);
                d.ingested.push(ingested == 1);
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
                "SELECT gr.id, gr.gate_id, g.release_id, r.program_id, {}, gr.checked_at \
                 FROM gate_results gr JOIN quality_gates g ON g.id = gr.gate_id \
                 JOIN releases r ON r.id = g.release_id WHERE {}",
                codes::<GateStatus>("gr.status"),
                selection.releases("g.release_id")
            ),
            |row| {
                let (id, gate, release, program, status, checked): (
                    i64,
                    i64,
                    i64,
                    i64,
                    Option<i32>,
                    i64,
                ) = row.try_get_many_by_index()?;
                let g = &mut out;
                g.id.push(id);
                g.gate.push(gate);
                g.release.push(release);
                g.program.push(program);
                g.status.push(decode(status)?);
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
    let overrides = async {
        let mut out = analytics::Overrides::default();
        each(
            db,
            format!(
                "SELECT e.release_id, r.program_id, e.at FROM release_events e \
                 JOIN releases r ON r.id = e.release_id WHERE e.overrode_freeze AND {}",
                selection.releases("e.release_id")
            ),
            |row| {
                let (release, program, at): (i64, i64, i64) = row.try_get_many_by_index()?;
                out.release.push(release);
                out.program.push(program);
                out.at.push(at);
                Ok(())
            },
        )
        .await?;
        Ok::<_, DbErr>(out)
    };
    // Deployment deliveries that stayed outside the process, where their environment is known.
    let unplanned = async {
        let mut out = analytics::Unplanned::default();
        each(
            db,
            format!(
                "SELECT d.id, d.program_id, d.received_at, {} FROM deliveries d \
                 JOIN environments e ON e.id = d.environment_id \
                 WHERE d.status IN ('UNMATCHED', 'REJECTED') AND {}",
                codes::<Tier>("e.tier"),
                selection.deliveries("d.id")
            ),
            |row| {
                let (id, program, received, tier): (i64, i64, i64, Option<i32>) =
                    row.try_get_many_by_index()?;
                out.id.push(id);
                out.program.push(program);
                out.received_at.push(received);
                out.tier.push(decode(tier)?);
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
    let (overrides, unplanned) = futures_util::try_join!(overrides, unplanned)?;
    Ok(Tables {
        releases,
        teams,
        deployments,
        items,
        incidents,
        gate_results,
        outcomes,
        actions,
        overrides,
        unplanned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums;
    use sea_orm::Iterable;

    /// Every stored spelling of `D` has exactly one analytics variant, and back.
    fn same_spellings<D, E>(stored: impl Fn(D) -> &'static str)
    where
        D: Iterable,
        E: Coded,
    {
        let mut stored: Vec<&str> = D::iter().map(stored).collect();
        let mut coded: Vec<&str> = E::iter().map(Into::into).collect();
        stored.sort_unstable();
        coded.sort_unstable();
        assert_eq!(stored, coded, "{}", std::any::type_name::<E>());
    }

    #[test]
    fn analytics_codes_cover_every_stored_value() {
        same_spellings::<enums::EnvironmentTier, Tier>(enums::EnvironmentTier::as_str);
        same_spellings::<enums::DeploymentStatus, DeploymentStatus>(
            enums::DeploymentStatus::as_str,
        );
        same_spellings::<enums::GateStatus, GateStatus>(enums::GateStatus::as_str);
    }

    #[test]
    fn codes_become_a_case_over_every_variant() {
        assert_eq!(
            codes::<Tier>("e.tier"),
            "CASE e.tier WHEN 'DEVELOPMENT' THEN 0 WHEN 'TESTING' THEN 1 \
             WHEN 'STAGING' THEN 2 WHEN 'PRODUCTION' THEN 3 END"
        );
        assert_eq!(decode::<Tier>(Some(3)), Ok(Tier::Production));
        assert!(decode::<DeploymentStatus>(None).is_err());
        assert!(decode::<DeploymentStatus>(Some(9)).is_err());
    }
}
