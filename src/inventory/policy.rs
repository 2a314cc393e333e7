//! Ownership decisions: may this run apply ([`check_apply`]) or prune ([`check_prune`]) a live object?
//!
//! Compared with the live object's `config.k8s.io/owning-inventory` annotation, as cli-utils does:
//!
//! | live annotation   | apply                                   | prune                 |
//! | ----------------- | --------------------------------------- | --------------------- |
//! | object absent     | yes                                     | (nothing to prune)    |
//! | this inventory    | yes                                     | yes                   |
//! | none              | adopt, adopt-all (strict: refused)      | adopt, adopt-all      |
//! | another inventory | adopt-all only (inventory overlap)      | adopt-all only        |
//!
//! An empty annotation value counts as none (cli-utils counts it as another inventory, whose id would
//! be the empty string: no real inventory has it, and the message would be meaningless).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::error::InventoryError;
use crate::object::{
    LIFECYCLE_DELETION, LIFECYCLE_DETACH, ON_REMOVE, ON_REMOVE_KEEP, OWNING_INVENTORY, ObjRef, annotation,
    is_kept,
};

/// How far a run may take over objects it does not own yet (`--inventory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InventoryPolicy {
    /// Only objects that do not exist or that this inventory owns (cli-utils: `InventoryPolicyMustMatch`,
    /// flag `strict`). The default, as in cli-utils.
    #[default]
    Strict,
    /// Also objects owned by no inventory (cli-utils: `AdoptIfNoInventory`, flag `adopt`).
    Adopt,
    /// Any object, even one owned by another inventory (cli-utils: `AdoptAll`).
    AdoptAll,
}

impl InventoryPolicy {
    /// The flag spelling: `strict`, `adopt` or `adopt-all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Adopt => "adopt",
            Self::AdoptAll => "adopt-all",
        }
    }
}

impl FromStr for InventoryPolicy {
    type Err = InventoryError;

    /// `strict`, `adopt`, `adopt-all`, and cli-utils' names `must-match` and `adopt-if-no-inventory`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "strict" | "must-match" => Ok(Self::Strict),
            "adopt" | "adopt-if-no-inventory" => Ok(Self::Adopt),
            "adopt-all" => Ok(Self::AdoptAll),
            _ => Err(InventoryError::UnknownPolicy { value: value.to_owned() }),
        }
    }
}

impl fmt::Display for InventoryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inventory owning a live object: its `config.k8s.io/owning-inventory` annotation, trimmed; else
/// the ApplySet its `applyset.kubernetes.io/part-of` label names (an object kubectl applied into an
/// ApplySet belongs to that set, whose inventory id is the set's id); None when neither is set.
pub fn owner_of(live: &Value) -> Option<&str> {
    let non_empty = |owner: &&str| !owner.is_empty();
    annotation(live, OWNING_INVENTORY).map(str::trim).filter(non_empty).or_else(|| {
        live.pointer("/metadata/labels")
            .and_then(|labels| labels.get(super::APPLYSET_PART_OF_LABEL))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(non_empty)
    })
}

/// What applying an object does to its ownership, when the policy allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// The object does not exist yet: applying creates it, owned by this inventory.
    New,
    /// This inventory already owns it.
    Owned,
    /// It exists without an owner; applying adopts it (policy adopt or adopt-all).
    Adopted,
    /// Another inventory owns it; applying takes it over (policy adopt-all). Worth a visible note: that
    /// inventory will no longer prune or delete it.
    TakenOver {
        /// The id of the inventory that owned it (its `config.k8s.io/owning-inventory` value).
        previous_owner: String,
    },
}

/// Why the policy refuses to apply an object. A per-object outcome (an apply "skipped" event), not a
/// reason to stop the run.
///
/// Record such an object as a *skipped* apply for [`super::final_set`], never a failed one: it exists
/// and is not ours, so it must not enter this inventory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The object exists, no inventory owns it (no owning-inventory annotation), and the policy is
    /// strict: adopting it takes policy adopt (or adopt-all).
    #[error(
        "can't adopt {object}: it exists without the annotation {OWNING_INVENTORY}; the inventory \
         policy adopt takes it over"
    )]
    NeedsAdoption {
        /// The object, as `Kind[.group]/[namespace/]name` (or `namespace/name` for a LIST item).
        object: String,
    },
    /// The object exists and another inventory owns it, and the policy is not adopt-all: two sets of
    /// manifests claim the same object. Taking it over takes policy adopt-all.
    #[error(
        "inventory overlap: {object} is owned by inventory {owner}; the inventory policy adopt-all takes it"
    )]
    Overlap {
        /// The object, as `Kind[.group]/[namespace/]name` (or `namespace/name` for a LIST item).
        object: String,
        /// The id of the inventory that owns it.
        owner: String,
    },
}

