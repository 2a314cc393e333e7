//! A fleet's output: each member's events through its own printer (lines marked with its context, see
//! [`super::lines`]) and its errors on stderr naming the context — or, for the table format, one
//! [`FleetTablePrinter`] for every member (a line per cluster and the rows of the cluster that needs
//! attention, redrawn in place on a terminal; errors printed above it, where no redraw erases them);
//! then a table of the clusters and the fleet's exit code — the worst of theirs by [`severity`], and
//! which cluster gave it.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::lines::Lines;
use super::start::StartError;
use crate::cli::args::RunArgs;
use crate::cli::exit::Outcome;
use crate::cli::logging;
use crate::cli::session::{CHECK_EVENT_ORDER, INTERRUPTED, LIVE_TICK, clip_lines, outcome_of};
use kapply::event::{Event, Summary};
use kapply::fleet::{FleetEvent, FleetStream, NotStarted};
use kapply::printers::table::FleetTablePrinter;
use kapply::printers::{self, OutputFormat, Printer, PrinterOptions};

/// How bad a member's outcome is for the fleet's exit code: interrupted (130) over a failed apply,
/// prune, delete or cluster (1) over input a cluster refused (2) over an object Failed (4) over a
/// timeout (3) over success (0). 1 and 4 over 3 is a single run's precedence; 2 ranks below 1 because
/// on a fleet it means "nothing was written *on that cluster*" while 1 means something went wrong after
/// writing.
pub fn severity(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Success => 0,
        Outcome::Timeout => 1,
        Outcome::ObjectFailed => 2,
        Outcome::Usage => 3,
        Outcome::Failed => 4,
        Outcome::Interrupted => 5,
    }
}

/// One member's printer and what it ended with.
struct Member {
    context: String,
    /// Its own printer (events, JSON); None when the fleet's table shows every member.
    printer: Option<Box<dyn Printer>>,
    summary: Option<Summary>,
    /// The member's events, when the ordering contract is checked (per member: each run is one stream).
    recorded: Option<Vec<Event>>,
    /// None while running, and for a member not started because of another's failure.
    outcome: Option<Outcome>,
    /// What the table says beside the outcome: an error's first line, why it did not start.
    detail: String,
    /// Its state word in the table when it has no summary.
    state: &'static str,
    running: bool,
    /// Its run has begun (an event came): before, it is connecting and loading.
    planned: bool,
    error: Option<io::Error>,
}

impl Member {
    /// `print` on the member's own printer, if it has one; the first error kept.
    fn with_printer(&mut self, print: impl FnOnce(&mut dyn Printer) -> io::Result<()>) {
        if let Some(printer) = &mut self.printer {
            let result = print(printer.as_mut());
            self.write(result);
        }
    }

    fn write(&mut self, result: io::Result<()>) {
        if self.error.is_none()
            && let Err(err) = result
        {
            self.error = Some(err);
        }
    }
}

/// The fleet's table, and whether it is drawn live (on a terminal: messages go into it, not to
/// stderr, which would be drawn over).
struct Table {
    printer: FleetTablePrinter<io::Stdout>,
    live: bool,
    error: Option<io::Error>,
}

impl Table {
    fn write(&mut self, print: impl FnOnce(&mut FleetTablePrinter<io::Stdout>) -> io::Result<()>) {
        let result = print(&mut self.printer);
        if self.error.is_none()
            && let Err(err) = result
        {
            self.error = Some(err);
        }
    }
}

/// Prints a fleet's stream.
pub struct Output {
    command: &'static str,
    format: OutputFormat,
    members: Vec<Member>,
    /// Set for the table format: it shows every member.
    table: Option<Table>,
    heartbeat: Option<Duration>,
}

