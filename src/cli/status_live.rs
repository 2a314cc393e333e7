//! `kapply status` against a cluster: the live status of an inventory's objects, once or until a
//! condition holds; or (`--all-inventories`) every inventory in the cluster.

use std::io::{self, Write};

use serde::Serialize;

use super::args::{PollUntil, StatusArgs};
use super::exit::Outcome;
use super::report::Report;
use super::session::{self, Session};
use kapply::CancelReason;
use kapply::Until;
use kapply::kstatus::StatusResult;
use kapply::object::ObjRef;
use kapply::printers::OutputFormat;
use kapply::printers::json::status_line;

/// Runs the live `kapply status`.
///
/// Exit codes: 0 when every object reached the `--poll-until` condition (`known`: read once), but 4
/// when (with `known` or `current`) an object is Failed; 3 when `--timeout` came first; 130 when
/// interrupted; 1 when the cluster or inventory cannot be read.
pub fn run(args: &StatusArgs) -> Outcome {
    session::block_on(async {
        let report = Report::new("status", args.output == OutputFormat::Json);
        if args.all_inventories {
            return list_inventories(args, &report).await;
        }
        let (cluster, info) = match Session::open_inventory(
            &report,
            &args.manifests,
            &args.connection,
            &args.inventory,
        )
        .await
        {
            Ok(found) => found,
            Err(outcome) => return outcome,
        };
        let inventory = match kapply::read_inventory(&cluster, &info).await {
            Ok(Some(inventory)) => inventory,
            Ok(None) if args.poll_until == PollUntil::Deleted => return Outcome::Success,
            Ok(None) => {
                report
                    .error(&format!("the inventory {info} does not exist: nothing was applied with it yet"));
                return Outcome::Failed;
            }
            Err(err) => {
                report.error(&err.to_string());
                return Outcome::Failed;
            }
        };
        let refs = observed_refs(inventory.objects, args);
        let cancel = session::cancel_on_signals(true);
        let stdout = io::stdout();
        let mut write_error = None;
        let observation = observer(&cluster, args)
            .run(&refs, cancel, |obj, status| {
                if args.output == OutputFormat::Table || !shown(args, status) || write_error.is_some() {
                    return;
                }
                if let Err(err) = writeln!(stdout.lock(), "{}", status_text(args, obj, status)) {
                    write_error = Some(err);
                }
            })
            .await;
        if args.output == OutputFormat::Table {
            let rows: Vec<[String; 3]> = observation
                .statuses
                .iter()
                .filter(|(_, status)| shown(args, status))
                .map(|(obj, s)| [obj.to_string(), s.status.to_string(), s.message.trim().to_owned()])
                .collect();
            let _ =
                stdout.lock().write_all(super::status::table(super::status::STATUS_HEADER, &rows).as_bytes());
        }
        outcome_of(&observation, args)
    })
}

// What a live status does with its flags, for one cluster and for each of a fleet's.

/// The inventory's objects that `--namespaces` keeps.
pub fn observed_refs(objects: impl IntoIterator<Item = ObjRef>, args: &StatusArgs) -> Vec<ObjRef> {
    objects
        .into_iter()
        .filter(|obj| {
            args.namespaces.is_empty()
                || obj.namespace.as_ref().is_some_and(|ns| args.namespaces.contains(ns))
        })
        .collect()
}

fn until_of(args: &StatusArgs) -> Until {
    match args.poll_until {
        PollUntil::Known => Until::Known,
        PollUntil::Current => Until::Current,
        PollUntil::Deleted => Until::Deleted,
        PollUntil::Forever => Until::Forever,
    }
}

/// The observer the flags ask for; it explains (reads details) as apply's waits do.
pub fn observer(cluster: &kapply::Cluster, args: &StatusArgs) -> kapply::Observer {
    let observer = kapply::Observer::new(cluster)
        .until(until_of(args))
        .wait_mode(args.wait_mode)
        .poll_period(args.poll_period)
        .explain(true);
    match args.timeout {
        Some(timeout) => observer.timeout(timeout),
        None => observer,
    }
}

/// Whether `--statuses` shows an object of this status.
pub fn shown(args: &StatusArgs, status: &StatusResult) -> bool {
    args.statuses.is_empty() || args.statuses.iter().any(|s| s.eq_ignore_ascii_case(status.status.as_str()))
}

/// One status change as printed: a JSON line, or a text line followed by its details.
pub fn status_text(args: &StatusArgs, obj: &ObjRef, status: &StatusResult) -> String {
    match args.output {
        OutputFormat::Json => status_line(Some(obj), status, None),
        _ => std::iter::once(format!("{obj}: {} {}", status.status, status.message.trim()))
            .chain(status.details.iter().map(kapply::printers::detail_line))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// The exit outcome of an observation: Failed objects count when waiting for Current (or Known).
pub fn outcome_of(observation: &kapply::Observation, args: &StatusArgs) -> Outcome {
    let any_failed = observation.statuses.values().any(|s| s.status == kapply::kstatus::Status::Failed);
    match (observation.complete, observation.cancelled) {
        (true, _) if any_failed && matches!(until_of(args), Until::Known | Until::Current) => {
            Outcome::ObjectFailed
        }
        (true, _) => Outcome::Success,
        (false, Some(CancelReason::Interrupted)) => Outcome::Interrupted,
        (false, _) => Outcome::Timeout,
    }
}

async fn list_inventories(args: &StatusArgs, report: &Report) -> Outcome {
    let cluster = match kapply::Cluster::connect(&args.connection.connect_options()).await {
        Ok(cluster) => cluster,
        Err(err) => {
            report.error(&err.to_string());
            return Outcome::Failed;
        }
    };
    let inventories = match kapply::list_inventories(&cluster).await {
        Ok(inventories) => inventories,
        Err(err) => {
            report.error(&err.to_string());
            return Outcome::Failed;
        }
    };
    let mut out = io::stdout().lock();
    let result = match args.output {
        OutputFormat::Json => inventories.iter().try_for_each(|inv| {
            let line = InventoryLine {
                timestamp: format!("{:.3}", jiff::Timestamp::now()),
                type_: "inventory",
                group: "",
                kind: inv.format.kind(),
                namespace: &inv.namespace,
                name: &inv.name,
                id: &inv.id,
                objects: inv.objects.len(),
            };
            writeln!(out, "{}", serde_json::to_string(&line).map_err(io::Error::other)?)
        }),
        _ => {
            let rows: Vec<[String; 3]> = inventories
                .iter()
                .map(|inv| {
                    [inv.info().object_ref().to_string(), inv.id.clone(), inv.objects.len().to_string()]
                })
                .collect();
            out.write_all(super::status::table(["INVENTORY", "ID", "OBJECTS"], &rows).as_bytes())
        }
    };
    match result {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Outcome::Failed,
        _ => Outcome::Success,
    }
}

/// A `status --all-inventories -o json` line: the key order and naming of the apply stream's
/// `inventory` lines (timestamp, type, the object's four fields), plus the inventory id.
#[derive(Serialize)]
struct InventoryLine<'a> {
    timestamp: String,
    #[serde(rename = "type")]
    type_: &'static str,
    group: &'static str,
    kind: &'static str,
    namespace: &'a str,
    name: &'a str,
    id: &'a str,
    objects: usize,
}
