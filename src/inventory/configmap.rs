//! [`Inventory`]: the cli-utils ConfigMap format — read from a live ConfigMap, written as a full body.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value, json};

use super::InventoryFormat;
use super::error::{InventoryError, Result};
use super::info::InventoryInfo;
use crate::object::{INVENTORY_ID_LABEL, InvalidKey, ObjRef};

/// One inventory: its identity and the objects it records.
///
/// The set is ordered ([`ObjRef`]'s order), so everything derived from it — the ConfigMap body, prune
/// candidates, messages — is deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The inventory id: the value of the ConfigMap's `cli-utils.sigs.k8s.io/inventory-id` label.
    pub id: String,
    /// The name of the inventory ConfigMap.
    pub name: String,
    /// The namespace of the inventory ConfigMap.
    pub namespace: String,
    /// The objects the inventory records, one `data` key each: what a later run may prune. For an
    /// ApplySet, its members (found by their label).
    pub objects: BTreeSet<ObjRef>,
    /// How it is kept: a ConfigMap, or an ApplySet (then `id` is the set's and `name` its parent's).
    pub format: InventoryFormat,
}

/// A `data` key of an inventory ConfigMap that does not decode to an object reference.
///
/// cli-utils refuses the whole inventory then, which leaves the user stuck until someone edits the
/// ConfigMap by hand. kapply reads the rest and reports each such entry: an undecodable key names no
/// object kapply could prune anyway, and it is dropped at the next inventory write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ignoring entry {:?} of inventory ConfigMap {configmap}: {}; it will be dropped at the next inventory write", .source.key, .source.reason)]
pub struct InvalidEntry {
    /// `<namespace>/<name>` of the inventory ConfigMap.
    pub configmap: String,
    /// The key and why it does not decode.
    #[source]
    pub source: InvalidKey,
}

impl Inventory {
    /// An inventory recording `objects`.
    pub fn new(info: &InventoryInfo, objects: BTreeSet<ObjRef>) -> Self {
        Self {
            id: info.id.clone(),
            name: info.name.clone(),
            namespace: info.namespace.clone(),
            objects,
            format: info.format,
        }
    }

    /// Its identity, without the objects.
    pub fn info(&self) -> InventoryInfo {
        InventoryInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            format: self.format,
        }
    }

    /// Reads a live inventory ConfigMap (as JSON from the API server).
    ///
    /// - The id is the `cli-utils.sigs.k8s.io/inventory-id` label, trimmed (cli-utils trims it too).
    /// - Each `data` key is decoded with [`ObjRef::from_inventory_key`]. Values are ignored: kapply
    ///   writes `""`, newer cli-utils versions write a JSON status there, and neither matters for
    ///   pruning.
    /// - `kind` is checked when present; LIST items from the API carry no `kind`.
    ///
    /// # Errors
    /// [`InventoryError::NotAnInventory`] when the object is not a ConfigMap, lacks a name, namespace or
    /// id label, or has a `data` field that is not a map. Keys that do not decode are not errors: they are
    /// returned as [`InvalidEntry`]s, for the caller to report as warnings.
    pub fn from_configmap(configmap: &Value) -> Result<(Inventory, Vec<InvalidEntry>)> {
        let metadata = configmap.get("metadata");
        let text = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_str).unwrap_or_default();
        let (name, namespace) = (text("name"), text("namespace"));
        let configmap_name = format!("ConfigMap/{namespace}/{name}");
        let refuse =
            |problem: String| InventoryError::NotAnInventory { configmap: configmap_name.clone(), problem };

        if let Some(kind) = configmap.get("kind").and_then(Value::as_str).filter(|k| *k != "ConfigMap") {
            return Err(refuse(format!("it is a {kind}, not a ConfigMap")));
        }
        if name.is_empty() || namespace.is_empty() {
            return Err(refuse("it has no metadata.name or metadata.namespace".to_owned()));
        }
        let id = metadata
            .and_then(|m| m.get("labels"))
            .and_then(|labels| labels.get(INVENTORY_ID_LABEL))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| refuse(format!("it has no {INVENTORY_ID_LABEL} label")))?;

        let mut objects = BTreeSet::new();
        let mut invalid = Vec::new();
        match configmap.get("data") {
            None | Some(Value::Null) => {}
            Some(Value::Object(data)) => {
                for key in data.keys() {
                    match ObjRef::from_inventory_key(key) {
                        Ok(obj) => {
                            objects.insert(obj);
                        }
                        Err(source) => {
                            invalid.push(InvalidEntry { configmap: format!("{namespace}/{name}"), source })
                        }
                    }
                }
            }
            Some(_) => return Err(refuse("its data field is not a map".to_owned())),
        }
        let inventory = Inventory {
            id: id.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            objects,
            format: InventoryFormat::ConfigMap,
        };
        Ok((inventory, invalid))
    }

    /// The ConfigMap `data`: one key per object (`<namespace>_<name>_<group>_<kind>`), each valued `""`,
    /// as cli-utils writes it when it records no status.
    pub fn to_configmap_data(&self) -> Map<String, Value> {
        self.objects.iter().map(|obj| (obj.to_inventory_key(), Value::String(String::new()))).collect()
    }

    /// The full ConfigMap to write (server-side apply, or a replace with the live `resourceVersion` added):
    /// `apiVersion`, `kind`, name, namespace, the id label and the data.
    ///
    /// `data` is always present, even empty: with server-side apply, keys this field manager wrote
    /// before and no longer sends are removed.
    ///
    /// Call [`Inventory::check_writable`] first: a body over the size limit is refused by the server.
    pub fn to_configmap(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": { INVENTORY_ID_LABEL: self.id },
            },
            "data": self.to_configmap_data(),
        })
    }
}

