//! Test helpers: objects from inline JSON with a fake source, ConfigMaps, templates and live objects.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::object::{INVENTORY_ID_LABEL, OWNING_INVENTORY, ObjRef, Object, Source};

static DOCUMENT: AtomicUsize = AtomicUsize::new(1);

/// An object from inline JSON, sourced from `test.yaml` with a fresh document number.
pub fn obj(body: Value) -> Object {
    obj_from(body, "test.yaml", DOCUMENT.fetch_add(1, Ordering::Relaxed))
}

/// An object from inline JSON, sourced from `file`, document `document`.
pub fn obj_from(body: Value, file: &str, document: usize) -> Object {
    let obj_ref = ObjRef::from_value(&body).expect("test object has apiVersion, kind and name");
    let api_version = body["apiVersion"].as_str().unwrap().to_owned();
    Object { obj_ref, api_version, body, source: Source { file: file.into(), document, line: None } }
}

/// A `ConfigMap` in `ns`.
pub fn config_map(ns: &str, name: &str) -> Object {
    obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}}))
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
