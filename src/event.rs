//! The event stream: [`Event`] is the one contract between the engine, which emits events, and the
//! printers (or any library user), which consume them.
//!
//! The engine never prints and printers never decide: everything a printer shows — lines, a table, the
//! final totals, the exit code the CLI picks — is derived from these events alone. [`SummaryBuilder`]
//! folds a stream into the [`Summary`] that ends it, so the engine and every test count the same way.
//!
//! # Ordering contract
//! Events of one run (`apply`, `preview`, `destroy`) arrive in this order:
//!
//! 1. [`Event::Plan`] first, exactly once. It names every object the run will report on: the apply
//!    set (as waves), the prune candidates, or (destroy) the objects to delete.
//! 2. [`Event::Inventory`] (`Created`, `Updated` or `Unchanged`), once, before the first `Apply` (the
//!    union of the old and new sets is recorded before anything is touched). Absent from dry runs, which
//!    write nothing.
//! 3. For each object of `Plan::apply`: exactly one [`Event::Apply`]. When it applied
//!    (created, configured or unchanged) and the run is not a dry run, zero or more [`Event::Status`]
//!    follow, then exactly one [`Event::Reconciled`]. No event about that object follows its
//!    `Reconciled`.
//! 4. An object's `Apply` comes after the final event (rule 8) of every object it depends on. Events of
//!    independent objects interleave freely.
//! 5. For each object of `Plan::prune`: exactly one [`Event::Prune`], after the final event of every
//!    object of the apply set (pruning starts once applying and waiting are done). When it was deleted
//!    and the run is not a dry run, zero or more `Status` (Terminating, then NotFound when seen gone),
//!    then exactly one [`Event::Deleted`] — once the removal phase is done, when a last look confirms
//!    it is still gone (or finds it back: [`DeletionOutcome::Reappeared`]).
//! 6. Destroy: for each object of `Plan::delete`, exactly one [`Event::Delete`], then, as for prune,
//!    `Status` events and exactly one `Deleted` when it was deleted in a real run.
//! 7. After every object's final event: [`Event::Inventory`] once more in a real run — `Created`,
//!    `Updated` or `Unchanged` (the objects that really exist) after an apply, `Deleted` after a destroy.
//! 8. [`Event::Summary`] last, exactly once; it equals [`SummaryBuilder`] folded over the events before
//!    it.
//!
//! [`Event::Warning`] may come anywhere between the `Plan` and the `Summary`.
//!
//! **Exactly one final outcome per object.** The final event of an object named in the plan is its
//! `Reconciled` (or `Deleted`) event when there is one, and otherwise its `Apply` (`Prune`, `Delete`)
//! event: a failed or skipped action, an abandoned object, or any action of a dry run.
//!
//! # Errors
//! A failure concerning one object is an event (`ApplyOutcome::Failed`, `WaitOutcome::Timeout`, …) and
//! the run goes on. A failure of the whole run (cluster unreachable, inventory unreadable) ends the
//! stream with an `Err` from the engine instead: no `Summary` follows, and the CLI hands the error to
//! [`Printer::error`](crate::printers::Printer::error).
//!
//! # No object bodies, so no Secret data
//! Events carry identities ([`ObjRef`]), outcomes, computed statuses and messages — never an object's
//! body, its `data`, or a JSON value taken from it. A printer therefore cannot leak the content of a
//! Secret, whatever it prints. Keep it so: no variant may carry an `Object` or a `serde_json::Value`,
//! and messages are written by kapply or the API server, never copied from object fields.

use std::collections::HashMap;
use std::fmt;

use crate::kstatus::StatusResult;
use crate::object::{LIFECYCLE_DELETION, LIFECYCLE_DETACH, ON_REMOVE, ON_REMOVE_KEEP, ObjRef};

