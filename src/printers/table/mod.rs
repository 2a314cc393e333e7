//! The table printer: one row per object, redrawn in place, and a progress bar.
//!
//! Entry points: [`TablePrinter::live`] (a terminal) and [`TablePrinter::plain`] (anything else).
//! The row model and the drawing are apart, so both are unit-testable:
//! - [`TableState`] folds events into rows (NAMESPACE, RESOURCE, ACTION, STATUS, MESSAGE) and counts
//!   the objects that reached their final outcome (see [`crate::event`]);
//! - [`render`] turns a state into text, every row, a pure function (the plain table);
//! - [`frame`] lays a state out for a terminal of a given size, pure: rows in progress and failed
//!   always visible, finished ones folded into counts when the screen is short;
//! - `live` redraws frames in place with ANSI sequences, the cursor hidden meanwhile.
//!
//! Warnings are printed as lines above a live table (in plain mode: before the frame); notices from
//! the program driving the run (the interrupt) are drawn inside the frame, where no redraw erases them;
//! totals and details of failures follow the table.
//!
//! A fleet's table ([`FleetTablePrinter`], module `fleet`) is drawn by the same `live` code from its
//! own pure layout, which lays out the rows of the cluster that needs attention with this table's.
//!
//! Files: `state` (the row model), `render` (the plain text, pure), `frame` (the live layout, pure),
//! `live` (the terminal), `fleet` (a fleet's table), this file (the printer that ties them to a writer).

mod fleet;
mod frame;
mod live;
mod render;
mod state;
#[cfg(test)]
mod tests_live;

use std::io::{self, Write};
use std::time::Duration;

use crate::event::{Event, ObjectFailure, SettingNames, Summary};

use super::{Printer, status_lines, totals_lines};
pub use fleet::{ClusterPhase, ClusterState, FleetState, FleetTablePrinter, fleet_frame};
pub use frame::{Size, frame};
use live::Live;
pub use live::{SHOW_CURSOR, SizeOf};
pub use render::render;
pub use state::{Action, Row, TableState};

/// A live table draws at most this often; what changes in between shows at the next event or tick.
const FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// The size of the terminal on stdout, asked at every frame (it may be resized meanwhile).
fn terminal_size() -> SizeOf {
    Box::new(|| {
        console::Term::stdout()
            .size_checked()
            .map(|(height, width)| Size { width: usize::from(width), height: usize::from(height) })
    })
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
    /// A table redrawn in place on stdout, sized to the terminal at each frame; `out` gets what
    /// follows the table. Use it only when stdout is a terminal.
    pub fn live(out: W) -> Self {
        let live = Live::new(Box::new(io::stdout()), terminal_size(), FRAME_INTERVAL, true);
        TablePrinter { out, state: TableState::new(), width: None, live: Some(live), warned: 0 }
    }

    /// A table redrawn in place on `screen`, a terminal of the size `size` says, every event drawn at
    /// once and no elapsed time shown: frames that depend on the events only, for tests.
    pub fn live_to(out: W, screen: Box<dyn Write + Send>, size: SizeOf) -> Self {
        let live = Live::new(screen, size, Duration::ZERO, false);
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

    /// Warnings not printed yet; marked printed.
    fn new_warnings(&mut self) -> Vec<String> {
        let new = self.state.warnings[self.warned..].to_vec();
        self.warned = self.state.warnings.len();
        new
    }

    /// What follows the table: see [`epilogue_lines`].
    fn epilogue(&mut self) -> io::Result<()> {
        let Some(summary) = &self.state.summary else { return Ok(()) };
        epilogue_lines(summary).iter().try_for_each(|line| writeln!(self.out, "{line}"))
    }
}

/// What follows a table once its run ended: the totals, the failures with their hints, and the objects
/// not Current with their conditions. A fleet's table prints them for each cluster.
pub(crate) fn epilogue_lines(summary: &Summary) -> Vec<String> {
    let mut lines = totals_lines(summary);
    for ObjectFailure { obj, action, error } in &summary.failures {
        lines.push(format!("{obj} {} failed: {}", action.as_str(), error.message));
        if let Some(hint) = error.hint_named(&SettingNames::default()) {
            lines.push(format!("  hint: {hint}"));
        }
    }
    for item in summary.not_current.iter().chain(&summary.not_deleted) {
        lines.extend(status_lines(item));
    }
    lines
}

impl<W: Write + Send> Printer for TablePrinter<W> {
    fn print(&mut self, event: &Event) -> io::Result<()> {
        let changed = self.state.update(event);
        let warnings = self.new_warnings();
        match &mut self.live {
            Some(live) if changed || !warnings.is_empty() => live.changed(&self.state, &warnings),
            Some(_) => Ok(()),
            None => warnings.iter().try_for_each(|warning| writeln!(self.out, "{warning}")),
        }
    }

    fn heartbeat(&mut self, _elapsed: Duration) -> io::Result<()> {
        match &mut self.live {
            Some(live) => live.tick(&self.state),
            None => Ok(()),
        }
    }

    fn notice(&mut self, message: &str) -> io::Result<()> {
        self.state.notice(message);
        match &mut self.live {
            Some(live) => live.changed(&self.state, &[]),
            None => writeln!(self.out, "{message}"),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        let warnings = self.new_warnings();
        match self.live.take() {
            Some(mut live) => live.stop(&self.state, &warnings)?,
            None => {
                for warning in &warnings {
                    writeln!(self.out, "{warning}")?;
                }
                self.out.write_all(render(&self.state, self.width).as_bytes())?
            }
        }
        self.epilogue()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    use super::render::truncate;
    use super::*;
    use crate::event::{ApplyOutcome, DeletionOutcome, DryRun, PruneOutcome, WaitOutcome};
    use crate::event::{ObjectError, Plan, SkipReason, SummaryBuilder};
    use crate::kstatus::Status;
    use crate::kstatus::StatusResult;
    use crate::object::ObjRef;
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
