//! `kapply destroy` (and `kapply preview --destroy`): delete everything the inventory lists, then the
//! inventory, through [`kapply::engine::destroy`].

use std::io::{self, IsTerminal};

use super::args::{DestroyArgs, ManifestArgs, RunArgs};
use super::exit::Outcome;
use super::report::Report;
use super::session::{self, Output, Session};
use std::time::Duration;

use kapply::event::DryRun;
use kapply::inventory::InventoryInfo;
use kapply::printers::OutputFormat;
use kapply::{Cluster, Destroyer, Propagation};

/// What destroy's own flags (or preview's prune flags, for `preview --destroy`) set.
pub struct Settings {
    pub propagation: Propagation,
    pub timeout: Duration,
    pub dry_run: DryRun,
}

/// Runs `kapply destroy`.
pub fn run(args: &DestroyArgs) -> Outcome {
    let settings = Settings {
        propagation: args.delete_propagation_policy.0,
        timeout: args.delete_timeout,
        dry_run: DryRun::None,
    };
    if args.run.fleet.is_fleet(&args.run.connection) {
        return super::fleet::destroy("destroy", &args.manifests, &args.run, settings);
    }
    run_with("destroy", &args.manifests, &args.run, settings)
}

/// Destroys (or previews the destruction of) the inventory named by the manifests' template or by
/// the inventory flags.
pub fn run_with(
    command: &'static str,
    manifests: &ManifestArgs,
    run: &RunArgs,
    settings: Settings,
) -> Outcome {
    session::block_on(async {
        let format = run.output.unwrap_or_else(|| session::default_format(io::stdout().is_terminal()));
        let report = Report::new(command, format == OutputFormat::Json);
        let (cluster, info) =
            match Session::open_inventory(&report, manifests, &run.connection, &run.inventory).await {
                Ok(found) => found,
                Err(outcome) => return outcome,
            };
        let output = Output::new(format, run);
        let cancel = session::cancel_on_signals(!output.live());
        let events = destroyer(&cluster, info, run, &settings).run(cancel.clone());
        output.print_run(command, events, &cancel).await
    })
}

/// The destroyer the flags and `settings` describe, on `cluster` (one cluster, or one member of a
/// fleet).
pub fn destroyer(cluster: &Cluster, info: InventoryInfo, run: &RunArgs, settings: &Settings) -> Destroyer {
    let destroyer = Destroyer::new(cluster, info)
        .inventory_policy(run.inventory_policy)
        .poll_period(run.poll_period)
        .wait_mode(run.wait_mode)
        .concurrency(usize::from(run.concurrency))
        .propagation(settings.propagation)
        .delete_timeout(settings.timeout)
        .dry_run(settings.dry_run);
    match run.timeout {
        Some(timeout) => destroyer.timeout(timeout),
        None => destroyer,
    }
}
