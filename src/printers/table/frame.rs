//! [`frame`]: what a live table shows on a terminal of a given size; pure, so every layout rule is a
//! unit test.
//!
//! A terminal cannot scroll back a frame being redrawn in place, so a frame never has more lines than
//! the screen less one. What stays visible, whatever the set's size: the rows still in progress (or
//! pending) and the failed ones, and the progress line. Rows finished as wished ([`Row::is_settled`]:
//! Current, unchanged, gone) fold into counts (`24 ConfigMaps Current`) when the screen is short. On a
//! narrow screen the MESSAGE column keeps its room: long namespaces and names are shortened instead.
//! The final frame (drawn once, after the run) lists every row not settled, however many.

use std::time::Duration;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::event::CancelReason;
use crate::kstatus::Status;
use crate::object::GroupKind;

use super::render::{one_line, progress_line, truncate};
use super::state::{Action, Row, TableState};

const HEADERS: [&str; 5] = ["NAMESPACE", "RESOURCE", "ACTION", "STATUS", "MESSAGE"];
const GAP: usize = 2;
/// The RESOURCE column is never cut below this many columns, nor NAMESPACE below its own minimum.
const MIN_RESOURCE: usize = 16;
const MIN_NAMESPACE: usize = 6;
/// The MESSAGE column keeps at least this much (or a quarter of the screen, when wider) before names
/// are shortened.
const MIN_MESSAGE: usize = 16;

/// A terminal's size in display columns and lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Columns.
    pub width: usize,
    /// Lines.
    pub height: usize,
}

/// The lines of a frame of `state` on a screen of `size`: notices, header, rows (settled ones folded
/// into counts when they do not all fit), the progress line with `elapsed`. `last`: the final frame,
/// which lists every row not settled even beyond the screen's height.
pub fn frame(state: &TableState, size: Size, last: bool, elapsed: Option<Duration>) -> Vec<String> {
    let width = size.width.saturating_sub(1).max(1);
    let mut lines: Vec<String> = state.notices.iter().map(|notice| truncate(notice, Some(width))).collect();
    let budget = size.height.saturating_sub(1 + lines.len() + 1);
    lines.extend(rows_block(state, width, budget, last));
    let mut progress = progress_line(state);
    push_elapsed(&mut progress, elapsed);
    push_cancelled(&mut progress, state.cancelled());
    lines.push(truncate(&progress, Some(width)));
    lines
}

/// The header and the rows of `state` within `budget` lines of `width` columns (settled rows folded
/// into counts, then the unsettled rows that do not fit counted): nothing when fewer than three lines
/// are left, since a header and one line say too little. `last`: every unsettled row, whatever the
/// budget. The single-cluster frame and a fleet's frame (the rows of the cluster that needs attention)
/// share it.
pub(super) fn rows_block(state: &TableState, width: usize, budget: usize, last: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let rows_budget = budget.saturating_sub(1);
    if rows_budget < 2 && !last {
        return lines;
    }
    let rows = state.rows();
    let (visible, folded, hidden) = choose(rows, rows_budget, last);
    let cells: Vec<[String; 5]> = visible.iter().map(|&index| cells(&rows[index], state)).collect();
    let widths = fit(&cells, width);
    lines.push(join(&HEADERS.map(str::to_owned), widths, width));
    lines.extend(cells.iter().map(|row| join(row, widths, width)));
    if !folded.is_empty() {
        lines.push(truncate(&counts(rows, &folded, state), Some(width)));
    }
    if hidden > 0 {
        lines.push(truncate(&format!("… and {hidden} more not finished"), Some(width)));
    }
    lines
}

/// `  12s` after a progress line, when the elapsed time is shown.
pub(super) fn push_elapsed(line: &mut String, elapsed: Option<Duration>) {
    if let Some(elapsed) = elapsed {
        line.push_str(&format!("  {}s", elapsed.as_secs()));
    }
}

/// `  interrupted` or `  timed out` after a progress line, once the run was cancelled.
pub(super) fn push_cancelled(line: &mut String, cancelled: Option<CancelReason>) {
    match cancelled {
        Some(CancelReason::Interrupted) => line.push_str("  interrupted"),
        Some(CancelReason::TimedOut) => line.push_str("  timed out"),
        _ => {}
    }
}

/// Which rows show (indices, in plan order), which fold into counts, and how many more unsettled
/// rows there are than fit.
fn choose(rows: &[Row], budget: usize, last: bool) -> (Vec<usize>, Vec<usize>, usize) {
    if rows.len() <= budget {
        return ((0..rows.len()).collect(), Vec::new(), 0);
    }
    let (folded, active): (Vec<usize>, Vec<usize>) =
        (0..rows.len()).partition(|&index| rows[index].is_settled());
    let room = budget.saturating_sub(usize::from(!folded.is_empty()));
    if last || active.len() <= room {
        return (active, folded, 0);
    }
    // Not all unsettled rows fit: failures first, then objects being waited for, then pending ones.
    let shown = room.saturating_sub(1);
    let mut ranked = active.clone();
    ranked.sort_by_key(|&index| (priority(&rows[index]), index));
    let mut visible: Vec<usize> = ranked.into_iter().take(shown).collect();
    visible.sort_unstable();
    let hidden = active.len() - visible.len();
    (visible, folded, hidden)
}