impl PolicyError {
    /// The inventory policy that would take the object over.
    pub fn setting(&self) -> crate::event::Setting {
        crate::event::Setting::InventoryPolicy(match self {
            PolicyError::NeedsAdoption { .. } => InventoryPolicy::Adopt,
            PolicyError::Overlap { .. } => InventoryPolicy::AdoptAll,
        })
    }
}

/// Decides whether this run (inventory `our_id`, `policy`) may apply an object whose live state is
/// `live` (None: it does not exist).
///
/// `live` names the object in messages; an object without `apiVersion`/`kind` (a LIST item) is named by
/// namespace and name.
///
/// # Errors
/// [`PolicyError::NeedsAdoption`] for an unowned object under strict; [`PolicyError::Overlap`] for an
/// object of another inventory unless adopt-all.
pub fn check_apply(
    policy: InventoryPolicy,
    our_id: &str,
    live: Option<&Value>,
) -> Result<Ownership, PolicyError> {
    let Some(live) = live else {
        return Ok(Ownership::New);
    };
    match owner_of(live) {
        Some(owner) if owner == our_id => Ok(Ownership::Owned),
        None if policy == InventoryPolicy::Strict => {
            Err(PolicyError::NeedsAdoption { object: describe(live) })
        }
        None => Ok(Ownership::Adopted),
        Some(owner) if policy == InventoryPolicy::AdoptAll => {
            Ok(Ownership::TakenOver { previous_owner: owner.to_owned() })
        }
        Some(owner) => Err(PolicyError::Overlap { object: describe(live), owner: owner.to_owned() }),
    }
}

/// Why a prune candidate is not deleted. The event that reports it names the object, so messages do not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PruneSkip {
    /// Marked `cli-utils.sigs.k8s.io/on-remove: keep` or `client.lifecycle.config.k8s.io/deletion:
    /// detach`: the object is *abandoned* — never deleted, dropped from the inventory, and, when this
    /// inventory owns it, its owning-inventory annotation removed (so a later run does not see it as
    /// ours). Record it as abandoned only once that annotation is gone; if removing it fails, the prune
    /// failed.
    #[error("abandoned, not deleted: annotated {annotation}: {value}")]
    Kept {
        /// The annotation that keeps it: `cli-utils.sigs.k8s.io/on-remove` or
        /// `client.lifecycle.config.k8s.io/deletion`.
        annotation: &'static str,
        /// Its value: `keep` or `detach`.
        value: &'static str,
        /// True when this inventory owns the object, so its owning-inventory annotation must be removed;
        /// false when another inventory (or none) owns it: that annotation is not ours to erase.
        remove_owner_annotation: bool,
    },
    /// Another inventory owns it and the policy is not adopt-all.
    #[error("owned by inventory {owner}, not this one; only the inventory policy adopt-all prunes it")]
    OwnedByOther {
        /// The id of the inventory that owns it.
        owner: String,
    },
    /// No inventory owns it and the policy is strict.
    #[error(
        "owned by no inventory (no {OWNING_INVENTORY} annotation); only the inventory policy adopt prunes it"
    )]
    NotOwned,
    /// The live object is one this run just applied under another reference (same UID: e.g. a kind
    /// served by two groups). The stale reference is dropped from the inventory.
    #[error("just applied under another reference (uid {uid}); dropping the stale inventory entry")]
    JustApplied {
        /// The UID shared by the live object and the object this run applied.
        uid: String,
    },
    /// A Namespace that still holds applied objects or the inventory itself.
    #[error("namespace {namespace} still holds applied objects or the inventory")]
    NamespaceInUse {
        /// The Namespace's name.
        namespace: String,
    },
}

