//! Set arithmetic around a run: what to prune ([`prune_candidates`]), what to write before applying
//! ([`union`]) and after ([`final_set`]), and the prune safety filters needing the whole run
//! ([`PruneFilters`]).

use std::collections::BTreeSet;

use serde_json::Value;

use super::outcome::Outcome;
use super::policy::{InventoryPolicy, PruneSkip, check_prune};
use crate::object::ObjRef;

/// The objects recorded by the previous run and absent from the current set, in [`ObjRef`] order (the
/// engine orders them for deletion).
pub fn prune_candidates(previous: &BTreeSet<ObjRef>, current: &[ObjRef]) -> Vec<ObjRef> {
    let current: BTreeSet<&ObjRef> = current.iter().collect();
    previous.iter().filter(|obj| !current.contains(obj)).cloned().collect()
}

/// The set to write before applying anything: old and new together. Whatever happens next — a failure,
/// a kill — every object this run may create is recorded, and no recorded object is forgotten.
pub fn union(old: &BTreeSet<ObjRef>, new: &[ObjRef]) -> BTreeSet<ObjRef> {
    old.iter().chain(new).cloned().collect()
}

/// The set to write after a run: everything that may exist in the cluster as this inventory's, and
/// nothing it gave up.
///
/// - successful applies;
/// - failed applies, new or not: an apply that failed on the client side (a timeout) may still have
///   created the object, and recording a missing object costs nothing (the next prune finds it gone).
///   cli-utils keeps only those recorded before, which can orphan such an object;
/// - skipped applies, failed and skipped prunes, and invalid objects — if `previous` recorded them
///   (cli-utils' rule: a skip never adds an object, since it may be another inventory's);
/// - minus abandoned objects.
///
/// Stale references skipped with [`PruneSkip::JustApplied`] are in no set, so they drop out (cli-utils
/// keeps them forever, cli-utils#613).
pub fn final_set(previous: &BTreeSet<ObjRef>, outcome: &Outcome) -> BTreeSet<ObjRef> {
    let kept_if_recorded = outcome
        .apply_skipped
        .iter()
        .chain(&outcome.prune_failed)
        .chain(&outcome.prune_skipped)
        .filter(|obj| previous.contains(obj));
    let mut set: BTreeSet<ObjRef> =
        outcome.applied.iter().chain(&outcome.apply_failed).chain(kept_if_recorded).cloned().collect();
    set.retain(|obj| !outcome.abandoned.contains(obj));
    set.extend(outcome.invalid.iter().filter(|obj| previous.contains(obj)).cloned());
    set
}

/// The namespaces a prune must not delete: those of the current objects, and the inventory's own
/// (deleting it would delete the inventory, and everything in it — cli-utils#274).
pub fn local_namespaces(inventory_namespace: &str, current: &[ObjRef]) -> BTreeSet<String> {
    current
        .iter()
        .filter_map(|obj| obj.namespace.clone())
        .chain(std::iter::once(inventory_namespace.to_owned()))
        .collect()
}

/// Every prune safety filter that is a pure decision, for one run.
///
/// Order: the UID check first (an object just applied under another reference is never touched, not
/// even to remove a keep annotation's owner claim), then keep/detach and policy ([`check_prune`]), then
/// namespaces in use. Dependency ordering (never delete an object something still applied depends on)
/// belongs to the engine's delete scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneFilters {
    /// The run's inventory policy: which owners' objects it may prune.
    pub policy: InventoryPolicy,
    /// The id of the run's inventory: objects annotated with it are ours to prune.
    pub inventory_id: String,
    /// [`local_namespaces`] of the run.
    pub local_namespaces: BTreeSet<String>,
    /// UIDs of the objects this run applied.
    pub applied_uids: BTreeSet<String>,
}

