//! The rules against fixtures of real-looking objects: `tests/fixtures/details/*.json`, each a
//! subject, what its namespace listed (`pods`, `replicaSets`, `jobs`, `events`) and the details
//! expected, as their `Display` lines.

use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    subject: Value,
    #[serde(default)]
    pods: Vec<Value>,
    #[serde(default)]
    replica_sets: Vec<Value>,
    #[serde(default)]
    jobs: Vec<Value>,
    #[serde(default)]
    events: Vec<Value>,
    expect: Vec<String>,
}

fn run(json: &str) -> (Vec<String>, Vec<String>) {
    let case: Case = serde_json::from_str(json).expect("a valid fixture");
    let related = Related {
        pods: &case.pods,
        replica_sets: &case.replica_sets,
        jobs: &case.jobs,
        events: &case.events,
    };
    let got = explain(&case.subject, &related).iter().map(ToString::to_string).collect();
    (got, case.expect)
}

macro_rules! fixture_tests {
    ($($test:ident => $file:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let (got, expect) = run(include_str!(concat!("../../tests/fixtures/details/", $file)));
            assert_eq!(got, expect, "{}", $file);
        }
    )*};
}

fixture_tests! {
    a_deployment_names_the_scheduling_failure_of_its_current_replica_sets_pods => "deployment-unschedulable.json",
    a_stateful_set_names_an_image_that_does_not_pull_and_its_warning_event => "statefulset-image-pull.json",
    a_daemon_set_names_a_crash_loop_with_restarts_and_the_last_exit => "daemonset-crashloop.json",
    a_job_names_a_missing_secret_and_an_oom_kill => "job-config-error-and-oom.json",
    a_pod_not_ready_names_the_container_and_the_probe_event => "pod-not-ready.json",
    a_pending_claim_names_its_latest_event_even_a_normal_one => "pvc-pending.json",
    a_cron_job_is_explained_by_its_last_job_only => "cronjob-last-job.json",
    a_custom_resource_names_its_failing_conditions_but_not_ready => "custom-resource.json",
    a_load_balancer_without_ingress_says_so => "service-no-ingress.json",
}

fn fixture(file: &str) -> Case {
    let text =
        std::fs::read_to_string(format!("{}/tests/fixtures/details/{file}", env!("CARGO_MANIFEST_DIR")))
            .expect("fixture");
    serde_json::from_str(&text).expect("a valid fixture")
}

#[test]
fn pods_of_an_old_replica_set_or_another_owner_say_nothing() {
    let case = fixture("deployment-unschedulable.json");
    // Only the old ReplicaSet's (running) Pod: nothing wrong with it.
    let old: Vec<Value> =
        case.pods.iter().filter(|p| p["metadata"]["name"] == "web-5d8f-x").cloned().collect();
    let related = Related { pods: &old, replica_sets: &case.replica_sets, ..Related::default() };
    assert_eq!(explain(&case.subject, &related), Vec::new());
    // The same Pods, but owned by nothing this Deployment owns.
    let related = Related { pods: &case.pods, ..Related::default() };
    assert_eq!(explain(&case.subject, &related), Vec::new());
}

#[test]
fn a_bound_claim_and_a_starting_container_say_nothing() {
    let mut case = fixture("pvc-pending.json");
    case.subject["status"]["phase"] = json!("Bound");
    let related = Related { events: &case.events, ..Related::default() };
    assert_eq!(explain(&case.subject, &related), Vec::new());

    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop", "uid": "u"},
        "status": {"phase": "Pending", "containerStatuses": [
            {"name": "app", "ready": false, "state": {"waiting": {"reason": "ContainerCreating"}}}
        ]},
    });
    assert_eq!(explain(&pod, &Related::default()), Vec::new());
}

#[test]
fn details_are_bounded_and_deduplicated() {
    let statuses: Vec<Value> = (0..6)
        .map(|i| {
            json!({"name": format!("c{i}"), "restartCount": 0,
                         "state": {"waiting": {"reason": "ErrImagePull", "message": format!("image {i}")}}})
        })
        .collect();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop", "uid": "u"},
        "status": {"phase": "Pending", "containerStatuses": statuses},
    });
    assert_eq!(explain(&pod, &Related::default()).len(), MAX_DETAILS);
}

#[test]
fn fail_fast_matches_reasons_without_regard_to_case() {
    let case = fixture("statefulset-image-pull.json");
    let related = Related { pods: &case.pods, events: &case.events, ..Related::default() };
    let details = explain(&case.subject, &related);
    let reasons = |list: &[&str]| list.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        first_matching(&details, &reasons(&["crashloopbackoff", "imagepullbackoff"]))
            .map(|d| d.reason.as_str()),
        Some("ImagePullBackOff")
    );
    assert_eq!(first_matching(&details, &reasons(&["CrashLoopBackOff"])), None);
}

#[test]
fn messages_are_kept_on_one_line_and_carry_no_spec_values() {
    let case = fixture("deployment-unschedulable.json");
    let related = Related {
        pods: &case.pods,
        replica_sets: &case.replica_sets,
        events: &case.events,
        ..Related::default()
    };
    for detail in explain(&case.subject, &related) {
        assert!(!detail.message.contains('\n'));
        // The Pods' env holds a literal value: no rule reads a spec.
        assert!(!detail.message.contains("hunter2"));
    }
}
