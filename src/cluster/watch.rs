//! Watches: the lowest-latency way to see objects change, one long-lived request per (kind, namespace).

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

use super::{Cluster, Result, to_value, with_type};
use crate::object::GroupKind;

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

impl Cluster {
    /// Watches every object of a kind in a namespace (or cluster-wide with None). The stream never ends
    /// by itself: it relists and retries with backoff; drop it to stop.
    ///
    /// # Errors
    /// [`super::ClusterError::UnknownKind`] when the kind is not served.
    pub async fn watch(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
    ) -> Result<BoxStream<'static, Watched>> {
        let resolved = self.resolve(gk, None).await?;
        let api = self.api(&resolved, namespace);
        let api_version = resolved.resource.api_version.clone();
        let kind = gk.kind.clone();
        let typed = move |obj| with_type(to_value(obj), &api_version, &kind);
        let stream = watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .map_ok(move |event| match event {
                Event::Init => Watched::Relist,
                Event::InitApply(obj) | Event::Apply(obj) => Watched::Applied(typed(obj)),
                Event::Delete(obj) => Watched::Deleted(typed(obj)),
                Event::InitDone => Watched::Synced,
            })
            .map(|item| item.unwrap_or_else(|err| Watched::Failed(super::error::describe(&err))));
        Ok(stream.boxed())
    }
}
