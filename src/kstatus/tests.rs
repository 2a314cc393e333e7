//! Unit tests of the public surface; per-kind behaviour is in the golden fixtures (`golden.rs`).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().expect("valid test timestamp")
}

fn deployment(spec_replicas: i64, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "prod", "generation": 2},
           "spec": {"replicas": spec_replicas}, "status": status})
}

fn unschedulable_pod(created: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "creationTimestamp": created},
           "status": {"phase": "Pending", "conditions": [
               {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}})
}

#[test]
fn status_displays_as_its_cli_utils_name() {
    let shown: Vec<String> = Status::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["InProgress", "Failed", "Current", "Terminating", "NotFound", "Unknown"]);
}

#[test]
fn status_parses_case_insensitively() {
    assert_eq!("inprogress".parse::<Status>(), Ok(Status::InProgress));
    assert_eq!("CURRENT".parse::<Status>(), Ok(Status::Current));
    assert_eq!(" NotFound ".parse::<Status>(), Ok(Status::NotFound));
    for status in Status::ALL {
        assert_eq!(status.to_string().parse::<Status>(), Ok(status));
    }
}

#[test]
fn an_unknown_status_name_is_an_error_naming_it() {
    let err = "ready".parse::<Status>().unwrap_err();
    assert_eq!(err, Error::UnknownStatusName("ready".into()));
    assert!(err.to_string().contains("\"ready\""), "{err}");
}

#[test]
fn status_and_conditions_serialize_like_kubernetes() {
    let result = StatusResult::in_progress("LessReady", "Ready: 1/3");
    let value = serde_json::to_value(&result).expect("serializable");
    assert_eq!(
        value,
        json!({"status": "InProgress", "reason": "LessReady", "message": "Ready: 1/3", "conditions": [
            {"type": "Reconciling", "status": "True", "reason": "LessReady", "message": "Ready: 1/3"}]})
    );
    let back: StatusResult = serde_json::from_value(value).expect("deserializable");
    assert_eq!(back, result);
}

#[test]
fn not_found_and_unknown_carry_no_reason_and_no_conditions() {
    let not_found = StatusResult::not_found();
    assert_eq!((not_found.status, not_found.reason, not_found.conditions.len()), (Status::NotFound, None, 0));
    let unknown = StatusResult::unknown("cannot read");
    assert_eq!(unknown.status, Status::Unknown);
    assert_eq!(unknown.message, "cannot read");
    assert!(unknown.conditions.is_empty());
}

#[test]
fn failed_carries_a_stalled_condition_and_an_empty_reason_becomes_none() {
    let failed = StatusResult::failed("", "broken");
    assert_eq!(failed.reason, None);
    assert_eq!(
        failed.conditions,
        [Condition {
            type_: STALLED.into(),
            status: "True".into(),
            reason: String::new(),
            message: "broken".into()
        }]
    );
}

#[test]
fn a_value_that_is_not_a_json_object_is_an_error() {
    assert_eq!(compute(&json!(["Pod"])), Err(Error::NotAnObject("a list")));
    assert_eq!(compute(&Value::Null), Err(Error::NotAnObject("null")));
    assert_eq!(
        compute(&json!("x")).unwrap_err().to_string(),
        "not a kubernetes object: expected a JSON object, found a string"
    );
}

#[test]
fn an_object_without_kind_or_api_version_is_an_error() {
    assert_eq!(compute(&json!({"apiVersion": "v1"})), Err(Error::MissingKind));
    assert_eq!(compute(&json!({"apiVersion": "v1", "kind": ""})), Err(Error::MissingKind));
    assert_eq!(compute(&json!({"apiVersion": "v1", "kind": 3})), Err(Error::MissingKind));
    assert_eq!(compute(&json!({"kind": "Pod"})), Err(Error::MissingApiVersion));
}

#[test]
fn deployment_with_fewer_ready_replicas_is_in_progress() {
    let obj = deployment(
        3,
        json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
                                   "availableReplicas": 3, "readyReplicas": 1}),
    );
    let result = compute(&obj).expect("an object");
    assert_eq!(result.status, Status::InProgress);
    assert_eq!(result.reason.as_deref(), Some("LessReady"));
    assert_eq!(result.message, "Ready: 1/3");
    assert_eq!(result.conditions[0].type_, RECONCILING);
}

