//! [`prepare`]: from loaded manifests to a run that can start — inventory found, mutation annotations
//! checked, dependency graph built. Pure: nothing here talks to the cluster, so every input error is
//! found before the first write.

use std::collections::{BTreeMap, HashMap};

use crate::graph::{self, Graph};
use crate::inventory::{self, InventoryInfo};
use crate::mutation;
use crate::object::{GroupKind, ObjRef, Object, Source};

use super::EngineError;

/// A run ready to start: what `apply` (and the other subcommands) execute.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The inventory the run reads and writes.
    pub info: InventoryInfo,
    /// The objects to apply, by reference (the inventory template is not among them); read one
    /// with [`Prepared::object`].
    pub objects: HashMap<ObjRef, StoredObject>,
    /// Their dependency graph.
    pub graph: Graph,
    /// Objects of the manifests left out of this run by a label selector, each with the objects its
    /// `depends-on` annotation names: not applied, and not pruned either — recorded ones stay in the
    /// inventory, as if the run had not seen them change — and what they depend on (those objects,
    /// their Namespaces, the CRD of their kind) is not pruned from under them.
    pub retained: BTreeMap<ObjRef, Vec<ObjRef>>,
}

/// An object of the set as a run keeps it until it is sent: its body as compact JSON text.
///
/// Every object waits in memory for its turn, and a `serde_json::Value` costs over 600 bytes per map
/// however few its entries (a small ConfigMap, about 2 KB); its text, a tenth of that. Each body is
/// parsed again when its object is applied or diffed, one at a time.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub api_version: String,
    pub source: Source,
    body: Box<str>,
}

impl StoredObject {
    fn new(object: Object) -> Self {
        let body = serde_json::to_string(&object.body).expect("a JSON value serializes").into_boxed_str();
        StoredObject { api_version: object.api_version, source: object.source, body }
    }
}

impl Prepared {
    /// True when the set holds the Namespace `name` (it may not exist in the cluster yet).
    pub(crate) fn creates_namespace(&self, name: &str) -> bool {
        self.objects.contains_key(&ObjRef::new("", "Namespace", None, name))
    }

    /// The references a prune compares the inventory with: the set's objects and the retained ones.
    pub fn kept_refs(&self) -> Vec<ObjRef> {
        self.graph.objects().iter().chain(self.retained.keys()).cloned().collect()
    }

    /// The length of `obj`'s body as compact JSON, the bytes its apply sends (before mutation).
    pub(crate) fn body_len(&self, obj: &ObjRef) -> Option<usize> {
        self.objects.get(obj).map(|stored| stored.body.len())
    }

    /// The object `obj` of the set (its body parsed again), None when the set does not hold it.
    pub fn object(&self, obj: &ObjRef) -> Option<Object> {
        let stored = self.objects.get(obj)?;
        let body = serde_json::from_str(&stored.body).expect("stored from a JSON value");
        Some(Object {
            obj_ref: obj.clone(),
            api_version: stored.api_version.clone(),
            body,
            source: stored.source.clone(),
        })
    }
}

/// The inventory flags (`--inventory-id`, `--inventory-name`, `--inventory-namespace`).
#[derive(Debug, Clone, Default)]
pub struct InventoryFlags {
    /// The inventory id, when no template is among the manifests.
    pub id: Option<String>,
    /// The inventory ConfigMap's name (default `inventory-<id>`).
    pub name: Option<String>,
    /// The inventory's namespace (default: the run's namespace).
    pub namespace: Option<String>,
    /// Keep the inventory as the kubectl ApplySet with this parent, instead of a ConfigMap.
    pub applyset: Option<inventory::ApplySetParent>,
}

impl InventoryFlags {
    fn any(&self) -> bool {
        self.id.is_some() || self.name.is_some() || self.applyset.is_some()
    }

