//! Hide Secret values from a diff while keeping visible which of them change.

use serde_json::{Map, Value};

use super::normalize::LAST_APPLIED;

/// What every masked value becomes when it is the same on both sides (or only on one side).
pub const MASK: &str = "***";
/// What a masked value becomes on the live side when the two sides differ.
pub const MASK_BEFORE: &str = "*** (before)";
/// What a masked value becomes on the desired side when the two sides differ.
pub const MASK_AFTER: &str = "*** (after)";

/// The fields of a Secret whose values are secret. `stringData` is write-only on the server, so it
/// only ever shows up in our own manifest, but it holds the same values in clear text.
const SECRET_FIELDS: [&str; 2] = ["data", "stringData"];

/// Replace every value of a core `v1` Secret's `data` and `stringData` in both objects, so that no
/// secret can reach a terminal or a CI log, while a diff still shows which keys change.
///
/// This mirrors `kubectl diff`: a value equal on both sides becomes `***` on both, a value that differs
/// becomes `*** (before)` on the live side and `*** (after)` on the desired side, and a key present on
/// one side only becomes `***`. Keys stay visible. Beyond kubectl, which masks only `data`:
///
/// - `stringData` is masked too, compared with the other side's `stringData`;
/// - the `kubectl.kubernetes.io/last-applied-configuration` annotation is masked the same way, since it
///   embeds the values of whoever applied the Secret client-side ([`normalize`](super::normalize())
///   also drops it);
/// - a `data`/`stringData` that is not a map (malformed, but the server's error is not ours to show) is
///   masked as a whole instead of key by key.
///
/// An object is treated as a Secret when either side is one (`apiVersion: v1`, `kind: Secret`), so a
/// Secret about to be created or deleted (the other side `null`) is masked as well. Other objects are
/// left untouched.
pub fn mask_secrets(live: &mut Value, desired: &mut Value) {
    if !is_core_secret(live) && !is_core_secret(desired) {
        return;
    }
    for field in SECRET_FIELDS {
        mask_field(live.get_mut(field), desired.get_mut(field));
    }
    let last_applied = format!("/metadata/annotations/{}", LAST_APPLIED.replace('/', "~1"));
    mask_field(live.pointer_mut(&last_applied), desired.pointer_mut(&last_applied));
}

/// Only the core group's Secret: a custom resource that happens to be called `Secret` is not known to
/// hold secrets in `data`.
fn is_core_secret(obj: &Value) -> bool {
    obj["apiVersion"] == "v1" && obj["kind"] == "Secret"
}

/// Mask one field of both sides: key by key when it is a map, as a whole otherwise.
fn mask_field(live: Option<&mut Value>, desired: Option<&mut Value>) {
    match (present(live), present(desired)) {
        (Some(Value::Object(live)), Some(Value::Object(desired))) => mask_maps(live, desired),
        (Some(Value::Object(only)), None) | (None, Some(Value::Object(only))) => {
            mask_maps(only, &mut Map::new())
        }
        (live, desired) => mask_pair(live, desired),
    }
}

/// A `null` field holds no value to hide; treating it as absent keeps it readable.
fn present(value: Option<&mut Value>) -> Option<&mut Value> {
    value.filter(|v| !v.is_null())
}

fn mask_maps(live: &mut Map<String, Value>, desired: &mut Map<String, Value>) {
    let keys: Vec<String> = live.keys().chain(desired.keys()).cloned().collect();
    for key in keys {
        mask_pair(live.get_mut(&key), desired.get_mut(&key));
    }
}

/// The kubectl rule for one value that may be on either side or both.
fn mask_pair(live: Option<&mut Value>, desired: Option<&mut Value>) {
    match (live, desired) {
        (Some(live), Some(desired)) if live == desired => {
            *live = MASK.into();
            *desired = MASK.into();
        }
        (Some(live), Some(desired)) => {
            *live = MASK_BEFORE.into();
            *desired = MASK_AFTER.into();
        }
        (Some(only), None) | (None, Some(only)) => *only = MASK.into(),
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn equal_values_become_stars_and_differing_values_before_and_after() {
        let mut live = secret(json!({"same": "c2FtZQ==", "changed": "b2xk", "gone": "Z29uZQ=="}));
        let mut desired = secret(json!({"same": "c2FtZQ==", "changed": "bmV3", "added": "YWRkZWQ="}));
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live["data"], json!({"same": "***", "changed": "*** (before)", "gone": "***"}));
        assert_eq!(desired["data"], json!({"same": "***", "changed": "*** (after)", "added": "***"}));
    }

    #[test]
    fn string_data_is_masked_like_data() {
        let mut live = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"a": "x", "b": "y"}});
        let mut desired = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"a": "x", "b": "z"}});
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live["stringData"], json!({"a": "***", "b": "*** (before)"}));
        assert_eq!(desired["stringData"], json!({"a": "***", "b": "*** (after)"}));
    }

    #[test]
    fn a_secret_on_one_side_only_is_masked() {
        let mut live = Value::Null;
        let mut desired = secret(json!({"k": "dmFsdWU="}));
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live, Value::Null);
        assert_eq!(desired["data"], json!({"k": "***"}));

        let mut live = secret(json!({"k": "dmFsdWU="}));
        let mut desired = Value::Null;
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live["data"], json!({"k": "***"}));
    }

    #[test]
    fn a_data_field_that_is_not_a_map_is_masked_whole() {
        let mut live = secret(json!("c2VjcmV0"));
        let mut desired = secret(json!(["c2VjcmV0"]));
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live["data"], json!(MASK_BEFORE));
        assert_eq!(desired["data"], json!(MASK_AFTER));
    }

    #[test]
    fn the_last_applied_annotation_of_a_secret_is_masked() {
        let annotated = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"annotations": {LAST_APPLIED: v, "other": "visible"}}})
        };
        let mut live = annotated("{\"data\":{\"k\":\"b2xk\"}}");
        let mut desired = annotated("{\"data\":{\"k\":\"bmV3\"}}");
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live["metadata"]["annotations"][LAST_APPLIED], json!(MASK_BEFORE));
        assert_eq!(desired["metadata"]["annotations"][LAST_APPLIED], json!(MASK_AFTER));
        assert_eq!(desired["metadata"]["annotations"]["other"], json!("visible"));
    }

    #[test]
    fn objects_that_are_not_core_secrets_are_untouched() {
        for (api_version, kind) in [("v1", "ConfigMap"), ("example.com/v1", "Secret"), ("v2", "Secret")] {
            let original = json!({"apiVersion": api_version, "kind": kind, "data": {"k": "v"}});
            let (mut live, mut desired) = (original.clone(), original.clone());
            mask_secrets(&mut live, &mut desired);
            assert_eq!((live, desired), (original.clone(), original));
        }
    }

    #[test]
    fn null_data_stays_null() {
        let mut live = secret(Value::Null);
        let mut desired = secret(json!({"k": "dg=="}));
        mask_secrets(&mut live, &mut desired);
        assert_eq!(live["data"], Value::Null);
        assert_eq!(desired["data"], json!({"k": "***"}));
    }
}
