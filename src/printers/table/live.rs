//! The indicatif side of a live table: a header, one bar per row, the progress bar, redrawn in place.

use std::io;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::render::row_lines;
use super::state::TableState;

/// The indicatif side of a live table: a header, one bar per row, the progress bar.
pub(super) struct Live {
    pub(super) multi: MultiProgress,
    header: ProgressBar,
    rows: Vec<ProgressBar>,
    progress: ProgressBar,
    /// What each bar shows, to update only those that changed.
    shown: Vec<String>,
    /// The progress bar has a length (a plan was seen) and shows as a bar.
    measured: bool,
}

impl Live {
    pub(super) fn new(draw_target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(draw_target);
        let header = multi.add(ProgressBar::new(0).with_style(line_style()));
        // Blank until the plan gives it a length: indicatif draws a bar of length 0 as full.
        let progress = multi.add(ProgressBar::new(0).with_style(line_style()));
        progress.enable_steady_tick(Duration::from_millis(500));
        Live { multi, header, rows: Vec::new(), progress, shown: Vec::new(), measured: false }
    }

    /// Shows `state`: row messages that changed, new rows, the progress.
    pub(super) fn show(&mut self, state: &TableState) {
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

    pub(super) fn println(&self, line: &str) -> io::Result<()> {
        self.multi.println(line)
    }

    /// Leaves the last frame on screen.
    pub(super) fn stop(&self) {
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
