//! `kapply status` on a fleet: each cluster's inventory observed at once, through its own connection,
//! until the `--poll-until` condition holds there. Lines carry their cluster (events: `[context] `;
//! JSON: `"cluster"`); the table names each object `[context] Kind/ns/name`. The exit code is the worst
//! of the clusters' (docs/fleet.md), each cluster's as for one cluster.

use std::io::{self, Write};

use futures::StreamExt;

use super::lines::Lines;
use super::output::severity;
use super::start::{self, StartError};
use super::{refuse_rollout, select};
use crate::cli::args::{PollUntil, StatusArgs};
use crate::cli::exit::Outcome;
use crate::cli::inputs::inputs_of;
use crate::cli::report::Report;
use crate::cli::session::{self, clip_lines};
use crate::cli::status_live;
use kapply::Input;
use kapply::printers::{JsonPrinter, OutputFormat, Printer, PrinterOptions};
use tokio_util::sync::CancellationToken;

/// Runs the live `kapply status` on every chosen context.
pub fn run(args: &StatusArgs) -> Outcome {
    let report = Report::new("status", args.output == OutputFormat::Json);
    if let Some(outcome) = refuse_rollout("status", &args.fleet) {
        return outcome;
    }
    if args.offline || args.all_inventories {
        report.error("--offline and --all-inventories read one source; give one --context");
        return Outcome::Usage;
    }
    let contexts = match select::contexts(&args.connection, &args.fleet) {
        Ok(contexts) => contexts,
        Err(message) => {
            report.error(&message);
            return Outcome::Usage;
        }
    };
    let inputs = match inputs_of(&args.manifests.all_paths()) {
        Ok(inputs) => inputs,
        Err(err) => {
            report.error(&format!("cannot read standard input: {err}"));
            return Outcome::Usage;
        }
    };
    session::block_on(async {
        let cancel = session::cancel_on_signals(true);
        let at_once = args.fleet.cluster_concurrency.map_or(contexts.len(), usize::from).max(1);
        let results: Vec<(Outcome, Vec<[String; 3]>)> = futures::stream::iter(
            contexts.iter().map(|context| observe(context, args, &inputs, cancel.clone())),
        )
        .buffered(at_once)
        .collect()
        .await;
        let mut out = io::stdout().lock();
        if args.output == OutputFormat::Table {
            let rows: Vec<[String; 3]> = results.iter().flat_map(|(_, rows)| rows.iter().cloned()).collect();
            let table = crate::cli::status::table(crate::cli::status::STATUS_HEADER, &rows);
            let _ = out.write_all(table.as_bytes());
        }
        let worst = contexts.iter().zip(&results).fold(
            None,
            |worst: Option<(Outcome, &str)>, (c, (o, _))| match worst {
                Some((w, _)) if severity(w) >= severity(*o) => worst,
                _ => Some((*o, c)),
            },
        );
        let (outcome, context) = worst.unwrap_or((Outcome::Failed, ""));
        if outcome != Outcome::Success {
            eprintln!("kapply status: exit {} (from {context})", outcome.code());
        }
        outcome
    })
}

/// Observes one cluster's inventory; its outcome, and its table rows when the output is a table.
async fn observe(
    context: &str,
    args: &StatusArgs,
    inputs: &[Input],
    cancel: CancellationToken,
) -> (Outcome, Vec<[String; 3]>) {
    let failed = |error: &str, outcome: Outcome| {
        for line in clip_lines(error).lines() {
            eprintln!("kapply status [{context}]: {line}");
        }
        if args.output == OutputFormat::Json {
            let mut printer = JsonPrinter::new(Lines::json(context), &PrinterOptions::default());
            let _ = printer.error(&clip_lines(error));
        }
        (outcome, Vec::new())
    };
    let found = async {
        let cluster = start::connect(&args.connection, context).await?;
        let info =
            start::inventory(&cluster, &args.manifests, &args.connection, &args.inventory, inputs).await?;
        Ok::<_, StartError>((cluster, info))
    };
    let (cluster, info) = match found.await {
        Ok(found) => found,
        Err(err) => return failed(&err.to_string(), err.outcome()),
    };
    let inventory = match kapply::read_inventory(&cluster, &info).await {
        Ok(Some(inventory)) => inventory,
        Ok(None) if args.poll_until == PollUntil::Deleted => return (Outcome::Success, Vec::new()),
        Ok(None) => {
            let text = format!("the inventory {info} does not exist: nothing was applied with it yet");
            return failed(&text, Outcome::Failed);
        }
        Err(err) => return failed(&err.to_string(), Outcome::Failed),
    };
    let refs = status_live::observed_refs(inventory.objects, args);
    let mut lines =
        if args.output == OutputFormat::Json { Lines::json(context) } else { Lines::text(context) };
    let observation = status_live::observer(&cluster, args)
        .run(&refs, cancel, |obj, status| {
            if args.output == OutputFormat::Table || !status_live::shown(args, status) {
                return;
            }
            let line = status_live::status_text(args, obj, status);
            // A closed stdout stops nothing here; the other clusters' lines fail the same way.
            let _ = lines.write_all(format!("{line}\n").as_bytes());
        })
        .await;
    let rows = observation
        .statuses
        .iter()
        .filter(|(_, status)| status_live::shown(args, status))
        .map(|(obj, s)| [format!("[{context}] {obj}"), s.status.to_string(), s.message.trim().to_owned()])
        .collect();
    (status_live::outcome_of(&observation, args), rows)
}
