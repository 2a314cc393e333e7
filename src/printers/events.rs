//! The events printer: one line per event, as cli-utils' `--output events` prints them.
//!
//! Entry point: [`EventsPrinter::new`]. Object lines read `<Kind[.group]>/<namespace>/<name> <what
//! happened>`, with ` (preview)` or ` (preview-server)` appended in a dry run:
//!
//! ```text
//! ConfigMap/prod/app-config configured
//! Certificate.cert-manager.io/prod/web-tls apply failed: no matches for kind "Certificate"
//!   hint: apply the CustomResourceDefinition first, or add it to the set
//! Deployment.apps/prod/db reconcile timeout
//! Deployment.apps/prod/api apply skipped: dependency Deployment.apps/prod/db did not become Current in time
//! ```
//!
//! A status line (`--status-events`) and a failed or timed-out reconcile line are followed by the
//! status's details, one indented line each: why the object is not Current yet, and the Pod (or other
//! object) that says so:
//!
//! ```text
//! Deployment.apps/prod/api reconcile timeout: InProgress, Available: 0/1
//!   Pod/prod/api-7c9b-x2x4q (Unschedulable): 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.
//! ```
//!
//! The summary prints the totals, then each object not Current (or not gone) with its status, message,
//! conditions and details.
//!
//! While waiting, a [heartbeat](Printer::heartbeat) — called by whoever drives the run, on its own
//! timer — says how long the run has taken, how many objects are not finished, and names the ones
//! waited for longest with their last status (see [`super::heartbeat`]). With
//! [`PrinterOptions::timestamps`] every line begins with an RFC 3339 UTC timestamp.

use std::io::{self, Write};
use std::time::Duration;

use jiff::Timestamp;

use crate::event::{
    ApplyOutcome, DeletionOutcome, Event, InventoryAction, ObjectError, PruneOutcome, SettingNames, Summary,
    WaitOutcome,
};
use crate::object::ObjRef;

use super::heartbeat::Waiting;
use super::json::Clock;
use super::stamp::Stamped;
use super::{Printer, PrinterOptions, detail_line, status_lines, totals_lines};
use crate::kstatus::StatusResult;

/// Writes one line per event to `W`. See the [module documentation](self).
pub struct EventsPrinter<W> {
    out: Stamped<W>,
    /// What the heartbeat reports.
    waiting: Waiting,
    status_events: bool,
    /// The marker given by the options; when None, the plan's.
    preview: Option<&'static str>,
    marker: Option<&'static str>,
}

impl<W: Write> EventsPrinter<W> {
    /// A printer writing to `out`; of `options` it uses [`PrinterOptions::preview`],
    /// [`PrinterOptions::status_events`] and [`PrinterOptions::timestamps`] (from the system clock).
    pub fn new(out: W, options: &PrinterOptions) -> Self {
        Self::with_clock(out, options, Box::new(Timestamp::now))
    }

    /// A printer whose `--timestamps` come from `clock`, called once per line.
    pub fn with_clock(out: W, options: &PrinterOptions, clock: Clock) -> Self {
        EventsPrinter {
            out: Stamped::new(out, options.timestamps.then_some(clock)),
            waiting: Waiting::default(),
            status_events: options.status_events,
            preview: options.preview,
            marker: options.preview,
        }
    }

    /// The writer back, e.g. the buffer of a test.
    pub fn into_inner(self) -> W {
        self.out.into_inner()
    }

    /// `<obj> <text>[ (<marker>)]`.
    fn object_line(&mut self, obj: &ObjRef, text: &str) -> io::Result<()> {
        match self.marker {
            Some(marker) => writeln!(self.out, "{obj} {text} ({marker})"),
            None => writeln!(self.out, "{obj} {text}"),
        }
    }

    /// `<obj> <action> failed: <message>`, then the hint on an indented line.
    fn failure(&mut self, obj: &ObjRef, action: &str, error: &ObjectError) -> io::Result<()> {
        self.object_line(obj, &format!("{action} failed: {}", error.message))?;
        match error.hint_named(&SettingNames::default()) {
            Some(hint) => writeln!(self.out, "  hint: {hint}"),
            None => Ok(()),
        }
    }

