//! Apply-time mutation: the `config.kubernetes.io/apply-time-mutation` annotation, parsed and applied.
//!
//! An object annotated with
//!
//! ```yaml
//! config.kubernetes.io/apply-time-mutation: |
//!   - sourceRef: {kind: Service, apiVersion: v1, name: db}
//!     sourcePath: $.spec.clusterIP
//!     targetPath: $.data.url
//!     token: ${ip}
//! ```
//!
//! depends on `Service/db` (same namespace by default): once the Service is applied and Current, the
//! engine reads it back from the cluster and substitutes `${ip}` in the target's `data.url` with the
//! Service's `spec.clusterIP`, then applies the target.
//!
//! The entry points, in the order the rest of kapply uses them:
//! - [`parse_annotation`]: validation at load time (the manifest module), errors name entry and field;
//! - [`source_refs`] / [`source_refs_with`]: the dependency edges (the graph);
//! - [`mutations_of`] then [`apply_all`] (or [`apply`](apply()) per mutation): the substitution (the engine).
//!
//! Behaviour follows cli-utils (`pkg/apply/mutator`) except where noted on each function: kapply reports
//! an absent token instead of silently skipping it, and requires `group` or `apiVersion` in every
//! `sourceRef`, as cli-utils' own documentation of the field says.

mod apply;
mod parse;
mod path;

use crate::object::{APPLY_TIME_MUTATION, GroupKind, ObjRef, Object};

pub use apply::{apply, apply_all};
pub use parse::parse_annotation;
pub use path::{FieldPath, PathError};

/// One substitution of an apply-time mutation annotation: copy a field of a source object into a
/// field of the annotated (target) object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The object to read from.
    pub source: SourceRef,
    /// Where to read in the source; must select exactly one value.
    pub source_path: FieldPath,
    /// Where to write in the target; must select exactly one existing field.
    pub target_path: FieldPath,
    /// The placeholder to replace inside the target string; `None` replaces the whole field.
    ///
    /// An empty `token: ""` is read as no token, as in cli-utils.
    pub token: Option<String>,
}

/// The `sourceRef` of a mutation, as written: the namespace is not yet defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// The API group: `group` when given, else derived from `apiVersion`; `""` is the core group.
    pub group: String,
    /// The source's kind, as written.
    pub kind: String,
    /// The source's `metadata.name`.
    pub name: String,
    /// The explicit namespace, `None` when omitted (or empty): see [`Mutation::source_ref`].
    pub namespace: Option<String>,
    /// The `apiVersion` when given, so the engine can address the source at that version rather than
    /// the preferred one.
    pub api_version: Option<String>,
}

impl SourceRef {
    /// The source's group and kind (a copy).
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.as_str(), self.kind.as_str())
    }
}

impl Mutation {
    /// The source object's reference, its namespace defaulted to the target's when omitted.
    ///
    /// cli-utils defaults the namespace only for namespaced kinds, which it learns from the cluster's
    /// REST mapping. This module does no I/O, so this method assumes the source is namespaced — right
    /// for the usual sources (Service, ConfigMap, Secret, custom resources beside the target). Pass
    /// `None` for a cluster-scoped target, or use [`Mutation::source_ref_with`] when the scope of the
    /// source kind is known.
    pub fn source_ref(&self, target_namespace: Option<&str>) -> ObjRef {
        self.source_ref_with(target_namespace, |_| true)
    }

    /// The source object's reference, its namespace defaulted to the target's only when
    /// `is_namespaced` says the source's kind is namespaced.
    ///
    /// An explicit namespace is always kept, as in cli-utils (for a cluster-scoped kind the source then
    /// cannot be found, which is reported where it is looked up).
    pub fn source_ref_with(
        &self,
        target_namespace: Option<&str>,
        is_namespaced: impl Fn(&GroupKind) -> bool,
    ) -> ObjRef {
        let source = &self.source;
        let namespace = match &source.namespace {
            Some(explicit) => Some(explicit.as_str()),
            None if is_namespaced(&source.group_kind()) => target_namespace,
            None => None,
        };
        ObjRef::new(source.group.as_str(), source.kind.as_str(), namespace, source.name.as_str())
    }
}

