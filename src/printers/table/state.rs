//! [`TableState`]: a run's events folded into table rows and counts — the model the table shows.

use std::collections::HashMap;

use crate::event::{
    ApplyOutcome, CancelReason, DeletionOutcome, DryRun, Event, PruneOutcome, Summary, WaitOutcome,
};
use crate::kstatus::Status;
use crate::object::ObjRef;

/// What was done to an object: the ACTION column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// In the apply set, not applied yet.
    Pending,
    /// Applied, and the object did not exist (in a dry run: would be created).
    Created,
    /// Applied, and the apply changed the object.
    Configured,
    /// Applied, and the apply changed nothing.
    Unchanged,
    /// The apply failed; the row's message is the error.
    ApplyFailed,
    /// Not applied: something it depends on failed, was skipped or timed out, or the run was cancelled
    /// first; the row's message says why.
    ApplySkipped,
    /// A prune candidate, not pruned yet.
    PrunePending,
    /// Pruned: its deletion was requested (in a dry run: would be); the row finishes once the object is
    /// gone.
    Pruned,
    /// A prune candidate left alone (another inventory owns it, a dependent still exists, ...); the row's
    /// message says why.
    PruneSkipped,
    /// The prune's delete request failed; the row's message is the error.
    PruneFailed,
    /// To be deleted by `destroy`, not deleted yet.
    DeletePending,
    /// Deleted by `destroy`: its deletion was requested (in a dry run: would be); the row finishes once
    /// the object is gone.
    Deleted,
    /// Left alone by `destroy`; the row's message says why.
    DeleteSkipped,
    /// `destroy`'s delete request failed; the row's message is the error.
    DeleteFailed,
    /// Prune or `destroy` left it in the cluster as an annotation asks (`on-remove: keep`,
    /// `deletion: detach`) and dropped it from the inventory.
    Abandoned,
}

impl Action {
    /// The ACTION column's text: `Created`, `Apply failed`, `Prune pending`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pending => "Pending",
            Action::Created => "Created",
            Action::Configured => "Configured",
            Action::Unchanged => "Unchanged",
            Action::ApplyFailed => "Apply failed",
            Action::ApplySkipped => "Apply skipped",
            Action::PrunePending => "Prune pending",
            Action::Pruned => "Pruned",
            Action::PruneSkipped => "Prune skipped",
            Action::PruneFailed => "Prune failed",
            Action::DeletePending => "Delete pending",
            Action::Deleted => "Deleted",
            Action::DeleteSkipped => "Delete skipped",
            Action::DeleteFailed => "Delete failed",
            Action::Abandoned => "Abandoned",
        }
    }
}

impl Action {
    /// The ACTION column's text in a run with `dry_run`: in a dry run what was decided but not done
    /// reads `Would create`, `Would configure`, `Would prune`, `Would delete`, never as if done.
    pub fn label(self, dry_run: DryRun) -> &'static str {
        if !dry_run.is_dry_run() {
            return self.as_str();
        }
        match self {
            Action::Created => "Would create",
            Action::Configured => "Would configure",
            Action::Pruned => "Would prune",
            Action::Deleted => "Would delete",
            Action::Abandoned => "Would abandon",
            other => other.as_str(),
        }
    }
}

/// One object of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The object the row is about.
    pub obj: ObjRef,
    /// What was done to it so far.
    pub action: Action,
    /// The last kstatus status seen; None before any.
    pub status: Option<Status>,
    /// The last status message, error or skip reason.
    pub message: String,
    /// The object reached its final outcome.
    pub finished: bool,
}

impl Row {
    fn new(obj: ObjRef, action: Action) -> Self {
        Row { obj, action, status: None, message: String::new(), finished: false }
    }

    /// Finished as wished: applied and Current (or, in a dry run, decided), pruned or deleted and gone,
    /// unchanged. A short screen folds these rows into counts; every other row stays visible.
    pub fn is_settled(&self) -> bool {
        let ok_action = matches!(
            self.action,
            Action::Created | Action::Configured | Action::Unchanged | Action::Pruned | Action::Deleted
        );
        let ok_status = matches!(self.status, None | Some(Status::Current) | Some(Status::NotFound));
        self.finished && ok_action && ok_status && !self.message.starts_with("reconcile ")
    }
}

/// The rows of a run, updated event by event. Rows keep the order of the plan; an object the plan did
/// not name gets a row at the end.
#[derive(Debug, Clone, Default)]
pub struct TableState {
    pub(super) rows: Vec<Row>,
    index: HashMap<ObjRef, usize>,
    dry_run: DryRun,
    pub(super) warnings: Vec<String>,
    pub(super) summary: Option<Summary>,
    /// Lines from the program driving the run (the interrupt notice), shown inside the live frame.
    pub(super) notices: Vec<String>,
    pub(super) cancelled: Option<CancelReason>,
}

impl TableState {
    /// Empty: rows come with the `Plan` event (and with any event about an object it did not name).
    pub fn new() -> Self {
        Self::default()
    }

