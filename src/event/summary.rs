//! The totals of a run: [`Summary`], its counts and [`RunOutcome`], folded from events by [`SummaryBuilder`].

use crate::kstatus::StatusResult;
use crate::object::ObjRef;

use super::{
    ApplyOutcome, CancelReason, DeletionOutcome, DryRun, Event, ObjectError, Operation, PruneOutcome,
    WaitOutcome,
};

/// Counts of apply outcomes: one per [`Event::Apply`], by [`ApplyOutcome`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyCounts {
    /// [`ApplyOutcome::Created`].
    pub created: usize,
    /// [`ApplyOutcome::Configured`].
    pub configured: usize,
    /// [`ApplyOutcome::Unchanged`].
    pub unchanged: usize,
    /// [`ApplyOutcome::Failed`] and [`ApplyOutcome::Refused`]: each also listed in [`Summary::failures`];
    /// any fails the run.
    pub failed: usize,
    /// [`ApplyOutcome::Skipped`]: never fails the run by itself.
    pub skipped: usize,
}

impl ApplyCounts {
    /// Created + configured + unchanged: in the cluster as declared.
    pub fn applied(&self) -> usize {
        self.created + self.configured + self.unchanged
    }

    /// Every apply event.
    pub fn total(&self) -> usize {
        self.applied() + self.failed + self.skipped
    }
}

/// Counts of [`WaitOutcome`]s: one per [`Event::Reconciled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconcileCounts {
    /// [`WaitOutcome::Current`].
    pub current: usize,
    /// [`WaitOutcome::Failed`]: each also listed in [`Summary::not_current`]; the run ends
    /// [`RunOutcome::ObjectFailed`] unless a higher precedence applies ([`Summary::outcome`]).
    pub failed: usize,
    /// [`WaitOutcome::Timeout`]: each also listed in [`Summary::not_current`].
    pub timed_out: usize,
    /// [`WaitOutcome::Skipped`]: no verdict (not waited for, or the run was cancelled).
    pub skipped: usize,
}

impl ReconcileCounts {
    /// Every `Reconciled` event: one per object applied in a real run.
    pub fn total(&self) -> usize {
        self.current + self.failed + self.timed_out + self.skipped
    }
}

/// Counts of prune (or destroy deletion) outcomes: one per [`Event::Prune`] (or [`Event::Delete`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemoveCounts {
    /// [`PruneOutcome::Deleted`]: the delete was accepted; whether the object is gone is counted in
    /// [`DeletionCounts`].
    pub deleted: usize,
    /// [`PruneOutcome::Skipped`]: never fails the run by itself.
    pub skipped: usize,
    /// [`PruneOutcome::Abandoned`]: left in the cluster on purpose.
    pub abandoned: usize,
    /// [`PruneOutcome::Failed`]: each also listed in [`Summary::failures`]; any fails the run.
    pub failed: usize,
}

impl RemoveCounts {
    /// Every `Prune` (or `Delete`) event.
    pub fn total(&self) -> usize {
        self.deleted + self.skipped + self.abandoned + self.failed
    }

    fn count(&mut self, outcome: &PruneOutcome) {
        match outcome {
            PruneOutcome::Deleted => self.deleted += 1,
            PruneOutcome::Skipped(_) => self.skipped += 1,
            PruneOutcome::Abandoned(_) => self.abandoned += 1,
            PruneOutcome::Failed(_) => self.failed += 1,
        }
    }
}

/// Counts of [`DeletionOutcome`]s: one per [`Event::Deleted`], prunes and destroy deletions together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeletionCounts {
    /// [`DeletionOutcome::Gone`].
    pub gone: usize,
    /// [`DeletionOutcome::Timeout`]: each also listed in [`Summary::not_deleted`].
    pub timed_out: usize,
    /// [`DeletionOutcome::Reappeared`]: seen gone, then there again at the end of the removal. Each is
    /// also listed in [`Summary::failures`]; any fails the run.
    pub reappeared: usize,
}

impl DeletionCounts {
    /// Every `Deleted` event: one per delete accepted in a real run.
    pub fn total(&self) -> usize {
        self.gone + self.timed_out + self.reappeared
    }
}