impl Output {
    /// The output of `format` for `contexts`; for the table format, drawn live when `live` (stdout is
    /// a terminal), else printed once at the end.
    pub fn new(
        command: &'static str,
        format: OutputFormat,
        live: bool,
        run: &RunArgs,
        contexts: &[String],
    ) -> Self {
        let options = PrinterOptions {
            preview: None,
            status_events: run.status_events,
            live: false,
            width: None,
            timestamps: run.timestamps,
        };
        let checking = std::env::var_os(CHECK_EVENT_ORDER).is_some();
        let members = contexts
            .iter()
            .map(|context| {
                let lines =
                    if format == OutputFormat::Json { Lines::json(context) } else { Lines::text(context) };
                Member {
                    context: context.clone(),
                    printer: (format != OutputFormat::Table)
                        .then(|| printers::printer_for(format, lines, options.clone())),
                    summary: None,
                    recorded: checking.then(Vec::new),
                    outcome: None,
                    detail: String::new(),
                    state: "pending",
                    running: false,
                    planned: false,
                    error: None,
                }
            })
            .collect();
        let table = (format == OutputFormat::Table).then(|| Table {
            printer: if live {
                FleetTablePrinter::live(io::stdout(), contexts)
            } else {
                FleetTablePrinter::plain(io::stdout(), contexts, None)
            },
            live,
            error: None,
        });
        // A live table ticks often (elapsed time, throttled redraws); the events printer every
        // --heartbeat.
        let heartbeat =
            if live { Some(LIVE_TICK) } else { Some(run.heartbeat).filter(|period| !period.is_zero()) };
        Output { command, format, members, table, heartbeat }
    }

    /// The output is a live table: the interrupt notice goes into it, not to stderr.
    pub fn live(&self) -> bool {
        self.table.as_ref().is_some_and(|table| table.live)
    }

    /// Prints every item as it arrives (and each running member's heartbeat every `--heartbeat`, or
    /// the live table's tick), then the clusters table; returns the fleet's exit outcome. When `cancel`
    /// fires, a live table says so in its frame (the signal handler said it on stderr otherwise).
    pub async fn print(
        mut self,
        mut events: FleetStream<'_, StartError>,
        cancel: &CancellationToken,
    ) -> Outcome {
        let started = Instant::now();
        let period = self.heartbeat.unwrap_or(Duration::from_secs(86_400));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut noticed = false;
        if self.live() {
            logging::hold();
        }
        loop {
            self.print_held_logs();
            let item = tokio::select! {
                item = events.next() => item,
                _ = ticks.tick(), if self.heartbeat.is_some() => {
                    self.beat(started.elapsed());
                    continue;
                }
                _ = cancel.cancelled(), if self.live() && !noticed => {
                    noticed = true;
                    if let Some(table) = &mut self.table {
                        table.write(|printer| printer.notice(INTERRUPTED));
                    }
                    continue;
                }
            };
            let Some(item) = item else { break };
            self.item(item);
        }
        self.print_held_logs();
        if let Some(table) = &mut self.table {
            table.write(FleetTablePrinter::finish);
        }
        logging::release();
        let (outcome, table) = self.table();
        let mut out = io::stdout().lock();
        let written = out.write_all(table.as_bytes()).and_then(|()| out.flush());
        let table_error = self.table.as_mut().and_then(|table| table.error.take());
        let write_error =
            self.members.iter_mut().find_map(|m| m.error.take()).or(table_error).or(written.err());
        match write_error {
            Some(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                eprintln!("kapply {}: cannot write output: {err}", self.command);
                Outcome::Failed
            }
            _ => outcome,
        }
    }

    /// The fleet's exit outcome and its closing output: a table of the clusters (events), or one
    /// `fleetSummary` line (JSON).
    fn table(&self) -> (Outcome, String) {
        let worst = self.members.iter().filter_map(|m| m.outcome.map(|o| (o, m.context.as_str()))).fold(
            None,
            |worst: Option<(Outcome, &str)>, (o, c)| match worst {
                Some((w, _)) if severity(w) >= severity(o) => worst,
                _ => Some((o, c)),
            },
        );
        let (outcome, decided_by) = worst.unwrap_or((Outcome::Failed, ""));
        let rows: Vec<Row> = self.members.iter().map(Row::of).collect();
        let text = match self.format {
            OutputFormat::Json => json_summary(self.command, &rows, outcome, decided_by),
            _ => text_summary(self.command, &rows, outcome, decided_by),
        };
        (outcome, text)
    }

    fn member(&mut self, context: &str) -> &mut Member {
        let at = self.members.iter().position(|m| m.context == context).expect("a member of the fleet");
        &mut self.members[at]
    }

