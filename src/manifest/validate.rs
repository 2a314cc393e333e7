//! Validation: documents into [`Object`]s — `List`s flattened, local config dropped, identity fields and
//! annotations checked, namespaces defaulted through a [`ScopeResolver`], duplicates rejected.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::{ErrorKind, Location, ManifestError, type_name};
use super::locate::{DocText, Seg};
use super::parse::RawDocument;
use super::scope::{ScopeResolver, WithCrds};
use super::{LoadOptions, UnknownKinds};
use crate::object::{APPLY_TIME_MUTATION, DEPENDS_ON, GroupKind, LOCAL_CONFIG, ObjRef, Object, Source};

/// One document, or one item of a `List` document.
/// Documents up to this size get the exact line of a faulty field in a List item; see [`Item::error`].
const PRECISE_LINES_UP_TO: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) struct Item {
    pub value: Value,
    pub source: Source,
    /// Indexes into nested `items` (empty for a plain document).
    pub items: Vec<usize>,
    text: DocText,
}

impl Item {
    /// The path from the document root to `rest` inside this item.
    fn path<'a>(&self, rest: &[Seg<'a>]) -> Vec<Seg<'a>> {
        let mut path = Vec::with_capacity(self.items.len() * 2 + rest.len());
        for &index in &self.items {
            path.extend([Seg::Key("items"), Seg::Index(index)]);
        }
        path.extend_from_slice(rest);
        path
    }

    /// An error at the line of `rest` in this item, or at the item's first line when it is not there.
    fn error(&self, rest: &[Seg<'_>], kind: impl Into<ErrorKind>) -> ManifestError {
        // Finding a field's line re-parses the whole document: for an item of a large List (thousands
        // of items, maybe thousands of errors) that is quadratic, so such errors point at the item's
        // own first line instead.
        let precise = rest.is_empty() || self.items.is_empty() || self.text.len() <= PRECISE_LINES_UP_TO;
        let line = if precise && !rest.is_empty() { self.text.line_of(&self.path(rest)) } else { None };
        let location = Location {
            items: self.items.clone(),
            line: line.or(self.source.line),
            ..Location::of(&self.source)
        };
        ManifestError::new(location, kind).with_seq(self.text.seq)
    }
}

/// Flattens `kind: List` and every `*List` kind with `items`, recursively, as kubectl does.
///
/// Items of a typed list (`ConfigMapList`, as the API server returns it) that carry neither kind nor
/// apiVersion get them from the list, as kubectl does. Each item keeps its document's index; its line
/// is its own.
pub(crate) fn flatten(docs: Vec<RawDocument>, errors: &mut Vec<ManifestError>) -> Vec<Item> {
    let mut out = Vec::new();
    for doc in docs {
        let item = Item { value: doc.value, source: doc.source, items: Vec::new(), text: doc.text };
        flatten_item(item, &mut out, errors);
    }
    out
}

/// The kind of a list to flatten: `List`, or a kind ending in `List` that has `items`.
fn list_kind(object: &Map<String, Value>) -> Option<String> {
    let kind = object.get("kind")?.as_str()?;
    let is_list = kind == "List" || (kind.ends_with("List") && object.contains_key("items"));
    is_list.then(|| kind.to_owned())
}

fn flatten_item(mut item: Item, out: &mut Vec<Item>, errors: &mut Vec<ManifestError>) {
    let Value::Object(list) = &mut item.value else {
        out.push(item);
        return;
    };
    let Some(kind) = list_kind(list) else {
        out.push(item);
        return;
    };
    let elements = match list.remove("items") {
        None | Some(Value::Null) => return,
        Some(Value::Array(elements)) => elements,
        Some(other) => {
            let kind = ErrorKind::ListItemsNotASequence { kind, found: type_name(&other) };
            errors.push(item.error(&[Seg::Key("items")], kind));
            return;
        }
    };
    let list_api_version = list.get("apiVersion").cloned();
    let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
    let lines = item.text.element_lines(&item.path(&[Seg::Key("items")]));
    for (index, mut element) in elements.into_iter().enumerate() {
        if let (Some(item_kind), Value::Object(map)) = (item_kind, &mut element)
            && !map.contains_key("kind")
            && !map.contains_key("apiVersion")
        {
            map.insert("kind".into(), Value::String(item_kind.to_owned()));
            if let Some(api_version) = &list_api_version {
                map.insert("apiVersion".into(), api_version.clone());
            }
        }
        let mut items = item.items.clone();
        items.push(index);
        let source = Source { line: lines.get(index).copied().or(item.source.line), ..item.source.clone() };
        flatten_item(Item { value: element, source, items, text: item.text.clone() }, out, errors);
    }
}