    fn removal(&mut self, obj: &ObjRef, outcome: &PruneOutcome, done: &str, verb: &str) -> io::Result<()> {
        match outcome {
            PruneOutcome::Deleted => self.object_line(obj, done),
            PruneOutcome::Skipped(reason) => self.object_line(obj, &format!("{verb} skipped: {reason}")),
            PruneOutcome::Abandoned(reason) => self.object_line(obj, &format!("abandoned: {reason}")),
            PruneOutcome::Failed(error) => self.failure(obj, verb, error),
        }
    }

    /// One indented line per detail of a status (why it is not Current yet).
    fn details(&mut self, status: &StatusResult) -> io::Result<()> {
        for detail in &status.details {
            writeln!(self.out, "{}", detail_line(detail))?;
        }
        Ok(())
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        for line in totals_lines(summary) {
            writeln!(self.out, "{line}")?;
        }
        for item in summary.not_current.iter().chain(&summary.not_deleted) {
            for line in status_lines(item) {
                writeln!(self.out, "{line}")?;
            }
        }
        Ok(())
    }
}

impl<W: Write + Send> Printer for EventsPrinter<W> {
    fn print(&mut self, event: &Event) -> io::Result<()> {
        self.waiting.observe(event);
        match event {
            Event::Plan(plan) => {
                self.marker = self.preview.or(plan.dry_run.marker());
                Ok(())
            }
            Event::Apply { obj, outcome } => match outcome {
                ApplyOutcome::Created => self.object_line(obj, "created"),
                ApplyOutcome::Configured => self.object_line(obj, "configured"),
                ApplyOutcome::Unchanged => self.object_line(obj, "unchanged"),
                ApplyOutcome::Failed(error) | ApplyOutcome::Refused(error) => {
                    self.failure(obj, "apply", error)
                }
                ApplyOutcome::Skipped(reason) => self.object_line(obj, &format!("apply skipped: {reason}")),
            },
            Event::Status { obj, status } if self.status_events => {
                self.object_line(obj, &format!("is {}: {}", status.status, status.message))?;
                self.details(status)
            }
            Event::Status { .. } => Ok(()),
            Event::Blocked { obj, dependency, status } if self.status_events => {
                self.object_line(
                    obj,
                    &format!("waiting for {dependency}: {}, {}", status.status, status.message),
                )?;
                self.details(status)
            }
            Event::Blocked { .. } => Ok(()),
            Event::Reconciled { obj, outcome } => match outcome {
                WaitOutcome::Current => self.object_line(obj, "reconciled"),
                WaitOutcome::Failed(status) => {
                    self.object_line(obj, &format!("reconcile failed: {}", status.message))?;
                    self.details(status)
                }
                WaitOutcome::Timeout(status) if !status.details.is_empty() => {
                    self.object_line(
                        obj,
                        &format!("reconcile timeout: {}, {}", status.status, status.message),
                    )?;
                    self.details(status)
                }
                WaitOutcome::Timeout(_) => self.object_line(obj, "reconcile timeout"),
                WaitOutcome::Skipped(reason) => {
                    self.object_line(obj, &format!("reconcile skipped: {reason}"))
                }
            },
            Event::Prune { obj, outcome } => self.removal(obj, outcome, "pruned", "prune"),
            Event::Delete { obj, outcome } => self.removal(obj, outcome, "deleted", "delete"),
            Event::Deleted { obj, outcome } => match outcome {
                DeletionOutcome::Gone => self.object_line(obj, "deletion confirmed"),
                DeletionOutcome::Timeout(_) => self.object_line(obj, "deletion timeout"),
                DeletionOutcome::Reappeared(error) => {
                    self.object_line(obj, &format!("deletion failed: {error}"))
                }
            },
            Event::Warning { obj: Some(obj), message } => writeln!(self.out, "warning: {obj}: {message}"),
            Event::Warning { obj: None, message } => writeln!(self.out, "warning: {message}"),
            Event::Inventory { inventory, action: InventoryAction::Deleted, .. } => {
                writeln!(self.out, "inventory {inventory} deleted")
            }
            Event::Inventory { inventory, action, objects } => {
                writeln!(self.out, "inventory {inventory} {}: {objects} object(s)", action.as_str())
            }
            // The summary's last line says it.
            Event::Cancelled(_) => Ok(()),
            Event::Summary(summary) => self.summary(summary),
        }
    }

    fn heartbeat(&mut self, elapsed: Duration) -> io::Result<()> {
        for line in self.waiting.lines(elapsed) {
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