/// One thing that happened during a run. See the [module documentation](self) for the order.
///
/// No variant holds an object body: see "No object bodies" in the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// First event of every run: what the run is about to do.
    Plan(Plan),
    /// The apply of one object ended. Once per object of [`Plan::apply`].
    Apply { obj: ObjRef, outcome: ApplyOutcome },
    /// The status of an object changed while kapply waits for it (to become Current, or to be gone).
    /// Only changes are reported, not every poll.
    Status { obj: ObjRef, status: StatusResult },
    /// Waiting for an applied object to become Current ended.
    Reconciled { obj: ObjRef, outcome: WaitOutcome },
    /// The prune of one object ended. Once per object of [`Plan::prune`].
    Prune { obj: ObjRef, outcome: PruneOutcome },
    /// The deletion of one object by `destroy` ended. Once per object of [`Plan::delete`].
    Delete { obj: ObjRef, outcome: DeleteOutcome },
    /// Waiting for a pruned or deleted object to disappear ended.
    Deleted { obj: ObjRef, outcome: DeletionOutcome },
    /// Something the user should know that changes no outcome: an API server warning, a deprecated
    /// field, an object that could not be abandoned cleanly.
    Warning { obj: Option<ObjRef>, message: String },
    /// The inventory ConfigMap was written (or deleted, at the end of a destroy).
    Inventory { inventory: ObjRef, action: InventoryAction, objects: usize },
    /// Last event of every run that was not aborted.
    Summary(Summary),
}

impl Event {
    /// The object an event is about, if any (the inventory itself is not "about" an object).
    pub fn object(&self) -> Option<&ObjRef> {
        match self {
            Event::Apply { obj, .. }
            | Event::Status { obj, .. }
            | Event::Reconciled { obj, .. }
            | Event::Prune { obj, .. }
            | Event::Delete { obj, .. }
            | Event::Deleted { obj, .. } => Some(obj),
            Event::Warning { obj, .. } => obj.as_ref(),
            Event::Plan(_) | Event::Inventory { .. } | Event::Summary(_) => None,
        }
    }
}

/// What a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Operation {
    /// `apply` (or `preview`): apply the set, then prune what left it.
    #[default]
    Apply,
    /// `destroy` (or `preview --destroy`): delete everything in the inventory.
    Destroy,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "apply",
            Operation::Destroy => "destroy",
        }
    }
}

/// Whether a run writes to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DryRun {
    /// A real run.
    #[default]
    None,
    /// Nothing is sent to the cluster but reads (`preview`).
    Client,
    /// Every write is sent with `dryRun=All` (`preview --server-side`).
    Server,
}

impl DryRun {
    pub fn is_dry_run(self) -> bool {
        self != DryRun::None
    }

    /// The marker cli-utils appends to every object line of a preview: `preview`, `preview-server`.
    pub fn marker(self) -> Option<&'static str> {
        match self {
            DryRun::None => None,
            DryRun::Client => Some("preview"),
            DryRun::Server => Some("preview-server"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DryRun::None => "none",
            DryRun::Client => "client",
            DryRun::Server => "server",
        }
    }
}

/// What a run is about to do: the payload of [`Event::Plan`].
///
/// For [`Operation::Apply`], `delete` is empty; for [`Operation::Destroy`], `apply` and `prune` are.
/// The constructors keep that invariant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub operation: Operation,
    /// The apply set as waves (topological levels): a view for printing. The engine applies each object
    /// as soon as its own dependencies are done, so events need not follow wave boundaries.
    pub apply: Vec<Vec<ObjRef>>,
    /// Prune candidates (in the inventory, no longer in the set), in deletion order.
    pub prune: Vec<ObjRef>,
    /// Objects `destroy` deletes, in deletion order.
    pub delete: Vec<ObjRef>,
    pub dry_run: DryRun,
}

impl Plan {
    /// The plan of an apply (or its preview).
    pub fn for_apply(waves: Vec<Vec<ObjRef>>, prune: Vec<ObjRef>, dry_run: DryRun) -> Self {
        Plan { operation: Operation::Apply, apply: waves, prune, delete: Vec::new(), dry_run }
    }

