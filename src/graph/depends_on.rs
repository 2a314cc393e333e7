//! The `config.kubernetes.io/depends-on` annotation: [`parse_depends_on`] and its inverse [`format_depends_on`].
//!
//! Syntax (cli-utils `pkg/object/dependson`): entries separated by `,`, each trimmed of surrounding
//! whitespace, each either `<group>/<kind>/<name>` (cluster-scoped) or
//! `<group>/namespaces/<namespace>/<kind>/<name>` (namespaced). The group is empty for the core group
//! (`/namespaces/default/ConfigMap/cfg`). An empty namespace in the five-field form means cluster-scoped,
//! as in cli-utils.
//!
//! The error texts are cli-utils' own (`too many fields (expected 3 or 5)`, `missing "namespaces" field`,
//! `empty name for object`, `empty kind for object`, `duplicate dependency`), so a message found in
//! cli-utils or kpt issues means the same thing here. Unlike cli-utils, each also quotes the offending
//! entry.

use std::collections::HashSet;

use crate::object::{DEPENDS_ON, ObjRef};

/// Separates the entries of the annotation.
const ENTRY_SEPARATOR: char = ',';
/// Separates the fields of one entry.
const FIELD_SEPARATOR: char = '/';
/// The literal second field of a namespaced entry.
const NAMESPACES_FIELD: &str = "namespaces";

/// Why a depends-on annotation is malformed. Every message names the annotation and the entry, so it
/// reads on its own; callers add the object and file (see [`super::GraphError::InvalidDependsOn`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependsOnError {
    /// An entry does not have 3 or 5 `/`-separated fields. The wording is cli-utils', which says "too
    /// many" for too few fields as well (an empty annotation or a trailing comma gives this error).
    #[error("invalid {annotation:?} annotation: too many fields (expected 3 or 5): {entry:?}", annotation = DEPENDS_ON)]
    FieldCount {
        /// The entry as written, trimmed.
        entry: String,
    },
    /// A five-field entry whose second field is not `namespaces`.
    #[error("invalid {annotation:?} annotation: missing \"namespaces\" field: {entry:?}", annotation = DEPENDS_ON)]
    MissingNamespaces {
        /// The entry as written, trimmed.
        entry: String,
    },
    /// An entry with an empty name.
    #[error("invalid {annotation:?} annotation: empty name for object: {entry:?}", annotation = DEPENDS_ON)]
    EmptyName {
        /// The entry as written, trimmed.
        entry: String,
    },
    /// An entry with an empty kind.
    #[error("invalid {annotation:?} annotation: empty kind for object: {entry:?}", annotation = DEPENDS_ON)]
    EmptyKind {
        /// The entry as written, trimmed.
        entry: String,
    },
    /// The same object is listed twice (cli-utils' `DuplicateDependencyError`). Harmless for ordering,
    /// but almost always a copy-paste slip, so it is refused like cli-utils refuses it.
    #[error("invalid {annotation:?} annotation: duplicate dependency: {dependency}", annotation = DEPENDS_ON)]
    Duplicate {
        /// The object listed twice, as parsed.
        dependency: ObjRef,
    },
}

/// Parses the value of a `config.kubernetes.io/depends-on` annotation into object references, in the
/// order written.
///
/// # Errors
/// The first malformed entry, or the first entry repeating an earlier one ([`DependsOnError`]).
pub fn parse_depends_on(value: &str) -> Result<Vec<ObjRef>, DependsOnError> {
    let mut refs = Vec::new();
    let mut seen = HashSet::new();
    for entry in value.split(ENTRY_SEPARATOR) {
        let dependency = parse_entry(entry)?;
        if !seen.insert(dependency.clone()) {
            return Err(DependsOnError::Duplicate { dependency });
        }
        refs.push(dependency);
    }
    Ok(refs)
}

/// Parses what can be parsed, silently dropping malformed and repeated entries.
///
/// For objects read back from the cluster (prune candidates): a bad annotation on a live object must
/// not stop a prune, and every entry that does parse still orders the deletion.
pub(crate) fn parse_depends_on_lenient(value: &str) -> Vec<ObjRef> {
    let mut refs: Vec<ObjRef> = Vec::new();
    for dependency in value.split(ENTRY_SEPARATOR).filter_map(|entry| parse_entry(entry).ok()) {
        if !refs.contains(&dependency) {
            refs.push(dependency);
        }
    }
    refs
}