/// Decides whether this run may prune (delete) a live object it recorded before: first the keep/detach
/// annotations (abandon), then the policy (see the module table).
///
/// The safety filters needing the whole run — namespaces still in use, UIDs just applied — are in
/// [`super::PruneFilters`], which calls this.
///
/// # Errors
/// The [`PruneSkip`] reason.
pub fn check_prune(policy: InventoryPolicy, our_id: &str, live: &Value) -> Result<(), PruneSkip> {
    let owner = owner_of(live);
    if is_kept(live) {
        let (annotation, value) = if annotation(live, ON_REMOVE) == Some(ON_REMOVE_KEEP) {
            (ON_REMOVE, ON_REMOVE_KEEP)
        } else {
            (LIFECYCLE_DELETION, LIFECYCLE_DETACH)
        };
        // Only our own claim is removed: another inventory's annotation is not ours to erase.
        return Err(PruneSkip::Kept { annotation, value, remove_owner_annotation: owner == Some(our_id) });
    }
    match owner {
        Some(owner) if owner == our_id => Ok(()),
        None if policy == InventoryPolicy::Strict => Err(PruneSkip::NotOwned),
        None => Ok(()),
        Some(_) if policy == InventoryPolicy::AdoptAll => Ok(()),
        Some(owner) => Err(PruneSkip::OwnedByOther { owner: owner.to_owned() }),
    }
}

