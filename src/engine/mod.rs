//! The engine: runs a validated object set against a cluster and reports everything as [`Event`]s.
//!
//! Entry points: [`prepare()`] turns loaded manifests into a [`Prepared`] run (inventory found, kinds
//! resolved, dependency graph built — nothing written), and `apply` executes it:
//!
//! 1. read the live inventory; send every object new to it as a server-side dry run with strict
//!    field validation (`validate`), so that what the server's schema refuses fails the run as
//!    invalid input before anything is written; then write the union of the inventory's objects and
//!    the new set ([`crate::inventory::union`]), so a crash at any later point orphans nothing;
//! 2. the apply loop (`apply_phase`): each object is server-side-applied as soon as everything it
//!    depends on is Current, up to `concurrency` requests at once, and then waited for by batched status
//!    polling; a failure or timeout skips only the objects depending on it;
//! 3. the prune loop (`prune_phase`): objects recorded before and absent now are deleted in reverse
//!    dependency order, behind the safety filters of [`crate::inventory::PruneFilters`] — and not at
//!    all when an apply of step 2 failed, or when the user may not delete every one of them;
//! 4. the inventory is written once more, listing what really exists.
//!
//! The engine never prints: it hands every event to an [`EventSink`], and the printers show them.
//!
//! # Cancellation
//! A `Cancel` (the caller's token and the run's timeout) stops a run cleanly: no new apply starts,
//! requests in flight finish and are reported, waits end as skipped (interrupted) or timed out, nothing
//! is pruned, and the inventory is still written with every object that may exist. A kill (SIGKILL) at
//! any moment is covered by step 1.

mod apply_phase;
mod applyset_store;
mod destroy;
mod diff;
mod discovery_gate;
mod emit;
mod inventory_store;
mod live;
mod prepare;
mod prune_phase;
mod validate;

use std::collections::BTreeSet;
use std::time::Duration;

use kube::api::PropagationPolicy;

pub(crate) use crate::cancel::Cancel;
pub use crate::cancel::CancelReason;
pub(crate) use destroy::destroy;
pub use diff::{DiffOptions, ObjectDiff, diff};
pub use emit::EventSink;
pub use prepare::{InventoryFlags, Prepared, prepare};

use crate::cluster::{Cluster, ClusterError};
use crate::event::{DryRun, Event, Plan, Summary};
use crate::inventory::{self, InventoryError, InventoryPolicy};
use crate::object::ObjRef;
use crate::wait::{FailFast, WaitMode};

/// The default number of requests in flight (see docs/apply.md).
pub const DEFAULT_CONCURRENCY: u16 = 16;

/// A deletion propagation policy (`--prune-propagation-policy`, `--delete-propagation-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the object now; the garbage collector deletes its dependents afterwards.
    #[default]
    Background,
    /// Delete the dependents first; the object disappears last.
    Foreground,
    /// Leave the dependents, removing their owner references.
    Orphan,
}

impl Propagation {
    pub(crate) fn policy(self) -> PropagationPolicy {
        match self {
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Foreground => PropagationPolicy::Foreground,
            Propagation::Orphan => PropagationPolicy::Orphan,
        }
    }
}

impl std::str::FromStr for Propagation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "background" => Ok(Propagation::Background),
            "foreground" => Ok(Propagation::Foreground),
            "orphan" => Ok(Propagation::Orphan),
            _ => Err(format!(
                "unknown propagation policy {text:?} (expected Background, Foreground or Orphan)"
            )),
        }
    }
}

/// How an apply run behaves: the `kapply apply` flags, resolved.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The field manager of the server-side applies.
    pub field_manager: String,
    /// Take over fields another manager owns instead of failing with a conflict.
    pub force_conflicts: bool,
    /// Which existing objects may be taken over, and which candidates pruned.
    pub policy: InventoryPolicy,
    /// How long each applied object may take to become Current.
    pub reconcile_timeout: Duration,
    /// Do not wait for objects nothing in the set depends on.
    pub no_wait: bool,
    /// How often polling mode LISTs what it waits for.
    pub poll_period: Duration,
    /// How waited-for objects are observed: watches (default) or polling.
    pub wait_mode: WaitMode,
    /// Requests in flight at once (at least 1).
    pub concurrency: usize,
    /// Leave prune candidates alone (they stay recorded).
    pub no_prune: bool,
    /// How the garbage collector treats what a pruned (deleted) object owns.
    pub prune_propagation: Propagation,
    /// How long each pruned (deleted) object may take to disappear.
    pub prune_timeout: Duration,
    /// Delete and re-create an object whose apply the server refuses for an immutable field.
    pub recreate_on_immutable: bool,
    /// Detail reasons (`CrashLoopBackOff`, …) that end an object's wait as Failed once seen for the
    /// grace period (`--fail-fast-on`, `--fail-fast-grace`); empty by default: details only inform.
    pub fail_fast: FailFast,
    /// A Job is Current only once Complete (`--wait-for-jobs`); off by default, as in kstatus.
    pub wait_for_jobs: bool,
    /// `preview`: `Client` sends no write, `Server` sends every write as a server dry run. Either way
    /// the inventory is not written and nothing is waited for.
    pub dry_run: DryRun,
    /// Send every apply, even of an object whose configuration and live state match the inventory's
    /// record of its last apply (`inventory::AppliedDigest`); by default such an object is not sent.
    pub always_apply: bool,
}

