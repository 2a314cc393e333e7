//! Test helpers: [`obj`] builds an [`Object`] from inline JSON with a fake source file.

use serde_json::json;

use crate::object::{DEPENDS_ON, ObjRef, Object};

pub use crate::object::testing::{config_map, obj, obj_from};

/// A core `Namespace`.
pub fn namespace(name: &str) -> Object {
    obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
}

/// An object of any namespaced kind with a depends-on annotation.
pub fn depending(api_version: &str, kind: &str, ns: &str, name: &str, depends_on: &str) -> Object {
    obj(json!({"apiVersion": api_version, "kind": kind,
               "metadata": {"name": name, "namespace": ns, "annotations": {DEPENDS_ON: depends_on}}}))
}

/// A CRD defining `group`/`kind`.
pub fn crd(group: &str, kind: &str, plural: &str) -> Object {
    obj(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": format!("{plural}.{group}")},
               "spec": {"group": group, "names": {"kind": kind, "plural": plural}, "scope": "Namespaced"}}))
}

/// Mutation sources for objects without mutations.
pub fn no_mutations(_: &Object) -> Vec<ObjRef> {
    Vec::new()
}

/// Display strings of references, for compact assertions.
pub fn names(refs: &[ObjRef]) -> Vec<String> {
    refs.iter().map(ToString::to_string).collect()
}

/// Display strings of waves.
pub fn wave_names(waves: &[Vec<ObjRef>]) -> Vec<Vec<String>> {
    waves.iter().map(|w| names(w)).collect()
}
