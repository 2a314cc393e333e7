//! [`LiveReader`]: the live state of objects about to be applied, read in batches.
//!
//! The inventory policy needs each object's live ownership annotation before it is written, and the
//! apply's outcome (created, configured, unchanged) needs its resourceVersion. One GET per object would
//! double the requests of a run; instead the first object of a (kind, namespace) batch LISTs the batch,
//! and the others take their entry from that snapshot. A snapshot older than [`FRESHNESS`] is not
//! trusted (another writer may have created an object since): the batch is listed again.
//!
//! A snapshot keeps only what the apply needs of each object ([`Slim`]): identity, UID,
//! resourceVersion, the owning-inventory annotation, the state digest of kapply's fields (whether an
//! unchanged configuration needs sending at all: `inventory::AppliedDigest`) and the object's status
//! (what an apply that is not sent reports) — a few strings, not a JSON tree (a
//! `serde_json` map costs over 600 bytes however few its entries), so that memory stays flat for
//! large sets; the JSON form is built when the object is read, one at a time.
//!
//! The same LISTs show the run's prune candidates in those batches (objects recorded by the last run
//! and absent from the set): each is kept trimmed ([`crate::wait::trim`]), and the prune phase takes
//! them ([`LiveReader::listed_candidates`]) instead of listing the same batches again, as long as the
//! snapshot is fresh.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::cluster::{Cluster, ClusterError};
use crate::inventory::{Digest, state_digest};
use crate::kstatus::{self, StatusResult};
use crate::object::{OWNING_INVENTORY, ObjRef};
use crate::wait::{Batch, batches, trim};

/// How long a batch snapshot stands in for a GET.
const FRESHNESS: Duration = Duration::from_secs(10);

/// Batches with fewer objects than this are read by GET: a LIST of a busy namespace for one or two
/// objects would cost more than it saves.
const MIN_BATCH: usize = 3;

struct Snapshot {
    taken: Instant,
    /// The apiVersion the batch was listed at: the same for all its objects, kept once.
    api_version: String,
    /// None when the LIST failed (e.g. a kind served only once its CRD is established): use GETs.
    items: Option<Mutex<HashMap<String, Slim>>>,
    /// The batch's prune candidates the LIST showed, by name, trimmed (empty when it failed).
    candidates: Mutex<HashMap<String, Value>>,
}

/// A live object as the apply reads it.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    /// The object: whole when read by GET, its [`Slim`] fields when from a snapshot.
    pub value: Value,
    /// The state digest of the field manager's fields (`inventory::state_digest`).
    pub state: Option<Digest>,
    /// Its status when it was read.
    pub status: StatusResult,
}

impl Live {
    pub(crate) fn of(value: Value, field_manager: &str, options: kstatus::Options) -> Self {
        let state = state_digest(&value, field_manager);
        let status = status_of(&value, options);
        Live { value, state, status }
    }
}

fn status_of(value: &Value, options: kstatus::Options) -> StatusResult {
    kstatus::compute_with(value, options).unwrap_or_else(|e| StatusResult::unknown(e.to_string()))
}

pub(crate) struct LiveReader<'c> {
    cluster: &'c Cluster,
    field_manager: &'c str,
    status_options: kstatus::Options,
    /// Per batch worth listing: the names of the set in it (only those are kept from the LIST).
    wanted: HashMap<Batch, HashSet<String>>,
    /// Per batch worth listing: the names of the prune candidates in it (kept whole, trimmed).
    candidates: HashMap<Batch, HashSet<String>>,
    snapshots: Mutex<HashMap<Batch, Arc<OnceCell<Snapshot>>>>,
}