/// Parses one entry, trimmed of surrounding whitespace.
fn parse_entry(entry: &str) -> Result<ObjRef, DependsOnError> {
    let entry = entry.trim();
    let fields: Vec<&str> = entry.split(FIELD_SEPARATOR).collect();
    let owned = || entry.to_owned();
    let (group, namespace, kind, name) = match fields[..] {
        [group, kind, name] => (group, None, kind, name),
        [group, namespaces, namespace, kind, name] => {
            if namespaces != NAMESPACES_FIELD {
                return Err(DependsOnError::MissingNamespaces { entry: owned() });
            }
            (group, Some(namespace), kind, name)
        }
        _ => return Err(DependsOnError::FieldCount { entry: owned() }),
    };
    // cli-utils checks the name before the kind; keep its order so the same input gives the same error.
    if name.is_empty() {
        return Err(DependsOnError::EmptyName { entry: owned() });
    }
    if kind.is_empty() {
        return Err(DependsOnError::EmptyKind { entry: owned() });
    }
    Ok(ObjRef::new(group, kind, namespace, name))
}

/// Formats one reference as a depends-on entry: `<group>/<kind>/<name>` when cluster-scoped,
/// `<group>/namespaces/<namespace>/<kind>/<name>` when namespaced.
pub fn format_dependency(dependency: &ObjRef) -> String {
    match &dependency.namespace {
        Some(ns) => format!(
            "{}{FIELD_SEPARATOR}{NAMESPACES_FIELD}{FIELD_SEPARATOR}{ns}{FIELD_SEPARATOR}{}{FIELD_SEPARATOR}{}",
            dependency.group, dependency.kind, dependency.name
        ),
        None => format!(
            "{}{FIELD_SEPARATOR}{}{FIELD_SEPARATOR}{}",
            dependency.group, dependency.kind, dependency.name
        ),
    }
}

