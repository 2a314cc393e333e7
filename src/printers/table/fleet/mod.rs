//! The table of a fleet: one line per cluster, the rows of the cluster that needs attention, a
//! progress line for the whole fleet — redrawn in place on a terminal like one cluster's table, by the
//! same drawing code (`Live`) and the same row layout (`rows_block`).
//!
//! Files: `state` (the model: each member's phase and [`TableState`], the focus), `frame` (the layout,
//! pure), this file (the printer that ties them to a writer). The caller drives it from a fleet's
//! stream (`kapply::fleet::FleetEvent`): [`started`](FleetTablePrinter::started), each event with
//! [`print`](FleetTablePrinter::print), [`stopped`](FleetTablePrinter::stopped) for a member that
//! could not start or whose run failed, [`finished`](FleetTablePrinter::finished), then
//! [`finish`](FleetTablePrinter::finish) once. Warnings and the caller's messages (a member's error)
//! are printed above the table, every line naming its cluster; after the table, each cluster's totals,
//! failures and objects not Current, each line beginning with `[context] `.

mod frame;
mod state;
#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::time::Duration;

pub use frame::fleet_frame;
pub use state::{ClusterPhase, ClusterState, FleetState};

use super::frame::Size;
use super::live::{Frames, Live, SizeOf};
use super::{FRAME_INTERVAL, epilogue_lines, terminal_size};
use crate::event::Event;

impl Frames for FleetState {
    fn lines(&self, size: Size, last: bool, elapsed: Option<Duration>) -> Vec<String> {
        fleet_frame(self, size, last, elapsed)
    }
}

/// Shows a fleet's runs as one table: a line per cluster, the rows of the cluster that needs attention,
/// the fleet's progress line ([`fleet_frame`]); warnings and messages above it, each cluster's totals
/// after it.
pub struct FleetTablePrinter<W> {
    out: W,
    state: FleetState,
    /// Plain mode: lines cut to this many columns (None: never).
    width: Option<usize>,
    live: Option<Live>,
    /// Warnings already printed, per cluster.
    warned: Vec<usize>,
}

impl<W: Write> FleetTablePrinter<W> {
    /// A table of `contexts` redrawn in place on stdout, sized to the terminal at each frame; `out`
    /// gets what follows it. Use it only when stdout is a terminal.
    pub fn live(out: W, contexts: &[String]) -> Self {
        let live = Live::new(Box::new(io::stdout()), terminal_size(), FRAME_INTERVAL, true);
        Self::with(out, contexts, None, Some(live))
    }

    /// A table redrawn in place on `screen`, a terminal of the size `size` says, every change drawn at
    /// once and no elapsed time shown: frames that depend on the events only, for tests.
    pub fn live_to(out: W, contexts: &[String], screen: Box<dyn Write + Send>, size: SizeOf) -> Self {
        let live = Live::new(screen, size, Duration::ZERO, false);
        Self::with(out, contexts, None, Some(live))
    }

    /// A table written once, as its final frame, to `out` (lines cut to `width` columns).
    pub fn plain(out: W, contexts: &[String], width: Option<usize>) -> Self {
        Self::with(out, contexts, width, None)
    }

    fn with(out: W, contexts: &[String], width: Option<usize>, live: Option<Live>) -> Self {
        let state = FleetState::new(contexts);
        FleetTablePrinter { out, state, width, live, warned: vec![0; contexts.len()] }
    }

    /// The clusters so far, as the next frame draws them.
    pub fn state(&self) -> &FleetState {
        &self.state
    }

    /// The writer back, e.g. the buffer of a test.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// `context` started: connecting and loading.
    ///
    /// # Errors
    /// Writing failed.
    pub fn started(&mut self, context: &str) -> io::Result<()> {
        let changed = self.state.started(context);
        self.draw(changed, Vec::new())
    }

    /// One event of `context`'s run.
    ///
    /// # Errors
    /// Writing failed.
    pub fn print(&mut self, context: &str, event: &Event) -> io::Result<()> {
        let changed = self.state.update(context, event);
        let warnings = self.new_warnings();
        self.draw(changed, warnings)
    }

    /// `context` stopped without a run to show: `state` says how (`connect failed`, …), `detail` why.
    ///
    /// # Errors
    /// Writing failed.
    pub fn stopped(&mut self, context: &str, state: &str, detail: &str) -> io::Result<()> {
        let changed = self.state.stopped(context, state, detail);
        self.draw(changed, Vec::new())
    }

    /// `context` is done.
    ///
    /// # Errors
    /// Writing failed.
    pub fn finished(&mut self, context: &str) -> io::Result<()> {
        let changed = self.state.finished(context);
        self.draw(changed, Vec::new())
    }

    /// Lines printed above the table (plain: at once), where no redraw erases them: a member's error,
    /// its hint. A line written to the terminal beside a live table would be overwritten.
    ///
    /// # Errors
    /// Writing failed.
    pub fn message(&mut self, lines: &[String]) -> io::Result<()> {
        self.draw(false, lines.to_vec())
    }

    /// A line from the program driving the fleet (the interrupt), drawn inside the frame.
    ///
    /// # Errors
    /// Writing failed.
    pub fn notice(&mut self, message: &str) -> io::Result<()> {
        self.state.notice(message);
        match &mut self.live {
            Some(live) => live.changed(&self.state, &[]),
            None => writeln!(self.out, "{message}"),
        }
    }

    /// Time passed: a live table redraws what changed since its last frame, and the elapsed time.
    ///
    /// # Errors
    /// Writing failed.
    pub fn heartbeat(&mut self) -> io::Result<()> {
        match &mut self.live {
            Some(live) => live.tick(&self.state),
            None => Ok(()),
        }
    }

    /// The final frame (every cluster, every row not settled), then each cluster's totals, failures
    /// and objects not Current, each line beginning with `[context] `.
    ///
    /// # Errors
    /// Writing failed.
    pub fn finish(&mut self) -> io::Result<()> {
        let warnings = self.new_warnings();
        match self.live.take() {
            Some(mut live) => live.stop(&self.state, &warnings)?,
            None => {
                for line in &warnings {
                    writeln!(self.out, "{line}")?;
                }
                // No height limit on paper; `fleet_frame` keeps one column free, as on a terminal.
                let width = self.width.map_or(usize::MAX / 2, |width| width + 1);
                let size = Size { width, height: usize::MAX / 2 };
                for line in fleet_frame(&self.state, size, true, None) {
                    writeln!(self.out, "{line}")?;
                }
            }
        }
        for cluster in self.state.clusters() {
            let Some(summary) = cluster.table.summary() else { continue };
            for line in epilogue_lines(summary) {
                writeln!(self.out, "[{}] {line}", cluster.context)?;
            }
        }
        self.out.flush()
    }

    /// Warnings of every cluster not printed yet, each naming its cluster; marked printed.
    fn new_warnings(&mut self) -> Vec<String> {
        let mut new = Vec::new();
        for (cluster, warned) in self.state.clusters().iter().zip(&mut self.warned) {
            let warnings = cluster.table.warnings();
            new.extend(warnings[*warned..].iter().map(|line| format!("[{}] {line}", cluster.context)));
            *warned = warnings.len();
        }
        new
    }

    fn draw(&mut self, changed: bool, above: Vec<String>) -> io::Result<()> {
        match &mut self.live {
            Some(live) if changed || !above.is_empty() => live.changed(&self.state, &above),
            Some(_) => Ok(()),
            None => above.iter().try_for_each(|line| writeln!(self.out, "{line}")),
        }
    }
}
