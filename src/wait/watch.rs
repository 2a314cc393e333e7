//! Watch mode: one long-lived watch per (kind, namespace), the lowest-latency way to see objects
//! change.
//!
//! [`watch`] opens one watch through the [`Api`](kube::Api) that [`Cluster`] builds for the kind, and
//! reports it as [`Watched`] items. `Watches` is the set of them the waiter keeps in watch mode: it
//! opens a watch the first time an object of its batch is waited for, follows it in a task that keeps
//! only the [`kstatus`] status of each object, and wakes the waiter after every change. A batch whose
//! watch cannot be opened is read by [`poll`] instead, for the rest of the run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::poll::{Batch, batch_of, poll_with};
use crate::cluster::{self, Cluster, Result};
use crate::kstatus::{self, StatusResult};
use crate::object::{GroupKind, ObjRef};

/// What a watch reports, objects already carrying apiVersion and kind.
#[derive(Debug, Clone)]
pub enum Watched {
    /// A (re)list starts: the objects listed until [`Watched::Synced`] are all that exist.
    Relist,
    /// An object was listed, added or modified.
    Applied(Value),
    /// An object was deleted.
    Deleted(Value),
    /// The (re)list is complete.
    Synced,
    /// The watch failed; it retries with backoff by itself.
    Failed(String),
}

/// Watches every object of a kind in a namespace (or cluster-wide with None). The stream never ends by
/// itself: it relists and retries with backoff; drop it to stop.
///
/// # Errors
/// [`cluster::ClusterError::UnknownKind`] when the kind is not served.
pub async fn watch(
    cluster: &Cluster,
    gk: &GroupKind,
    namespace: Option<&str>,
) -> Result<BoxStream<'static, Watched>> {
    let resolved = cluster.resolve(gk, None).await?;
    let api = cluster.api(&resolved, namespace);
    let api_version = resolved.resource.api_version.clone();
    let kind = gk.kind.clone();
    let typed = move |obj| cluster::with_type(cluster::to_value(obj), &api_version, &kind);
    let stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .map_ok(move |event| match event {
            Event::Init => Watched::Relist,
            Event::InitApply(obj) | Event::Apply(obj) => Watched::Applied(typed(obj)),
            Event::Delete(obj) => Watched::Deleted(typed(obj)),
            Event::InitDone => Watched::Synced,
        })
        .map(|item| item.unwrap_or_else(|err| Watched::Failed(cluster::describe(&err))));
    Ok(stream.boxed())
}

/// The watches of watch mode, and what they have seen.
#[derive(Default)]
pub(super) struct Watches {
    seen: Arc<Mutex<Seen>>,
    /// Notified after each change any watch sees: what the waiter's wake-up awaits.
    pub(super) notify: Arc<Notify>,
    tasks: HashMap<Batch, JoinHandle<()>>,
    /// Batches read by LIST instead: a watch could not be opened (or the kind is not served).
    pub(super) polled: HashSet<Batch>,
    /// How statuses are computed (`--wait-for-jobs`).
    pub(super) options: kstatus::Options,
}

/// Per watched batch: the status of every object in it, once its first list is complete. Only
/// statuses are kept, not objects, so memory stays small however busy a namespace is.
#[derive(Default)]
struct Seen {
    statuses: HashMap<ObjRef, StatusResult>,
    synced: HashSet<Batch>,
}

impl Watches {
    /// Opens the watches `refs` need and reads what they have seen. Objects of a batch not synced yet
    /// are left out (nothing is known of them yet); objects absent from a synced batch are NotFound.
    pub(super) async fn observe(
        &mut self,
        cluster: &Cluster,
        refs: &[ObjRef],
    ) -> BTreeMap<ObjRef, StatusResult> {
        for obj in refs {
            let batch = batch_of(obj);
            if self.knows(&batch) {
                continue;
            }
            match watch(cluster, &batch.0, batch.1.as_deref()).await {
                Ok(stream) => {
                    let (seen, notify) = (self.seen.clone(), self.notify.clone());
                    let task = tokio::spawn(follow(batch.clone(), stream, seen, notify, self.options));
                    self.tasks.insert(batch, task);
                }
                // The kind is not served (`poll` reports its objects NotFound), or the watch could
                // not even start: read the batch by LIST for the rest of the run.
                Err(_) => {
                    self.polled.insert(batch);
                }
            }
        }
        let listed: Vec<ObjRef> =
            refs.iter().filter(|obj| self.polled.contains(&batch_of(obj))).cloned().collect();
        let mut observed: BTreeMap<ObjRef, StatusResult> = if listed.is_empty() {
            BTreeMap::new()
        } else {
            let polled = poll_with(cluster, &listed, self.options).await;
            polled.observed.into_iter().map(|(r, o)| (r, o.status)).collect()
        };
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for obj in refs {
            let batch = batch_of(obj);
            if self.polled.contains(&batch) || !seen.synced.contains(&batch) {
                continue;
            }
            let status = seen.statuses.get(obj).cloned().unwrap_or_else(StatusResult::not_found);
            observed.insert(obj.clone(), status);
        }
        observed
    }

    /// True when the batch is watched or polled already.
    pub(super) fn knows(&self, batch: &Batch) -> bool {
        self.tasks.contains_key(batch) || self.polled.contains(batch)
    }
}

impl Drop for Watches {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
    }
}

/// Follows one watch, recording statuses and waking the engine after each change.
async fn follow(
    batch: Batch,
    mut stream: BoxStream<'static, Watched>,
    seen: Arc<Mutex<Seen>>,
    notify: Arc<Notify>,
    options: kstatus::Options,
) {
    let mut relisted: Vec<(ObjRef, StatusResult)> = Vec::new();
    let mut relisting = false;
    while let Some(event) = stream.next().await {
        let status_of = |value: &serde_json::Value| {
            let obj = ObjRef::from_value(value)?;
            let status = kstatus::compute_with(value, options)
                .unwrap_or_else(|e| StatusResult::unknown(e.to_string()));
            Some((obj, status))
        };
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Watched::Relist => {
                relisting = true;
                relisted.clear();
            }
            Watched::Applied(value) if relisting => relisted.extend(status_of(&value)),
            Watched::Applied(value) => {
                if let Some((obj, status)) = status_of(&value) {
                    seen.statuses.insert(obj, status);
                }
            }
            Watched::Deleted(value) => {
                if let Some(obj) = ObjRef::from_value(&value) {
                    seen.statuses.remove(&obj);
                }
            }
            Watched::Synced => {
                relisting = false;
                seen.statuses.retain(|obj, _| batch_of(obj) != batch);
                seen.statuses.extend(relisted.drain(..));
                seen.synced.insert(batch.clone());
            }
            Watched::Failed(message) => tracing::debug!("watch of {} failed (retrying): {message}", batch.0),
        }
        drop(seen);
        notify.notify_one();
    }
}
