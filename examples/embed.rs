//! kapply as a library: apply a set of manifests embedded in the program, print one line per event,
//! and exit by the run's outcome — what a controller or an operator shipping its own manifests does.
//!
//! ```sh
//! cargo run --example embed -- NAMESPACE [--kubeconfig FILE]
//! ```
//!
//! The namespace must exist; the set (two ConfigMaps) and its inventory go there.

use std::path::PathBuf;
use std::process::ExitCode;

use futures::StreamExt;
use kapply::{Applier, Cluster, ConnectOptions, Event, Input, Loader, RunOutcome};
use tokio_util::sync::CancellationToken;

/// The manifests this program ships.
const MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: embedded-settings
data:
  mode: embedded
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: embedded-feature-flags
  annotations:
    config.kubernetes.io/depends-on: /namespaces/NAMESPACE/ConfigMap/embedded-settings
data:
  beta: \"true\"
";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(namespace) = args.next() else {
        eprintln!("usage: embed NAMESPACE [--kubeconfig FILE]");
        return ExitCode::from(2);
    };
    let kubeconfig = match (args.next().as_deref(), args.next()) {
        (Some("--kubeconfig"), Some(path)) => Some(PathBuf::from(path)),
        _ => None,
    };
    match run(&namespace, kubeconfig).await {
        Ok(outcome) => ExitCode::from(if outcome == RunOutcome::Success { 0 } else { 1 }),
        Err(err) => {
            eprintln!("embed: {err}");
            ExitCode::from(1)
        }
    }
}

async fn run(namespace: &str, kubeconfig: Option<PathBuf>) -> Result<RunOutcome, Box<dyn std::error::Error>> {
    let options = ConnectOptions::default();
    let options = match kubeconfig {
        Some(path) => options.kubeconfig(path),
        None => options,
    };
    let cluster = Cluster::connect(&options).await?;
    let manifests = MANIFESTS.replace("NAMESPACE", namespace);
    let set = Loader::new(&cluster)
        .namespace(namespace)
        .inventory_id(format!("embed-{namespace}"))
        .load(&[Input::text("embedded.yaml", manifests)])
        .await?;

    let cancel = CancellationToken::new();
    let events = Applier::new(&cluster).field_manager("embed-example").run(set, cancel);
    // A run is `Send + 'static`: a controller spawns it beside its other work.
    let run = tokio::spawn(follow(events));
    Ok(run.await??)
}

/// Prints one line per event; the run's outcome comes with its summary.
async fn follow(mut events: kapply::EventStream) -> Result<RunOutcome, kapply::Error> {
    let mut outcome = RunOutcome::Failed;
    while let Some(event) = events.next().await {
        match event? {
            Event::Apply { obj, outcome } => println!("apply {obj}: {outcome:?}"),
            Event::Reconciled { obj, outcome } => println!("reconciled {obj}: {outcome:?}"),
            Event::Prune { obj, outcome } => println!("prune {obj}: {outcome:?}"),
            Event::Inventory { inventory, action, objects } => {
                println!("inventory {inventory}: {} ({objects} objects)", action.as_str())
            }
            Event::Summary(summary) => {
                outcome = summary.outcome();
                println!("summary: {}", outcome.as_str());
            }
            _ => {}
        }
    }
    Ok(outcome)
}