/// An object with the status it was left in: an entry of [`Summary::not_current`] or
/// [`Summary::not_deleted`].
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectStatus {
    /// The object.
    pub obj: ObjRef,
    /// Its last status seen, as its `Reconciled` (`Deleted`) event carried it.
    pub status: StatusResult,
}

/// Which action failed for an [`ObjectFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailedAction {
    /// An [`ApplyOutcome::Failed`] or [`ApplyOutcome::Refused`].
    Apply,
    /// A [`PruneOutcome::Failed`] of a prune, or a pruned object that reappeared.
    Prune,
    /// A [`PruneOutcome::Failed`] of a `destroy` deletion, or a deleted object that reappeared.
    Delete,
}

impl FailedAction {
    /// `apply`, `prune` or `delete`: the `action` of a JSON summary failure, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            FailedAction::Apply => "apply",
            FailedAction::Prune => "prune",
            FailedAction::Delete => "delete",
        }
    }
}

/// An object whose apply, prune or delete failed, with the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFailure {
    /// The object.
    pub obj: ObjRef,
    /// Which of its actions failed.
    pub action: FailedAction,
    /// The error its event carried.
    pub error: ObjectError,
}

/// How a run ended as a whole: what the CLI turns into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunOutcome {
    /// Everything applied (or deleted) and reconciled (exit 0).
    Success,
    /// An apply, prune or delete failed (exit 1).
    Failed,
    /// Waiting timed out for an object to become Current or to disappear (exit 3).
    Timeout,
    /// An object reached the Failed status, or `--fail-fast-on` ended its wait (exit 4).
    ObjectFailed,
    /// The run's cancellation token was cancelled before it finished (exit 130).
    Interrupted,
}

impl RunOutcome {
    /// `success`, `failed`, `timeout`, `objectFailed` or `interrupted`: the `outcome` of the JSON
    /// summary, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Success => "success",
            RunOutcome::Failed => "failed",
            RunOutcome::Timeout => "timeout",
            RunOutcome::ObjectFailed => "objectFailed",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

/// The totals of a run: the payload of the last event, built by [`SummaryBuilder`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// The run's operation, from its [`Event::Plan`].
    pub operation: Operation,
    /// Set when the run was stopped early ([`Event::Cancelled`]).
    pub cancelled: Option<CancelReason>,
    /// Whether the run wrote, from its [`Event::Plan`].
    pub dry_run: DryRun,
    /// The [`Event::Apply`] outcomes.
    pub apply: ApplyCounts,
    /// The [`Event::Reconciled`] outcomes.
    pub reconcile: ReconcileCounts,
    /// The [`Event::Prune`] outcomes.
    pub prune: RemoveCounts,
    /// Deletions by `destroy`.
    pub delete: RemoveCounts,
    /// Waits for pruned or deleted objects to disappear.
    pub deletion: DeletionCounts,
    /// How many [`Event::Warning`]s the run emitted.
    pub warnings: usize,
    /// Objects whose reconcile failed or timed out, with their last status, in event order.
    pub not_current: Vec<ObjectStatus>,
    /// Pruned or deleted objects still there when the timeout expired, in event order.
    pub not_deleted: Vec<ObjectStatus>,
    /// Failed applies, prunes and deletes, and removed objects that reappeared, in event order.
    pub failures: Vec<ObjectFailure>,
}

impl Summary {
    /// Builds the summary of a sequence of events (a `Summary` among them is ignored).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Summary {
        let mut builder = SummaryBuilder::new();
        for event in events {
            builder.observe(event);
        }
        builder.finish()
    }

    /// The outcome of the run, by precedence: a failed apply, prune or delete ([`RunOutcome::Failed`])
    /// over an object in the Failed status ([`RunOutcome::ObjectFailed`]) over a timeout
    /// ([`RunOutcome::Timeout`]). Skips alone never fail a run (see [`SkipReason`](super::SkipReason)).
    pub fn outcome(&self) -> RunOutcome {
        if self.cancelled == Some(CancelReason::Interrupted) {
            RunOutcome::Interrupted
        } else if self.apply.failed + self.prune.failed + self.delete.failed + self.deletion.reappeared > 0 {
            RunOutcome::Failed
        } else if self.reconcile.failed > 0 {
            RunOutcome::ObjectFailed
        } else if self.reconcile.timed_out + self.deletion.timed_out > 0
            || self.cancelled == Some(CancelReason::TimedOut)
        {
            RunOutcome::Timeout
        } else {
            RunOutcome::Success
        }
    }
}

