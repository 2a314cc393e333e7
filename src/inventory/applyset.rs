//! kubectl's ApplySet (KEP-3659) as the inventory: the parent object and what it records. Pure.
//!
//! An ApplySet is a *parent* — a Secret (kubectl's default) or a ConfigMap — labelled
//! `applyset.kubernetes.io/id`, and *members*, every object of the set, labelled
//! `applyset.kubernetes.io/part-of` with the same id. The label on each member is the record of
//! membership; the parent only says where to look: which group-kinds
//! (`applyset.kubernetes.io/contains-group-kinds`) in which namespaces (its own and
//! `applyset.kubernetes.io/additional-namespaces`), and which tool manages the set
//! (`applyset.kubernetes.io/tooling`).
//!
//! Why it is as safe as the ConfigMap inventory: a member's label is written by the same apply that
//! creates it, so an object kapply created is always found, even after a kill; and the parent lists the
//! union of the old and new group-kinds and namespaces before anything is applied (as kubectl does), so
//! the search covers every object a run may have created.
//!
//! The id is not chosen: the specification derives it from the parent's group, kind, name and namespace
//! ([`applyset_id`]), so that no set can claim another's members by copying its id.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::{InventoryError, Result};
use crate::object::{GroupKind, ObjRef, annotation};

/// The label that makes an object an ApplySet parent; its value is the set's id.
pub const APPLYSET_ID_LABEL: &str = "applyset.kubernetes.io/id";
/// The label on every member of an ApplySet; its value is the parent's id.
pub const APPLYSET_PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
/// The annotation naming the tool that manages a set, as `<tool>/<version>`.
pub const APPLYSET_TOOLING: &str = "applyset.kubernetes.io/tooling";
/// The annotation listing the group-kinds members may have, sorted, comma-separated (`Kind.group`).
pub const APPLYSET_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
/// The annotation listing the namespaces, other than the parent's, that members may be in.
pub const APPLYSET_NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
/// What kubectl before 1.28 wrote instead of [`APPLYSET_GROUP_KINDS`] (group-resources).
const DEPRECATED_GROUP_RESOURCES: &str = "applyset.kubernetes.io/contains-group-resources";

/// The tool name kapply writes into the tooling annotation of a parent it creates.
pub const KAPPLY_TOOL: &str = "kapply";
/// The one other tool whose sets kapply takes turns on: kubectl writes nothing on a parent beyond the
/// specification's label and annotations, which kapply keeps up to date exactly as kubectl does.
pub const KUBECTL_TOOL: &str = "kubectl";

/// The kind of an ApplySet's parent: the two kubectl supports (custom-resource parents are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParentKind {
    /// A Secret: kubectl's default (`--applyset=NAME`).
    #[default]
    Secret,
    /// A ConfigMap (`--applyset=configmap/NAME`).
    ConfigMap,
}

impl ParentKind {
    /// The kind, as in a manifest.
    pub fn kind(self) -> &'static str {
        match self {
            ParentKind::Secret => "Secret",
            ParentKind::ConfigMap => "ConfigMap",
        }
    }
}

/// Which parent an ApplySet has, as kubectl's `--applyset` names it: `[RESOURCE/]NAME`, the resource
/// `secrets` (the default) or `configmaps` (singular accepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApplySetParent {
    /// Secret or ConfigMap.
    pub kind: ParentKind,
    /// The parent's name.
    pub name: String,
}

impl FromStr for ApplySetParent {
    type Err = InventoryError;

    /// `NAME`, `secret/NAME`, `secrets/NAME`, `configmap/NAME` or `configmaps/NAME`.
    fn from_str(value: &str) -> Result<Self> {
        let invalid = |problem: &str| InventoryError::InvalidApplySetParent {
            value: value.to_owned(),
            problem: problem.to_owned(),
        };
        let (kind, name) = match value.split_once('/') {
            None => (ParentKind::Secret, value),
            Some((resource, name)) => {
                let kind = match resource.to_ascii_lowercase().as_str() {
                    "secret" | "secrets" => ParentKind::Secret,
                    "configmap" | "configmaps" => ParentKind::ConfigMap,
                    _ => {
                        return Err(invalid(
                            "names a resource kapply does not keep ApplySets in: use secrets (the default) or \
                             configmaps",
                        ));
                    }
                };
                (kind, name)
            }
        };
        if let Some(problem) = super::id::dns_subdomain_problem(name) {
            return Err(invalid(&format!("has a name that {problem}")));
        }
        Ok(ApplySetParent { kind, name: name.to_owned() })
    }
}