/// Why a mutation annotation is malformed, or why a mutation could not be applied.
///
/// Annotation errors name the 1-based entry and the field; apply errors name the path and the object
/// as `Kind/namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MutationError {
    /// The annotation value is not YAML (or JSON).
    #[error("invalid apply-time-mutation annotation: not valid YAML: {reason}")]
    Yaml {
        /// The YAML parser's message.
        reason: String,
    },
    /// The annotation is valid YAML but not a list.
    #[error("invalid apply-time-mutation annotation: expected a list of mutations, found {found}")]
    NotAList {
        /// What the annotation is instead: `a mapping`, `a string`, `a number`, ...
        found: &'static str,
    },
    /// The annotation is an empty list: almost certainly an editing mistake.
    #[error("invalid apply-time-mutation annotation: the list of mutations is empty")]
    Empty,
    /// An entry of the list is not a mapping.
    #[error(
        "invalid apply-time-mutation annotation: entry {entry} is {found}, \
         expected a mapping with sourceRef, sourcePath and targetPath"
    )]
    EntryNotAMapping {
        /// 1-based position in the list.
        entry: usize,
        /// What the entry is instead: `a sequence`, `a string`, ...
        found: &'static str,
    },
    /// One field of one entry is missing or wrong.
    #[error("invalid apply-time-mutation annotation: entry {entry}, {field}: {problem}")]
    Entry {
        /// 1-based position in the list.
        entry: usize,
        /// The field as written in the annotation, dotted for nested ones (`sourceRef.kind`).
        field: &'static str,
        /// What is wrong, e.g. `must be a string, found a number`.
        problem: String,
    },
    /// The engine has no copy of a mutation's source object.
    #[error("source {source_ref} of a mutation of {target} is not available")]
    SourceUnavailable {
        /// The source's reference, namespace defaulted.
        source_ref: ObjRef,
        /// The target object, as `Kind[.group]/namespace/name` (`the target object` when it has no name).
        target: String,
    },
    /// The source path selected nothing, or more than one value.
    #[error(
        "source path {path} matched {} in {source_object}{} (mutating {target})",
        count_of(*.matched),
        expect_one(*.matched)
    )]
    SourcePath {
        /// The path as written in the annotation.
        path: String,
        /// The source object, as `Kind[.group]/namespace/name`.
        source_object: String,
        /// The target object, as `Kind[.group]/namespace/name` (`the target object` when it has no name).
        target: String,
        /// How many values the path selected: 0, or more than 1.
        matched: usize,
    },
    /// The target path selected nothing, or more than one field.
    #[error("target path {path} matched {} in {target}{}", count_of(*.matched), expect_one(*.matched))]
    TargetPath {
        /// The path as written in the annotation.
        path: String,
        /// The target object, as `Kind[.group]/namespace/name` (`the target object` when it has no name).
        target: String,
        /// How many values the path selected: 0, or more than 1.
        matched: usize,
    },
    /// The target path is `$`: replacing the whole object is not a field substitution.
    #[error("target path {path} names the whole object {target}, not a field of it")]
    TargetIsRoot {
        /// The path as written in the annotation.
        path: String,
        /// The target object, as `Kind[.group]/namespace/name` (`the target object` when it has no name).
        target: String,
    },
    /// A token was given but the target field is not a string.
    #[error("target path {path} in {target} is {found}, but a token can only be replaced inside a string")]
    TargetNotString {
        /// The path as written in the annotation.
        path: String,
        /// The target object, as `Kind[.group]/namespace/name` (`the target object` when it has no name).
        target: String,
        /// What the target field is instead: `a number`, `a mapping`, ...
        found: &'static str,
    },
    /// A token was given but does not occur in the target string.
    #[error("token {token:?} does not occur in target path {path} of {target}")]
    TokenAbsent {
        /// The token, as written.
        token: String,
        /// The path as written in the annotation.
        path: String,
        /// The target object, as `Kind[.group]/namespace/name` (`the target object` when it has no name).
        target: String,
    },
}

/// `nothing`, `1 value` or `N values`, for match-count errors.
fn count_of(matched: usize) -> String {
    match matched {
        0 => "nothing".to_owned(),
        1 => "1 value".to_owned(),
        n => format!("{n} values"),
    }
}

