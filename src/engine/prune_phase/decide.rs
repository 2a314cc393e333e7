//! The prune decision: what becomes of one candidate whose dependents are gone — deleted, abandoned
//! (our claim removed), or left where it is, and why — a pure function of its live body, the safety
//! filters, what the set still needs and what this run applied.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::event::{AbandonReason, SkipReason};
use crate::graph::Graph;
use crate::inventory::{PruneFilters, PruneSkip};
use crate::object::{LIFECYCLE_DELETION, ObjRef};

/// An action on one candidate, sent to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    Delete {
        uid: Option<String>,
    },
    /// Remove our owning-inventory annotation, then report the object abandoned.
    Unclaim(AbandonReason),
}

/// What happens to a candidate whose dependents are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decision {
    Act(Action),
    Stay(Stay),
}

/// Why a candidate stays in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stay {
    Filtered(PruneSkip, Option<ObjRef>),
    Skipped(SkipReason),
    Abandoned(AbandonReason),
}

/// Everything a decision depends on besides the candidate, fixed for the whole prune.
pub(super) struct Rules<'a> {
    pub(super) filters: &'a PruneFilters,
    /// Candidates the set still needs, each with one object needing it ([`still_needed`]).
    pub(super) needed: &'a HashMap<ObjRef, ObjRef>,
    /// UID → reference of every object applied in this run.
    pub(super) applied: &'a BTreeMap<String, ObjRef>,
}

impl Rules<'_> {
    /// What to do with a candidate whose dependents are gone: an action, or why it stays.
    pub(super) fn decide(&self, obj: &ObjRef, body: &Value) -> Decision {
        // The UID check comes first (see PruneFilters), then what the set still needs.
        let checked = self.filters.check(obj, body);
        if let Err(skip @ PruneSkip::JustApplied { .. }) = &checked {
            return Decision::Stay(Stay::Filtered(skip.clone(), self.applied_as(body)));
        }
        if let Some(user) = self.needed.get(obj) {
            return Decision::Stay(Stay::Skipped(SkipReason::DependentExists(user.clone())));
        }
        match checked {
            Ok(()) => {
                let uid = body.pointer("/metadata/uid").and_then(Value::as_str).map(str::to_owned);
                Decision::Act(Action::Delete { uid })
            }
            Err(PruneSkip::Kept { annotation, remove_owner_annotation, .. }) => {
                let reason = if annotation == LIFECYCLE_DELETION {
                    AbandonReason::LifecycleDetach
                } else {
                    AbandonReason::OnRemoveKeep
                };
                if remove_owner_annotation {
                    Decision::Act(Action::Unclaim(reason))
                } else {
                    Decision::Stay(Stay::Abandoned(reason))
                }
            }
            Err(skip) => Decision::Stay(Stay::Filtered(skip, self.applied_as(body))),
        }
    }

    /// [`decide`](Self::decide) for a candidate an abandoned object depends on: what would be deleted
    /// is abandoned instead; a filter's own verdict (another owner, a keep annotation…) stands.
    pub(super) fn decide_kept_dependency(&self, obj: &ObjRef, body: &Value, kept: ObjRef) -> Decision {
        match self.decide(obj, body) {
            Decision::Act(Action::Delete { .. }) => {
                Decision::Act(Action::Unclaim(AbandonReason::DependentKept(kept)))
            }
            decision => decision,
        }
    }

    fn applied_as(&self, body: &Value) -> Option<ObjRef> {
        let uid = body.pointer("/metadata/uid").and_then(Value::as_str)?;
        self.applied.get(uid).cloned()
    }
}