/// The item as a source and value, or an error when it is not a mapping.
pub(crate) fn require_mapping(item: Item, errors: &mut Vec<ManifestError>) -> Option<(Source, Value)> {
    if item.value.is_object() {
        Some((item.source, item.value))
    } else {
        errors.push(item.error(&[], ErrorKind::NotAMapping { found: type_name(&item.value) }));
        None
    }
}

/// True when an object is local configuration, never sent to the cluster: it carries the
/// `config.kubernetes.io/local-config` annotation with any value but `"false"` (kpt's rule).
pub(crate) fn is_local_config(value: &Value) -> bool {
    let annotation =
        value.get("metadata").and_then(|m| m.get("annotations")).and_then(|a| a.get(LOCAL_CONFIG));
    match annotation {
        None => false,
        Some(Value::String(s)) => s != "false",
        Some(Value::Bool(b)) => *b,
        Some(_) => true,
    }
}

/// An object whose identity fields are valid, waiting for its namespace.
struct Candidate {
    api_version: String,
    group_kind: GroupKind,
    name: String,
    namespace: Option<String>,
    item: Item,
}

/// Validates items into objects, collecting every problem.
pub(crate) fn validate(
    items: Vec<Item>,
    opts: &LoadOptions,
    scopes: &dyn ScopeResolver,
    errors: &mut Vec<ManifestError>,
) -> Vec<Object> {
    let candidates: Vec<Candidate> = items
        .into_iter()
        .filter(|item| !is_local_config(&item.value))
        .filter_map(|item| check(item, errors))
        .collect();
    let crds = candidates.iter().filter(|c| c.group_kind.is_crd()).map(|c| &c.item.value);
    let scopes = WithCrds::new(scopes).with_objects(crds);
    let default_namespace = opts.default_namespace.as_deref().filter(|ns| !ns.is_empty());

    let mut objects = Vec::with_capacity(candidates.len());
    let mut first_seen: HashMap<ObjRef, Source> = HashMap::new();
    for candidate in candidates {
        let Candidate { api_version, group_kind, name, namespace, mut item } = candidate;
        let namespaced = match scopes.is_namespaced(&group_kind) {
            Some(namespaced) => namespaced,
            None => match opts.unknown_kinds {
                UnknownKinds::AssumeNamespaced => true,
                UnknownKinds::Error => {
                    let kind = ErrorKind::UnknownKind { kind: group_kind.kind.clone(), api_version };
                    errors.push(item.error(&[Seg::Key("kind")], kind));
                    continue;
                }
            },
        };
        let namespace = if namespaced {
            match namespace.as_deref().or(default_namespace) {
                Some(ns) => Some(ns.to_owned()),
                None => {
                    errors.push(item.error(&[], ErrorKind::NoNamespace { kind: group_kind, name }));
                    continue;
                }
            }
        } else if let Some(namespace) = namespace {
            let kind = ErrorKind::NamespaceOnClusterScoped { kind: group_kind, namespace };
            errors.push(item.error(&[Seg::Key("metadata"), Seg::Key("namespace")], kind));
            continue;
        } else {
            None
        };
        if let (Some(ns), Some(Value::Object(metadata))) = (&namespace, item.value.get_mut("metadata")) {
            metadata.insert("namespace".into(), Value::String(ns.clone()));
        }
        let obj_ref = ObjRef::new(group_kind.group, group_kind.kind, namespace.as_deref(), name);
        if let Some(first) = first_seen.get(&obj_ref) {
            let kind = ErrorKind::Duplicate { object: obj_ref, first: first.clone() };
            errors.push(item.error(&[], kind));
            continue;
        }
        first_seen.insert(obj_ref.clone(), item.source.clone());
        objects.push(Object { obj_ref, api_version, body: item.value, source: item.source });
    }
    objects
}