    /// The plan of a destroy (or its preview).
    pub fn for_destroy(delete: Vec<ObjRef>, dry_run: DryRun) -> Self {
        Plan { operation: Operation::Destroy, apply: Vec::new(), prune: Vec::new(), delete, dry_run }
    }

    /// Every object the plan names: the apply set wave by wave, then prune, then delete.
    pub fn objects(&self) -> impl Iterator<Item = &ObjRef> {
        self.apply.iter().flatten().chain(&self.prune).chain(&self.delete)
    }

    /// How many objects the run reports on; each gets exactly one final outcome.
    pub fn len(&self) -> usize {
        self.apply.iter().map(Vec::len).sum::<usize>() + self.prune.len() + self.delete.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A failure concerning one object: what the API server (or kapply) said, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    /// What went wrong, in one line.
    pub message: String,
    /// A suggestion the user can act on ("install the CRD first", "use --force-conflicts").
    pub hint: Option<String>,
}

impl ObjectError {
    pub fn new(message: impl Into<String>) -> Self {
        ObjectError { message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ObjectError {}

/// Why kapply did not act on an object. `Display` says it in plain words.
///
/// A skip is never an error by itself: a skip caused by a failure elsewhere (`DependencyFailed`) is
/// counted through that failure, and an apply refused by the inventory policy is reported as
/// [`ApplyOutcome::Failed`] with a hint, not as a skip.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// An object it depends on failed to apply or reached the Failed status.
    DependencyFailed(ObjRef),
    /// An object it depends on was skipped.
    DependencySkipped(ObjRef),
    /// An object it depends on did not become Current before the reconcile timeout.
    DependencyTimedOut(ObjRef),
    /// Prune and delete: an object that depends on it still exists.
    DependentExists(ObjRef),
    /// Prune and delete: the live object names another inventory in `config.k8s.io/owning-inventory`.
    OwnedByAnotherInventory(String),
    /// Prune and delete: the live object has no owning-inventory annotation and the policy is strict.
    NotOwned,
    /// Prune and delete: a Namespace that still holds applied objects or the inventory.
    NamespaceInUse,
    /// Prune: the same live object (same UID) was just applied under this identity, e.g. a kind that
    /// moved API group.
    SameAsApplied(ObjRef),
    /// Prune and delete: the object no longer exists.
    AlreadyGone,
    /// Prune and delete: the cluster no longer serves its kind.
    KindNotServed,
    /// Prune: this many applies of the run failed. The set is not in place, so nothing is deleted
    /// until a run applies every object.
    ApplyFailed(usize),
    /// Prune: this many of the run's deletions are forbidden to the user (access review), so that no
    /// deletion is sent: a prune is done whole or not at all.
    DeletionForbidden(usize),
    /// The run was interrupted, or its overall `--timeout` expired, before kapply got to it.
    Cancelled,
    /// Reconcile: not waited for (`--no-wait`), as nothing in the set depends on it.
    NotWaited,
}

impl SkipReason {
    /// A stable CamelCase code for machines (the JSON `reason` field).
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::DependencyFailed(_) => "DependencyFailed",
            SkipReason::DependencySkipped(_) => "DependencySkipped",
            SkipReason::DependencyTimedOut(_) => "DependencyTimedOut",
            SkipReason::DependentExists(_) => "DependentExists",
            SkipReason::OwnedByAnotherInventory(_) => "OwnedByAnotherInventory",
            SkipReason::NotOwned => "NotOwned",
            SkipReason::NamespaceInUse => "NamespaceInUse",
            SkipReason::SameAsApplied(_) => "SameAsApplied",
            SkipReason::AlreadyGone => "AlreadyGone",
            SkipReason::KindNotServed => "KindNotServed",
            SkipReason::ApplyFailed(_) => "ApplyFailed",
            SkipReason::DeletionForbidden(_) => "DeletionForbidden",
            SkipReason::Cancelled => "Cancelled",
            SkipReason::NotWaited => "NotWaited",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::DependencyFailed(dep) => write!(f, "dependency {dep} failed"),
            SkipReason::DependencySkipped(dep) => write!(f, "dependency {dep} was skipped"),
            SkipReason::DependencyTimedOut(dep) => {
                write!(f, "dependency {dep} did not become Current in time")
            }
            SkipReason::DependentExists(dependent) => {
                write!(f, "{dependent} depends on it and still exists")
            }
            SkipReason::OwnedByAnotherInventory(id) => write!(f, "owned by another inventory ({id})"),
            SkipReason::NotOwned => {
                f.write_str("not owned by this inventory (no owning-inventory annotation)")
            }
            SkipReason::NamespaceInUse => {
                f.write_str("namespace still holds applied objects or the inventory")
            }
            SkipReason::SameAsApplied(applied) => {
                write!(f, "same object (same UID) as {applied}, applied in this run")
            }
            SkipReason::AlreadyGone => f.write_str("already gone"),
            SkipReason::KindNotServed => f.write_str("its kind is no longer served by the cluster"),
            SkipReason::ApplyFailed(count) => write!(
                f,
                "{count} apply(s) of this run failed; nothing is pruned until every apply succeeds: fix them and \
                 re-run"
            ),
            SkipReason::DeletionForbidden(count) => write!(
                f,
                "{count} deletion(s) of this prune are forbidden to your kubeconfig user; nothing is pruned until \
                 every one is allowed: fix the RBAC permissions and re-run"
            ),
            SkipReason::Cancelled => f.write_str("the run was cancelled"),
            SkipReason::NotWaited => f.write_str("not waited for (--no-wait)"),
        }
    }
}

/// How the apply of one object ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The object did not exist and was created.
    Created,
    /// The object existed and changed.
    Configured,
    /// The object existed and the apply changed nothing.
    Unchanged,
    Failed(ObjectError),
    Skipped(SkipReason),
}

