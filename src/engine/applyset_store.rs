//! Reading and writing an inventory kept as a kubectl ApplySet (`inventory/applyset.rs` describes the
//! format): the members are found by their part-of label, in the group-kinds and namespaces the parent
//! lists, and the parent is written with optimistic locking, as the ConfigMap inventory is.
//!
//! The steps mirror the ConfigMap inventory's, at the parent's granularity: before applying, the parent
//! lists the union of the group-kinds and namespaces it listed and those of the new set (so that every
//! object the run may create is found next time, even after a kill); after the run, those of the final
//! set, plus whatever another writer added meanwhile and wherever members still are.
//!
//! The parent's `data` holds kapply's own bookkeeping: the digest of each member's last apply
//! (`inventory::AppliedDigest`), so that an unchanged set is not sent again, as with a ConfigMap
//! inventory. kubectl writes only the parent's metadata and leaves `data` alone; what kubectl changes
//! in a member in its turn changes that member's live state, so its digest no longer matches and
//! kapply applies it again.

use std::collections::BTreeSet;
use std::sync::Mutex;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::cluster::{Cluster, ClusterError};
use crate::event::InventoryAction;
use crate::inventory::{
    APPLYSET_PART_OF_LABEL, ApplySetRecord, Inventory, InventoryFormat, InventoryInfo, KUBECTL_TOOL,
    MAX_DATA_BYTES, MAX_STORED_BYTES, ParentKind, configmap_key_problem, kapply_tooling, parent_body,
    tool_name,
};
use crate::object::{GroupKind, ObjRef};

use super::EngineError;
use super::inventory_store::{Digests, LiveInventory, after_run, digests_in_data, keep_what_fits};

/// How often a write is retried after losing a race with another writer.
const WRITE_ATTEMPTS: usize = 8;

pub(crate) struct ApplySetStore<'c> {
    cluster: &'c Cluster,
    info: InventoryInfo,
    /// What this run's pre-apply write left on the parent: after the run, what the parent lists
    /// beyond it was added by another writer (kept), and what it lists without members is dropped.
    written_before: Mutex<Option<ApplySetRecord>>,
}

/// A live parent's record, and the kinds it lists that the cluster does not serve now.
#[derive(Debug, Clone)]
pub(crate) struct ApplySetLive {
    pub record: ApplySetRecord,
    /// Listed kinds without a served API (a deleted CRD, an aggregated API down): their members, if
    /// any, cannot be read, so these stay listed on every write rather than risk losing track of them.
    pub unserved: BTreeSet<GroupKind>,
}

impl<'c> ApplySetStore<'c> {
    pub(crate) fn new(cluster: &'c Cluster, info: InventoryInfo) -> Self {
        ApplySetStore { cluster, info, written_before: Mutex::new(None) }
    }

    /// The live set: its parent and its members, or None when the parent does not exist.
    pub(crate) async fn read(&self) -> Result<Option<LiveInventory>, EngineError> {
        let parent_ref = self.info.object_ref();
        let Some(body) = self.cluster.get(&parent_ref).await? else {
            return Ok(None);
        };
        let record = ApplySetRecord::from_parent(&body, &self.info.id, &parent_ref.to_string())?;
        let (members, unserved) = self.members(&record).await?;
        let digests = digests_in_data(&body, &members, self.secret());
        let inventory = Inventory::new(&self.info, members);
        let applyset = Some(ApplySetLive { record, unserved });
        Ok(Some(LiveInventory { inventory, body, undecodable: Vec::new(), digests, applyset }))
    }

    /// True when the parent is a Secret (its `data` values are base64).
    fn secret(&self) -> bool {
        self.info.format == InventoryFormat::ApplySet(ParentKind::Secret)
    }

