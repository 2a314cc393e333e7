//! [`AppliedDigest`]: what an inventory remembers of each object's last apply, so that a re-apply of
//! an unchanged configuration sends nothing (docs/apply.md, "Unchanged objects are not sent").
//!
//! # The rule
//! Applying a configuration is a no-op when the live object is exactly what applying that same
//! configuration produced last time, in every field kapply's field manager owns. Two digests decide it:
//!
//! - the **configuration digest**: of the body kapply would send (after apply-time mutation, with
//!   its owning-inventory annotation) and the field manager sending it;
//! - the **state digest**: of the field manager's `managedFields` entry (its `Apply` operation's
//!   `fieldsV1`: the set of fields it owns) together with the live values of those fields.
//!
//! After an apply, both are recorded from the body sent and the server's answer. Before the next
//! apply of the same object, both are computed again — the configuration from the manifests, the state
//! from the live object the run already LISTs — and when both equal the record, the apply is skipped
//! and reported `unchanged`. Why that is safe: any other writer that changes a value kapply owns takes
//! that field from kapply's entry (server-side apply's field ownership), and kapply itself writing a
//! different configuration (a concurrent or killed run) changes the owned values; either way the
//! state digest differs. An object deleted and re-created by someone else has no kapply entry at all.
//! Anything missing or unreadable — no record (an inventory cli-utils wrote), no entry — means "apply".
//!
//! Pure: no I/O; the engine feeds it JSON.

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

/// The bytes of a digest kept: 128 bits of SHA-256, far beyond any chance of two configurations of
/// one object colliding.
const LEN: usize = 16;

/// The prefix of a recorded value: other tools' values (cli-utils writes `""` or a JSON status) are
/// never mistaken for one.
const PREFIX: &str = "kapply.v1:";

/// A digest: the first 16 bytes of a SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; LEN]);

impl Digest {
    fn of(parts: &[&[u8]]) -> Self {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for part in parts {
            // Length-prefixed: ("ab", "c") and ("a", "bc") differ.
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        let mut bytes = [0; LEN];
        bytes.copy_from_slice(&context.finish().as_ref()[..LEN]);
        Digest(bytes)
    }

    fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 2 * LEN || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0; LEN];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Digest(bytes))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// What the inventory records of an object's last apply: its `data` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppliedDigest {
    /// Of the body sent and its field manager.
    pub config: Digest,
    /// Of the field manager's owned fields and their values, as the server answered.
    pub state: Digest,
}

impl AppliedDigest {
    /// The record of an apply of `body` by `field_manager` that the server answered with `applied`;
    /// None when the answer has no `Apply` entry of that manager (nothing to compare with later).
    pub fn of_apply(body: &Value, field_manager: &str, applied: &Value) -> Option<Self> {
        Some(AppliedDigest {
            config: config_digest(body, field_manager),
            state: state_digest(applied, field_manager)?,
        })
    }

    /// The inventory `data` value: `kapply.v1:<config>:<state>`.
    pub fn to_value(&self) -> String {
        let mut text = String::with_capacity(PREFIX.len() + 4 * LEN + 1);
        let _ = write!(text, "{PREFIX}{}:{}", self.config, self.state);
        text
    }

    /// Reads a `data` value written by [`to_value`](Self::to_value); None for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        let (config, state) = value.strip_prefix(PREFIX)?.split_once(':')?;
        Some(AppliedDigest { config: Digest::parse(config)?, state: Digest::parse(state)? })
    }

    /// True when applying `body` by `field_manager` to the object whose state digest is `live_state`
    /// would change nothing (the rule in the module documentation).
    pub fn unchanged(&self, body: &Value, field_manager: &str, live_state: Option<Digest>) -> bool {
        live_state == Some(self.state) && config_digest(body, field_manager) == self.config
    }
}

