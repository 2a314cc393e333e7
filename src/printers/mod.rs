//! Printers: the event stream made readable — text lines, JSON lines, or a live table.
//!
//! Entry point: [`printer_for`] gives the [`Printer`] of an [`OutputFormat`]; feed it every
//! [`Event`] of a run with [`Printer::print`], then call [`Printer::finish`] once.
//!
//! Printers never decide: they show what the events say, and derive nothing the events do not hold.
//! Every printer writes to any [`io::Write`], so each is tested against recorded event sequences with
//! golden outputs (`tests/fixtures/printers/`). Events carry no object bodies, so no printer can leak
//! Secret data (see [`crate::event`]).
//!
//! | format | module | for |
//! | --- | --- | --- |
//! | `events` | [`events`] | people and logs: one line per event, cli-utils style |
//! | `json` | [`json`] | machines: one JSON object per line, schema in `docs/json-output.md` |
//! | `table` | [`table`] | terminals: one row per object redrawn in place, and a progress bar |

pub mod events;
pub mod heartbeat;
pub mod json;
mod stamp;
pub mod table;

#[cfg(test)]
pub(crate) mod recorded;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::time::Duration;

use crate::event::{CancelReason, Event, ObjectStatus, Operation, Summary};

pub use crate::diff::colorize as colorize_diff;
pub use events::EventsPrinter;
pub use json::JsonPrinter;
pub use table::{TablePrinter, TableState, render};

/// Shows a run's events. Call [`print`](Printer::print) for every event in order, then
/// [`finish`](Printer::finish) once — also after an error, so a live display is stopped cleanly.
///
/// # Errors
/// Only I/O errors of the underlying writer. A broken pipe is returned like any other: the caller
/// decides to exit quietly.
pub trait Printer: Send {
    /// Shows one event of the run, in the order the run emitted it. A printer may write nothing for
    /// some events (e.g. `Status` events unless [`PrinterOptions::status_events`]) or hold output back
    /// until [`finish`](Printer::finish).
    fn print(&mut self, event: &Event) -> io::Result<()>;

    /// Reports an error that aborted the run (the stream ends without a `Summary`).
    ///
    /// The default does nothing: for people the CLI prints the error on stderr. The JSON printer writes
    /// an `error` line so a machine reading stdout sees why the stream stopped.
    fn error(&mut self, message: &str) -> io::Result<()> {
        let _ = message;
        Ok(())
    }

    /// Says the run is alive: called by whoever drives the stream, on its own timer (the CLI: every
    /// `--heartbeat`), with the time since the run began, also while no event arrives.
    ///
    /// The default does nothing: a live table shows progress by itself and JSON consumers have their
    /// own timeouts. The events printer writes how many objects are not finished and the ones waited
    /// for longest with their last status, for CI jobs that kill a silent step.
    fn heartbeat(&mut self, elapsed: Duration) -> io::Result<()> {
        let _ = elapsed;
        Ok(())
    }

    /// Shows a line from the program driving the run, e.g. that it was interrupted and is finishing
    /// the requests in flight.
    ///
    /// The live table draws it inside its frame, where the next redraw cannot overwrite it (a line
    /// written to the terminal beside a live table would be). The default does nothing: other printers
    /// leave such lines to the caller's stderr.
    fn notice(&mut self, message: &str) -> io::Result<()> {
        let _ = message;
        Ok(())
    }

    /// Flushes what is buffered and stops any live display.
    fn finish(&mut self) -> io::Result<()>;
}

/// The value of `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputFormat {
    /// One line of text per event ([`EventsPrinter`]), the default.
    #[default]
    Events,
    /// One JSON object per line ([`JsonPrinter`]), schema in `docs/json-output.md`.
    Json,
    /// One row per object, redrawn in place on a terminal ([`TablePrinter`]).
    Table,
}

impl OutputFormat {
    /// Every format, in declaration order.
    pub const ALL: [OutputFormat; 3] = [OutputFormat::Events, OutputFormat::Json, OutputFormat::Table];

    /// The format's `--output` spelling: `events`, `json` or `table`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Events => "events",
            OutputFormat::Json => "json",
            OutputFormat::Table => "table",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `--output` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format {0:?} (expected events, json or table)")]
pub struct UnknownFormat(pub String);

impl FromStr for OutputFormat {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Self, UnknownFormat> {
        OutputFormat::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownFormat(text.to_owned()))
    }
}

/// What the CLI tells a printer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrinterOptions {
    /// Appended as ` (<marker>)` to every object line of the events printer. When None, the marker of
    /// the plan's dry run is used (`preview`, `preview-server`), so a library user gets it for free.
    pub preview: Option<&'static str>,
    /// Print `Status` events (events and JSON printers). The table always uses them.
    pub status_events: bool,
    /// Table: draw in place on the terminal (stdout). Set it only when stdout is a terminal; otherwise
    /// the table prints one final frame to the writer.
    pub live: bool,
    /// Table without `live`: truncate lines to this many characters (None: never truncate).
    pub width: Option<usize>,
    /// Events printer: begin every line with an RFC 3339 UTC timestamp (`--timestamps`).
    pub timestamps: bool,
}

