//! Pure helpers of the apply: whether a live object already holds what a client-side preview would
//! send (`contains`, as the server stores it), the owning-inventory annotation, and per-object errors
//! from cluster errors.

use serde_json::Value;

use crate::cluster::ClusterError;
use crate::event::ObjectError;
use crate::event::Setting;
use crate::object::Object;

/// `body` as the server stores it, where a client can tell: a Secret's `stringData` is merged into
/// `data`, base64-encoded (the server never returns `stringData`).
pub(super) fn as_stored(body: &Value) -> Value {
    let mut body = body.clone();
    let is_secret = body.get("kind").and_then(Value::as_str) == Some("Secret")
        && body.get("apiVersion").and_then(Value::as_str) == Some("v1");
    let Some(map) = body.as_object_mut().filter(|_| is_secret) else { return body };
    if let Some(Value::Object(string_data)) = map.remove("stringData") {
        let data = map.entry("data").or_insert_with(|| Value::Object(Default::default()));
        if let Some(data) = data.as_object_mut() {
            for (key, value) in string_data {
                let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                data.insert(key, Value::String(base64(text.as_bytes())));
            }
        }
    }
    body
}

/// Standard base64 with padding (RFC 4648), as Kubernetes stores Secret data.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// True when every field of `desired` has the same value in `live`: a client-side preview's best
/// guess that an apply would change nothing (the server may still default fields).
///
/// With `zero_dropped`, a field `live` lacks matches an empty or zero value in `desired` (`{}`,
/// `[]`, `0`, `false`, `""`, `null`): the server stores built-in kinds as Go structs whose
/// `omitempty` fields drop such values (`minReadySeconds: 0`, `labels: {}`), so sending them again
/// changes nothing — `diff` and a server-side preview agree. `metadata` is such a struct for every
/// kind; a custom resource's other fields are kept as sent, so there a missing field is a change.
pub(super) fn contains(live: &Value, desired: &Value, zero_dropped: bool) -> bool {
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => desired.iter().all(|(key, value)| {
            let zero_dropped = zero_dropped || key == "metadata";
            match live.get(key) {
                Some(live) => contains(live, value, zero_dropped),
                None => value.is_null() || (zero_dropped && is_zero(value)),
            }
        }),
        (Value::Array(live), Value::Array(desired)) => {
            live.len() == desired.len() && live.iter().zip(desired).all(|(l, d)| contains(l, d, zero_dropped))
        }
        (Value::Number(live), Value::Number(desired)) => live.as_f64() == desired.as_f64(),
        // A server-side apply drops explicit nulls (`replicas: null`, `creationTimestamp: null`): they
        // ask for nothing.
        (_, Value::Null) => true,
        (live, desired) => live == desired,
    }
}

/// The values Go's `omitempty` leaves out.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Whether the server stores `obj` as a built-in Go type (see [`contains`]): the core group and the
/// groups Kubernetes itself serves (`apps`, `batch`, … and `*.k8s.io`), CRDs included.
pub(super) fn drops_zero_values(obj: &Object) -> bool {
    let group = obj.obj_ref.group.as_str();
    matches!(group, "" | "apps" | "batch" | "autoscaling" | "policy") || group.ends_with(".k8s.io")
}

/// A cluster error as a per-object error, with the hint the situation calls for.
pub(crate) fn object_error(err: ClusterError) -> ObjectError {
    let (hint, setting) = match &err {
        ClusterError::Api { .. } if err.is_immutable_field() => (
            Some("the field cannot change once set: delete and re-create the object"),
            Some(Setting::RecreateOnImmutable),
        ),
        ClusterError::Conflict { .. } => {
            (Some("forcing conflicts takes these fields over"), Some(Setting::ForceConflicts))
        }
        ClusterError::UnknownKind(_) => {
            (Some("apply its CustomResourceDefinition first, or in the same set"), None)
        }
        _ => (None, None),
    };
    let mut error = ObjectError::new(err.to_string());
    error.hint = hint.map(str::to_owned);
    error.setting = setting;
    error
}

