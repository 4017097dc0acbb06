//! Each rule, through the deploy that meets it, over the in-memory store (whose clock moves a
//! second per write) and the fault wrapper where a rule reads or writes.

use jiff::{SignedDuration, Timestamp};

use super::approval::{ApprovalPlan, approve};
use super::hold;
use crate::error::Error;
use crate::log::RecordLog;
use crate::ops::deploy::{DeployPlan, ReleaseChoice, chosen_release, deploy};
use crate::ops::outcome::{AUTOMATED, MANUAL, Mode, Outcome};
use crate::record::approval::Approval;
use crate::record::fixtures::{self, env};
use crate::record::freeze::{FreezeRecord, FreezeSpec};
use crate::record::layout::GateRequirement;
use crate::record::{App, Environment, Record};
use crate::store::faults::{Fault, FaultKind, FaultyStore};
use crate::store::memory::MemoryStore;
use crate::store::{Operation, RecordStore, StoreErrorKind, Versioning};

fn app() -> App {
    fixtures::app("api", "releases")
}

fn environment(name: &str) -> Environment {
    Environment {
        place: app().deploys_to(&env(name), None, None).unwrap(),
        require_deployed_to: Vec::new(),
        require_approval: false,
        freeze: Vec::new(),
    }
}

fn release(version: u64) -> Record {
    Record {
        version,
        commit: format!("{version:0>40}"),
        author: Some("ada@example.com".into()),
        ..Record::default()
    }
}

/// A store holding releases 1 to `releases`.
fn store(releases: u64, faults: Vec<Fault>) -> FaultyStore<MemoryStore> {
    let memory = MemoryStore::default();
    memory.create_bucket("releases", Versioning::Enabled);
    for version in 1..=releases {
        memory.put_unconditionally(&app().releases, &release(version).to_json());
    }
    FaultyStore::new(memory, faults)
}

fn plan(version: u64, action_type: &'static str) -> DeployPlan {
    DeployPlan {
        release: ReleaseChoice::Number {
            version,
            commit: None,
        },
        checkout: None,
        allow_rollback: false,
        action_type,
        build: None,
        override_freeze: false,
    }
}

async fn deploy_to<S: RecordStore>(
    store: &S,
    environment: &Environment,
    plan: &DeployPlan,
) -> Result<Outcome, Error> {
    deploy(store, &app(), environment, plan, Mode::Write).await
}

fn deploys(store: &FaultyStore<MemoryStore>, environment: &Environment) -> usize {
    store.inner().versions(environment.deploys()).len()
}

#[tokio::test(start_paused = true)]
async fn a_release_must_soak_in_the_gate_environment_for_as_long_as_it_says() {
    let store = store(1, vec![]);
    let staging = environment("staging");
    let production = Environment {
        require_deployed_to: vec![GateRequirement {
            place: staging.place.clone(),
            // The store's clock moves a second per write: ten seconds is ten writes.
            soak: Some(SignedDuration::from_secs(10)),
        }],
        ..environment("production")
    };
    deploy_to(&store, &staging, &plan(1, AUTOMATED))
        .await
        .unwrap();
    let error = deploy_to(&store, &production, &plan(1, AUTOMATED))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("release 1 of api has run in \"staging\" for 0s of the 10s required (require_deployed_to: staging for 10s): 10s left"),
        "{error}"
    );
    assert_eq!(deploys(&store, &production), 0);
    // Time passes on the store (ten other writes).
    for _ in 0..10 {
        store
            .inner()
            .put_unconditionally(&fixtures::at("releases", "elsewhere"), b"{}");
    }
    let outcome = deploy_to(&store, &production, &plan(1, AUTOMATED))
        .await
        .unwrap();
    assert!(outcome.written);
    assert!(
        outcome.rules.iter().all(|verdict| verdict.passed),
        "{:?}",
        outcome.rules
    );
}

fn approving() -> Environment {
    Environment {
        require_approval: true,
        ..environment("production")
    }
}