/// Candidates that objects of the set still need: named in a depends-on (or mutation) of an
/// applied object, or a CRD whose kind the set uses. Maps each to one object needing it.
pub(super) fn still_needed(
    graph: &Graph,
    retained: &BTreeMap<ObjRef, Vec<ObjRef>>,
    live: &HashMap<ObjRef, Value>,
) -> HashMap<ObjRef, ObjRef> {
    let mut needed = HashMap::new();
    for dep in graph.external() {
        if live.contains_key(&dep.to) {
            needed.entry(dep.to.clone()).or_insert_with(|| dep.from.clone());
        }
    }
    // What the objects a selector left out depend on: they still exist, unchanged.
    for (obj, depends_on) in retained {
        for dep in depends_on.iter().filter(|dep| live.contains_key(dep)) {
            needed.entry(dep.clone()).or_insert_with(|| obj.clone());
        }
    }
    for (obj, body) in live {
        if !obj.group_kind().is_crd() {
            continue;
        }
        if let Some(defined) = crate::graph::crd_group_kind(body)
            && let Some(user) =
                graph.objects().iter().chain(retained.keys()).find(|o| o.group_kind() == defined)
        {
            needed.entry(obj.clone()).or_insert_with(|| user.clone());
        }
    }
    needed
}

/// The event's reason for a filter's skip.
pub(super) fn skip_reason(skip: &PruneSkip, applied_as: Option<ObjRef>, obj: &ObjRef) -> SkipReason {
    match skip {
        PruneSkip::OwnedByOther { owner } => SkipReason::OwnedByAnotherInventory(owner.clone()),
        PruneSkip::NotOwned => SkipReason::NotOwned,
        PruneSkip::JustApplied { .. } => SkipReason::SameAsApplied(applied_as.unwrap_or_else(|| obj.clone())),
        PruneSkip::NamespaceInUse { .. } => SkipReason::NamespaceInUse,
        // Handled as abandonment before this is called.
        PruneSkip::Kept { .. } => SkipReason::NotOwned,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::inventory::InventoryPolicy;
    use crate::object::testing::obj;
    use crate::object::{DEPENDS_ON, ON_REMOVE, OWNING_INVENTORY};

    fn cm(name: &str) -> ObjRef {
        ObjRef::new("", "ConfigMap", Some("shop"), name)
    }

    /// A live ConfigMap `name` with UID `uid-<name>` and these annotations.
    fn live(name: &str, annotations: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
                            "annotations": annotations}})
    }

    fn ours(name: &str) -> Value {
        live(name, json!({OWNING_INVENTORY: "inv"}))
    }

    fn filters(policy: InventoryPolicy) -> PruneFilters {
        PruneFilters {
            policy,
            inventory_id: "inv".to_owned(),
            local_namespaces: BTreeSet::from(["shop".to_owned()]),
            applied_uids: BTreeSet::new(),
        }
    }

    /// Decides `obj`, live as `body`, with nothing needed and nothing applied.
    fn decide(policy: InventoryPolicy, obj: &ObjRef, body: &Value) -> Decision {
        let (filters, needed, applied) = (filters(policy), HashMap::new(), BTreeMap::new());
        Rules { filters: &filters, needed: &needed, applied: &applied }.decide(obj, body)
    }

    fn delete(name: &str) -> Decision {
        Decision::Act(Action::Delete { uid: Some(format!("uid-{name}")) })
    }

    #[test]
    fn an_object_this_inventory_owns_is_deleted_with_its_uid_as_precondition() {
        assert_eq!(decide(InventoryPolicy::Strict, &cm("a"), &ours("a")), delete("a"));
        let no_uid = json!({"metadata": {"name": "a", "annotations": {OWNING_INVENTORY: "inv"}}});
        assert_eq!(
            decide(InventoryPolicy::Strict, &cm("a"), &no_uid),
            Decision::Act(Action::Delete { uid: None })
        );
    }

    #[test]
    fn keep_and_detach_abandon_the_object_removing_only_our_own_claim() {
        let keep = live("a", json!({OWNING_INVENTORY: "inv", ON_REMOVE: "keep"}));
        assert_eq!(
            decide(InventoryPolicy::Strict, &cm("a"), &keep),
            Decision::Act(Action::Unclaim(AbandonReason::OnRemoveKeep))
        );
        let detach = live("a", json!({OWNING_INVENTORY: "inv", LIFECYCLE_DELETION: "detach"}));
        assert_eq!(
            decide(InventoryPolicy::Strict, &cm("a"), &detach),
            Decision::Act(Action::Unclaim(AbandonReason::LifecycleDetach))
        );
        // Not ours to unclaim: abandoned as it is.
        let theirs = live("a", json!({OWNING_INVENTORY: "other", ON_REMOVE: "keep"}));
        assert_eq!(
            decide(InventoryPolicy::Strict, &cm("a"), &theirs),
            Decision::Stay(Stay::Abandoned(AbandonReason::OnRemoveKeep))
        );
        let unowned = live("a", json!({LIFECYCLE_DELETION: "detach"}));
        assert_eq!(
            decide(InventoryPolicy::Adopt, &cm("a"), &unowned),
            Decision::Stay(Stay::Abandoned(AbandonReason::LifecycleDetach))
        );
    }

    #[test]
    fn ownership_follows_the_inventory_policy() {
        let theirs = live("a", json!({OWNING_INVENTORY: "other"}));
        let unowned = live("a", json!({}));
        let owned_by_other = PruneSkip::OwnedByOther { owner: "other".to_owned() };
        for policy in [InventoryPolicy::Strict, InventoryPolicy::Adopt] {
            assert_eq!(
                decide(policy, &cm("a"), &theirs),
                Decision::Stay(Stay::Filtered(owned_by_other.clone(), None)),
                "{policy:?}"
            );
        }
        assert_eq!(decide(InventoryPolicy::AdoptAll, &cm("a"), &theirs), delete("a"));
        assert_eq!(
            decide(InventoryPolicy::Strict, &cm("a"), &unowned),
            Decision::Stay(Stay::Filtered(PruneSkip::NotOwned, None))
        );
        assert_eq!(decide(InventoryPolicy::Adopt, &cm("a"), &unowned), delete("a"));
    }

    #[test]
    fn a_namespace_still_in_use_stays() {
        let ns = ObjRef::new("", "Namespace", None, "shop");
        let body = json!({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": "shop", "uid": "uid-ns", "annotations": {OWNING_INVENTORY: "inv"}}});
        let in_use = PruneSkip::NamespaceInUse { namespace: "shop".to_owned() };
        assert_eq!(
            decide(InventoryPolicy::Strict, &ns, &body),
            Decision::Stay(Stay::Filtered(in_use.clone(), None))
        );
        assert_eq!(skip_reason(&in_use, None, &ns), SkipReason::NamespaceInUse);
        let other = ObjRef::new("", "Namespace", None, "old");
        let old = json!({"metadata": {"name": "old", "uid": "u", "annotations": {OWNING_INVENTORY: "inv"}}});
        assert_eq!(
            decide(InventoryPolicy::Strict, &other, &old),
            Decision::Act(Action::Delete { uid: Some("u".to_owned()) })
        );
    }

    #[test]
    fn an_object_just_applied_under_another_reference_stays_before_any_other_rule() {
        let applied_ref = ObjRef::new("extensions", "ConfigMap", Some("shop"), "a");
        let mut filters = filters(InventoryPolicy::Strict);
        filters.applied_uids.insert("uid-a".to_owned());
        let applied = BTreeMap::from([("uid-a".to_owned(), applied_ref.clone())]);
        // Needed and kept too: the UID check wins.
        let needed = HashMap::from([(cm("a"), cm("user"))]);
        let rules = Rules { filters: &filters, needed: &needed, applied: &applied };
        let body = live("a", json!({OWNING_INVENTORY: "inv", ON_REMOVE: "keep"}));
        let just_applied = PruneSkip::JustApplied { uid: "uid-a".to_owned() };
        assert_eq!(
            rules.decide(&cm("a"), &body),
            Decision::Stay(Stay::Filtered(just_applied.clone(), Some(applied_ref.clone())))
        );
        assert_eq!(
            skip_reason(&just_applied, Some(applied_ref.clone()), &cm("a")),
            SkipReason::SameAsApplied(applied_ref)
        );
        assert_eq!(skip_reason(&just_applied, None, &cm("a")), SkipReason::SameAsApplied(cm("a")));
    }

    #[test]
    fn a_candidate_the_set_still_needs_stays_before_keep_and_ownership() {
        let filters = filters(InventoryPolicy::Strict);
        let needed = HashMap::from([(cm("a"), cm("user"))]);
        let applied = BTreeMap::new();
        let rules = Rules { filters: &filters, needed: &needed, applied: &applied };
        let stays = Decision::Stay(Stay::Skipped(SkipReason::DependentExists(cm("user"))));
        assert_eq!(rules.decide(&cm("a"), &ours("a")), stays);
        assert_eq!(rules.decide(&cm("a"), &live("a", json!({ON_REMOVE: "keep"}))), stays);
        assert_eq!(rules.decide(&cm("a"), &live("a", json!({OWNING_INVENTORY: "other"}))), stays);
        assert_eq!(rules.decide(&cm("b"), &ours("b")), delete("b"), "only the needed one");
    }

    #[test]
    fn what_an_abandoned_object_depends_on_is_abandoned_instead_of_deleted() {
        let (filters, needed, applied) = (filters(InventoryPolicy::Strict), HashMap::new(), BTreeMap::new());
        let rules = Rules { filters: &filters, needed: &needed, applied: &applied };
        assert_eq!(
            rules.decide_kept_dependency(&cm("a"), &ours("a"), cm("kept")),
            Decision::Act(Action::Unclaim(AbandonReason::DependentKept(cm("kept"))))
        );
        // A filter's own verdict stands.
        assert_eq!(
            rules.decide_kept_dependency(
                &cm("a"),
                &live("a", json!({OWNING_INVENTORY: "other"})),
                cm("kept")
            ),
            Decision::Stay(Stay::Filtered(PruneSkip::OwnedByOther { owner: "other".to_owned() }, None))
        );
        assert_eq!(
            rules.decide_kept_dependency(
                &cm("a"),
                &live("a", json!({OWNING_INVENTORY: "inv", ON_REMOVE: "keep"})),
                cm("kept")
            ),
            Decision::Act(Action::Unclaim(AbandonReason::OnRemoveKeep))
        );
    }

    #[test]
    fn filter_skips_map_to_their_event_reasons() {
        let obj = cm("a");
        let other = PruneSkip::OwnedByOther { owner: "x".to_owned() };
        assert_eq!(skip_reason(&other, None, &obj), SkipReason::OwnedByAnotherInventory("x".to_owned()));
        assert_eq!(skip_reason(&PruneSkip::NotOwned, None, &obj), SkipReason::NotOwned);
    }

    #[test]
    fn the_set_still_needs_its_external_dependencies_and_the_crds_of_its_kinds() {
        let user = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "user", "namespace": "shop",
                         "annotations": {DEPENDS_ON: "/namespaces/shop/ConfigMap/old"}}}));
        let widget = obj(json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "shop"}}));
        let graph = crate::graph::build(&[user, widget], |_| Vec::new()).expect("a valid graph");
        let crd =
            ObjRef::new("apiextensions.k8s.io", "CustomResourceDefinition", None, "widgets.example.com");
        let gadgets =
            ObjRef::new("apiextensions.k8s.io", "CustomResourceDefinition", None, "gadgets.example.com");
        let crd_body = |kind: &str| json!({"spec": {"group": "example.com", "names": {"kind": kind}}});
        let live = HashMap::from([
            (cm("old"), ours("old")),
            (cm("unrelated"), ours("unrelated")),
            (crd.clone(), crd_body("Widget")),
            (gadgets.clone(), crd_body("Gadget")),
        ]);
        let needed = still_needed(&graph, &BTreeMap::new(), &live);
        let widget_ref = ObjRef::new("example.com", "Widget", Some("shop"), "w");
        assert_eq!(needed, HashMap::from([(cm("old"), cm("user")), (crd, widget_ref)]));
    }
}