/// `Kind[.group]/namespace/name` of a live object, or `namespace/name` when it lacks apiVersion or kind.
fn describe(live: &Value) -> String {
    if let Some(obj) = ObjRef::from_value(live) {
        return obj.to_string();
    }
    let field = |key| live.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str);
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.to_owned(),
        _ => "the object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{live_owned_by, live_unowned, live_with};
    use super::*;
    use InventoryPolicy::{Adopt, AdoptAll, Strict};

    const ALL: [InventoryPolicy; 3] = [Strict, Adopt, AdoptAll];

    #[test]
    fn policies_parse_from_flag_and_cli_utils_spellings() {
        let table = [
            ("strict", Strict),
            ("must-match", Strict),
            ("adopt", Adopt),
            ("adopt-if-no-inventory", Adopt),
            ("adopt-all", AdoptAll),
        ];
        for (text, policy) in table {
            assert_eq!(text.parse::<InventoryPolicy>().unwrap(), policy, "{text}");
        }
        for policy in ALL {
            assert_eq!(policy.to_string().parse::<InventoryPolicy>().unwrap(), policy);
        }
        assert_eq!(InventoryPolicy::default(), Strict);
        let err = "force".parse::<InventoryPolicy>().unwrap_err().to_string();
        assert!(err.contains("\"force\"") && err.contains("adopt-all"), "{err}");
    }

    #[test]
    fn an_applyset_member_label_names_the_owner_when_no_annotation_does() {
        let member = json!({"metadata": {"name": "a", "labels": {crate::inventory::APPLYSET_PART_OF_LABEL: "applyset-x-v1"}}});
        assert_eq!(owner_of(&member), Some("applyset-x-v1"));
        assert_eq!(check_apply(Strict, "applyset-x-v1", Some(&member)), Ok(Ownership::Owned));
        assert_eq!(check_prune(Strict, "applyset-x-v1", &member), Ok(()));
        // A member of kubectl's set is another inventory's to a ConfigMap inventory.
        assert!(matches!(check_apply(Strict, "ours", Some(&member)), Err(PolicyError::Overlap { .. })));
        let mut both = member.clone();
        both["metadata"]["annotations"] = json!({OWNING_INVENTORY: "ours"});
        assert_eq!(owner_of(&both), Some("ours"), "the annotation wins");
    }

    #[test]
    fn applying_an_object_that_does_not_exist_is_always_allowed() {
        for policy in ALL {
            assert_eq!(check_apply(policy, "ours", None), Ok(Ownership::New));
        }
    }

    #[test]
    fn applying_an_object_we_own_is_always_allowed() {
        for policy in ALL {
            assert_eq!(check_apply(policy, "ours", Some(&live_owned_by("ours"))), Ok(Ownership::Owned));
        }
    }

    #[test]
    fn applying_an_unowned_object_is_refused_under_strict_with_the_fix() {
        let err = check_apply(Strict, "ours", Some(&live_unowned())).unwrap_err();
        assert_eq!(err, PolicyError::NeedsAdoption { object: "Deployment.apps/prod/web".into() });
        let message = err.to_string();
        assert!(message.contains("can't adopt Deployment.apps/prod/web"), "{message}");
        assert!(
            message.contains(OWNING_INVENTORY) && message.contains("inventory policy adopt takes it over"),
            "{message}"
        );
        assert_eq!(err.setting(), crate::event::Setting::InventoryPolicy(Adopt));
    }

    #[test]
    fn applying_an_unowned_object_adopts_it_under_adopt_and_adopt_all() {
        for policy in [Adopt, AdoptAll] {
            assert_eq!(check_apply(policy, "ours", Some(&live_unowned())), Ok(Ownership::Adopted));
        }
    }

    #[test]
    fn an_empty_owner_annotation_counts_as_unowned() {
        let live = live_owned_by(" ");
        assert_eq!(check_apply(Adopt, "ours", Some(&live)), Ok(Ownership::Adopted));
        assert!(matches!(check_apply(Strict, "ours", Some(&live)), Err(PolicyError::NeedsAdoption { .. })));
        assert_eq!(check_prune(Adopt, "ours", &live), Ok(()));
    }

    #[test]
    fn applying_an_object_of_another_inventory_is_an_overlap_unless_adopt_all() {
        for policy in [Strict, Adopt] {
            let err = check_apply(policy, "ours", Some(&live_owned_by("theirs"))).unwrap_err();
            assert_eq!(
                err.to_string(),
                "inventory overlap: Deployment.apps/prod/web is owned by inventory theirs; \
                 the inventory policy adopt-all takes it"
            );
            assert_eq!(err.setting(), crate::event::Setting::InventoryPolicy(AdoptAll));
        }
        assert_eq!(
            check_apply(AdoptAll, "ours", Some(&live_owned_by("theirs"))),
            Ok(Ownership::TakenOver { previous_owner: "theirs".into() })
        );
    }

    #[test]
    fn a_live_list_item_without_kind_is_named_by_namespace_and_name() {
        let item = json!({"metadata": {"name": "web", "namespace": "prod"}});
        let err = check_apply(Strict, "ours", Some(&item)).unwrap_err();
        assert_eq!(err, PolicyError::NeedsAdoption { object: "prod/web".into() });
    }

    #[test]
    fn pruning_an_object_we_own_is_always_allowed() {
        for policy in ALL {
            assert_eq!(check_prune(policy, "ours", &live_owned_by("ours")), Ok(()));
        }
    }

    #[test]
    fn pruning_an_unowned_object_needs_adopt_or_adopt_all() {
        assert_eq!(check_prune(Strict, "ours", &live_unowned()), Err(PruneSkip::NotOwned));
        assert_eq!(check_prune(Adopt, "ours", &live_unowned()), Ok(()));
        assert_eq!(check_prune(AdoptAll, "ours", &live_unowned()), Ok(()));
    }

    #[test]
    fn pruning_an_object_of_another_inventory_needs_adopt_all() {
        let other = PruneSkip::OwnedByOther { owner: "theirs".into() };
        assert_eq!(check_prune(Strict, "ours", &live_owned_by("theirs")), Err(other.clone()));
        assert_eq!(check_prune(Adopt, "ours", &live_owned_by("theirs")), Err(other.clone()));
        assert_eq!(check_prune(AdoptAll, "ours", &live_owned_by("theirs")), Ok(()));
        assert!(other.to_string().contains("adopt-all"), "{other}");
    }

    #[test]
    fn a_kept_object_we_own_is_abandoned_and_loses_our_annotation_under_every_policy() {
        let keep = live_with(json!({OWNING_INVENTORY: "ours", ON_REMOVE: "keep"}));
        let detach = live_with(json!({OWNING_INVENTORY: "ours", LIFECYCLE_DELETION: "detach"}));
        for policy in ALL {
            assert_eq!(
                check_prune(policy, "ours", &keep),
                Err(PruneSkip::Kept { annotation: ON_REMOVE, value: "keep", remove_owner_annotation: true })
            );
            assert_eq!(
                check_prune(policy, "ours", &detach),
                Err(PruneSkip::Kept {
                    annotation: LIFECYCLE_DELETION,
                    value: "detach",
                    remove_owner_annotation: true
                })
            );
        }
        let skip = check_prune(Strict, "ours", &keep).unwrap_err();
        assert_eq!(
            skip.to_string(),
            "abandoned, not deleted: annotated cli-utils.sigs.k8s.io/on-remove: keep"
        );
    }

    #[test]
    fn a_kept_object_of_another_inventory_or_none_is_abandoned_without_touching_annotations() {
        for live in [
            live_with(json!({OWNING_INVENTORY: "theirs", ON_REMOVE: "keep"})),
            live_with(json!({ON_REMOVE: "keep"})),
        ] {
            for policy in ALL {
                let skip = check_prune(policy, "ours", &live).unwrap_err();
                assert!(
                    matches!(skip, PruneSkip::Kept { remove_owner_annotation: false, .. }),
                    "{policy}: {skip:?}"
                );
            }
        }
    }

    #[test]
    fn other_on_remove_values_do_not_keep() {
        let live = live_with(json!({OWNING_INVENTORY: "ours", ON_REMOVE: "delete"}));
        assert_eq!(check_prune(Strict, "ours", &live), Ok(()));
    }
}