/// The digest of `body` as sent by `field_manager`. serde_json's maps are ordered by key, so the
/// serialization is canonical; were it ever in insertion order, a difference only costs an apply.
pub fn config_digest(body: &Value, field_manager: &str) -> Digest {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Digest::of(&[b"config", field_manager.as_bytes(), &bytes])
}

/// The digest of what `field_manager` owns in `live` — its `Apply` entry's `fieldsV1` — and of the
/// live values of those fields; None when it has no such entry.
pub fn state_digest(live: &Value, field_manager: &str) -> Option<Digest> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let mut owned = entries.iter().filter(|entry| {
        entry.get("manager").and_then(Value::as_str) == Some(field_manager)
            && entry.get("operation").and_then(Value::as_str) == Some("Apply")
            && entry.get("subresource").is_none_or(|s| s.as_str() == Some(""))
    });
    let entry = owned.next()?;
    if owned.next().is_some() {
        // Two Apply entries of one manager (one per apiVersion): too unusual to reason about.
        return None;
    }
    let fields = entry.get("fieldsV1")?.as_object()?;
    let values = project(Some(live), fields);
    let fields = serde_json::to_vec(fields).ok()?;
    let values = serde_json::to_vec(&values).ok()?;
    Some(Digest::of(&[b"state", field_manager.as_bytes(), &fields, &values]))
}