impl ApplyOutcome {
    /// True for Created, Configured and Unchanged: the object is in the cluster as declared.
    pub fn is_applied(&self) -> bool {
        matches!(self, ApplyOutcome::Created | ApplyOutcome::Configured | ApplyOutcome::Unchanged)
    }
}

/// How waiting for an applied object to become Current ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitOutcome {
    /// The object is Current.
    Current,
    /// The object reached the Failed status (shown as it was); waiting longer would not help.
    Failed(StatusResult),
    /// The reconcile timeout expired; the last status seen.
    Timeout(StatusResult),
    /// kapply stopped waiting for it without a verdict.
    Skipped(SkipReason),
}

/// Why an object was dropped from the inventory instead of being deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AbandonReason {
    /// `cli-utils.sigs.k8s.io/on-remove: keep`.
    OnRemoveKeep,
    /// `client.lifecycle.config.k8s.io/deletion: detach`.
    LifecycleDetach,
    /// An abandoned object depends on it (it is that object's Namespace, CRD or depends-on target):
    /// kept with it, or a later run would delete it from under the object kept on purpose.
    DependentKept(ObjRef),
}

impl AbandonReason {
    /// A stable CamelCase code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            AbandonReason::OnRemoveKeep => "OnRemoveKeep",
            AbandonReason::LifecycleDetach => "LifecycleDetach",
            AbandonReason::DependentKept(_) => "DependentKept",
        }
    }
}

impl fmt::Display for AbandonReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbandonReason::OnRemoveKeep => write!(f, "annotated {ON_REMOVE}: {ON_REMOVE_KEEP}"),
            AbandonReason::LifecycleDetach => write!(f, "annotated {LIFECYCLE_DELETION}: {LIFECYCLE_DETACH}"),
            AbandonReason::DependentKept(dependent) => {
                write!(f, "{dependent}, which is kept, depends on it")
            }
        }
    }
}

