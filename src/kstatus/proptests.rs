//! Properties: `compute` never panics, errs only on non-objects, always explains itself, and keeps the
//! condition invariant.

use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::golden::check_conditions;
use super::{Error, compute_at};

/// Keys the rules read, so generated objects reach deep branches instead of only unknown fields.
const KEYS: &[&str] = &[
    "status",
    "spec",
    "metadata",
    "conditions",
    "type",
    "reason",
    "message",
    "replicas",
    "readyReplicas",
    "updatedReplicas",
    "availableReplicas",
    "fullyLabeledReplicas",
    "currentReplicas",
    "observedGeneration",
    "generation",
    "deletionTimestamp",
    "creationTimestamp",
    "phase",
    "containerStatuses",
    "name",
    "state",
    "waiting",
    "startTime",
    "succeeded",
    "failed",
    "active",
    "completions",
    "parallelism",
    "updateStrategy",
    "rollingUpdate",
    "partition",
    "currentRevision",
    "updateRevision",
    "desiredNumberScheduled",
    "currentNumberScheduled",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberReady",
    "clusterIP",
    "progressDeadlineSeconds",
];

/// Strings the rules compare against, mixed with arbitrary ones.
const WORDS: &[&str] = &[
    "True",
    "False",
    "Unknown",
    "true",
    "Ready",
    "Reconciling",
    "Stalled",
    "Progressing",
    "Available",
    "ProgressDeadlineExceeded",
    "NewReplicaSetAvailable",
    "ReplicaFailure",
    "Running",
    "Pending",
    "Succeeded",
    "Failed",
    "PodScheduled",
    "Unschedulable",
    "CrashLoopBackOff",
    "Complete",
    "Suspended",
    "Bound",
    "LoadBalancer",
    "OnDelete",
    "Established",
    "NamesAccepted",
    "Installing",
    "2024-06-01T12:00:00Z",
    "3",
    "-1",
    "1.5",
    "",
];

/// The kinds with a rule of their own, plus two without.
const KINDS: &[(&str, &str)] = &[
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Pod"),
    ("v1", "Namespace"),
    ("apps/v1", "Deployment"),
    ("extensions/v1beta1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("policy/v1", "PodDisruptionBudget"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("example.com/v1", "Widget"),
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => "[a-zA-Z]{0,8}"]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        proptest::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

/// Arbitrary JSON, weighted towards the shapes Kubernetes objects have.
fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A condition-shaped entry whose fields may still be anything.
fn condition() -> impl Strategy<Value = Value> {
    let word = || prop_oneof![3 => proptest::sample::select(WORDS).prop_map(Value::from), 1 => scalar()];
    (word(), word(), word(), word()).prop_map(|(type_, status, reason, message)| {
        json!({"type": type_, "status": status, "reason": reason, "message": message})
    })
}

/// An object of a known kind with arbitrary metadata, spec and status subtrees.
fn known_kind_object() -> impl Strategy<Value = Value> {
    let conditions = prop_oneof![
        3 => proptest::collection::vec(condition(), 0..4).prop_map(Value::Array),
        1 => json_value(),
    ];
    (proptest::sample::select(KINDS), json_value(), json_value(), json_value(), conditions, json_value())
        .prop_map(|((api_version, kind), metadata, spec, mut status, conditions, generation)| {
            if let Value::Object(map) = &mut status {
                map.insert("conditions".into(), conditions);
            }
            let mut metadata = metadata;
            if let Value::Object(map) = &mut metadata {
                map.insert("generation".into(), generation);
            }
            json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec, "status": status})
        })
}

fn now() -> impl Strategy<Value = Timestamp> {
    // 1970 to 2100, around the fixed creation time used in WORDS.
    (0i64..4_102_444_800).prop_map(|s| Timestamp::from_second(s).expect("within jiff's range"))
}

/// Whether `value` has what `compute` requires of a Kubernetes object.
fn is_kubernetes_object(value: &Value) -> bool {
    let non_empty = |key| value.get(key).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    value.is_object() && non_empty("kind") && non_empty("apiVersion")
}

proptest! {
    #[test]
    fn compute_never_panics_and_errs_only_on_non_objects(value in json_value(), now in now()) {
        match compute_at(&value, now) {
            Ok(result) => {
                prop_assert!(is_kubernetes_object(&value));
                prop_assert_eq!(check_conditions(&result), Ok(()));
            }
            Err(Error::NotAnObject(_) | Error::MissingKind | Error::MissingApiVersion) => {
                prop_assert!(!is_kubernetes_object(&value));
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn compute_never_panics_on_known_kinds_with_arbitrary_status(obj in known_kind_object(), now in now()) {
        let result = compute_at(&obj, now);
        prop_assert!(result.is_ok(), "{:?}", result);
        if let Ok(result) = result {
            prop_assert_eq!(check_conditions(&result), Ok(()));
            prop_assert!(!result.message.is_empty(), "{:?}", result);
        }
    }
}