/// The values of `node` at the fields of a `fieldsV1` tree: `f:<name>` a map field, `k:<json>` the
/// list item with those key fields, `v:<json>` a set's value (its presence), `i:<n>` a list index,
/// `.` the node itself (implied by its children). A field with no children is a leaf: its whole value
/// counts (an atomic list or map included). What is absent is recorded as absent.
fn project(node: Option<&Value>, fields: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (key, children) in fields {
        if key == "." {
            continue;
        }
        let child = match key.split_at_checked(2) {
            Some(("f:", name)) => node.and_then(|n| n.get(name)),
            Some(("k:", keys)) => {
                let keys: Option<Map<String, Value>> = serde_json::from_str(keys).ok();
                node.and_then(Value::as_array).and_then(|items| {
                    let keys = keys.as_ref()?;
                    items.iter().find(|item| keys.iter().all(|(k, v)| item.get(k) == Some(v)))
                })
            }
            Some(("v:", value)) => {
                let value: Option<Value> = serde_json::from_str(value).ok();
                let present = node
                    .and_then(Value::as_array)
                    .is_some_and(|items| value.as_ref().is_some_and(|value| items.contains(value)));
                out.insert(key.clone(), Value::Bool(present));
                continue;
            }
            Some(("i:", index)) => {
                node.and_then(Value::as_array).and_then(|items| items.get(index.parse::<usize>().ok()?))
            }
            _ => None,
        };
        let children = children.as_object().filter(|c| c.keys().any(|k| k != "."));
        let value = match (child, children) {
            (None, _) => Value::String("<absent>".into()),
            (Some(child), None) => child.clone(),
            (Some(child), Some(children)) => project(Some(child), children),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(image: &str, replicas: u64, managers: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "resourceVersion": "7",
                         "labels": {"app": "web"}, "managedFields": managers},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": image, "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                {"name": "sidecar", "image": "envoy"},
            ]}}},
            "status": {"observedGeneration": 3},
        })
    }

    fn kapply_owns(fields: Value) -> Value {
        json!([{"manager": "kapply", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
                "fieldsV1": fields}])
    }

    fn owned() -> Value {
        json!({"f:metadata": {"f:labels": {"f:app": {}}},
               "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                   "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    }

    #[test]
    fn a_value_kapply_owns_changes_the_state_and_one_it_does_not_own_leaves_it() {
        let base = state_digest(&deployment("nginx:1", 2, kapply_owns(owned())), "kapply").unwrap();
        assert_ne!(state_digest(&deployment("nginx:2", 2, kapply_owns(owned())), "kapply"), Some(base));
        assert_ne!(state_digest(&deployment("nginx:1", 3, kapply_owns(owned())), "kapply"), Some(base));
        let mut status_moved = deployment("nginx:1", 2, kapply_owns(owned()));
        status_moved["status"]["observedGeneration"] = json!(4);
        status_moved["metadata"]["resourceVersion"] = json!("8");
        status_moved["spec"]["template"]["spec"]["containers"][1]["image"] = json!("envoy:2");
        assert_eq!(state_digest(&status_moved, "kapply"), Some(base), "status, versions and others' fields");
    }

    #[test]
    fn losing_a_field_to_another_manager_changes_the_state() {
        let base = state_digest(&deployment("nginx:1", 2, kapply_owns(owned())), "kapply").unwrap();
        let mut fewer = owned();
        fewer["f:spec"].as_object_mut().unwrap().remove("f:replicas");
        assert_ne!(state_digest(&deployment("nginx:1", 2, kapply_owns(fewer)), "kapply"), Some(base));
    }

    #[test]
    fn no_apply_entry_of_the_manager_means_no_state() {
        let update = json!([{"manager": "kapply", "operation": "Update", "fieldsV1": owned()}]);
        assert_eq!(state_digest(&deployment("nginx:1", 2, update), "kapply"), None);
        assert_eq!(state_digest(&deployment("nginx:1", 2, kapply_owns(owned())), "other"), None);
        assert_eq!(state_digest(&json!({"metadata": {"name": "x"}}), "kapply"), None);
        let status =
            json!([{"manager": "kapply", "operation": "Apply", "subresource": "status", "fieldsV1": {}}]);
        assert_eq!(state_digest(&deployment("nginx:1", 2, status), "kapply"), None);
    }

    #[test]
    fn a_missing_list_item_or_field_counts_as_absent_not_as_equal() {
        let mut renamed = deployment("nginx:1", 2, kapply_owns(owned()));
        renamed["spec"]["template"]["spec"]["containers"][0]["name"] = json!("api");
        let base = state_digest(&deployment("nginx:1", 2, kapply_owns(owned())), "kapply");
        assert_ne!(state_digest(&renamed, "kapply"), base);
        let set = json!({"f:spec": {"f:finalizers": {"v:\"a\"": {}}}});
        let with =
            json!({"metadata": {"managedFields": kapply_owns(set.clone())}, "spec": {"finalizers": ["a"]}});
        let without = json!({"metadata": {"managedFields": kapply_owns(set)}, "spec": {"finalizers": ["b"]}});
        assert_ne!(state_digest(&with, "kapply"), state_digest(&without, "kapply"));
    }

    #[test]
    fn the_record_round_trips_and_other_tools_values_are_not_records() {
        let live = deployment("nginx:1", 2, kapply_owns(owned()));
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}});
        let record = AppliedDigest::of_apply(&body, "kapply", &live).unwrap();
        let value = record.to_value();
        assert!(value.starts_with("kapply.v1:") && value.len() == 10 + 65, "{value}");
        assert_eq!(AppliedDigest::parse(&value), Some(record));
        for other in
            ["", r#"{"actuation":"Succeeded","reconcile":"Succeeded","strategy":"Apply"}"#, "kapply.v1:zz:yy"]
        {
            assert_eq!(AppliedDigest::parse(other), None, "{other}");
        }
    }

    #[test]
    fn unchanged_needs_the_same_configuration_manager_and_state() {
        let live = deployment("nginx:1", 2, kapply_owns(owned()));
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 2}});
        let record = AppliedDigest::of_apply(&body, "kapply", &live).unwrap();
        let state = state_digest(&live, "kapply");
        assert!(record.unchanged(&body, "kapply", state));
        assert!(!record.unchanged(&json!({"spec": {"replicas": 3}}), "kapply", state));
        assert!(!record.unchanged(&body, "other", state));
        assert!(!record.unchanged(&body, "kapply", None));
        let moved = state_digest(&deployment("nginx:2", 2, kapply_owns(owned())), "kapply");
        assert!(!record.unchanged(&body, "kapply", moved));
    }
}
