//! Every printer against the recorded runs of [`super::recorded`], with golden outputs.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::Value;

use super::recorded::{self, apply_run, assert_golden, destroy_run, fixed_clock, preview_run};
use super::*;
use crate::event::{DryRun, InventoryAction, Plan, RunOutcome, check_order};

fn events_output(events: &[Event], options: &PrinterOptions) -> String {
    let mut printer = EventsPrinter::new(Vec::new(), options);
    for event in events {
        printer.print(event).unwrap();
    }
    printer.finish().unwrap();
    String::from_utf8(printer.into_inner()).unwrap()
}

fn json_output(events: &[Event], options: &PrinterOptions) -> String {
    let mut printer = JsonPrinter::with_clock(Vec::new(), options, fixed_clock());
    for event in events {
        printer.print(event).unwrap();
    }
    printer.finish().unwrap();
    String::from_utf8(printer.into_inner()).unwrap()
}

fn table_output(events: &[Event], width: Option<usize>) -> String {
    let mut printer = TablePrinter::plain(Vec::new(), width);
    for event in events {
        printer.print(event).unwrap();
    }
    printer.finish().unwrap();
    String::from_utf8(printer.into_inner()).unwrap()
}

fn with_status_events() -> PrinterOptions {
    PrinterOptions { status_events: true, ..PrinterOptions::default() }
}

// ---- the recorded runs themselves ----

#[test]
fn the_recorded_runs_keep_the_ordering_contract() {
    for (name, events) in [("apply", apply_run()), ("preview", preview_run()), ("destroy", destroy_run())] {
        if let Err(violation) = check_order(&events) {
            panic!("{name} run: {violation}");
        }
    }
}

#[test]
fn the_recorded_apply_run_fails_because_of_the_apply_error() {
    let events = apply_run();
    let Some(Event::Summary(summary)) = events.last() else { panic!("no summary") };
    assert_eq!(summary.outcome(), RunOutcome::Failed);
    assert_eq!(summary.apply.total(), 8);
    assert_eq!(summary.reconcile.failed, 1);
    assert_eq!(summary.reconcile.timed_out, 1);
}

// ---- events printer ----

#[test]
fn the_events_printer_prints_one_line_per_event_like_cli_utils() {
    assert_golden("apply.events.txt", &events_output(&apply_run(), &PrinterOptions::default()));
}

#[test]
fn the_events_printer_prints_status_changes_only_when_asked() {
    let quiet = events_output(&apply_run(), &PrinterOptions::default());
    assert!(!quiet.contains("Job.batch/prod/migrate is InProgress: Job in progress\n"));
    let verbose = events_output(&apply_run(), &with_status_events());
    assert!(verbose.contains("Job.batch/prod/migrate is InProgress: Job in progress\n"));
    assert_golden("apply.status-events.txt", &verbose);
}

#[test]
fn the_events_printer_marks_every_object_line_of_a_preview() {
    let output = events_output(&preview_run(), &PrinterOptions::default());
    assert_golden("preview.events.txt", &output);
    for line in output.lines().filter(|line| line.contains('/')) {
        assert!(line.ends_with(" (preview-server)"), "unmarked: {line}");
    }
}

#[test]
fn every_printer_marks_a_preview_as_a_dry_run_even_its_totals() {
    let events = events_output(&preview_run(), &PrinterOptions::default());
    let table = table_output(&preview_run(), None);
    assert_golden("preview.table.txt", &table);
    for output in [&events, &table] {
        for line in output.lines().filter(|line| line.contains("resource(s)")) {
            assert!(line.contains("would be ") && line.ends_with(" (preview-server)"), "unmarked: {line}");
        }
        assert!(
            !output.contains("resource(s) applied") && !output.contains("resource(s) pruned"),
            "{output}"
        );
    }
    assert!(table.contains("Would prune") && table.contains("Would configure"), "{table}");
    assert!(!table.contains("Pruned"), "{table}");
    let json = json_output(&preview_run(), &PrinterOptions::default());
    assert_golden("preview.jsonl", &json);
    for line in parse_lines(&json) {
        if ["apply", "prune", "delete"].contains(&line["type"].as_str().unwrap()) {
            assert_eq!(line["dryRun"], "server", "{line}");
        }
    }
    let real = json_output(&apply_run(), &PrinterOptions::default());
    assert!(
        parse_lines(&real)
            .iter()
            .all(|line| line["type"] == "plan" || line["type"] == "summary" || line.get("dryRun").is_none())
    );
}