    /// Log lines held back while the live table is drawn (a member's connection retries), printed
    /// above it.
    fn print_held_logs(&mut self) {
        if let Some(table) = self.table.as_mut().filter(|table| table.live) {
            let lines = logging::take_held();
            if !lines.is_empty() {
                table.write(|printer| printer.message(&lines));
            }
        }
    }

    /// Each running member's heartbeat (events: what it waits for, or that it is still connecting), or
    /// the live table's tick.
    fn beat(&mut self, elapsed: Duration) {
        if let Some(table) = &mut self.table {
            table.write(FleetTablePrinter::heartbeat);
            return;
        }
        let format = self.format;
        for member in self.members.iter_mut().filter(|m| m.running) {
            if member.planned {
                member.with_printer(|printer| printer.heartbeat(elapsed));
            } else {
                let beat = connecting(&member.context, format, elapsed);
                member.write(beat);
            }
        }
    }

    /// Lines about `context` for people (its error, its hint, what that means), each as
    /// `kapply <command> [context]: <line>`: on stderr, or above a live table, where no redraw erases
    /// them.
    fn say(&mut self, context: &str, lines: &[String]) {
        let marked: Vec<String> =
            lines.iter().map(|line| format!("kapply {} [{context}]: {line}", self.command)).collect();
        match &mut self.table {
            Some(table) if table.live => table.write(|printer| printer.message(&marked)),
            _ => marked.iter().for_each(|line| eprintln!("{line}")),
        }
    }

    /// A member stopped without a run to show: `state` (`connect failed`, …) and the error's `text`
    /// go to the table, the member's printer (JSON's `error` line) and the closing table.
    fn stopped(&mut self, context: &str, state: &'static str, text: &str, outcome: Outcome) {
        let detail = first_line(text);
        if let Some(table) = &mut self.table {
            table.write(|printer| printer.stopped(context, state, &detail));
        }
        let member = self.member(context);
        member.with_printer(|printer| printer.error(text));
        member.state = state;
        member.detail = detail;
        member.outcome = Some(outcome);
    }

    fn item(&mut self, item: FleetEvent<StartError>) {
        let format = self.format;
        let context = item.context().to_owned();
        match item {
            FleetEvent::Started { .. } => {
                let member = self.member(&context);
                member.running = true;
                member.state = "running";
                if let Some(table) = &mut self.table {
                    table.write(|printer| printer.started(&context));
                }
            }
            FleetEvent::StartFailed { error, .. } => {
                let text = clip_lines(&error.to_string());
                let state = match &error {
                    StartError::Connect(_) => "connect failed",
                    _ => "load failed",
                };
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                if error.outcome() == Outcome::Usage {
                    lines.push("nothing was applied on this cluster".to_owned());
                }
                lines.extend(hint_line(error.setting()));
                self.say(&context, &lines);
                self.stopped(&context, state, &text, error.outcome());
            }
            FleetEvent::Event { event, .. } => {
                let mut event = *event;
                event.name_settings(&crate::cli::hints::flags());
                if let Some(table) = &mut self.table {
                    table.write(|printer| printer.print(&context, &event));
                }
                let member = self.member(&context);
                member.planned = true;
                if let Event::Summary(summary) = &event {
                    member.summary = Some(summary.clone());
                }
                member.with_printer(|printer| printer.print(&event));
                if let Some(recorded) = &mut member.recorded {
                    recorded.push(event);
                }
            }
            FleetEvent::RunFailed { error, .. } => {
                let text = clip_lines(&error.to_string());
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                lines.extend(hint_line(error.setting()));
                self.say(&context, &lines);
                let outcome = if error.is_invalid_input() { Outcome::Usage } else { Outcome::Failed };
                self.stopped(&context, "run failed", &text, outcome);
            }
            FleetEvent::Finished { .. } => {
                let member = self.member(&context);
                member.running = false;
                member.with_printer(|printer| printer.finish());
                let violation = member
                    .recorded
                    .take()
                    .filter(|events| !events.is_empty())
                    .and_then(|events| kapply::event::check_order(&events).err());
                if violation.is_some() {
                    member.outcome = Some(Outcome::Failed);
                }
                if member.outcome.is_none() {
                    member.outcome = Some(member.summary.as_ref().map_or(Outcome::Failed, outcome_of));
                }
                if let Some(violation) = violation {
                    self.say(
                        &context,
                        &[format!("the event stream breaks its ordering contract: {violation}")],
                    );
                }
                if let Some(table) = &mut self.table {
                    table.write(|printer| printer.finished(&context));
                }
            }
            FleetEvent::NotStarted { reason, .. } => {
                let outcome = (reason == NotStarted::Cancelled).then_some(Outcome::Interrupted);
                if let Some(table) = &mut self.table {
                    table.write(|printer| printer.stopped(&context, "not started", reason.as_str()));
                }
                let member = self.member(&context);
                member.state = "not started";
                member.detail = reason.as_str().to_owned();
                member.outcome = outcome;
                // The table shows it on the cluster's line.
                let line = match format {
                    OutputFormat::Json => Some((not_started_json(reason), Lines::json(&member.context))),
                    OutputFormat::Table => None,
                    _ => Some((format!("not started: {}\n", reason.as_str()), Lines::text(&member.context))),
                };
                if let Some((line, mut lines)) = line {
                    let written = lines.write_all(line.as_bytes());
                    member.write(written);
                }
            }
            _ => {}
        }
    }
}

