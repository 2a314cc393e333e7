//! The work on one prune candidate: its delete (UID-preconditioned) or the removal of our claim on
//! it sent to the cluster, and the error of an object that exists again after it was seen gone.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::cluster::DeleteResult;
use crate::event::{AbandonReason, DryRun, ObjectError};
use crate::inventory::APPLYSET_PART_OF_LABEL;
use crate::object::{OWNING_INVENTORY, ObjRef};

use super::PrunePhase;
use super::decide::Action;
use super::settle::Settled;
use crate::engine::apply_phase::object_error;

pub(super) enum ActionResult {
    Deleted(DeleteResult),
    Unclaimed(AbandonReason),
    Failed(ObjectError),
    /// Not sent: the run was cancelled while a Namespace waited for its Pods.
    Stopped(Option<crate::CancelReason>),
}

impl PrunePhase<'_> {
    /// `deleted`: for a Namespace, the UIDs of what this run deleted in it, whose Pods its delete
    /// waits for ([`super::settle`]).
    pub(super) async fn act(
        &self,
        obj: &ObjRef,
        action: Action,
        deleted: Option<&HashSet<String>>,
    ) -> ActionResult {
        match action {
            Action::Delete { .. } if self.options.dry_run == DryRun::Client => {
                ActionResult::Deleted(DeleteResult::Gone)
            }
            Action::Delete { uid } => {
                let dry_run = self.options.dry_run == DryRun::Server;
                if let Some(deleted) = deleted.filter(|d| !dry_run && !d.is_empty())
                    && self.settle_pods(&obj.name, deleted).await == Settled::Stopped
                {
                    return ActionResult::Stopped(self.cancel.reason());
                }
                match self
                    .cluster
                    .delete(obj, uid.as_deref(), self.options.prune_propagation.policy(), dry_run)
                    .await
                {
                    Ok(result) => ActionResult::Deleted(result),
                    Err(err) => ActionResult::Failed(object_error(err)),
                }
            }
            // A merge patch has no dry run in kube's API: a preview only says what would happen.
            Action::Unclaim(reason) if self.options.dry_run.is_dry_run() => ActionResult::Unclaimed(reason),
            Action::Unclaim(reason) => {
                // An ApplySet member is one by its label: an abandoned object loses it too, or the
                // next run (and kubectl's prune) would find it a member again.
                let patch = if self.prepared.info.is_applyset() {
                    json!({"metadata": {"annotations": {OWNING_INVENTORY: null},
                                        "labels": {APPLYSET_PART_OF_LABEL: null}}})
                } else {
                    json!({"metadata": {"annotations": {OWNING_INVENTORY: null}}})
                };
                match self.cluster.merge_patch(obj, &patch).await {
                    Ok(_) => ActionResult::Unclaimed(reason),
                    Err(err) => ActionResult::Failed(object_error(err)),
                }
            }
        }
    }
}

/// The error of an object that exists again after it was seen gone.
pub(super) fn reappeared(obj: &ObjRef, body: &Value) -> ObjectError {
    let uid = body.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("unknown");
    let ours = crate::object::annotation(body, OWNING_INVENTORY).is_some();
    let by = if ours { "re-applied with this inventory's annotation" } else { "re-created by someone else" };
    ObjectError::new(format!("was deleted, but exists again (uid {uid}, {by}); it stays in the inventory"))
        .with_hint(format!(
            "find what re-creates {obj} (a controller, another tool) and stop it, then re-run; or delete it \
             yourself"
        ))
}
