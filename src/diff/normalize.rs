//! Strip the fields the API server owns, so a diff shows only what applying our manifest would change.

use serde_json::{Map, Value};

/// Client-side apply's copy of the whole last-applied manifest: a second, noisy rendering of the object
/// (and, for a Secret, of its values).
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `metadata` fields the server writes on every update: they differ between the live object and the
/// dry-run result without saying anything about what we change.
const SERVER_METADATA: [&str; 6] =
    ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

/// A copy of `obj` without server-owned noise: the bookkeeping fields of `metadata`, top-level `status`,
/// and the last-applied-configuration annotation; `metadata.annotations` and `metadata` are dropped when
/// that leaves them empty. Anything that is not a JSON object is returned unchanged.
pub fn normalize(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Value::Object(root) = &mut out {
        root.remove("status");
        if let Some(Value::Object(metadata)) = root.get_mut("metadata") {
            strip_metadata(metadata);
        }
        remove_if_empty_map(root, "metadata");
    }
    out
}

fn strip_metadata(metadata: &mut Map<String, Value>) {
    for field in SERVER_METADATA {
        metadata.remove(field);
    }
    if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
        annotations.remove(LAST_APPLIED);
    }
    remove_if_empty_map(metadata, "annotations");
}

fn remove_if_empty_map(map: &mut Map<String, Value>, key: &str) {
    if matches!(map.get(key), Some(Value::Object(m)) if m.is_empty()) {
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_owned_fields_and_status_are_removed() {
        let live = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "app",
                "namespace": "ns",
                "labels": {"a": "b"},
                "managedFields": [{"manager": "kapply"}],
                "resourceVersion": "42",
                "generation": 3,
                "uid": "0000-1111",
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "selfLink": "/api/v1/namespaces/ns/configmaps/app",
                "annotations": {LAST_APPLIED: "{}", "keep": "me"}
            },
            "data": {"k": "v"},
            "status": {"phase": "Active"}
        });
        let expected = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "app", "namespace": "ns", "labels": {"a": "b"}, "annotations": {"keep": "me"}
            },
            "data": {"k": "v"}
        });
        assert_eq!(normalize(&live), expected);
    }

    #[test]
    fn annotations_left_empty_by_removing_last_applied_are_dropped() {
        let live = json!({"metadata": {"name": "x", "annotations": {LAST_APPLIED: "{}"}}});
        assert_eq!(normalize(&live), json!({"metadata": {"name": "x"}}));
    }

    #[test]
    fn metadata_left_empty_is_dropped() {
        let live = json!({"kind": "X", "metadata": {"uid": "u", "annotations": {LAST_APPLIED: "{}"}}});
        assert_eq!(normalize(&live), json!({"kind": "X"}));
    }

    #[test]
    fn the_input_is_not_modified() {
        let live = json!({"metadata": {"uid": "u"}, "status": {}});
        let before = live.clone();
        let _ = normalize(&live);
        assert_eq!(live, before);
    }

    #[test]
    fn values_that_are_not_objects_pass_through() {
        for v in [json!(null), json!(1), json!("s"), json!([1, 2]), json!({"metadata": "odd"})] {
            assert_eq!(normalize(&v), v);
        }
    }
}
