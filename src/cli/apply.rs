//! `kapply apply`: load and validate the manifests, then hand them to [`crate::engine::apply`] and
//! print its events. Everything here is wiring: flags become options, events go to a printer, the
//! summary becomes an exit code.

use std::io::{self, IsTerminal};

use super::args::ApplyArgs;
use super::exit::Outcome;
use super::session::{self, Output, Session};
use crate::engine::{self, ApplyOptions};

/// Runs `kapply apply`.
pub fn run(args: &ApplyArgs) -> Outcome {
    session::block_on(async {
        let session = match Session::open("apply", &args.manifests, &args.connection, &args.inventory).await {
            Ok(session) => session,
            Err(outcome) => return outcome,
        };
        let options = ApplyOptions {
            field_manager: args.field_manager.clone(),
            force_conflicts: args.force_conflicts,
            policy: args.inventory_policy,
            reconcile_timeout: args.reconcile_timeout,
            no_wait: args.no_wait,
            poll_period: args.poll_period,
            wait_mode: args.wait_mode,
            concurrency: usize::from(args.concurrency),
            no_prune: args.no_prune,
            prune_propagation: args.prune_propagation_policy.0,
            prune_timeout: args.prune_timeout,
        };
        let format = args.output.unwrap_or_else(|| session::default_format(io::stdout().is_terminal()));
        let cancel = session::cancel_on_signals_or_timeout(args.timeout);
        let mut output = Output::new(format, args.status_events);
        let result = engine::apply(&session.cluster, &session.prepared, &options, &cancel, &mut output).await;
        output.finish("apply", result)
    })
}
