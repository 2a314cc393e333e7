//! Recorded event sequences: what the engine emits for realistic runs, fixed once, so every printer is
//! tested against the same input and its golden output (`tests/fixtures/printers/`).

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};

use crate::event::{
    AbandonReason, ApplyOutcome, DeletionOutcome, DryRun, Event, InventoryAction, ObjectError, Plan,
    PruneOutcome, SkipReason, Summary, WaitOutcome,
};
use crate::kstatus::StatusResult;
use crate::object::ObjRef;

use super::json::Clock;

pub fn namespace() -> ObjRef {
    ObjRef::new("", "Namespace", None, "prod")
}
pub fn app_config() -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("prod"), "app-config")
}
pub fn db_credentials() -> ObjRef {
    ObjRef::new("", "Secret", Some("prod"), "db-credentials")
}
pub fn api_service() -> ObjRef {
    ObjRef::new("", "Service", Some("prod"), "api")
}
pub fn db() -> ObjRef {
    ObjRef::new("apps", "Deployment", Some("prod"), "db")
}
pub fn migrate() -> ObjRef {
    ObjRef::new("batch", "Job", Some("prod"), "migrate")
}
pub fn web_tls() -> ObjRef {
    ObjRef::new("cert-manager.io", "Certificate", Some("prod"), "web-tls")
}
pub fn api() -> ObjRef {
    ObjRef::new("apps", "Deployment", Some("prod"), "api")
}
pub fn old_config() -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("prod"), "old-config")
}
pub fn legacy_token() -> ObjRef {
    ObjRef::new("", "Secret", Some("prod"), "legacy-token")
}
pub fn audit_policy() -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("prod"), "audit-policy")
}
pub fn inventory() -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("prod"), "inventory-12345678")
}

pub fn db_starting() -> StatusResult {
    StatusResult::in_progress("LessReplicas", "Available: 0/1")
}

pub fn db_still_starting() -> StatusResult {
    StatusResult::in_progress("LessReplicas", "Ready: 0/1 (pod db-7d9c-x2 ImagePullBackOff)")
}

pub fn migrate_failed() -> StatusResult {
    StatusResult::failed("JobFailed", "Job has reached the specified backoff limit")
}

