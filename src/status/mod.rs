//! Live status of a set of objects, read in batches: one LIST per (kind, namespace) per poll.
//!
//! A GET per object per period would cost `objects × polls` requests; a LIST per batch costs
//! `kinds × namespaces × polls`, which is what lets kapply wait on thousands of objects.
//! Statuses come from [`crate::kstatus`]; an object missing from its list is `NotFound`.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, stream};
use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::kstatus::{self, Status, StatusResult};
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

/// One object's observed state: its computed status and, when it exists, the live object.
#[derive(Debug, Clone)]
pub struct Observed {
    pub status: StatusResult,
    pub live: Option<Value>,
}

/// One batch's refs with what its LIST returned.
type Listed = (Vec<ObjRef>, Result<Vec<Value>, ClusterError>);

/// The result of one poll.
#[derive(Debug, Default)]
pub struct Poll {
    pub observed: BTreeMap<ObjRef, Observed>,
    /// How many LIST requests this poll sent.
    pub lists: usize,
}

/// Reads the status of every ref with one LIST per batch, up to [`LIST_CONCURRENCY`] at once.
///
/// A kind the server no longer serves (its CRD was deleted) makes its objects `NotFound`: nothing of
/// that kind can exist. Any other failed LIST makes its objects `Unknown` with the error as message, so
/// one forbidden namespace does not stop the wait on the others.
pub async fn poll(cluster: &Cluster, refs: &[ObjRef]) -> Poll {
    let batches = batches(refs);
    let lists = batches.len();
    let results: Vec<Listed> = stream::iter(batches)
        .map(|((gk, ns), refs)| async move { (refs, cluster.list(&gk, ns.as_deref()).await) })
        .buffer_unordered(LIST_CONCURRENCY)
        .collect()
        .await;
    let mut observed = BTreeMap::new();
    for (refs, listed) in results {
        match listed {
            Ok(items) => {
                let mut by_name: HashMap<String, Value> = items
                    .into_iter()
                    .filter_map(|item| Some((item.pointer("/metadata/name")?.as_str()?.to_owned(), item)))
                    .collect();
                for r in refs {
                    let live = by_name.remove(&r.name);
                    let status = match &live {
                        Some(obj) => {
                            kstatus::compute(obj).unwrap_or_else(|e| StatusResult::unknown(e.to_string()))
                        }
                        None => StatusResult::not_found(),
                    };
                    observed.insert(r, Observed { status, live });
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

/// What a wait is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Every object Current (a Failed object ends its own wait early).
    Current,
    /// Every object NotFound.
    Deleted,
    /// Every object's status known (anything but Unknown): one good observation.
    Known,
    /// Never: observe until cancelled or out of time.
    Forever,
}

impl Until {
    /// True when `status` ends the wait for one object.
    pub fn is_final(self, status: Status) -> bool {
        match self {
            Until::Current => matches!(status, Status::Current | Status::Failed),
            Until::Deleted => status == Status::NotFound,
            Until::Known => status != Status::Unknown,
            Until::Forever => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_failed_object_ends_a_wait_for_current_but_not_a_wait_for_deletion() {
        assert!(Until::Current.is_final(Status::Failed));
        assert!(Until::Current.is_final(Status::Current));
        assert!(!Until::Current.is_final(Status::InProgress));
        assert!(!Until::Deleted.is_final(Status::Failed));
        assert!(Until::Deleted.is_final(Status::NotFound));
    }
}
