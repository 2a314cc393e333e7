//! The table printer: one row per object, redrawn in place, and a progress bar.
//!
//! Entry points: [`TablePrinter::live`] (a terminal) and [`TablePrinter::plain`] (anything else).
//! The row model and the drawing are apart, so both are unit-testable:
//! - [`TableState`] folds events into rows (NAMESPACE, RESOURCE, ACTION, STATUS, MESSAGE) and counts
//!   the objects that reached their final outcome (see [`crate::event`]);
//! - [`render`] turns a state into text, a pure function;
//! - the printer shows it: live, through indicatif (one bar per row, messages truncated to the
//!   terminal's width, an overall progress bar: finished objects / objects of the plan); plain, as one
//!   final frame written to the writer, for logs and tests.
//!
//! Warnings are printed as lines above a live table (in plain mode: before the frame); totals and
//! details of failures follow the table.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::event::{
    ApplyOutcome, DeletionOutcome, DryRun, Event, ObjectFailure, PruneOutcome, Summary, WaitOutcome,
};
use crate::kstatus::Status;
use crate::object::{GroupKind, ObjRef};

use super::{Printer, status_lines, totals_lines};

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
}

/// The rows of a run, updated event by event. Rows keep the order of the plan; an object the plan did
/// not name gets a row at the end.
#[derive(Debug, Clone, Default)]
pub struct TableState {
    rows: Vec<Row>,
    index: HashMap<ObjRef, usize>,
    dry_run: DryRun,
    warnings: Vec<String>,
    summary: Option<Summary>,
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
                *self = TableState { dry_run: plan.dry_run, ..TableState::default() };
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
                row.message = status.message.clone();
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
                        row.message = format!("reconcile timeout: {}", status.message);
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
            Event::Inventory { .. } | Event::Cancelled(_) => return false,
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

    /// The summary, once the last event arrived.
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }
}

const HEADERS: [&str; 5] = ["NAMESPACE", "RESOURCE", "ACTION", "STATUS", "MESSAGE"];
const COLUMN_GAP: &str = "  ";
const BAR_WIDTH: usize = 20;

/// The table of `state` as text: the header, one line per row, then the progress line
/// `[####----] finished/total finished`. Lines wider than `width` display columns are cut with `…`
/// (None: never). Widths are display columns as a terminal shows them (`unicode-width`): a CJK
/// character takes two, a combining mark none. Deterministic: the same state always gives the same
/// text.
pub fn render(state: &TableState, width: Option<usize>) -> String {
    let (header, rows) = row_lines(state);
    let mut text = String::new();
    for line in std::iter::once(&header).chain(&rows) {
        text.push_str(&truncate(line, width));
        text.push('\n');
    }
    text.push_str(&truncate(&progress_line(state), width));
    text.push('\n');
    text
}