/// Checks the fields that make an object's identity, and its labels and annotations. Every problem is
/// pushed; the candidate is returned when apiVersion, kind and name are usable.
fn check(item: Item, errors: &mut Vec<ManifestError>) -> Option<Candidate> {
    let Value::Object(map) = &item.value else {
        errors.push(item.error(&[], ErrorKind::NotAMapping { found: type_name(&item.value) }));
        return None;
    };
    let mut missing = Vec::new();
    let api_version = string_field(&item, map, "apiVersion", &mut missing, errors);
    let kind = string_field(&item, map, "kind", &mut missing, errors);
    let api_version = api_version.filter(|av| {
        let valid = is_valid_api_version(av);
        if !valid {
            errors.push(item.error(&[Seg::Key("apiVersion")], ErrorKind::MalformedApiVersion(av.clone())));
        }
        valid
    });
    let empty = Map::new();
    let metadata = match map.get("metadata") {
        None | Some(Value::Null) => Some(&empty),
        Some(Value::Object(metadata)) => Some(metadata),
        Some(other) => {
            let kind = ErrorKind::NotAMappingField { field: "metadata", found: type_name(other) };
            errors.push(item.error(&[Seg::Key("metadata")], kind));
            None
        }
    };
    let name = metadata.and_then(|metadata| check_name(&item, metadata, &mut missing, errors));
    if !missing.is_empty() {
        // Missing identity is reported once per object, where the fields should be.
        let in_metadata = missing.iter().all(|f| f.starts_with("metadata"));
        let at: &[Seg<'_>] = if in_metadata { &[Seg::Key("metadata")] } else { &[] };
        errors.push(item.error(at, ErrorKind::Missing { fields: missing }));
    }
    let metadata = metadata?;
    let namespace = match metadata.get("namespace") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(ns)) => Ok(Some(ns.clone()).filter(|ns| !ns.is_empty())),
        Some(other) => {
            let kind = ErrorKind::NotAString { field: "metadata.namespace".into(), found: type_name(other) };
            errors.push(item.error(&[Seg::Key("metadata"), Seg::Key("namespace")], kind));
            Err(())
        }
    };
    check_string_map(&item, metadata, "labels", errors);
    check_string_map(&item, metadata, "annotations", errors);
    check_annotations(&item, metadata, errors);

    let (api_version, kind, name, namespace) = (api_version?, kind?, name?, namespace.ok()?);
    let group_kind = GroupKind::from_api_version(&api_version, &kind);
    Some(Candidate { api_version, group_kind, name, namespace, item })
}

/// A required, non-empty string field of the object's root.
fn string_field(
    item: &Item,
    map: &Map<String, Value>,
    field: &'static str,
    missing: &mut Vec<&'static str>,
    errors: &mut Vec<ManifestError>,
) -> Option<String> {
    match map.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            missing.push(field);
            None
        }
        Some(other) => {
            let kind = ErrorKind::NotAString { field: field.into(), found: type_name(other) };
            errors.push(item.error(&[Seg::Key(field)], kind));
            None
        }
    }
}

/// `v1`, or `group/version` with non-empty parts and no whitespace.
fn is_valid_api_version(api_version: &str) -> bool {
    let well_formed = |part: &str| !part.is_empty() && !part.contains(char::is_whitespace);
    match api_version.split_once('/') {
        None => well_formed(api_version),
        Some((group, version)) => well_formed(group) && well_formed(version) && !version.contains('/'),
    }
}

