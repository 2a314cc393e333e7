//! [`poll`]: the live status of a set of objects, read in batches — one LIST per (kind, namespace) per
//! poll.
//!
//! A GET per object per period would cost `objects × polls` requests; a LIST per batch costs
//! `kinds × namespaces × polls`, which is what lets kapply wait on thousands of objects.
//! Statuses come from [`crate::kstatus`]; an object missing from its list is `NotFound`.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, stream};
use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::kstatus::{self, StatusResult};
use crate::object::{GroupKind, ObjRef};

/// The key of one batched read: a kind and a namespace (None: cluster-scoped objects).
pub type Batch = (GroupKind, Option<String>);

/// How many LISTs a poll runs at once.
const LIST_CONCURRENCY: usize = 8;

/// Groups object references into the batches one poll reads, each batch's refs sorted.
pub fn batches<'a>(refs: impl IntoIterator<Item = &'a ObjRef>) -> BTreeMap<Batch, Vec<ObjRef>> {
    let mut batches: BTreeMap<Batch, Vec<ObjRef>> = BTreeMap::new();
    for r in refs {
        batches.entry((r.group_kind(), r.namespace.clone())).or_default().push(r.clone());
    }
    for refs in batches.values_mut() {
        refs.sort();
    }
    batches
}

/// The batch `obj` belongs to.
pub(crate) fn batch_of(obj: &ObjRef) -> Batch {
    (obj.group_kind(), obj.namespace.clone())
}

/// One object's observed state: its computed status and, when it exists, the live object trimmed to
/// what deciding about it takes ([`trim`]).
#[derive(Debug, Clone)]
pub struct Observed {
    /// The computed status: `NotFound` when the object does not exist, `Unknown` when it could not be
    /// read.
    pub status: StatusResult,
    /// The live object, trimmed; None when it does not exist or could not be read.
    pub live: Option<Value>,
}

/// One batch's refs with what its LIST returned: per listed name, the status and the trimmed object.
type Listed = (Vec<ObjRef>, Result<HashMap<String, (StatusResult, Value)>, ClusterError>);

/// The result of one poll.
#[derive(Debug, Default)]
pub struct Poll {
    /// Every polled ref, with what was observed of it.
    pub observed: BTreeMap<ObjRef, Observed>,
    /// How many LIST requests this poll sent.
    pub lists: usize,
}

/// Reads the status of every ref with one LIST per batch, up to `LIST_CONCURRENCY` (8) LISTs at once.
///
/// A kind the server no longer serves (its CRD was deleted) makes its objects `NotFound`: nothing of
/// that kind can exist. Any other failed LIST makes its objects `Unknown` with the error as message, so
/// one forbidden namespace does not stop the wait on the others.
pub async fn poll(cluster: &Cluster, refs: &[ObjRef]) -> Poll {
    poll_with(cluster, refs, kstatus::Options::default()).await
}

/// [`poll`], computing statuses with `options`' departures from kstatus (`--wait-for-jobs`).
pub async fn poll_with(cluster: &Cluster, refs: &[ObjRef], options: kstatus::Options) -> Poll {
    let batches = batches(refs);
    let lists = batches.len();
    let results: Vec<Listed> = stream::iter(batches)
        .map(|((gk, ns), refs)| async move {
            // Each listed object is reduced to its status and trimmed as it arrives: a poll of
            // thousands of objects never holds their whole bodies.
            let listed = cluster
                .list_mapped(&gk, ns.as_deref(), |item| {
                    let name = item.pointer("/metadata/name")?.as_str()?.to_owned();
                    let status = kstatus::compute_with(&item, options)
                        .unwrap_or_else(|e| StatusResult::unknown(e.to_string()));
                    Some((name, (status, trim(item))))
                })
                .await
                .map(|items| items.into_iter().collect());
            (refs, listed)
        })
        .buffer_unordered(LIST_CONCURRENCY)
        .collect()
        .await;
    let mut observed = BTreeMap::new();
    for (refs, listed) in results {
        match listed {
            Ok(mut by_name) => {
                for r in refs {
                    let observation = match by_name.remove(&r.name) {
                        Some((status, live)) => Observed { status, live: Some(live) },
                        None => Observed { status: StatusResult::not_found(), live: None },
                    };
                    observed.insert(r, observation);
                }
            }
            Err(ClusterError::UnknownKind(_)) => {
                for r in refs {
                    observed.insert(r, Observed { status: StatusResult::not_found(), live: None });
                }
            }
            Err(err) => {
                let message = err.to_string();
                for r in refs {
                    observed
                        .insert(r, Observed { status: StatusResult::unknown(message.clone()), live: None });
                }
            }
        }
    }
    Poll { observed, lists }
}

