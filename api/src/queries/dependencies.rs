//! Release dependencies as readers need them (communication.md): each link with the release
//! at its other end, whether it is met, and how to name it to a caller who may not see it.

use std::collections::{HashMap, HashSet};

use entity::enums::{DeploymentStatus, EnvironmentTier};
use entity::{deployment, environment, release, release_dependency};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::Scope;
use crate::error::ApiResult;

/// What a message says for a release the caller cannot see.
pub const HIDDEN: &str = "a release you cannot see";

/// Which end of the links of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The releases it waits on.
    DependsOn,
    /// The releases waiting on it.
    Dependents,
}

/// One dependency seen from one of its releases.
#[derive(Debug, Clone)]
pub struct Link {
    pub row: release_dependency::Model,
    /// The release at the other end.
    pub other: release::Model,
    /// Its program's key.
    pub other_program: String,
    /// Its `deployedAt`.
    pub other_deployed_at: Option<i64>,
}

impl Link {
    /// Met once the release depended on has a `deployedAt` (meaningful for `DependsOn`).
    pub fn met(&self) -> bool {
        self.other_deployed_at.is_some()
    }

    /// `PAY 2.1`, or [`HIDDEN`] for a caller whose scope does not hold it.
    pub fn name_for(&self, scope: &Scope) -> String {
        if scope.contains(self.other.program_id) {
            format!("{} {}", self.other_program, self.other.version)
        } else {
            HIDDEN.to_owned()
        }
    }

    /// The readiness blocker of a dependency not yet met.
    pub fn blocker(&self, scope: &Scope) -> String {
        if scope.contains(self.other.program_id) {
            format!(
                "depends on {} ({})",
                self.name_for(scope),
                self.other.status.as_str()
            )
        } else {
            format!("depends on {HIDDEN}")
        }
    }
}

/// The links of each of `ids` in `direction`, visible or not, oldest first: five statements
/// whatever the number of releases.
pub async fn links(
    db: &impl ConnectionTrait,
    ids: &[i64],
    direction: Direction,
) -> ApiResult<HashMap<i64, Vec<Link>>> {
    let own = match direction {
        Direction::DependsOn => release_dependency::Column::ReleaseId,
        Direction::Dependents => release_dependency::Column::DependsOnId,
    };
    let rows = release_dependency::Entity::find()
        .filter(own.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let end = |row: &release_dependency::Model| match direction {
        Direction::DependsOn => (row.release_id, row.depends_on_id),
        Direction::Dependents => (row.depends_on_id, row.release_id),
    };
    let others: HashSet<i64> = rows.iter().map(|row| end(row).1).collect();
    let releases: HashMap<i64, release::Model> = release::Entity::find()
        .filter(release::Column::Id.is_in(others.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let program_ids: HashSet<i64> = releases.values().map(|r| r.program_id).collect();
    let programs = super::program_keys(db, program_ids).await?;
    let deployed = deployed_at(db, &others).await?;
    let mut links: HashMap<i64, Vec<Link>> = HashMap::new();
    for row in rows {
        let (mine, theirs) = end(&row);
        let Some(other) = releases.get(&theirs) else {
            continue;
        };
        links.entry(mine).or_default().push(Link {
            other_program: programs.get(&other.program_id).cloned().unwrap_or_default(),
            other_deployed_at: deployed.get(&theirs).copied(),
            other: other.clone(),
            row,
        });
    }
    for list in links.values_mut() {
        list.sort_by_key(|link| (link.row.created_at, link.row.id));
    }
    Ok(links)
}

/// `deployedAt` of each of `ids` that has one (`derived::deployed_at`, read in one query).
async fn deployed_at(
    db: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> ApiResult<HashMap<i64, i64>> {
    let production: Vec<i64> = environment::Entity::find()
        .select_only()
        .column(environment::Column::Id)
        .filter(environment::Column::Tier.eq(EnvironmentTier::Production))
        .into_tuple()
        .all(db)
        .await?;
    let finished: Vec<(i64, Option<i64>)> = deployment::Entity::find()
        .select_only()
        .column(deployment::Column::ReleaseId)
        .column(deployment::Column::FinishedAt)
        .filter(deployment::Column::ReleaseId.is_in(ids.iter().copied()))
        .filter(deployment::Column::EnvironmentId.is_in(production))
        .filter(deployment::Column::Status.eq(DeploymentStatus::Succeeded))
        .filter(deployment::Column::IsRollback.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    let mut first: HashMap<i64, i64> = HashMap::new();
    for (release, at) in finished {
        if let Some(at) = at {
            let earliest = first.entry(release).or_insert(at);
            *earliest = (*earliest).min(at);
        }
    }
    Ok(first)
}

/// The dependencies of a release not yet met, as readiness blockers for `scope`.
pub async fn open_blockers(
    db: &impl ConnectionTrait,
    release_id: i64,
    scope: &Scope,
) -> ApiResult<Vec<String>> {
    let links = links(db, &[release_id], Direction::DependsOn).await?;
    Ok(links
        .get(&release_id)
        .into_iter()
        .flatten()
        .filter(|link| !link.met())
        .map(|link| link.blocker(scope))
        .collect())
}

/// The whole dependency graph, release → releases it depends on: cycles are checked over
/// every program, seen or not.
pub async fn graph(db: &impl ConnectionTrait) -> ApiResult<HashMap<i64, Vec<i64>>> {
    let edges: Vec<(i64, i64)> = release_dependency::Entity::find()
        .select_only()
        .column(release_dependency::Column::ReleaseId)
        .column(release_dependency::Column::DependsOnId)
        .into_tuple()
        .all(db)
        .await?;
    let mut graph: HashMap<i64, Vec<i64>> = HashMap::new();
    for (from, to) in edges {
        graph.entry(from).or_default().push(to);
    }
    Ok(graph)
}

/// A path `from` → … → `to` in `graph`, if any (both ends included).
pub fn path(graph: &HashMap<i64, Vec<i64>>, from: i64, to: i64) -> Option<Vec<i64>> {
    let mut came_from: HashMap<i64, i64> = HashMap::new();
    let mut stack = vec![from];
    let mut seen = HashSet::from([from]);
    while let Some(node) = stack.pop() {
        if node == to {
            let mut path = vec![to];
            let mut at = to;
            while let Some(previous) = came_from.get(&at) {
                path.push(*previous);
                at = *previous;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(&node).into_iter().flatten() {
            if seen.insert(*next) {
                came_from.insert(*next, node);
                stack.push(*next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_found_through_the_graph_and_named_end_to_end() {
        let graph = HashMap::from([(1, vec![2]), (2, vec![3, 4]), (4, vec![5])]);
        assert_eq!(path(&graph, 1, 5), Some(vec![1, 2, 4, 5]));
        assert_eq!(path(&graph, 5, 1), None);
        assert_eq!(path(&graph, 3, 3), Some(vec![3]));
    }
}
