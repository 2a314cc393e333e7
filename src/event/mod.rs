//! The event stream: [`Event`] is the one contract between the engine, which emits events, and the
//! printers (or any library user), which consume them.
//!
//! The engine never prints and printers never decide: everything a printer shows — lines, a table, the
//! final totals, the exit code the CLI picks — is derived from these events alone. [`SummaryBuilder`]
//! folds a stream into the [`Summary`] that ends it, so the engine and every test count the same way.
//!
//! The events are also what the engine itself goes by: the set it writes to the inventory at the end
//! of a run is folded from them ([`inventory::Outcome::observe`](crate::inventory::Outcome::observe)).
//! So each event carries enough to tell where its object stands: whether it may exist in the cluster as
//! this inventory's (an apply that failed: [`ApplyOutcome::Failed`]) or is not ours (an apply the
//! inventory policy refused: [`ApplyOutcome::Refused`]), whether a removal left it behind (a skip,
//! a timeout) or gave it up (gone, abandoned).
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
//!    independent objects interleave freely. Until then, zero or more [`Event::Blocked`] say which
//!    dependency it waits for and how that one stands: each names an object of `Plan::apply` before its
//!    `Apply`, and a dependency between its `Apply` and its `Reconciled`.
//! 5. For each object of `Plan::prune`: exactly one [`Event::Prune`], after the final event of every
//!    object of the apply set (pruning starts once applying and waiting are done). When it was deleted
//!    and the run is not a dry run, zero or more `Status` (Terminating, then NotFound when seen gone),
//!    then exactly one [`Event::Deleted`] — once the removal phase is done, when a last look confirms
//!    it is still gone (or finds it back: [`DeletionOutcome::Reappeared`]).
//! 6. Destroy: for each object of `Plan::delete`, exactly one [`Event::Delete`], then, as for prune,
//!    `Status` events and exactly one `Deleted` when it was deleted in a real run.
//! 7. After every object's final event: [`Event::Inventory`] once more in a real run — `Created`,
//!    `Updated` or `Unchanged` (the objects that really exist) after an apply, `Deleted` after a destroy.
//!    A destroy whose inventory lists its own Namespace also writes it once just before deleting that
//!    Namespace, when it is the only object left (the inventory goes with it); a destroy of an
//!    inventory that does not exist plans nothing and writes nothing.
//! 8. [`Event::Cancelled`], at most once, right before the `Summary`: the run was stopped early
//!    (its cancellation token, or its overall timeout), so what was not done yet was skipped.
//! 9. [`Event::Summary`] last, exactly once; it equals [`SummaryBuilder`] folded over the events before
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
//! and messages are written by kapply or the API server, never copied from object fields. A status's
//! [details](crate::details) are no exception: their messages are what the scheduler, the kubelet and
//! the controllers wrote in status fields and Events, never a spec or data.

mod order;
mod outcome;
mod setting;
mod summary;
#[cfg(test)]
mod tests;

pub use order::{OrderViolation, check_order};
pub use outcome::{
    AbandonReason, ApplyOutcome, CancelReason, DeleteOutcome, DeletionOutcome, InventoryAction, ObjectError,
    PruneOutcome, SkipReason, WaitOutcome,
};
pub use setting::{Setting, SettingNames};
pub use summary::{
    ApplyCounts, DeletionCounts, FailedAction, ObjectFailure, ObjectStatus, ReconcileCounts, RemoveCounts,
    RunOutcome, Summary, SummaryBuilder,
};

use crate::kstatus::StatusResult;
use crate::object::ObjRef;