    /// The inventory the flags name when no template is among the manifests.
    ///
    /// # Errors
    /// What [`InventoryInfo::from_flags`] or [`InventoryInfo::applyset`] refuse, and an ApplySet
    /// given with an inventory id or name (the ApplySet's id is derived from its parent).
    pub fn info(&self, default_namespace: &str) -> Result<InventoryInfo, EngineError> {
        let namespace = Some(self.namespace.as_deref().unwrap_or(default_namespace));
        match &self.applyset {
            Some(parent) if self.id.is_some() || self.name.is_some() => Err(EngineError::Invalid(format!(
                "an ApplySet ({parent}) and an inventory id or name were both given: an ApplySet's id is \
                 derived from its parent, and its name is the parent's; give one or the other"
            ))),
            Some(parent) => Ok(InventoryInfo::applyset(parent, namespace)?),
            None => Ok(InventoryInfo::from_flags(self.id.as_deref(), self.name.as_deref(), namespace)?),
        }
    }
}

/// Prepares a run over `objects` (loaded and validated by [`crate::manifest::load`]).
///
/// The inventory is the one template among the objects, or else the one the flags describe, its
/// namespace defaulting to `default_namespace`.
///
/// # Errors
/// [`EngineError::Invalid`] or [`EngineError::Inventory`] for anything wrong with the input: no
/// inventory, several, a template and inventory flags at once, a malformed apply-time-mutation
/// annotation, a duplicate object, a bad depends-on, a cycle.
pub fn prepare(
    objects: Vec<Object>,
    flags: &InventoryFlags,
    default_namespace: &str,
) -> Result<Prepared, EngineError> {
    // Where the templates are, to name their files in errors about them.
    let template_sources: Vec<String> = objects
        .iter()
        .filter(|o| inventory::is_inventory_template(&o.body))
        .map(|o| o.source.to_string())
        .collect();
    let in_template = |error: inventory::InventoryError| match template_sources.as_slice() {
        [source] if error.is_input_error() => {
            EngineError::Invalid(format!("inventory template {source}: {error}"))
        }
        _ => EngineError::Inventory(error),
    };
    let (template, objects) = inventory::split_inventory(objects).map_err(in_template)?;
    let info = match template {
        Some(info) if flags.any() => {
            return Err(EngineError::Invalid(format!(
                "the manifests hold an inventory template ({info}, in {}) and an inventory id, name or \
                 ApplySet was given too; use one or the other",
                template_sources.join(", ")
            )));
        }
        Some(info) => info,
        None => flags.info(default_namespace)?,
    };
    let mut problems = Vec::new();
    for obj in &objects {
        if info.is_applyset()
            && let Some(problem) = inventory::member_label_problem(&obj.body, &info.id)
        {
            problems.push(format!("{} ({}): {problem}", obj.obj_ref, obj.source));
        }
        if let Err(error) = mutation::mutations_of(obj) {
            problems.push(format!(
                "{} ({}): invalid {}: {error}",
                obj.obj_ref,
                obj.source,
                crate::object::APPLY_TIME_MUTATION
            ));
        }
    }
    if !problems.is_empty() {
        return Err(EngineError::Invalid(problems.join("\n")));
    }
    let scopes: HashMap<GroupKind, bool> =
        objects.iter().map(|o| (o.obj_ref.group_kind(), o.obj_ref.namespace.is_some())).collect();
    let graph = graph::build(&objects, |obj| {
        mutation::source_refs_with(obj, |gk| scopes.get(gk).copied().unwrap_or(true))
    })
    .map_err(|error| match error {
        graph::GraphError::Cycle { objects: cycle } => EngineError::Invalid(cycle_message(&cycle, &objects)),
        other => EngineError::Invalid(other.to_string()),
    })?;
    let objects = objects.into_iter().map(|obj| (obj.obj_ref.clone(), StoredObject::new(obj))).collect();
    Ok(Prepared { info, objects, graph, retained: BTreeMap::new() })
}

