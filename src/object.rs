//! Object identity: [`ObjRef`] names one Kubernetes object; [`Object`] is a validated manifest document.
//!
//! Everything else in kapply (the graph, the inventory, events) speaks in `ObjRef`s, so its `Display`
//! form `Kind[.group]/namespace/name` is what users see in every message, and its inventory key
//! encoding is byte-compatible with cli-utils.

use std::cmp::Ordering;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Annotation listing explicit dependencies (`<group>/<kind>/<name>` or
/// `<group>/namespaces/<ns>/<kind>/<name>`, comma-separated).
pub const DEPENDS_ON: &str = "config.kubernetes.io/depends-on";
/// Annotation holding a YAML list of apply-time mutations.
pub const APPLY_TIME_MUTATION: &str = "config.kubernetes.io/apply-time-mutation";
/// Annotation marking a document as local configuration: it is never sent to the cluster.
pub const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
/// Annotation naming the inventory that owns an applied object.
pub const OWNING_INVENTORY: &str = "config.k8s.io/owning-inventory";
/// Annotation `cli-utils.sigs.k8s.io/on-remove: keep` — never prune or delete.
pub const ON_REMOVE: &str = "cli-utils.sigs.k8s.io/on-remove";
/// Value of [`ON_REMOVE`] that keeps an object.
pub const ON_REMOVE_KEEP: &str = "keep";
/// Annotation `client.lifecycle.config.k8s.io/deletion: detach` — never prune or delete.
pub const LIFECYCLE_DELETION: &str = "client.lifecycle.config.k8s.io/deletion";
/// Value of [`LIFECYCLE_DELETION`] that detaches an object.
pub const LIFECYCLE_DETACH: &str = "detach";
/// Label identifying an inventory ConfigMap; its value is the inventory id.
pub const INVENTORY_ID_LABEL: &str = "cli-utils.sigs.k8s.io/inventory-id";

/// A kind within an API group. The core group is the empty string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKind {
    /// The API group, without version: `apps`, `rbac.authorization.k8s.io`; `""` for the core group.
    pub group: String,
    /// The kind, in CamelCase as in a manifest's `kind`: `Deployment`, not `deployments`.
    pub kind: String,
}

impl GroupKind {
    /// The kind `kind` of group `group` (`""` for core), taken as given: nothing is checked.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self { group: group.into(), kind: kind.into() }
    }

    /// Builds the group-kind of an `apiVersion` (`v1`, `apps/v1`) and a kind.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        Self::new(group_of(api_version), kind)
    }

    /// True for `apiextensions.k8s.io/CustomResourceDefinition`.
    pub fn is_crd(&self) -> bool {
        self.group == "apiextensions.k8s.io" && self.kind == "CustomResourceDefinition"
    }

    /// True for the core `Namespace` kind.
    pub fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.kind == "Namespace"
    }
}

impl fmt::Display for GroupKind {
    /// `Kind` for the core group, `Kind.group` otherwise (as kubectl prints resources).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// The API group of an `apiVersion`: `apps/v1` → `apps`, `v1` → `` (core).
pub fn group_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _version)) => group,
        None => "",
    }
}

/// The identity of one object: group, kind, namespace (None when cluster-scoped) and name.
///
/// The version is deliberately not part of the identity: the same object is served at every version of
/// its group, and cli-utils' inventory does not record it either.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjRef {
    /// The API group, without version; `""` for the core group.
    pub group: String,
    /// The kind, in CamelCase as in a manifest's `kind`.
    pub kind: String,
    /// The namespace; None for a cluster-scoped object (never `Some("")` when built by
    /// [`ObjRef::new`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's `metadata.name`.
    pub name: String,
}

/// Separator between the fields of a cli-utils inventory key.
const KEY_SEPARATOR: char = '_';
/// How cli-utils writes a `:` of a name inside an inventory key (ConfigMap keys may not contain `:`).
const COLON_IN_KEY: &str = "__";

/// Why an inventory key could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid inventory key {key:?}: {reason} (expected <namespace>_<name>_<group>_<kind>)")]
pub struct InvalidKey {
    /// The key, as read from the ConfigMap.
    pub key: String,
    /// What is wrong with it: `no field separator`, `too few fields`, `empty name` or `empty kind`.
    pub reason: &'static str,
}