/// The expectation, spelled out when several values matched (nothing matching needs no explanation).
fn expect_one(matched: usize) -> &'static str {
    if matched > 1 { ", expected exactly one" } else { "" }
}

/// The result of parsing or applying mutations.
pub type Result<T, E = MutationError> = std::result::Result<T, E>;

/// The mutations of `obj`'s apply-time-mutation annotation; empty when it has none.
///
/// # Errors
/// Everything [`parse_annotation`] rejects, and a `sourceRef` naming `obj` itself (checked with the
/// source namespace defaulted to the target's), which cli-utils also rejects.
pub fn mutations_of(obj: &Object) -> Result<Vec<Mutation>> {
    let Some(value) = obj.annotation(APPLY_TIME_MUTATION) else {
        return Ok(Vec::new());
    };
    let mutations = parse_annotation(value)?;
    for (index, mutation) in mutations.iter().enumerate() {
        if mutation.source_ref(obj.obj_ref.namespace.as_deref()) == obj.obj_ref {
            return Err(MutationError::Entry {
                entry: index + 1,
                field: "sourceRef",
                problem: format!("refers to the annotated object {} itself", obj.obj_ref),
            });
        }
    }
    Ok(mutations)
}

/// The distinct source objects of `obj`'s mutations, in annotation order, namespaces defaulted as by
/// [`Mutation::source_ref`]: the dependency edges of the graph.
///
/// A malformed annotation yields no refs: validation reports it, and the graph should not invent
/// errors of its own for it. A source naming `obj` itself *is* returned, unlike in [`mutations_of`]:
/// the graph reports it as a cycle of one, before anything is applied.
pub fn source_refs(obj: &Object) -> Vec<ObjRef> {
    source_refs_with(obj, |_| true)
}

