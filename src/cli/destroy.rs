//! `kapply destroy` (and `kapply preview --destroy`): delete everything the inventory lists, then the
//! inventory, through [`crate::engine::destroy`].

use std::io::{self, IsTerminal};

use super::args::{DestroyArgs, ManifestArgs, RunArgs};
use super::exit::Outcome;
use super::session::{self, Output, Session};
use crate::engine::{self, ApplyOptions};
use crate::event::DryRun;

/// Runs `kapply destroy`.
pub fn run(args: &DestroyArgs) -> Outcome {
    let options = ApplyOptions {
        policy: args.run.inventory_policy,
        poll_period: args.run.poll_period,
        wait_mode: args.run.wait_mode,
        concurrency: usize::from(args.run.concurrency),
        prune_propagation: args.delete_propagation_policy.0,
        prune_timeout: args.delete_timeout,
        dry_run: DryRun::None,
        ..ApplyOptions::default()
    };
    run_with("destroy", &args.manifests, &args.run, options)
}

/// Destroys (or previews the destruction of) the inventory named by the manifests' template or by
/// the inventory flags.
pub fn run_with(
    command: &'static str,
    manifests: &ManifestArgs,
    run: &RunArgs,
    options: ApplyOptions,
) -> Outcome {
    session::block_on(async {
        let (cluster, info) =
            match Session::open_inventory(command, manifests, &run.connection, &run.inventory).await {
                Ok(found) => found,
                Err(outcome) => return outcome,
            };
        let format = run.output.unwrap_or_else(|| session::default_format(io::stdout().is_terminal()));
        let cancel = session::cancel_on_signals_or_timeout(run.timeout);
        let mut output = Output::new(format, run.status_events);
        let result = engine::destroy(&cluster, &info, &options, &cancel, &mut output).await;
        output.finish(command, result)
    })
}
