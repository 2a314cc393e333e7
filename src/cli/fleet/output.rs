//! A fleet's output: each member's events through its own printer (lines marked with its context, see
//! [`super::lines`]), its errors on stderr naming the context, then a table of the clusters and the
//! fleet's exit code — the worst of theirs by [`severity`], and which cluster gave it.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::time::MissedTickBehavior;

use super::lines::Lines;
use super::start::StartError;
use crate::cli::args::RunArgs;
use crate::cli::exit::Outcome;
use crate::cli::session::{CHECK_EVENT_ORDER, clip_lines, outcome_of};
use kapply::event::{Event, Summary};
use kapply::fleet::{FleetEvent, FleetStream, NotStarted};
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
    printer: Box<dyn Printer>,
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
    fn write(&mut self, result: io::Result<()>) {
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
    heartbeat: Option<Duration>,
}

impl Output {
    pub fn new(command: &'static str, format: OutputFormat, run: &RunArgs, contexts: &[String]) -> Self {
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
                    printer: printers::printer_for(format, lines, options.clone()),
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
        let heartbeat = Some(run.heartbeat).filter(|period| !period.is_zero());
        Output { command, format, members, heartbeat }
    }

    /// Prints every item as it arrives (and each running member's heartbeat every `--heartbeat`), then
    /// the clusters table; returns the fleet's exit outcome.
    pub async fn print(mut self, mut events: FleetStream<'_, StartError>) -> Outcome {
        let started = Instant::now();
        let period = self.heartbeat.unwrap_or(Duration::from_secs(86_400));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let item = tokio::select! {
                item = events.next() => item,
                _ = ticks.tick(), if self.heartbeat.is_some() => {
                    let elapsed = started.elapsed();
                    for member in self.members.iter_mut().filter(|m| m.running) {
                        let beat = if member.planned {
                            member.printer.heartbeat(elapsed)
                        } else {
                            connecting(&member.context, self.format, elapsed)
                        };
                        member.write(beat);
                    }
                    continue;
                }
            };
            let Some(item) = item else { break };
            self.item(item);
        }
        let (outcome, table) = self.table();
        let mut out = io::stdout().lock();
        let written = out.write_all(table.as_bytes()).and_then(|()| out.flush());
        let write_error = self.members.iter_mut().find_map(|m| m.error.take()).or(written.err());
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

    fn item(&mut self, item: FleetEvent<StartError>) {
        let (command, format) = (self.command, self.format);
        let member = self.member(item.context());
        match item {
            FleetEvent::Started { .. } => {
                member.running = true;
                member.state = "running";
            }
            FleetEvent::StartFailed { error, .. } => {
                let text = clip_lines(&error.to_string());
                let state = match &error {
                    StartError::Connect(_) => "connect failed",
                    _ => "load failed",
                };
                eprint_marked(command, &member.context, &text);
                if error.outcome() == Outcome::Usage {
                    eprintln!("kapply {command} [{}]: nothing was applied on this cluster", member.context);
                }
                print_hint(command, &member.context, error.setting());
                let printed = member.printer.error(&text);
                member.write(printed);
                member.state = state;
                member.detail = first_line(&text);
                member.outcome = Some(error.outcome());
            }
            FleetEvent::Event { event, .. } => {
                let mut event = *event;
                member.planned = true;
                event.name_settings(&crate::cli::hints::flags());
                if let Event::Summary(summary) = &event {
                    member.summary = Some(summary.clone());
                }
                let printed = member.printer.print(&event);
                member.write(printed);
                if let Some(recorded) = &mut member.recorded {
                    recorded.push(event);
                }
            }
            FleetEvent::RunFailed { error, .. } => {
                let text = clip_lines(&error.to_string());
                eprint_marked(command, &member.context, &text);
                print_hint(command, &member.context, error.setting());
                let printed = member.printer.error(&text);
                member.write(printed);
                member.state = "run failed";
                member.detail = first_line(&text);
                member.outcome =
                    Some(if error.is_invalid_input() { Outcome::Usage } else { Outcome::Failed });
            }
            FleetEvent::Finished { .. } => {
                member.running = false;
                let finished = member.printer.finish();
                member.write(finished);
                if let Some(violation) = member
                    .recorded
                    .take()
                    .filter(|events| !events.is_empty())
                    .and_then(|events| kapply::event::check_order(&events).err())
                {
                    eprintln!(
                        "kapply {command} [{}]: the event stream breaks its ordering contract: {violation}",
                        member.context
                    );
                    member.outcome = Some(Outcome::Failed);
                }
                if member.outcome.is_none() {
                    member.outcome = Some(member.summary.as_ref().map_or(Outcome::Failed, outcome_of));
                }
            }
            FleetEvent::NotStarted { reason, .. } => {
                member.state = "not started";
                member.detail = reason.as_str().to_owned();
                member.outcome = (reason == NotStarted::Cancelled).then_some(Outcome::Interrupted);
                let (line, mut lines) = match format {
                    OutputFormat::Json => (not_started_json(reason), Lines::json(&member.context)),
                    _ => (format!("not started: {}\n", reason.as_str()), Lines::text(&member.context)),
                };
                let written = lines.write_all(line.as_bytes());
                member.write(written);
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

/// `kapply <command> [context]: <line>` for every line of `text`, on stderr.
fn eprint_marked(command: &str, context: &str, text: &str) {
    for line in text.lines() {
        eprintln!("kapply {command} [{context}]: {line}");
    }
}

fn print_hint(command: &str, context: &str, setting: Option<kapply::Setting>) {
    if let Some(setting) = setting {
        eprintln!("kapply {command} [{context}]: hint: use {}", crate::cli::hints::flag(setting));
    }
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
