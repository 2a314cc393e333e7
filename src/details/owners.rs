//! From a workload to the Pods it generates, by owner reference: a Deployment through its current
//! ReplicaSet, a CronJob through its last Job, the others directly.

use serde_json::Value;

use super::{Related, text};

/// The intermediate owners (a ReplicaSet, a Job) and the Pods of `subject`, Pods sorted by name.
pub(super) fn pods_of<'r>(subject: &Value, related: &Related<'r>) -> (Vec<&'r Value>, Vec<&'r Value>) {
    let Some(uid) = uid(subject) else { return (Vec::new(), Vec::new()) };
    let kind = text(subject, "/kind").unwrap_or_default();
    let mut owners = Vec::new();
    let owner_uid = match kind {
        "Deployment" => {
            let current = owned(related.replica_sets, uid).max_by_key(|rs| (revision(rs), created(rs)));
            owners.extend(current);
            current.and_then(|rs| self::uid(rs))
        }
        "CronJob" => {
            let last = owned(related.jobs, uid).max_by_key(|job| created(job));
            owners.extend(last);
            last.and_then(|job| self::uid(job))
        }
        _ => Some(uid),
    };
    let mut pods: Vec<&Value> = match owner_uid {
        Some(owner) => owned(related.pods, owner).collect(),
        None => Vec::new(),
    };
    pods.sort_by_key(|pod| text(pod, "/metadata/name").unwrap_or_default());
    (owners, pods)
}

/// The objects among `candidates` with an owner reference to `owner` (a UID).
fn owned<'r>(candidates: &'r [Value], owner: &str) -> std::vec::IntoIter<&'r Value> {
    let owns = |c: &&Value| {
        let refs = c.pointer("/metadata/ownerReferences").and_then(Value::as_array);
        refs.into_iter().flatten().any(|r| text(r, "/uid") == Some(owner))
    };
    candidates.iter().filter(owns).collect::<Vec<_>>().into_iter()
}

fn uid(object: &Value) -> Option<&str> {
    text(object, "/metadata/uid").filter(|u| !u.is_empty())
}

/// A ReplicaSet's `deployment.kubernetes.io/revision` (0 when absent).
fn revision(rs: &Value) -> u64 {
    text(rs, "/metadata/annotations/deployment.kubernetes.io~1revision")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn created(object: &Value) -> Option<jiff::Timestamp> {
    text(object, "/metadata/creationTimestamp").and_then(|t| t.parse().ok())
}
