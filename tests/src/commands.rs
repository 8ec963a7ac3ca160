//! Commands called from Rust with plain values, as a webhook ingester or a script would:
//! numeric ids, Unix-microsecond timestamps, the stored enums, no GraphQL anywhere.

use api::auth::{Role, Scope, Viewer};
use api::commands::deployment::{Completion, NewDeployment};
use api::commands::incident::NewIncident;
use api::commands::release::{NewRelease, ReleaseChanges, Transition};
use api::commands::review::ActionChanges;
use api::commands::{Patch, deployment, incident, release, review};
use api::domain::validate::{Name, Names, Text};
use api::error::ApiError;
use api::events::EventBus;
use api::relm_command;
use entity::enums::{
    DeploymentStatus, DeploymentStrategy, ReleaseStatus, ReleaseType, RiskLevel, Severity,
};
use entity::release_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::support::TestApp;
use crate::support::fixtures::t;

fn name(value: &str) -> Name {
    Name::parse("name", value).unwrap()
}

fn manager(subject: &str, scope: Scope) -> Viewer {
    Viewer {
        subject: subject.into(),
        role: Role::ReleaseManager,
        program_keys: None,
        scope,
        expires_at: None,
    }
}

#[tokio::test]
async fn a_webhook_style_caller_deploys_a_release_with_plain_values() {
    let (app, f) = TestApp::with_fixture().await;
    let bus = EventBus::new(app.db.get_database_backend());
    let ingester = manager("ingest:github", Scope::All);

    let moved = relm_command!(
        &app.db,
        &bus,
        &ingester,
        release::transition,
        Transition {
            release_id: f.mob_spring.id,
            to: ReleaseStatus::Deploying,
            note: None,
            expected_revision: None,
            override_freeze: false,
        }
    )
    .unwrap();
    assert_eq!(moved.status, ReleaseStatus::Deploying);

    let recorded = relm_command!(
        &app.db,
        &bus,
        &ingester,
        deployment::record,
        NewDeployment {
            release_id: f.mob_spring.id,
            environment: "prod-eu".into(),
            status: DeploymentStatus::InProgress,
            strategy: Some(DeploymentStrategy::Canary),
            stage: Some(name("5%")),
            started_at: t("2026-03-10T10:00:00Z"),
            finished_at: None,
            origin: None,
            note: None,
        }
    )
    .unwrap();
    assert_eq!(recorded.strategy, DeploymentStrategy::Canary);
    let finished = relm_command!(
        &app.db,
        &bus,
        &ingester,
        deployment::complete,
        Completion {
            deployment_id: recorded.id,
            status: DeploymentStatus::Succeeded,
            finished_at: t("2026-03-10T10:30:00Z"),
            note: None,
        }
    )
    .unwrap();
    assert_eq!(finished.finished_at, Some(t("2026-03-10T10:30:00Z")));

    let release = entity::release::Entity::find_by_id(f.mob_spring.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(release.status, ReleaseStatus::Deployed);
    let events = release_event::Entity::find()
        .filter(release_event::Column::ReleaseId.eq(release.id))
        .filter(release_event::Column::Actor.eq("ingest:github"))
        .order_by_asc(release_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let statuses: Vec<_> = events
        .iter()
        .map(|e| (e.from_status, e.to_status))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                Some(ReleaseStatus::Approved),
                Some(ReleaseStatus::Deploying)
            ),
            (None, None),
            (
                Some(ReleaseStatus::Deploying),
                Some(ReleaseStatus::Deployed)
            ),
        ]
    );
}

