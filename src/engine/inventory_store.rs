//! Reading and writing the live inventory, with optimistic locking so that two runs on one inventory
//! never lose each other's entries: [`InventoryStore`] serves both formats, the ConfigMap here and the
//! ApplySet in `applyset_store.rs`.
//!
//! The ConfigMap is found by its id label, not by name (as cli-utils does). Writes are a create or a
//! replace carrying the `resourceVersion` read: when another writer got there first, the server refuses
//! with 409, and the write is merged with what that writer recorded and tried again. Replace, not
//! server-side apply: an inventory last written by cli-utils has its keys owned by cli-utils' field
//! manager, and an apply would never remove them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::event::InventoryAction;
use crate::inventory::{
    AppliedDigest, Inventory, InventoryError, InventoryFormat, InventoryInfo, MAX_DATA_BYTES,
    MAX_STORED_BYTES,
};
use crate::object::{GroupKind, INVENTORY_ID_LABEL, ObjRef};

use super::EngineError;
use super::applyset_store::{ApplySetLive, ApplySetStore};

/// How often a write is retried after losing a race with another writer.
const WRITE_ATTEMPTS: usize = 8;

/// The live inventory: its decoded content and the ConfigMap as read (with its resourceVersion).
#[derive(Debug, Clone)]
pub(crate) struct LiveInventory {
    pub inventory: Inventory,
    pub body: Value,
    /// Keys that name no object (written by hand or by a newer tool): kept as they are on every write.
    pub undecodable: Vec<String>,
    /// Per object, the record of its last apply by kapply (`inventory::AppliedDigest`): the values of
    /// `data` that kapply wrote. An inventory cli-utils wrote has none, nor has an ApplySet.
    pub digests: BTreeMap<ObjRef, AppliedDigest>,
    /// For an ApplySet, what its parent records (the objects are its members, found by label).
    pub applyset: Option<ApplySetLive>,
}

/// The digests to record with an inventory: the object set's, within the size a ConfigMap allows.
pub(crate) type Digests = BTreeMap<ObjRef, AppliedDigest>;

/// The live inventory in the format its [`InventoryInfo`] names.
pub(crate) enum InventoryStore<'c> {
    ConfigMap(ConfigMapStore<'c>),
    ApplySet(ApplySetStore<'c>),
}

impl<'c> InventoryStore<'c> {
    pub(crate) fn new(cluster: &'c Cluster, info: InventoryInfo) -> Self {
        match info.format {
            InventoryFormat::ConfigMap => InventoryStore::ConfigMap(ConfigMapStore { cluster, info }),
            InventoryFormat::ApplySet(_) => InventoryStore::ApplySet(ApplySetStore::new(cluster, info)),
        }
    }

    /// The live inventory, or None when it does not exist yet (nor its namespace).
    pub(crate) async fn read(&self) -> Result<Option<LiveInventory>, EngineError> {
        match self {
            InventoryStore::ConfigMap(store) => store.read().await,
            InventoryStore::ApplySet(store) => store.read().await,
        }
    }

    /// Before applying: records `set`, the union of the old and the new objects (see
    /// [`ConfigMapStore::write_union`]); returns how many objects the inventory lists.
    pub(crate) async fn write_union(
        &self,
        set: &BTreeSet<ObjRef>,
        live: Option<LiveInventory>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        match self {
            InventoryStore::ConfigMap(store) => store.write_union(set, live).await,
            InventoryStore::ApplySet(store) => store.write_union(set, live).await,
        }
    }

    /// After the run: records `final_set` and what others added (see [`ConfigMapStore::write_final`]).
    pub(crate) async fn write_final(
        &self,
        union: &BTreeSet<ObjRef>,
        final_set: &BTreeSet<ObjRef>,
        applied: &Digests,
        failed: &BTreeSet<ObjRef>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        match self {
            InventoryStore::ConfigMap(store) => store.write_final(union, final_set, applied, failed).await,
            InventoryStore::ApplySet(store) => store.write_final(union, final_set, applied, failed).await,
        }
    }

    /// Deletes the inventory's object (end of a destroy).
    pub(crate) async fn delete(&self, live: &LiveInventory) -> Result<(), EngineError> {
        match self {
            InventoryStore::ConfigMap(store) => store.delete(live).await,
            InventoryStore::ApplySet(store) => store.delete(live).await,
        }
    }
}

/// cli-utils' format: one ConfigMap, found by its id label, listing every object in its `data`.
pub(crate) struct ConfigMapStore<'c> {
    cluster: &'c Cluster,
    info: InventoryInfo,
}

