//! What a run did to each object, as the inventory sees it: [`Outcome`], folded from the run's events
//! by [`Outcome::observe`] — the one place that decides which objects the final write keeps
//! ([`final_set`](super::final_set)).

use std::collections::BTreeSet;

use crate::event::{ApplyOutcome, DeletionOutcome, Event, PruneOutcome, SkipReason};
use crate::object::ObjRef;

/// What happened to each object during a run, for [`final_set`](super::final_set).
///
/// The engine does not fill it by hand: it folds every event it emits into it with
/// [`observe`](Self::observe), as [`SummaryBuilder`](crate::event::SummaryBuilder) folds them into the
/// summary, so the inventory write and the event stream cannot disagree.
///
/// An object belongs in at most one apply set and at most one prune set. Prune candidates deleted (or
/// found already gone) belong in none: they leave the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Applied successfully (whatever their status afterwards).
    pub applied: BTreeSet<ObjRef>,
    /// The apply failed (the request, or a read or check before it): the object may exist.
    pub apply_failed: BTreeSet<ObjRef>,
    /// Not applied: skipped (a dependency failed, the run was cancelled…), or refused by the inventory
    /// policy ([`ApplyOutcome::Refused`]: the object is not ours).
    pub apply_skipped: BTreeSet<ObjRef>,
    /// The delete request failed, removing the owner annotation of an abandoned object failed, or a
    /// deleted object reappeared.
    pub prune_failed: BTreeSet<ObjRef>,
    /// Not deleted for a reason that keeps them recorded (every skip but `AlreadyGone` and
    /// `SameAsApplied`, or a deletion still pending when the wait ended), or not considered at all
    /// (`--no-prune`: the engine records every candidate here, as no event names them).
    pub prune_skipped: BTreeSet<ObjRef>,
    /// Kept objects whose owner annotation is gone (or was never ours): they leave the inventory.
    pub abandoned: BTreeSet<ObjRef>,
    /// Objects of the manifests that failed validation (when the run skips invalid objects).
    pub invalid: BTreeSet<ObjRef>,
}

impl Outcome {
    /// Folds one event of a run into the outcome. Events that say nothing about an object's place in
    /// the inventory (`Plan`, `Status`, `Reconciled`, `Warning`, `Inventory`, `Cancelled`, `Summary`)
    /// change nothing.
    ///
    /// | Event | Bucket |
    /// |---|---|
    /// | `Apply` `Created` / `Configured` / `Unchanged` | `applied` |
    /// | `Apply` `Failed` | `apply_failed` |
    /// | `Apply` `Refused`, `Skipped(_)` | `apply_skipped` |
    /// | `Prune` / `Delete` `Deleted` | none (a `Deleted` follows in a real run) |
    /// | `Prune` / `Delete` `Skipped(AlreadyGone)`, `Skipped(SameAsApplied)` | none: dropped |
    /// | `Prune` / `Delete` any other `Skipped(_)` | `prune_skipped` |
    /// | `Prune` / `Delete` `Abandoned(_)` | `abandoned` |
    /// | `Prune` / `Delete` `Failed(_)` | `prune_failed` |
    /// | `Deleted` `Gone` | none |
    /// | `Deleted` `Timeout(_)` | `prune_skipped` (still there, so still recorded) |
    /// | `Deleted` `Reappeared(_)` | `prune_failed` |
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Apply { obj, outcome } => {
                let bucket = match outcome {
                    ApplyOutcome::Created | ApplyOutcome::Configured | ApplyOutcome::Unchanged => {
                        &mut self.applied
                    }
                    ApplyOutcome::Failed(_) => &mut self.apply_failed,
                    ApplyOutcome::Refused(_) | ApplyOutcome::Skipped(_) => &mut self.apply_skipped,
                };
                bucket.insert(obj.clone());
            }
            Event::Prune { obj, outcome } | Event::Delete { obj, outcome } => {
                let bucket = match outcome {
                    PruneOutcome::Deleted => None,
                    PruneOutcome::Skipped(reason) => {
                        prune_skip_keeps(reason).then_some(&mut self.prune_skipped)
                    }
                    PruneOutcome::Abandoned(_) => Some(&mut self.abandoned),
                    PruneOutcome::Failed(_) => Some(&mut self.prune_failed),
                };
                if let Some(bucket) = bucket {
                    bucket.insert(obj.clone());
                }
            }
            Event::Deleted { obj, outcome } => {
                let bucket = match outcome {
                    DeletionOutcome::Gone => None,
                    DeletionOutcome::Timeout(_) => Some(&mut self.prune_skipped),
                    DeletionOutcome::Reappeared(_) => Some(&mut self.prune_failed),
                };
                if let Some(bucket) = bucket {
                    bucket.insert(obj.clone());
                }
            }
            Event::Plan(_)
            | Event::Status { .. }
            | Event::Blocked { .. }
            | Event::Reconciled { .. }
            | Event::Warning { .. }
            | Event::Inventory { .. }
            | Event::Cancelled(_)
            | Event::Summary(_) => {}
        }
    }
}