async fn approval(
    store: &FaultyStore<MemoryStore>,
    version: u64,
    approver: &str,
) -> Result<(crate::record::Stored<Approval>, bool), Error> {
    let release = chosen_release(
        store,
        &app(),
        &ReleaseChoice::Number {
            version,
            commit: None,
        },
    )
    .await?;
    approve(
        store,
        &app(),
        &ApprovalPlan {
            release,
            environment: env("production"),
            approver: approver.into(),
            reason: Some("looks good".into()),
            aws_identity: Some("arn:aws:iam::1:user/grace".into()),
        },
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn a_release_needs_an_approval_by_someone_other_than_its_author() {
    let store = store(2, vec![]);
    let production = approving();
    let error = deploy_to(&store, &production, &plan(2, AUTOMATED))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "release 2 of api needs an approval to be deployed to \"production\" (require_approval), by someone other than its author ada@example.com: catapult approve api 2 production"
    );
    // Its author cannot approve it.
    let error = approval(&store, 2, "ada@example.com")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "ada@example.com is the author of release 2 of api, and no one approves their own release (require_approval): another person must approve it"
    );
    // Nor in capitals: an email address is one whatever its case.
    assert!(approval(&store, 2, "ADA@Example.com").await.is_err());
    // An approval of another release does not count.
    approval(&store, 1, "grace@example.com").await.unwrap();
    assert!(
        deploy_to(&store, &production, &plan(2, AUTOMATED))
            .await
            .is_err()
    );
    let (approved, written) = approval(&store, 2, "grace@example.com").await.unwrap();
    assert!(written);
    assert_eq!(
        approved.record.aws_identity.as_deref(),
        Some("arn:aws:iam::1:user/grace")
    );
    // Approving again writes nothing.
    let (_, again) = approval(&store, 2, "grace@example.com").await.unwrap();
    assert!(!again);
    let outcome = deploy_to(&store, &production, &plan(2, AUTOMATED))
        .await
        .unwrap();
    assert_eq!(
        outcome.record.approved_by.as_deref(),
        Some("grace@example.com")
    );
}

#[tokio::test(start_paused = true)]
async fn an_approval_of_a_release_that_does_not_exist_is_refused() {
    let store = store(1, vec![]);
    let error = approval(&store, 7, "grace@example.com")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(error, "there is no release 7 in s3://releases/api");
}

#[tokio::test(start_paused = true)]
async fn an_approval_put_by_hand_is_not_trusted() {
    let store = store(1, vec![]);
    let at = app().approvals(&env("production")).unwrap();
    let forged = Approval {
        version: 1,
        commit: format!("{:0>40}", 1),
        environment: "production".into(),
        approver: "grace@example.com".into(),
        timestamp: "2026-12-04T10:00:00Z".into(),
        write_id: Some("0123456789abcdef0123456789abcdef".into()),
        ..Approval::default()
    };
    // Written without catapult's write: its metadata does not name its write id.
    store
        .inner()
        .put_unconditionally(&at, &crate::record::Entry::to_json(&forged));
    let error = deploy_to(&store, &approving(), &plan(1, AUTOMATED))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs an approval"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn an_approval_whose_answer_was_lost_is_written_once() {
    // The approval's write is the first PutObject.
    let store = store(
        1,
        vec![Fault::on(
            Operation::Put,
            1,
            FaultKind::LoseAnswer(StoreErrorKind::Unavailable("HTTP 503".into())),
        )],
    );
    approval(&store, 1, "grace@example.com").await.unwrap();
    let at = app().approvals(&env("production")).unwrap();
    assert_eq!(store.inner().versions(&at).len(), 1);
    assert!(
        deploy_to(&store, &approving(), &plan(1, AUTOMATED))
            .await
            .is_ok()
    );
}

fn spec(json: serde_json::Value) -> crate::record::freeze::FreezeWindow {
    serde_json::from_value::<FreezeSpec>(json)
        .unwrap()
        .window("freeze[0]")
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_freeze_window_refuses_a_deploy_unless_overridden_and_the_override_is_recorded() {
    let store = store(1, vec![]);
    let now = store.inner().clock().unwrap();
    let frozen = Environment {
        freeze: vec![spec(serde_json::json!({
            "from": (now - SignedDuration::from_hours(1)).to_string(),
            "to": (now + SignedDuration::from_hours(1)).to_string(),
            "reason": "year-end close"
        }))],
        ..environment("production")
    };
    let error = deploy_to(&store, &frozen, &plan(1, AUTOMATED))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("\"production\" is frozen (freeze) by the freeze window from "),
        "{error}"
    );
    assert!(error.contains("(\"year-end close\") until "), "{error}");
    assert!(error.ends_with("deploy after it ends, or override it (params.override_freeze: true, or --override-freeze)"), "{error}");
    assert_eq!(deploys(&store, &frozen), 0);
    let outcome = deploy_to(
        &store,
        &frozen,
        &DeployPlan {
            override_freeze: true,
            ..plan(1, AUTOMATED)
        },
    )
    .await
    .unwrap();
    assert!(
        outcome
            .record
            .overrode_freeze
            .unwrap()
            .contains("year-end close")
    );
}

