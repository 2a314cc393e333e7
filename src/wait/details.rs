//! The reads behind [`crate::details`]: what the objects still waited for generated, listed in
//! batches, so that a wait can say *why* an object is not Current yet.
//!
//! Per refresh, for the objects still waited for and not Current (an object Current at once is
//! never waited for, so costs nothing here):
//!
//! - one LIST per (kind, namespace) of the waiting objects themselves (the waiter keeps statuses,
//!   not bodies; their UIDs and selectors are needed to find what they own);
//! - per namespace holding a waiting workload: one LIST of Pods — with a label selector when the
//!   workloads' selectors share a key (`app in (web,api)`), else all — and one LIST of ReplicaSets
//!   (when a Deployment waits) or Jobs (when a CronJob waits);
//! - per namespace: one LIST of Events, Warning only unless a PersistentVolumeClaim waits there
//!   (the volume controller reports as Normal Events).
//!
//! Every LIST of related objects is one page of at most [`RELATED_LIMIT`] items: in a namespace
//! busier than that, some details may be missed, never the wait slowed. A failed LIST only means
//! fewer details. Requests go through [`Cluster`], like every read of the waiter.
//!
//! An object that reaches the Failed status (a Deployment past its progress deadline) is read once
//! more the same way when its wait ends, so that its verdict says why too.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use serde_json::Value;

use super::poll::batches;
use crate::cluster::Cluster;
use crate::details::{self, Detail, Related};
use crate::object::{GroupKind, ObjRef};

/// At most this many Pods, ReplicaSets, Jobs or Events are read per namespace and refresh.
pub const RELATED_LIMIT: u32 = 500;

/// How many LISTs run at once.
const CONCURRENCY: usize = 8;

