//! Before a Namespace is deleted: wait until the Pods of what was deleted in it are gone.
//!
//! Why (docs/performance.md, "Where destroy's time goes"): the namespace controller takes up a
//! deleted Namespace 5 s after the delete, and while Pods in it are still terminating it looks again
//! only every `grace / 2 + 1` seconds — 16 s for the default 30 s grace period. A Namespace deleted
//! while its Deployments' Pods terminate is therefore gone up to 16 s after its last Pod. Deleted once
//! those Pods are gone, it is gone about 5 s later. Waiting for them with Foreground propagation would
//! do the same, but the garbage collector's foreground chain (Deployment, then ReplicaSets, then
//! Pods) starts the Pods' termination seconds later than a Background delete does.
//!
//! Only reads: nothing more is deleted than before, and the Namespace delete is sent as before once
//! the wait ends — when no Pod of the Namespace is *going*, or after the delete timeout (the wait is
//! a shortcut, not a guarantee), or not at all when the run is cancelled meanwhile (the Namespace then
//! stays, recorded in the inventory).
//!
//! A Pod is going when it is terminating, or when the garbage collector is about to delete it: an
//! owner of it is one of the objects this run deleted in the Namespace, or a ReplicaSet or Job that
//! is itself going (owned by such an object, or terminating) or already absent. A Pod of someone else
//! that nobody is deleting is not waited for (the Namespace's deletion takes it, as it always did).

use std::collections::HashSet;
use std::time::Instant;

use serde_json::Value;

use crate::object::{GroupKind, ObjRef};

use super::PrunePhase;

/// What the wait for a Namespace's Pods ended with.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Settled {
    /// No Pod is going (or the delete timeout passed): delete the Namespace.
    Done,
    /// The run was cancelled: do not delete it.
    Stopped,
}

/// What the rule reads of a Pod, a ReplicaSet or a Job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Owned {
    pub uid: String,
    pub terminating: bool,
    /// (kind, uid) of each ownerReference.
    pub owners: Vec<(String, String)>,
}

impl Owned {
    pub(super) fn read(body: &Value) -> Option<Owned> {
        let metadata = body.get("metadata")?;
        let owners = metadata
            .get("ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|owner| {
                Some((owner.get("kind")?.as_str()?.to_owned(), owner.get("uid")?.as_str()?.to_owned()))
            })
            .collect();
        Some(Owned {
            uid: metadata.get("uid")?.as_str()?.to_owned(),
            terminating: metadata.get("deletionTimestamp").is_some_and(|t| !t.is_null()),
            owners,
        })
    }
}

/// The kinds of Pod owners the rule lists to tell going from staying.
const LISTED_OWNERS: [(&str, &str); 2] = [("apps", "ReplicaSet"), ("batch", "Job")];

/// How many `pods` are going (see the module documentation), given the ReplicaSets and Jobs listed
/// in their Namespace (`owners`) and the UIDs of the objects this run deleted there (`deleted`).
pub(super) fn going_pods(pods: &[Owned], owners: &[Owned], deleted: &HashSet<String>) -> usize {
    let listed: HashSet<&str> = owners.iter().map(|o| o.uid.as_str()).collect();
    let going_owners: HashSet<&str> = owners
        .iter()
        .filter(|o| o.terminating || o.owners.iter().any(|(_, uid)| deleted.contains(uid)))
        .map(|o| o.uid.as_str())
        .collect();
    let is_listed_kind = |kind: &str| LISTED_OWNERS.iter().any(|(_, k)| *k == kind);
    pods.iter()
        .filter(|pod| {
            pod.terminating
                || pod.owners.iter().any(|(kind, uid)| {
                    deleted.contains(uid)
                        || going_owners.contains(uid.as_str())
                        || (is_listed_kind(kind) && !listed.contains(uid.as_str()))
                })
        })
        .count()
}