impl fmt::Display for Inventory {
    /// `ConfigMap/<namespace>/<name> (inventory id <id>, N objects)`, or for an ApplySet
    /// `Secret/<namespace>/<name> (ApplySet <id>, N objects)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.info();
        let what = if info.is_applyset() { "ApplySet" } else { "inventory id" };
        write!(f, "{} ({what} {}, {} objects)", info.object_ref(), self.id, self.objects.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ConfigMap as cli-utils writes it (values empty or, in newer versions, a JSON status).
    fn written_by_cli_utils() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "inventory-62308923",
                "namespace": "test-ns",
                "labels": {INVENTORY_ID_LABEL: "  e2e-inv  "},
                "resourceVersion": "1234",
            },
            "data": {
                "test-ns_cm-1__ConfigMap": "",
                "_ns1__Namespace": "",
                "_foos.example.com_apiextensions.k8s.io_CustomResourceDefinition":
                    "{\"strategy\":\"Apply\",\"actuation\":\"Succeeded\",\"reconcile\":\"Succeeded\"}",
                "test-ns_web_apps_Deployment": "",
                "_system__reader_rbac.authorization.k8s.io_ClusterRole": "",
            }
        })
    }

    #[test]
    fn a_configmap_written_by_cli_utils_reads_into_the_right_refs() {
        let (inv, invalid) = Inventory::from_configmap(&written_by_cli_utils()).unwrap();
        assert!(invalid.is_empty());
        assert_eq!(inv.id, "e2e-inv");
        assert_eq!(inv.name, "inventory-62308923");
        assert_eq!(inv.namespace, "test-ns");
        let expected: BTreeSet<ObjRef> = [
            ObjRef::new("", "ConfigMap", Some("test-ns"), "cm-1"),
            ObjRef::new("", "Namespace", None, "ns1"),
            ObjRef::new("apiextensions.k8s.io", "CustomResourceDefinition", None, "foos.example.com"),
            ObjRef::new("apps", "Deployment", Some("test-ns"), "web"),
            ObjRef::new("rbac.authorization.k8s.io", "ClusterRole", None, "system:reader"),
        ]
        .into_iter()
        .collect();
        assert_eq!(inv.objects, expected);
    }

    #[test]
    fn writing_back_gives_byte_identical_keys() {
        let cm = written_by_cli_utils();
        let (inv, _) = Inventory::from_configmap(&cm).unwrap();
        let original: BTreeSet<&str> = cm["data"].as_object().unwrap().keys().map(String::as_str).collect();
        let data = inv.to_configmap_data();
        let written: BTreeSet<&str> = data.keys().map(String::as_str).collect();
        assert_eq!(written, original);
        assert!(data.values().all(|v| v == ""));
    }

    #[test]
    fn the_full_body_is_a_labelled_v1_configmap() {
        let (inv, _) = Inventory::from_configmap(&written_by_cli_utils()).unwrap();
        let body = inv.to_configmap();
        assert_eq!(body["apiVersion"], "v1");
        assert_eq!(body["kind"], "ConfigMap");
        assert_eq!(body["metadata"]["name"], "inventory-62308923");
        assert_eq!(body["metadata"]["namespace"], "test-ns");
        assert_eq!(body["metadata"]["labels"][INVENTORY_ID_LABEL], "e2e-inv");
        assert_eq!(body["data"].as_object().unwrap().len(), 5);
        assert!(body["metadata"].get("resourceVersion").is_none());
        let (again, _) = Inventory::from_configmap(&body).unwrap();
        assert_eq!(again, inv);
    }

    #[test]
    fn an_empty_inventory_still_writes_a_data_map() {
        let info = InventoryInfo::from_flags(Some("abc"), Some("inv"), Some("ns")).unwrap();
        let body = Inventory::new(&info, BTreeSet::new()).to_configmap();
        assert_eq!(body["data"], json!({}));
    }

    #[test]
    fn a_configmap_without_data_is_an_empty_inventory() {
        let cm =
            json!({"metadata": {"name": "inv", "namespace": "ns", "labels": {INVENTORY_ID_LABEL: "abc"}}});
        let (inv, invalid) = Inventory::from_configmap(&cm).unwrap();
        assert!(inv.objects.is_empty() && invalid.is_empty());
    }

    #[test]
    fn bad_keys_are_reported_with_key_and_configmap_and_the_rest_is_read() {
        let mut cm = written_by_cli_utils();
        cm["data"]["not-a-key"] = json!("");
        let (inv, invalid) = Inventory::from_configmap(&cm).unwrap();
        assert_eq!(inv.objects.len(), 5);
        assert_eq!(invalid.len(), 1);
        let message = invalid[0].to_string();
        assert!(message.contains("\"not-a-key\""), "{message}");
        assert!(message.contains("test-ns/inventory-62308923"), "{message}");
        assert!(message.contains("dropped"), "{message}");
    }

    #[test]
    fn objects_that_are_not_inventories_are_refused() {
        let no_label = json!({"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "b"}});
        let err = Inventory::from_configmap(&no_label).unwrap_err().to_string();
        assert!(err.contains("ConfigMap/b/a") && err.contains(INVENTORY_ID_LABEL), "{err}");

        let blank = json!({"metadata": {"name": "a", "namespace": "b", "labels": {INVENTORY_ID_LABEL: " "}}});
        assert!(Inventory::from_configmap(&blank).is_err());

        let secret = json!({"kind": "Secret",
                            "metadata": {"name": "a", "namespace": "b", "labels": {INVENTORY_ID_LABEL: "x"}}});
        let err = Inventory::from_configmap(&secret).unwrap_err().to_string();
        assert!(err.contains("Secret"), "{err}");

        let list_data = json!({"metadata": {"name": "a", "namespace": "b", "labels": {INVENTORY_ID_LABEL: "x"}},
                               "data": ["x"]});
        assert!(Inventory::from_configmap(&list_data).is_err());

        let no_ns = json!({"metadata": {"name": "a", "labels": {INVENTORY_ID_LABEL: "x"}}});
        assert!(Inventory::from_configmap(&no_ns).is_err());
    }
}