#[test]
fn the_events_heartbeat_reports_what_the_run_still_waits_for() {
    let events = apply_run();
    let mut printer = EventsPrinter::new(Vec::new(), &PrinterOptions::default());
    // Halfway: after the applies, before the waits end.
    let half = events.iter().position(|event| matches!(event, Event::Reconciled { .. })).unwrap();
    for event in &events[..half] {
        printer.print(event).unwrap();
    }
    printer.heartbeat(std::time::Duration::from_secs(20)).unwrap();
    let output = String::from_utf8(printer.into_inner()).unwrap();
    let beat: Vec<&str> = output.lines().skip_while(|line| !line.starts_with("still running")).collect();
    assert!(beat[0].starts_with("still running after 20s: "), "{output}");
    assert!(beat.len() > 1 && beat[1..].iter().all(|line| line.starts_with("  ")), "{output}");
}

#[test]
fn with_timestamps_every_events_line_begins_with_an_rfc3339_utc_time() {
    let options = PrinterOptions { timestamps: true, ..PrinterOptions::default() };
    let mut printer = EventsPrinter::with_clock(Vec::new(), &options, recorded::fixed_clock());
    for event in &apply_run() {
        printer.print(event).unwrap();
    }
    printer.heartbeat(std::time::Duration::from_secs(1)).unwrap();
    let output = String::from_utf8(printer.into_inner()).unwrap();
    let plain = events_output(&apply_run(), &PrinterOptions::default());
    assert_eq!(output.lines().count(), plain.lines().count() + 1);
    for (stamped, line) in output.lines().zip(plain.lines()) {
        let (time, rest) = stamped.split_once(' ').unwrap();
        assert!(time.parse::<jiff::Timestamp>().is_ok() && time.ends_with('Z'), "{stamped}");
        assert_eq!(rest, line);
    }
}

#[test]
fn the_preview_marker_of_the_options_wins_over_the_plan() {
    let options = PrinterOptions { preview: Some("preview"), ..PrinterOptions::default() };
    let output = events_output(&preview_run(), &options);
    assert!(output.contains("Namespace/prod unchanged (preview)\n"));
}

#[test]
fn the_events_printer_prints_a_destroy() {
    assert_golden("destroy.events.txt", &events_output(&destroy_run(), &PrinterOptions::default()));
}

#[test]
fn the_events_printer_reports_inventory_writes() {
    let events = [
        Event::Inventory { inventory: recorded::inventory(), action: InventoryAction::Updated, objects: 3 },
        Event::Inventory { inventory: recorded::inventory(), action: InventoryAction::Deleted, objects: 0 },
    ];
    assert_eq!(
        events_output(&events, &PrinterOptions::default()),
        "inventory ConfigMap/prod/inventory-12345678 updated: 3 object(s)\n\
         inventory ConfigMap/prod/inventory-12345678 deleted\n"
    );
}

#[test]
fn an_apply_failure_is_followed_by_its_hint() {
    let output = events_output(&apply_run(), &PrinterOptions::default());
    assert!(output.contains(concat!(
        "Certificate.cert-manager.io/prod/web-tls apply failed: ",
        "no matches for kind \"Certificate\" in group \"cert-manager.io\"\n",
        "  hint: apply the CustomResourceDefinition first, or add it to the set\n"
    )));
}

#[test]
fn the_totals_name_every_object_left_not_current_with_its_conditions() {
    let output = events_output(&apply_run(), &PrinterOptions::default());
    assert!(output.contains(concat!(
        "8 resource(s) applied. 4 created, 1 unchanged, 1 configured, 1 failed, 1 skipped\n",
        "1 resource(s) pruned, 1 skipped, 0 failed to prune, 1 abandoned\n",
        "4 resource(s) reconciled, 0 skipped, 1 failed to reconcile, 1 timed out\n",
        "1 deletion(s) confirmed, 0 timed out\n",
    )));
    assert!(output.contains(concat!(
        "Deployment.apps/prod/db is InProgress: Ready: 0/1 (pod db-7d9c-x2 ImagePullBackOff)\n",
        "  Reconciling (LessReplicas): Ready: 0/1 (pod db-7d9c-x2 ImagePullBackOff)\n"
    )));
}

// ---- JSON printer ----

const TYPES: [&str; 11] = [
    "plan",
    "apply",
    "status",
    "blocked",
    "reconcile",
    "prune",
    "delete",
    "warning",
    "inventory",
    "summary",
    "error",
];