/// Formats references as a depends-on annotation value, the inverse of [`parse_depends_on`] for
/// references with a non-empty kind and name and no `/` or `,` in any field (which Kubernetes names,
/// kinds and groups never contain).
pub fn format_depends_on(dependencies: &[ObjRef]) -> String {
    dependencies.iter().map(format_dependency).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjRef {
        ObjRef::new(group, kind, namespace, name)
    }

    #[test]
    fn cluster_scoped_entry_has_three_fields() {
        let refs = parse_depends_on("rbac.authorization.k8s.io/ClusterRole/reader").unwrap();
        assert_eq!(refs, [r("rbac.authorization.k8s.io", "ClusterRole", None, "reader")]);
    }

    #[test]
    fn namespaced_entry_has_five_fields() {
        let refs = parse_depends_on("apps/namespaces/prod/Deployment/web").unwrap();
        assert_eq!(refs, [r("apps", "Deployment", Some("prod"), "web")]);
    }

    #[test]
    fn core_group_is_the_empty_first_field() {
        let refs = parse_depends_on("/namespaces/default/ConfigMap/cfg,/Namespace/prod").unwrap();
        assert_eq!(refs, [r("", "ConfigMap", Some("default"), "cfg"), r("", "Namespace", None, "prod")]);
    }

    #[test]
    fn entries_are_trimmed_and_kept_in_written_order() {
        let refs =
            parse_depends_on("  /namespaces/a/Secret/s ,\n\tapps/namespaces/a/Deployment/d\n").unwrap();
        assert_eq!(refs, [r("", "Secret", Some("a"), "s"), r("apps", "Deployment", Some("a"), "d")]);
    }

    #[test]
    fn empty_namespace_in_five_field_form_means_cluster_scoped() {
        let refs = parse_depends_on("example.com/namespaces//Thing/t").unwrap();
        assert_eq!(refs, [r("example.com", "Thing", None, "t")]);
    }

    #[test]
    fn four_fields_is_a_field_count_error_with_cli_utils_text() {
        let err = parse_depends_on("apps/prod/Deployment/web").unwrap_err();
        assert_eq!(err, DependsOnError::FieldCount { entry: "apps/prod/Deployment/web".into() });
        assert_eq!(
            err.to_string(),
            r#"invalid "config.kubernetes.io/depends-on" annotation: too many fields (expected 3 or 5): "apps/prod/Deployment/web""#
        );
    }

    #[test]
    fn six_fields_is_a_field_count_error() {
        let err = parse_depends_on("a/namespaces/b/c/d/e").unwrap_err();
        assert!(matches!(err, DependsOnError::FieldCount { .. }), "{err}");
    }

    #[test]
    fn empty_annotation_is_a_field_count_error_like_cli_utils() {
        let err = parse_depends_on("").unwrap_err();
        assert_eq!(err, DependsOnError::FieldCount { entry: String::new() });
        assert!(err.to_string().ends_with(r#"too many fields (expected 3 or 5): """#), "{err}");
    }

    #[test]
    fn trailing_comma_is_a_field_count_error() {
        let err = parse_depends_on("/Namespace/a,").unwrap_err();
        assert_eq!(err, DependsOnError::FieldCount { entry: String::new() });
    }

    #[test]
    fn five_fields_without_namespaces_keyword_is_a_missing_namespaces_error() {
        let err = parse_depends_on("apps/namespace/prod/Deployment/web").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid "config.kubernetes.io/depends-on" annotation: missing "namespaces" field: "apps/namespace/prod/Deployment/web""#
        );
    }

    #[test]
    fn empty_name_is_an_error_with_cli_utils_text() {
        let err = parse_depends_on("apps/Deployment/").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid "config.kubernetes.io/depends-on" annotation: empty name for object: "apps/Deployment/""#
        );
    }

    #[test]
    fn empty_kind_is_an_error_with_cli_utils_text() {
        let err = parse_depends_on("/namespaces/a//web").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid "config.kubernetes.io/depends-on" annotation: empty kind for object: "/namespaces/a//web""#
        );
    }

    #[test]
    fn empty_name_is_reported_before_empty_kind() {
        let err = parse_depends_on("g//").unwrap_err();
        assert!(matches!(err, DependsOnError::EmptyName { .. }), "{err}");
    }

    #[test]
    fn repeated_entry_is_a_duplicate_dependency_error_naming_it() {
        let err = parse_depends_on("/namespaces/a/Secret/s, /namespaces/a/Secret/s").unwrap_err();
        assert_eq!(err, DependsOnError::Duplicate { dependency: r("", "Secret", Some("a"), "s") });
        assert_eq!(
            err.to_string(),
            r#"invalid "config.kubernetes.io/depends-on" annotation: duplicate dependency: Secret/a/s"#
        );
    }

    #[test]
    fn same_name_in_another_namespace_is_not_a_duplicate() {
        let refs = parse_depends_on("/namespaces/a/Secret/s,/namespaces/b/Secret/s").unwrap();
        assert_eq!(refs.len(), 2);
    }

    #[test]
    fn formatter_writes_both_forms() {
        assert_eq!(
            format_dependency(&r("", "ConfigMap", Some("default"), "cfg")),
            "/namespaces/default/ConfigMap/cfg"
        );
        assert_eq!(
            format_dependency(&r("storage.k8s.io", "StorageClass", None, "fast")),
            "storage.k8s.io/StorageClass/fast"
        );
    }

    #[test]
    fn formatted_annotation_parses_back_to_the_same_references() {
        let refs = vec![
            r("", "Namespace", None, "prod"),
            r("apps", "Deployment", Some("prod"), "web"),
            r("rbac.authorization.k8s.io", "ClusterRole", None, "system:reader"),
        ];
        let value = format_depends_on(&refs);
        assert_eq!(
            value,
            "/Namespace/prod,apps/namespaces/prod/Deployment/web,rbac.authorization.k8s.io/ClusterRole/system:reader"
        );
        assert_eq!(parse_depends_on(&value).unwrap(), refs);
    }

    #[test]
    fn lenient_parse_keeps_good_entries_and_drops_bad_and_repeated_ones() {
        let refs =
            parse_depends_on_lenient("/Namespace/a, bad, /Namespace/a, apps/x/y/z,/namespaces/a/Secret/s");
        assert_eq!(refs, [r("", "Namespace", None, "a"), r("", "Secret", Some("a"), "s")]);
    }
}
