//! Unit tests of the event module: the summary fold, outcomes, the plan and the order check.

use super::*;

fn cm(name: &str) -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("default"), name)
}

fn deploy(name: &str) -> ObjRef {
    ObjRef::new("apps", "Deployment", Some("default"), name)
}

fn apply(obj: ObjRef, outcome: ApplyOutcome) -> Event {
    Event::Apply { obj, outcome }
}

fn reconciled(obj: ObjRef, outcome: WaitOutcome) -> Event {
    Event::Reconciled { obj, outcome }
}

#[test]
fn the_builder_counts_every_apply_outcome() {
    let events = [
        apply(cm("a"), ApplyOutcome::Created),
        apply(cm("b"), ApplyOutcome::Created),
        apply(cm("c"), ApplyOutcome::Configured),
        apply(cm("d"), ApplyOutcome::Unchanged),
        apply(cm("e"), ApplyOutcome::Failed(ObjectError::new("forbidden"))),
        apply(cm("f"), ApplyOutcome::Skipped(SkipReason::DependencyFailed(cm("e")))),
    ];
    let summary = Summary::from_events(&events);
    assert_eq!(summary.apply, ApplyCounts { created: 2, configured: 1, unchanged: 1, failed: 1, skipped: 1 });
    assert_eq!(summary.apply.applied(), 4);
    assert_eq!(summary.apply.total(), 6);
    assert_eq!(
        summary.failures,
        vec![ObjectFailure {
            obj: cm("e"),
            action: FailedAction::Apply,
            error: ObjectError::new("forbidden")
        }]
    );
}

#[test]
fn the_builder_lists_failed_and_timed_out_objects_with_their_last_status() {
    let stalled = StatusResult::failed("ProgressDeadlineExceeded", "Progress deadline exceeded");
    let slow = StatusResult::in_progress("LessReplicas", "Available: 1/3");
    let events = [
        reconciled(deploy("ok"), WaitOutcome::Current),
        reconciled(deploy("bad"), WaitOutcome::Failed(stalled.clone())),
        reconciled(deploy("slow"), WaitOutcome::Timeout(slow.clone())),
        reconciled(deploy("never"), WaitOutcome::Skipped(SkipReason::Cancelled)),
    ];
    let summary = Summary::from_events(&events);
    assert_eq!(summary.reconcile, ReconcileCounts { current: 1, failed: 1, timed_out: 1, skipped: 1 });
    assert_eq!(
        summary.not_current,
        vec![
            ObjectStatus { obj: deploy("bad"), status: stalled },
            ObjectStatus { obj: deploy("slow"), status: slow }
        ]
    );
}

#[test]
fn the_builder_keeps_prune_and_destroy_counts_apart() {
    let events = [
        Event::Prune { obj: cm("a"), outcome: PruneOutcome::Deleted },
        Event::Prune { obj: cm("b"), outcome: PruneOutcome::Skipped(SkipReason::NamespaceInUse) },
        Event::Prune { obj: cm("c"), outcome: PruneOutcome::Abandoned(AbandonReason::OnRemoveKeep) },
        Event::Delete { obj: cm("d"), outcome: PruneOutcome::Failed(ObjectError::new("forbidden")) },
        Event::Deleted { obj: cm("a"), outcome: DeletionOutcome::Gone },
        Event::Deleted {
            obj: cm("d"),
            outcome: DeletionOutcome::Timeout(StatusResult::terminating("finalizers pending")),
        },
    ];
    let summary = Summary::from_events(&events);
    assert_eq!(summary.prune, RemoveCounts { deleted: 1, skipped: 1, abandoned: 1, failed: 0 });
    assert_eq!(summary.delete, RemoveCounts { deleted: 0, skipped: 0, abandoned: 0, failed: 1 });
    assert_eq!(summary.deletion, DeletionCounts { gone: 1, timed_out: 1, reappeared: 0 });
    assert_eq!(summary.not_deleted.len(), 1);
    assert_eq!(summary.failures[0].action, FailedAction::Delete);
}

