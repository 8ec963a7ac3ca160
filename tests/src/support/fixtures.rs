//! A small hand-made organisation whose every figure is known.
//!
//! PAY (payments) and MOB (mobile), three environments, five releases, freeze windows
//! (one global, one per program) and incidents with and without a release.

use entity::enums::*;
use entity::release_party::PartyRole;
use entity::*;
use sea_orm::{ActiveModelTrait, DatabaseConnection, NotSet, Set};

/// Unix microseconds of an RFC 3339 time.
pub fn t(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_micros()
}

/// Ids of what the fixture made, for building global ids in tests.
pub struct Fixture {
    pub pay: program::Model,
    pub mob: program::Model,
    pub prod_eu: environment::Model,
    pub prod_us: environment::Model,
    /// PAY 2026.1.0: reviewed, with gates, approvals, deployments, an incident, an outcome.
    pub pay_january: release::Model,
    /// MOB 5.0.0: approved and ready.
    pub mob_spring: release::Model,
    pub pay_prod_deployment: deployment::Model,
    pub mob_incident: incident::Model,
    pub mob_freeze: freeze_window::Model,
    pub global_freeze: freeze_window::Model,
    pub pay_action: improvement_action::Model,
}

struct Loader<'a> {
    db: &'a DatabaseConnection,
}