impl PrunePhase<'_> {
    /// Waits until no Pod of Namespace `namespace` is going, polling every poll period, for at most
    /// the delete timeout; `deleted` are the UIDs of what this run deleted in it.
    pub(super) async fn settle_pods(&self, namespace: &str, deleted: &HashSet<String>) -> Settled {
        let deadline = Instant::now() + self.options.prune_timeout;
        loop {
            if self.cancel.is_cancelled() {
                return Settled::Stopped;
            }
            // A read that fails ends the wait: the Namespace is deleted as it was before this wait.
            match self.going_pods(namespace, deleted).await {
                Some(0) | None => return Settled::Done,
                Some(_) if Instant::now() >= deadline => return Settled::Done,
                Some(_) => {}
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.poll_period) => {}
                () = self.cancel.cancelled() => return Settled::Stopped,
            }
        }
    }

    /// One look: the Namespace's Pods, and the ReplicaSets and Jobs they name as owners.
    async fn going_pods(&self, namespace: &str, deleted: &HashSet<String>) -> Option<usize> {
        let list = |group: &'static str, kind: &'static str| async move {
            self.cluster.list_mapped(&GroupKind::new(group, kind), Some(namespace), |v| Owned::read(&v)).await
        };
        let pods = list("", "Pod").await.ok()?;
        let mut owners = Vec::new();
        for (group, kind) in LISTED_OWNERS {
            if pods.iter().any(|pod| pod.owners.iter().any(|(k, _)| k == kind)) {
                owners.extend(list(group, kind).await.ok()?);
            }
        }
        Some(going_pods(&pods, &owners, deleted))
    }
}

/// True for the object whose delete waits for its Pods: a Namespace.
pub(super) fn waits_for_pods(obj: &ObjRef) -> bool {
    obj.group_kind().is_namespace()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn owned(uid: &str, terminating: bool, owners: &[(&str, &str)]) -> Owned {
        Owned {
            uid: uid.into(),
            terminating,
            owners: owners.iter().map(|(k, u)| ((*k).into(), (*u).into())).collect(),
        }
    }

    fn deleted(uids: &[&str]) -> HashSet<String> {
        uids.iter().map(|u| (*u).to_owned()).collect()
    }

    #[test]
    fn a_terminating_pod_is_going() {
        let pods = [owned("p", true, &[])];
        assert_eq!(going_pods(&pods, &[], &deleted(&[])), 1);
    }

    #[test]
    fn a_pod_of_a_replicaset_of_a_deleted_deployment_is_going_before_the_collector_deletes_either() {
        let pods = [owned("p", false, &[("ReplicaSet", "rs")])];
        let owners = [owned("rs", false, &[("Deployment", "d")])];
        assert_eq!(going_pods(&pods, &owners, &deleted(&["d"])), 1);
    }

    #[test]
    fn a_pod_whose_replicaset_is_already_gone_is_going() {
        let pods = [owned("p", false, &[("ReplicaSet", "rs")])];
        assert_eq!(going_pods(&pods, &[], &deleted(&["d"])), 1);
    }

    #[test]
    fn a_pod_owned_directly_by_a_deleted_object_is_going() {
        let pods = [owned("p", false, &[("StatefulSet", "s")])];
        assert_eq!(going_pods(&pods, &[], &deleted(&["s"])), 1);
    }

    #[test]
    fn someone_elses_running_pods_are_not_waited_for() {
        let pods = [
            owned("p1", false, &[("ReplicaSet", "rs")]),
            owned("p2", false, &[]),
            owned("p3", false, &[("StatefulSet", "other")]),
        ];
        let owners = [owned("rs", false, &[("Deployment", "not-deleted")])];
        assert_eq!(going_pods(&pods, &owners, &deleted(&["d"])), 0);
    }

    #[test]
    fn a_pod_of_a_terminating_job_is_going() {
        let pods = [owned("p", false, &[("Job", "j")])];
        let owners = [owned("j", true, &[])];
        assert_eq!(going_pods(&pods, &owners, &deleted(&[])), 1);
    }

    #[test]
    fn owners_and_termination_are_read_from_metadata() {
        let pod = json!({"metadata": {"uid": "p", "deletionTimestamp": "2026-12-01T00:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet", "uid": "rs", "name": "web-1"}]}});
        assert_eq!(Owned::read(&pod), Some(owned("p", true, &[("ReplicaSet", "rs")])));
        assert_eq!(Owned::read(&json!({"metadata": {"uid": "q"}})), Some(owned("q", false, &[])));
    }
}