/// Marks `body` as the inventory `info`'s, as every apply sends it: the owning-inventory annotation,
/// and for an ApplySet the part-of label (membership of an ApplySet is that label, written by the apply
/// that creates the object).
pub(crate) fn mark_owned(body: &mut Value, info: &crate::inventory::InventoryInfo) {
    set_annotation(body, crate::object::OWNING_INVENTORY, &info.id);
    if info.is_applyset() {
        set_label(body, crate::inventory::APPLYSET_PART_OF_LABEL, &info.id);
    }
}

/// Sets `metadata.annotations[key] = value`, creating the maps as needed.
pub(crate) fn set_annotation(body: &mut Value, key: &str, value: &str) {
    set_metadata_entry(body, "annotations", key, value);
}

/// Sets `metadata.labels[key] = value`, creating the maps as needed.
pub(crate) fn set_label(body: &mut Value, key: &str, value: &str) {
    set_metadata_entry(body, "labels", key, value);
}

fn set_metadata_entry(body: &mut Value, map_name: &str, key: &str, value: &str) {
    let Some(map) = body.as_object_mut() else { return };
    let metadata = map.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
    let Some(metadata) = metadata.as_object_mut() else { return };
    let entries = metadata.entry(map_name).or_insert_with(|| Value::Object(Default::default()));
    if !entries.is_object() {
        *entries = Value::Object(Default::default());
    }
    if let Some(entries) = entries.as_object_mut() {
        entries.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::object::OWNING_INVENTORY;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn a_secret_with_string_data_compares_as_the_server_stores_it() {
        let desired = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "foobar"}});
        let live =
            json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": "Zm9vYmFy"}, "type": "Opaque"});
        assert!(contains(&live, &as_stored(&desired), true));
        let changed = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "other"}});
        assert!(!contains(&live, &as_stored(&changed), true));
    }

    #[test]
    fn zero_values_the_server_drops_compare_as_unchanged() {
        // Regression: `minReadySeconds: 0` and `labels: {}` were previewed as configured.
        let live = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
        let desired =
            json!({"metadata": {"name": "d", "labels": {}}, "spec": {"replicas": 1, "minReadySeconds": 0}});
        assert!(contains(&live, &desired, true));
        assert!(!contains(&live, &json!({"spec": {"minReadySeconds": 5}}), true), "a real value is a change");
        assert!(!contains(&json!({"spec": {"replicas": 1}}), &json!({"spec": {"replicas": 0}}), true));
    }

    #[test]
    fn explicit_nulls_ask_for_nothing() {
        // Regression (kyverno's Deployments, prometheus-operator's examples): previewed as configured.
        let live = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
        let desired =
            json!({"metadata": {"name": "d", "creationTimestamp": null}, "spec": {"replicas": null}});
        assert!(contains(&live, &desired, true));
        assert!(contains(&live, &desired, false), "a custom resource too");
    }

    #[test]
    fn a_custom_resource_keeps_zero_values_except_in_metadata() {
        let live = json!({"metadata": {"name": "w"}, "spec": {}});
        assert!(!contains(&live, &json!({"spec": {"size": 0}}), false), "the server would store it");
        assert!(contains(&live, &json!({"metadata": {"labels": {}}}), false), "metadata drops it");
        let widget = crate::object::testing::obj(
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
        );
        let deployment = crate::object::testing::obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        );
        let crd = crate::object::testing::obj(
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "c"}}),
        );
        assert!(!drops_zero_values(&widget));
        assert!(drops_zero_values(&deployment) && drops_zero_values(&crd));
    }

    #[test]
    fn the_owning_inventory_annotation_is_added_beside_existing_ones() {
        let mut body = json!({"metadata": {"name": "a", "annotations": {"x": "1"}}});
        set_annotation(&mut body, OWNING_INVENTORY, "inv");
        assert_eq!(body["metadata"]["annotations"], json!({"x": "1", OWNING_INVENTORY: "inv"}));
        let mut bare = json!({"metadata": {"name": "a"}});
        set_annotation(&mut bare, OWNING_INVENTORY, "inv");
        assert_eq!(bare["metadata"]["annotations"][OWNING_INVENTORY], "inv");
    }
}