/// The objects on a cycle with the file and document of each, the first ones only for a long cycle.
fn cycle_message(cycle: &[ObjRef], objects: &[Object]) -> String {
    const SHOWN: usize = 10;
    let source = |obj: &ObjRef| {
        objects.iter().find(|o| o.obj_ref == *obj).map(|o| o.source.to_string()).unwrap_or_default()
    };
    let mut parts: Vec<String> =
        cycle.iter().take(SHOWN).map(|obj| format!("{obj} ({})", source(obj))).collect();
    if cycle.len() > SHOWN {
        parts.push(format!("… {} more", cycle.len() - SHOWN));
    }
    if let Some(first) = cycle.first() {
        parts.push(first.to_string());
    }
    format!(
        "dependency cycle: {} (each object depends on the next: remove one depends-on or apply-time-mutation \
         edge)",
        parts.join(" -> ")
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::object::testing::{config_map, obj};

    fn template(id: &str) -> Object {
        obj(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "inv", "namespace": "apps",
                         "labels": {"cli-utils.sigs.k8s.io/inventory-id": id}},
        }))
    }

    #[test]
    fn the_template_is_the_inventory_and_is_not_applied() {
        let prepared =
            prepare(vec![template("app-1"), config_map("apps", "a")], &InventoryFlags::default(), "default")
                .unwrap();
        assert_eq!(prepared.info.id, "app-1");
        assert_eq!(prepared.info.namespace, "apps");
        assert_eq!(prepared.graph.objects(), &[ObjRef::new("", "ConfigMap", Some("apps"), "a")]);
    }

    #[test]
    fn a_prepared_object_reads_back_exactly_as_it_was_loaded() {
        let original = obj(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps", "annotations": {"a": "1"}},
            "spec": {"replicas": 3, "ratio": 0.25, "big": 18446744073709551615u64, "neg": -7,
                     "list": [null, true, "x", {"nested": []}]},
        }));
        let prepared =
            prepare(vec![template("app-1"), original.clone()], &InventoryFlags::default(), "default")
                .unwrap();
        let read = prepared.object(&original.obj_ref).unwrap();
        assert_eq!(read.body, original.body);
        assert_eq!(
            (read.obj_ref, read.api_version, read.source),
            (original.obj_ref, original.api_version, original.source)
        );
        assert!(prepared.object(&ObjRef::new("", "ConfigMap", Some("apps"), "absent")).is_none());
    }

    #[test]
    fn without_a_template_the_flags_name_the_inventory_in_the_default_namespace() {
        let flags = InventoryFlags { id: Some("app-1".into()), ..InventoryFlags::default() };
        let prepared = prepare(vec![config_map("apps", "a")], &flags, "team").unwrap();
        assert_eq!(
            (prepared.info.name.as_str(), prepared.info.namespace.as_str()),
            ("inventory-app-1", "team")
        );
    }

    #[test]
    fn no_inventory_at_all_is_an_input_error() {
        let err = prepare(vec![config_map("apps", "a")], &InventoryFlags::default(), "default").unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.to_string().contains("kapply init"), "{err}");
    }

    #[test]
    fn a_template_and_inventory_flags_together_are_refused() {
        let flags = InventoryFlags { id: Some("other".into()), ..InventoryFlags::default() };
        let err = prepare(vec![template("app-1")], &flags, "default").unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.to_string().contains("one or the other"), "{err}");
    }

    #[test]
    fn a_malformed_mutation_annotation_names_the_object_and_its_file() {
        let bad = obj(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "b", "namespace": "apps",
                         "annotations": {"config.kubernetes.io/apply-time-mutation": "not: [a list"}},
        }));
        let err = prepare(vec![template("app-1"), bad], &InventoryFlags::default(), "default").unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.to_string().contains("ConfigMap/apps/b"), "{err}");
    }

    #[test]
    fn a_cycle_is_an_input_error() {
        let a = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "apps",
                         "annotations": {"config.kubernetes.io/depends-on": "/namespaces/apps/ConfigMap/b"}}}));
        let b = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "b", "namespace": "apps",
                         "annotations": {"config.kubernetes.io/depends-on": "/namespaces/apps/ConfigMap/a"}}}));
        let err = prepare(vec![template("app-1"), a, b], &InventoryFlags::default(), "default").unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.to_string().contains("cycle"), "{err}");
    }
}