#[test]
fn the_builder_takes_operation_and_dry_run_from_the_plan_and_ignores_a_summary() {
    let mut builder = SummaryBuilder::new();
    builder.observe(&Event::Plan(Plan::for_destroy(vec![cm("a")], DryRun::Server)));
    builder.observe(&Event::Warning { obj: None, message: "deprecated".into() });
    builder.observe(&Event::Summary(Summary { warnings: 7, ..Summary::default() }));
    let summary = builder.finish();
    assert_eq!(summary.operation, Operation::Destroy);
    assert_eq!(summary.dry_run, DryRun::Server);
    assert_eq!(summary.warnings, 1);
}

#[test]
fn a_clean_run_succeeds() {
    let events = [apply(cm("a"), ApplyOutcome::Created), reconciled(cm("a"), WaitOutcome::Current)];
    assert_eq!(Summary::from_events(&events).outcome(), RunOutcome::Success);
}

#[test]
fn skips_alone_do_not_fail_a_run() {
    let events = [
        apply(cm("a"), ApplyOutcome::Skipped(SkipReason::Cancelled)),
        Event::Prune { obj: cm("b"), outcome: PruneOutcome::Skipped(SkipReason::NotOwned) },
    ];
    assert_eq!(Summary::from_events(&events).outcome(), RunOutcome::Success);
}

#[test]
fn a_reconcile_timeout_is_a_timeout_outcome() {
    let events = [reconciled(deploy("a"), WaitOutcome::Timeout(StatusResult::in_progress("R", "m")))];
    assert_eq!(Summary::from_events(&events).outcome(), RunOutcome::Timeout);
}

#[test]
fn a_deletion_timeout_is_a_timeout_outcome() {
    let events = [Event::Deleted {
        obj: cm("a"),
        outcome: DeletionOutcome::Timeout(StatusResult::terminating("finalizers")),
    }];
    assert_eq!(Summary::from_events(&events).outcome(), RunOutcome::Timeout);
}

#[test]
fn a_failed_status_outranks_a_timeout() {
    let events = [
        reconciled(deploy("a"), WaitOutcome::Timeout(StatusResult::in_progress("R", "m"))),
        reconciled(deploy("b"), WaitOutcome::Failed(StatusResult::failed("R", "m"))),
    ];
    assert_eq!(Summary::from_events(&events).outcome(), RunOutcome::ObjectFailed);
}

#[test]
fn an_action_failure_outranks_a_failed_status() {
    let events = [
        reconciled(deploy("b"), WaitOutcome::Failed(StatusResult::failed("R", "m"))),
        Event::Prune { obj: cm("a"), outcome: PruneOutcome::Failed(ObjectError::new("forbidden")) },
    ];
    assert_eq!(Summary::from_events(&events).outcome(), RunOutcome::Failed);
}

#[test]
fn the_plan_counts_every_object_once_and_lists_them_in_order() {
    let plan = Plan::for_apply(vec![vec![cm("a")], vec![cm("b"), cm("c")]], vec![cm("old")], DryRun::None);
    assert_eq!(plan.len(), 4);
    let names: Vec<_> = plan.objects().map(|obj| obj.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "old"]);
    assert!(Plan::for_destroy(Vec::new(), DryRun::None).is_empty());
}

#[test]
fn skip_reasons_read_as_plain_words_naming_the_dependency() {
    assert_eq!(
        SkipReason::DependencyTimedOut(deploy("db")).to_string(),
        "dependency Deployment.apps/default/db did not become Current in time"
    );
    assert_eq!(
        SkipReason::OwnedByAnotherInventory("team-b".into()).to_string(),
        "owned by another inventory (team-b)"
    );
    assert_eq!(
        SkipReason::ApplyFailed(2).to_string(),
        "2 apply(s) of this run failed; nothing is pruned until every apply succeeds: fix them and re-run"
    );
    assert_eq!(
        AbandonReason::LifecycleDetach.to_string(),
        "annotated client.lifecycle.config.k8s.io/deletion: detach"
    );
}

#[test]
fn dry_runs_carry_the_cli_utils_preview_markers() {
    assert_eq!(DryRun::None.marker(), None);
    assert_eq!(DryRun::Client.marker(), Some("preview"));
    assert_eq!(DryRun::Server.marker(), Some("preview-server"));
}

