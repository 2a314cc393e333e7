//! Golden cases: `tests/fixtures/kstatus/*.json`, one file per group of kinds.
//!
//! Each file is a list of `{name, now?, object, expect: {status, reason?, message}}`. JSON rather than
//! YAML so this module needs no YAML parser. Every case also checks the condition invariant.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::{RECONCILING, STALLED, Status, StatusResult, compute_at};

/// The clock of cases that give no `now`: fixed, so fixtures never depend on the day they run.
const DEFAULT_NOW: &str = "2024-06-01T12:00:00Z";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// RFC 3339; [`DEFAULT_NOW`] when absent.
    #[serde(default)]
    now: Option<String>,
    object: Value,
    expect: Expect,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: Status,
    #[serde(default)]
    reason: Option<String>,
    message: String,
}

/// Runs every case of one fixture file; reports all mismatches at once, by case name.
fn check_file(file: &str, json: &str) {
    let cases = cases_of(json);
    let mut failures = Vec::new();
    for case in &cases {
        let now_text = case.now.as_deref().unwrap_or(DEFAULT_NOW);
        let now: Timestamp = now_text.parse().unwrap_or_else(|err| panic!("{}: bad now: {err}", case.name));
        match compute_at(&case.object, now) {
            Err(err) => failures.push(format!("{}: unexpected error: {err}", case.name)),
            Ok(result) => {
                let got = Expect {
                    status: result.status,
                    reason: result.reason.clone(),
                    message: result.message.clone(),
                };
                if got != case.expect {
                    failures
                        .push(format!("{}:\n  expected {:?}\n  got      {:?}", case.name, case.expect, got));
                }
                if let Err(broken) = check_conditions(&result) {
                    failures.push(format!("{}: {broken}", case.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// InProgress carries exactly a `Reconciling` condition, Failed a `Stalled` one, both mirroring the
/// result's reason and message; other statuses carry none.
pub(super) fn check_conditions(result: &StatusResult) -> Result<(), String> {
    let expected_type = match result.status {
        Status::InProgress => Some(RECONCILING),
        Status::Failed => Some(STALLED),
        _ => None,
    };
    let ok = match (expected_type, result.conditions.as_slice()) {
        (None, []) => true,
        (Some(type_), [c]) => {
            c.type_ == type_
                && c.status == "True"
                && c.reason == result.reason.as_deref().unwrap_or_default()
                && c.message == result.message
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(format!("conditions do not match the status: {result:?}")) }
}

macro_rules! fixture {
    ($file:literal) => {
        ($file, include_str!(concat!("../../tests/fixtures/kstatus/", $file)))
    };
}

/// Every fixture file, by name.
const FIXTURES: [(&str, &str); 10] = [
    fixture!("generic.json"),
    fixture!("deployment.json"),
    fixture!("replicaset.json"),
    fixture!("statefulset.json"),
    fixture!("daemonset.json"),
    fixture!("pod.json"),
    fixture!("job.json"),
    fixture!("core.json"),
    fixture!("tolerant.json"),
    fixture!("realistic.json"),
];

fn cases_of(json: &str) -> Vec<Case> {
    serde_json::from_str(json).unwrap_or_else(|err| panic!("not a list of golden cases: {err}"))
}

fn check(file: &str) {
    let (_, json) = FIXTURES.iter().find(|(name, _)| *name == file).expect("fixture listed in FIXTURES");
    check_file(file, json);
}

#[test]
fn generic_rules_match_their_golden_cases() {
    check("generic.json");
}

#[test]
fn deployments_match_their_golden_cases() {
    check("deployment.json");
}

#[test]
fn replica_sets_match_their_golden_cases() {
    check("replicaset.json");
}

#[test]
fn stateful_sets_match_their_golden_cases() {
    check("statefulset.json");
}

#[test]
fn daemon_sets_match_their_golden_cases() {
    check("daemonset.json");
}

#[test]
fn pods_match_their_golden_cases() {
    check("pod.json");
}

#[test]
fn jobs_match_their_golden_cases() {
    check("job.json");
}

#[test]
fn core_kinds_match_their_golden_cases() {
    check("core.json");
}

#[test]
fn tolerant_parsing_matches_its_golden_cases() {
    check("tolerant.json");
}

#[test]
fn realistic_objects_match_their_golden_cases() {
    check("realistic.json");
}

#[test]
fn every_fixture_file_in_the_directory_is_checked() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kstatus");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let name = entry.expect("readable directory entry").file_name();
        let name = name.to_string_lossy();
        assert!(FIXTURES.iter().any(|(listed, _)| *listed == name), "{name} is not listed in FIXTURES");
    }
}

#[test]
fn golden_case_names_are_unique_and_plentiful() {
    let mut names = std::collections::BTreeSet::new();
    for (file, json) in FIXTURES {
        for case in cases_of(json) {
            assert!(names.insert(case.name.clone()), "{file}: duplicate golden case name {:?}", case.name);
        }
    }
    assert!(names.len() >= 80, "only {} golden cases", names.len());
}