impl ConfigMapStore<'_> {
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
        let digests = digests_in_data(&body, &inventory.objects, false);
        Ok(Some(LiveInventory { inventory, body, undecodable, digests, applyset: None }))
    }

    /// Writes `set`, merged with whatever a concurrent writer recorded, and returns how many objects the
    /// inventory lists. `live` is the inventory as read at the start (None: it does not exist).
    ///
    /// Before applying, `set` is the union of the old and the new objects; nothing is ever dropped here,
    /// and the digests recorded stay as they are (the state digest guards against a run killed after
    /// this write: see `inventory::AppliedDigest`).
    pub(crate) async fn write_union(
        &self,
        set: &BTreeSet<ObjRef>,
        live: Option<LiveInventory>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        self.write(live, |live| (set.clone(), live.map(|l| l.digests.clone()).unwrap_or_default())).await
    }

    /// After the run: writes `final_set`, plus the entries another run added meanwhile (recorded now, but
    /// not in `union`, what this run wrote before applying).
    ///
    /// `applied` holds the digests of this run's applies; an object whose apply failed (`failed`) loses
    /// its old one; every other object keeps what the live inventory records.
    pub(crate) async fn write_final(
        &self,
        union: &BTreeSet<ObjRef>,
        final_set: &BTreeSet<ObjRef>,
        applied: &Digests,
        failed: &BTreeSet<ObjRef>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let live = self.read().await?;
        self.write(live, |live| {
            let added_by_others =
                live.into_iter().flat_map(|l| l.inventory.objects.iter()).filter(|o| !union.contains(o));
            let set: BTreeSet<ObjRef> = final_set.iter().chain(added_by_others).cloned().collect();
            let recorded = live.map(|l| l.digests.clone()).unwrap_or_default();
            (set, after_run(recorded, applied, failed))
        })
        .await
    }

    /// The write loop: compute the set from the live inventory, write it with its resourceVersion,
    /// re-read and retry on a conflict. A write that would change nothing is not sent.
    async fn write(
        &self,
        mut live: Option<LiveInventory>,
        compute: impl Fn(Option<&LiveInventory>) -> (BTreeSet<ObjRef>, Digests),
    ) -> Result<(InventoryAction, usize), EngineError> {
        let target = self.info.object_ref();
        let mut lost_race = false;
        for _ in 0..WRITE_ATTEMPTS {
            let (mut set, mut digests) = compute(live.as_ref());
            if lost_race {
                // Another run wrote in between: keep what it recorded, so nothing is lost. Stale entries
                // cost nothing (the next prune finds them gone); a missing one would orphan an object.
                set.extend(live.iter().flat_map(|l| l.inventory.objects.iter().cloned()));
            }
            let inventory = Inventory::new(&self.info, set);
            let estimate = inventory.check_writable()?;
            digests.retain(|obj, _| inventory.objects.contains(obj));
            keep_what_fits(&mut digests, |digests| {
                let added = digests.len() * DIGEST_ENTRY_BYTES;
                estimate.data_bytes + added <= MAX_DATA_BYTES
                    && estimate.stored_bytes + added <= MAX_STORED_BYTES
            });
            let action = if live.is_some() { InventoryAction::Updated } else { InventoryAction::Created };
            let result = match &live {
                Some(current)
                    if current.inventory.objects == inventory.objects && current.digests == digests =>
                {
                    return Ok((InventoryAction::Unchanged, inventory.objects.len()));
                }
                Some(current) => {
                    let body = replacement(current, &inventory, &digests);
                    let target = object_ref_of(&current.body).unwrap_or_else(|| target.clone());
                    self.cluster.replace(&target, &body).await
                }
                None => {
                    let mut body = inventory.to_configmap();
                    body["data"] = Value::Object(data_of(&inventory, &digests));
                    self.cluster.create(&target, &body).await
                }
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
        let target = object_ref_of(&live.body).unwrap_or_else(|| self.info.object_ref());
        let uid = live.body.pointer("/metadata/uid").and_then(Value::as_str);
        self.cluster.delete(&target, uid, kube::api::PropagationPolicy::Background, false).await?;
        Ok(())
    }
}

/// The digests to record after a run: `recorded`'s, less those of objects whose apply failed (what
/// the failed apply left is unknown), with this run's applies (`applied`) in place of the old ones.
pub(crate) fn after_run(mut recorded: Digests, applied: &Digests, failed: &BTreeSet<ObjRef>) -> Digests {
    recorded.retain(|obj, _| !failed.contains(obj));
    recorded.extend(applied.iter().map(|(obj, digest)| (obj.clone(), *digest)));
    recorded
}

/// Keeps the digests of as many objects as `fits` allows: the first ones in reference order, so
/// that the same objects keep theirs from one run to the next while the others — those a full
/// inventory has no room to record for — are applied on every run, as before digests. (Dropping
/// them all, as kapply did first, made a set one object past the budget apply everything again.)
/// `fits` must hold for no digests and fail for fewer only if it fails for more.
pub(crate) fn keep_what_fits(digests: &mut Digests, fits: impl Fn(&Digests) -> bool) {
    if fits(digests) {
        return;
    }
    let all: Vec<(ObjRef, AppliedDigest)> = std::mem::take(digests).into_iter().collect();
    let first = |n: usize| -> Digests { all[..n].iter().cloned().collect() };
    // The largest count that fits, by bisection: `fits(first(fitting))` holds, `fits(first(too_many))`
    // does not.
    let (mut fitting, mut too_many) = (0, all.len());
    while too_many - fitting > 1 {
        let mid = fitting + (too_many - fitting) / 2;
        if fits(&first(mid)) {
            fitting = mid;
        } else {
            too_many = mid;
        }
    }
    *digests = first(fitting);
}

/// The live ConfigMap with its data replaced: its other metadata (labels, annotations, the
/// resourceVersion that makes the write conditional) is kept, and keys that name no object too.
fn replacement(live: &LiveInventory, inventory: &Inventory, digests: &Digests) -> Value {
    let mut body = live.body.clone();
    let mut data = data_of(inventory, digests);
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

/// The bytes a digest adds to a `data` entry (its value, quoted), for the size check.
const DIGEST_ENTRY_BYTES: usize = 80;

/// The `data` of `inventory`, each object valued with its digest when it has one (else `""`).
fn data_of(inventory: &Inventory, digests: &Digests) -> serde_json::Map<String, Value> {
    let mut data = inventory.to_configmap_data();
    for (obj, digest) in digests {
        if let Some(value) = data.get_mut(&obj.to_inventory_key()) {
            *value = Value::String(digest.to_value());
        }
    }
    data
}

/// The digests the `data` of `body` records for `objects`: the values kapply wrote there, keyed by
/// inventory key — a ConfigMap inventory's, or an ApplySet parent's (`base64`: a Secret's values).
/// Keys that name none of `objects`, and values kapply did not write, are ignored.
pub(crate) fn digests_in_data(body: &Value, objects: &BTreeSet<ObjRef>, base64: bool) -> Digests {
    use base64::Engine as _;
    let Some(data) = body.get("data").and_then(Value::as_object) else { return Digests::new() };
    objects
        .iter()
        .filter_map(|obj| {
            let value = data.get(&obj.to_inventory_key())?.as_str()?;
            let digest = if base64 {
                let bytes = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
                AppliedDigest::parse(std::str::from_utf8(&bytes).ok()?)?
            } else {
                AppliedDigest::parse(value)?
            };
            Some((obj.clone(), digest))
        })
        .collect()
}

fn object_ref_of(body: &Value) -> Option<ObjRef> {
    ObjRef::from_value(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(count: usize) -> Digests {
        let digest = AppliedDigest::parse(&format!("kapply.v1:{}:{}", "ab".repeat(16), "cd".repeat(16)))
            .expect("a recorded value");
        (0..count).map(|i| (ObjRef::new("", "ConfigMap", Some("ns"), format!("cm-{i:02}")), digest)).collect()
    }

    fn names(digests: &Digests) -> Vec<&str> {
        digests.keys().map(|obj| obj.name.as_str()).collect()
    }

    #[test]
    fn digests_that_all_fit_are_all_kept() {
        let mut kept = digests(5);
        keep_what_fits(&mut kept, |d| d.len() <= 5);
        assert_eq!(kept, digests(5));
    }

    #[test]
    fn when_not_all_fit_the_first_in_reference_order_are_kept_as_many_as_fit() {
        for room in 0..12 {
            let mut kept = digests(12);
            keep_what_fits(&mut kept, |d| d.len() <= room);
            let expected = digests(room);
            assert_eq!(names(&kept), names(&expected), "room for {room}");
        }
    }

    #[test]
    fn a_budget_that_depends_on_which_objects_is_respected() {
        // As an ApplySet parent's: each digest costs its key's length too.
        let cost = |d: &Digests| d.keys().map(|obj| obj.name.len() + 80).sum::<usize>();
        let mut kept = digests(10);
        keep_what_fits(&mut kept, |d| cost(d) <= 3 * 85 + 10);
        assert_eq!(names(&kept), ["cm-00", "cm-01", "cm-02"]);
    }
}