impl ApplyOptions {
    /// How the apply phase computes statuses: kstatus, with `--wait-for-jobs` when asked.
    pub(crate) fn status_options(&self) -> crate::kstatus::Options {
        crate::kstatus::Options { wait_for_jobs: self.wait_for_jobs }
    }
}

/// Whether the prune loop reports `Prune` (apply) or `Delete` (destroy) events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    Prune,
    Delete,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            field_manager: "kapply".to_owned(),
            force_conflicts: false,
            policy: InventoryPolicy::Strict,
            reconcile_timeout: Duration::from_secs(300),
            no_wait: false,
            poll_period: Duration::from_secs(1),
            wait_mode: WaitMode::default(),
            concurrency: DEFAULT_CONCURRENCY as usize,
            no_prune: false,
            prune_propagation: Propagation::Background,
            prune_timeout: Duration::from_secs(300),
            recreate_on_immutable: false,
            fail_fast: FailFast::default(),
            wait_for_jobs: false,
            dry_run: DryRun::None,
            always_apply: false,
        }
    }
}

/// A failure of the whole run. Per-object failures are events, never this.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input is invalid: nothing was written (exit 2).
    #[error("{0}")]
    Invalid(String),
    /// The inventory cannot be read or written.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// The cluster failed a request the run cannot go on without.
    #[error(transparent)]
    Cluster(Box<ClusterError>),
}

impl From<ClusterError> for EngineError {
    fn from(error: ClusterError) -> Self {
        EngineError::Cluster(Box::new(error))
    }
}

impl EngineError {
    /// The setting that resolves the error, when one does (printed as a hint, e.g. as a flag).
    pub fn setting(&self) -> Option<crate::event::Setting> {
        match self {
            EngineError::Inventory(error) => error.setting(),
            EngineError::Invalid(_) | EngineError::Cluster(_) => None,
        }
    }

    /// True when the run stopped before writing anything because the input is bad.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            EngineError::Invalid(_) => true,
            EngineError::Inventory(error) => error.is_input_error(),
            EngineError::Cluster(_) => false,
        }
    }
}