/// How the prune (or, for `destroy`, the deletion) of one object ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneOutcome {
    /// The delete request was accepted (NotFound counts as success). Whether the object is gone is
    /// told by a later [`Event::Deleted`].
    Deleted,
    Skipped(SkipReason),
    /// Left in the cluster on purpose: its owning-inventory annotation removed, dropped from the
    /// inventory.
    Abandoned(AbandonReason),
    Failed(ObjectError),
}

/// The outcome of a `destroy` deletion: the same cases as a prune.
pub type DeleteOutcome = PruneOutcome;

/// How waiting for a pruned or deleted object to disappear ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeletionOutcome {
    /// The object is gone (NotFound).
    Gone,
    /// The prune (delete) timeout expired; the last status seen, typically Terminating.
    Timeout(StatusResult),
    /// It was seen gone, but exists again when the removal ends: something re-created it (a
    /// controller, another tool). A failure — a removal is never reported done while its object is
    /// there.
    Reappeared(ObjectError),
}

/// What was done to the inventory ConfigMap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InventoryAction {
    /// It did not exist and was created.
    Created,
    /// It was rewritten with a different set of objects.
    Updated,
    /// It already listed exactly these objects: nothing was written.
    Unchanged,
    Deleted,
}

impl InventoryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryAction::Created => "created",
            InventoryAction::Updated => "updated",
            InventoryAction::Unchanged => "unchanged",
            InventoryAction::Deleted => "deleted",
        }
    }
}

/// Counts of apply outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyCounts {
    pub created: usize,
    pub configured: usize,
    pub unchanged: usize,
    pub failed: usize,
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

/// Counts of [`WaitOutcome`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconcileCounts {
    pub current: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub skipped: usize,
}

impl ReconcileCounts {
    pub fn total(&self) -> usize {
        self.current + self.failed + self.timed_out + self.skipped
    }
}

/// Counts of prune (or destroy deletion) outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemoveCounts {
    pub deleted: usize,
    pub skipped: usize,
    pub abandoned: usize,
    pub failed: usize,
}

impl RemoveCounts {
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

/// Counts of [`DeletionOutcome`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeletionCounts {
    pub gone: usize,
    pub timed_out: usize,
    /// Seen gone, then there again at the end of the removal.
    pub reappeared: usize,
}

impl DeletionCounts {
    pub fn total(&self) -> usize {
        self.gone + self.timed_out + self.reappeared
    }
}

/// An object with the status it was left in.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectStatus {
    pub obj: ObjRef,
    pub status: StatusResult,
}

/// Which action failed for an [`ObjectFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailedAction {
    Apply,
    Prune,
    Delete,
}

impl FailedAction {
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
    pub obj: ObjRef,
    pub action: FailedAction,
    pub error: ObjectError,
}

/// How a run ended as a whole: what the CLI turns into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    /// Everything applied (or deleted) and reconciled (exit 0).
    Success,
    /// An apply, prune or delete failed (exit 1).
    Failed,
    /// Waiting timed out for an object to become Current or to disappear (exit 3).
    Timeout,
    /// An object reached the Failed status (exit 4).
    ObjectFailed,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Success => "success",
            RunOutcome::Failed => "failed",
            RunOutcome::Timeout => "timeout",
            RunOutcome::ObjectFailed => "objectFailed",
        }
    }
}

