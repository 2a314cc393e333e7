//! The corpus of the differential test: cli-utils' own test cases (transcribed as data in
//! `tests/fixtures/kstatus-reference/cli-utils-cases.json`) and generated variations of every kind
//! kapply has a rule for. Deterministic: no randomness, every variation is an exhaustive product of
//! small value lists, so a failure names a case that exists again on the next run.

use serde_json::{Map, Value, json};

/// One object of the corpus, named after how it was built.
pub struct Case {
    pub name: String,
    pub object: Value,
}

/// A case of cli-utils' own tests, with what that test expects.
#[derive(serde::Deserialize)]
pub struct Transcribed {
    pub test: String,
    pub name: String,
    pub object: Value,
    pub expect: TranscribedExpect,
    /// The test exists only after the pinned release (cli-utils' master), so the pinned reference is
    /// not expected to pass it; kapply, which follows master there, is.
    #[serde(default)]
    pub unreleased: bool,
}

#[derive(serde::Deserialize)]
pub struct TranscribedExpect {
    pub status: String,
    pub reason: Option<String>,
}

pub fn transcribed() -> Vec<Transcribed> {
    let text = include_str!("../fixtures/kstatus-reference/cli-utils-cases.json");
    serde_json::from_str(text).expect("cli-utils-cases.json parses")
}

/// Collects cases, naming each `<group>/<detail>`.
#[derive(Default)]
struct Corpus(Vec<Case>);

impl Corpus {
    fn add(&mut self, name: impl Into<String>, object: Value) {
        self.0.push(Case { name: name.into(), object });
    }
}

/// Builds an object; `None` parts are left out.
fn object(api_version: &str, kind: &str, meta: Value, spec: Option<Value>, status: Option<Value>) -> Value {
    let mut metadata = json!({"name": "x", "namespace": "default"});
    merge(&mut metadata, meta);
    let mut obj = json!({"apiVersion": api_version, "kind": kind, "metadata": metadata});
    if let Some(spec) = spec {
        obj["spec"] = spec;
    }
    if let Some(status) = status {
        obj["status"] = status;
    }
    obj
}

/// Shallow merge of `extra`'s keys into `into`, both objects.
fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

/// A map holding only the keys whose value is not `None`.
fn sparse(entries: &[(&str, Option<Value>)]) -> Value {
    let map: Map<String, Value> =
        entries.iter().filter_map(|(k, v)| v.clone().map(|v| ((*k).to_owned(), v))).collect();
    Value::Object(map)
}

fn cond(type_: &str, status: &str, reason: &str) -> Value {
    let mut c = json!({"type": type_, "status": status});
    if !reason.is_empty() {
        c["reason"] = json!(reason);
        c["message"] = json!(format!("{type_} is {status} because {reason}"));
    }
    c
}

/// Every ordered selection of one or two distinct items of `pool` (and the empty list).
fn orderings(pool: &[Value]) -> Vec<Vec<Value>> {
    let mut out = vec![vec![]];
    for (i, a) in pool.iter().enumerate() {
        out.push(vec![a.clone()]);
        for (j, b) in pool.iter().enumerate() {
            if i != j {
                out.push(vec![a.clone(), b.clone()]);
            }
        }
    }
    out
}

/// Every permutation of `items` (small lists only).
fn permutations(items: &[Value]) -> Vec<Vec<Value>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            out.push(tail);
        }
    }
    out
}

fn label(v: &Option<Value>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), Value::to_string)
}

/// The whole generated corpus.
pub fn generated() -> Vec<Case> {
    let mut c = Corpus::default();
    generic_rules(&mut c);
    deployments(&mut c);
    replica_sets(&mut c);
    stateful_sets(&mut c);
    daemon_sets(&mut c);
    pods(&mut c);
    jobs(&mut c);
    simple_kinds(&mut c);
    crds(&mut c);
    odd_values(&mut c);
    c.0
}

