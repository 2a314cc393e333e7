//! [`fleet_frame`]: what a fleet's live table shows on a terminal of a given size; pure, so every
//! layout rule is a unit test.
//!
//! One line per cluster (progress bar, counts, what it is waiting on), then the rows of the cluster
//! that needs attention ([`FleetState::focus`]) laid out by the single-cluster table's own code
//! (`rows_block`: settled rows folded into counts, failures and waits kept), then the fleet's
//! progress line. As for one cluster, a frame never has more lines than the screen less one: when the
//! clusters do not all fit, the ones that need looking at stay and the rest are counted. The final
//! frame lists every cluster, and the rows not settled of every cluster that has any.

use std::time::Duration;

use unicode_width::UnicodeWidthStr;

use crate::event::CancelReason;

use super::super::frame::{Size, push_cancelled, push_elapsed, rows_block};
use super::super::render::{bar, join_columns, one_line, truncate};
use super::super::state::{Action, TableState};
use super::state::{ClusterPhase, ClusterState, FleetState};

const HEADERS: [&str; 4] = ["CLUSTER", "PROGRESS", "FAILED", "NOW"];
/// A cluster line's bar is shorter than the fleet's: the line has more to say.
const CLUSTER_BAR: usize = 10;
const FLEET_BAR: usize = 20;
/// Lines the rows section needs to show a row: its title, the table's header, a row, the line of
/// folded counts and the line of rows left out.
const MIN_SECTION: usize = 5;

/// The lines of a frame of `state` on a screen of `size`: notices, the clusters, the rows of the
/// cluster that needs attention, the fleet's progress line with `elapsed`. `last`: the final frame,
/// every cluster and every row not settled, however tall.
pub fn fleet_frame(state: &FleetState, size: Size, last: bool, elapsed: Option<Duration>) -> Vec<String> {
    let width = size.width.saturating_sub(1).max(1);
    let mut lines: Vec<String> = state.notices.iter().map(|notice| truncate(notice, Some(width))).collect();
    let available = size.height.saturating_sub(1 + lines.len() + 1);
    let clusters = state.clusters();
    if last {
        lines.extend(cluster_lines(clusters, &(0..clusters.len()).collect::<Vec<_>>(), 0, width));
        for cluster in clusters.iter().filter(|cluster| needs_a_look(cluster)) {
            lines.push(truncate(&section_title(cluster), Some(width)));
            lines.extend(rows_block(&cluster.table, width, 0, true));
        }
    } else {
        let section = if state.focus().is_some() { MIN_SECTION } else { 0 };
        let room = if 1 + clusters.len() + section <= available {
            1 + clusters.len()
        } else {
            available.saturating_sub(section).max(available.min(2))
        };
        let (shown, hidden) = choose_clusters(clusters, room.saturating_sub(1));
        let block = if room >= 2 { cluster_lines(clusters, &shown, hidden, width) } else { Vec::new() };
        let left = available.saturating_sub(block.len());
        lines.extend(block);
        if let Some(focus) = state.focus()
            && left >= MIN_SECTION
        {
            lines.push(truncate(&section_title(focus), Some(width)));
            lines.extend(rows_block(&focus.table, width, left - 1, false));
        }
    }
    lines.push(truncate(&progress_line(state, elapsed), Some(width)));
    lines
}

/// A cluster whose rows the final frame lists: some row not finished as wished.
fn needs_a_look(cluster: &ClusterState) -> bool {
    cluster.table.rows().iter().any(|row| !row.is_settled())
}

/// Above a cluster's rows: `[fleet-b] 7 of 31 not finished, 1 failed:` while objects are open, else
/// `[fleet-a] 1 of 3 failed:` or `[fleet-a] 2 of 3 not as wished:` (timed out, skipped).
fn section_title(cluster: &ClusterState) -> String {
    let table = &cluster.table;
    let (open, total, failures) = (table.total() - table.finished(), table.total(), cluster.failures());
    let what = match (open, failures) {
        (0, 0) => {
            let unsettled = table.rows().iter().filter(|row| !row.is_settled()).count();
            format!("{unsettled} of {total} not as wished")
        }
        (0, failures) => format!("{failures} of {total} failed"),
        (open, 0) => format!("{open} of {total} not finished"),
        (open, failures) => format!("{open} of {total} not finished, {failures} failed"),
    };
    format!("[{}] {what}:", cluster.context)
}

/// Which clusters show when only `room` lines are left for them (the "… more" line included): all
/// when they fit; else those that need looking at first (stopped or failing, then running, then
/// queued, then done), in the fleet's order, and how many are left out.
fn choose_clusters(clusters: &[ClusterState], room: usize) -> (Vec<usize>, usize) {
    if clusters.len() <= room {
        return ((0..clusters.len()).collect(), 0);
    }
    let shown_count = room.saturating_sub(1);
    let mut ranked: Vec<usize> = (0..clusters.len()).collect();
    ranked.sort_by_key(|&index| (rank(&clusters[index]), index));
    let mut shown: Vec<usize> = ranked.into_iter().take(shown_count).collect();
    shown.sort_unstable();
    (shown.clone(), clusters.len() - shown.len())
}