/// The header and the row lines, columns aligned, trailing spaces trimmed, untruncated.
fn row_lines(state: &TableState) -> (String, Vec<String>) {
    let cells: Vec<[String; 5]> = state
        .rows
        .iter()
        .map(|row| {
            [
                row.obj.namespace_or_empty().to_owned(),
                format!("{}/{}", GroupKind::new(row.obj.group.as_str(), row.obj.kind.as_str()), row.obj.name),
                row.action.as_str().to_owned(),
                row.status.map(Status::as_str).unwrap_or("").to_owned(),
                one_line(&row.message),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(UnicodeWidthStr::width);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let join = |cells: [&str; 5]| {
        let mut line = String::new();
        for (column, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if column > 0 {
                line.push_str(COLUMN_GAP);
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.width())));
        }
        line.trim_end().to_owned()
    };
    let header = join(HEADERS);
    let rows = cells.iter().map(|row| join(row.each_ref().map(String::as_str))).collect();
    (header, rows)
}

fn progress_line(state: &TableState) -> String {
    let (finished, total) = (state.finished(), state.total());
    let filled = (finished * BAR_WIDTH).checked_div(total).unwrap_or(0);
    format!("[{}{}] {finished}/{total} finished", "#".repeat(filled), "-".repeat(BAR_WIDTH - filled))
}

/// A message on one line: API server errors may span several.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `line` cut to `width` display columns, its last column an ellipsis when anything was cut.
fn truncate(line: &str, width: Option<usize>) -> String {
    let Some(width) = width.filter(|&width| line.width() > width) else { return line.to_owned() };
    if width == 0 {
        return String::new();
    }
    // The characters that fit in `width - 1` columns counted one by one, then fewer while the cut
    // text is still too wide: a sequence (an emoji with a variation selector, say) can be wider than
    // the sum of its characters.
    let mut columns = 0;
    let mut end = 0;
    for (at, c) in line.char_indices() {
        columns += c.width().unwrap_or(0);
        if columns > width - 1 {
            break;
        }
        end = at + c.len_utf8();
    }
    let mut cut = line[..end].to_owned();
    cut.push('…');
    while cut.width() > width {
        cut.pop();
        cut.pop();
        cut.push('…');
    }
    cut
}

/// The indicatif side of a live table: a header, one bar per row, the progress bar.
struct Live {
    multi: MultiProgress,
    header: ProgressBar,
    rows: Vec<ProgressBar>,
    progress: ProgressBar,
    /// What each bar shows, to update only those that changed.
    shown: Vec<String>,
    /// The progress bar has a length (a plan was seen) and shows as a bar.
    measured: bool,
}

impl Live {
    fn new(draw_target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(draw_target);
        let header = multi.add(ProgressBar::new(0).with_style(line_style()));
        // Blank until the plan gives it a length: indicatif draws a bar of length 0 as full.
        let progress = multi.add(ProgressBar::new(0).with_style(line_style()));
        progress.enable_steady_tick(Duration::from_millis(500));
        Live { multi, header, rows: Vec::new(), progress, shown: Vec::new(), measured: false }
    }

    /// Shows `state`: row messages that changed, new rows, the progress.
    fn show(&mut self, state: &TableState) {
        if !self.measured && state.total() > 0 {
            self.measured = true;
            self.progress.set_style(progress_style());
        }
        self.progress.set_length(state.total() as u64);
        self.progress.set_position(state.finished() as u64);
        let (header, lines) = row_lines(state);
        if self.header.message() != header {
            self.header.set_message(header);
        }
        if lines.len() < self.rows.len() {
            // A new plan: start over.
            for bar in self.rows.drain(..) {
                self.multi.remove(&bar);
            }
            self.shown.clear();
        }
        for (index, line) in lines.into_iter().enumerate() {
            if index == self.rows.len() {
                let bar = ProgressBar::new(0).with_style(line_style());
                self.rows.push(self.multi.insert_before(&self.progress, bar));
                self.shown.push(String::new());
            }
            if self.shown[index] != line {
                self.rows[index].set_message(line.clone());
                self.shown[index] = line;
            }
        }
    }

    fn println(&self, line: &str) -> io::Result<()> {
        self.multi.println(line)
    }

    /// Leaves the last frame on screen.
    fn stop(&self) {
        self.header.finish();
        for bar in &self.rows {
            bar.finish();
        }
        self.progress.finish();
    }
}

/// Each row is a bar showing only its message, cut to the terminal's width.
fn line_style() -> ProgressStyle {
    ProgressStyle::with_template("{wide_msg}").expect("a valid template")
}

fn progress_style() -> ProgressStyle {
    ProgressStyle::with_template("[{bar:20}] {pos}/{len} finished  {elapsed}")
        .expect("a valid template")
        .progress_chars("#>-")
}

/// Shows a run as a table. See the [module documentation](self).
pub struct TablePrinter<W> {
    out: W,
    state: TableState,
    width: Option<usize>,
    live: Option<Live>,
    /// Warnings already printed.
    warned: usize,
}

impl<W: Write> TablePrinter<W> {
    /// A table redrawn in place on stdout (through indicatif); `out` gets what follows the table.
    /// Use it only when stdout is a terminal.
    pub fn live(out: W) -> Self {
        Self::live_on(out, ProgressDrawTarget::stdout())
    }

    /// A table redrawn in place on `draw_target`. When the target is hidden (not a terminal), the
    /// printer falls back to the plain final frame written to `out`.
    pub fn live_on(out: W, draw_target: ProgressDrawTarget) -> Self {
        let live = Live::new(draw_target);
        TablePrinter { out, state: TableState::new(), width: None, live: Some(live), warned: 0 }
    }

    /// A table written once, as its final frame, to `out` (lines cut to `width` characters).
    pub fn plain(out: W, width: Option<usize>) -> Self {
        TablePrinter { out, state: TableState::new(), width, live: None, warned: 0 }
    }

    /// The rows so far, as the next frame draws them.
    pub fn state(&self) -> &TableState {
        &self.state
    }

    /// The writer back, e.g. the buffer of a test.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn print_warnings(&mut self) -> io::Result<()> {
        for warning in self.state.warnings.iter().skip(self.warned) {
            match &self.live {
                Some(live) if !live.multi.is_hidden() => live.println(warning)?,
                _ => writeln!(self.out, "{warning}")?,
            }
        }
        self.warned = self.state.warnings.len();
        Ok(())
    }

    /// Totals, failures with their hints, and objects not Current with their conditions.
    fn epilogue(&mut self) -> io::Result<()> {
        let Some(summary) = &self.state.summary else { return Ok(()) };
        for line in totals_lines(summary) {
            writeln!(self.out, "{line}")?;
        }
        for ObjectFailure { obj, action, error } in &summary.failures {
            writeln!(self.out, "{obj} {} failed: {}", action.as_str(), error.message)?;
            if let Some(hint) = &error.hint {
                writeln!(self.out, "  hint: {hint}")?;
            }
        }
        for item in summary.not_current.iter().chain(&summary.not_deleted) {
            for line in status_lines(item) {
                writeln!(self.out, "{line}")?;
            }
        }
        Ok(())
    }
}