/// The kinds of every rule, each as a plausible healthy object, for the generic layers.
fn every_kind() -> Vec<(&'static str, &'static str, Option<Value>, Option<Value>)> {
    vec![
        ("v1", "ConfigMap", None, None),
        ("v1", "Secret", None, None),
        ("v1", "Namespace", None, Some(json!({"phase": "Active"}))),
        ("v1", "Service", Some(json!({"type": "ClusterIP", "clusterIP": "10.0.0.1"})), Some(json!({}))),
        ("v1", "PersistentVolumeClaim", None, Some(json!({"phase": "Bound"}))),
        ("v1", "Pod", None, Some(json!({"phase": "Running", "conditions": [cond("Ready", "True", "")]}))),
        (
            "apps/v1",
            "Deployment",
            Some(json!({"replicas": 1})),
            Some(json!({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                "conditions": [cond("Available", "True", "MinimumReplicasAvailable")]})),
        ),
        (
            "apps/v1",
            "ReplicaSet",
            Some(json!({"replicas": 1})),
            Some(
                json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "fullyLabeledReplicas": 1}),
            ),
        ),
        (
            "apps/v1",
            "StatefulSet",
            Some(json!({"replicas": 1})),
            Some(json!({"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1,
                "currentRevision": "r1", "updateRevision": "r1"})),
        ),
        (
            "apps/v1",
            "DaemonSet",
            None,
            Some(
                json!({"desiredNumberScheduled": 1, "currentNumberScheduled": 1, "updatedNumberScheduled": 1,
                "numberAvailable": 1, "numberReady": 1}),
            ),
        ),
        ("batch/v1", "Job", None, Some(json!({"startTime": "2024-01-01T00:00:00Z"}))),
        ("batch/v1", "CronJob", None, Some(json!({}))),
        ("policy/v1", "PodDisruptionBudget", None, Some(json!({"disruptionsAllowed": 1}))),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            Some(json!({"conditions": [cond("Established", "True", "InitialNamesAccepted")]})),
        ),
        ("example.com/v1", "Widget", None, Some(json!({}))),
    ]
}

/// Rules 1, 2, 3 and 5 over every kind: deletion, generations, Reconciling/Stalled/Ready in every
/// order.
fn generic_rules(c: &mut Corpus) {
    let generations: [(Option<Value>, Option<Value>); 7] = [
        (None, None),
        (Some(json!(1)), None),
        (None, Some(json!(1))),
        (Some(json!(1)), Some(json!(1))),
        (Some(json!(2)), Some(json!(1))),
        (Some(json!(1)), Some(json!(2))),
        (Some(json!(9_223_372_036_854_775_807_i64)), Some(json!(9_223_372_036_854_775_807_i64))),
    ];
    let deletions = [None, Some(json!("2024-01-01T00:00:00Z")), Some(json!(""))];
    let pool = [
        cond("Reconciling", "True", "Progressing"),
        cond("Stalled", "True", "Stuck"),
        cond("Ready", "False", "Waiting"),
        cond("Ready", "True", ""),
        cond("Reconciling", "False", ""),
        cond("Stalled", "Unknown", ""),
        cond("Ready", "Unknown", ""),
        cond("Stalled", "True", ""),
    ];
    for (api_version, kind, spec, status) in every_kind() {
        for (gi, (generation, observed)) in generations.iter().enumerate() {
            for (di, deletion) in deletions.iter().enumerate() {
                let meta =
                    sparse(&[("generation", generation.clone()), ("deletionTimestamp", deletion.clone())]);
                let mut status = status.clone().unwrap_or_else(|| json!({}));
                if let Some(observed) = observed {
                    status["observedGeneration"] = observed.clone();
                }
                if kind == "DaemonSet" && generation.is_some() && observed.is_none() {
                    // Also the DaemonSet's own generation rule.
                    c.add(format!("generic/{kind}/gen{gi}/del{di}/no-observed"), {
                        let mut s = status.clone();
                        s.as_object_mut().unwrap().remove("observedGeneration");
                        object(api_version, kind, meta.clone(), spec.clone(), Some(s))
                    });
                }
                c.add(
                    format!("generic/{kind}/gen{gi}/del{di}"),
                    object(api_version, kind, meta, spec.clone(), Some(status)),
                );
            }
        }
        for (oi, conditions) in orderings(&pool).into_iter().enumerate() {
            let mut status = status.clone().unwrap_or_else(|| json!({}));
            let mut all = status.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
            all.extend(conditions);
            status["conditions"] = Value::Array(all);
            status["observedGeneration"] = json!(1);
            c.add(
                format!("conditions/{kind}/{oi}"),
                object(api_version, kind, json!({"generation": 1}), spec.clone(), Some(status)),
            );
        }
    }
}

