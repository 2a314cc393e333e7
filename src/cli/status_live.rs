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
        let refs: Vec<ObjRef> = inventory
            .objects
            .into_iter()
            .filter(|obj| {
                args.namespaces.is_empty()
                    || obj.namespace.as_ref().is_some_and(|ns| args.namespaces.contains(ns))
            })
            .collect();
        let until = match args.poll_until {
            PollUntil::Known => Until::Known,
            PollUntil::Current => Until::Current,
            PollUntil::Deleted => Until::Deleted,
            PollUntil::Forever => Until::Forever,
        };
        let cancel = session::cancel_on_signals(true);
        let shown = |status: &StatusResult| {
            args.statuses.is_empty()
                || args.statuses.iter().any(|s| s.eq_ignore_ascii_case(status.status.as_str()))
        };
        let stdout = io::stdout();
        let mut write_error = None;
        let observer = kapply::Observer::new(&cluster)
            .until(until)
            .wait_mode(args.wait_mode)
            .poll_period(args.poll_period)
            .explain(true);
        let observer = match args.timeout {
            Some(timeout) => observer.timeout(timeout),
            None => observer,
        };
        let observation = observer
            .run(&refs, cancel, |obj, status| {
                if args.output == OutputFormat::Table || !shown(status) || write_error.is_some() {
                    return;
                }
                let line = match args.output {
                    OutputFormat::Json => status_line(Some(obj), status, None),
                    _ => std::iter::once(format!("{obj}: {} {}", status.status, status.message.trim()))
                        .chain(status.details.iter().map(kapply::printers::detail_line))
                        .collect::<Vec<_>>()
                        .join("\n"),
                };
                if let Err(err) = writeln!(stdout.lock(), "{line}") {
                    write_error = Some(err);
                }
            })
            .await;
        if args.output == OutputFormat::Table {
            let rows: Vec<[String; 3]> = observation
                .statuses
                .iter()
                .filter(|(_, status)| shown(status))
                .map(|(obj, s)| [obj.to_string(), s.status.to_string(), s.message.trim().to_owned()])
                .collect();
            let _ =
                stdout.lock().write_all(super::status::table(super::status::STATUS_HEADER, &rows).as_bytes());
        }
        let any_failed = observation.statuses.values().any(|s| s.status == kapply::kstatus::Status::Failed);
        match (observation.complete, observation.cancelled) {
            (true, _) if any_failed && matches!(until, Until::Known | Until::Current) => {
                Outcome::ObjectFailed
            }
            (true, _) => Outcome::Success,
            (false, Some(CancelReason::Interrupted)) => Outcome::Interrupted,
            (false, _) => Outcome::Timeout,
        }
    })
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
                kind: "ConfigMap",
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
                    [
                        format!("ConfigMap/{}/{}", inv.namespace, inv.name),
                        inv.id.clone(),
                        inv.objects.len().to_string(),
                    ]
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