/// A live object reduced to what deciding about it takes — whether to prune it, in which order:
/// apiVersion, kind, its metadata without `managedFields` and kubectl's last-applied copy, and a
/// CustomResourceDefinition's `spec.group` and `spec.names` (the kind it defines), and a ClusterRole's
/// `aggregationRule` (the roles it must be deleted before). Its spec, data and status go: they can be
/// megabytes, and a poll may see thousands of objects.
pub fn trim(mut live: Value) -> Value {
    let Some(map) = live.as_object_mut() else { return live };
    let mut trimmed = serde_json::Map::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some(value) = map.remove(key) {
            trimmed.insert(key.to_owned(), value);
        }
    }
    if let Some(metadata) = trimmed.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
        }
    }
    if trimmed.get("kind").and_then(Value::as_str) == Some("ClusterRole")
        && let Some(rule) = map.remove("aggregationRule")
    {
        trimmed.insert("aggregationRule".to_owned(), rule);
    }
    let is_crd = trimmed.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition");
    if is_crd && let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
        let mut kept = serde_json::Map::new();
        for key in ["group", "names"] {
            if let Some(value) = spec.remove(key) {
                kept.insert(key.to_owned(), value);
            }
        }
        trimmed.insert("spec".to_owned(), Value::Object(kept));
    }
    Value::Object(trimmed)
}

/// kubectl's copy of the last applied manifest: often the largest annotation, never needed here.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_a_cluster_roles_aggregation_rule_and_drops_its_rules() {
        let rule = serde_json::json!({"clusterRoleSelectors": [{"matchLabels": {"a": "true"}}]});
        let role = serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "admin"}, "aggregationRule": rule, "rules": [{"verbs": ["get"]}],
        });
        let trimmed = trim(role);
        assert_eq!(trimmed["aggregationRule"], rule);
        assert!(trimmed.get("rules").is_none());
    }

    #[test]
    fn trimming_keeps_identity_metadata_and_a_crds_kind_and_drops_the_rest() {
        let crd = serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {
                "name": "widgets.example.com", "uid": "u", "finalizers": ["f"],
                "annotations": {"config.kubernetes.io/depends-on": "x", LAST_APPLIED: "{...}"},
                "managedFields": [{"manager": "kapply"}],
            },
            "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [{"name": "v1"}]},
            "status": {"conditions": []},
        });
        assert_eq!(
            trim(crd),
            serde_json::json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": "widgets.example.com", "uid": "u", "finalizers": ["f"],
                    "annotations": {"config.kubernetes.io/depends-on": "x"},
                },
                "spec": {"group": "example.com", "names": {"kind": "Widget"}},
            })
        );
        let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
        assert_eq!(
            trim(cm),
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
        );
    }

    #[test]
    fn objects_of_one_kind_and_namespace_share_a_batch() {
        let refs = [
            ObjRef::new("", "ConfigMap", Some("a"), "x"),
            ObjRef::new("", "ConfigMap", Some("a"), "y"),
            ObjRef::new("", "ConfigMap", Some("b"), "x"),
            ObjRef::new("apps", "Deployment", Some("a"), "web"),
            ObjRef::new("", "Namespace", None, "a"),
        ];
        let batches = batches(&refs);
        assert_eq!(batches.len(), 4);
        assert_eq!(batches[&(GroupKind::new("", "ConfigMap"), Some("a".to_owned()))].len(), 2);
        assert_eq!(batches[&(GroupKind::new("", "Namespace"), None)].len(), 1);
    }
}