impl fmt::Display for ApplySetParent {
    /// As kubectl's flag spells it: `secrets/NAME` or `configmaps/NAME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParentKind::Secret => write!(f, "secrets/{}", self.name),
            ParentKind::ConfigMap => write!(f, "configmaps/{}", self.name),
        }
    }
}

/// The id of the ApplySet whose parent is `kind/namespace/name` (core group): `applyset-<hash>-v1`, the
/// hash the URL-safe unpadded base64 of the SHA-256 of `<name>.<namespace>.<kind>.<group>`.
pub fn applyset_id(kind: ParentKind, name: &str, namespace: &str) -> String {
    let gknn = format!("{name}.{namespace}.{}.", kind.kind());
    let hash = ring::digest::digest(&ring::digest::SHA256, gknn.as_bytes());
    format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.as_ref()))
}

/// The tool name of a tooling annotation value: everything before the last `/` (`kubectl/v1.37.1`
/// gives `kubectl`), or the whole value when it has none.
pub fn tool_name(tooling: &str) -> &str {
    tooling.rsplit_once('/').map_or(tooling, |(name, _)| name)
}

/// What a parent records beside its id: who manages the set and where its members are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplySetRecord {
    /// The tooling annotation as found (`kubectl/v1.37.1`), or what kapply writes on a new parent.
    pub tooling: String,
    /// The group-kinds members may have.
    pub group_kinds: BTreeSet<GroupKind>,
    /// The namespaces members may be in, other than the parent's.
    pub namespaces: BTreeSet<String>,
}