#[test]
fn an_event_names_its_object() {
    let warning = Event::Warning { obj: Some(cm("a")), message: "m".into() };
    assert_eq!(warning.object(), Some(&cm("a")));
    assert_eq!(Event::Plan(Plan::default()).object(), None);
}

fn inventory_written(objects: usize) -> Event {
    Event::Inventory { inventory: cm("inventory"), action: InventoryAction::Updated, objects }
}

/// A minimal run that keeps the contract: one object applied and reconciled, one pruned and gone.
fn valid_run() -> Vec<Event> {
    vec![
        Event::Plan(Plan::for_apply(vec![vec![cm("a")]], vec![cm("old")], DryRun::None)),
        inventory_written(2),
        apply(cm("a"), ApplyOutcome::Created),
        Event::Status { obj: cm("a"), status: StatusResult::current("Resource is current") },
        reconciled(cm("a"), WaitOutcome::Current),
        Event::Prune { obj: cm("old"), outcome: PruneOutcome::Deleted },
        Event::Deleted { obj: cm("old"), outcome: DeletionOutcome::Gone },
        inventory_written(1),
    ]
}

fn with_summary(mut events: Vec<Event>) -> Vec<Event> {
    events.push(Event::Summary(Summary::from_events(&events)));
    events
}

fn violation(events: &[Event]) -> String {
    check_order(events).expect_err("a violation").to_string()
}

#[test]
fn a_run_that_keeps_the_contract_passes_the_check() {
    assert_eq!(check_order(&with_summary(valid_run())), Ok(()));
}

#[test]
fn the_check_wants_the_plan_first() {
    let mut events = with_summary(valid_run());
    events.remove(0);
    assert_eq!(violation(&events), "event #0: the first event is not the Plan");
}

#[test]
fn the_check_wants_a_final_outcome_for_every_object() {
    let mut events = valid_run();
    events.remove(4); // the Reconciled of `a`
    let events = with_summary(events);
    assert!(violation(&events).contains("before ConfigMap/default/a of the apply set finished"));
}

#[test]
fn the_check_refuses_waits_in_a_dry_run() {
    let events = with_summary(vec![
        Event::Plan(Plan::for_apply(vec![vec![cm("a")]], Vec::new(), DryRun::Client)),
        apply(cm("a"), ApplyOutcome::Created),
        reconciled(cm("a"), WaitOutcome::Current),
    ]);
    assert_eq!(violation(&events), "event #2: Reconciled of ConfigMap/default/a out of order");
}

#[test]
fn the_check_refuses_a_status_outside_a_wait() {
    let mut events = valid_run();
    events.insert(2, Event::Status { obj: cm("a"), status: StatusResult::current("m") });
    assert!(violation(&with_summary(events)).starts_with("event #2: Status of ConfigMap/default/a"));
}

#[test]
fn the_check_refuses_a_summary_that_does_not_match_the_events() {
    let mut events = valid_run();
    events.push(Event::Summary(Summary::default()));
    assert_eq!(violation(&events), "event #8: the Summary does not match the events before it");
}

#[test]
fn the_check_refuses_events_after_the_summary_and_a_missing_summary() {
    let mut events = with_summary(valid_run());
    events.push(Event::Warning { obj: None, message: "late".into() });
    assert_eq!(violation(&events), "event #9: an event after the Summary");
    assert_eq!(violation(&valid_run()), "event #8: the sequence does not end with a Summary");
}

#[test]
fn the_check_refuses_events_about_objects_the_plan_does_not_name() {
    let mut events = valid_run();
    events.insert(2, apply(cm("stranger"), ApplyOutcome::Created));
    assert_eq!(
        violation(&with_summary(events)),
        "event #2: Apply of ConfigMap/default/stranger, which the plan does not name"
    );
}

#[test]
fn the_check_wants_the_inventory_written_before_and_after_a_real_apply() {
    let mut events = valid_run();
    events.remove(1);
    assert_eq!(violation(&with_summary(events)), "event #7: the inventory was not written before applying");
}