    /// Every object labelled as a member, in the group-kinds and namespaces `record` lists, and the
    /// listed kinds the cluster does not serve (see [`ApplySetLive::unserved`]).
    async fn members(
        &self,
        record: &ApplySetRecord,
    ) -> Result<(BTreeSet<ObjRef>, BTreeSet<GroupKind>), EngineError> {
        let selector = format!("{APPLYSET_PART_OF_LABEL}={}", self.info.id);
        let (mut members, mut unserved) = (BTreeSet::new(), BTreeSet::new());
        for gk in &record.group_kinds {
            let namespaced = match self.cluster.resolve(gk, None).await {
                Ok(resolved) => resolved.namespaced,
                Err(ClusterError::UnknownKind(_)) => {
                    unserved.insert(gk.clone());
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let namespaces: Vec<Option<&str>> = if namespaced {
                record.member_namespaces(&self.info.namespace).map(Some).collect()
            } else {
                vec![None]
            };
            for namespace in namespaces {
                let found = match self.cluster.list_selected(gk, namespace, &selector).await {
                    Ok(found) => found,
                    Err(ClusterError::UnknownKind(_)) => {
                        unserved.insert(gk.clone());
                        continue;
                    }
                    Err(err) => return Err(err.into()),
                };
                members.extend(found.iter().filter_map(ObjRef::from_value));
            }
        }
        Ok((members, unserved))
    }

    /// Before applying: the parent lists the group-kinds and namespaces of `set` too; the digests
    /// stay as they are.
    pub(crate) async fn write_union(
        &self,
        set: &BTreeSet<ObjRef>,
        live: Option<LiveInventory>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let (action, written) = self
            .write(live, |recorded, digests| {
                let mut record = recorded.map(|live| live.record.clone()).unwrap_or_default();
                record.extend(set, &self.info.namespace);
                (record, digests.clone())
            })
            .await?;
        *self.written_before.lock().expect("not poisoned") = Some(written);
        Ok((action, set.len()))
    }

    /// After the run: the parent lists the group-kinds and namespaces of `final_set`, of the members
    /// found now (an object whose deletion is still under way, one another run applied), those another
    /// writer added since this run's pre-apply write (a run under way that has not created them yet),
    /// and the unserved kinds. The digests are this run's applies (`applied`), the recorded ones of the
    /// other members, none for an object whose apply failed (`failed`).
    pub(crate) async fn write_final(
        &self,
        union: &BTreeSet<ObjRef>,
        final_set: &BTreeSet<ObjRef>,
        applied: &Digests,
        failed: &BTreeSet<ObjRef>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let live = self.read().await?;
        let members = live.iter().flat_map(|l| l.inventory.objects.iter().cloned());
        let set: BTreeSet<ObjRef> = final_set.iter().cloned().chain(members).collect();
        // Without a pre-apply write (a dry run never writes; a destroy writes only for a Namespace),
        // what this run knew of is the union.
        let ours = self
            .written_before
            .lock()
            .expect("not poisoned")
            .clone()
            .unwrap_or_else(|| ApplySetRecord::new(union, &self.info.namespace));
        let (action, _) = self
            .write(live, |recorded, digests| {
                let mut record = ApplySetRecord::new(&set, &self.info.namespace);
                if let Some(live) = recorded {
                    let theirs = |gk: &&GroupKind| !ours.group_kinds.contains(*gk);
                    record.group_kinds.extend(live.record.group_kinds.iter().filter(theirs).cloned());
                    record.group_kinds.extend(live.unserved.iter().cloned());
                    let theirs = |ns: &&String| !ours.namespaces.contains(*ns);
                    record.namespaces.extend(live.record.namespaces.iter().filter(theirs).cloned());
                }
                let mut digests = after_run(digests.clone(), applied, failed);
                digests.retain(|obj, _| set.contains(obj));
                (record, digests)
            })
            .await?;
        Ok((action, set.len()))
    }

    /// The write loop: compute the record from the live one, write the parent with its
    /// resourceVersion, re-read and retry on a conflict (keeping what the other writer listed). A
    /// write that would change nothing is not sent. Returns what the parent records now.
    async fn write(
        &self,
        mut live: Option<LiveInventory>,
        compute: impl Fn(Option<&ApplySetLive>, &Digests) -> (ApplySetRecord, Digests),
    ) -> Result<(InventoryAction, ApplySetRecord), EngineError> {
        let parent_ref = self.info.object_ref();
        let no_digests = Digests::new();
        let mut lost_race = false;
        for _ in 0..WRITE_ATTEMPTS {
            let recorded = live.as_ref().and_then(|l| l.applyset.as_ref());
            let recorded_digests = live.as_ref().map_or(&no_digests, |l| &l.digests);
            let (mut record, mut digests) = compute(recorded, recorded_digests);
            let recorded = recorded.map(|live| &live.record);
            record.tooling = tooling_to_write(recorded);
            if lost_race && let Some(recorded) = recorded {
                record.group_kinds.extend(recorded.group_kinds.iter().cloned());
                record.namespaces.extend(recorded.namespaces.iter().cloned());
            }
            // A member whose key no ConfigMap or Secret allows (a ClusterRole named `system:…`) keeps
            // no digest: it is applied on every run.
            digests.retain(|obj, _| configmap_key_problem(&obj.to_inventory_key()).is_none());
            // Too many members to keep all their digests: those without one are applied every run.
            keep_what_fits(&mut digests, |digests| fits(&self.info, digests, self.secret()));
            let unchanged = recorded == Some(&record) && *recorded_digests == digests;
            let result = match &live {
                Some(_) if unchanged => return Ok((InventoryAction::Unchanged, record)),
                Some(current) => {
                    let mut body = parent_body(&parent_ref, &self.info.id, &record, Some(&current.body));
                    set_digests(&mut body, &digests, self.secret());
                    self.cluster.replace(&parent_ref, &body).await.map(|_| InventoryAction::Updated)
                }
                None => {
                    let mut body = parent_body(&parent_ref, &self.info.id, &record, None);
                    set_digests(&mut body, &digests, self.secret());
                    self.cluster.create(&parent_ref, &body).await.map(|_| InventoryAction::Created)
                }
            };
            match result {
                Ok(action) => return Ok((action, record)),
                Err(ClusterError::Api { code: 409, .. }) => {
                    lost_race = true;
                    live = self.read().await?;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(EngineError::Invalid(format!(
            "could not write the ApplySet parent {}: other writers changed it {WRITE_ATTEMPTS} times in a \
             row; is another kapply or kubectl running on it? Run again once it is done",
            self.info
        )))
    }

    /// Deletes the parent (end of a destroy).
    pub(crate) async fn delete(&self, live: &LiveInventory) -> Result<(), EngineError> {
        let uid = live.body.pointer("/metadata/uid").and_then(Value::as_str);
        let policy = kube::api::PropagationPolicy::Background;
        self.cluster.delete(&self.info.object_ref(), uid, policy, false).await?;
        Ok(())
    }
}

/// The bytes a digest adds to a `data` entry (its value, quoted; a Secret's in base64).
const DIGEST_ENTRY_BYTES: usize = 80;
const SECRET_DIGEST_ENTRY_BYTES: usize = 110;

/// True when the parent can hold `digests` within the size a ConfigMap or Secret allows.
fn fits(info: &InventoryInfo, digests: &Digests, secret: bool) -> bool {
    let objects: BTreeSet<ObjRef> = digests.keys().cloned().collect();
    let estimate = Inventory::new(info, objects).size_estimate();
    let added = digests.len() * if secret { SECRET_DIGEST_ENTRY_BYTES } else { DIGEST_ENTRY_BYTES };
    estimate.data_bytes + added <= MAX_DATA_BYTES && estimate.stored_bytes + added <= MAX_STORED_BYTES
}

/// Sets the parent's `data` to `digests`, keeping entries that are no digest of kapply's.
fn set_digests(body: &mut Value, digests: &Digests, secret: bool) {
    let mut data: Map<String, Value> = body
        .get("data")
        .and_then(Value::as_object)
        .map(|old| {
            old.iter()
                .filter(|(key, _)| ObjRef::from_inventory_key(key).is_err())
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (obj, digest) in digests {
        let value = digest.to_value();
        let value = if secret { base64::engine::general_purpose::STANDARD.encode(value) } else { value };
        data.insert(obj.to_inventory_key(), Value::String(value));
    }
    if let Some(map) = body.as_object_mut() {
        if data.is_empty() {
            map.remove("data");
        } else {
            map.insert("data".into(), Value::Object(data));
        }
    }
}

/// The tooling a write leaves on the parent: kubectl's as it is (kapply writes nothing kubectl would
/// not, so kubectl can take its next turn), else kapply's own.
fn tooling_to_write(recorded: Option<&ApplySetRecord>) -> String {
    match recorded {
        Some(recorded) if tool_name(&recorded.tooling) == KUBECTL_TOOL => recorded.tooling.clone(),
        _ => kapply_tooling(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::AppliedDigest;

    #[test]
    fn digests_round_trip_through_a_secrets_base64_and_leave_other_data_alone() {
        let obj = ObjRef::new("", "ConfigMap", Some("prod"), "a");
        let value = format!("kapply.v1:{}:{}", "0a".repeat(16), "1b".repeat(16));
        let digest = AppliedDigest::parse(&value).expect("a digest value");
        let digests = Digests::from([(obj.clone(), digest)]);
        let members = BTreeSet::from([obj.clone()]);
        for secret in [true, false] {
            let mut body = serde_json::json!({"data": {"note": "kept"}});
            set_digests(&mut body, &digests, secret);
            assert_eq!(body["data"]["note"], "kept");
            assert_eq!(digests_in_data(&body, &members, secret), digests, "secret: {secret}");
            set_digests(&mut body, &Digests::new(), secret);
            assert_eq!(body["data"], serde_json::json!({"note": "kept"}));
        }
    }

    #[test]
    fn kubectls_tooling_is_kept_and_any_other_becomes_kapplys() {
        let with = |tooling: &str| ApplySetRecord { tooling: tooling.into(), ..Default::default() };
        assert_eq!(tooling_to_write(Some(&with("kubectl/v1.37.1"))), "kubectl/v1.37.1");
        assert_eq!(tooling_to_write(Some(&with("kapply/v0.0.1"))), kapply_tooling());
        assert_eq!(tooling_to_write(None), kapply_tooling());
    }
}