fn rank(cluster: &ClusterState) -> u8 {
    match cluster.phase {
        ClusterPhase::Stopped { .. } => 0,
        _ if cluster.failures() > 0 => 0,
        ClusterPhase::Running | ClusterPhase::Connecting => 1,
        ClusterPhase::Done if needs_a_look(cluster) => 1,
        ClusterPhase::Queued => 2,
        _ => 3,
    }
}

/// The header and the lines of the clusters `shown`, columns aligned, then `… and N more clusters`.
fn cluster_lines(clusters: &[ClusterState], shown: &[usize], hidden: usize, width: usize) -> Vec<String> {
    let cells: Vec<[String; 4]> = shown.iter().map(|&index| cells(&clusters[index])).collect();
    let mut widths = HEADERS.map(UnicodeWidthStr::width);
    for row in &cells {
        for (column, cell) in widths.iter_mut().zip(row) {
            *column = (*column).max(cell.width());
        }
    }
    let join = |row: [&str; 4]| truncate(&join_columns(row, widths), Some(width));
    let mut lines = vec![join(HEADERS)];
    lines.extend(cells.iter().map(|row| join(row.each_ref().map(String::as_str))));
    if hidden > 0 {
        let done = clusters.iter().filter(|cluster| cluster.phase == ClusterPhase::Done).count();
        lines.push(truncate(&format!("… and {hidden} more clusters ({done} done in all)"), Some(width)));
    }
    lines
}

/// CLUSTER, PROGRESS, FAILED, NOW of one cluster.
fn cells(cluster: &ClusterState) -> [String; 4] {
    let table = &cluster.table;
    let has_rows = table.total() > 0 || table.summary().is_some();
    let (progress, failed) = if has_rows {
        let progress = format!(
            "{} {}/{}",
            bar(table.finished(), table.total(), CLUSTER_BAR),
            table.finished(),
            table.total()
        );
        (progress, cluster.failures().to_string())
    } else {
        ("-".to_owned(), "-".to_owned())
    };
    [cluster.context.clone(), progress, failed, now(cluster)]
}

/// What a cluster is doing: queued, connecting, what its run waits on, how it ended.
fn now(cluster: &ClusterState) -> String {
    match &cluster.phase {
        ClusterPhase::Queued => "queued".to_owned(),
        ClusterPhase::Connecting => "connecting and loading".to_owned(),
        ClusterPhase::Running => waiting_on(&cluster.table),
        ClusterPhase::Done => match cluster.outcome() {
            Some(outcome) => outcome.as_str().to_owned(),
            None => "done".to_owned(),
        },
        ClusterPhase::Stopped { state, detail } if detail.is_empty() => state.clone(),
        ClusterPhase::Stopped { state, detail } => format!("{state}: {detail}"),
    }
}

/// `waiting for 6: Deployment.apps/shop/web: Available: 0/1`: how many objects were applied (or
/// deleted) and are not finished, the first of them with its last message (the count first: a narrow
/// screen cuts the end); else how many are pending; else `finishing` (writing the inventory).
fn waiting_on(table: &TableState) -> String {
    let pending =
        |action: Action| matches!(action, Action::Pending | Action::PrunePending | Action::DeletePending);
    let mut waiting = table.rows().iter().filter(|row| !row.finished && !pending(row.action));
    let cancelled = match table.cancelled() {
        Some(CancelReason::Interrupted) => "interrupted; ",
        Some(CancelReason::TimedOut) => "timed out; ",
        _ => "",
    };
    if let Some(first) = waiting.next() {
        let count = 1 + waiting.count();
        let message = one_line(&first.message);
        let mut text = match count {
            1 => format!("{cancelled}waiting for {}", first.obj),
            _ => format!("{cancelled}waiting for {count}: {}", first.obj),
        };
        if !message.is_empty() {
            text.push_str(&format!(": {message}"));
        }
        return text;
    }
    let open = table.rows().iter().filter(|row| !row.finished).count();
    if open > 0 { format!("{cancelled}{open} pending") } else { format!("{cancelled}finishing") }
}

/// `[####----] 62/93 finished, 1/3 clusters done`, the dry run's marker, the elapsed time, and
/// `interrupted` once any cluster's run was.
fn progress_line(state: &FleetState, elapsed: Option<Duration>) -> String {
    let clusters = state.clusters();
    let finished: usize = clusters.iter().map(|cluster| cluster.table.finished()).sum();
    let total: usize = clusters.iter().map(|cluster| cluster.table.total()).sum();
    let done = clusters
        .iter()
        .filter(|cluster| matches!(cluster.phase, ClusterPhase::Done | ClusterPhase::Stopped { .. }))
        .count();
    let marker = clusters
        .iter()
        .find_map(|cluster| cluster.table.dry_run().marker())
        .map(|marker| format!(" ({marker})"))
        .unwrap_or_default();
    let mut line = format!(
        "{} {finished}/{total} finished, {done}/{} clusters done{marker}",
        bar(finished, total, FLEET_BAR),
        clusters.len()
    );
    push_elapsed(&mut line, elapsed);
    let cancelled =
        clusters.iter().filter_map(|cluster| cluster.table.cancelled()).min_by_key(|reason| match reason {
            CancelReason::Interrupted => 0,
            _ => 1,
        });
    push_cancelled(&mut line, cancelled);
    line
}