#[test]
fn a_destroy_of_an_inventory_that_does_not_exist_writes_nothing_and_holds() {
    let events = with_summary(vec![Event::Plan(Plan::for_destroy(Vec::new(), DryRun::None))]);
    assert_eq!(check_order(&events), Ok(()));
}

#[test]
fn a_destroy_rewrites_the_inventory_before_deleting_its_own_namespace_and_only_then() {
    let home = ObjRef::new("", "Namespace", None, "home");
    let inventory = ObjRef::new("", "ConfigMap", Some("home"), "inventory-x");
    let deleted = |obj: &ObjRef| {
        [
            Event::Delete { obj: obj.clone(), outcome: PruneOutcome::Deleted },
            Event::Deleted { obj: obj.clone(), outcome: DeletionOutcome::Gone },
        ]
    };
    let written =
        Event::Inventory { inventory: inventory.clone(), action: InventoryAction::Updated, objects: 1 };
    let gone = Event::Inventory { inventory, action: InventoryAction::Deleted, objects: 0 };
    let mut events = vec![Event::Plan(Plan::for_destroy(vec![cm("a"), home.clone()], DryRun::None))];
    events.extend(deleted(&cm("a")));
    events.push(written.clone());
    events.extend(deleted(&home));
    events.push(gone.clone());
    assert_eq!(check_order(&with_summary(events)), Ok(()));

    // Written while another object is still being deleted: a breach.
    let mut early = vec![Event::Plan(Plan::for_destroy(vec![cm("a"), home.clone()], DryRun::None))];
    early.push(written);
    early.extend(deleted(&cm("a")));
    early.extend(deleted(&home));
    early.push(gone);
    assert!(check_order(&with_summary(early)).is_err());
}

#[test]
fn a_cancelled_run_says_so_in_its_summary_and_outcome() {
    let plan = Event::Plan(Plan::for_destroy(Vec::new(), DryRun::None));
    let interrupted = Summary::from_events(&[plan.clone(), Event::Cancelled(CancelReason::Interrupted)]);
    assert_eq!(interrupted.cancelled, Some(CancelReason::Interrupted));
    assert_eq!(interrupted.outcome(), RunOutcome::Interrupted, "not a success");
    let timed_out = Summary::from_events(&[plan, Event::Cancelled(CancelReason::TimedOut)]);
    assert_eq!(timed_out.outcome(), RunOutcome::Timeout);
    assert_eq!(
        check_order(&with_summary(vec![
            Event::Plan(Plan::for_destroy(Vec::new(), DryRun::None)),
            Event::Cancelled(CancelReason::Interrupted),
        ])),
        Ok(())
    );
}

/// `b` depends on `a`, a Deployment waited for: `Blocked` of `b` may come while `a` is waited for.
fn run_with_a_dependency(blocked_at: usize) -> Vec<Event> {
    let slow = StatusResult::in_progress("LessAvailable", "Available: 0/1");
    let blocked = Event::Blocked { obj: cm("b"), dependency: deploy("a"), status: slow.clone() };
    let mut events = vec![
        Event::Plan(Plan::for_apply(vec![vec![deploy("a")], vec![cm("b")]], Vec::new(), DryRun::None)),
        inventory_written(2),
        apply(deploy("a"), ApplyOutcome::Created),
        Event::Status { obj: deploy("a"), status: slow },
        reconciled(deploy("a"), WaitOutcome::Current),
        apply(cm("b"), ApplyOutcome::Created),
        reconciled(cm("b"), WaitOutcome::Current),
        inventory_written(2),
    ];
    events.insert(blocked_at, blocked);
    with_summary(events)
}

#[test]
fn blocked_names_an_object_not_applied_yet_and_a_dependency_being_waited_for() {
    assert_eq!(check_order(&run_with_a_dependency(4)), Ok(()));
    assert!(violation(&run_with_a_dependency(2)).contains("which kapply is not waiting for"));
    assert!(violation(&run_with_a_dependency(5)).contains("which kapply is not waiting for"));
    assert!(violation(&run_with_a_dependency(6)).contains("not waiting to be applied"));
}