/// The heartbeat of a member still connecting or loading (events output; JSON has no heartbeat).
fn connecting(context: &str, format: OutputFormat, elapsed: Duration) -> io::Result<()> {
    if format == OutputFormat::Json {
        return Ok(());
    }
    let line = format!("still connecting and loading after {}s\n", elapsed.as_secs());
    Lines::text(context).write_all(line.as_bytes())
}

/// A `notStarted` JSON line (docs/json-output.md); the cluster field is added by [`Lines`].
fn not_started_json(reason: NotStarted) -> String {
    let timestamp = format!("{:.3}", jiff::Timestamp::now());
    let reason = serde_json::Value::from(reason.as_str());
    format!("{{\"timestamp\":\"{timestamp}\",\"type\":\"notStarted\",\"reason\":{reason}}}\n")
}

/// `hint: use --flag`, when a setting resolves the error.
fn hint_line(setting: Option<kapply::Setting>) -> Option<String> {
    setting.map(|setting| format!("hint: use {}", crate::cli::hints::flag(setting)))
}

/// The first line, cut to a table cell's length.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// One cluster's line of the closing table.
struct Row {
    context: String,
    state: String,
    counts: Option<[usize; 4]>,
    code: Option<u8>,
    detail: String,
}

impl Row {
    fn of(member: &Member) -> Self {
        let counts = member.summary.as_ref().map(|s| {
            [
                s.apply.applied(),
                s.prune.deleted + s.delete.deleted,
                s.apply.failed + s.prune.failed + s.delete.failed + s.deletion.reappeared,
                s.reconcile.failed + s.reconcile.timed_out + s.deletion.timed_out,
            ]
        });
        let state = match (&member.summary, member.state) {
            (Some(summary), _) => summary.outcome().as_str().to_owned(),
            (None, state) => state.to_owned(),
        };
        Row {
            context: member.context.clone(),
            state,
            counts,
            code: member.outcome.map(Outcome::code),
            detail: member.detail.clone(),
        }
    }
}

const HEADERS: [&str; 8] =
    ["CONTEXT", "OUTCOME", "APPLIED", "DELETED", "FAILED", "NOT-CURRENT", "EXIT", "DETAIL"];

/// The table, aligned, then which exit code the fleet gives and why.
fn text_summary(command: &str, rows: &[Row], outcome: Outcome, decided_by: &str) -> String {
    let dash = || "-".to_owned();
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|row| {
            let count = |i: usize| row.counts.map_or_else(dash, |c| c[i].to_string());
            [
                row.context.clone(),
                row.state.clone(),
                count(0),
                count(1),
                count(2),
                count(3),
                row.code.map_or_else(dash, |c| c.to_string()),
                row.detail.clone(),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(str::len);
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(unicode_width::UnicodeWidthStr::width(cell.as_str()));
        }
    }
    let render = |line: &[String]| {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                let pad = widths[i] - unicode_width::UnicodeWidthStr::width(cell.as_str());
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        format!("{}\n", text.trim_end())
    };
    let succeeded = rows.iter().filter(|r| r.code == Some(0)).count();
    let mut text = format!("\nfleet {command}: {} cluster(s), {succeeded} succeeded\n", rows.len());
    text.push_str(&render(&HEADERS.map(str::to_owned)));
    for line in &cells {
        text.push_str(&render(line));
    }
    let code = outcome.code();
    if decided_by.is_empty() || code == 0 {
        text.push_str(&format!("exit {code}\n"));
    } else {
        text.push_str(&format!("exit {code} (from {decided_by})\n"));
    }
    text
}