impl ObjRef {
    /// The object `name` of `kind` in `group` (`""` for core), in `namespace`; an empty namespace counts
    /// as None (cluster-scoped). Nothing else is checked.
    pub fn new(
        group: impl Into<String>,
        kind: impl Into<String>,
        namespace: Option<&str>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.filter(|ns| !ns.is_empty()).map(str::to_owned),
            name: name.into(),
        }
    }

    /// The object's group and kind (a copy).
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }

    /// The namespace, or `""` for a cluster-scoped object.
    pub fn namespace_or_empty(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The cli-utils inventory key: `<namespace>_<name>_<group>_<kind>`, a `:` in the name as `__`.
    pub fn to_inventory_key(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace_or_empty(),
            self.name.replace(':', COLON_IN_KEY),
            self.group,
            self.kind
        )
    }

    /// Decodes a cli-utils inventory key, the inverse of [`ObjRef::to_inventory_key`].
    ///
    /// Parsed as cli-utils does: the namespace up to the first `_`, the kind after the last, the group
    /// after the one before it; what remains is the name, with `__` turned back into `:`.
    pub fn from_inventory_key(key: &str) -> Result<Self, InvalidKey> {
        let invalid = |reason| InvalidKey { key: key.to_owned(), reason };
        let trimmed = key.trim();
        let (namespace, rest) =
            trimmed.split_once(KEY_SEPARATOR).ok_or_else(|| invalid("no field separator"))?;
        let (rest, kind) = rest.rsplit_once(KEY_SEPARATOR).ok_or_else(|| invalid("too few fields"))?;
        let (name, group) = rest.rsplit_once(KEY_SEPARATOR).ok_or_else(|| invalid("too few fields"))?;
        if name.is_empty() {
            return Err(invalid("empty name"));
        }
        if kind.is_empty() {
            return Err(invalid("empty kind"));
        }
        Ok(Self::new(group, kind, Some(namespace), name.replace(COLON_IN_KEY, ":")))
    }

    /// The reference of a JSON object's `apiVersion`, `kind`, `metadata.namespace` and `metadata.name`,
    /// or None when one of apiVersion, kind or name is missing.
    pub fn from_value(value: &Value) -> Option<Self> {
        let api_version = value.get("apiVersion")?.as_str()?;
        let kind = value.get("kind")?.as_str()?;
        let metadata = value.get("metadata")?;
        let name = metadata.get("name")?.as_str()?;
        let namespace = metadata.get("namespace").and_then(Value::as_str);
        Some(Self::new(group_of(api_version), kind, namespace, name))
    }
}

impl fmt::Display for ObjRef {
    /// `Kind[.group]/namespace/name`, or `Kind[.group]/name` when cluster-scoped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gk = GroupKind::new(self.group.as_str(), self.kind.as_str());
        match &self.namespace {
            Some(ns) => write!(f, "{gk}/{ns}/{}", self.name),
            None => write!(f, "{gk}/{}", self.name),
        }
    }
}

impl Ord for ObjRef {
    /// Group, kind, namespace, name: a total order used wherever output must be deterministic.
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.group, &self.kind, self.namespace_or_empty(), &self.name).cmp(&(
            &other.group,
            &other.kind,
            other.namespace_or_empty(),
            &other.name,
        ))
    }
}

impl PartialOrd for ObjRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a document came from, for error messages: `file`, 1-based document index, 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// The path as given by the user, or `-` (shown as `<stdin>`) for standard input.
    pub file: PathBuf,
    /// 1-based index of the document in its file (items of a `List` share their document's index).
    pub document: usize,
    /// 1-based line where the document starts, when known.
    pub line: Option<usize>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file =
            if self.file.as_os_str() == "-" { "<stdin>".into() } else { self.file.display().to_string() };
        match self.line {
            Some(line) => write!(f, "{file}:{line} (document {})", self.document),
            None => write!(f, "{file} (document {})", self.document),
        }
    }
}

/// One validated manifest object, ready to be planned and applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The object's identity, namespace filled in for namespaced kinds (from the default namespace when
    /// the document named none).
    pub obj_ref: ObjRef,
    /// The full `apiVersion` (`apps/v1`), needed to address the API.
    pub api_version: String,
    /// The document as JSON, namespace filled in for namespaced kinds.
    pub body: Value,
    /// Where the document was read.
    pub source: Source,
}

impl Object {
    /// The value of annotation `key`, if set and a string.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        annotation(&self.body, key)
    }
}

/// The value of annotation `key` on any JSON object, if set and a string.
pub fn annotation<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// True when an object is marked never to be pruned or deleted (`on-remove: keep` or
/// `deletion: detach`).
pub fn is_kept(value: &Value) -> bool {
    annotation(value, ON_REMOVE) == Some(ON_REMOVE_KEEP)
        || annotation(value, LIFECYCLE_DELETION) == Some(LIFECYCLE_DETACH)
}