#[tokio::test]
async fn commands_apply_the_lifecycle_rules_to_plain_input() {
    let (app, f) = TestApp::with_fixture().await;
    let bus = EventBus::new(app.db.get_database_backend());
    let admin = manager("script", Scope::All);
    let created = relm_command!(
        &app.db,
        &bus,
        &admin,
        release::create,
        NewRelease {
            program_key: "PAY".into(),
            version: name("2026.9.0"),
            name: name("September"),
            description: Some(Text::parse("description", "Autumn work").unwrap()),
            release_type: ReleaseType::Minor,
            risk: RiskLevel::Low,
            strategy: DeploymentStrategy::Pilot,
            owner: Some(name("ana")),
            teams: Names::parse("teams", &["payments-core".to_owned()]).unwrap(),
            suppliers: Names::default(),
            planned_start: Some(t("2026-09-01T00:00:00Z")),
            planned_end: Some(t("2026-09-15T00:00:00Z")),
            rollback_plan: None,
            source_revision: None,
        }
    )
    .unwrap();
    assert_eq!(
        (created.status, created.revision),
        (ReleaseStatus::Planned, 1)
    );

    // A skipped step of the lifecycle is refused and changes nothing.
    let skipped = relm_command!(
        &app.db,
        &bus,
        &admin,
        release::transition,
        Transition {
            release_id: created.id,
            to: ReleaseStatus::Deployed,
            note: None,
            expected_revision: None,
            override_freeze: false,
        }
    );
    assert!(
        matches!(skipped, Err(ApiError::InvalidTransition(_))),
        "{skipped:?}"
    );

    // Patch: Clear clears, Keep keeps, Set sets.
    let changed = relm_command!(
        &app.db,
        &bus,
        &admin,
        release::update,
        ReleaseChanges {
            release_id: created.id,
            expected_revision: 1,
            owner: Patch::Clear,
            planned_end: Patch::Set(t("2026-09-20T00:00:00Z")),
            ..ReleaseChanges::default()
        }
    )
    .unwrap();
    assert_eq!(changed.owner, None);
    assert_eq!(changed.description.as_deref(), Some("Autumn work"));
    assert_eq!(changed.planned_end, Some(t("2026-09-20T00:00:00Z")));
    assert_eq!(changed.revision, 2);

    // A stale revision is a conflict.
    let stale = relm_command!(
        &app.db,
        &bus,
        &admin,
        release::update,
        ReleaseChanges {
            release_id: created.id,
            expected_revision: 1,
            name: Some(name("Late")),
            ..ReleaseChanges::default()
        }
    );
    assert!(matches!(stale, Err(ApiError::Conflict(_))), "{stale:?}");

    // Deploying into the program's freeze window is refused.
    let frozen = relm_command!(
        &app.db,
        &bus,
        &admin,
        deployment::record,
        NewDeployment {
            release_id: f.mob_spring.id,
            environment: "prod-eu".into(),
            status: DeploymentStatus::Succeeded,
            strategy: None,
            stage: None,
            started_at: t("2026-02-26T10:00:00Z"),
            finished_at: Some(t("2026-02-26T11:00:00Z")),
            origin: None,
            note: None,
        }
    );
    assert!(
        matches!(frozen, Err(ApiError::FreezeConflict(_))),
        "{frozen:?}"
    );
}

/// What a caller of MOB gets for PAY's things equals what it gets for ids that do not
/// exist: the same error, word for word.
#[tokio::test]
async fn another_programs_things_are_not_found_like_missing_ones() {
    let (app, f) = TestApp::with_fixture().await;
    let bus = EventBus::new(app.db.get_database_backend());
    let mob = manager("mob-manager", Scope::Programs(vec![f.mob.id]));
    let missing = 999_999;

    let action = |action_id| ActionChanges {
        action_id,
        owner: Patch::Set(name("someone")),
        ..ActionChanges::default()
    };
    let hidden = relm_command!(
        &app.db,
        &bus,
        &mob,
        review::update_action,
        action(f.pay_action.id)
    );
    let absent = relm_command!(&app.db, &bus, &mob, review::update_action, action(missing));
    assert_eq!(
        hidden.unwrap_err().to_string(),
        absent.unwrap_err().to_string()
    );

    let incident = |deployment_id| NewIncident {
        program_key: None,
        release_id: None,
        deployment_id: Some(deployment_id),
        title: name("Checkout errors"),
        severity: Severity::Sev2,
        caused_by_change: true,
        opened_at: t("2026-06-01T10:00:00Z"),
        resolved_at: None,
        origin: None,
        note: None,
    };
    let hidden = relm_command!(
        &app.db,
        &bus,
        &mob,
        incident::record,
        incident(f.pay_prod_deployment.id)
    );
    let absent = relm_command!(&app.db, &bus, &mob, incident::record, incident(missing));
    let (hidden, absent) = (hidden.unwrap_err(), absent.unwrap_err());
    assert!(matches!(hidden, ApiError::NotFound(_)), "{hidden:?}");
    assert_eq!(hidden.to_string(), absent.to_string());
}

#[tokio::test]
async fn a_unit_of_work_locks_each_release_once_and_records_one_event_for_it() {
    use api::commands::EventDetail;
    use api::commands::work::Work;
    use entity::enums::ReleaseEventKind;
    use sea_orm::TransactionTrait;

    let (app, f) = TestApp::with_fixture().await;
    let viewer = manager("tester", Scope::All);
    let txn = app.db.begin().await.unwrap();
    let mut work = Work::new(&txn, &viewer);
    let first = work.lock(f.mob_spring.id, None).await.unwrap();
    assert_eq!(first.revision, f.mob_spring.revision + 1);
    let again = work.lock(f.mob_spring.id, None).await.unwrap();
    assert_eq!(
        again.revision, first.revision,
        "a second lock is the first one"
    );
    // A release changed without its event cannot make a change.
    let forgotten = work.into_change(()).err().unwrap();
    assert_eq!(forgotten.code(), "INTERNAL");

    let mut work = Work::new(&txn, &viewer);
    let release = work.lock(f.pay_january.id, None).await.unwrap();
    let kind = ReleaseEventKind::Updated;
    work.finish(&release, kind, EventDetail::default())
        .await
        .unwrap();
    let twice = work.finish(&release, kind, EventDetail::default()).await;
    assert_eq!(
        twice.err().map(|e| e.code()),
        Some("INTERNAL"),
        "one event per release"
    );
    let change = work.into_change(()).unwrap();
    assert_eq!(change.events.len(), 1);
    txn.rollback().await.unwrap();
}
