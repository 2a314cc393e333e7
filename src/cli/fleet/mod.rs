//! One set, many clusters: `--context a,b`, `--all-contexts` and `--contexts 'prod-*'` run apply,
//! preview and destroy on every chosen kubeconfig context at once through [`kapply::fleet::Fleet`];
//! `diff` diffs on each ([`diff`]), `status` observes each ([`status`]).
//!
//! Each cluster gets its own connection, discovery, loader and run (its own inventory, same id and
//! namespace by default); [`output`] prints their events with the context on every line (or draws the
//! fleet's live table: a line per cluster, the rows of the one that needs attention) and ends with a
//! table of the clusters and the fleet's exit code, the worst of theirs. One `--context` alone is not
//! a fleet: the single-cluster path runs, exactly as before.

mod diff;
mod lines;
mod output;
mod select;
mod start;
mod status;

use std::io::{self, IsTerminal};

use clap::Args;
use tokio_util::sync::CancellationToken;

pub use diff::run as diff;
pub use status::run as status;

use super::args::{ApplyArgs, ConnectionArgs, ManifestArgs, RunArgs};
use super::destroy::Settings;
use super::exit::Outcome;
use super::inputs::inputs_of;
use super::report::Report;
use super::session;
use kapply::event::DryRun;
use kapply::fleet::Fleet;
use kapply::printers::OutputFormat;

/// The flags that choose a fleet and how it rolls out.
#[derive(Debug, Args, Default)]
pub struct FleetArgs {
    /// Run on every context of the kubeconfig at once (a fleet, docs/fleet.md).
    #[arg(long)]
    pub all_contexts: bool,
    /// Run on every kubeconfig context whose name matches this shell pattern (`*`, `?`, `[a-z]`,
    /// `[!x]`; repeatable), e.g. 'prod-*' or 'prod-[!u]*'.
    #[arg(long = "contexts", value_name = "PATTERN")]
    pub patterns: Vec<String>,
    /// Fleet: how many clusters run at once (default: all).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub cluster_concurrency: Option<u16>,
    /// Fleet: run this context first, alone; the others only if it ends in success.
    #[arg(long, value_name = "CONTEXT")]
    pub canary: Option<String>,
    /// Fleet: start no more clusters once N have failed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_failures: Option<u16>,
}

impl FleetArgs {
    /// True when these flags (with `--context`) choose a fleet rather than one cluster.
    pub fn is_fleet(&self, connection: &ConnectionArgs) -> bool {
        connection.context.len() > 1
            || self.all_contexts
            || !self.patterns.is_empty()
            || self.canary.is_some()
            || self.cluster_concurrency.is_some()
            || self.max_failures.is_some()
    }

    fn fleet(&self) -> Fleet {
        let mut fleet = Fleet::new();
        if let Some(n) = self.cluster_concurrency {
            fleet = fleet.concurrency(usize::from(n));
        }
        if let Some(canary) = &self.canary {
            fleet = fleet.canary(canary);
        }
        if let Some(n) = self.max_failures {
            fleet = fleet.max_failures(usize::from(n));
        }
        fleet
    }
}

/// Subcommands without fleet support refuse several contexts rather than silently using the first.
pub fn refuse_several(command: &str, connection: &ConnectionArgs) -> Option<Outcome> {
    (connection.context.len() > 1).then(|| {
        eprintln!(
            "kapply {command}: takes one --context; several (a fleet) work with apply, preview and destroy"
        );
        Outcome::Usage
    })
}

/// `--canary` and `--max-failures` roll out writes: refused by the subcommands that write nothing.
pub fn refuse_rollout(command: &str, fleet: &FleetArgs) -> Option<Outcome> {
    (fleet.canary.is_some() || fleet.max_failures.is_some()).then(|| {
        eprintln!("kapply {command}: --canary and --max-failures roll out writes; {command} writes nothing, so it takes neither");
        Outcome::Usage
    })
}

/// `kapply apply` / `preview` on a fleet.
pub fn apply(command: &'static str, args: &ApplyArgs, dry_run: DryRun) -> Outcome {
    let run = &args.run;
    session::block_on(async {
        let Some((format, live, report, contexts)) = prepare(command, run) else { return Outcome::Usage };
        let paths = args.manifests.all_paths();
        if paths.is_empty() {
            report.error("no manifests given; pass files or directories, or `-` for standard input");
            return Outcome::Usage;
        }
        let inputs = match inputs_of(&paths) {
            Ok(inputs) => inputs,
            Err(err) => {
                report.error(&format!("cannot read standard input: {err}"));
                return Outcome::Usage;
            }
        };
        let output = output::Output::new(command, format, live, run, &contexts);
        let cancel = session::cancel_on_signals(!output.live());
        let inputs = &inputs;
        let events = run.fleet.fleet().run(
            contexts.clone(),
            move |context, cancel| start::apply(context, cancel, args, inputs, dry_run),
            cancel.clone(),
        );
        output.print(events, &cancel).await
    })
}

/// `kapply destroy` / `preview --destroy` on a fleet.
pub fn destroy(
    command: &'static str,
    manifests: &ManifestArgs,
    run: &RunArgs,
    settings: Settings,
) -> Outcome {
    session::block_on(async {
        let Some((format, live, report, contexts)) = prepare(command, run) else { return Outcome::Usage };
        let inputs = match inputs_of(&manifests.all_paths()) {
            Ok(inputs) => inputs,
            Err(err) => {
                report.error(&format!("cannot read standard input: {err}"));
                return Outcome::Usage;
            }
        };
        let output = output::Output::new(command, format, live, run, &contexts);
        let cancel: CancellationToken = session::cancel_on_signals(!output.live());
        let (inputs, settings) = (&inputs, &settings);
        let events = run.fleet.fleet().run(
            contexts.clone(),
            move |context, cancel| start::destroy(context, cancel, manifests, run, inputs, settings),
            cancel.clone(),
        );
        output.print(events, &cancel).await
    })
}

/// The output format, whether a table is drawn live (stdout is a terminal), the error report and the
/// chosen contexts; None (usage error printed) when the contexts cannot be chosen.
fn prepare(command: &'static str, run: &RunArgs) -> Option<(OutputFormat, bool, Report, Vec<String>)> {
    let terminal = io::stdout().is_terminal();
    let format = run.output.unwrap_or_else(|| session::default_format(terminal));
    let live = format == OutputFormat::Table && terminal;
    let report = Report::new(command, format == OutputFormat::Json);
    match select::contexts(&run.connection, &run.fleet) {
        Ok(contexts) => Some((format, live, report, contexts)),
        Err(message) => {
            report.error(&message);
            None
        }
    }
}
