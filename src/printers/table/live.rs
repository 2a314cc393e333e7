//! [`Live`]: a table redrawn in place on a terminal with plain ANSI sequences — cursor up, clear to
//! the end of line, clear below — and the cursor hidden while it is drawn.
//!
//! Each frame comes from [`Frames::lines`] ([`frame`] for one run, the fleet frame for many), sized to the terminal at that moment and never taller than the
//! screen less one line, so moving up over the previous frame always reaches its first line: nothing
//! is left behind, however many objects. Lines printed above the table (warnings) are written where
//! the frame began, then the frame again below them. The cursor is shown again when the table stops,
//! and when the printer is dropped without stopping (a panic unwinding).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::frame::{Size, frame};
use super::state::TableState;

/// Hide and show the cursor (DECTCEM).
pub(crate) const HIDE_CURSOR: &str = "\x1b[?25l";
/// Show the cursor again: also written by the CLI before it exits on a second interrupt.
pub const SHOW_CURSOR: &str = "\x1b[?25h";

/// Where the terminal's size comes from: the real terminal's, or a fixed one in tests.
pub type SizeOf = Box<dyn FnMut() -> Option<Size> + Send>;

/// What a live table draws: one run's rows, or a fleet's clusters. Pure: the same state and size
/// always give the same lines.
pub(super) trait Frames {
    /// The lines of a frame on a screen of `size`, never more than its height less one except when
    /// `last` (the final frame, drawn once); `elapsed` shown when given.
    fn lines(&self, size: Size, last: bool, elapsed: Option<Duration>) -> Vec<String>;
}

impl Frames for TableState {
    fn lines(&self, size: Size, last: bool, elapsed: Option<Duration>) -> Vec<String> {
        frame(self, size, last, elapsed)
    }
}

/// The drawing side of a live table.
pub(super) struct Live {
    screen: Box<dyn Write + Send>,
    size: SizeOf,
    /// Lines of the frame on screen, to move back over it.
    drawn: usize,
    cursor_hidden: bool,
    started: Instant,
    /// Frames are drawn at most this often; what changed in between is drawn at the next event or
    /// [`tick`](Live::tick).
    min_interval: Duration,
    last_draw: Option<Instant>,
    dirty: bool,
    /// Show the elapsed time on the progress line (not in tests, whose frames must not depend on time).
    clock: bool,
}

impl Live {
    pub(super) fn new(
        screen: Box<dyn Write + Send>,
        size: SizeOf,
        min_interval: Duration,
        clock: bool,
    ) -> Self {
        Live {
            screen,
            size,
            drawn: 0,
            cursor_hidden: false,
            started: Instant::now(),
            min_interval,
            last_draw: None,
            dirty: false,
            clock,
        }
    }

    /// `state` changed: draw it, unless a frame was drawn less than the minimum interval ago.
    pub(super) fn changed(&mut self, state: &dyn Frames, above: &[String]) -> io::Result<()> {
        self.dirty = true;
        let due = self.last_draw.is_none_or(|at| at.elapsed() >= self.min_interval);
        if due || !above.is_empty() { self.draw(state, above, false) } else { Ok(()) }
    }

    /// Time passed: draw what changed since the last frame, and the elapsed time.
    pub(super) fn tick(&mut self, state: &dyn Frames) -> io::Result<()> {
        if self.dirty || self.clock { self.draw(state, &[], false) } else { Ok(()) }
    }

    /// The final frame, every row not settled listed, and the cursor back.
    pub(super) fn stop(&mut self, state: &dyn Frames, above: &[String]) -> io::Result<()> {
        self.draw(state, above, true)?;
        self.show_cursor()
    }

    fn draw(&mut self, state: &dyn Frames, above: &[String], last: bool) -> io::Result<()> {
        let size = (self.size)().unwrap_or(Size { width: 80, height: 24 });
        let elapsed = self.clock.then(|| self.started.elapsed());
        let lines = state.lines(size, last, elapsed);
        let mut bytes = String::new();
        if !self.cursor_hidden {
            bytes.push_str(HIDE_CURSOR);
            self.cursor_hidden = true;
        }
        if self.drawn > 0 {
            bytes.push_str(&format!("\r\x1b[{}A", self.drawn));
        }
        for line in above.iter().chain(&lines) {
            bytes.push_str(line);
            bytes.push_str("\x1b[K\n");
        }
        bytes.push_str("\x1b[J");
        self.screen.write_all(bytes.as_bytes())?;
        self.screen.flush()?;
        self.drawn = lines.len();
        self.last_draw = Some(Instant::now());
        self.dirty = false;
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden {
            self.cursor_hidden = false;
            self.screen.write_all(SHOW_CURSOR.as_bytes())?;
            self.screen.flush()?;
        }
        Ok(())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.show_cursor();
    }
}
