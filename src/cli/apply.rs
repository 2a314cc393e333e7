//! `kapply apply` and `kapply preview`: load and validate the manifests, then hand them to
//! [`kapply::engine::apply`] and print its events. Everything here is wiring: flags become options,
//! events go to a printer, the summary becomes an exit code.

use std::io::{self, IsTerminal};

use super::args::{ApplyArgs, ApplyCommand, DryRunArg, PreviewArgs};
use super::exit::Outcome;
use super::report::Report;
use super::session::{self, Output, Session};
use kapply::Applier;
use kapply::Cluster;
use kapply::event::DryRun;
use kapply::printers::OutputFormat;

/// Runs `kapply apply`; `--dry-run=client|server` runs as `preview` does (`--server-side` is
/// accepted and ignored: every apply is server-side).
pub fn run(args: &ApplyCommand) -> Outcome {
    match args.dry_run {
        DryRunArg::None => run_with("apply", &args.apply, DryRun::None),
        DryRunArg::Client => run_with("apply", &args.apply, DryRun::Client),
        DryRunArg::Server => run_with("apply", &args.apply, DryRun::Server),
    }
}

/// Runs `kapply preview`: the same run, writing nothing.
pub fn preview(args: &PreviewArgs) -> Outcome {
    let dry_run = if args.server_side { DryRun::Server } else { DryRun::Client };
    if args.destroy {
        let apply = &args.apply;
        let settings = super::destroy::Settings {
            propagation: apply.prune_propagation_policy.0,
            timeout: apply.prune_timeout,
            dry_run,
        };
        if apply.run.fleet.is_fleet(&apply.run.connection) {
            return super::fleet::destroy("preview", &apply.manifests, &apply.run, settings);
        }
        return super::destroy::run_with("preview", &apply.manifests, &apply.run, settings);
    }
    run_with("preview", &args.apply, dry_run)
}

fn run_with(command: &'static str, args: &ApplyArgs, dry_run: DryRun) -> Outcome {
    if args.run.fleet.is_fleet(&args.run.connection) {
        return super::fleet::apply(command, args, dry_run);
    }
    session::block_on(async {
        let run = &args.run;
        let format = run.output.unwrap_or_else(|| session::default_format(io::stdout().is_terminal()));
        let report = Report::new(command, format == OutputFormat::Json);
        let session = match Session::open(
            &report,
            &args.manifests,
            &run.connection,
            &run.inventory,
            args.selector.as_ref(),
        )
        .await
        {
            Ok(session) => session,
            Err(outcome) => return outcome,
        };
        let output = Output::new(format, run);
        let cancel = session::cancel_on_signals(!output.live());
        let events = applier(&session.cluster, args, dry_run).run(session.set, cancel.clone());
        output.print_run(command, events, &cancel).await
    })
}

/// The applier the `apply` (and `preview`) flags describe.
pub fn applier(cluster: &Cluster, args: &ApplyArgs, dry_run: DryRun) -> Applier {
    let run = &args.run;
    let applier = Applier::new(cluster)
        .field_manager(args.field_manager.clone())
        .force_conflicts(args.force_conflicts)
        .inventory_policy(run.inventory_policy)
        .reconcile_timeout(args.reconcile_timeout)
        .wait_for_current(!args.no_wait)
        .poll_period(run.poll_period)
        .wait_mode(run.wait_mode)
        .concurrency(usize::from(run.concurrency))
        .prune(!args.no_prune)
        .prune_propagation(args.prune_propagation_policy.0)
        .prune_timeout(args.prune_timeout)
        .recreate_on_immutable(args.recreate_on_immutable)
        .always_apply(args.always_apply)
        .wait_for_jobs(args.wait_for_jobs)
        .fail_fast_on(args.fail_fast_on.iter().map(|r| r.trim().to_owned()).collect(), args.fail_fast_grace)
        .dry_run(dry_run);
    match run.timeout {
        Some(timeout) => applier.timeout(timeout),
        None => applier,
    }
}