/// A count relative to `spec`: absent, one less, equal, one more.
fn relative(spec: i64) -> [Option<Value>; 4] {
    [None, Some(json!((spec - 1).max(0))), Some(json!(spec)), Some(json!(spec + 1))]
}

fn deployments(c: &mut Corpus) {
    for spec_replicas in [None, Some(0), Some(3)] {
        let spec = spec_replicas.unwrap_or(1);
        let counts = relative(spec);
        for replicas in &counts {
            for updated in &counts {
                for ready in &counts {
                    for available in &counts {
                        let status = sparse(&[
                            ("observedGeneration", Some(json!(1))),
                            ("replicas", replicas.clone()),
                            ("updatedReplicas", updated.clone()),
                            ("readyReplicas", ready.clone()),
                            ("availableReplicas", available.clone()),
                        ]);
                        let mut status = status;
                        status["conditions"] = json!([
                            cond("Progressing", "True", "NewReplicaSetAvailable"),
                            cond("Available", "True", "MinimumReplicasAvailable"),
                        ]);
                        c.add(
                            format!(
                                "deployment/counts/spec{}/r{}/u{}/rd{}/a{}",
                                label(&spec_replicas.map(Value::from)),
                                label(replicas),
                                label(updated),
                                label(ready),
                                label(available)
                            ),
                            object(
                                "apps/v1",
                                "Deployment",
                                json!({"generation": 1}),
                                Some(sparse(&[("replicas", spec_replicas.map(Value::from))])),
                                Some(status),
                            ),
                        );
                    }
                }
            }
        }
    }
    let pool = [
        cond("Progressing", "True", "NewReplicaSetAvailable"),
        cond("Progressing", "True", "ReplicaSetUpdated"),
        cond("Progressing", "False", "ProgressDeadlineExceeded"),
        cond("Progressing", "Unknown", ""),
        cond("Available", "True", "MinimumReplicasAvailable"),
        cond("Available", "False", "MinimumReplicasUnavailable"),
        cond("ReplicaFailure", "True", "FailedCreate"),
    ];
    let deadlines = [None, Some(json!(600)), Some(json!(2_147_483_647)), Some(json!(0)), Some(json!(-1))];
    for (di, deadline) in deadlines.iter().enumerate() {
        for (oi, conditions) in orderings(&pool).into_iter().enumerate() {
            for api_version in ["apps/v1", "extensions/v1beta1"] {
                c.add(
                    format!("deployment/conditions/{api_version}/deadline{di}/{oi}"),
                    object(
                        api_version,
                        "Deployment",
                        json!({"generation": 2}),
                        Some(sparse(&[
                            ("replicas", Some(json!(2))),
                            ("progressDeadlineSeconds", deadline.clone()),
                        ])),
                        Some(json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
                            "readyReplicas": 2, "availableReplicas": 2, "conditions": conditions})),
                    ),
                );
            }
        }
    }
}