fn parse_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

#[test]
fn the_json_printer_writes_the_documented_lines() {
    assert_golden("apply.jsonl", &json_output(&apply_run(), &with_status_events()));
    assert_golden("destroy.jsonl", &json_output(&destroy_run(), &with_status_events()));
}

#[test]
fn every_json_line_parses_and_carries_a_utc_timestamp_and_a_known_type() {
    let mut seen = BTreeSet::new();
    for events in [apply_run(), preview_run(), destroy_run(), run_with_details()] {
        for line in parse_lines(&json_output(&events, &with_status_events())) {
            let timestamp = line["timestamp"].as_str().expect("a timestamp");
            assert!(timestamp.ends_with('Z'), "not UTC: {timestamp}");
            timestamp.parse::<Timestamp>().expect("RFC 3339");
            let type_ = line["type"].as_str().expect("a type");
            assert!(TYPES.contains(&type_), "unknown type {type_}");
            seen.insert(type_.to_owned());
        }
    }
    let expected: BTreeSet<String> =
        TYPES.iter().filter(|t| **t != "error").map(|t| (*t).to_owned()).collect();
    assert_eq!(seen, expected, "the recorded runs (and the details run) cover every type but error");
}

#[test]
fn every_json_object_line_names_its_object_with_four_string_fields() {
    for line in parse_lines(&json_output(&apply_run(), &with_status_events())) {
        let type_ = line["type"].as_str().unwrap();
        if ["apply", "status", "reconcile", "prune", "delete", "inventory"].contains(&type_) {
            for key in ["group", "kind", "namespace", "name"] {
                assert!(line[key].is_string(), "{type_} line without {key}: {line}");
            }
            assert!(line["status"].is_string() || type_ == "inventory", "{type_} line without status");
        }
    }
}

#[test]
fn json_failures_carry_error_and_hint_and_skips_a_reason_and_message() {
    let lines = parse_lines(&json_output(&apply_run(), &PrinterOptions::default()));
    let find = |type_: &str, kind: &str, name: &str| {
        let found =
            lines.iter().find(|line| line["type"] == type_ && line["kind"] == kind && line["name"] == name);
        found.cloned().unwrap()
    };
    let failed = find("apply", "Certificate", "web-tls");
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().unwrap().starts_with("no matches for kind"));
    assert!(failed["hint"].is_string());
    let skipped = find("apply", "Deployment", "api");
    assert_eq!(skipped["reason"], "DependencyTimedOut");
    assert_eq!(skipped["message"], "dependency Deployment.apps/prod/db did not become Current in time");
    let timeout = find("reconcile", "Deployment", "db");
    assert_eq!(timeout["status"], "timeout");
    assert_eq!(timeout["lastStatus"]["status"], "InProgress");
    assert_eq!(timeout["lastStatus"]["conditions"][0]["type"], "Reconciling");
}

#[test]
fn json_status_lines_appear_only_when_asked() {
    let lines = parse_lines(&json_output(&apply_run(), &PrinterOptions::default()));
    assert!(lines.iter().all(|line| line["type"] != "status"));
}

#[test]
fn the_json_summary_carries_the_outcome_and_the_counts() {
    let lines = parse_lines(&json_output(&apply_run(), &PrinterOptions::default()));
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["outcome"], "failed");
    assert_eq!(summary["apply"]["created"], 4);
    assert_eq!(summary["reconcile"]["timedOut"], 1);
    assert_eq!(summary["prune"]["abandoned"], 1);
    assert_eq!(summary["notCurrent"].as_array().unwrap().len(), 2);
    assert_eq!(summary["failures"][0]["action"], "apply");
}

#[test]
fn the_json_printer_reports_an_aborted_run_as_an_error_line() {
    let mut printer = JsonPrinter::with_clock(Vec::new(), &PrinterOptions::default(), fixed_clock());
    printer.error("cannot reach the cluster: connection refused").unwrap();
    let output = String::from_utf8(printer.into_inner()).unwrap();
    assert_eq!(
        output,
        "{\"timestamp\":\"2024-06-01T12:00:00.000Z\",\"type\":\"error\",\
         \"error\":\"cannot reach the cluster: connection refused\"}\n"
    );
}