    /// Updates the rows with one event; true when something `render` shows changed.
    pub fn update(&mut self, event: &Event) -> bool {
        let dry_run = self.dry_run.is_dry_run();
        match event {
            Event::Plan(plan) => {
                let notices = std::mem::take(&mut self.notices);
                *self = TableState { dry_run: plan.dry_run, notices, ..TableState::default() };
                for wave in &plan.apply {
                    for obj in wave {
                        self.row(obj, Action::Pending);
                    }
                }
                for obj in &plan.prune {
                    self.row(obj, Action::PrunePending);
                }
                for obj in &plan.delete {
                    self.row(obj, Action::DeletePending);
                }
            }
            Event::Apply { obj, outcome } => {
                let row = self.row(obj, Action::Pending);
                row.action = match outcome {
                    ApplyOutcome::Created => Action::Created,
                    ApplyOutcome::Configured => Action::Configured,
                    ApplyOutcome::Unchanged => Action::Unchanged,
                    ApplyOutcome::Failed(error) | ApplyOutcome::Refused(error) => {
                        row.message = error.message.clone();
                        Action::ApplyFailed
                    }
                    ApplyOutcome::Skipped(reason) => {
                        row.message = reason.to_string();
                        Action::ApplySkipped
                    }
                };
                row.finished = dry_run || !outcome.is_applied();
            }
            Event::Status { obj, status } => {
                let row = self.row(obj, Action::Pending);
                row.status = Some(status.status);
                row.message = super::super::status_message(status);
            }
            Event::Blocked { obj, dependency, status } => {
                let row = self.row(obj, Action::Pending);
                row.message = format!(
                    "waiting for {dependency}: {}, {}",
                    status.status,
                    super::super::status_message(status)
                );
            }
            Event::Reconciled { obj, outcome } => {
                let row = self.row(obj, Action::Pending);
                match outcome {
                    WaitOutcome::Current => {
                        if row.status != Some(Status::Current) {
                            row.status = Some(Status::Current);
                            row.message.clear();
                        }
                    }
                    WaitOutcome::Failed(status) => {
                        row.status = Some(status.status);
                        row.message = status.message.clone();
                    }
                    WaitOutcome::Timeout(status) => {
                        row.status = Some(status.status);
                        row.message = format!("reconcile timeout: {}", super::super::status_message(status));
                    }
                    WaitOutcome::Skipped(reason) => row.message = format!("reconcile skipped: {reason}"),
                }
                row.finished = true;
            }
            Event::Prune { obj, outcome } => {
                let actions =
                    [Action::PrunePending, Action::Pruned, Action::PruneSkipped, Action::PruneFailed];
                self.removal(obj, outcome, actions, dry_run);
            }
            Event::Delete { obj, outcome } => {
                let actions =
                    [Action::DeletePending, Action::Deleted, Action::DeleteSkipped, Action::DeleteFailed];
                self.removal(obj, outcome, actions, dry_run);
            }
            Event::Deleted { obj, outcome } => {
                let row = self.row(obj, Action::PrunePending);
                match outcome {
                    DeletionOutcome::Gone => {
                        row.status = Some(Status::NotFound);
                        row.message.clear();
                    }
                    DeletionOutcome::Timeout(status) => {
                        row.status = Some(status.status);
                        row.message = format!("deletion timeout: {}", status.message);
                    }
                    DeletionOutcome::Reappeared(error) => {
                        row.status = Some(Status::Current);
                        row.message = format!("deletion failed: {error}");
                    }
                }
                row.finished = true;
            }
            Event::Warning { obj, message } => {
                self.warnings.push(match obj {
                    Some(obj) => format!("warning: {obj}: {message}"),
                    None => format!("warning: {message}"),
                });
                return false;
            }
            Event::Cancelled(reason) => self.cancelled = Some(*reason),
            Event::Inventory { .. } => return false,
            Event::Summary(summary) => self.summary = Some(summary.clone()),
        }
        true
    }

    /// `[pending, done, skipped, failed]` actions of a prune or a delete.
    fn removal(&mut self, obj: &ObjRef, outcome: &PruneOutcome, actions: [Action; 4], dry_run: bool) {
        let [pending, done, skipped, failed] = actions;
        let row = self.row(obj, pending);
        row.finished = true;
        row.action = match outcome {
            PruneOutcome::Deleted => {
                row.finished = dry_run;
                done
            }
            PruneOutcome::Skipped(reason) => {
                row.message = reason.to_string();
                skipped
            }
            PruneOutcome::Abandoned(reason) => {
                row.message = reason.to_string();
                Action::Abandoned
            }
            PruneOutcome::Failed(error) => {
                row.message = error.message.clone();
                failed
            }
        };
    }

    /// The row of `obj`, created with `pending` when the plan did not name it.
    fn row(&mut self, obj: &ObjRef, pending: Action) -> &mut Row {
        let index = match self.index.get(obj) {
            Some(&index) => index,
            None => {
                self.rows.push(Row::new(obj.clone(), pending));
                self.index.insert(obj.clone(), self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        &mut self.rows[index]
    }

    /// The rows, in plan order (apply waves, then prune candidates, then deletions), then objects the
    /// plan did not name in the order they first appeared.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The plan's dry run: rows and totals of a dry run say so.
    pub fn dry_run(&self) -> DryRun {
        self.dry_run
    }

    /// How many objects the run reports on.
    pub fn total(&self) -> usize {
        self.rows.len()
    }

    /// How many reached their final outcome.
    pub fn finished(&self) -> usize {
        self.rows.iter().filter(|row| row.finished).count()
    }

    /// Warning lines, in arrival order.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Adds a line from the program driving the run, e.g. that it was interrupted: the live table
    /// shows it in its frame, where no redraw overwrites it.
    pub fn notice(&mut self, line: impl Into<String>) {
        self.notices.push(line.into());
    }

    /// Why the run stopped early, once its `Cancelled` event arrived.
    pub fn cancelled(&self) -> Option<CancelReason> {
        self.cancelled
    }

    /// The summary, once the last event arrived.
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }
}
