//! Release dependencies (communication.md): a release may only go to production after the
//! releases it depends on, in any program. Each change is a `DEPENDENCY_CHANGED` event on
//! the dependent release, through the unit of work.

use std::collections::HashMap;

use entity::enums::{ReleaseEventKind, ReleaseStatus};
use entity::{release, release_dependency};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, NotSet, QueryFilter,
    QuerySelect, Set,
};

use super::work::Work;
use super::{Change, EventDetail};
use crate::auth::{Role, Scope, Viewer};
use crate::domain::lifecycle::check_writable;
use crate::domain::validate::Text;
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::queries::dependencies::{self, HIDDEN, Link};
use crate::queries::{OrNotFound, Visible};
use crate::time;

/// An advisory lock key that serialises dependency additions on PostgreSQL: two additions
/// that each close half of a cycle must not both pass the check. (SQLite has one writer.)
const GRAPH_LOCK: i64 = 0x0072_656c_6d64_6570;

/// `addReleaseDependency`.
#[derive(Debug, Clone)]
pub struct NewDependency {
    pub release_id: i64,
    pub depends_on_id: i64,
    pub note: Option<Text>,
    pub expected_revision: Option<i32>,
}

/// `removeReleaseDependency`.
#[derive(Debug, Clone)]
pub struct Removal {
    pub release_id: i64,
    pub depends_on_id: i64,
    pub expected_revision: Option<i32>,
}

pub async fn add(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewDependency,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [GRAPH_LOCK.into()],
        ))
        .await?;
    }
    let other = Visible::new(txn, viewer)
        .release(input.depends_on_id)
        .await?
        .or_not_found("release")?;
    let mut work = Work::new(txn, viewer);
    let release = work.lock(input.release_id, input.expected_revision).await?;
    check_writable(release.status)?;
    if release.id == other.id {
        return Err(ApiError::bad_input(
            "dependsOnId",
            "a release cannot depend on itself",
        ));
    }
    let name = names(txn, &[other.id], &viewer.scope).await?;
    let other_name = name.get(&other.id).cloned().unwrap_or_default();
    if other.status == ReleaseStatus::Cancelled {
        return Err(ApiError::bad_input(
            "dependsOnId",
            format!("{other_name} is CANCELLED"),
        ));
    }
    let graph = dependencies::graph(txn).await?;
    if graph
        .get(&release.id)
        .is_some_and(|to| to.contains(&other.id))
    {
        return Err(ApiError::bad_input(
            "dependsOnId",
            format!("the release already depends on {other_name}"),
        ));
    }
    if let Some(path) = dependencies::path(&graph, other.id, release.id) {
        let mut cycle = vec![release.id];
        cycle.extend(path);
        let names = names(txn, &cycle, &viewer.scope).await?;
        let named: Vec<&str> = cycle
            .iter()
            .map(|id| names.get(id).map_or(HIDDEN, String::as_str))
            .collect();
        return Err(ApiError::bad_input(
            "dependsOnId",
            format!("this would close a cycle: {}", named.join(" → ")),
        ));
    }
    release_dependency::ActiveModel {
        id: NotSet,
        release_id: Set(release.id),
        depends_on_id: Set(other.id),
        note: Set(input.note.clone().map(String::from)),
        created_by: Set(viewer.subject.clone()),
        created_at: Set(time::now_micros()),
    }
    .insert(txn)
    .await?;
    let note = event_note("added", other.id, input.note.as_deref());
    work.finish(
        &release,
        ReleaseEventKind::DependencyChanged,
        EventDetail::default().with_note(Some(note)),
    )
    .await?;
    work.into_change(release)
}

pub async fn remove(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &Removal,
) -> ApiResult<Change<release::Model>> {
    viewer.require(Role::ReleaseManager)?;
    let other = Visible::new(txn, viewer)
        .release(input.depends_on_id)
        .await?
        .or_not_found("release")?;
    let mut work = Work::new(txn, viewer);
    let release = work.lock(input.release_id, input.expected_revision).await?;
    check_writable(release.status)?;
    let removed = release_dependency::Entity::delete_many()
        .filter(release_dependency::Column::ReleaseId.eq(release.id))
        .filter(release_dependency::Column::DependsOnId.eq(other.id))
        .exec(txn)
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(ApiError::NotFound(
            "the release does not depend on that release".into(),
        ));
    }
    let note = event_note("removed", other.id, None);
    work.finish(
        &release,
        ReleaseEventKind::DependencyChanged,
        EventDetail::default().with_note(Some(note)),
    )
    .await?;
    work.into_change(release)
}

/// `added <global id>` or `removed <global id>`, then `: <note>` when one was given.
fn event_note(what: &str, other: i64, note: Option<&str>) -> String {
    let id = ids::encode(NodeType::Release, other);
    match note {
        Some(note) => format!("{what} {id}: {note}"),
        None => format!("{what} {id}"),
    }
}

/// `PAY 2.1` for each of `ids` the scope holds; the others are left out (named [`HIDDEN`]).
async fn names(
    db: &impl ConnectionTrait,
    ids: &[i64],
    scope: &Scope,
) -> ApiResult<HashMap<i64, String>> {
    let releases: Vec<(i64, i64, String)> = release::Entity::find()
        .select_only()
        .column(release::Column::Id)
        .column(release::Column::ProgramId)
        .column(release::Column::Version)
        .filter(release::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let keys = crate::queries::program_keys(db, releases.iter().map(|r| r.1)).await?;
    Ok(releases
        .into_iter()
        .filter(|(_, program, _)| scope.contains(*program))
        .map(|(id, program, version)| {
            let key = keys.get(&program).map_or("", String::as_str);
            (id, format!("{key} {version}"))
        })
        .collect())
}

/// Refuses a move to production while a dependency is not met: INVALID_TRANSITION naming
/// them (a hidden one as [`HIDDEN`]).
pub async fn check_met(
    db: &impl ConnectionTrait,
    release: &release::Model,
    scope: &Scope,
) -> ApiResult<()> {
    let links = dependencies::links(db, &[release.id], dependencies::Direction::DependsOn).await?;
    let open: Vec<String> = links
        .get(&release.id)
        .into_iter()
        .flatten()
        .filter(|link| !link.met())
        .map(|link: &Link| {
            let name = link.name_for(scope);
            if name == HIDDEN {
                name
            } else {
                format!("{name} ({})", link.other.status.as_str())
            }
        })
        .collect();
    if open.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidTransition(format!(
            "the release depends on releases not yet in production: {}",
            open.join(", ")
        )))
    }
}
