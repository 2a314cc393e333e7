//! `kapply diff` on a fleet: each cluster diffed through its own connection and discovery, at once
//! (at most `--cluster-concurrency`), printed in context order with headers naming the cluster
//! (`--- <context>/live/Kind/ns/name`, `+++ <context>/desired/…`). Exit codes as for one cluster:
//! 0 no differences anywhere, 1 differences, 2 an error on any cluster.

use std::io::{self, IsTerminal, Write};

use futures::StreamExt;

use super::select;
use super::start::{self, StartError};
use crate::cli::args::{Color, DiffArgs};
use crate::cli::exit::Outcome;
use crate::cli::inputs::inputs_of;
use crate::cli::session::{self, clip_lines};
use kapply::printers::colorize_diff as colorize;
use kapply::{Differ, Error, Input, ObjectDiff};

/// What one cluster's diff gave.
enum Diffed {
    Diffs(Vec<ObjectDiff>),
    StartFailed(StartError),
    Failed(Error),
}

/// Runs `kapply diff` on every chosen context.
pub fn run(args: &DiffArgs) -> Outcome {
    if args.fleet.canary.is_some() || args.fleet.max_failures.is_some() {
        eprintln!(
            "kapply diff: --canary and --max-failures roll out writes; a diff writes nothing, so it takes neither"
        );
        return Outcome::Usage;
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
        let color = args.color == Color::Always
            || (args.color == Color::Auto
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none());
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
    let differ = Differ::new(&cluster)
        .field_manager(args.field_manager.clone())
        .force_conflicts(args.force_conflicts)
        .inventory_policy(args.inventory_policy)
        .concurrency(usize::from(args.concurrency));
    match differ.diff(&set).await {
        Ok(diffs) => Diffed::Diffs(diffs),
        Err(err) => Diffed::Failed(err),
    }
}

fn print(contexts: &[String], results: &[Diffed], color: bool) -> Outcome {
    let mut out = io::stdout().lock();
    let (mut differs, mut failed) = (false, false);
    for (context, result) in contexts.iter().zip(results) {
        let error = |text: &str| {
            for line in clip_lines(text).lines() {
                eprintln!("kapply diff [{context}]: {line}");
            }
        };
        let diffs = match result {
            Diffed::Diffs(diffs) => diffs,
            Diffed::StartFailed(err) => {
                error(&err.to_string());
                failed = true;
                continue;
            }
            Diffed::Failed(err) => {
                error(&err.to_string());
                failed = true;
                continue;
            }
        };
        for item in diffs {
            if let Some(err) = &item.error {
                error(&err.to_string());
                if let Some(hint) = err.hint_named(&crate::cli::hints::flags()) {
                    eprintln!("kapply diff [{context}]:   hint: {hint}");
                }
                failed = true;
                continue;
            }
            let Some(text) = &item.diff else { continue };
            differs = true;
            let text = with_cluster(context, text);
            let text = if color { colorize(&text) } else { text };
            let note = item.note.map(|n| format!("# {context}: {}: {n}\n", item.obj)).unwrap_or_default();
            if let Err(err) = write!(out, "{note}{text}") {
                if err.kind() == io::ErrorKind::BrokenPipe {
                    break;
                }
                eprintln!("kapply diff: cannot write output: {err}");
                return Outcome::Usage;
            }
        }
    }
    match (failed, differs) {
        (true, _) => Outcome::Usage,
        (false, true) => Outcome::Failed,
        (false, false) => Outcome::Success,
    }
}

/// The diff with its two file headers naming the cluster: `--- live/X` becomes `--- <context>/live/X`.
fn with_cluster(context: &str, text: &str) -> String {
    let mut lines = text.split_inclusive('\n');
    let mut out = String::with_capacity(text.len() + 2 * context.len() + 2);
    for (prefix, line) in [("--- ", lines.next()), ("+++ ", lines.next())] {
        match line {
            Some(line) if line.starts_with(prefix) => {
                out.push_str(prefix);
                out.push_str(context);
                out.push('/');
                out.push_str(&line[prefix.len()..]);
            }
            Some(line) => out.push_str(line),
            None => {}
        }
    }
    lines.for_each(|line| out.push_str(line));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headers_name_the_cluster_and_the_hunks_stay_as_they_are() {
        let text = "--- live/ConfigMap/ns/a\n+++ desired/ConfigMap/ns/a\n@@ -1 +1 @@\n--- x\n+++ y\n";
        assert_eq!(
            with_cluster("prod-eu", text),
            "--- prod-eu/live/ConfigMap/ns/a\n+++ prod-eu/desired/ConfigMap/ns/a\n@@ -1 +1 @@\n--- x\n+++ y\n"
        );
    }
}