fn check_name(
    item: &Item,
    metadata: &Map<String, Value>,
    missing: &mut Vec<&'static str>,
    errors: &mut Vec<ManifestError>,
) -> Option<String> {
    let at = [Seg::Key("metadata"), Seg::Key("name")];
    match metadata.get("name") {
        Some(Value::String(name)) if !name.is_empty() => {
            if name.contains(['/', '%']) || name == "." || name == ".." {
                errors.push(item.error(&at, ErrorKind::InvalidName(name.clone())));
                return None;
            }
            Some(name.clone())
        }
        None | Some(Value::Null) | Some(Value::String(_)) => {
            if metadata.get("generateName").is_some_and(|g| !g.is_null()) {
                errors.push(
                    item.error(&[Seg::Key("metadata"), Seg::Key("generateName")], ErrorKind::GenerateName),
                );
            } else {
                missing.push("metadata.name");
            }
            None
        }
        Some(other) => {
            let kind = ErrorKind::NotAString { field: "metadata.name".into(), found: type_name(other) };
            errors.push(item.error(&at, kind));
            None
        }
    }
}

/// Labels and annotations are maps of strings: an unquoted `true` or `8080` there is the most common
/// YAML mistake, and the API server rejects it with a less helpful message.
fn check_string_map(
    item: &Item,
    metadata: &Map<String, Value>,
    field: &'static str,
    errors: &mut Vec<ManifestError>,
) {
    let (full, entries) = match (field, metadata.get(field)) {
        (_, None | Some(Value::Null)) => return,
        ("labels", Some(Value::Object(entries))) => ("metadata.labels", entries),
        (_, Some(Value::Object(entries))) => ("metadata.annotations", entries),
        (_, Some(other)) => {
            let full = if field == "labels" { "metadata.labels" } else { "metadata.annotations" };
            let kind = ErrorKind::NotAMappingField { field: full, found: type_name(other) };
            errors.push(item.error(&[Seg::Key("metadata"), Seg::Key(field)], kind));
            return;
        }
    };
    for (key, value) in entries {
        if !value.is_string() {
            let kind = ErrorKind::NotAString { field: format!("{full}.{key}"), found: type_name(value) };
            errors.push(item.error(&[Seg::Key("metadata"), Seg::Key(field), Seg::Key(key)], kind));
        }
    }
}

/// The kapply annotations must parse: better now, with a file and line, than halfway through an apply.
fn check_annotations(item: &Item, metadata: &Map<String, Value>, errors: &mut Vec<ManifestError>) {
    let Some(Value::Object(annotations)) = metadata.get("annotations") else { return };
    let at = |key| [Seg::Key("metadata"), Seg::Key("annotations"), Seg::Key(key)];
    if let Some(Value::String(value)) = annotations.get(DEPENDS_ON)
        && let Err(e) = crate::graph::parse_depends_on(value)
    {
        errors.push(item.error(&at(DEPENDS_ON), e));
    }
    if let Some(Value::String(value)) = annotations.get(APPLY_TIME_MUTATION)
        && let Err(e) = crate::mutation::parse_annotation(value)
    {
        errors.push(item.error(&at(APPLY_TIME_MUTATION), e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_versions_are_version_or_group_slash_version() {
        for good in ["v1", "apps/v1", "example.com/v1alpha1"] {
            assert!(is_valid_api_version(good), "{good}");
        }
        for bad in ["", "/v1", "apps/", "a/b/c", "apps v1"] {
            assert!(!is_valid_api_version(bad), "{bad}");
        }
    }

    #[test]
    fn local_config_is_any_value_but_false() {
        let with = |v: Value| json!({"metadata": {"annotations": {LOCAL_CONFIG: v}}});
        assert!(is_local_config(&with(json!("true"))));
        assert!(is_local_config(&with(json!("yes"))));
        assert!(is_local_config(&with(json!(true))));
        assert!(!is_local_config(&with(json!("false"))));
        assert!(!is_local_config(&json!({"metadata": {"name": "x"}})));
    }

    #[test]
    fn list_kinds_need_items_except_plain_list() {
        let kind = |v: Value| list_kind(v.as_object().unwrap());
        assert_eq!(kind(json!({"kind": "List"})).as_deref(), Some("List"));
        assert_eq!(kind(json!({"kind": "ConfigMapList", "items": []})).as_deref(), Some("ConfigMapList"));
        assert_eq!(kind(json!({"kind": "AllowList", "spec": {}})), None);
    }
}