/// The totals of a run: the payload of the last event, built by [`SummaryBuilder`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub operation: Operation,
    pub dry_run: DryRun,
    pub apply: ApplyCounts,
    pub reconcile: ReconcileCounts,
    pub prune: RemoveCounts,
    /// Deletions by `destroy`.
    pub delete: RemoveCounts,
    /// Waits for pruned or deleted objects to disappear.
    pub deletion: DeletionCounts,
    pub warnings: usize,
    /// Objects whose reconcile failed or timed out, with their last status, in event order.
    pub not_current: Vec<ObjectStatus>,
    /// Pruned or deleted objects still there when the timeout expired, in event order.
    pub not_deleted: Vec<ObjectStatus>,
    /// Failed applies, prunes and deletes, in event order.
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
    /// ([`RunOutcome::Timeout`]). Skips alone never fail a run (see [`SkipReason`]).
    pub fn outcome(&self) -> RunOutcome {
        if self.apply.failed + self.prune.failed + self.delete.failed + self.deletion.reappeared > 0 {
            RunOutcome::Failed
        } else if self.reconcile.failed > 0 {
            RunOutcome::ObjectFailed
        } else if self.reconcile.timed_out + self.deletion.timed_out > 0 {
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
                    ApplyOutcome::Failed(error) => {
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
            Event::Status { .. } | Event::Inventory { .. } | Event::Summary(_) => {}
        }
    }

    /// The summary so far, without consuming the builder.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    pub fn finish(self) -> Summary {
        self.summary
    }
}

fn failure(obj: &ObjRef, action: FailedAction, error: &ObjectError) -> ObjectFailure {
    ObjectFailure { obj: obj.clone(), action, error: error.clone() }
}

/// A breach of the ordering contract found by [`check_order`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event #{index}: {message}")]
pub struct OrderViolation {
    /// Position of the offending event (the length of the sequence when something is missing at the end).
    pub index: usize,
    pub message: String,
}