fn replica_sets(c: &mut Corpus) {
    for spec_replicas in [None, Some(0), Some(2)] {
        let spec = spec_replicas.unwrap_or(1);
        let counts = relative(spec);
        for replicas in &counts {
            for labelled in &counts {
                for ready in &counts {
                    for available in &counts {
                        for failure in ["", "True", "False"] {
                            let mut status = sparse(&[
                                ("replicas", replicas.clone()),
                                ("fullyLabeledReplicas", labelled.clone()),
                                ("readyReplicas", ready.clone()),
                                ("availableReplicas", available.clone()),
                            ]);
                            if !failure.is_empty() {
                                status["conditions"] =
                                    json!([cond("ReplicaFailure", failure, "FailedCreate")]);
                            }
                            c.add(
                                format!(
                                    "replicaset/spec{}/r{}/l{}/rd{}/a{}/failure{failure}",
                                    label(&spec_replicas.map(Value::from)),
                                    label(replicas),
                                    label(labelled),
                                    label(ready),
                                    label(available)
                                ),
                                object(
                                    "apps/v1",
                                    "ReplicaSet",
                                    json!({}),
                                    Some(sparse(&[("replicas", spec_replicas.map(Value::from))])),
                                    Some(status),
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn stateful_sets(c: &mut Corpus) {
    let strategies = [
        None,
        Some(json!({"type": "OnDelete"})),
        Some(json!({"type": "RollingUpdate"})),
        Some(json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})),
        Some(json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}})),
        Some(json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 3}})),
        Some(json!({"type": "RollingUpdate", "rollingUpdate": {"partition": -1}})),
        Some(json!({"rollingUpdate": {"partition": 2}})),
    ];
    let revisions =
        [(None, None), (Some(json!("r1")), Some(json!("r1"))), (Some(json!("r1")), Some(json!("r2")))];
    for (si, strategy) in strategies.iter().enumerate() {
        for spec_replicas in [None, Some(3)] {
            let spec = spec_replicas.unwrap_or(1);
            let counts = relative(spec);
            for replicas in &counts {
                for ready in &counts {
                    for current in &counts {
                        for updated in &counts {
                            for (ri, (current_rev, update_rev)) in revisions.iter().enumerate() {
                                let status = sparse(&[
                                    ("replicas", replicas.clone()),
                                    ("readyReplicas", ready.clone()),
                                    ("currentReplicas", current.clone()),
                                    ("updatedReplicas", updated.clone()),
                                    ("currentRevision", current_rev.clone()),
                                    ("updateRevision", update_rev.clone()),
                                ]);
                                let spec_obj = sparse(&[
                                    ("replicas", spec_replicas.map(Value::from)),
                                    ("updateStrategy", strategy.clone()),
                                ]);
                                c.add(
                                    format!(
                                        "statefulset/strategy{si}/spec{}/r{}/rd{}/c{}/u{}/rev{ri}",
                                        label(&spec_replicas.map(Value::from)),
                                        label(replicas),
                                        label(ready),
                                        label(current),
                                        label(updated)
                                    ),
                                    object("apps/v1", "StatefulSet", json!({}), Some(spec_obj), Some(status)),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

fn daemon_sets(c: &mut Corpus) {
    let desired_values = [None, Some(json!(0)), Some(json!(2)), Some(json!(-1))];
    let counts = [None, Some(json!(1)), Some(json!(2)), Some(json!(3))];
    for (gi, (generation, observed)) in
        [(None, None), (Some(json!(1)), None), (None, Some(json!(1))), (Some(json!(1)), Some(json!(1)))]
            .iter()
            .enumerate()
    {
        for desired in &desired_values {
            for current in &counts {
                for updated in &counts {
                    for available in &counts {
                        for ready in &counts {
                            let status = sparse(&[
                                ("observedGeneration", observed.clone()),
                                ("desiredNumberScheduled", desired.clone()),
                                ("currentNumberScheduled", current.clone()),
                                ("updatedNumberScheduled", updated.clone()),
                                ("numberAvailable", available.clone()),
                                ("numberReady", ready.clone()),
                            ]);
                            for api_version in ["apps/v1", "extensions/v1beta1"] {
                                c.add(
                                    format!(
                                        "daemonset/{api_version}/gen{gi}/d{}/c{}/u{}/a{}/r{}",
                                        label(desired),
                                        label(current),
                                        label(updated),
                                        label(available),
                                        label(ready)
                                    ),
                                    object(
                                        api_version,
                                        "DaemonSet",
                                        sparse(&[("generation", generation.clone())]),
                                        None,
                                        Some(status.clone()),
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

fn pods(c: &mut Corpus) {
    let phases = [
        None,
        Some(""),
        Some("Pending"),
        Some("Running"),
        Some("Succeeded"),
        Some("Failed"),
        Some("Unknown"),
    ];
    let condition_sets = [
        vec![],
        vec![cond("Ready", "True", "")],
        vec![cond("Ready", "False", "ContainersNotReady")],
        vec![cond("PodScheduled", "False", "Unschedulable")],
        vec![cond("PodScheduled", "False", "SchedulerError")],
        vec![cond("PodScheduled", "True", ""), cond("Ready", "True", "")],
        vec![cond("Ready", "False", ""), cond("Ready", "True", "")],
        vec![cond("PodScheduled", "False", "Unschedulable"), cond("PodScheduled", "True", "")],
    ];
    let containers = [
        None,
        Some(json!([])),
        Some(json!([{"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])),
        Some(json!([{"name": "a", "state": {"running": {}}},
            {"name": "b", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            {"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])),
        Some(json!([{"name": "a", "state": {"waiting": {"reason": "ImagePullBackOff"}}}])),
        Some(json!([{"name": "a", "state": {"waiting": {}}}])),
        Some(json!([{"name": "a"}])),
        Some(json!([{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}])),
    ];
    // Far in the past (outside the scheduling window) and far in the future (always inside it), so
    // the verdict never depends on when the test runs.
    let created = [None, Some(json!("2020-01-01T00:00:00Z")), Some(json!("2999-01-01T00:00:00Z"))];
    for phase in phases {
        for (ci, conditions) in condition_sets.iter().enumerate() {
            for (ki, container_statuses) in containers.iter().enumerate() {
                for (ti, creation) in created.iter().enumerate() {
                    let mut status = sparse(&[
                        ("phase", phase.map(Value::from)),
                        ("containerStatuses", container_statuses.clone()),
                    ]);
                    if !conditions.is_empty() {
                        status["conditions"] = Value::Array(conditions.clone());
                    }
                    c.add(
                        format!("pod/{}/cond{ci}/containers{ki}/created{ti}", phase.unwrap_or("-")),
                        object(
                            "v1",
                            "Pod",
                            sparse(&[("creationTimestamp", creation.clone())]),
                            None,
                            Some(status),
                        ),
                    );
                }
            }
        }
    }
}

fn jobs(c: &mut Corpus) {
    let pool = [
        cond("Complete", "True", ""),
        cond("Failed", "True", "BackoffLimitExceeded"),
        cond("Suspended", "True", "JobSuspended"),
        cond("Complete", "False", ""),
        cond("Failed", "False", ""),
        cond("Suspended", "False", "JobResumed"),
        cond("FailureTarget", "True", "BackoffLimitExceeded"),
        cond("SuccessCriteriaMet", "True", "CompletionsReached"),
    ];
    let suspends = [None, Some(json!(true)), Some(json!(false))];
    let starts = [None, Some(json!("2024-01-01T00:00:00Z"))];
    let shapes = [
        json!({}),
        json!({"completions": 3, "parallelism": 2}),
        json!({"parallelism": 4}),
        json!({"completions": 0}),
    ];
    for (oi, conditions) in orderings(&pool).into_iter().enumerate() {
        for (si, suspend) in suspends.iter().enumerate() {
            for (ti, start) in starts.iter().enumerate() {
                let shape = &shapes[oi % shapes.len()];
                let mut spec = shape.clone();
                if let Some(suspend) = suspend {
                    spec["suspend"] = suspend.clone();
                }
                let mut status = sparse(&[
                    ("startTime", start.clone()),
                    ("succeeded", Some(json!(oi % 3))),
                    ("failed", Some(json!(oi % 2))),
                    ("active", Some(json!(si))),
                ]);
                status["conditions"] = Value::Array(conditions.clone());
                c.add(
                    format!("job/{oi}/suspend{si}/start{ti}"),
                    object("batch/v1", "Job", json!({}), Some(spec), Some(status)),
                );
            }
        }
    }
    // All three decisive conditions at once, in every order.
    let decisive = [pool[0].clone(), pool[1].clone(), pool[2].clone()];
    for (pi, conditions) in permutations(&decisive).into_iter().enumerate() {
        for (si, suspend) in suspends.iter().enumerate() {
            let spec = sparse(&[("suspend", suspend.clone())]);
            c.add(
                format!("job/all-decisive/{pi}/suspend{si}"),
                object("batch/v1", "Job", json!({}), Some(spec), Some(json!({"conditions": conditions}))),
            );
        }
    }
}

fn simple_kinds(c: &mut Corpus) {
    let types = [None, Some("ClusterIP"), Some("NodePort"), Some("LoadBalancer"), Some("ExternalName")];
    let ips = [None, Some(""), Some("None"), Some("10.0.0.7")];
    for service_type in types {
        for ip in ips {
            for ingress in [false, true] {
                let spec =
                    sparse(&[("type", service_type.map(Value::from)), ("clusterIP", ip.map(Value::from))]);
                let status = ingress.then(|| json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}));
                c.add(
                    format!("service/{}/{}/ingress{ingress}", service_type.unwrap_or("-"), ip.unwrap_or("-")),
                    object("v1", "Service", json!({}), Some(spec), status),
                );
            }
        }
    }
    for phase in [None, Some(""), Some("Pending"), Some("Bound"), Some("Lost"), Some("bound")] {
        for ready in ["", "True", "False"] {
            let mut status = sparse(&[("phase", phase.map(Value::from))]);
            if !ready.is_empty() {
                status["conditions"] = json!([cond("Ready", ready, "")]);
            }
            c.add(
                format!("pvc/{}/ready{ready}", phase.unwrap_or("-")),
                object("v1", "PersistentVolumeClaim", json!({}), None, Some(status)),
            );
        }
    }
    for (api_version, kind) in [
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("batch/v1", "CronJob"),
        ("batch/v1beta1", "CronJob"),
        ("policy/v1", "PodDisruptionBudget"),
        ("policy/v1beta1", "PodDisruptionBudget"),
        ("v1", "Namespace"),
        ("example.com/v1", "Widget"),
        ("apps/v1", "ControllerRevision"),
        ("example.com/v1", "Deployment"),
        ("extensions/v1beta1", "StatefulSet"),
    ] {
        for ready in ["", "True", "False", "Unknown", "Maybe"] {
            for extra in ["", "DisruptionAllowed", "Available"] {
                let mut conditions = Vec::new();
                if !extra.is_empty() {
                    conditions.push(cond(extra, "False", "InsufficientPods"));
                }
                if !ready.is_empty() {
                    conditions.push(cond("Ready", ready, "NotYet"));
                }
                c.add(
                    format!("simple/{api_version}/{kind}/ready{ready}/{extra}"),
                    object(
                        api_version,
                        kind,
                        json!({"generation": 1}),
                        None,
                        Some(json!({"observedGeneration": 1, "conditions": conditions})),
                    ),
                );
            }
        }
    }
}

fn crds(c: &mut Corpus) {
    let pool = [
        cond("NamesAccepted", "True", "NoConflicts"),
        cond("NamesAccepted", "False", "MultipleNames"),
        cond("NamesAccepted", "Unknown", ""),
        cond("Established", "True", "InitialNamesAccepted"),
        cond("Established", "False", "Installing"),
        cond("Established", "False", "NotAccepted"),
        cond("Established", "Unknown", ""),
        cond("Terminating", "True", "InstanceDeletionInProgress"),
    ];
    for (oi, conditions) in orderings(&pool).into_iter().enumerate() {
        for api_version in ["apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"] {
            c.add(
                format!("crd/{api_version}/{oi}"),
                object(
                    api_version,
                    "CustomResourceDefinition",
                    json!({"generation": 1}),
                    None,
                    Some(json!({"conditions": conditions})),
                ),
            );
        }
    }
}

/// Values an API server would not return for these built-in fields, and values it would return but
/// that code commonly mishandles: integers as strings and floats, extremes, booleans, nulls, lists and
/// objects where scalars belong, null list items, odd condition statuses.
fn odd_values(c: &mut Corpus) {
    let odd = [
        json!(null),
        json!("3"),
        json!(" 3 "),
        json!("abc"),
        json!(3.0),
        json!(2.5),
        json!(1e20),
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(true),
        json!([]),
        json!({}),
    ];
    let int_fields: [(&str, &str, &[&str]); 12] = [
        ("apps/v1", "Deployment", &["spec", "replicas"]),
        ("apps/v1", "Deployment", &["status", "readyReplicas"]),
        ("apps/v1", "Deployment", &["spec", "progressDeadlineSeconds"]),
        ("apps/v1", "ReplicaSet", &["status", "availableReplicas"]),
        ("apps/v1", "StatefulSet", &["spec", "updateStrategy", "rollingUpdate", "partition"]),
        ("apps/v1", "StatefulSet", &["status", "replicas"]),
        ("apps/v1", "DaemonSet", &["status", "desiredNumberScheduled"]),
        ("apps/v1", "DaemonSet", &["status", "numberReady"]),
        ("batch/v1", "Job", &["spec", "completions"]),
        ("example.com/v1", "Widget", &["metadata", "generation"]),
        ("example.com/v1", "Widget", &["status", "observedGeneration"]),
        ("apps/v1", "Deployment", &["metadata", "generation"]),
    ];
    let healthy = every_kind();
    for (api_version, kind, path) in int_fields {
        let (_, _, spec, status) =
            healthy.iter().find(|(a, k, _, _)| *a == api_version && *k == kind).unwrap();
        for (vi, value) in odd.iter().enumerate() {
            let mut obj = object(api_version, kind, json!({"generation": 2}), spec.clone(), status.clone());
            obj["status"]["observedGeneration"] = json!(2);
            if kind == "StatefulSet" {
                obj["spec"]["replicas"] = json!(3);
                obj["status"] =
                    json!({"replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 1});
            }
            set(&mut obj, path, value.clone());
            c.add(format!("odd/{kind}/{}/{vi}", path.join(".")), obj);
        }
    }
    // Strings read by rules, holding other types.
    let string_fields: [(&str, &str, &[&str]); 6] = [
        ("v1", "Service", &["spec", "type"]),
        ("v1", "PersistentVolumeClaim", &["status", "phase"]),
        ("v1", "Pod", &["status", "phase"]),
        ("apps/v1", "StatefulSet", &["status", "updateRevision"]),
        ("batch/v1", "Job", &["status", "startTime"]),
        ("example.com/v1", "Widget", &["metadata", "deletionTimestamp"]),
    ];
    for (api_version, kind, path) in string_fields {
        let (_, _, spec, status) =
            healthy.iter().find(|(a, k, _, _)| *a == api_version && *k == kind).unwrap();
        for (vi, value) in
            [json!(null), json!(7), json!(true), json!(["x"]), json!({"a": 1}), json!("")].iter().enumerate()
        {
            let mut obj = object(api_version, kind, json!({}), spec.clone(), status.clone());
            set(&mut obj, path, value.clone());
            c.add(format!("odd/{kind}/{}/{vi}", path.join(".")), obj);
        }
    }
    // Condition lists and entries of odd shapes, on a custom resource and on kinds with rules.
    let condition_lists = [
        json!(null),
        json!("Ready"),
        json!({}),
        json!([null]),
        json!([null, {"type": "Ready", "status": "False", "reason": "Waiting"}]),
        json!([{"type": "Stalled", "status": "True"}, null]),
        json!(["Ready"]),
        json!([{"type": "Ready"}]),
        json!([{"status": "True"}]),
        json!([{"type": "Ready", "status": "true"}]),
        json!([{"type": "Ready", "status": "FALSE"}]),
        json!([{"type": "Ready", "status": true}]),
        json!([{"type": "Ready", "status": false}]),
        json!([{"type": "Ready", "status": 1}]),
        json!([{"type": "Ready", "status": null}]),
        json!([{"type": "Reconciling", "status": "true"}]),
        json!([{"type": "Stalled", "status": " True "}]),
        json!([{"type": 7, "status": "True"}]),
        json!([{"type": "Ready", "status": "False", "reason": 3}]),
        json!([{"type": "Ready", "status": "False", "message": ["m"]}]),
        json!([{"type": "Ready", "status": "False", "reason": null, "message": null}]),
        json!([{"type": "Ready", "status": "Maybe"}, {"type": "Ready", "status": "False"}]),
        json!([{"type": "Ready", "status": "False", "lastTransitionTime": 5}]),
    ];
    for (api_version, kind, spec, status) in &healthy {
        for (li, list) in condition_lists.iter().enumerate() {
            let mut status = status.clone().unwrap_or_else(|| json!({}));
            status["conditions"] = list.clone();
            c.add(
                format!("odd-conditions/{kind}/{li}"),
                object(api_version, kind, json!({}), spec.clone(), Some(status)),
            );
        }
    }
    for (si, status) in [json!(null), json!("Ready"), json!([]), json!(1)].iter().enumerate() {
        for (api_version, kind, spec, _) in &healthy {
            c.add(
                format!("odd-status/{kind}/{si}"),
                object(api_version, kind, json!({}), spec.clone(), Some(status.clone())),
            );
        }
    }
    // Container statuses of odd shapes on a running, not ready Pod.
    for (ki, list) in [
        json!(null),
        json!([null]),
        json!([null, {"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]),
        json!(["a"]),
        json!([{"name": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]),
        json!([{"name": "a", "state": null}]),
        json!([{"name": "a", "state": "waiting"}]),
        json!([{"name": "a", "state": {"waiting": null}}]),
        json!([{"name": "a", "state": {"waiting": {"reason": null}}}]),
        json!([{"name": "a", "state": {"waiting": {"reason": 5}}}]),
        json!({}),
    ]
    .iter()
    .enumerate()
    {
        c.add(
            format!("odd-containers/{ki}"),
            object(
                "v1",
                "Pod",
                json!({}),
                None,
                Some(json!({"phase": "Running", "containerStatuses": list})),
            ),
        );
    }
    // A Job's spec.suspend of other types, with a decisive Suspended condition.
    for (vi, suspend) in [json!("true"), json!("True"), json!(1), json!(null), json!("no")].iter().enumerate()
    {
        c.add(
            format!("odd/Job/spec.suspend/{vi}"),
            object(
                "batch/v1",
                "Job",
                json!({}),
                Some(json!({"suspend": suspend})),
                Some(json!({"conditions": [cond("Suspended", "True", "JobSuspended")]})),
            ),
        );
    }
    // Creation timestamps a Pod rule reads.
    for (ti, created) in
        [json!("yesterday"), json!(5), json!(""), json!("2020-01-01T00:00:00+02:00")].iter().enumerate()
    {
        c.add(
            format!("odd/Pod/metadata.creationTimestamp/{ti}"),
            object(
                "v1",
                "Pod",
                json!({"creationTimestamp": created}),
                None,
                Some(json!({"phase": "Pending", "conditions": [cond("PodScheduled", "False", "Unschedulable")]})),
            ),
        );
    }
    // Not quite objects.
    for (i, obj) in [
        json!({"kind": "ConfigMap"}),
        json!({"apiVersion": "v1"}),
        json!({"apiVersion": "v1", "kind": ""}),
        json!({"apiVersion": "", "kind": "Pod"}),
        json!({"apiVersion": 1, "kind": "Pod"}),
        json!({"apiVersion": "v1", "kind": 3}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": "x"}),
        json!({"apiVersion": "a/b/c", "kind": "Deployment", "status": {"replicas": 0}}),
    ]
    .iter()
    .enumerate()
    {
        c.add(format!("not-quite-an-object/{i}"), obj.clone());
    }
}

/// Sets `path` in `obj`, creating objects on the way (replacing whatever is not an object).
fn set(obj: &mut Value, path: &[&str], value: Value) {
    let mut current = obj;
    for segment in &path[..path.len() - 1] {
        if !current.get(*segment).is_some_and(Value::is_object) {
            current[*segment] = json!({});
        }
        current = current.get_mut(*segment).unwrap();
    }
    current[path[path.len() - 1]] = value;
}