/// Folds events into a [`Summary`]: the engine uses it to build the last event, tests and library users
/// to check one.
#[derive(Debug, Clone, Default)]
pub struct SummaryBuilder {
    summary: Summary,
}

impl SummaryBuilder {
    /// A builder that has observed nothing: every count at zero, and operation and dry run at their
    /// defaults until it observes the [`Event::Plan`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one event. A [`Event::Summary`] is ignored.
    pub fn observe(&mut self, event: &Event) {
        let summary = &mut self.summary;
        match event {
            Event::Plan(plan) => {
                summary.operation = plan.operation;
                summary.dry_run = plan.dry_run;
            }
            Event::Apply { obj, outcome } => {
                let counts = &mut summary.apply;
                match outcome {
                    ApplyOutcome::Created => counts.created += 1,
                    ApplyOutcome::Configured => counts.configured += 1,
                    ApplyOutcome::Unchanged => counts.unchanged += 1,
                    ApplyOutcome::Skipped(_) => counts.skipped += 1,
                    ApplyOutcome::Failed(error) | ApplyOutcome::Refused(error) => {
                        counts.failed += 1;
                        summary.failures.push(failure(obj, FailedAction::Apply, error));
                    }
                }
            }
            Event::Reconciled { obj, outcome } => {
                let counts = &mut summary.reconcile;
                match outcome {
                    WaitOutcome::Current => counts.current += 1,
                    WaitOutcome::Skipped(_) => counts.skipped += 1,
                    WaitOutcome::Failed(status) => {
                        counts.failed += 1;
                        summary.not_current.push(ObjectStatus { obj: obj.clone(), status: status.clone() });
                    }
                    WaitOutcome::Timeout(status) => {
                        counts.timed_out += 1;
                        summary.not_current.push(ObjectStatus { obj: obj.clone(), status: status.clone() });
                    }
                }
            }
            Event::Prune { obj, outcome } => {
                summary.prune.count(outcome);
                if let PruneOutcome::Failed(error) = outcome {
                    summary.failures.push(failure(obj, FailedAction::Prune, error));
                }
            }
            Event::Delete { obj, outcome } => {
                summary.delete.count(outcome);
                if let PruneOutcome::Failed(error) = outcome {
                    summary.failures.push(failure(obj, FailedAction::Delete, error));
                }
            }
            Event::Deleted { obj, outcome } => match outcome {
                DeletionOutcome::Gone => summary.deletion.gone += 1,
                DeletionOutcome::Timeout(status) => {
                    summary.deletion.timed_out += 1;
                    summary.not_deleted.push(ObjectStatus { obj: obj.clone(), status: status.clone() });
                }
                DeletionOutcome::Reappeared(error) => {
                    summary.deletion.reappeared += 1;
                    let action = match summary.operation {
                        Operation::Destroy => FailedAction::Delete,
                        Operation::Apply => FailedAction::Prune,
                    };
                    summary.failures.push(failure(obj, action, error));
                }
            },
            Event::Warning { .. } => summary.warnings += 1,
            Event::Cancelled(reason) => summary.cancelled = Some(*reason),
            Event::Status { .. } | Event::Blocked { .. } | Event::Inventory { .. } | Event::Summary(_) => {}
        }
    }

    /// The summary so far, without consuming the builder.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The summary of every event observed: after the last event before the `Summary`, the payload
    /// of that `Summary`.
    pub fn finish(self) -> Summary {
        self.summary
    }
}

fn failure(obj: &ObjRef, action: FailedAction, error: &ObjectError) -> ObjectFailure {
    ObjectFailure { obj: obj.clone(), action, error: error.clone() }
}