#[test]
fn every_example_in_the_json_docs_is_real_output() {
    let mut real: Vec<String> = Vec::new();
    let two_waves = vec![vec![recorded::namespace()], vec![recorded::app_config()]];
    let plan = Event::Plan(Plan::for_apply(two_waves, Vec::new(), DryRun::None));
    for events in [apply_run(), destroy_run(), vec![plan], run_with_details()] {
        real.extend(json_output(&events, &with_status_events()).lines().map(str::to_owned));
    }
    let mut printer = JsonPrinter::with_clock(Vec::new(), &PrinterOptions::default(), fixed_clock());
    printer.error("cannot reach the cluster: connection refused").unwrap();
    real.extend(String::from_utf8(printer.into_inner()).unwrap().lines().map(str::to_owned));

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-output.md");
    let doc = std::fs::read_to_string(path).expect("docs/json-output.md");
    let mut examples = 0;
    let mut in_json = false;
    for line in doc.lines() {
        match line {
            "```json" => in_json = true,
            "```" => in_json = false,
            example if in_json => {
                examples += 1;
                assert!(real.iter().any(|line| line == example), "not printed by kapply: {example}");
            }
            _ => {}
        }
    }
    assert!(examples >= TYPES.len(), "one example per type at least");
}

// ---- table printer ----

#[test]
fn the_plain_table_prints_its_final_frame_then_totals_and_failures() {
    assert_golden("apply.table.txt", &table_output(&apply_run(), None));
}

#[test]
fn the_plain_table_cuts_lines_to_the_width() {
    let output = table_output(&apply_run(), Some(60));
    let frame: Vec<&str> = output
        .lines()
        .skip_while(|line| line.starts_with("warning: "))
        .take_while(|line| !line.contains("resource(s)"))
        .collect();
    assert!(frame.iter().all(|line| line.chars().count() <= 60), "{output}");
    assert!(frame.iter().any(|line| line.ends_with('…')));
}

#[test]
fn the_table_prints_warnings_as_lines() {
    let output = table_output(&apply_run(), None);
    assert!(output.starts_with(
        "warning: Deployment.apps/prod/db: spec.template.spec.containers[0].resources: no limits set\n"
    ));
}

// ---- format selection ----

#[test]
fn output_formats_parse_from_their_names() {
    assert_eq!("events".parse(), Ok(OutputFormat::Events));
    assert_eq!("JSON".parse(), Ok(OutputFormat::Json));
    assert_eq!(" table ".parse(), Ok(OutputFormat::Table));
    assert_eq!(
        "yaml".parse::<OutputFormat>().unwrap_err().to_string(),
        "unknown output format \"yaml\" (expected events, json or table)"
    );
    for format in OutputFormat::ALL {
        assert_eq!(format.to_string().parse(), Ok(format));
    }
}

#[test]
fn printer_for_gives_the_printer_of_each_format() {
    let events = [Event::Plan(Plan::for_apply(vec![vec![recorded::namespace()]], Vec::new(), DryRun::None))];
    let mut outputs = Vec::new();
    for format in OutputFormat::ALL {
        let mut buffer = Vec::new();
        let mut printer = printer_for(format, &mut buffer, PrinterOptions::default());
        for event in &events {
            printer.print(event).unwrap();
        }
        printer.finish().unwrap();
        drop(printer);
        outputs.push(String::from_utf8(buffer).unwrap());
    }
    assert_eq!(outputs[0], "", "the events printer prints nothing for a plan");
    assert!(outputs[1].contains("\"type\":\"plan\""));
    assert!(outputs[2].starts_with("NAMESPACE  RESOURCE        ACTION   STATUS  MESSAGE\n"));
}

#[test]
fn an_interrupted_run_says_so_in_json_and_text() {
    let mut events = vec![
        Event::Plan(crate::event::Plan::for_destroy(Vec::new(), crate::event::DryRun::None)),
        Event::Cancelled(crate::event::CancelReason::Interrupted),
    ];
    events.push(Event::Summary(crate::event::Summary::from_events(&events)));
    let json = json_output(&events, &PrinterOptions::default());
    let summary: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(summary["outcome"], "interrupted", "{json}");
    assert_eq!(summary["cancelled"], "interrupted", "{json}");
    let text = events_output(&events, &PrinterOptions::default());
    assert!(text.contains("interrupted:"), "{text}");
}

// ---- details ----