impl<W: Write + Send> Printer for TablePrinter<W> {
    fn print(&mut self, event: &Event) -> io::Result<()> {
        let changed = self.state.update(event);
        self.print_warnings()?;
        if changed && let Some(live) = &mut self.live {
            live.show(&self.state);
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        match self.live.take() {
            Some(live) if !live.multi.is_hidden() => live.stop(),
            _ => self.out.write_all(render(&self.state, self.width).as_bytes())?,
        }
        self.epilogue()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ObjectError, Plan, SkipReason, SummaryBuilder};
    use crate::kstatus::StatusResult;
    use crate::printers::recorded::{api, apply_run, db, namespace, old_config};

    fn plan(dry_run: DryRun) -> Event {
        Event::Plan(Plan::for_apply(vec![vec![namespace()], vec![db()]], vec![old_config()], dry_run))
    }

    fn state_after(events: &[Event]) -> TableState {
        let mut state = TableState::new();
        for event in events {
            state.update(event);
        }
        state
    }

    fn row<'s>(state: &'s TableState, obj: &ObjRef) -> &'s Row {
        state.rows().iter().find(|row| &row.obj == obj).expect("a row")
    }

    #[test]
    fn the_plan_gives_one_pending_row_per_object_in_plan_order() {
        let state = state_after(&[plan(DryRun::None)]);
        let actions: Vec<_> = state.rows().iter().map(|row| (row.obj.name.as_str(), row.action)).collect();
        assert_eq!(
            actions,
            [("prod", Action::Pending), ("db", Action::Pending), ("old-config", Action::PrunePending)]
        );
        assert_eq!((state.finished(), state.total()), (0, 3));
    }

    #[test]
    fn an_applied_object_is_finished_only_once_reconciled() {
        let mut state = state_after(&[plan(DryRun::None)]);
        state.update(&Event::Apply { obj: db(), outcome: ApplyOutcome::Created });
        assert_eq!(row(&state, &db()).action, Action::Created);
        assert!(!row(&state, &db()).finished);
        state.update(&Event::Status { obj: db(), status: StatusResult::in_progress("LessReplicas", "0/1") });
        assert_eq!(row(&state, &db()).status, Some(Status::InProgress));
        assert_eq!(row(&state, &db()).message, "0/1");
        state.update(&Event::Reconciled { obj: db(), outcome: WaitOutcome::Current });
        let db_row = row(&state, &db());
        assert_eq!(
            (db_row.status, db_row.message.as_str(), db_row.finished),
            (Some(Status::Current), "", true)
        );
    }

    #[test]
    fn in_a_dry_run_the_apply_is_final() {
        let mut state = state_after(&[plan(DryRun::Client)]);
        state.update(&Event::Apply { obj: db(), outcome: ApplyOutcome::Configured });
        state.update(&Event::Prune { obj: old_config(), outcome: PruneOutcome::Deleted });
        assert!(row(&state, &db()).finished);
        assert!(row(&state, &old_config()).finished);
    }

    #[test]
    fn a_failed_or_skipped_apply_is_final_and_shows_why() {
        let mut state = state_after(&[plan(DryRun::None)]);
        let error = ObjectError::new("forbidden").with_hint("ask an admin");
        state.update(&Event::Apply { obj: namespace(), outcome: ApplyOutcome::Failed(error) });
        let reason = SkipReason::DependencyFailed(namespace());
        state.update(&Event::Apply { obj: db(), outcome: ApplyOutcome::Skipped(reason) });
        assert_eq!(row(&state, &namespace()).action, Action::ApplyFailed);
        assert_eq!(row(&state, &namespace()).message, "forbidden");
        assert_eq!(row(&state, &db()).message, "dependency Namespace/prod failed");
        assert_eq!(state.finished(), 2);
    }

    #[test]
    fn a_timeout_keeps_the_last_status_and_says_so() {
        let mut state = state_after(&[plan(DryRun::None)]);
        state.update(&Event::Apply { obj: db(), outcome: ApplyOutcome::Created });
        let last = StatusResult::in_progress("LessReplicas", "Available: 0/1");
        state.update(&Event::Reconciled { obj: db(), outcome: WaitOutcome::Timeout(last) });
        let db_row = row(&state, &db());
        assert_eq!(db_row.status, Some(Status::InProgress));
        assert_eq!(db_row.message, "reconcile timeout: Available: 0/1");
    }

    #[test]
    fn a_pruned_object_is_finished_once_gone() {
        let mut state = state_after(&[plan(DryRun::None)]);
        state.update(&Event::Prune { obj: old_config(), outcome: PruneOutcome::Deleted });
        assert_eq!(row(&state, &old_config()).action, Action::Pruned);
        assert!(!row(&state, &old_config()).finished);
        state.update(&Event::Deleted { obj: old_config(), outcome: DeletionOutcome::Gone });
        assert_eq!(row(&state, &old_config()).status, Some(Status::NotFound));
        assert!(row(&state, &old_config()).finished);
    }

    #[test]
    fn an_object_the_plan_did_not_name_gets_a_row_at_the_end() {
        let mut state = state_after(&[plan(DryRun::None)]);
        state.update(&Event::Apply { obj: api(), outcome: ApplyOutcome::Created });
        assert_eq!(state.rows().last().unwrap().obj, api());
        assert_eq!(state.total(), 4);
    }

    #[test]
    fn warnings_and_inventory_writes_change_no_row() {
        let mut state = state_after(&[plan(DryRun::None)]);
        assert!(!state.update(&Event::Warning { obj: None, message: "deprecated".into() }));
        assert_eq!(state.warnings(), ["warning: deprecated"]);
    }

    #[test]
    fn the_recorded_run_ends_with_every_object_finished_and_the_summary_kept() {
        let events = apply_run();
        let state = state_after(&events);
        assert_eq!(state.finished(), state.total());
        let mut builder = SummaryBuilder::new();
        events.iter().for_each(|event| builder.observe(event));
        assert_eq!(state.summary(), Some(builder.summary()));
    }

    #[test]
    fn render_aligns_columns_and_ends_with_the_progress() {
        let mut state = state_after(&[plan(DryRun::None)]);
        state.update(&Event::Apply { obj: namespace(), outcome: ApplyOutcome::Created });
        state.update(&Event::Reconciled { obj: namespace(), outcome: WaitOutcome::Current });
        state.update(&Event::Apply { obj: db(), outcome: ApplyOutcome::Created });
        state.update(&Event::Status {
            obj: db(),
            status: StatusResult::in_progress("LessReplicas", "Available:\n0/1"),
        });
        let expected = "\
NAMESPACE  RESOURCE              ACTION         STATUS      MESSAGE
           Namespace/prod        Created        Current
prod       Deployment.apps/db    Created        InProgress  Available: 0/1
prod       ConfigMap/old-config  Prune pending
[######--------------] 1/3 finished
";
        assert_eq!(render(&state, None), expected);
    }

    #[test]
    fn render_cuts_long_lines_with_an_ellipsis() {
        let state = state_after(&[plan(DryRun::None)]);
        let text = render(&state, Some(20));
        assert!(text.lines().all(|line| line.width() <= 20));
        assert!(text.starts_with("NAMESPACE  RESOURCE…\n"));
    }

    #[test]
    fn wide_and_combining_characters_are_measured_in_display_columns() {
        // Two columns per CJK character, none for a combining accent (13 characters, 12 columns).
        assert_eq!(truncate("日本語のテキスト", Some(7)), "日本語…");
        assert_eq!(truncate("日本語", Some(5)), "日本…");
        assert_eq!(truncate("日本語", Some(6)), "日本語");
        assert_eq!(truncate("cafe\u{301} au lait", Some(12)), "cafe\u{301} au lait");
        assert_eq!(truncate("cafe\u{301} au lait", Some(5)), "cafe\u{301}…");

        let objs = vec![
            ObjRef::new("", "ConfigMap", Some("ns"), "設定"),
            ObjRef::new("", "ConfigMap", Some("ns"), "cfg"),
        ];
        let state = state_after(&[Event::Plan(Plan::for_apply(vec![objs], Vec::new(), DryRun::None))]);
        let expected = "\
NAMESPACE  RESOURCE        ACTION   STATUS  MESSAGE
ns         ConfigMap/設定  Pending
ns         ConfigMap/cfg   Pending
[--------------------] 0/2 finished
";
        assert_eq!(render(&state, None), expected);
    }

    #[test]
    fn a_live_table_without_a_terminal_falls_back_to_the_final_frame() {
        let events = apply_run();
        let mut live = TablePrinter::live_on(Vec::new(), ProgressDrawTarget::hidden());
        let mut plain = TablePrinter::plain(Vec::new(), None);
        for event in &events {
            live.print(event).unwrap();
            plain.print(event).unwrap();
        }
        live.finish().unwrap();
        plain.finish().unwrap();
        assert_eq!(String::from_utf8(live.into_inner()), String::from_utf8(plain.into_inner()));
    }

    #[test]
    fn an_empty_plan_renders_an_empty_progress() {
        let text = render(&state_after(&[Event::Plan(Plan::default())]), None);
        assert_eq!(
            text,
            "NAMESPACE  RESOURCE  ACTION  STATUS  MESSAGE\n[--------------------] 0/0 finished\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn render_keeps_one_line_per_row_within_the_width(
            messages in proptest::collection::vec("\\PC{0,80}(\n\\PC{0,20})?", 0..6),
            width in 1usize..120,
        ) {
            let objs: Vec<ObjRef> = (0..messages.len())
                .map(|i| ObjRef::new("", "ConfigMap", Some("ns"), format!("cm-{i}")))
                .collect();
            let plan = Plan::for_apply(vec![objs.clone()], Vec::new(), DryRun::None);
            let mut state = state_after(&[Event::Plan(plan)]);
            for (obj, message) in objs.iter().zip(&messages) {
                let status = StatusResult::in_progress("R", message.as_str());
                state.update(&Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Created });
                state.update(&Event::Status { obj: obj.clone(), status });
            }
            let text = render(&state, Some(width));
            proptest::prop_assert_eq!(text.lines().count(), messages.len() + 2);
            for line in text.lines() {
                proptest::prop_assert!(line.width() <= width, "{:?} is wider than {}", line, width);
            }
        }
    }
}
