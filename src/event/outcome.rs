//! How one action on one object ended: the outcome enums an [`Event`](super::Event) carries, and why.

use std::fmt;

use crate::kstatus::StatusResult;
use crate::object::{LIFECYCLE_DELETION, LIFECYCLE_DETACH, ON_REMOVE, ON_REMOVE_KEEP, ObjRef};

/// A failure concerning one object: what the API server (or kapply) said, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    /// What went wrong, in one line.
    pub message: String,
    /// A suggestion the user can act on ("install the CRD first"), in words.
    pub hint: Option<String>,
    /// The setting that acts on the hint, when one does (printers name it: a flag, a builder call).
    pub setting: Option<super::Setting>,
}

impl ObjectError {
    /// An error with no hint.
    pub fn new(message: impl Into<String>) -> Self {
        ObjectError { message: message.into(), hint: None, setting: None }
    }

    /// The same error with `hint` as its suggestion (replacing any previous one).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with `setting` as what acts on its hint.
    pub fn with_setting(mut self, setting: super::Setting) -> Self {
        self.setting = Some(setting);
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
/// [`ApplyOutcome::Refused`], a failure, not as a skip.
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
    /// The run was cancelled (interrupted) before kapply got to it.
    Cancelled,
    /// The run's overall timeout ([`Applier::timeout`](crate::Applier::timeout)) passed before kapply
    /// got to it.
    RunTimedOut,
    /// Reconcile: not waited for (`--no-wait`), as nothing in the set depends on it.
    NotWaited,
}

impl SkipReason {
    /// The skip of what a stopped run did not get to: [`RunTimedOut`](Self::RunTimedOut) when it
    /// stopped for its timeout, else [`Cancelled`](Self::Cancelled).
    pub fn stopped(reason: Option<CancelReason>) -> Self {
        match reason {
            Some(CancelReason::TimedOut) => SkipReason::RunTimedOut,
            _ => SkipReason::Cancelled,
        }
    }

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
            SkipReason::RunTimedOut => "RunTimedOut",
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
            SkipReason::RunTimedOut => f.write_str("the run timed out"),
            SkipReason::NotWaited => f.write_str("not waited for (waiting is off)"),
        }
    }
}

/// How the apply of one object ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApplyOutcome {
    /// The object did not exist and was created.
    Created,
    /// The object existed and changed.
    Configured,
    /// The object existed and the apply changed nothing.
    Unchanged,
    /// The apply failed: the API server refused the request, or a read or check before it failed. The
    /// object may exist (a request that timed out may have created it), so the inventory records it.
    /// The run goes on and ends [`RunOutcome::Failed`](super::RunOutcome::Failed); objects that depend
    /// on it are skipped.
    Failed(ObjectError),
    /// kapply refused to apply it: the inventory policy forbids taking over an object that exists and is
    /// not this inventory's. Nothing was sent, and the object is not ours, so the inventory does not
    /// record it (unless it already did). Otherwise as [`Failed`](Self::Failed): it fails the run, its
    /// dependents are skipped, and printers show it as a failed apply.
    Refused(ObjectError),
    /// Not sent, for the reason given; no wait follows. Alone, it does not fail the run.
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
pub enum PruneOutcome {
    /// The delete request was accepted (NotFound counts as success). Whether the object is gone is
    /// told by a later [`Event::Deleted`](super::Event::Deleted).
    Deleted,
    /// Not deleted, for the reason given. Alone, it does not fail the run.
    Skipped(SkipReason),
    /// Left in the cluster on purpose: its owning-inventory annotation removed, dropped from the
    /// inventory.
    Abandoned(AbandonReason),
    /// The delete request failed: the object's final event; the run ends
    /// [`RunOutcome::Failed`](super::RunOutcome::Failed).
    Failed(ObjectError),
}

/// The outcome of a `destroy` deletion: the same cases as a prune.
pub type DeleteOutcome = PruneOutcome;

/// How waiting for a pruned or deleted object to disappear ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum InventoryAction {
    /// It did not exist and was created.
    Created,
    /// It was rewritten with a different set of objects.
    Updated,
    /// It already listed exactly these objects: nothing was written.
    Unchanged,
    /// It was deleted: the end of a `destroy` that left nothing for it to list.
    Deleted,
}

impl InventoryAction {
    /// `created`, `updated`, `unchanged` or `deleted`: the `action` of the JSON `inventory` line, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryAction::Created => "created",
            InventoryAction::Updated => "updated",
            InventoryAction::Unchanged => "unchanged",
            InventoryAction::Deleted => "deleted",
        }
    }
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// Its cancellation token was cancelled (the CLI does so on SIGINT and SIGTERM).
    Interrupted,
    /// Its overall timeout expired.
    TimedOut,
}

impl CancelReason {
    /// `interrupted` or `timedOut`, as JSON output writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Interrupted => "interrupted",
            CancelReason::TimedOut => "timedOut",
        }
    }
}