/// The details of each of `waiting` that has any.
pub(crate) async fn fetch(cluster: &Cluster, waiting: &[ObjRef]) -> BTreeMap<ObjRef, Vec<Detail>> {
    let subjects = subjects(cluster, waiting).await;
    let mut by_namespace: BTreeMap<Option<String>, Vec<Value>> = BTreeMap::new();
    for subject in subjects {
        let namespace = subject.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_owned);
        by_namespace.entry(namespace).or_default().push(subject);
    }
    let explained: Vec<Vec<(ObjRef, Vec<Detail>)>> = stream::iter(by_namespace)
        .map(|(namespace, subjects)| async move {
            let related = match &namespace {
                Some(namespace) => related(cluster, namespace, &subjects).await,
                None => Listed::default(),
            };
            let related = related.as_related();
            subjects
                .iter()
                .filter_map(|subject| {
                    let obj = ObjRef::from_value(subject)?;
                    let found = details::explain(subject, &related);
                    (!found.is_empty()).then_some((obj, found))
                })
                .collect()
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    explained.into_iter().flatten().collect()
}

/// The live bodies of `waiting`, one LIST per (kind, namespace).
async fn subjects(cluster: &Cluster, waiting: &[ObjRef]) -> Vec<Value> {
    let listed: Vec<Vec<Value>> = stream::iter(batches(waiting))
        .map(|((gk, namespace), refs)| async move {
            let names: BTreeSet<&str> = refs.iter().map(|r| r.name.as_str()).collect();
            let keep = |item: Value| {
                let name = item.pointer("/metadata/name")?.as_str()?;
                names.contains(name).then_some(item)
            };
            match cluster.list_mapped(&gk, namespace.as_deref(), keep).await {
                Ok(items) => items,
                Err(err) => {
                    tracing::debug!("details: listing {gk} failed: {err}");
                    Vec::new()
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    listed.into_iter().flatten().collect()
}

/// What one namespace's related LISTs returned.
#[derive(Default)]
struct Listed {
    pods: Vec<Value>,
    replica_sets: Vec<Value>,
    jobs: Vec<Value>,
    events: Vec<Value>,
}

impl Listed {
    fn as_related(&self) -> Related<'_> {
        Related { pods: &self.pods, replica_sets: &self.replica_sets, jobs: &self.jobs, events: &self.events }
    }
}

/// Lists what the `subjects` of `namespace` may have generated, and the namespace's Events.
async fn related(cluster: &Cluster, namespace: &str, subjects: &[Value]) -> Listed {
    let kind_of = |s: &Value| {
        let gk = GroupKind::from_api_version(
            s.get("apiVersion").and_then(Value::as_str).unwrap_or_default(),
            s.get("kind").and_then(Value::as_str).unwrap_or_default(),
        );
        (gk.group, gk.kind)
    };
    let kinds: Vec<(String, String)> = subjects.iter().map(kind_of).collect();
    let has = |kind: &str| kinds.iter().any(|(_, k)| k == kind);
    let workloads: Vec<&Value> = subjects
        .iter()
        .zip(&kinds)
        .filter(|(_, (group, kind))| details::reads_pods(group, kind) && kind != "Pod")
        .map(|(s, _)| s)
        .collect();
    let selector = common_selector(&workloads);
    let list = |group: &'static str,
                kind: &'static str,
                labels: Option<String>,
                fields: Option<&'static str>| async move {
        let gk = GroupKind::new(group, kind);
        cluster
            .list_first(&gk, Some(namespace), labels.as_deref(), fields, RELATED_LIMIT)
            .await
            .unwrap_or_else(|err| {
                tracing::debug!("details: listing {kind} in {namespace} failed: {err}");
                Vec::new()
            })
    };
    let wants_pods = !workloads.is_empty();
    let events_filter = (!has("PersistentVolumeClaim")).then_some("type=Warning");
    let (pods, replica_sets, jobs, events) = futures::join!(
        async { if wants_pods { list("", "Pod", selector.clone(), None).await } else { Vec::new() } },
        async {
            if has("Deployment") {
                list("apps", "ReplicaSet", selector.clone(), None).await
            } else {
                Vec::new()
            }
        },
        async { if has("CronJob") { list("batch", "Job", None, None).await } else { Vec::new() } },
        list("", "Event", None, events_filter),
    );
    Listed { pods, replica_sets, jobs, events }
}

/// A label selector every Pod of every one of `workloads` matches: all of one workload's
/// `matchLabels`, or `key in (values)` for a key all of them select on; None when there is none
/// (a workload without `matchLabels`, or no key in common): then every Pod is listed.
fn common_selector(workloads: &[&Value]) -> Option<String> {
    let labels: Vec<&serde_json::Map<String, Value>> = workloads
        .iter()
        .map(|w| w.pointer("/spec/selector/matchLabels").and_then(Value::as_object))
        .collect::<Option<_>>()?;
    match labels.as_slice() {
        [] => None,
        [only] => {
            let pairs: Vec<String> =
                only.iter().filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?))).collect();
            (!pairs.is_empty()).then(|| pairs.join(","))
        }
        [first, rest @ ..] => {
            let key = first.keys().find(|key| rest.iter().all(|l| l.contains_key(*key)))?;
            let values: BTreeSet<&str> = labels.iter().filter_map(|l| l.get(key)?.as_str()).collect();
            Some(format!("{key} in ({})", values.into_iter().collect::<Vec<_>>().join(",")))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn workload(labels: Value) -> Value {
        json!({"spec": {"selector": {"matchLabels": labels}}})
    }

    #[test]
    fn pods_are_selected_by_the_labels_the_workloads_share() {
        let web = workload(json!({"app": "web", "tier": "front"}));
        let api = workload(json!({"app": "api"}));
        assert_eq!(common_selector(&[&web]).as_deref(), Some("app=web,tier=front"));
        assert_eq!(common_selector(&[&web, &api]).as_deref(), Some("app in (api,web)"));
        let other = workload(json!({"name": "x"}));
        assert_eq!(common_selector(&[&web, &other]), None);
        assert_eq!(common_selector(&[&web, &json!({"kind": "CronJob"})]), None);
        assert_eq!(common_selector(&[]), None);
    }
}