impl PruneFilters {
    /// Decides whether the prune candidate `candidate`, live as `live`, may be deleted.
    ///
    /// # Errors
    /// The first [`PruneSkip`] reason, in the order above.
    pub fn check(&self, candidate: &ObjRef, live: &Value) -> Result<(), PruneSkip> {
        if let Some(uid) = live.get("metadata").and_then(|m| m.get("uid")).and_then(Value::as_str)
            && self.applied_uids.contains(uid)
        {
            return Err(PruneSkip::JustApplied { uid: uid.to_owned() });
        }
        check_prune(self.policy, &self.inventory_id, live)?;
        if candidate.group_kind().is_namespace() && self.local_namespaces.contains(&candidate.name) {
            return Err(PruneSkip::NamespaceInUse { namespace: candidate.name.clone() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{cm, live_owned_by, set};
    use super::*;
    use crate::object::{ON_REMOVE, OWNING_INVENTORY};

    #[test]
    fn prune_candidates_are_the_previous_objects_no_longer_in_the_set() {
        let previous = set(&["a", "b", "c"]);
        assert_eq!(prune_candidates(&previous, &[cm("b"), cm("d")]), vec![cm("a"), cm("c")]);
        assert!(prune_candidates(&previous, &[cm("a"), cm("b"), cm("c")]).is_empty());
        assert!(prune_candidates(&BTreeSet::new(), &[cm("a")]).is_empty());
    }

    #[test]
    fn a_namespace_move_is_a_prune_of_the_old_reference() {
        let previous: BTreeSet<ObjRef> = [ObjRef::new("", "ConfigMap", Some("old"), "a")].into();
        let moved = [ObjRef::new("", "ConfigMap", Some("new"), "a")];
        assert_eq!(prune_candidates(&previous, &moved), vec![ObjRef::new("", "ConfigMap", Some("old"), "a")]);
    }

    #[test]
    fn the_pre_apply_write_is_the_union_of_old_and_new() {
        assert_eq!(union(&set(&["a", "b"]), &[cm("b"), cm("c")]), set(&["a", "b", "c"]));
    }

    #[test]
    fn the_final_set_keeps_successful_applies_and_drops_successful_prunes() {
        let previous = set(&["a", "gone"]);
        let outcome = Outcome { applied: set(&["a", "new"]), ..Outcome::default() };
        assert_eq!(final_set(&previous, &outcome), set(&["a", "new"]));
    }

    #[test]
    fn the_final_set_keeps_failed_and_skipped_prunes_that_were_recorded() {
        let previous = set(&["failed", "skipped"]);
        let outcome = Outcome {
            prune_failed: set(&["failed", "never-recorded"]),
            prune_skipped: set(&["skipped", "also-never-recorded"]),
            ..Outcome::default()
        };
        assert_eq!(final_set(&previous, &outcome), set(&["failed", "skipped"]));
    }

    #[test]
    fn the_final_set_keeps_failed_applies_even_new_ones() {
        let previous = set(&["old"]);
        let outcome = Outcome { apply_failed: set(&["old", "new"]), ..Outcome::default() };
        assert_eq!(final_set(&previous, &outcome), set(&["new", "old"]));
    }

    #[test]
    fn the_final_set_keeps_skipped_applies_only_when_recorded_before() {
        let previous = set(&["ours"]);
        let outcome = Outcome { apply_skipped: set(&["ours", "someone-elses"]), ..Outcome::default() };
        assert_eq!(final_set(&previous, &outcome), set(&["ours"]));
    }

    #[test]
    fn the_final_set_drops_abandoned_objects() {
        let previous = set(&["kept", "a"]);
        let outcome = Outcome { applied: set(&["a"]), abandoned: set(&["kept"]), ..Outcome::default() };
        assert_eq!(final_set(&previous, &outcome), set(&["a"]));
    }

    #[test]
    fn the_final_set_keeps_recorded_invalid_objects() {
        let previous = set(&["bad"]);
        let outcome = Outcome { invalid: set(&["bad", "bad-new"]), ..Outcome::default() };
        assert_eq!(final_set(&previous, &outcome), set(&["bad"]));
    }

    #[test]
    fn local_namespaces_are_those_of_the_set_and_the_inventory() {
        let current =
            [cm("a"), ObjRef::new("", "Namespace", None, "ns"), ObjRef::new("", "Secret", Some("b"), "s")];
        let expected: BTreeSet<String> = ["b", "inv", "ns"].map(String::from).into();
        assert_eq!(local_namespaces("inv", &current), expected);
    }

    fn filters() -> PruneFilters {
        PruneFilters {
            policy: InventoryPolicy::Strict,
            inventory_id: "ours".into(),
            local_namespaces: ["app", "inv"].map(String::from).into(),
            applied_uids: ["uid-applied"].map(String::from).into(),
        }
    }

    fn live_namespace(name: &str, uid: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "uid": uid, "annotations": {OWNING_INVENTORY: "ours"}}})
    }

    #[test]
    fn a_namespace_still_in_use_is_not_pruned() {
        let ns = ObjRef::new("", "Namespace", None, "inv");
        assert_eq!(
            filters().check(&ns, &live_namespace("inv", "uid-ns")),
            Err(PruneSkip::NamespaceInUse { namespace: "inv".into() })
        );
        let free = ObjRef::new("", "Namespace", None, "old");
        assert_eq!(filters().check(&free, &live_namespace("old", "uid-old")), Ok(()));
    }

    #[test]
    fn an_object_just_applied_under_another_reference_is_not_pruned_even_if_kept() {
        let old_ref = ObjRef::new("extensions", "Deployment", Some("prod"), "web");
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "namespace": "prod", "uid": "uid-applied",
                                       "annotations": {OWNING_INVENTORY: "ours", ON_REMOVE: "keep"}}});
        assert_eq!(
            filters().check(&old_ref, &live),
            Err(PruneSkip::JustApplied { uid: "uid-applied".into() })
        );
    }

    #[test]
    fn the_filters_apply_the_policy() {
        let web = ObjRef::new("apps", "Deployment", Some("prod"), "web");
        assert_eq!(filters().check(&web, &live_owned_by("ours")), Ok(()));
        assert_eq!(
            filters().check(&web, &live_owned_by("theirs")),
            Err(PruneSkip::OwnedByOther { owner: "theirs".into() })
        );
    }
}
