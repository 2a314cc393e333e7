//! kapply's kstatus measured against cli-utils' own: the same corpus of objects goes through
//! `kapply::kstatus::compute` and through cli-utils' `status.Compute` (the Go program in
//! `tests/kstatus-reference/`, built by `scripts/kstatus-reference install`), and every verdict is
//! compared: the status, the reason, and the message.
//!
//! A difference fails the test unless it is one of the [`DEPARTURES`], each a named predicate on the
//! object and both verdicts, documented in docs/status.md ("Measured against cli-utils"). A
//! departure that no longer matches anything fails the test too, so the list stays exact.

#[path = "kstatus_reference/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

use kapply::kstatus::{self, Status, StatusResult};

/// What the reference printed for one object.
#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default)]
    status: Option<String>,
    message: String,
    reason: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    panic: Option<String>,
}

/// One side's verdict, in terms both sides share.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// A status; a reference error from `Compute` is Unknown, which is what cli-utils' poller shows.
    Status(Status),
    /// Not decodable as a Kubernetes object (kapply's `Err`, the reference's decode error).
    NotAnObject,
    /// The reference panicked.
    Panic,
}

impl Reference {
    fn verdict(&self) -> Verdict {
        if self.panic.is_some() {
            return Verdict::Panic;
        }
        match (&self.error, &self.status) {
            (Some(error), _) if error.starts_with("decode: ") => Verdict::NotAnObject,
            (Some(_), _) => Verdict::Status(Status::Unknown),
            (None, Some(status)) => {
                Verdict::Status(status.parse().expect("the reference prints known statuses"))
            }
            (None, None) => panic!("the reference printed neither a status nor an error: {self:?}"),
        }
    }
}

fn kapply_verdict(result: &Result<StatusResult, kstatus::Error>) -> Verdict {
    match result {
        Ok(r) => Verdict::Status(r.status),
        Err(_) => Verdict::NotAnObject,
    }
}

/// What differs between the two verdicts on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Aspect {
    Status,
    Reason,
    Message,
}

/// Everything a departure's predicate may look at.
struct Seen<'a> {
    object: &'a Value,
    reference: &'a Reference,
    kapply: &'a Result<StatusResult, kstatus::Error>,
}