/// The closing `fleetSummary` JSON line (docs/json-output.md). Structs keep the key order fixed, as on
/// every other line: `timestamp`, `type`, then the body.
fn json_summary(command: &str, rows: &[Row], outcome: Outcome, decided_by: &str) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Line<'a> {
        timestamp: String,
        #[serde(rename = "type")]
        type_: &'static str,
        command: &'a str,
        exit_code: u8,
        /// The cluster that gave the exit code; null when it is 0.
        exit_cluster: Option<&'a str>,
        clusters: Vec<Cluster<'a>>,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Cluster<'a> {
        cluster: &'a str,
        outcome: &'a str,
        /// Null for a cluster that never started because another failed.
        exit_code: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        applied: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        deleted: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        failed: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        not_current: Option<usize>,
        #[serde(skip_serializing_if = "str::is_empty")]
        detail: &'a str,
    }
    let clusters = rows
        .iter()
        .map(|row| Cluster {
            cluster: &row.context,
            outcome: &row.state,
            exit_code: row.code,
            applied: row.counts.map(|c| c[0]),
            deleted: row.counts.map(|c| c[1]),
            failed: row.counts.map(|c| c[2]),
            not_current: row.counts.map(|c| c[3]),
            detail: &row.detail,
        })
        .collect();
    let code = outcome.code();
    let line = Line {
        timestamp: format!("{:.3}", jiff::Timestamp::now()),
        type_: "fleetSummary",
        command,
        exit_code: code,
        exit_cluster: Some(decided_by).filter(|c| !c.is_empty() && code != 0),
        clusters,
    };
    format!("{}\n", serde_json::to_string(&line).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(context: &str, state: &str, code: Option<u8>, detail: &str) -> Row {
        let counts = (code == Some(0)).then_some([3, 0, 0, 0]);
        Row { context: context.into(), state: state.into(), counts, code, detail: detail.into() }
    }

    #[test]
    fn the_worst_outcome_wins_by_the_documented_precedence() {
        let order = [
            Outcome::Success,
            Outcome::Timeout,
            Outcome::ObjectFailed,
            Outcome::Usage,
            Outcome::Failed,
            Outcome::Interrupted,
        ];
        for pair in order.windows(2) {
            assert!(severity(pair[0]) < severity(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn the_table_aligns_its_columns_and_names_the_cluster_that_gave_the_exit_code() {
        let rows = [
            row("prod-eu", "success", Some(0), ""),
            row("prod-us-east", "load failed", Some(2), "unknown kind Widget"),
            row("prod-ap", "not started", None, "the canary did not succeed"),
        ];
        let text = text_summary("apply", &rows, Outcome::Usage, "prod-us-east");
        let expected = "
fleet apply: 3 cluster(s), 1 succeeded
CONTEXT       OUTCOME      APPLIED  DELETED  FAILED  NOT-CURRENT  EXIT  DETAIL
prod-eu       success      3        0        0       0            0
prod-us-east  load failed  -        -        -       -            2     unknown kind Widget
prod-ap       not started  -        -        -       -            -     the canary did not succeed
exit 2 (from prod-us-east)
";
        assert_eq!(text, expected);
        let json: serde_json::Value =
            serde_json::from_str(&json_summary("apply", &rows, Outcome::Usage, "prod-us-east")).unwrap();
        assert_eq!(json["type"], "fleetSummary");
        assert_eq!(json["exitCode"], 2);
        assert_eq!(json["exitCluster"], "prod-us-east");
        assert_eq!(json["clusters"][2]["exitCode"], serde_json::Value::Null);
        assert_eq!(json["clusters"][0]["applied"], 3);
    }
}