impl Loader<'_> {
    async fn program(&self, key: &str, name: &str) -> program::Model {
        program::ActiveModel {
            id: NotSet,
            key: Set(key.into()),
            name: Set(name.into()),
            description: Set(Some(format!("{name} programme"))),
            owner: Set(Some("owner".into())),
            business_objective: Set(Some("Ship safely".into())),
            created_at: Set(t("2025-12-01T00:00:00Z")),
        }
        .insert(self.db)
        .await
        .unwrap()
    }

    async fn environment(&self, name: &str, tier: EnvironmentTier) -> environment::Model {
        environment::ActiveModel {
            id: NotSet,
            name: Set(name.into()),
            tier: Set(tier),
        }
        .insert(self.db)
        .await
        .unwrap()
    }

    #[allow(clippy::too_many_arguments, reason = "a release's columns")]
    async fn release(
        &self,
        program: &program::Model,
        version: &str,
        name: &str,
        description: Option<&str>,
        release_type: ReleaseType,
        status: ReleaseStatus,
        planned_end: Option<&str>,
        created_at: &str,
        rollback_plan: Option<&str>,
        teams: &[&str],
        suppliers: &[&str],
    ) -> release::Model {
        let release = release::ActiveModel {
            id: NotSet,
            program_id: Set(program.id),
            version: Set(version.into()),
            name: Set(name.into()),
            description: Set(description.map(Into::into)),
            release_type: Set(release_type),
            risk: Set(RiskLevel::Medium),
            strategy: Set(DeploymentStrategy::Canary),
            status: Set(status),
            owner: Set(Some("rm".into())),
            planned_start: Set(planned_end.map(|e| t(e) - 5 * 86_400_000_000)),
            planned_end: Set(planned_end.map(t)),
            rollback_plan: Set(rollback_plan.map(Into::into)),
            revision: Set(1),
            created_at: Set(t(created_at)),
            updated_at: Set(t(created_at) + 1_000_000),
            source_revision: NotSet,
        }
        .insert(self.db)
        .await
        .unwrap();
        for (role, names) in [(PartyRole::Team, teams), (PartyRole::Supplier, suppliers)] {
            for (position, name) in names.iter().enumerate() {
                release_party::ActiveModel {
                    id: NotSet,
                    release_id: Set(release.id),
                    role: Set(role),
                    name: Set((*name).into()),
                    position: Set(position as i32),
                }
                .insert(self.db)
                .await
                .unwrap();
            }
        }
        release_event::ActiveModel {
            id: NotSet,
            release_id: Set(release.id),
            kind: Set(ReleaseEventKind::Created),
            actor: Set("rm".into()),
            at: Set(t(created_at)),
            from_status: Set(None),
            to_status: Set(None),
            note: Set(None),
            overrode_freeze: Set(false),
        }
        .insert(self.db)
        .await
        .unwrap();
        release
    }

    async fn item(
        &self,
        release: &release::Model,
        title: &str,
        kind: ItemKind,
        reference: Option<&str>,
        committed: &str,
    ) {
        release_item::ActiveModel {
            id: NotSet,
            release_id: Set(release.id),
            title: Set(title.into()),
            kind: Set(kind),
            reference: Set(reference.map(Into::into)),
            committed_at: Set(Some(t(committed))),
        }
        .insert(self.db)
        .await
        .unwrap();
    }

    async fn gate(
        &self,
        release: &release::Model,
        name: &str,
        kind: GateKind,
        results: &[(GateStatus, &str)],
    ) {
        let gate = quality_gate::ActiveModel {
            id: NotSet,
            release_id: Set(release.id),
            name: Set(name.into()),
            kind: Set(kind),
            required: Set(true),
        }
        .insert(self.db)
        .await
        .unwrap();
        for (status, at) in results {
            gate_result::ActiveModel {
                id: NotSet,
                gate_id: Set(gate.id),
                status: Set(*status),
                evidence_url: Set(Some(format!("https://ci.example.com/{name}"))),
                note: Set(None),
                checked_at: Set(t(at)),
                checked_by: Set("ci".into()),
            }
            .insert(self.db)
            .await
            .unwrap();
        }
    }

    async fn approval(&self, release: &release::Model, decision: ApprovalDecision, at: &str) {
        approval::ActiveModel {
            id: NotSet,
            release_id: Set(release.id),
            approver: Set("cab".into()),
            decision: Set(decision),
            comment: Set(None),
            decided_at: Set(t(at)),
        }
        .insert(self.db)
        .await
        .unwrap();
    }

    #[allow(clippy::too_many_arguments, reason = "a deployment's columns")]
    async fn deployment(
        &self,
        release: &release::Model,
        environment: &environment::Model,
        status: DeploymentStatus,
        is_rollback: bool,
        started: &str,
        finished: Option<&str>,
    ) -> deployment::Model {
        deployment::ActiveModel {
            id: NotSet,
            release_id: Set(release.id),
            environment_id: Set(environment.id),
            status: Set(status),
            strategy: Set(DeploymentStrategy::Canary),
            stage: Set(Some("100%".into())),
            is_rollback: Set(is_rollback),
            started_at: Set(t(started)),
            finished_at: Set(finished.map(t)),
            external_id: NotSet,
            source_id: NotSet,
            last_event_at: NotSet,
        }
        .insert(self.db)
        .await
        .unwrap()
    }

    #[allow(clippy::too_many_arguments, reason = "an incident's columns")]
    async fn incident(
        &self,
        program: &program::Model,
        release: Option<&release::Model>,
        deployment: Option<&deployment::Model>,
        title: &str,
        caused_by_change: bool,
        opened: &str,
        resolved: Option<&str>,
    ) -> incident::Model {
        incident::ActiveModel {
            id: NotSet,
            program_id: Set(program.id),
            release_id: Set(release.map(|r| r.id)),
            deployment_id: Set(deployment.map(|d| d.id)),
            title: Set(title.into()),
            severity: Set(Severity::Sev2),
            caused_by_change: Set(caused_by_change),
            opened_at: Set(t(opened)),
            resolved_at: Set(resolved.map(t)),
            external_id: NotSet,
            source_id: NotSet,
            last_event_at: NotSet,
        }
        .insert(self.db)
        .await
        .unwrap()
    }

    async fn freeze(
        &self,
        name: &str,
        program: Option<&program::Model>,
        starts: &str,
        ends: &str,
    ) -> freeze_window::Model {
        freeze_window::ActiveModel {
            id: NotSet,
            name: Set(name.into()),
            reason: Set(Some("freeze".into())),
            starts_at: Set(t(starts)),
            ends_at: Set(t(ends)),
            program_id: Set(program.map(|p| p.id)),
        }
        .insert(self.db)
        .await
        .unwrap()
    }
}