impl Seen<'_> {
    fn kind(&self) -> &str {
        self.object.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    fn kapply_ok(&self) -> Option<&StatusResult> {
        self.kapply.as_ref().ok()
    }

    fn kapply_is(&self, status: Status) -> bool {
        self.kapply_ok().is_some_and(|r| r.status == status)
    }

    fn conditions(&self) -> Vec<&Value> {
        match self.object.pointer("/status/conditions") {
            Some(Value::Array(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// A deliberate, documented difference from cli-utils.
struct Departure {
    name: &'static str,
    /// Which differences it may explain.
    aspects: &'static [Aspect],
    applies: fn(&Seen<'_>) -> bool,
}

const ALL: &[Aspect] = &[Aspect::Status, Aspect::Reason, Aspect::Message];

/// Every departure, by name. docs/status.md gives each one's reason.
const DEPARTURES: &[Departure] = &[
    Departure {
        // kapply reads `"3"`, `" 3 "` and `3.0` as 3; cli-utils reads them as the field's default
        // (counts) or fails (generations).
        name: "integer-spellings",
        aspects: ALL,
        applies: |s| {
            any_value(s.object, &mut |path, v| {
                let read_by_rules = matches!(path.first().map(String::as_str), Some("spec" | "status"))
                    || path == ["metadata", "generation"];
                read_by_rules && is_tolerated_integer(v)
            })
        },
    },
    Departure {
        // kapply reads condition statuses case-insensitively and from JSON booleans; cli-utils
        // matches only the exact strings, and fails on a boolean.
        name: "condition-status-spellings",
        aspects: ALL,
        applies: |s| {
            s.conditions().iter().any(|c| match c.get("status") {
                Some(Value::Bool(_)) => true,
                Some(Value::String(t)) => {
                    !["True", "False", "Unknown"].contains(&t.as_str())
                        && ["True", "False", "Unknown"].iter().any(|w| w.eq_ignore_ascii_case(t.trim()))
                }
                _ => false,
            })
        },
    },
    Departure {
        // A field the deciding rule reads holds a value of the wrong type: kapply says Unknown and
        // names it; cli-utils silently uses a default.
        name: "unreadable-field-is-unknown",
        aspects: ALL,
        applies: |s| {
            s.kapply_is(Status::Unknown)
                && s.reference.error.is_none()
                && s.reference.panic.is_none()
                && s.kapply_ok().is_some_and(|r| named_field_is_malformed(s.object, &r.message))
        },
    },
    Departure {
        // A Job with `spec.suspend: true` whose first decisive condition is `Suspended=True` is
        // Current "Job is suspended" in kapply, following cli-utils after v0.37.2 (commit 2aef07c);
        // v0.37.2 itself ignores the condition.
        name: "suspended-job-is-current",
        aspects: ALL,
        applies: |s| {
            s.kind() == "Job"
                && s.kapply_ok()
                    .is_some_and(|r| r.status == Status::Current && r.message == "Job is suspended")
        },
    },
    Departure {
        // cli-utils panics on a containerStatuses entry that is null or not shaped as the API
        // defines it; kapply skips null entries and reports other shapes as Unknown.
        name: "reference-panics-on-malformed-container-statuses",
        aspects: ALL,
        applies: |s| s.reference.panic.is_some() && s.kind() == "Pod",
    },
    Departure {
        // kapply refuses an object without a non-empty string apiVersion (the API server always
        // sends one); client-go decodes it with an empty group.
        name: "no-api-version-is-not-an-object",
        aspects: ALL,
        applies: |s| {
            s.kapply.is_err()
                && s.object.get("apiVersion").and_then(Value::as_str).is_none_or(|a| a.is_empty())
        },
    },
    Departure {
        // cli-utils computes `spec.replicas - partition` and `status.replicas - spec.replicas` in
        // wrapping 64-bit arithmetic; kapply saturates. Only values beyond 2^62 (the API server's
        // counts are 32-bit) reach the difference.
        name: "counts-beyond-2^62",
        aspects: ALL,
        applies: |s| {
            any_value(s.object, &mut |path, v| {
                path.first().is_some_and(|p| p == "spec" || p == "status")
                    && v.as_i64().is_some_and(|n| n.unsigned_abs() > 1 << 62)
            })
        },
    },
    Departure {
        // A field cli-utils reads is JSON null: cli-utils fails on it (Unknown), kapply reads null as
        // absent everywhere. API servers drop nulls, so only hand-made or third-party JSON has them.
        name: "null-is-absent",
        aspects: ALL,
        applies: |s| {
            s.reference.error.as_deref().is_some_and(|e| e.contains("<nil> is of the type <nil>"))
                && any_value(s.object, &mut |_, v| v.is_null())
        },
    },
    Departure {
        // An apiVersion with more than one `/`: client-go refuses to decode the object; kapply takes
        // the group before the first `/` and computes. An API server never sends one.
        name: "malformed-api-version",
        aspects: ALL,
        applies: |s| {
            s.object.get("apiVersion").and_then(Value::as_str).is_some_and(|a| a.matches('/').count() > 1)
        },
    },
    Departure {
        // A condition copied into the result with no reason: kapply gives its type and status
        // (`ReadyFalse`) so every InProgress and Failed result has one; cli-utils gives "".
        name: "empty-reason-filled-in",
        aspects: &[Aspect::Reason],
        applies: |s| {
            s.reference.reason.is_empty()
                && s.kapply_ok().and_then(|r| r.reason.as_deref()).is_some_and(|reason| {
                    s.conditions().iter().any(|c| {
                        let text = |k| c.get(k).and_then(Value::as_str).unwrap_or("");
                        text("reason").is_empty() && format!("{}{}", text("type"), text("status")) == reason
                    })
                })
        },
    },
    Departure {
        // A condition copied into the result with no message: kapply says "<Type> condition is
        // <Status>"; cli-utils gives "".
        name: "empty-message-filled-in",
        aspects: &[Aspect::Message],
        applies: |s| {
            s.reference.message.is_empty()
                && s.kapply_ok().is_some_and(|r| {
                    r.message.ends_with(" condition is True")
                        || r.message.ends_with(" condition is False")
                        || r.message.ends_with(" condition is Unknown")
                })
        },
    },
];

/// Calls `f` on every value of `v` with its path (object keys; list indices as numbers).
fn any_value(v: &Value, f: &mut dyn FnMut(&[String], &Value) -> bool) -> bool {
    fn walk(v: &Value, path: &mut Vec<String>, f: &mut dyn FnMut(&[String], &Value) -> bool) -> bool {
        if f(path, v) {
            return true;
        }
        let children: Vec<(String, &Value)> = match v {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
            _ => return false,
        };
        children.into_iter().any(|(key, child)| {
            path.push(key);
            let found = walk(child, path, f);
            path.pop();
            found
        })
    }
    walk(v, &mut Vec::new(), f)
}

/// An integer kapply tolerates and client-go does not deliver as one: a string holding an integer, or
/// a whole float.
fn is_tolerated_integer(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().is_ok() || s.parse::<f64>().is_ok_and(|f| f.fract() == 0.0)
        }
        Value::Number(n) => !n.is_i64() && n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.2e18),
        _ => false,
    }
}

/// Whether kapply's Unknown message (`<path> is not <what>: <value>`) names a field of `object` that
/// really holds something other than `<what>` as client-go would deliver it.
fn named_field_is_malformed(object: &Value, message: &str) -> bool {
    let Some((path, rest)) = message.split_once(" is not ") else {
        return false;
    };
    let mut current = object;
    for segment in path.split('.') {
        let (key, index) = match segment.split_once('[') {
            Some((key, index)) => (key, index.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let Some(next) = current.get(key) else {
            return false;
        };
        current = match index {
            Some(i) => match next.get(i) {
                Some(item) => item,
                None => return false,
            },
            None => next,
        };
    }
    let what = rest.split(':').next().unwrap_or("");
    match what {
        "an integer" => !current.is_i64(),
        "a string" => !current.is_string(),
        "a boolean" => !current.is_boolean(),
        "a list" => !current.is_array(),
        "an object" => !current.is_object(),
        "an RFC 3339 timestamp" => {
            current.as_str().is_none_or(|t| t.parse::<jiff::Timestamp>().is_err() || t != t.trim())
        }
        _ => false,
    }
}

/// The reference binary: `$KAPPLY_KSTATUS_REFERENCE` (set by scripts/test), else where
/// `scripts/kstatus-reference path` says it is cached.
fn reference_binary() -> PathBuf {
    let build = "scripts/kstatus-reference install";
    if let Some(path) = std::env::var_os("KAPPLY_KSTATUS_REFERENCE") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "KAPPLY_KSTATUS_REFERENCE={} does not exist; build it with: {build}",
            path.display()
        );
        return path;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/scripts/kstatus-reference"))
        .arg("path")
        .output()
        .unwrap_or_else(|err| panic!("running scripts/kstatus-reference path: {err}"));
    assert!(
        out.status.success(),
        "scripts/kstatus-reference path failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        path.is_file(),
        "cli-utils' kstatus reference is not built (looked for {}); build it with: {build}",
        path.display()
    );
    path
}

fn run_reference(objects: &[&Value]) -> Vec<Reference> {
    let binary = reference_binary();
    let input = serde_json::to_vec(objects).unwrap();
    let mut child = Command::new(&binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("starting {}: {err}", binary.display()));
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{} failed: {}", binary.display(), String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<Reference> =
        serde_json::from_slice(&out.stdout).expect("the reference prints a JSON list");
    assert_eq!(verdicts.len(), objects.len(), "one verdict per object");
    verdicts
}

/// The differences between the two verdicts on one object.
fn differences(reference: &Reference, kapply: &Result<StatusResult, kstatus::Error>) -> Vec<Aspect> {
    let (r, k) = (reference.verdict(), kapply_verdict(kapply));
    if r != k {
        return vec![Aspect::Status];
    }
    let (Verdict::Status(status), Ok(result)) = (r, kapply) else {
        return Vec::new();
    };
    // Unknown messages are each side's own error text; nothing to compare.
    if status == Status::Unknown {
        return Vec::new();
    }
    let mut found = Vec::new();
    // Reasons exist for InProgress and Failed only (cli-utils' computed condition's reason).
    if matches!(status, Status::InProgress | Status::Failed)
        && result.reason.as_deref().unwrap_or("") != reference.reason
    {
        found.push(Aspect::Reason);
    }
    if result.message != reference.message {
        found.push(Aspect::Message);
    }
    found
}

fn describe(reference: &Reference, kapply: &Result<StatusResult, kstatus::Error>) -> String {
    let kapply = match kapply {
        Ok(r) => format!("{} reason={:?} message={:?}", r.status, r.reason, r.message),
        Err(err) => format!("error: {err}"),
    };
    let reference = match (&reference.panic, &reference.error) {
        (Some(panic), _) => format!("panic: {panic}"),
        (None, Some(error)) => format!("error: {error}"),
        (None, None) => format!(
            "{} reason={:?} message={:?}",
            reference.status.as_deref().unwrap_or("?"),
            reference.reason,
            reference.message
        ),
    };
    format!("  cli-utils: {reference}\n  kapply:    {kapply}")
}

#[test]
fn kstatus_agrees_with_cli_utils_except_for_documented_departures() {
    let transcribed = corpus::transcribed();
    let generated = corpus::generated();
    let cases: Vec<(String, &Value)> = transcribed
        .iter()
        .map(|t| (format!("cli-utils/{}/{}", t.test, t.name), &t.object))
        .chain(generated.iter().map(|c| (c.name.clone(), &c.object)))
        .collect();
    assert!(cases.len() > 5000, "the corpus shrank to {} objects", cases.len());
    let objects: Vec<&Value> = cases.iter().map(|(_, o)| *o).collect();
    let references = run_reference(&objects);

    // The reference is wired right: it reproduces what cli-utils' own tests expect of the release.
    let mut failures = Vec::new();
    for (t, reference) in transcribed.iter().zip(&references) {
        let kapply = kstatus::compute(&t.object);
        let expected = Verdict::Status(t.expect.status.parse().unwrap());
        if !t.unreleased && reference.verdict() != expected {
            failures.push(format!(
                "reference fails cli-utils' own {}/{}:\n{}",
                t.test,
                t.name,
                describe(reference, &kapply)
            ));
        }
        // kapply passes cli-utils' own tests, including those after the release.
        let reason_ok = t
            .expect
            .reason
            .as_ref()
            .is_none_or(|want| kapply.as_ref().is_ok_and(|r| r.reason.as_ref() == Some(want)));
        if kapply_verdict(&kapply) != expected || !reason_ok {
            failures.push(format!(
                "kapply fails cli-utils' own {}/{} (expects {} {:?}):\n{}",
                t.test,
                t.name,
                t.expect.status,
                t.expect.reason,
                describe(reference, &kapply)
            ));
        }
    }

    let mut used: BTreeMap<&str, usize> = DEPARTURES.iter().map(|d| (d.name, 0)).collect();
    let mut examples: BTreeMap<&str, String> = BTreeMap::new();
    let mut agreed = 0;
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for ((name, object), reference) in cases.iter().zip(&references) {
        let kapply = kstatus::compute(object);
        *by_status.entry(format!("{:?}", reference.verdict())).or_default() += 1;
        let found = differences(reference, &kapply);
        if found.is_empty() {
            agreed += 1;
            continue;
        }
        let seen = Seen { object, reference, kapply: &kapply };
        for aspect in found {
            match DEPARTURES.iter().find(|d| d.aspects.contains(&aspect) && (d.applies)(&seen)) {
                Some(d) => {
                    *used.get_mut(d.name).unwrap() += 1;
                    examples.entry(d.name).or_insert_with(|| {
                        let verdicts = describe(reference, &kapply).replace("\n", "\n    ");
                        format!("    e.g. {name} ({aspect:?})\n    {verdicts}")
                    });
                }
                None => failures.push(format!(
                    "{name}: {aspect:?} differs, and no departure explains it\n  object:    {object}\n{}",
                    describe(reference, &kapply)
                )),
            }
        }
    }
    for (name, count) in &used {
        if *count == 0 {
            failures
                .push(format!("departure {name} explains no difference any more: remove it (and its docs)"));
        }
    }
    eprintln!(
        "kstatus vs cli-utils: {} objects ({} transcribed from cli-utils' tests), {agreed} agree on status, reason and message",
        cases.len(),
        transcribed.len()
    );
    eprintln!("reference verdicts: {by_status:?}");
    for (name, count) in &used {
        eprintln!("  departure {name}: {count} differences");
        if let Some(example) = examples.get(name) {
            eprintln!("{example}");
        }
    }
    if !failures.is_empty() {
        let shown = failures.len().min(40);
        panic!("{} failures (first {shown}):\n{}", failures.len(), failures[..shown].join("\n"));
    }
}