/// A Deployment `db` timed out with a Pod's scheduling failure as its detail; `api`, which depends on
/// it, waited for it.
fn run_with_details() -> Vec<Event> {
    let db = recorded::db();
    let api = recorded::api();
    let pod = crate::object::ObjRef::new("", "Pod", Some("prod"), "db-7d9c-x2");
    let detail = crate::details::Detail {
        reason: "Unschedulable".to_owned(),
        message: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.".to_owned(),
        object: Some(pod),
    };
    let slow = recorded::db_starting().with_details(vec![detail]);
    let mut events = vec![
        Event::Plan(Plan::for_apply(vec![vec![db.clone()], vec![api.clone()]], Vec::new(), DryRun::None)),
        Event::Inventory { inventory: recorded::inventory(), action: InventoryAction::Updated, objects: 2 },
        Event::Apply { obj: db.clone(), outcome: crate::event::ApplyOutcome::Created },
        Event::Status { obj: db.clone(), status: slow.clone() },
        Event::Blocked { obj: api.clone(), dependency: db.clone(), status: slow.clone() },
        Event::Reconciled { obj: db.clone(), outcome: crate::event::WaitOutcome::Timeout(slow) },
        Event::Apply {
            obj: api,
            outcome: crate::event::ApplyOutcome::Skipped(crate::event::SkipReason::DependencyTimedOut(db)),
        },
        Event::Inventory { inventory: recorded::inventory(), action: InventoryAction::Updated, objects: 1 },
    ];
    events.push(Event::Summary(crate::event::Summary::from_events(&events)));
    events
}

#[test]
fn details_follow_the_status_blocked_and_timeout_lines_and_the_summary_in_the_events_output() {
    let events = run_with_details();
    assert_eq!(check_order(&events), Ok(()));
    let detail = "  Pod/prod/db-7d9c-x2 (Unschedulable): 0/2 nodes are available: 2 node(s) didn't match Pod's \
                  node affinity/selector.";
    let output = events_output(&events, &with_status_events());
    let lines: Vec<&str> = output.lines().collect();
    let followed_by_detail = |prefix: &str| {
        let at =
            lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}:\n{output}"));
        lines[at + 1..].iter().take_while(|l| l.starts_with("  ")).any(|l| *l == detail)
    };
    assert!(followed_by_detail("Deployment.apps/prod/db is InProgress: Available: 0/1"), "{output}");
    assert!(
        followed_by_detail(
            "Deployment.apps/prod/api waiting for Deployment.apps/prod/db: InProgress, Available: 0/1"
        ),
        "{output}"
    );
    assert!(
        followed_by_detail("Deployment.apps/prod/db reconcile timeout: InProgress, Available: 0/1"),
        "{output}"
    );
    let summary = &output[output.find("resource(s) reconciled").expect("totals")..];
    assert!(summary.lines().any(|l| l == detail), "{summary}");
    // Without --status-events, no status or blocked line: the timeout line still carries the detail.
    let quiet = events_output(&events, &PrinterOptions::default());
    assert!(!quiet.contains("waiting for"), "{quiet}");
    assert_eq!(quiet.lines().filter(|l| *l == detail).count(), 2, "{quiet}");
}

#[test]
fn details_are_a_json_array_on_status_blocked_reconcile_and_summary_lines() {
    let output = json_output(&run_with_details(), &with_status_events());
    let lines: Vec<Value> = output.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let expected = serde_json::json!([{
        "reason": "Unschedulable",
        "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
        "object": {"group": "", "kind": "Pod", "namespace": "prod", "name": "db-7d9c-x2"},
    }]);
    let of = |type_: &str, pointer: &str| {
        let line = lines.iter().find(|l| l["type"] == type_).unwrap_or_else(|| panic!("no {type_} line"));
        line.pointer(pointer).cloned().unwrap_or(Value::Null)
    };
    assert_eq!(of("status", "/details"), expected);
    assert_eq!(of("blocked", "/dependencyStatus/details"), expected);
    assert_eq!(of("blocked", "/dependency/name"), "db");
    assert_eq!(of("reconcile", "/lastStatus/details"), expected);
    assert_eq!(of("summary", "/notCurrent/0/details"), expected);
    // No details, no key.
    assert!(!json_output(&apply_run(), &with_status_events()).contains("\"details\""));
}

#[test]
fn the_table_shows_the_first_detail_and_what_a_blocked_object_waits_for() {
    let output = table_output(&run_with_details()[..5], None);
    assert!(output.contains("Available: 0/1; Unschedulable: 0/2 nodes"), "{output}");
    assert!(output.contains("waiting for Deployment.apps/prod/db: InProgress, Available: 0/1"), "{output}");
}
