//! Property tests: any set of references survives a write to ConfigMap data and a read back, keys
//! byte-identical; prune candidates and unions obey set algebra.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::object::ObjRef;

/// A DNS label, as namespaces are.
fn dns_label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

/// An API group: core, or DNS-subdomain-like.
fn group() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z]([a-z0-9-]{0,6}[a-z0-9])?){0,3}"]
}

/// An object name: DNS-subdomain-like, with the `:` RBAC names use (written `__` in keys).
fn name() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9.:-]{0,20}[a-z0-9])?"
}

fn obj_ref() -> impl Strategy<Value = ObjRef> {
    (group(), "[A-Z][A-Za-z0-9]{0,12}", prop::option::of(dns_label()), name())
        .prop_map(|(group, kind, namespace, name)| ObjRef::new(group, kind, namespace.as_deref(), name))
}

fn inventory(objects: BTreeSet<ObjRef>) -> Inventory {
    Inventory {
        id: "prop-inv".into(),
        name: "inventory-00000001".into(),
        namespace: "ns".into(),
        objects,
        format: crate::inventory::InventoryFormat::ConfigMap,
    }
}

proptest! {
    #[test]
    fn configmaps_round_trip_any_set_of_references(objects in prop::collection::btree_set(obj_ref(), 0..40)) {
        let inv = inventory(objects);
        let body = inv.to_configmap();
        let (back, invalid) = Inventory::from_configmap(&body).unwrap();
        prop_assert!(invalid.is_empty());
        prop_assert_eq!(&back, &inv);
        prop_assert_eq!(back.to_configmap_data(), inv.to_configmap_data());
        prop_assert!(inv.check_keys().is_ok());
    }

    #[test]
    fn prune_candidates_and_union_are_set_difference_and_union(
        previous in prop::collection::btree_set(obj_ref(), 0..20),
        current in prop::collection::vec(obj_ref(), 0..20),
    ) {
        let candidates = prune_candidates(&previous, &current);
        let current_set: BTreeSet<ObjRef> = current.iter().cloned().collect();
        let expected: Vec<ObjRef> = previous.difference(&current_set).cloned().collect();
        prop_assert_eq!(&candidates, &expected);
        let all = union(&previous, &current);
        prop_assert_eq!(all, previous.union(&current_set).cloned().collect::<BTreeSet<_>>());
    }
}