impl ApplySetRecord {
    /// The record of a new parent for the objects `objects`, its own namespace `parent_namespace`.
    pub fn new<'a>(objects: impl IntoIterator<Item = &'a ObjRef>, parent_namespace: &str) -> Self {
        let mut record = ApplySetRecord { tooling: kapply_tooling(), ..Default::default() };
        record.extend(objects, parent_namespace);
        record
    }

    /// Adds the group-kinds and namespaces of `objects`.
    pub fn extend<'a>(&mut self, objects: impl IntoIterator<Item = &'a ObjRef>, parent_namespace: &str) {
        for obj in objects {
            self.group_kinds.insert(obj.group_kind());
            if let Some(ns) = obj.namespace.as_deref().filter(|ns| *ns != parent_namespace) {
                self.namespaces.insert(ns.to_owned());
            }
        }
    }

    /// Reads the parent `parent` of the set `id` (`info` names it in errors).
    ///
    /// # Errors
    /// [`InventoryError::NotAnInventory`] when the object is no ApplySet parent, carries another id,
    /// or lists its members in a way kapply cannot read; [`InventoryError::ApplySetOfOtherTool`] when
    /// a tool other than kapply or kubectl manages the set.
    pub fn from_parent(parent: &Value, id: &str, described: &str) -> Result<Self> {
        let not_ours =
            |problem: String| InventoryError::NotAnInventory { configmap: described.to_owned(), problem };
        let label =
            parent.pointer("/metadata/labels").and_then(|l| l.get(APPLYSET_ID_LABEL)).and_then(Value::as_str);
        match label {
            None => {
                return Err(not_ours(format!(
                    "it has no {APPLYSET_ID_LABEL} label, so it is no ApplySet parent; choose another name for \
                     the ApplySet, or delete the object if nothing needs it"
                )));
            }
            Some(found) if found != id => {
                return Err(not_ours(format!(
                    "its {APPLYSET_ID_LABEL} label is {found:?}, but a parent of that kind, name and namespace \
                     has the id {id:?} (KEP-3659 derives it from them); it was copied from another set or \
                     edited: fix the label by hand if this really is the set's parent"
                )));
            }
            Some(_) => {}
        }
        let Some(tooling) = annotation(parent, APPLYSET_TOOLING) else {
            return Err(not_ours(format!(
                "it has no {APPLYSET_TOOLING} annotation, which every ApplySet parent carries; add one naming \
                 the tool that manages the set"
            )));
        };
        let tool = tool_name(tooling);
        if tool != KAPPLY_TOOL && tool != KUBECTL_TOOL {
            return Err(InventoryError::ApplySetOfOtherTool {
                parent: described.to_owned(),
                tool: tool.to_owned(),
            });
        }
        let group_kinds = match annotation(parent, APPLYSET_GROUP_KINDS) {
            Some(list) => split_list(list).map(parse_group_kind).collect(),
            None if annotation(parent, DEPRECATED_GROUP_RESOURCES).is_some() => {
                return Err(not_ours(format!(
                    "it lists its members' types in {DEPRECATED_GROUP_RESOURCES}, as kubectl before 1.28 did; \
                     run `kubectl apply --prune --applyset=…` once with a newer kubectl, which rewrites it as \
                     {APPLYSET_GROUP_KINDS}"
                )));
            }
            None => {
                return Err(not_ours(format!(
                    "it has no {APPLYSET_GROUP_KINDS} annotation, so its members cannot be found without \
                     searching every type in the cluster; add the annotation (the sorted Kind.group of each \
                     member type, comma-separated)"
                )));
            }
        };
        let namespaces = annotation(parent, APPLYSET_NAMESPACES).map(split_list).into_iter().flatten();
        Ok(ApplySetRecord {
            tooling: tooling.to_owned(),
            group_kinds,
            namespaces: namespaces.map(str::to_owned).collect(),
        })
    }

    /// The annotations a parent carries for this record: tooling, group-kinds and namespaces, the
    /// lists sorted as the specification asks (so equal records write equal values).
    pub fn annotations(&self) -> [(&'static str, String); 3] {
        let mut kinds: Vec<String> = self.group_kinds.iter().map(format_group_kind).collect();
        kinds.sort();
        let namespaces: Vec<&str> = self.namespaces.iter().map(String::as_str).collect();
        [
            (APPLYSET_TOOLING, self.tooling.clone()),
            (APPLYSET_GROUP_KINDS, kinds.join(",")),
            (APPLYSET_NAMESPACES, namespaces.join(",")),
        ]
    }

    /// Every namespace members may be in: the parent's, then the additional ones.
    pub fn member_namespaces<'a>(&'a self, parent_namespace: &'a str) -> impl Iterator<Item = &'a str> {
        std::iter::once(parent_namespace)
            .chain(self.namespaces.iter().map(String::as_str).filter(move |ns| *ns != parent_namespace))
    }
}

/// `kapply/v<version>`: the tooling of a parent kapply creates.
pub fn kapply_tooling() -> String {
    format!("{KAPPLY_TOOL}/v{}", env!("CARGO_PKG_VERSION"))
}

/// The body of the parent `parent_ref` of the set `id` recording `record`: the live parent `live`
/// with its label and annotations set (everything else kept, its resourceVersion making the write
/// conditional), or a new, empty object when there is none.
pub fn parent_body(parent_ref: &ObjRef, id: &str, record: &ApplySetRecord, live: Option<&Value>) -> Value {
    let mut body = match live {
        Some(live) => live.clone(),
        None => serde_json::json!({
            "apiVersion": "v1",
            "kind": parent_ref.kind,
            "metadata": {"name": parent_ref.name, "namespace": parent_ref.namespace},
        }),
    };
    let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) else { return body };
    metadata.remove("managedFields");
    let labels = object_entry(metadata, "labels");
    labels.insert(APPLYSET_ID_LABEL.to_owned(), Value::String(id.to_owned()));
    let annotations = object_entry(metadata, "annotations");
    for (key, value) in record.annotations() {
        annotations.insert(key.to_owned(), Value::String(value));
    }
    annotations.remove(DEPRECATED_GROUP_RESOURCES);
    body
}