/// A real apply: the namespace first; a configure, an unchanged Secret, creates; a Certificate whose CRD
/// is missing (with a hint); a Deployment that times out and the Deployment that depends on it,
/// skipped; a Job that fails; then three prune candidates: pruned, owned elsewhere, kept.
pub fn apply_run() -> Vec<Event> {
    let mut events = vec![
        Event::Plan(Plan::for_apply(
            vec![
                vec![namespace()],
                vec![app_config(), db_credentials(), api_service(), db(), migrate(), web_tls()],
                vec![api()],
            ],
            vec![old_config(), legacy_token(), audit_policy()],
            DryRun::None,
        )),
        Event::Inventory { inventory: inventory(), action: InventoryAction::Updated, objects: 11 },
        Event::Apply { obj: namespace(), outcome: ApplyOutcome::Created },
        Event::Status { obj: namespace(), status: StatusResult::current("Resource is current") },
        Event::Reconciled { obj: namespace(), outcome: WaitOutcome::Current },
        Event::Apply { obj: app_config(), outcome: ApplyOutcome::Configured },
        Event::Apply { obj: db_credentials(), outcome: ApplyOutcome::Unchanged },
        Event::Apply { obj: api_service(), outcome: ApplyOutcome::Created },
        Event::Warning {
            obj: Some(db()),
            message: "spec.template.spec.containers[0].resources: no limits set".into(),
        },
        Event::Apply { obj: db(), outcome: ApplyOutcome::Created },
        Event::Apply { obj: migrate(), outcome: ApplyOutcome::Created },
        Event::Apply {
            obj: web_tls(),
            outcome: ApplyOutcome::Failed(
                ObjectError::new(r#"no matches for kind "Certificate" in group "cert-manager.io""#)
                    .with_hint("apply the CustomResourceDefinition first, or add it to the set"),
            ),
        },
        Event::Reconciled { obj: app_config(), outcome: WaitOutcome::Current },
        Event::Reconciled { obj: db_credentials(), outcome: WaitOutcome::Current },
        Event::Status { obj: db(), status: db_starting() },
        Event::Status {
            obj: migrate(),
            status: StatusResult::in_progress("JobInProgress", "Job in progress"),
        },
        Event::Reconciled { obj: api_service(), outcome: WaitOutcome::Current },
        Event::Status { obj: migrate(), status: migrate_failed() },
        Event::Reconciled { obj: migrate(), outcome: WaitOutcome::Failed(migrate_failed()) },
        Event::Status { obj: db(), status: db_still_starting() },
        Event::Reconciled { obj: db(), outcome: WaitOutcome::Timeout(db_still_starting()) },
        Event::Apply { obj: api(), outcome: ApplyOutcome::Skipped(SkipReason::DependencyTimedOut(db())) },
        Event::Prune { obj: old_config(), outcome: PruneOutcome::Deleted },
        Event::Prune {
            obj: legacy_token(),
            outcome: PruneOutcome::Skipped(SkipReason::OwnedByAnotherInventory("team-b".into())),
        },
        Event::Prune { obj: audit_policy(), outcome: PruneOutcome::Abandoned(AbandonReason::OnRemoveKeep) },
        Event::Status {
            obj: old_config(),
            status: StatusResult::terminating("Resource scheduled for deletion"),
        },
        Event::Deleted { obj: old_config(), outcome: DeletionOutcome::Gone },
        Event::Inventory { inventory: inventory(), action: InventoryAction::Updated, objects: 9 },
    ];
    events.push(Event::Summary(Summary::from_events(&events)));
    events
}

/// A server-side preview: applies and prunes, no waits, no inventory writes.
pub fn preview_run() -> Vec<Event> {
    let mut events = vec![
        Event::Plan(Plan::for_apply(
            vec![vec![namespace()], vec![app_config()]],
            vec![old_config()],
            DryRun::Server,
        )),
        Event::Apply { obj: namespace(), outcome: ApplyOutcome::Unchanged },
        Event::Apply { obj: app_config(), outcome: ApplyOutcome::Configured },
        Event::Prune { obj: old_config(), outcome: PruneOutcome::Deleted },
    ];
    events.push(Event::Summary(Summary::from_events(&events)));
    events
}

/// A destroy: one object deleted and gone, one stuck Terminating, one skipped; the inventory keeps the
/// two that remain.
pub fn destroy_run() -> Vec<Event> {
    let stuck = StatusResult::terminating("Resource scheduled for deletion");
    let mut events = vec![
        Event::Plan(Plan::for_destroy(vec![api(), app_config(), namespace()], DryRun::None)),
        Event::Delete { obj: api(), outcome: PruneOutcome::Deleted },
        Event::Delete { obj: app_config(), outcome: PruneOutcome::Deleted },
        Event::Deleted { obj: api(), outcome: DeletionOutcome::Gone },
        Event::Status { obj: app_config(), status: stuck.clone() },
        Event::Deleted { obj: app_config(), outcome: DeletionOutcome::Timeout(stuck) },
        Event::Delete { obj: namespace(), outcome: PruneOutcome::Skipped(SkipReason::NamespaceInUse) },
        Event::Inventory { inventory: inventory(), action: InventoryAction::Updated, objects: 2 },
    ];
    events.push(Event::Summary(Summary::from_events(&events)));
    events
}

/// A clock that starts at 2024-06-01T12:00:00Z and ticks 250 ms per call.
pub fn fixed_clock() -> Clock {
    let mut now: Timestamp = "2024-06-01T12:00:00Z".parse().expect("a valid timestamp");
    Box::new(move || {
        let current = now;
        now = now.checked_add(SignedDuration::from_millis(250)).expect("in range");
        current
    })
}

/// Compares `actual` with `tests/fixtures/printers/<name>`; with `KAPPLY_BLESS=1`, rewrites the file.
pub fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/printers").join(name);
    if std::env::var_os("KAPPLY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the fixture directory");
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (run with KAPPLY_BLESS=1 to create it)", path.display()));
    if expected != actual {
        panic!(
            "{} differs (run with KAPPLY_BLESS=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}