#[tokio::test(start_paused = true)]
async fn an_ad_hoc_freeze_holds_until_its_end_or_until_lifted() {
    let store = store(1, vec![]);
    let production = environment("production");
    let now = store.inner().clock().unwrap();
    super::freeze::set(
        &store,
        &app().freezes(&env("production")).unwrap(),
        FreezeRecord::freeze(
            "production",
            now + SignedDuration::from_hours(2),
            "incident 42",
            "grace@example.com",
            now,
        ),
    )
    .await
    .unwrap();
    let error = deploy_to(&store, &production, &plan(1, MANUAL))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("a freeze set by grace@example.com (\"incident 42\") until "),
        "{error}"
    );
    super::freeze::set(
        &store,
        &app().freezes(&env("production")).unwrap(),
        FreezeRecord::unfreeze("production", "grace@example.com", Timestamp::now()),
    )
    .await
    .unwrap();
    assert!(
        deploy_to(&store, &production, &plan(1, MANUAL))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn a_rollback_holds_the_environment_against_automated_deploys_of_newer_releases() {
    let store = store(3, vec![]);
    let production = environment("production");
    deploy_to(&store, &production, &plan(3, AUTOMATED))
        .await
        .unwrap();
    let rollback = deploy_to(
        &store,
        &production,
        &DeployPlan {
            allow_rollback: true,
            ..plan(1, AUTOMATED)
        },
    )
    .await
    .unwrap();
    assert_eq!(rollback.record.held_at, Some(1));
    // Auto-promotion of release 3 again: refused.
    let error = deploy_to(&store, &production, &plan(3, AUTOMATED))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "\"production\" is held at release 1 of api since a rollback (hold): an automated deploy of release 3 is refused; deploy it by hand (catapult deploy api production --version 3) or clear the hold (catapult release-hold api production --clear)"
    );
    // An automated redeploy of release 1 is no newer: allowed, and carries the hold.
    let redeploy = deploy_to(&store, &production, &plan(1, AUTOMATED))
        .await
        .unwrap();
    assert_eq!(redeploy.record.held_at, Some(1));
    assert!(
        deploy_to(&store, &production, &plan(2, AUTOMATED))
            .await
            .is_err()
    );
    // A person clears it; then the pipeline may promote again.
    let latest = RecordLog::new(&store, production.deploys())
        .records(Some(1))
        .await
        .unwrap();
    hold::clear(
        &store,
        &app(),
        &env("production"),
        latest.first(),
        ("grace@example.com", Some("fixed")),
    )
    .await
    .unwrap();
    let promoted = deploy_to(&store, &production, &plan(3, AUTOMATED))
        .await
        .unwrap();
    assert_eq!(promoted.record.held_at, None);
    // Clearing when nothing is held says so.
    let latest = RecordLog::new(&store, production.deploys())
        .records(Some(1))
        .await
        .unwrap();
    let error = hold::clear(
        &store,
        &app(),
        &env("production"),
        latest.first(),
        ("grace@example.com", None),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(error, "\"production\" is not held: nothing to clear");
}

#[tokio::test(start_paused = true)]
async fn a_deploy_by_hand_lifts_a_hold() {
    let store = store(3, vec![]);
    let production = environment("production");
    deploy_to(&store, &production, &plan(3, AUTOMATED))
        .await
        .unwrap();
    deploy_to(
        &store,
        &production,
        &DeployPlan {
            allow_rollback: true,
            ..plan(2, MANUAL)
        },
    )
    .await
    .unwrap();
    assert!(
        deploy_to(&store, &production, &plan(3, AUTOMATED))
            .await
            .is_err()
    );
    let by_hand = deploy_to(&store, &production, &plan(3, MANUAL))
        .await
        .unwrap();
    assert_eq!(by_hand.record.held_at, None);
    assert!(
        deploy_to(&store, &production, &plan(3, AUTOMATED))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_reports_every_rule_and_writes_nothing() {
    let store = store(1, vec![]);
    let production = Environment {
        require_deployed_to: vec![GateRequirement {
            place: environment("staging").place,
            soak: None,
        }],
        require_approval: true,
        ..environment("production")
    };
    let outcome = deploy(&store, &app(), &production, &plan(1, MANUAL), Mode::DryRun)
        .await
        .unwrap();
    let verdicts: Vec<(&str, bool)> = outcome
        .rules
        .iter()
        .map(|verdict| (verdict.rule, verdict.passed))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("require_deployed_to", false),
            ("require_approval", false),
            ("freeze", true),
            ("hold", true)
        ]
    );
    assert_eq!(store.calls(Operation::Put), 0);
}

#[tokio::test(start_paused = true)]
async fn the_board_shows_freezes_holds_and_releases_awaiting_approval() {
    use crate::ops::board::{NoCache, read_board};
    use crate::record::freeze::FreezeWindow;
    use crate::record::{EnvironmentLayout, Layout};
    let store = store(3, vec![]);
    let staging = environment("staging");
    let production = environment("production");
    // Production runs 3, then rolls back to 2 by hand: held at 2.
    deploy_to(&store, &staging, &plan(3, AUTOMATED))
        .await
        .unwrap();
    deploy_to(&store, &production, &plan(3, AUTOMATED))
        .await
        .unwrap();
    let mut back = plan(2, MANUAL);
    back.allow_rollback = true;
    deploy_to(&store, &production, &back).await.unwrap();
    let now = store.inner().clock().unwrap();
    let window = FreezeWindow::Fixed {
        from: now - SignedDuration::from_hours(1),
        to: now + SignedDuration::from_hours(1),
        reason: "year-end close".into(),
    };
    let declared =
        |name: &str, require_approval: bool, freeze: Vec<FreezeWindow>| EnvironmentLayout {
            name: env(name),
            deploy_bucket: None,
            deploy_key: None,
            require_deployed_to: vec![],
            require_approval,
            freeze,
        };
    let layout = Layout {
        releases_bucket: fixtures::bucket("releases"),
        environments: vec![
            declared("staging", false, vec![]),
            declared("production", true, vec![window]),
        ],
    };
    let board = read_board(&store, &layout, None, false, |_| true, &mut NoCache)
        .await
        .unwrap();
    let standing = super::standing::standing(&store, &layout, &board, now)
        .await
        .unwrap();
    assert_eq!(standing.frozen[0], None);
    assert!(
        standing.frozen[1]
            .as_deref()
            .unwrap()
            .contains("year-end close"),
        "{:?}",
        standing.frozen
    );
    let api = &standing.cells[0];
    assert_eq!(api[0], super::standing::CellStanding::default());
    assert_eq!(api[1].held_at, Some(2));
    assert_eq!(api[1].awaiting_approval, Some(3));
    // Approved by someone else: no longer waiting.
    let release = chosen_release(&store, &app(), &ReleaseChoice::Latest)
        .await
        .unwrap();
    approve(
        &store,
        &app(),
        &ApprovalPlan {
            release,
            environment: env("production"),
            approver: "grace@example.com".into(),
            reason: None,
            aws_identity: None,
        },
    )
    .await
    .unwrap();
    // The board read again lists the approvals key: the approval is read.
    let board = read_board(&store, &layout, None, false, |_| true, &mut NoCache)
        .await
        .unwrap();
    let standing = super::standing::standing(&store, &layout, &board, now)
        .await
        .unwrap();
    assert_eq!(standing.cells[0][1].awaiting_approval, None);
}

#[tokio::test(start_paused = true)]
async fn a_board_without_freezes_holds_or_approvals_costs_no_request_more() {
    use crate::ops::board::{NoCache, read_board};
    use crate::record::{EnvironmentLayout, Layout};
    let store = store(2, vec![]);
    deploy_to(&store, &environment("production"), &plan(1, AUTOMATED))
        .await
        .unwrap();
    let layout = Layout {
        releases_bucket: fixtures::bucket("releases"),
        environments: vec![EnvironmentLayout {
            name: env("production"),
            deploy_bucket: None,
            deploy_key: None,
            require_deployed_to: vec![],
            // Required, but no approval was ever written: nothing to read.
            require_approval: true,
            freeze: vec![],
        }],
    };
    let board = read_board(&store, &layout, None, false, |_| true, &mut NoCache)
        .await
        .unwrap();
    let before: u32 = [
        Operation::GetVersion,
        Operation::GetCurrent,
        Operation::ListVersions,
        Operation::ListKeys,
    ]
    .iter()
    .map(|operation| store.calls(*operation))
    .sum();
    let now = store.inner().clock().unwrap();
    let standing = super::standing::standing(&store, &layout, &board, now)
        .await
        .unwrap();
    let after: u32 = [
        Operation::GetVersion,
        Operation::GetCurrent,
        Operation::ListVersions,
        Operation::ListKeys,
    ]
    .iter()
    .map(|operation| store.calls(*operation))
    .sum();
    assert_eq!(after, before);
    assert_eq!(standing.cells[0][0].awaiting_approval, Some(2));
    assert_eq!(standing.frozen, [None]);
}