/// Why `body`, a manifest of an ApplySet with id `id`, may not be applied: it carries a part-of label
/// already (kubectl refuses such input too: the label is the tool's to write). None when it may.
pub fn member_label_problem(body: &Value, id: &str) -> Option<String> {
    let found = body.pointer("/metadata/labels").and_then(|l| l.get(APPLYSET_PART_OF_LABEL))?;
    if found.as_str() == Some(id) {
        return None;
    }
    Some(format!(
        "it carries the label {APPLYSET_PART_OF_LABEL}={found}, which kapply sets to the ApplySet's id ({id}) \
         on every member: remove the label from the manifest"
    ))
}

fn object_entry<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("just made an object")
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|item| !item.is_empty())
}

/// `Kind.group` (`Kind` for the core group), as Go's `schema.GroupKind.String()`.
fn format_group_kind(gk: &GroupKind) -> String {
    if gk.group.is_empty() { gk.kind.clone() } else { format!("{}.{}", gk.kind, gk.group) }
}

/// The inverse of [`format_group_kind`], as Go's `schema.ParseGroupKind`: the kind is up to the first dot.
fn parse_group_kind(value: &str) -> GroupKind {
    match value.split_once('.') {
        Some((kind, group)) => GroupKind::new(group, kind),
        None => GroupKind::new("", value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_id_is_the_hash_of_the_parents_name_namespace_kind_and_group() {
        // Computed independently: printf 'shop.prod.Secret.' | sha256sum | xxd -r -p | base64 (URL-safe, unpadded).
        assert_eq!(
            applyset_id(ParentKind::Secret, "shop", "prod"),
            "applyset-3eMhxrmWrshVG4P3vsSrKe_d4pE71qwAY-JhFz25mc0-v1"
        );
        assert_ne!(
            applyset_id(ParentKind::ConfigMap, "shop", "prod"),
            applyset_id(ParentKind::Secret, "shop", "prod")
        );
        assert!(applyset_id(ParentKind::Secret, "shop", "prod").len() <= 63, "a label value");
    }

    #[test]
    fn parents_are_named_as_kubectls_flag_names_them() {
        let parse = |s: &str| s.parse::<ApplySetParent>();
        assert_eq!(parse("shop").unwrap(), ApplySetParent { kind: ParentKind::Secret, name: "shop".into() });
        assert_eq!(parse("secrets/shop").unwrap().kind, ParentKind::Secret);
        assert_eq!(parse("configmap/shop").unwrap().kind, ParentKind::ConfigMap);
        assert_eq!(parse("ConfigMaps/shop").unwrap().to_string(), "configmaps/shop");
        let other = parse("deployments.apps/shop").unwrap_err().to_string();
        assert!(other.contains("use secrets (the default) or configmaps"), "{other}");
        let bad = parse("secrets/Shop").unwrap_err().to_string();
        assert!(bad.contains("\"secrets/Shop\""), "{bad}");
        assert!(parse("secrets/").is_err());
    }

    fn parent(id: &str, annotations: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "shop", "namespace": "prod", "labels": {APPLYSET_ID_LABEL: id},
                            "annotations": annotations}})
    }

    #[test]
    fn a_kubectl_parent_is_read_with_its_kinds_and_namespaces() {
        let id = applyset_id(ParentKind::Secret, "shop", "prod");
        let live = parent(
            &id,
            json!({APPLYSET_TOOLING: "kubectl/v1.37.1",
                   APPLYSET_GROUP_KINDS: "ConfigMap,Deployment.apps,Namespace",
                   APPLYSET_NAMESPACES: "cache,web"}),
        );
        let record = ApplySetRecord::from_parent(&live, &id, "Secret/prod/shop").unwrap();
        assert_eq!(record.tooling, "kubectl/v1.37.1");
        let kinds = BTreeSet::from([
            GroupKind::new("", "ConfigMap"),
            GroupKind::new("apps", "Deployment"),
            GroupKind::new("", "Namespace"),
        ]);
        assert_eq!(record.group_kinds, kinds);
        assert_eq!(record.member_namespaces("prod").collect::<Vec<_>>(), ["prod", "cache", "web"]);
        // Written back unchanged: the same three values.
        let written =
            parent_body(&ObjRef::new("", "Secret", Some("prod"), "shop"), &id, &record, Some(&live));
        assert_eq!(written["metadata"]["annotations"], live["metadata"]["annotations"]);
    }

    #[test]
    fn parents_of_other_ids_tools_or_formats_are_refused() {
        let id = applyset_id(ParentKind::Secret, "shop", "prod");
        let read = |live: &Value| {
            ApplySetRecord::from_parent(live, &id, "Secret/prod/shop").unwrap_err().to_string()
        };
        let kinds = json!({APPLYSET_TOOLING: "kubectl/v1.37.1", APPLYSET_GROUP_KINDS: ""});
        assert!(read(&parent("applyset-other-v1", kinds.clone())).contains("copied from another set"));
        let mut unlabelled = parent(&id, kinds);
        unlabelled["metadata"]["labels"] = json!({});
        assert!(read(&unlabelled).contains("no ApplySet parent"));
        let helm = read(&parent(&id, json!({APPLYSET_TOOLING: "helm/v3", APPLYSET_GROUP_KINDS: ""})));
        assert!(helm.contains("managed by helm"), "{helm}");
        let old = read(&parent(
            &id,
            json!({APPLYSET_TOOLING: "kubectl/v1.27.0", DEPRECATED_GROUP_RESOURCES: "configmaps"}),
        ));
        assert!(old.contains("kubectl before 1.28"), "{old}");
        assert!(
            read(&parent(&id, json!({APPLYSET_GROUP_KINDS: ""})))
                .contains("no applyset.kubernetes.io/tooling")
        );
    }

    #[test]
    fn a_new_parent_records_sorted_kinds_and_the_other_namespaces() {
        let objects = [
            ObjRef::new("apps", "Deployment", Some("web"), "a"),
            ObjRef::new("", "ConfigMap", Some("prod"), "b"),
            ObjRef::new("", "Namespace", None, "web"),
            ObjRef::new("rbac.authorization.k8s.io", "ClusterRole", None, "c"),
        ];
        let record = ApplySetRecord::new(&objects, "prod");
        let parent_ref = ObjRef::new("", "Secret", Some("prod"), "shop");
        let body = parent_body(&parent_ref, "applyset-x-v1", &record, None);
        assert_eq!(
            body,
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "shop", "namespace": "prod",
                                "labels": {APPLYSET_ID_LABEL: "applyset-x-v1"},
                                "annotations": {
                                    APPLYSET_TOOLING: kapply_tooling(),
                                    APPLYSET_GROUP_KINDS: "ClusterRole.rbac.authorization.k8s.io,ConfigMap,Deployment.apps,Namespace",
                                    APPLYSET_NAMESPACES: "web"}}})
        );
    }

    #[test]
    fn a_member_label_of_another_value_is_refused() {
        let labelled = |v: &str| json!({"metadata": {"labels": {APPLYSET_PART_OF_LABEL: v}}});
        assert_eq!(member_label_problem(&labelled("applyset-x-v1"), "applyset-x-v1"), None);
        assert_eq!(member_label_problem(&json!({"metadata": {}}), "applyset-x-v1"), None);
        let other = member_label_problem(&labelled("applyset-y-v1"), "applyset-x-v1").unwrap();
        assert!(other.contains("remove the label"), "{other}");
    }

    #[test]
    fn tool_names_drop_the_version() {
        assert_eq!(tool_name("kubectl/v1.37.1"), "kubectl");
        assert_eq!(tool_name("example.com/tool/v2"), "example.com/tool");
        assert_eq!(tool_name("bare"), "bare");
    }
}