/// [`source_refs`] with namespaces defaulted as by [`Mutation::source_ref_with`].
///
/// The graph knows the scope of every kind in the set: a kind is cluster-scoped when its objects have
/// no namespace. A source whose kind is not in the set is an external dependency either way.
pub fn source_refs_with(obj: &Object, is_namespaced: impl Fn(&GroupKind) -> bool) -> Vec<ObjRef> {
    let target_namespace = obj.obj_ref.namespace.as_deref();
    let mutations = match obj.annotation(APPLY_TIME_MUTATION) {
        Some(value) => parse_annotation(value).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut refs: Vec<ObjRef> = Vec::new();
    for mutation in mutations {
        let source = mutation.source_ref_with(target_namespace, &is_namespaced);
        if !refs.contains(&source) {
            refs.push(source);
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Source;
    use serde_json::{Value, json};

    fn object(body: Value) -> Object {
        Object {
            obj_ref: ObjRef::from_value(&body).unwrap(),
            api_version: body["apiVersion"].as_str().unwrap().to_owned(),
            body,
            source: Source { file: "test.yaml".into(), document: 1, line: None },
        }
    }

    fn annotated(namespace: Option<&str>, annotation: &str) -> Object {
        let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "app", "annotations": {APPLY_TIME_MUTATION: annotation}}});
        if let Some(ns) = namespace {
            body["metadata"]["namespace"] = json!(ns);
        }
        object(body)
    }

    const FROM_DB: &str = "
- sourceRef: {kind: Service, apiVersion: v1, name: db}
  sourcePath: $.spec.clusterIP
  targetPath: $.data.url
  token: ${ip}
";

    #[test]
    fn source_namespace_defaults_to_the_target_namespace() {
        let mutation = &parse_annotation(FROM_DB).unwrap()[0];
        assert_eq!(mutation.source_ref(Some("prod")), ObjRef::new("", "Service", Some("prod"), "db"));
    }

    #[test]
    fn explicit_source_namespace_wins_over_the_target_namespace() {
        let annotation = "
- sourceRef: {kind: Service, apiVersion: v1, name: db, namespace: infra}
  sourcePath: $.spec.clusterIP
  targetPath: $.data.url
";
        let mutation = &parse_annotation(annotation).unwrap()[0];
        assert_eq!(mutation.source_ref(Some("prod")), ObjRef::new("", "Service", Some("infra"), "db"));
    }

    #[test]
    fn cluster_scoped_source_gets_no_namespace_when_the_scope_is_known() {
        let annotation = "
- sourceRef: {kind: ClusterIssuer, group: cert-manager.io, name: letsencrypt}
  sourcePath: $.status.acme.uri
  targetPath: $.data.acme
";
        let mutation = &parse_annotation(annotation).unwrap()[0];
        let scoped = mutation.source_ref_with(Some("prod"), |gk| gk.kind != "ClusterIssuer");
        assert_eq!(scoped, ObjRef::new("cert-manager.io", "ClusterIssuer", None, "letsencrypt"));
    }

    #[test]
    fn object_without_the_annotation_has_no_mutations() {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        assert_eq!(mutations_of(&object(body)), Ok(Vec::new()));
    }

    #[test]
    fn mutations_of_reads_the_annotation() {
        let mutations = mutations_of(&annotated(Some("prod"), FROM_DB)).unwrap();
        assert_eq!(mutations.len(), 1);
        assert_eq!(mutations[0].token.as_deref(), Some("${ip}"));
    }

    #[test]
    fn source_naming_the_annotated_object_itself_is_rejected() {
        let annotation = "
- sourceRef: {kind: ConfigMap, apiVersion: v1, name: app}
  sourcePath: $.data.a
  targetPath: $.data.b
";
        let err = mutations_of(&annotated(Some("prod"), annotation)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid apply-time-mutation annotation: entry 1, sourceRef: \
             refers to the annotated object ConfigMap/prod/app itself"
        );
    }

    #[test]
    fn source_refs_are_distinct_and_in_annotation_order() {
        let annotation = "
- sourceRef: {kind: Service, apiVersion: v1, name: db}
  sourcePath: $.spec.clusterIP
  targetPath: $.data.ip
- sourceRef: {kind: Secret, group: '', name: creds}
  sourcePath: $.data.user
  targetPath: $.data.user
- sourceRef: {kind: Service, group: '', name: db}
  sourcePath: $.spec.ports[0].port
  targetPath: $.data.port
";
        let refs = source_refs(&annotated(Some("prod"), annotation));
        assert_eq!(
            refs,
            [
                ObjRef::new("", "Service", Some("prod"), "db"),
                ObjRef::new("", "Secret", Some("prod"), "creds")
            ]
        );
    }

    #[test]
    fn a_source_naming_the_object_itself_is_still_an_edge_so_the_graph_reports_the_cycle() {
        let annotation = "
- sourceRef: {kind: ConfigMap, apiVersion: v1, name: app}
  sourcePath: $.data.a
  targetPath: $.data.b
";
        let refs = source_refs(&annotated(Some("prod"), annotation));
        assert_eq!(refs, [ObjRef::new("", "ConfigMap", Some("prod"), "app")]);
    }

    #[test]
    fn malformed_annotation_yields_no_source_refs() {
        assert_eq!(source_refs(&annotated(Some("prod"), "- sourceRef: {kind: Service}")), []);
    }

    #[test]
    fn source_refs_with_leaves_cluster_scoped_sources_without_namespace() {
        let annotation = "
- sourceRef: {kind: Namespace, apiVersion: v1, name: infra}
  sourcePath: $.metadata.uid
  targetPath: $.data.uid
";
        let refs = source_refs_with(&annotated(Some("prod"), annotation), |gk| !gk.is_namespace());
        assert_eq!(refs, [ObjRef::new("", "Namespace", None, "infra")]);
    }

    #[test]
    fn match_count_errors_read_naturally() {
        let none =
            MutationError::TargetPath { path: "$.x".into(), target: "ConfigMap/ns/a".into(), matched: 0 };
        assert_eq!(none.to_string(), "target path $.x matched nothing in ConfigMap/ns/a");
        let many = MutationError::SourcePath {
            path: "$.x[*]".into(),
            source_object: "Service/ns/db".into(),
            target: "ConfigMap/ns/a".into(),
            matched: 3,
        };
        assert_eq!(
            many.to_string(),
            "source path $.x[*] matched 3 values in Service/ns/db, expected exactly one \
             (mutating ConfigMap/ns/a)"
        );
    }
}