fn priority(row: &Row) -> u8 {
    let pending = matches!(row.action, Action::Pending | Action::PrunePending | Action::DeletePending);
    match (row.finished, pending) {
        (true, _) => 0,
        (false, false) => 1,
        (false, true) => 2,
    }
}

fn cells(row: &Row, state: &TableState) -> [String; 5] {
    [
        row.obj.namespace_or_empty().to_owned(),
        format!("{}/{}", GroupKind::new(row.obj.group.as_str(), row.obj.kind.as_str()), row.obj.name),
        row.action.label(state.dry_run()).to_owned(),
        row.status.map(Status::as_str).unwrap_or("").to_owned(),
        one_line(&row.message),
    ]
}

/// Column widths within `width`: contents' widths, then NAMESPACE and RESOURCE narrowed so that the
/// MESSAGE column keeps its minimum.
fn fit(cells: &[[String; 5]], width: usize) -> [usize; 5] {
    let mut widths = HEADERS.map(UnicodeWidthStr::width);
    for row in cells {
        for (column, cell) in widths.iter_mut().zip(row) {
            *column = (*column).max(cell.width());
        }
    }
    let [namespace, resource, action, status, message] = widths;
    let fixed = action + status + 4 * GAP;
    let keep = message.min(MIN_MESSAGE.max(width / 4));
    let room = width.saturating_sub(fixed + keep);
    if namespace + resource <= room {
        return widths;
    }
    // The namespace (often the same on every row) gives up most: at most a third of the room.
    let namespace = namespace.min(MIN_NAMESPACE.max(room / 3));
    let resource = resource.min(MIN_RESOURCE.max(room.saturating_sub(namespace)));
    [namespace, resource, action, status, message]
}

fn join(cells: &[String; 5], widths: [usize; 5], width: usize) -> String {
    let mut line = String::new();
    for (column, (cell, &column_width)) in cells.iter().zip(&widths).enumerate() {
        if column > 0 {
            line.push_str(&" ".repeat(GAP));
        }
        let cell = match column {
            0 => truncate(cell, Some(column_width)),
            1 => shorten_name(cell, column_width),
            _ => cell.clone(),
        };
        let padding = column_width.saturating_sub(cell.width());
        line.push_str(&cell);
        if column < 4 {
            line.extend(std::iter::repeat_n(' ', padding));
        }
    }
    truncate(line.trim_end(), Some(width))
}

/// `Kind.group/name` within `width` columns: the name shortened, the kind kept while it leaves the name
/// a few columns.
fn shorten_name(text: &str, width: usize) -> String {
    match text.split_once('/') {
        Some((kind, name)) if text.width() > width && kind.width() + 1 + 6 <= width => {
            format!("{kind}/{}", shorten_middle(name, width - kind.width() - 1))
        }
        _ => shorten_middle(text, width),
    }
}

/// `text` within `width` columns, its middle replaced by `…`: the end of a name (`-7d9c`, `-canary`)
/// tells objects apart as much as its start.
fn shorten_middle(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    if width < 3 {
        return truncate(text, Some(width));
    }
    let tail_width = (width - 1) / 2;
    let mut tail = Vec::new();
    let mut used = 0;
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > tail_width {
            break;
        }
        used += w;
        tail.push(c);
    }
    let head = truncate(text, Some(width - used));
    let mut cut = head;
    cut.extend(tail.into_iter().rev());
    cut
}

/// `24 ConfigMaps Current, 2 ConfigMaps Pruned`: the folded rows counted by kind and outcome, in the
/// order they first appear.
fn counts(rows: &[Row], folded: &[usize], state: &TableState) -> String {
    let mut groups: Vec<((&str, &str), usize)> = Vec::new();
    for &index in folded {
        let row = &rows[index];
        let outcome = match row.status {
            Some(Status::Current) => "Current",
            _ => row.action.label(state.dry_run()),
        };
        let key = (row.obj.kind.as_str(), outcome);
        match groups.iter_mut().find(|(group, _)| *group == key) {
            Some((_, count)) => *count += 1,
            None => groups.push((key, 1)),
        }
    }
    groups
        .iter()
        .map(|((kind, outcome), count)| format!("{count} {} {outcome}", plural(kind, *count)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(kind: &str, count: usize) -> String {
    if count == 1 {
        kind.to_owned()
    } else if kind.ends_with('s') || kind.ends_with('x') || kind.ends_with("ch") || kind.ends_with("sh") {
        format!("{kind}es")
    } else if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{kind}s")
    }
}