impl Fixture {
    pub async fn load(db: &DatabaseConnection) -> Self {
        let l = Loader { db };
        let pay = l.program("PAY", "Payments").await;
        let mob = l.program("MOB", "Mobile").await;
        let staging = l.environment("staging", EnvironmentTier::Staging).await;
        let prod_eu = l.environment("prod-eu", EnvironmentTier::Production).await;
        let prod_us = l.environment("prod-us", EnvironmentTier::Production).await;

        let pay_january = l
            .release(
                &pay,
                "2026.1.0",
                "January payments",
                Some("Refunds and fixes"),
                ReleaseType::Minor,
                ReleaseStatus::Reviewed,
                Some("2026-01-20T10:00:00Z"),
                "2026-01-01T09:00:00Z",
                Some("Redeploy 2025.12.0"),
                &["payments-core", "risk"],
                &[],
            )
            .await;
        l.item(
            &pay_january,
            "Instant refunds",
            ItemKind::Feature,
            Some("PAY-1"),
            "2026-01-15T10:00:00Z",
        )
        .await;
        l.item(
            &pay_january,
            "Fix rounding",
            ItemKind::Fix,
            Some("PAY-2"),
            "2026-01-16T10:00:00Z",
        )
        .await;
        l.gate(
            &pay_january,
            "unit-tests",
            GateKind::UnitTest,
            &[
                (GateStatus::Failed, "2026-01-18T10:00:00Z"),
                (GateStatus::Passed, "2026-01-19T10:00:00Z"),
            ],
        )
        .await;
        l.gate(
            &pay_january,
            "security-scan",
            GateKind::SecurityScan,
            &[(GateStatus::Passed, "2026-01-18T11:00:00Z")],
        )
        .await;
        l.approval(&pay_january, ApprovalDecision::NoGo, "2026-01-18T12:00:00Z")
            .await;
        l.approval(&pay_january, ApprovalDecision::Go, "2026-01-19T12:00:00Z")
            .await;
        l.deployment(
            &pay_january,
            &staging,
            DeploymentStatus::Succeeded,
            false,
            "2026-01-20T08:00:00Z",
            Some("2026-01-20T08:30:00Z"),
        )
        .await;
        let pay_prod_deployment = l
            .deployment(
                &pay_january,
                &prod_eu,
                DeploymentStatus::Succeeded,
                false,
                "2026-01-20T10:00:00Z",
                Some("2026-01-20T10:30:00Z"),
            )
            .await;
        l.deployment(
            &pay_january,
            &prod_us,
            DeploymentStatus::Succeeded,
            false,
            "2026-01-21T09:00:00Z",
            Some("2026-01-21T09:20:00Z"),
        )
        .await;
        l.incident(
            &pay,
            Some(&pay_january),
            Some(&pay_prod_deployment),
            "Refund errors",
            true,
            "2026-01-21T12:00:00Z",
            Some("2026-01-21T15:00:00Z"),
        )
        .await;
        l.incident(
            &pay,
            None,
            None,
            "Provider outage",
            false,
            "2026-02-01T00:00:00Z",
            None,
        )
        .await;
        outcome::ActiveModel {
            id: NotSet,
            release_id: Set(pay_january.id),
            result: Set(OutcomeResult::SuccessfulWithIssues),
            objectives_met: Set(true),
            defects_escaped: Set(1),
            customer_impact: Set(Some("Some refunds failed".into())),
            summary: Set("Shipped; refunds failed for three hours".into()),
            lessons_learned: Set(Some("Alert on refund errors".into())),
            reviewed_at: Set(t("2026-01-25T10:00:00Z")),
            reviewed_by: Set("rm".into()),
        }
        .insert(db)
        .await
        .unwrap();
        let pay_action = improvement_action::ActiveModel {
            id: NotSet,
            release_id: Set(pay_january.id),
            title: Set("Add a refund error alert".into()),
            owner: Set(Some("sre".into())),
            due_date: Set(chrono::NaiveDate::from_ymd_opt(2026, 2, 15)),
            status: Set(ActionStatus::Open),
            created_at: Set(t("2026-01-25T11:00:00Z")),
            closed_at: Set(None),
            target: Set(None),
            effective_at: Set(None),
        }
        .insert(db)
        .await
        .unwrap();

        let pay_hotfix = l
            .release(
                &pay,
                "2026.2.0",
                "February payments hotfix",
                None,
                ReleaseType::Emergency,
                ReleaseStatus::Deploying,
                Some("2026-02-10T10:00:00Z"),
                "2026-02-09T09:00:00Z",
                None,
                &["payments-core"],
                &[],
            )
            .await;
        l.deployment(
            &pay_hotfix,
            &prod_eu,
            DeploymentStatus::InProgress,
            false,
            "2026-02-10T10:00:00Z",
            None,
        )
        .await;

        l.release(
            &pay,
            "2026.3.0",
            "Checkout revamp",
            Some("Adds a 100% new checkout_flow"),
            ReleaseType::Major,
            ReleaseStatus::Planned,
            None,
            "2026-02-15T09:00:00Z",
            None,
            &["checkout"],
            &[],
        )
        .await;

        let mob_spring = l
            .release(
                &mob,
                "5.0.0",
                "Spring app",
                None,
                ReleaseType::Minor,
                ReleaseStatus::Approved,
                Some("2026-03-01T10:00:00Z"),
                "2026-01-05T09:00:00Z",
                Some("Halt the staged rollout"),
                &["mobile-ios"],
                &["Brightlane QA"],
            )
            .await;
        l.gate(
            &mob_spring,
            "unit-tests",
            GateKind::UnitTest,
            &[(GateStatus::Passed, "2026-02-20T10:00:00Z")],
        )
        .await;
        l.approval(&mob_spring, ApprovalDecision::Go, "2026-02-21T10:00:00Z")
            .await;

        let mob_summer = l
            .release(
                &mob,
                "5.1.0",
                "Summer app",
                None,
                ReleaseType::Minor,
                ReleaseStatus::RolledBack,
                Some("2026-06-01T10:00:00Z"),
                "2026-04-01T09:00:00Z",
                Some("Halt the staged rollout"),
                &["mobile-android"],
                &[],
            )
            .await;
        l.deployment(
            &mob_summer,
            &prod_eu,
            DeploymentStatus::RolledBack,
            false,
            "2026-06-01T10:00:00Z",
            Some("2026-06-01T11:00:00Z"),
        )
        .await;
        l.deployment(
            &mob_summer,
            &prod_eu,
            DeploymentStatus::Succeeded,
            true,
            "2026-06-01T12:00:00Z",
            Some("2026-06-01T12:30:00Z"),
        )
        .await;
        let mob_incident = l
            .incident(
                &mob,
                Some(&mob_summer),
                None,
                "Crash on start",
                true,
                "2026-06-01T13:00:00Z",
                Some("2026-06-02T13:00:00Z"),
            )
            .await;

        let global_freeze = l
            .freeze(
                "Year-end",
                None,
                "2025-12-20T00:00:00Z",
                "2026-01-03T00:00:00Z",
            )
            .await;
        let mob_freeze = l
            .freeze(
                "App store freeze",
                Some(&mob),
                "2026-02-25T00:00:00Z",
                "2026-03-02T00:00:00Z",
            )
            .await;
        l.freeze(
            "Black Friday",
            Some(&pay),
            "2026-11-20T00:00:00Z",
            "2026-11-30T00:00:00Z",
        )
        .await;

        Self {
            pay,
            mob,
            prod_eu,
            prod_us,
            pay_january,
            mob_spring,
            pay_prod_deployment,
            mob_incident,
            mob_freeze,
            global_freeze,
            pay_action,
        }
    }
}