/// Builders of test [`Object`]s from inline JSON, shared by every module's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::{Value, json};

    use super::{ObjRef, Object, Source};

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_of_core_namespaced_object_omits_group() {
        let r = ObjRef::new("", "ConfigMap", Some("default"), "cm");
        assert_eq!(r.to_string(), "ConfigMap/default/cm");
    }

    #[test]
    fn display_of_grouped_cluster_scoped_object_has_kind_dot_group() {
        let r = ObjRef::new("rbac.authorization.k8s.io", "ClusterRole", None, "reader");
        assert_eq!(r.to_string(), "ClusterRole.rbac.authorization.k8s.io/reader");
    }

    #[test]
    fn empty_namespace_means_cluster_scoped() {
        assert_eq!(ObjRef::new("", "Namespace", Some(""), "a").namespace, None);
    }

    #[test]
    fn inventory_key_matches_cli_utils_format() {
        let r = ObjRef::new("apps", "Deployment", Some("prod"), "web");
        assert_eq!(r.to_inventory_key(), "prod_web_apps_Deployment");
        let c = ObjRef::new("", "Namespace", None, "prod");
        assert_eq!(c.to_inventory_key(), "_prod__Namespace");
    }

    #[test]
    fn colon_in_name_is_written_as_double_underscore() {
        let r = ObjRef::new("rbac.authorization.k8s.io", "ClusterRole", None, "system:reader");
        assert_eq!(r.to_inventory_key(), "_system__reader_rbac.authorization.k8s.io_ClusterRole");
        assert_eq!(ObjRef::from_inventory_key(&r.to_inventory_key()).unwrap(), r);
    }

    #[test]
    fn inventory_keys_written_by_cli_utils_decode() {
        let r = ObjRef::from_inventory_key("test-ns_cm-1__ConfigMap").unwrap();
        assert_eq!(r, ObjRef::new("", "ConfigMap", Some("test-ns"), "cm-1"));
        let crd =
            ObjRef::from_inventory_key("_foos.example.com_apiextensions.k8s.io_CustomResourceDefinition")
                .unwrap();
        assert_eq!(crd.name, "foos.example.com");
        assert_eq!(crd.namespace, None);
    }

    #[test]
    fn malformed_inventory_keys_are_rejected_with_the_key_named() {
        for key in ["", "nounderscores", "ns_name", "ns__group_", "ns___Kind"] {
            let err = ObjRef::from_inventory_key(key).unwrap_err();
            assert!(err.to_string().contains(&format!("{key:?}")), "{err}");
        }
    }

    #[test]
    fn order_is_group_kind_namespace_name() {
        let mut v = [
            ObjRef::new("apps", "Deployment", Some("b"), "x"),
            ObjRef::new("", "ConfigMap", Some("b"), "y"),
            ObjRef::new("", "ConfigMap", Some("a"), "z"),
            ObjRef::new("", "ConfigMap", None, "z"),
        ];
        v.sort();
        let shown: Vec<_> = v.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["ConfigMap/z", "ConfigMap/a/z", "ConfigMap/b/y", "Deployment.apps/b/x"]);
    }

    #[test]
    fn from_value_reads_identity_fields() {
        let v = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "namespace": "prod"}});
        assert_eq!(ObjRef::from_value(&v), Some(ObjRef::new("apps", "Deployment", Some("prod"), "web")));
        assert_eq!(ObjRef::from_value(&json!({"kind": "X"})), None);
    }

    #[test]
    fn keep_and_detach_annotations_are_recognised() {
        let keep = json!({"metadata": {"annotations": {ON_REMOVE: "keep"}}});
        let detach = json!({"metadata": {"annotations": {LIFECYCLE_DELETION: "detach"}}});
        let other = json!({"metadata": {"annotations": {ON_REMOVE: "delete"}}});
        assert!(is_kept(&keep));
        assert!(is_kept(&detach));
        assert!(!is_kept(&other));
    }

    #[test]
    fn source_display_names_stdin_and_line() {
        let s = Source { file: "-".into(), document: 2, line: Some(7) };
        assert_eq!(s.to_string(), "<stdin>:7 (document 2)");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn dns_label() -> impl Strategy<Value = String> {
            "[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?"
        }

        proptest! {
            #[test]
            fn inventory_keys_round_trip(
                group in prop_oneof![Just(String::new()), dns_label()],
                kind in "[A-Z][A-Za-z0-9]{0,15}",
                namespace in proptest::option::of(dns_label()),
                name in "[a-z0-9]([a-z0-9.:-]{0,30}[a-z0-9])?",
            ) {
                let r = ObjRef::new(group, kind, namespace.as_deref(), name);
                prop_assert_eq!(ObjRef::from_inventory_key(&r.to_inventory_key()).unwrap(), r);
            }

            #[test]
            fn decoding_arbitrary_keys_never_panics(key in ".*") {
                let _ = ObjRef::from_inventory_key(&key);
            }
        }
    }
}