#[test]
fn string_observed_generation_is_read_as_a_number() {
    // helm#32615: a CRD controller writing observedGeneration as a string left kstatus stuck Unknown.
    let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"generation": 3},
                     "status": {"observedGeneration": "3"}});
    assert_eq!(compute(&obj).expect("an object"), StatusResult::current("Resource is current"));
}

#[test]
fn an_unreadable_field_gives_unknown_naming_the_field() {
    let obj = deployment(3, json!({"replicas": "abc"}));
    assert_eq!(
        compute(&obj).expect("an object"),
        StatusResult::unknown(r#"status.replicas is not an integer: "abc""#)
    );
}

#[test]
fn deletion_wins_over_fields_that_cannot_be_read() {
    let mut obj = deployment(3, json!({"observedGeneration": "x", "conditions": 5}));
    obj["metadata"]["deletionTimestamp"] = json!("2024-06-01T00:00:00Z");
    assert_eq!(compute(&obj).expect("an object").status, Status::Terminating);
}

#[test]
fn reconciling_and_stalled_together_are_decided_by_the_one_listed_first() {
    let reconciling =
        json!({"type": "Reconciling", "status": "True", "reason": "Working", "message": "busy"});
    let stalled = json!({"type": "Stalled", "status": "True", "reason": "Stuck", "message": "no"});
    let widget = |conditions| json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": conditions}});
    let first = compute(&widget(json!([reconciling, stalled]))).expect("an object");
    assert_eq!(first, StatusResult::in_progress("Working", "busy"));
    let first = compute(&widget(json!([stalled, reconciling]))).expect("an object");
    assert_eq!(first, StatusResult::failed("Stuck", "no"));
}

#[test]
fn unschedulable_pod_fails_exactly_when_the_schedule_window_ends() {
    let created = at("2024-06-01T12:00:00Z");
    let pod = unschedulable_pod("2024-06-01T12:00:00Z");
    let just_before =
        created.checked_add(SCHEDULE_WINDOW - SignedDuration::from_millis(1)).expect("in range");
    let at_end = created.checked_add(SCHEDULE_WINDOW).expect("in range");
    assert_eq!(compute_at(&pod, just_before).expect("an object").reason.as_deref(), Some("PodNotScheduled"));
    assert_eq!(compute_at(&pod, at_end).expect("an object").reason.as_deref(), Some("PodUnschedulable"));
}

#[test]
fn compute_reads_the_system_clock() {
    let fresh = unschedulable_pod(&Timestamp::now().to_string());
    assert_eq!(compute(&fresh).expect("an object").status, Status::InProgress);
    let old = unschedulable_pod("2000-01-01T00:00:00Z");
    assert_eq!(compute(&old).expect("an object").status, Status::Failed);
}

#[test]
fn compute_never_returns_not_found() {
    let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}});
    assert_ne!(compute(&obj).expect("an object").status, Status::NotFound);
}

#[test]
fn with_wait_for_jobs_a_job_is_current_only_once_complete() {
    let options = Options { wait_for_jobs: true };
    let running = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "status": {"startTime": "2024-06-01T11:00:00Z", "active": 1},
    });
    assert_eq!(compute(&running).unwrap().status, Status::Current);
    let waited = compute_with(&running, options).unwrap();
    assert_eq!((waited.status, waited.reason.as_deref()), (Status::InProgress, Some("JobRunning")));
    let mut complete = running.clone();
    complete["status"]["conditions"] = serde_json::json!([{"type": "Complete", "status": "True"}]);
    assert_eq!(compute_with(&complete, options).unwrap().status, Status::Current);
    let mut failed = running;
    failed["status"]["conditions"] = serde_json::json!([{"type": "Failed", "status": "True"}]);
    assert_eq!(compute_with(&failed, options).unwrap().status, Status::Failed);
}
