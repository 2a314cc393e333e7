//! Reading and writing the live inventory ConfigMap, with optimistic locking so that two runs on one
//! inventory never lose each other's entries.
//!
//! The ConfigMap is found by its id label, not by name (as cli-utils does). Writes are a create or a
//! replace carrying the `resourceVersion` read: when another writer got there first, the server refuses
//! with 409, and the write is merged with what that writer recorded and tried again. Replace, not
//! server-side apply: an inventory last written by cli-utils has its keys owned by cli-utils' field
//! manager, and an apply would never remove them.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::event::InventoryAction;
use crate::inventory::{Inventory, InventoryError, InventoryInfo};
use crate::object::{GroupKind, INVENTORY_ID_LABEL, ObjRef};

use super::EngineError;

/// How often a write is retried after losing a race with another writer.
const WRITE_ATTEMPTS: usize = 8;

/// The live inventory: its decoded content and the ConfigMap as read (with its resourceVersion).
#[derive(Debug, Clone)]
pub(crate) struct LiveInventory {
    pub inventory: Inventory,
    pub body: Value,
    /// Keys that name no object (written by hand or by a newer tool): kept as they are on every write.
    pub undecodable: Vec<String>,
}

pub(crate) struct InventoryStore<'c> {
    cluster: &'c Cluster,
    info: InventoryInfo,
}

impl<'c> InventoryStore<'c> {
    pub(crate) fn new(cluster: &'c Cluster, info: InventoryInfo) -> Self {
        InventoryStore { cluster, info }
    }

    /// The live inventory, or None when it does not exist yet (nor its namespace).
    pub(crate) async fn read(&self) -> Result<Option<LiveInventory>, EngineError> {
        let selector = format!("{INVENTORY_ID_LABEL}={}", self.info.id);
        let mut found = self
            .cluster
            .list_selected(&GroupKind::new("", "ConfigMap"), Some(&self.info.namespace), &selector)
            .await?;
        if found.len() > 1 {
            let mut names: Vec<String> = found
                .iter()
                .filter_map(|cm| cm.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned))
                .collect();
            names.sort();
            return Err(InventoryError::Ambiguous {
                namespace: self.info.namespace.clone(),
                id: self.info.id.clone(),
                names,
            }
            .into());
        }
        let Some(body) = found.pop() else {
            return Ok(None);
        };
        let (inventory, invalid) = Inventory::from_configmap(&body)?;
        let undecodable = invalid.into_iter().map(|entry| entry.source.key).collect();
        Ok(Some(LiveInventory { inventory, body, undecodable }))
    }

    /// Writes `set`, merged with whatever a concurrent writer recorded, and returns how many objects the
    /// inventory lists. `live` is the inventory as read at the start (None: it does not exist).
    ///
    /// Before applying, `set` is the union of the old and the new objects; nothing is ever dropped here.
    pub(crate) async fn write_union(
        &self,
        set: &BTreeSet<ObjRef>,
        live: Option<LiveInventory>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        self.write(live, |_| set.clone()).await
    }

    /// After the run: writes `final_set`, plus the entries another run added meanwhile (recorded now, but
    /// not in `union`, what this run wrote before applying).
    pub(crate) async fn write_final(
        &self,
        union: &BTreeSet<ObjRef>,
        final_set: &BTreeSet<ObjRef>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let live = self.read().await?;
        self.write(live, |live| {
            let added_by_others =
                live.into_iter().flat_map(|l| l.inventory.objects.iter()).filter(|o| !union.contains(o));
            final_set.iter().chain(added_by_others).cloned().collect()
        })
        .await
    }

    /// The write loop: compute the set from the live inventory, write it with its resourceVersion,
    /// re-read and retry on a conflict. A write that would change nothing is not sent.
    async fn write(
        &self,
        mut live: Option<LiveInventory>,
        compute: impl Fn(Option<&LiveInventory>) -> BTreeSet<ObjRef>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let target = self.info.configmap_ref();
        let mut lost_race = false;
        for _ in 0..WRITE_ATTEMPTS {
            let mut set = compute(live.as_ref());
            if lost_race {
                // Another run wrote in between: keep what it recorded, so nothing is lost. Stale entries
                // cost nothing (the next prune finds them gone); a missing one would orphan an object.
                set.extend(live.iter().flat_map(|l| l.inventory.objects.iter().cloned()));
            }
            let inventory = Inventory::new(&self.info, set);
            inventory.check_writable()?;
            let action = if live.is_some() { InventoryAction::Updated } else { InventoryAction::Created };
            let result = match &live {
                Some(current) if current.inventory.objects == inventory.objects => {
                    return Ok((InventoryAction::Unchanged, inventory.objects.len()));
                }
                Some(current) => {
                    let body = replacement(current, &inventory);
                    let target = object_ref_of(&current.body).unwrap_or_else(|| target.clone());
                    self.cluster.replace(&target, &body).await
                }
                None => self.cluster.create(&target, &inventory.to_configmap()).await,
            };
            match result {
                Ok(_) => return Ok((action, inventory.objects.len())),
                Err(ClusterError::Api { code: 409, .. }) => {
                    lost_race = true;
                    live = self.read().await?;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(EngineError::Invalid(format!(
            "could not write the inventory {}: other writers changed it {WRITE_ATTEMPTS} times in a row; \
             is another kapply running on it? Run again once it is done",
            self.info
        )))
    }

    /// Deletes the inventory ConfigMap (end of a destroy).
    pub(crate) async fn delete(&self, live: &LiveInventory) -> Result<(), EngineError> {
        let target = object_ref_of(&live.body).unwrap_or_else(|| self.info.configmap_ref());
        let uid = live.body.pointer("/metadata/uid").and_then(Value::as_str);
        self.cluster.delete(&target, uid, kube::api::PropagationPolicy::Background, false).await?;
        Ok(())
    }
}

/// The live ConfigMap with its data replaced: its other metadata (labels, annotations, the
/// resourceVersion that makes the write conditional) is kept, and keys that name no object too.
fn replacement(live: &LiveInventory, inventory: &Inventory) -> Value {
    let mut body = live.body.clone();
    let mut data = inventory.to_configmap_data();
    if let Some(old) = live.body.get("data").and_then(Value::as_object) {
        for key in &live.undecodable {
            if let Some(value) = old.get(key) {
                data.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some(map) = body.as_object_mut() {
        map.insert("data".into(), Value::Object(data));
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("managedFields");
        }
    }
    body
}

fn object_ref_of(body: &Value) -> Option<ObjRef> {
    ObjRef::from_value(body)
}