/// The printer of `format`, writing to `writer`.
///
/// For [`OutputFormat::Table`] with [`PrinterOptions::live`], the table itself is drawn on stdout and
/// `writer` receives what follows it (totals, failures).
pub fn printer_for<'w, W: Write + Send + 'w>(
    format: OutputFormat,
    writer: W,
    options: PrinterOptions,
) -> Box<dyn Printer + 'w> {
    match format {
        OutputFormat::Events => Box::new(EventsPrinter::new(writer, &options)),
        OutputFormat::Json => Box::new(JsonPrinter::new(writer, &options)),
        OutputFormat::Table if options.live => Box::new(TablePrinter::live(writer)),
        OutputFormat::Table => Box::new(TablePrinter::plain(writer, options.width)),
    }
}

/// The totals lines of a summary, cli-utils style, shared by the events and table printers.
///
/// Apply: applied (every apply event: `a+b+c+d[+e]`), pruned, and — unless a dry run — reconciled.
/// Destroy: deleted. A line about deletions waited for appears when there were any.
///
/// A dry run says so on every line, as kubectl's `(dry run)` does: the verbs read "would be applied",
/// "would be pruned", "would be deleted", and each line ends with the plan's marker (`(preview)`), so
/// that a preview's totals cannot be mistaken for a real run's.
pub(crate) fn totals_lines(summary: &Summary) -> Vec<String> {
    let mut lines = totals(summary);
    if let Some(marker) = summary.dry_run.marker() {
        for line in &mut lines {
            line.push_str(&format!(" ({marker})"));
        }
    }
    lines
}

fn totals(summary: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    let would = if summary.dry_run.is_dry_run() { "would be " } else { "" };
    match summary.operation {
        Operation::Apply => {
            let a = &summary.apply;
            let mut line = format!(
                "{} resource(s) {would}applied. {} created, {} unchanged, {} configured, {} failed",
                a.total(),
                a.created,
                a.unchanged,
                a.configured,
                a.failed
            );
            if a.skipped > 0 {
                line.push_str(&format!(", {} skipped", a.skipped));
            }
            lines.push(line);
            lines.push(remove_line(&summary.prune, &format!("{would}pruned"), "prune"));
            if !summary.dry_run.is_dry_run() {
                let r = &summary.reconcile;
                lines.push(format!(
                    "{} resource(s) reconciled, {} skipped, {} failed to reconcile, {} timed out",
                    r.current, r.skipped, r.failed, r.timed_out
                ));
            }
        }
        Operation::Destroy => lines.push(remove_line(&summary.delete, &format!("{would}deleted"), "delete")),
    }
    if summary.deletion.total() > 0 {
        let d = &summary.deletion;
        let mut line = format!("{} deletion(s) confirmed, {} timed out", d.gone, d.timed_out);
        if d.reappeared > 0 {
            line.push_str(&format!(", {} re-created by someone else", d.reappeared));
        }
        lines.push(line);
    }
    match summary.cancelled {
        Some(CancelReason::Interrupted) => lines.push(
            "interrupted: the requests in flight finished, nothing more was applied or pruned, the inventory \
             was recorded"
                .to_owned(),
        ),
        Some(CancelReason::TimedOut) => lines.push(
            "timed out: the run's time ran out; nothing more was applied or pruned, the inventory was recorded"
                .to_owned(),
        ),
        _ => {}
    }
    lines
}

fn remove_line(counts: &crate::event::RemoveCounts, done: &str, verb: &str) -> String {
    let mut line = format!(
        "{} resource(s) {done}, {} skipped, {} failed to {verb}",
        counts.deleted, counts.skipped, counts.failed
    );
    if counts.abandoned > 0 {
        line.push_str(&format!(", {} abandoned", counts.abandoned));
    }
    line
}

/// The lines describing an object left in a status: `<obj> is <Status>: <message>`, then one indented
/// line per kstatus condition, `<type> (<reason>): <message>`, then one per detail ([`detail_line`]).
pub(crate) fn status_lines(item: &ObjectStatus) -> Vec<String> {
    let status = &item.status;
    let mut lines = vec![format!("{} is {}: {}", item.obj, status.status, status.message)];
    for condition in &status.conditions {
        lines.push(if condition.reason.is_empty() {
            format!("  {}: {}", condition.type_, condition.message)
        } else {
            format!("  {} ({}): {}", condition.type_, condition.reason, condition.message)
        });
    }
    lines.extend(status.details.iter().map(detail_line));
    lines
}

/// A status's message on one line, with its first detail when it has any: `<message>; <detail>` — what
/// the table's message column shows.
pub(crate) fn status_message(status: &crate::kstatus::StatusResult) -> String {
    match status.details.first() {
        Some(detail) => format!("{}; {detail}", status.message),
        None => status.message.clone(),
    }
}

/// One detail of a status, indented: `  <object> (<reason>): <message>` — the Pod (or other object)
/// it was found on first, so a line reads as what the object says.
pub fn detail_line(detail: &crate::details::Detail) -> String {
    match &detail.object {
        Some(object) => format!("  {object} ({}): {}", detail.reason, detail.message),
        None => format!("  {}: {}", detail.reason, detail.message),
    }
}