/// Checks a complete event sequence against the ordering contract of the [module documentation](self):
/// rules 1–3 and 5–8 and "exactly one final outcome per object". Rule 4 (dependencies first) needs the
/// graph and is left to the engine's own tests.
///
/// Meant for tests of the engine and of anything that produces events.
///
/// # Errors
/// The first violation, with the index of the event that breaks the contract.
pub fn check_order(events: &[Event]) -> Result<(), OrderViolation> {
    let fail = |index: usize, message: String| Err(OrderViolation { index, message });

    let Some(Event::Plan(plan)) = events.first() else {
        return fail(0, "the first event is not the Plan".to_owned());
    };
    let dry_run = plan.dry_run.is_dry_run();
    let mut objects: HashMap<&ObjRef, (Phase, Stage)> = HashMap::new();
    let planned = plan.apply.iter().flatten().map(|obj| (obj, Phase::Apply));
    let planned = planned
        .chain(plan.prune.iter().map(|obj| (obj, Phase::Prune)))
        .chain(plan.delete.iter().map(|obj| (obj, Phase::Delete)));
    for (obj, phase) in planned {
        if objects.insert(obj, (phase, Stage::Planned)).is_some() {
            return fail(0, format!("{obj} appears twice in the plan"));
        }
    }
    let unfinished = |objects: &HashMap<&ObjRef, (Phase, Stage)>, phase: Option<Phase>| {
        // The smallest, so the message does not depend on the map's order.
        objects
            .iter()
            .filter(|(_, (p, stage))| *stage != Stage::Final && phase.is_none_or(|phase| phase == *p))
            .map(|(obj, _)| *obj)
            .min()
            .cloned()
    };

    let mut acted = false;
    let mut inventory_first = false;
    let mut inventory_last = false;
    for (index, event) in events.iter().enumerate().skip(1) {
        if matches!(events[index - 1], Event::Summary(_)) {
            return fail(index, "an event after the Summary".to_owned());
        }
        let result = match event {
            Event::Plan(_) => Err("a second Plan".to_owned()),
            Event::Apply { obj, outcome } => {
                acted = true;
                let to = if outcome.is_applied() && !dry_run { Stage::Waiting } else { Stage::Final };
                step(&mut objects, obj, &[Phase::Apply], Stage::Planned, to, "Apply")
            }
            Event::Status { obj, .. } => {
                let stage = objects.get(obj).map(|(_, stage)| *stage);
                if stage == Some(Stage::Waiting) {
                    Ok(())
                } else {
                    Err(format!("Status of {obj} while kapply is not waiting for it"))
                }
            }
            Event::Reconciled { obj, .. } => {
                step(&mut objects, obj, &[Phase::Apply], Stage::Waiting, Stage::Final, "Reconciled")
            }
            Event::Prune { obj, outcome } | Event::Delete { obj, outcome } => {
                acted = true;
                let (phase, what) = match event {
                    Event::Prune { .. } => (Phase::Prune, "Prune"),
                    _ => (Phase::Delete, "Delete"),
                };
                if let Some(left) = unfinished(&objects, Some(Phase::Apply)) {
                    return fail(index, format!("{what} of {obj} before {left} of the apply set finished"));
                }
                let to =
                    if *outcome == PruneOutcome::Deleted && !dry_run { Stage::Waiting } else { Stage::Final };
                step(&mut objects, obj, &[phase], Stage::Planned, to, what)
            }
            Event::Deleted { obj, .. } => step(
                &mut objects,
                obj,
                &[Phase::Prune, Phase::Delete],
                Stage::Waiting,
                Stage::Final,
                "Deleted",
            ),
            Event::Warning { .. } => Ok(()),
            Event::Inventory { .. } if dry_run => Err("the inventory is written in a dry run".to_owned()),
            Event::Inventory { .. } if plan.operation == Operation::Apply && !acted && !inventory_first => {
                inventory_first = true;
                Ok(())
            }
            Event::Inventory { .. } => match unfinished(&objects, None) {
                Some(left) => Err(format!("the inventory is written before {left} finished")),
                None => {
                    inventory_last = true;
                    Ok(())
                }
            },
            Event::Summary(summary) => {
                if let Some(left) = unfinished(&objects, None) {
                    Err(format!("{left} has no final outcome"))
                } else if *summary != Summary::from_events(&events[..index]) {
                    Err("the Summary does not match the events before it".to_owned())
                } else if !dry_run && plan.operation == Operation::Apply && !inventory_first {
                    Err("the inventory was not written before applying".to_owned())
                } else if !dry_run && !inventory_last {
                    Err("the inventory was not written at the end".to_owned())
                } else {
                    Ok(())
                }
            }
        };
        result.or_else(|message| fail(index, message))?;
    }
    match events.last() {
        Some(Event::Summary(_)) => Ok(()),
        _ => fail(events.len(), "the sequence does not end with a Summary".to_owned()),
    }
}

/// The phase of the plan an object belongs to, for [`check_order`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Apply,
    Prune,
    Delete,
}

/// Where an object stands in its sequence of events, for [`check_order`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Planned,
    Waiting,
    Final,
}

/// Moves `obj` from stage `from` to `to`, if it belongs to one of `phases` and stands at `from`.
fn step(
    objects: &mut HashMap<&ObjRef, (Phase, Stage)>,
    obj: &ObjRef,
    phases: &[Phase],
    from: Stage,
    to: Stage,
    what: &str,
) -> Result<(), String> {
    match objects.get_mut(obj) {
        None => Err(format!("{what} of {obj}, which the plan does not name")),
        Some((phase, _)) if !phases.contains(phase) => Err(format!("{what} of {obj}, planned for {phase:?}")),
        Some((_, stage)) if *stage != from => Err(format!("{what} of {obj} out of order")),
        Some((_, stage)) => {
            *stage = to;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(
            summary.apply,
            ApplyCounts { created: 2, configured: 1, unchanged: 1, failed: 1, skipped: 1 }
        );
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
        let plan =
            Plan::for_apply(vec![vec![cm("a")], vec![cm("b"), cm("c")]], vec![cm("old")], DryRun::None);
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
        assert_eq!(
            violation(&with_summary(events)),
            "event #7: the inventory was not written before applying"
        );
    }
}
