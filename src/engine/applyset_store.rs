//! Reading and writing an inventory kept as a kubectl ApplySet (`inventory/applyset.rs` describes the
//! format): the members are found by their part-of label, in the group-kinds and namespaces the parent
//! lists, and the parent is written with optimistic locking, as the ConfigMap inventory is.
//!
//! The steps mirror the ConfigMap inventory's, at the parent's granularity: before applying, the parent
//! lists the union of the group-kinds and namespaces it listed and those of the new set (so that every
//! object the run may create is found next time, even after a kill); after the run, those of the final
//! set, plus whatever another writer added meanwhile and wherever members still are.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::event::InventoryAction;
use crate::inventory::{
    APPLYSET_PART_OF_LABEL, ApplySetRecord, Inventory, InventoryInfo, KUBECTL_TOOL, kapply_tooling,
    parent_body, tool_name,
};
use crate::object::{GroupKind, ObjRef};

use super::EngineError;
use super::inventory_store::LiveInventory;

/// How often a write is retried after losing a race with another writer.
const WRITE_ATTEMPTS: usize = 8;

pub(crate) struct ApplySetStore<'c> {
    cluster: &'c Cluster,
    info: InventoryInfo,
}

impl<'c> ApplySetStore<'c> {
    pub(crate) fn new(cluster: &'c Cluster, info: InventoryInfo) -> Self {
        ApplySetStore { cluster, info }
    }

    /// The live set: its parent and its members, or None when the parent does not exist.
    pub(crate) async fn read(&self) -> Result<Option<LiveInventory>, EngineError> {
        let parent_ref = self.info.object_ref();
        let Some(body) = self.cluster.get(&parent_ref).await? else {
            return Ok(None);
        };
        let mut record = ApplySetRecord::from_parent(&body, &self.info.id, &parent_ref.to_string())?;
        let members = self.members(&mut record).await?;
        let inventory = Inventory::new(&self.info, members);
        Ok(Some(LiveInventory {
            inventory,
            body,
            undecodable: Vec::new(),
            digests: Default::default(),
            applyset: Some(record),
        }))
    }

    /// Every object labelled as a member, in the group-kinds and namespaces `record` lists. A kind the
    /// cluster does not serve (its CRD deleted) has no members to find; it stays listed, in case it is
    /// served again (a removed aggregated API), rather than risk losing track of its members.
    async fn members(&self, record: &mut ApplySetRecord) -> Result<BTreeSet<ObjRef>, EngineError> {
        let selector = format!("{APPLYSET_PART_OF_LABEL}={}", self.info.id);
        let mut members = BTreeSet::new();
        for gk in record.group_kinds.clone() {
            let namespaced = match self.cluster.resolve(&gk, None).await {
                Ok(resolved) => resolved.namespaced,
                Err(ClusterError::UnknownKind(_)) => continue,
                Err(err) => return Err(err.into()),
            };
            let namespaces: Vec<Option<&str>> = if namespaced {
                record.member_namespaces(&self.info.namespace).map(Some).collect()
            } else {
                vec![None]
            };
            for namespace in namespaces {
                let found = match self.cluster.list_selected(&gk, namespace, &selector).await {
                    Ok(found) => found,
                    Err(ClusterError::UnknownKind(_)) => continue,
                    Err(err) => return Err(err.into()),
                };
                members.extend(found.iter().filter_map(ObjRef::from_value));
            }
        }
        Ok(members)
    }

    /// Before applying: the parent lists the group-kinds and namespaces of `set` too.
    pub(crate) async fn write_union(
        &self,
        set: &BTreeSet<ObjRef>,
        live: Option<LiveInventory>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let count = set.len();
        self.write(live, |recorded| {
            let mut record = recorded.cloned().unwrap_or_default();
            record.extend(set, &self.info.namespace);
            record
        })
        .await
        .map(|action| (action, count))
    }

    /// After the run: the parent lists the group-kinds and namespaces of `final_set`, of the members
    /// found now (an object whose deletion is still under way, one another run applied), and those
    /// another writer added since `union` was written.
    pub(crate) async fn write_final(
        &self,
        union: &BTreeSet<ObjRef>,
        final_set: &BTreeSet<ObjRef>,
    ) -> Result<(InventoryAction, usize), EngineError> {
        let live = self.read().await?;
        let members: BTreeSet<ObjRef> =
            live.iter().flat_map(|l| l.inventory.objects.iter().cloned()).collect();
        let count = final_set.union(&members).count();
        let ours = ApplySetRecord::new(union, &self.info.namespace);
        self.write(live, |recorded| {
            let mut record = ApplySetRecord::new(final_set.iter().chain(&members), &self.info.namespace);
            if let Some(recorded) = recorded {
                let theirs = |gk: &&GroupKind| !ours.group_kinds.contains(*gk);
                record.group_kinds.extend(recorded.group_kinds.iter().filter(theirs).cloned());
                let theirs = |ns: &&String| !ours.namespaces.contains(*ns);
                record.namespaces.extend(recorded.namespaces.iter().filter(theirs).cloned());
            }
            record
        })
        .await
        .map(|action| (action, count))
    }

    /// The write loop: compute the record from the live one, write the parent with its
    /// resourceVersion, re-read and retry on a conflict (keeping what the other writer listed). A
    /// write that would change nothing is not sent.
    async fn write(
        &self,
        mut live: Option<LiveInventory>,
        compute: impl Fn(Option<&ApplySetRecord>) -> ApplySetRecord,
    ) -> Result<InventoryAction, EngineError> {
        let parent_ref = self.info.object_ref();
        let mut lost_race = false;
        for _ in 0..WRITE_ATTEMPTS {
            let recorded = live.as_ref().and_then(|l| l.applyset.as_ref());
            let mut record = compute(recorded);
            record.tooling = tooling_to_write(recorded);
            if lost_race && let Some(recorded) = recorded {
                record.group_kinds.extend(recorded.group_kinds.iter().cloned());
                record.namespaces.extend(recorded.namespaces.iter().cloned());
            }
            let result = match &live {
                Some(_) if recorded == Some(&record) => return Ok(InventoryAction::Unchanged),
                Some(current) => {
                    let body = parent_body(&parent_ref, &self.info.id, &record, Some(&current.body));
                    self.cluster.replace(&parent_ref, &body).await.map(|_| InventoryAction::Updated)
                }
                None => {
                    let body = parent_body(&parent_ref, &self.info.id, &record, None);
                    self.cluster.create(&parent_ref, &body).await.map(|_| InventoryAction::Created)
                }
            };
            match result {
                Ok(action) => return Ok(action),
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

    #[test]
    fn kubectls_tooling_is_kept_and_any_other_becomes_kapplys() {
        let with = |tooling: &str| ApplySetRecord { tooling: tooling.into(), ..Default::default() };
        assert_eq!(tooling_to_write(Some(&with("kubectl/v1.37.1"))), "kubectl/v1.37.1");
        assert_eq!(tooling_to_write(Some(&with("kapply/v0.0.1"))), kapply_tooling());
        assert_eq!(tooling_to_write(None), kapply_tooling());
    }
}