/// Whether a prune (delete) skipped for `reason` keeps its object recorded. Only two skips drop it: the
/// object is gone, or it is a stale reference to an object just applied under another identity
/// (cli-utils keeps those forever, cli-utils#613).
fn prune_skip_keeps(reason: &SkipReason) -> bool {
    match reason {
        SkipReason::AlreadyGone | SkipReason::SameAsApplied(_) => false,
        SkipReason::DependencyFailed(_)
        | SkipReason::DependencySkipped(_)
        | SkipReason::DependencyTimedOut(_)
        | SkipReason::DependentExists(_)
        | SkipReason::OwnedByAnotherInventory(_)
        | SkipReason::NotOwned
        | SkipReason::NamespaceInUse
        | SkipReason::KindNotServed
        | SkipReason::ApplyFailed(_)
        | SkipReason::DeletionForbidden(_)
        | SkipReason::Cancelled
        | SkipReason::RunTimedOut
        | SkipReason::NotWaited => true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{cm, set};
    use super::*;
    use crate::event::{AbandonReason, InventoryAction, ObjectError, Plan, WaitOutcome};
    use crate::kstatus::StatusResult;

    fn folded(events: &[Event]) -> Outcome {
        let mut outcome = Outcome::default();
        for event in events {
            outcome.observe(event);
        }
        outcome
    }

    fn apply(name: &str, outcome: ApplyOutcome) -> Event {
        Event::Apply { obj: cm(name), outcome }
    }

    fn prune(name: &str, outcome: PruneOutcome) -> Event {
        Event::Prune { obj: cm(name), outcome }
    }

    fn delete(name: &str, outcome: PruneOutcome) -> Event {
        Event::Delete { obj: cm(name), outcome }
    }

    fn deleted(name: &str, outcome: DeletionOutcome) -> Event {
        Event::Deleted { obj: cm(name), outcome }
    }

    fn error() -> ObjectError {
        ObjectError::new("refused")
    }

    #[test]
    fn applied_objects_are_those_created_configured_or_unchanged() {
        let outcome = folded(&[
            apply("new", ApplyOutcome::Created),
            apply("changed", ApplyOutcome::Configured),
            apply("same", ApplyOutcome::Unchanged),
            Event::Reconciled { obj: cm("new"), outcome: WaitOutcome::Timeout(StatusResult::unknown("x")) },
        ]);
        assert_eq!(outcome, Outcome { applied: set(&["new", "changed", "same"]), ..Outcome::default() });
    }

    #[test]
    fn a_failed_apply_is_apply_failed() {
        let outcome = folded(&[apply("a", ApplyOutcome::Failed(error()))]);
        assert_eq!(outcome, Outcome { apply_failed: set(&["a"]), ..Outcome::default() });
    }

    #[test]
    fn a_skipped_or_refused_apply_is_apply_skipped() {
        let outcome = folded(&[
            apply("theirs", ApplyOutcome::Refused(error())),
            apply("dependent", ApplyOutcome::Skipped(SkipReason::DependencyFailed(cm("a")))),
            apply("late", ApplyOutcome::Skipped(SkipReason::Cancelled)),
        ]);
        assert_eq!(
            outcome,
            Outcome { apply_skipped: set(&["theirs", "dependent", "late"]), ..Outcome::default() }
        );
    }

    #[test]
    fn failed_removals_and_reappeared_objects_are_prune_failed() {
        let outcome = folded(&[
            prune("a", PruneOutcome::Failed(error())),
            delete("b", PruneOutcome::Failed(error())),
            prune("c", PruneOutcome::Deleted),
            deleted("c", DeletionOutcome::Reappeared(error())),
        ]);
        assert_eq!(outcome, Outcome { prune_failed: set(&["a", "b", "c"]), ..Outcome::default() });
    }

    #[test]
    fn skips_that_keep_the_object_and_pending_deletions_are_prune_skipped() {
        let outcome = folded(&[
            prune("other", PruneOutcome::Skipped(SkipReason::OwnedByAnotherInventory("x".into()))),
            prune("unowned", PruneOutcome::Skipped(SkipReason::NotOwned)),
            prune("needed", PruneOutcome::Skipped(SkipReason::DependentExists(cm("a")))),
            prune("unserved", PruneOutcome::Skipped(SkipReason::KindNotServed)),
            prune("held", PruneOutcome::Skipped(SkipReason::ApplyFailed(1))),
            prune("denied", PruneOutcome::Skipped(SkipReason::DeletionForbidden(1))),
            prune("late", PruneOutcome::Skipped(SkipReason::Cancelled)),
            delete("ns", PruneOutcome::Skipped(SkipReason::NamespaceInUse)),
            prune("stuck", PruneOutcome::Deleted),
            deleted("stuck", DeletionOutcome::Timeout(StatusResult::terminating("deletion in progress"))),
        ]);
        let expected =
            set(&["other", "unowned", "needed", "unserved", "held", "denied", "late", "ns", "stuck"]);
        assert_eq!(outcome, Outcome { prune_skipped: expected, ..Outcome::default() });
    }

    #[test]
    fn abandoned_objects_are_abandoned() {
        let outcome = folded(&[
            prune("kept", PruneOutcome::Abandoned(AbandonReason::OnRemoveKeep)),
            delete("detached", PruneOutcome::Abandoned(AbandonReason::LifecycleDetach)),
            prune("its-namespace", PruneOutcome::Abandoned(AbandonReason::DependentKept(cm("kept")))),
        ]);
        assert_eq!(
            outcome,
            Outcome { abandoned: set(&["kept", "detached", "its-namespace"]), ..Outcome::default() }
        );
    }

    #[test]
    fn deleted_gone_and_dropped_skips_are_in_no_bucket() {
        let outcome = folded(&[
            prune("gone", PruneOutcome::Deleted),
            deleted("gone", DeletionOutcome::Gone),
            delete("preview", PruneOutcome::Deleted),
            prune("missing", PruneOutcome::Skipped(SkipReason::AlreadyGone)),
            prune("stale", PruneOutcome::Skipped(SkipReason::SameAsApplied(cm("a")))),
        ]);
        assert_eq!(outcome, Outcome::default());
    }

    #[test]
    fn events_about_no_inventory_change_are_ignored() {
        let outcome = folded(&[
            Event::Plan(Plan::for_apply(vec![vec![cm("a")]], vec![cm("b")], crate::event::DryRun::None)),
            Event::Inventory { inventory: cm("inv"), action: InventoryAction::Updated, objects: 2 },
            Event::Status { obj: cm("a"), status: StatusResult::current("ready") },
            Event::Reconciled { obj: cm("a"), outcome: WaitOutcome::Current },
            Event::Warning { obj: Some(cm("a")), message: "deprecated".into() },
            Event::Cancelled(crate::event::CancelReason::Interrupted),
        ]);
        assert_eq!(outcome, Outcome::default());
    }

    /// The fixtures recorded from the engine's runs (`printers::recorded`), folded: the set written
    /// at the end is what the engine recorded by hand beside its emits before the outcome was derived
    /// from the events, and what each fixture's last `Inventory` event counts.
    mod recorded_runs {
        use super::*;
        use crate::printers::recorded::{self as r, apply_run, destroy_run, preview_run};

        fn last_inventory_count(events: &[Event]) -> Option<usize> {
            events.iter().rev().find_map(|event| match event {
                Event::Inventory { objects, .. } => Some(*objects),
                _ => None,
            })
        }

        #[test]
        fn an_apply_keeps_applied_failed_recorded_skips_and_drops_pruned_and_abandoned() {
            let events = apply_run();
            // The pre-apply write recorded the union (11 objects): everything was recorded before.
            let previous: BTreeSet<ObjRef> = [
                r::namespace(),
                r::app_config(),
                r::db_credentials(),
                r::api_service(),
                r::db(),
                r::migrate(),
                r::web_tls(),
                r::api(),
                r::old_config(),
                r::legacy_token(),
                r::audit_policy(),
            ]
            .into();
            let outcome = folded(&events);
            let by_hand = Outcome {
                applied: [
                    r::namespace(),
                    r::app_config(),
                    r::db_credentials(),
                    r::api_service(),
                    r::db(),
                    r::migrate(),
                ]
                .into(),
                apply_failed: [r::web_tls()].into(),
                apply_skipped: [r::api()].into(),
                prune_skipped: [r::legacy_token()].into(),
                abandoned: [r::audit_policy()].into(),
                ..Outcome::default()
            };
            assert_eq!(outcome, by_hand);
            let written = crate::inventory::final_set(&previous, &outcome);
            let mut expected = previous.clone();
            expected.remove(&r::old_config());
            expected.remove(&r::audit_policy());
            assert_eq!(written, expected);
            assert_eq!(Some(written.len()), last_inventory_count(&events));
        }

        #[test]
        fn a_destroy_keeps_what_is_still_there() {
            let events = destroy_run();
            let previous: BTreeSet<ObjRef> = [r::api(), r::app_config(), r::namespace()].into();
            let outcome = folded(&events);
            let by_hand =
                Outcome { prune_skipped: [r::app_config(), r::namespace()].into(), ..Outcome::default() };
            assert_eq!(outcome, by_hand);
            let written = crate::inventory::final_set(&previous, &outcome);
            assert_eq!(written, [r::app_config(), r::namespace()].into());
            assert_eq!(Some(written.len()), last_inventory_count(&events));
        }

        #[test]
        fn a_preview_would_keep_the_applied_set() {
            let events = preview_run();
            let previous: BTreeSet<ObjRef> = [r::namespace(), r::old_config()].into();
            let outcome = folded(&events);
            let by_hand = Outcome { applied: [r::namespace(), r::app_config()].into(), ..Outcome::default() };
            assert_eq!(outcome, by_hand);
            let written = crate::inventory::final_set(&previous, &outcome);
            assert_eq!(written, [r::namespace(), r::app_config()].into());
            assert_eq!(last_inventory_count(&events), None, "a preview writes nothing");
        }
    }
}
