//! [`LiveReader`]: the live state of objects about to be applied, read in batches.
//!
//! The inventory policy needs each object's live ownership annotation before it is written, and the
//! apply's outcome (created, configured, unchanged) needs its resourceVersion. One GET per object would
//! double the requests of a run; instead the first object of a (kind, namespace) batch LISTs the batch,
//! and the others take their entry from that snapshot. A snapshot older than [`FRESHNESS`] is not
//! trusted (another writer may have created an object since): the batch is listed again.
//!
//! A snapshot keeps only what the apply needs of each object ([`slim`]): identity, UID,
//! resourceVersion and the owning-inventory annotation — a few hundred bytes, whatever the object's
//! size, so that memory stays flat for large sets.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::cluster::{Cluster, ClusterError};
use crate::object::{OWNING_INVENTORY, ObjRef};
use crate::status::{Batch, batches};

/// How long a batch snapshot stands in for a GET.
const FRESHNESS: Duration = Duration::from_secs(10);

/// Batches with fewer objects than this are read by GET: a LIST of a busy namespace for one or two
/// objects would cost more than it saves.
const MIN_BATCH: usize = 3;

struct Snapshot {
    taken: Instant,
    /// None when the LIST failed (e.g. a kind served only once its CRD is established): use GETs.
    items: Option<Mutex<HashMap<String, Value>>>,
}

pub(crate) struct LiveReader<'c> {
    cluster: &'c Cluster,
    /// Per batch worth listing: the names of the set in it (only those are kept from the LIST).
    wanted: HashMap<Batch, HashSet<String>>,
    snapshots: Mutex<HashMap<Batch, Arc<OnceCell<Snapshot>>>>,
}

impl<'c> LiveReader<'c> {
    pub(crate) fn new<'a>(cluster: &'c Cluster, set: impl IntoIterator<Item = &'a ObjRef>) -> Self {
        let wanted = batches(set)
            .into_iter()
            .filter(|(_, refs)| refs.len() >= MIN_BATCH)
            .map(|(batch, refs)| (batch, refs.into_iter().map(|r| r.name).collect()))
            .collect();
        LiveReader { cluster, wanted, snapshots: Mutex::new(HashMap::new()) }
    }

    /// The live object, None when it does not exist. Each object of the set should be read once.
    pub(crate) async fn read(&self, obj: &ObjRef) -> Result<Option<Value>, ClusterError> {
        let batch: Batch = (obj.group_kind(), obj.namespace.clone());
        let Some(names) = self.wanted.get(&batch) else {
            return self.cluster.get(obj).await;
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
                let listed = self
                    .cluster
                    .list_mapped(&batch.0, batch.1.as_deref(), |item| {
                        let name = item.pointer("/metadata/name")?.as_str()?;
                        names.contains(name).then(|| slim(&item))
                    })
                    .await;
                let items = listed.ok().map(|items| {
                    let by_name = items
                        .into_iter()
                        .filter_map(|item| Some((item.pointer("/metadata/name")?.as_str()?.to_owned(), item)))
                        .collect();
                    Mutex::new(by_name)
                });
                Snapshot { taken: Instant::now(), items }
            })
            .await;
        match &snapshot.items {
            Some(items) => Ok(items.lock().unwrap_or_else(|e| e.into_inner()).remove(&obj.name)),
            None => self.cluster.get(obj).await,
        }
    }
}

/// What the apply needs of a live object: apiVersion, kind, name, namespace, uid, resourceVersion, and
/// the owning-inventory annotation (the policy check).
fn slim(item: &Value) -> Value {
    let metadata = item.get("metadata");
    let field = |key: &str| metadata.and_then(|m| m.get(key)).cloned().unwrap_or(Value::Null);
    let owner = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(OWNING_INVENTORY))
        .map(|owner| serde_json::json!({ OWNING_INVENTORY: owner }));
    let mut slim_metadata = serde_json::Map::new();
    for key in ["name", "namespace", "uid", "resourceVersion"] {
        slim_metadata.insert(key.to_owned(), field(key));
    }
    if let Some(owner) = owner {
        slim_metadata.insert("annotations".to_owned(), owner);
    }
    serde_json::json!({
        "apiVersion": item.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": item.get("kind").cloned().unwrap_or(Value::Null),
        "metadata": slim_metadata,
    })
}
