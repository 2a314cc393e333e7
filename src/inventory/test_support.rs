//! Test helpers: objects from inline JSON with a fake source, ConfigMaps, templates and live objects.

use serde_json::{Value, json};

use std::collections::BTreeSet;

use crate::object::{INVENTORY_ID_LABEL, OWNING_INVENTORY, ObjRef, Object};

pub use crate::object::testing::{config_map, obj, obj_from};

/// The reference of ConfigMap `ns/name`.
pub fn cm(name: &str) -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("ns"), name)
}

/// The references of ConfigMaps `ns/<name>`.
pub fn set(names: &[&str]) -> BTreeSet<ObjRef> {
    names.iter().map(|n| cm(n)).collect()
}

/// An inventory template labelled `id`.
pub fn template(ns: &str, name: &str, id: &str) -> Object {
    obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": ns, "labels": {INVENTORY_ID_LABEL: id}}}))
}

/// A live Deployment `prod/web` with the given annotations.
pub fn live_with(annotations: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "prod", "uid": "uid-web", "annotations": annotations}})
}

/// A live Deployment `prod/web` owned by inventory `owner`.
pub fn live_owned_by(owner: &str) -> Value {
    live_with(json!({OWNING_INVENTORY: owner}))
}

/// A live Deployment `prod/web` without annotations.
pub fn live_unowned() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "prod", "uid": "uid-web"}})
}