/// Every depends-on or apply-time-mutation source outside the set must exist in the cluster: checked
/// before anything is written, so that a dangling reference is an input error (exit 2), not a half-run.
async fn check_external_dependencies(cluster: &Cluster, prepared: &Prepared) -> Result<(), EngineError> {
    let mut problems = Vec::new();
    for dep in prepared.graph.external() {
        let exists = match cluster.get(&dep.to).await {
            Ok(found) => found.is_some(),
            Err(ClusterError::UnknownKind(_)) => false,
            Err(err) => return Err(err.into()),
        };
        if !exists {
            let source = prepared.objects.get(&dep.from).map(|o| o.source.to_string()).unwrap_or_default();
            problems.push(format!(
                "{source}: {} depends on {} ({}), which is neither in the set nor in the cluster; add it to the \
                 manifests or remove the reference",
                dep.from, dep.to, dep.via
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(EngineError::Invalid(problems.join("\n"))) }
}

/// The live inventory `info` names, None when it does not exist (`kapply status`).
///
/// # Errors
/// The inventory cannot be read, or several ConfigMaps carry its id.
pub async fn read_inventory(
    cluster: &Cluster,
    info: &inventory::InventoryInfo,
) -> Result<Option<inventory::Inventory>, EngineError> {
    let store = inventory_store::InventoryStore::new(cluster, info.clone());
    Ok(store.read().await?.map(|live| live.inventory))
}

/// Every inventory in the cluster, in namespace and name order: kapply's and cli-utils' ConfigMaps
/// (found by their id label), and the ApplySets of kapply and kubectl (Secrets and ConfigMaps found
/// by their `applyset.kubernetes.io/id` label, each with its members). A parent kapply cannot read
/// (another tool's, or an id that does not match it) is left out.
///
/// # Errors
/// The ConfigMaps or Secrets cannot be listed, or an ApplySet's members cannot be.
pub async fn list_inventories(cluster: &Cluster) -> Result<Vec<inventory::Inventory>, EngineError> {
    let gk = crate::object::GroupKind::new("", "ConfigMap");
    let found = cluster.list_selected(&gk, None, crate::object::INVENTORY_ID_LABEL).await?;
    let mut inventories: Vec<inventory::Inventory> = found
        .iter()
        .filter_map(|cm| inventory::Inventory::from_configmap(cm).ok())
        .map(|(inv, _)| inv)
        .collect();
    for kind in [inventory::ParentKind::Secret, inventory::ParentKind::ConfigMap] {
        let gk = crate::object::GroupKind::new("", kind.kind());
        for parent in cluster.list_selected(&gk, None, inventory::APPLYSET_ID_LABEL).await? {
            let Some(parent) = ObjRef::from_value(&parent) else { continue };
            let applyset = inventory::ApplySetParent { kind, name: parent.name.clone() };
            let Ok(info) = inventory::InventoryInfo::applyset(&applyset, parent.namespace.as_deref()) else {
                continue;
            };
            match applyset_store::ApplySetStore::new(cluster, info).read().await {
                Ok(Some(live)) => inventories.push(live.inventory),
                Ok(None) | Err(EngineError::Inventory(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }
    inventories.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(inventories)
}

/// Applies a prepared set: see the [module documentation](self) for the steps and their order.
///
/// # Errors
/// Only failures of the whole run: the live inventory cannot be read (or several ConfigMaps carry its
/// id), the server's dry run refuses objects new to the inventory as invalid
/// ([`EngineError::Invalid`], nothing written), an inventory write fails, or the inventory would
/// exceed a ConfigMap's size. Everything about one object is an event.
pub(crate) async fn apply(
    cluster: &Cluster,
    prepared: &Prepared,
    options: &ApplyOptions,
    cancel: &Cancel,
    sink: &mut dyn EventSink,
) -> Result<Summary, EngineError> {
    let mut emitter = emit::Emitter::new(sink);
    let store = inventory_store::InventoryStore::new(cluster, prepared.info.clone());
    let live_inventory = store.read().await?;
    let previous: BTreeSet<ObjRef> =
        live_inventory.as_ref().map(|l| l.inventory.objects.clone()).unwrap_or_default();
    // Found by its id label: its name may differ from the one the flags imply.
    let inventory_ref = live_inventory
        .as_ref()
        .and_then(|l| ObjRef::from_value(&l.body))
        .unwrap_or_else(|| prepared.info.object_ref());
    let refs: Vec<ObjRef> = prepared.graph.objects().to_vec();
    // Objects a selector left out are no candidates: a filtered run prunes only what it loaded.
    let mut candidates = inventory::prune_candidates(&previous, &prepared.kept_refs());
    candidates.sort_by(crate::graph::cmp_delete_order);
    let planned_prune = if options.no_prune { Vec::new() } else { candidates.clone() };
    emitter.emit(Event::Plan(Plan::for_apply(prepared.graph.waves(), planned_prune, options.dry_run)));

    let recorded = live_inventory.as_ref().map(|l| l.digests.clone()).unwrap_or_default();
    let listed_for_prune: &[ObjRef] = if options.no_prune { &[] } else { &candidates };
    let applier =
        apply_phase::ApplyPhase::new(cluster, prepared, options, cancel, &recorded, listed_for_prune);
    check_external_dependencies(cluster, prepared).await?;
    let union = inventory::union(&previous, &refs);
    let early = if options.dry_run.is_dry_run() {
        None
    } else {
        // What the server's schema refuses is an input error, found before the first write.
        validate::validate_new_objects(cluster, prepared, &previous, options).await?;
        // A first apply into a namespace that does not exist yet: the inventory lives there, so the
        // Namespace goes first (its Apply event follows the inventory event, keeping the event order).
        let early = applier.apply_inventory_namespace().await;
        let (action, objects) = store.write_union(&union, live_inventory).await?;
        emitter.emit(Event::Inventory { inventory: inventory_ref.clone(), action, objects });
        early
    };
    let applied = applier.run(early, &mut emitter).await;

    // With `--no-prune` the candidates are in no event (the plan names none): not considered.
    let not_pruned = if options.no_prune {
        candidates
    } else {
        let pruner =
            prune_phase::PrunePhase::new(cluster, prepared, options, cancel, &applied, Removal::Prune);
        pruner.run(candidates, &mut emitter).await;
        Vec::new()
    };

    if !options.dry_run.is_dry_run() {
        // What the events said of each object (`inventory::Outcome::observe`), and the candidates
        // not considered, which stay recorded.
        let mut outcome = emitter.outcome().clone();
        outcome.prune_skipped.extend(not_pruned);
        outcome.prune_skipped.extend(prepared.retained.keys().cloned());
        let final_set = inventory::final_set(&previous, &outcome);
        let (action, objects) =
            store.write_final(&union, &final_set, &applied.digests, &outcome.apply_failed).await?;
        emitter.emit(Event::Inventory { inventory: inventory_ref.clone(), action, objects });
    }
    Ok(emitter.finish(cancel.reason()))
}