impl<'c> LiveReader<'c> {
    pub(crate) fn new<'a>(
        cluster: &'c Cluster,
        set: impl IntoIterator<Item = &'a ObjRef>,
        candidates: &[ObjRef],
        field_manager: &'c str,
        status_options: kstatus::Options,
    ) -> Self {
        let wanted: HashMap<Batch, HashSet<String>> = batches(set)
            .into_iter()
            .filter(|(_, refs)| refs.len() >= MIN_BATCH)
            .map(|(batch, refs)| (batch, refs.into_iter().map(|r| r.name).collect()))
            .collect();
        let candidates = batches(candidates)
            .into_iter()
            .filter(|(batch, _)| wanted.contains_key(batch))
            .map(|(batch, refs)| (batch, refs.into_iter().map(|r| r.name).collect()))
            .collect();
        LiveReader {
            cluster,
            field_manager,
            status_options,
            wanted,
            candidates,
            snapshots: Mutex::new(HashMap::new()),
        }
    }

    /// The live object, None when it does not exist. Each object of the set should be read once.
    pub(crate) async fn read(&self, obj: &ObjRef) -> Result<Option<Live>, ClusterError> {
        let batch: Batch = (obj.group_kind(), obj.namespace.clone());
        let Some(names) = self.wanted.get(&batch) else {
            return self.get(obj).await;
        };
        let cell = {
            let mut snapshots = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
            let cell = snapshots.entry(batch.clone()).or_default();
            // A stale snapshot is replaced by a fresh LIST, shared by the reads that follow.
            if cell.get().is_some_and(|s| s.taken.elapsed() >= FRESHNESS) {
                *cell = Arc::default();
            }
            cell.clone()
        };
        let snapshot = cell
            .get_or_init(|| async {
                let mut api_version = String::new();
                let mut candidates = HashMap::new();
                let wanted_candidates = self.candidates.get(&batch);
                let listed = self
                    .cluster
                    .list_mapped(&batch.0, batch.1.as_deref(), |item| {
                        let name = item.pointer("/metadata/name")?.as_str()?;
                        if api_version.is_empty()
                            && let Some(version) = item.get("apiVersion").and_then(Value::as_str)
                        {
                            api_version = version.to_owned();
                        }
                        if names.contains(name) {
                            return Some(Slim::of(&item, self.field_manager, self.status_options));
                        }
                        if wanted_candidates.is_some_and(|c| c.contains(name)) {
                            candidates.insert(name.to_owned(), trim(item));
                        }
                        None
                    })
                    .await;
                let items = listed.ok().map(|items| {
                    Mutex::new(items.into_iter().map(|slim| (slim.name.clone(), slim)).collect())
                });
                if items.is_none() {
                    candidates.clear();
                }
                Snapshot { taken: Instant::now(), api_version, items, candidates: Mutex::new(candidates) }
            })
            .await;
        match &snapshot.items {
            Some(items) => {
                let slim = items.lock().unwrap_or_else(|e| e.into_inner()).remove(&obj.name);
                Ok(slim.map(|slim| Live {
                    value: slim.to_value(&snapshot.api_version, &batch.0.kind),
                    state: slim.state,
                    status: slim.status,
                }))
            }
            None => self.get(obj).await,
        }
    }

    /// The prune candidates of every batch listed in the last [`FRESHNESS`], each with its trimmed
    /// live body, or None when the LIST did not show it (it is gone). Candidates of batches not listed
    /// (or listed too long ago, or whose LIST failed) are not in the map: the prune lists those.
    /// Each candidate is handed out once.
    pub(crate) fn listed_candidates(&self) -> HashMap<ObjRef, Option<Value>> {
        let snapshots = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        let mut listed = HashMap::new();
        for (batch, names) in &self.candidates {
            let Some(snapshot) = snapshots.get(batch).and_then(|cell| cell.get()) else { continue };
            if snapshot.items.is_none() || snapshot.taken.elapsed() >= FRESHNESS {
                continue;
            }
            let mut bodies = snapshot.candidates.lock().unwrap_or_else(|e| e.into_inner());
            for name in names {
                let obj = ObjRef::new(batch.0.group.clone(), batch.0.kind.clone(), batch.1.as_deref(), name);
                listed.insert(obj, bodies.remove(name));
            }
        }
        listed
    }

    async fn get(&self, obj: &ObjRef) -> Result<Option<Live>, ClusterError> {
        Ok(self.cluster.get(obj).await?.map(|value| Live::of(value, self.field_manager, self.status_options)))
    }
}

/// What the apply needs of a live object: apiVersion, kind, name, namespace, uid, resourceVersion, and
/// the owning-inventory annotation (the policy check).
#[derive(Debug, Clone, PartialEq)]
struct Slim {
    name: String,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    owner: Option<String>,
    state: Option<Digest>,
    status: StatusResult,
}

impl Slim {
    fn of(item: &Value, field_manager: &str, status_options: kstatus::Options) -> Self {
        let text = |pointer: &str| item.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        let owner = item
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(OWNING_INVENTORY))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Slim {
            name: text("/metadata/name").unwrap_or_default(),
            namespace: text("/metadata/namespace"),
            uid: text("/metadata/uid"),
            resource_version: text("/metadata/resourceVersion"),
            owner,
            state: state_digest(item, field_manager),
            status: status_of(item, status_options),
        }
    }

    /// The object as the apply reads it (`api_version` and `kind` are its batch's): the kept fields,
    /// in their places.
    fn to_value(&self, api_version: &str, kind: &str) -> Value {
        let mut metadata = serde_json::json!({
            "name": self.name,
            "namespace": self.namespace,
            "uid": self.uid,
            "resourceVersion": self.resource_version,
        });
        if let Some(owner) = &self.owner {
            metadata["annotations"] = serde_json::json!({ OWNING_INVENTORY: owner });
        }
        serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": metadata})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_slim_copy_keeps_identity_uid_resource_version_and_owner_only() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "a", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                "labels": {"app": "shop"},
                "annotations": {OWNING_INVENTORY: "inv", "other": "x"},
                "managedFields": [{"manager": "kapply"}],
            },
            "data": {"big": "value"},
        });
        assert_eq!(
            Slim::of(&live, "kapply", kstatus::Options::default()).to_value("v1", "ConfigMap"),
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {
                    "name": "a", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                    "annotations": {OWNING_INVENTORY: "inv"},
                },
            })
        );
    }

    #[test]
    fn an_object_nobody_owns_gets_no_annotations_and_a_cluster_scoped_one_no_namespace() {
        let live = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "uid": "u"}});
        let value = Slim::of(&live, "kapply", kstatus::Options::default()).to_value("v1", "Namespace");
        assert!(value.pointer("/metadata/annotations").is_none(), "{value}");
        assert_eq!(value.pointer("/metadata/namespace"), Some(&Value::Null));
        assert_eq!(value.pointer("/metadata/name"), Some(&json!("shop")));
    }
}
