//! `kapply diff` on a fleet: each cluster diffed through its own connection and discovery, at once
//! (at most `--cluster-concurrency`), printed in context order with headers naming the cluster
//! (`--- <context>/live/Kind/ns/name`, `+++ <context>/desired/…`). Exit codes as for one cluster:
//! 0 no differences anywhere, 1 differences, 2 an error on any cluster.

use std::io::{self, IsTerminal};

use futures::StreamExt;

use super::select;
use super::start::{self, StartError};
use crate::cli::args::DiffArgs;
use crate::cli::diff::{Printed, differ, print_diffs, use_color};
use crate::cli::exit::Outcome;
use crate::cli::inputs::inputs_of;
use crate::cli::session::{self, clip_lines};
use kapply::{Error, Input, ObjectDiff};

/// What one cluster's diff gave.
enum Diffed {
    Diffs(Vec<ObjectDiff>),
    StartFailed(StartError),
    Failed(Error),
}

/// Runs `kapply diff` on every chosen context.
pub fn run(args: &DiffArgs) -> Outcome {
    if let Some(refused) = super::refuse_rollout("diff", &args.fleet) {
        return refused;
    }
    let contexts = match select::contexts(&args.connection, &args.fleet) {
        Ok(contexts) => contexts,
        Err(message) => {
            eprintln!("kapply diff: {message}");
            return Outcome::Usage;
        }
    };
    let paths = args.manifests.all_paths();
    if paths.is_empty() {
        eprintln!("kapply diff: no manifests given; pass files or directories, or `-` for standard input");
        return Outcome::Usage;
    }
    let inputs = match inputs_of(&paths) {
        Ok(inputs) => inputs,
        Err(err) => {
            eprintln!("kapply diff: cannot read standard input: {err}");
            return Outcome::Usage;
        }
    };
    session::block_on(async {
        let at_once = args.fleet.cluster_concurrency.map_or(contexts.len(), usize::from).max(1);
        // `buffered` keeps the contexts' order while running `at_once` of them together.
        let results: Vec<Diffed> =
            futures::stream::iter(contexts.iter().map(|context| diff_one(context, args, &inputs)))
                .buffered(at_once)
                .collect()
                .await;
        let color = use_color(args.color, io::stdout().is_terminal(), std::env::var_os("NO_COLOR"));
        print(&contexts, &results, color)
    })
}

async fn diff_one(context: &str, args: &DiffArgs, inputs: &[Input]) -> Diffed {
    let cluster = match start::connect(&args.connection, context).await {
        Ok(cluster) => cluster,
        Err(err) => return Diffed::StartFailed(err),
    };
    let set = match start::load(
        &cluster,
        &args.manifests,
        &args.connection,
        &args.inventory,
        args.selector.as_ref(),
        inputs,
    )
    .await
    {
        Ok(set) => set,
        Err(err) => return Diffed::StartFailed(err),
    };
    match differ(&cluster, args).diff(&set).await {
        Ok(diffs) => Diffed::Diffs(diffs),
        Err(err) => Diffed::Failed(err),
    }
}

fn print(contexts: &[String], results: &[Diffed], color: bool) -> Outcome {
    let mut out = io::stdout().lock();
    let mut printed = Printed::default();
    for (context, result) in contexts.iter().zip(results) {
        let error = match result {
            Diffed::Diffs(diffs) => match print_diffs(&mut out, diffs, color, Some(context), &mut printed) {
                Ok(()) => continue,
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => break,
                Err(err) => {
                    eprintln!("kapply diff: cannot write output: {err}");
                    return Outcome::Usage;
                }
            },
            Diffed::StartFailed(err) => err.to_string(),
            Diffed::Failed(err) => err.to_string(),
        };
        for line in clip_lines(&error).lines() {
            eprintln!("kapply diff [{context}]: {line}");
        }
        printed.failed = true;
    }
    printed.outcome()
}
