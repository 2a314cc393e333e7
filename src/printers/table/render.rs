//! [`render`]: a [`TableState`] as text — header, rows, progress line — cut to a width; pure.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::kstatus::Status;
use crate::object::GroupKind;

use super::state::TableState;

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
pub(super) fn row_lines(state: &TableState) -> (String, Vec<String>) {
    let cells: Vec<[String; 5]> = state
        .rows
        .iter()
        .map(|row| {
            [
                row.obj.namespace_or_empty().to_owned(),
                format!("{}/{}", GroupKind::new(row.obj.group.as_str(), row.obj.kind.as_str()), row.obj.name),
                row.action.label(state.dry_run()).to_owned(),
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
    let header = join_columns(HEADERS, widths);
    let rows = cells.iter().map(|row| join_columns(row.each_ref().map(String::as_str), widths)).collect();
    (header, rows)
}

/// `cells` side by side, each padded to its column's width in display columns, two spaces apart,
/// trailing spaces trimmed: a line of the plain table, or of a fleet's cluster lines.
pub(super) fn join_columns<const N: usize>(cells: [&str; N], widths: [usize; N]) -> String {
    let mut line = String::new();
    for (column, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if column > 0 {
            line.push_str(COLUMN_GAP);
        }
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.width())));
    }
    line.trim_end().to_owned()
}

/// `[######--------------] 1/3 finished`, and the dry run's marker.
pub(super) fn progress_line(state: &TableState) -> String {
    let (finished, total) = (state.finished(), state.total());
    let marker = state.dry_run().marker().map(|marker| format!(" ({marker})")).unwrap_or_default();
    format!("{} {finished}/{total} finished{marker}", bar(finished, total, BAR_WIDTH))
}

/// A progress bar `[####------]` of `width` cells between the brackets, `finished` of `total` filled
/// (none when the total is 0).
pub(super) fn bar(finished: usize, total: usize, width: usize) -> String {
    let filled = (finished.min(total) * width).checked_div(total).unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

/// A message on one line: API server errors may span several.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `line` cut to `width` display columns, its last column an ellipsis when anything was cut.
pub(super) fn truncate(line: &str, width: Option<usize>) -> String {
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
