//! [`destroy`]: delete every object of an inventory, then the inventory itself.
//!
//! The objects are removed by the same loop as a prune ([`super::prune_phase`]) — reverse dependency
//! order, each after everything depending on it is gone, keep/detach and ownership honoured — and
//! reported as `Delete` events. The inventory goes last, and only when nothing it lists is left;
//! otherwise it is rewritten with what remains, so a second `destroy` can finish the job.
//!
//! The inventory's own Namespace, when the inventory lists it, cannot be deleted before the
//! inventory (deleting it deletes the inventory). It is deleted last of all: once everything else is
//! gone, the inventory is rewritten to list only that Namespace, and the Namespace is deleted, taking
//! the inventory with it — so at every moment the inventory lists every object that still exists.

use std::collections::BTreeSet;

use super::apply_phase::Applied;
use super::emit::{Emitter, EventSink};
use super::inventory_store::InventoryStore;
use super::prune_phase::PrunePhase;
use super::{ApplyOptions, EngineError, Prepared, Removal};
use crate::cancel::Cancel;
use crate::cluster::Cluster;
use crate::event::{Event, InventoryAction, Plan, PruneOutcome, SkipReason, Summary};
use crate::graph;
use crate::inventory::{self, InventoryInfo};
use crate::object::ObjRef;

/// Deletes every object of the inventory `info`, then the inventory. Uses the prune settings of
/// `options` (policy, propagation, timeout, wait mode, concurrency, dry run).
///
/// # Errors
/// The inventory cannot be read or written. An inventory that does not exist is not an error: there
/// is nothing to destroy.
pub(crate) async fn destroy(
    cluster: &Cluster,
    info: &InventoryInfo,
    options: &ApplyOptions,
    cancel: &Cancel,
    sink: &mut dyn EventSink,
) -> Result<Summary, EngineError> {
    let mut emitter = Emitter::new(sink);
    let store = InventoryStore::new(cluster, info.clone());
    let live = store.read().await?;
    let previous: BTreeSet<ObjRef> = live.as_ref().map(|l| l.inventory.objects.clone()).unwrap_or_default();
    let mut order: Vec<ObjRef> = previous.iter().cloned().collect();
    order.sort_by(graph::cmp_delete_order);
    emitter.emit(Event::Plan(Plan::for_destroy(order.clone(), options.dry_run)));
    let Some(live) = live else {
        // Nothing to destroy is no failure, but say where kapply looked: a mistyped id or namespace
        // would otherwise look like success.
        let message = if info.is_applyset() {
            format!("no ApplySet parent {}: nothing to destroy", info.object_ref())
        } else {
            format!(
                "no inventory {:?} in namespace {}: nothing to destroy (an inventory is found by its \
                 label cli-utils.sigs.k8s.io/inventory-id={})",
                info.id, info.namespace, info.id
            )
        };
        emitter.emit(Event::Warning { obj: None, message });
        return Ok(emitter.finish(cancel.reason()));
    };

    // Found by its id label: its name may differ from the one the flags imply.
    let inventory_ref = ObjRef::from_value(&live.body).unwrap_or_else(|| info.object_ref());
    let nothing_applied = Prepared {
        info: info.clone(),
        objects: Default::default(),
        graph: graph::build(&[], |_| Vec::new()).expect("an empty graph is valid"),
        retained: Default::default(),
    };
    let applied = Applied::default();
    let own_namespace = ObjRef::new("", "Namespace", None, info.namespace.clone());
    let (last, rest): (Vec<ObjRef>, Vec<ObjRef>) = order.into_iter().partition(|obj| *obj == own_namespace);
    PrunePhase::new(cluster, &nothing_applied, options, cancel, &applied, Removal::Delete)
        .run(rest, &mut emitter)
        .await;

    let writes = !options.dry_run.is_dry_run();
    if !last.is_empty() {
        // Deleting the Namespace deletes everything in it: only once every other object is gone —
        // not merely dropped from the inventory (an abandoned object must survive).
        let outcome = emitter.outcome();
        let others_left = !inventory::final_set(&previous, outcome).is_empty()
            || !outcome.abandoned.is_empty()
            || !outcome.prune_skipped.is_empty()
            || !outcome.prune_failed.is_empty();
        if others_left || cancel.is_cancelled() {
            emitter.emit(Event::Delete {
                obj: own_namespace,
                outcome: PruneOutcome::Skipped(if others_left {
                    SkipReason::NamespaceInUse
                } else {
                    SkipReason::stopped(cancel.reason())
                }),
            });
        } else {
            if writes {
                let only_namespace = BTreeSet::from([own_namespace.clone()]);
                let (action, objects) = store.write_union(&only_namespace, store.read().await?).await?;
                emitter.emit(Event::Inventory { inventory: inventory_ref.clone(), action, objects });
            }
            PrunePhase::new(cluster, &nothing_applied, options, cancel, &applied, Removal::Delete)
                .unprotect_inventory_namespace()
                .run(last, &mut emitter)
                .await;
            if writes && inventory::final_set(&previous, emitter.outcome()).is_empty() {
                // The inventory lived in that Namespace: it is gone with it.
                emitter.emit(Event::Inventory {
                    inventory: inventory_ref.clone(),
                    action: InventoryAction::Deleted,
                    objects: 0,
                });
                return Ok(emitter.finish(cancel.reason()));
            }
        }
    }

    let remaining = inventory::final_set(&previous, emitter.outcome());
    if writes {
        if remaining.is_empty() {
            store.delete(&live).await?;
            emitter.emit(Event::Inventory {
                inventory: inventory_ref.clone(),
                action: InventoryAction::Deleted,
                objects: 0,
            });
        } else {
            let (action, objects) =
                store.write_final(&previous, &remaining, &Default::default(), &Default::default()).await?;
            emitter.emit(Event::Inventory { inventory: inventory_ref.clone(), action, objects });
        }
    }
    Ok(emitter.finish(cancel.reason()))
}