/// One thing that happened during a run. See the [module documentation](self) for the order.
///
/// No variant holds an object body: see "No object bodies" in the module documentation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// First event of every run: what the run is about to do.
    Plan(Plan),
    /// The apply of one object ended. Once per object of [`Plan::apply`].
    Apply {
        /// The object, one of [`Plan::apply`].
        obj: ObjRef,
        /// How it ended. When it applied in a real run, its `Status` events and its `Reconciled`
        /// follow; otherwise this is the object's final event.
        outcome: ApplyOutcome,
    },
    /// The status of an object changed while kapply waits for it (to become Current, or to be gone).
    /// Only changes are reported, not every poll.
    Status {
        /// An object kapply is waiting for: applied and not yet `Reconciled`, or pruned (deleted) and
        /// not yet `Deleted`.
        obj: ObjRef,
        /// Its status as computed the kstatus way, different from the last one reported for it.
        status: StatusResult,
    },
    /// An object of the apply set is not applied yet because an object it depends on is not Current
    /// yet: which one, and that object's status. Emitted with each `Status` event of the dependency
    /// (its status or details changed), once per object that depends on it directly and waits for it.
    Blocked {
        /// An object of [`Plan::apply`] whose `Apply` has not come yet.
        obj: ObjRef,
        /// An object it depends on, applied and not yet `Reconciled`.
        dependency: ObjRef,
        /// The dependency's status, as its `Status` event carried it (details included).
        status: StatusResult,
    },
    /// Waiting for an applied object to become Current ended.
    Reconciled {
        /// An object whose `Apply` reported it applied; no event about it follows this one.
        obj: ObjRef,
        /// The verdict of the wait: Current, Failed, timed out, or no verdict (skipped).
        outcome: WaitOutcome,
    },
    /// The prune of one object ended. Once per object of [`Plan::prune`].
    Prune {
        /// The prune candidate, one of [`Plan::prune`].
        obj: ObjRef,
        /// How it ended. When the delete was accepted in a real run, `Status` events and a `Deleted`
        /// follow; otherwise this is the object's final event.
        outcome: PruneOutcome,
    },
    /// The deletion of one object by `destroy` ended. Once per object of [`Plan::delete`].
    Delete {
        /// The object, one of [`Plan::delete`].
        obj: ObjRef,
        /// How it ended; as for [`Event::Prune`], a `Deleted` follows an accepted delete in a real run.
        outcome: DeleteOutcome,
    },
    /// Waiting for a pruned or deleted object to disappear ended.
    Deleted {
        /// An object whose `Prune` (`Delete`) reported the delete accepted; no event about it follows.
        obj: ObjRef,
        /// Whether it is gone: the last look once the removal phase is done.
        outcome: DeletionOutcome,
    },
    /// Something the user should know that changes no outcome: an API server warning, a deprecated
    /// field, an object that could not be abandoned cleanly.
    Warning {
        /// The object it concerns, or `None` for the run as a whole (e.g. a failed refresh of the
        /// cluster's discovery).
        obj: Option<ObjRef>,
        /// One line, written by kapply or the API server, never copied from an object's fields.
        message: String,
    },
    /// The inventory ConfigMap was written (or deleted, at the end of a destroy).
    Inventory {
        /// The inventory ConfigMap.
        inventory: ObjRef,
        /// What was done to it; `Unchanged` when nothing had to be written.
        action: InventoryAction,
        /// How many objects it lists after the write (0 when `Deleted`).
        objects: usize,
    },
    /// The run was stopped early: right before the [`Event::Summary`], at most once.
    Cancelled(CancelReason),
    /// Last event of every run that was not aborted.
    Summary(Summary),
}

impl Event {
    /// The object an event is about, if any (the inventory itself is not "about" an object).
    pub fn object(&self) -> Option<&ObjRef> {
        match self {
            Event::Apply { obj, .. }
            | Event::Status { obj, .. }
            | Event::Blocked { obj, .. }
            | Event::Reconciled { obj, .. }
            | Event::Prune { obj, .. }
            | Event::Delete { obj, .. }
            | Event::Deleted { obj, .. } => Some(obj),
            Event::Warning { obj, .. } => obj.as_ref(),
            Event::Plan(_) | Event::Inventory { .. } | Event::Cancelled(_) | Event::Summary(_) => None,
        }
    }
}

/// What a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Operation {
    /// `apply` (or `preview`): apply the set, then prune what left it.
    #[default]
    Apply,
    /// `destroy` (or `preview --destroy`): delete everything in the inventory.
    Destroy,
}

impl Operation {
    /// `apply` or `destroy`: the `operation` field of the JSON output, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "apply",
            Operation::Destroy => "destroy",
        }
    }
}

/// Whether a run writes to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
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
    /// True for `Client` and `Server`: the run persists nothing (no inventory write, no wait), and each
    /// object's final event is its `Apply` (`Prune`, `Delete`).
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

    /// `none`, `client` or `server`: the `dryRun` field of the JSON output, stable.
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
    /// Apply (then prune) or destroy; tells which of the lists below may be non-empty.
    pub operation: Operation,
    /// The apply set as waves (topological levels): a view for printing. The engine applies each object
    /// as soon as its own dependencies are done, so events need not follow wave boundaries.
    pub apply: Vec<Vec<ObjRef>>,
    /// Prune candidates (in the inventory, no longer in the set), in deletion order.
    pub prune: Vec<ObjRef>,
    /// Objects `destroy` deletes, in deletion order.
    pub delete: Vec<ObjRef>,
    /// Whether the run writes: in a dry run, no `Status`, `Reconciled`, `Deleted` or `Inventory` event
    /// follows.
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

    /// True when the plan names no object: no `Apply`, `Prune` or `Delete` event follows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
