//! [`parse_annotation`]: the annotation's YAML list, validated entry by entry into [`Mutation`]s.
//!
//! The YAML is read into a generic JSON value and checked by hand rather than through a serde derive,
//! so that every message can say which entry (1-based) and which field is wrong, in the annotation's
//! own spelling (`sourceRef.apiVersion`).

use serde_json::{Map, Value};

use super::{FieldPath, Mutation, MutationError, Result, SourceRef};
use crate::object::group_of;

/// Parses and validates the value of a `config.kubernetes.io/apply-time-mutation` annotation.
///
/// The value is a YAML (or JSON) list of
/// `{sourceRef: {kind, name, group | apiVersion, namespace?}, sourcePath, targetPath, token?}`.
///
/// Validation, and how it relates to cli-utils:
/// - `kind` and `name` are required non-empty strings (cli-utils checks them only when it fetches the
///   source, that is mid-apply; checking here means nothing is applied at all);
/// - one of `group` or `apiVersion` is required, as cli-utils documents the field (its code falls back
///   to the core group when both are missing, which turns a forgotten group on a custom kind into a
///   confusing lookup failure). Core kinds are written `group: ""` or `apiVersion: v1`; a bare
///   `group:` (null) also means core. When both are given they must agree;
/// - an empty `namespace` or `token` means none, as in cli-utils;
/// - both paths must compile (see [`FieldPath`]), and the target path must not be `$` itself;
/// - the list must not be empty (cli-utils accepts an empty list and does nothing);
/// - unknown fields are ignored, as cli-utils' non-strict YAML decoding does. Field names are matched
///   exactly, whereas Go's decoder would also accept `sourcepath`.
///
/// # Errors
/// [`MutationError::Yaml`], [`MutationError::NotAList`], [`MutationError::Empty`],
/// [`MutationError::EntryNotAMapping`] or [`MutationError::Entry`] naming the entry and field.
pub fn parse_annotation(value: &str) -> Result<Vec<Mutation>> {
    let document: Value = serde_saphyr::from_str(value).map_err(|e| MutationError::Yaml {
        // The library's message can carry a multi-line source snippet; the first line says it all.
        reason: {
            let message = e.to_string();
            let first = message.lines().next().unwrap_or_default().trim();
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        },
    })?;
    let Value::Array(entries) = document else {
        let found = if document.is_null() { "an empty value" } else { type_name(&document) };
        return Err(MutationError::NotAList { found });
    };
    if entries.is_empty() {
        return Err(MutationError::Empty);
    }
    entries.iter().enumerate().map(|(index, entry)| parse_entry(index + 1, entry)).collect()
}

/// Validates entry number `entry` (1-based).
fn parse_entry(entry: usize, value: &Value) -> Result<Mutation> {
    let Value::Object(fields) = value else {
        return Err(MutationError::EntryNotAMapping { entry, found: type_name(value) });
    };
    let invalid = |field, problem: String| MutationError::Entry { entry, field, problem };

    let source = match fields.get("sourceRef") {
        None | Some(Value::Null) => return Err(invalid("sourceRef", "is required".into())),
        Some(Value::Object(source_ref)) => parse_source_ref(entry, source_ref)?,
        Some(other) => {
            return Err(invalid("sourceRef", format!("must be a mapping, found {}", type_name(other))));
        }
    };
    let source_path = required_string(entry, fields, "sourcePath")?;
    let source_path = FieldPath::parse(source_path).map_err(|e| invalid("sourcePath", e.to_string()))?;
    let target_path = required_string(entry, fields, "targetPath")?;
    let target_path = FieldPath::parse(target_path).map_err(|e| invalid("targetPath", e.to_string()))?;
    if target_path.is_root() {
        return Err(invalid("targetPath", "must name a field, not the whole object `$`".into()));
    }
    let token = optional_string(entry, fields, "token")?.map(str::to_owned);
    Ok(Mutation { source, source_path, target_path, token })
}

fn parse_source_ref(entry: usize, fields: &Map<String, Value>) -> Result<SourceRef> {
    let invalid = |field, problem: String| MutationError::Entry { entry, field, problem };
    let kind = required_string(entry, fields, "sourceRef.kind")?;
    let name = required_string(entry, fields, "sourceRef.name")?;
    let namespace = optional_string(entry, fields, "sourceRef.namespace")?;
    let api_version = optional_string(entry, fields, "sourceRef.apiVersion")?;
    if let Some(api_version) = api_version
        && !is_api_version(api_version)
    {
        return Err(invalid(
            "sourceRef.apiVersion",
            format!("{api_version:?} is not an apiVersion (`v1`, `apps/v1`)"),
        ));
    }
    // A present `group` key, even empty or null, names the group; only its absence defers to apiVersion.
    let group = match group_field(fields) {
        GroupField::Absent => None,
        GroupField::Core => Some(""),
        GroupField::Named(group) => Some(group),
        GroupField::NotAString(found) => {
            return Err(invalid("sourceRef.group", format!("must be a string, found {found}")));
        }
    };
    let group = match (group, api_version) {
        (Some(group), Some(api_version)) if group_of(api_version) != group => {
            return Err(invalid(
                "sourceRef.group",
                format!("{group:?} disagrees with apiVersion {api_version:?}"),
            ));
        }
        (Some(group), _) => group,
        (None, Some(api_version)) => group_of(api_version),
        (None, None) => {
            return Err(invalid(
                "sourceRef",
                "needs group or apiVersion (for a core kind: group: \"\" or apiVersion: v1)".into(),
            ));
        }
    };
    Ok(SourceRef {
        group: group.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: namespace.map(str::to_owned),
        api_version: api_version.map(str::to_owned),
    })
}

/// What the `group` key of a sourceRef holds.
enum GroupField<'a> {
    Absent,
    /// `group: ""` or a bare `group:`.
    Core,
    Named(&'a str),
    NotAString(&'static str),
}

fn group_field(fields: &Map<String, Value>) -> GroupField<'_> {
    match fields.get("group") {
        None => GroupField::Absent,
        Some(Value::Null) => GroupField::Core,
        Some(Value::String(group)) if group.is_empty() => GroupField::Core,
        Some(Value::String(group)) => GroupField::Named(group),
        Some(other) => GroupField::NotAString(type_name(other)),
    }
}

/// `v1` or `group/version`, both parts non-empty and free of spaces.
fn is_api_version(text: &str) -> bool {
    let valid = |part: &str| !part.is_empty() && !part.contains(char::is_whitespace);
    match text.split_once('/') {
        Some((group, version)) => valid(group) && valid(version) && !version.contains('/'),
        None => valid(text),
    }
}

/// The last component of a dotted field name: the key to look up in its mapping.
fn key_of(field: &'static str) -> &'static str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A field that must be present as a non-empty string.
fn required_string<'a>(entry: usize, fields: &'a Map<String, Value>, field: &'static str) -> Result<&'a str> {
    let invalid = |problem: String| MutationError::Entry { entry, field, problem };
    match fields.get(key_of(field)) {
        None | Some(Value::Null) => Err(invalid("is required".into())),
        Some(Value::String(text)) if text.trim().is_empty() => Err(invalid("must not be empty".into())),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(invalid(format!("must be a string, found {}", type_name(other)))),
    }
}

/// A field that may be absent, null or empty (all meaning "not given"), else a string.
fn optional_string<'a>(
    entry: usize,
    fields: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>> {
    match fields.get(key_of(field)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(MutationError::Entry {
            entry,
            field,
            problem: format!("must be a string, found {}", type_name(other)),
        }),
    }
}

/// The JSON type of `value`, with an article, for messages.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(annotation: &str) -> Mutation {
        let mut mutations = parse_annotation(annotation).unwrap();
        assert_eq!(mutations.len(), 1);
        mutations.remove(0)
    }

    /// The error for `annotation`, which must be invalid.
    fn error(annotation: &str) -> String {
        parse_annotation(annotation).unwrap_err().to_string()
    }

    /// An entry with `source_ref` as its sourceRef and valid paths.
    fn with_source_ref(source_ref: &str) -> String {
        format!("- sourceRef: {source_ref}\n  sourcePath: $.spec.x\n  targetPath: $.spec.y\n")
    }

    #[test]
    fn full_entry_with_api_version_derives_the_group() {
        let m = one("
- sourceRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
    namespace: prod
  sourcePath: $.status.replicas
  targetPath: $.spec.minReplicas
");
        assert_eq!(
            m.source,
            SourceRef {
                group: "apps".into(),
                kind: "Deployment".into(),
                name: "web".into(),
                namespace: Some("prod".into()),
                api_version: Some("apps/v1".into()),
            }
        );
        assert_eq!(m.source_path.as_str(), "$.status.replicas");
        assert_eq!(m.target_path.as_str(), "$.spec.minReplicas");
        assert_eq!(m.token, None);
    }

    #[test]
    fn group_without_api_version_is_accepted() {
        let m =
            one(&with_source_ref("{group: resourcemanager.cnrm.cloud.google.com, kind: Project, name: p}"));
        assert_eq!(m.source.group, "resourcemanager.cnrm.cloud.google.com");
        assert_eq!(m.source.api_version, None);
    }

    #[test]
    fn core_kinds_are_written_with_v1_empty_group_or_bare_group() {
        for source_ref in [
            "{apiVersion: v1, kind: Service, name: db}",
            "{group: '', kind: Service, name: db}",
            "{group: , kind: Service, name: db}",
            "{group: '', apiVersion: v1, kind: Service, name: db}",
        ] {
            assert_eq!(one(&with_source_ref(source_ref)).source.group, "", "{source_ref}");
        }
    }

    #[test]
    fn missing_or_empty_namespace_is_left_for_the_target_to_default() {
        let omitted = one(&with_source_ref("{apiVersion: v1, kind: Service, name: db}"));
        assert_eq!(omitted.source.namespace, None);
        let empty = one(&with_source_ref("{apiVersion: v1, kind: Service, name: db, namespace: ''}"));
        assert_eq!(empty.source.namespace, None);
    }

    #[test]
    fn token_is_read_and_an_empty_token_means_none() {
        let with =
            one(&format!("{}  token: ${{ip}}\n", with_source_ref("{apiVersion: v1, kind: S, name: a}")));
        assert_eq!(with.token.as_deref(), Some("${ip}"));
        let empty = one(&format!("{}  token: ''\n", with_source_ref("{apiVersion: v1, kind: S, name: a}")));
        assert_eq!(empty.token, None);
    }

    #[test]
    fn json_annotation_is_accepted() {
        let m = one(r#"[{"sourceRef": {"apiVersion": "v1", "kind": "Service", "name": "db"},
                 "sourcePath": "$.spec.clusterIP", "targetPath": "$.data.ip"}]"#);
        assert_eq!(m.source.kind, "Service");
    }

    #[test]
    fn filter_paths_compile() {
        let m = one(r#"
- sourceRef: {apiVersion: v1, kind: Pod, name: p}
  sourcePath: $.spec.containers[?(@.name=="nginx")].image
  targetPath: $.spec.template.spec.containers[?(@.name=="nginx")].image
"#);
        assert_eq!(m.source_path.as_str(), r#"$.spec.containers[?(@.name=="nginx")].image"#);
    }

    #[test]
    fn unknown_fields_are_ignored_as_cli_utils_does() {
        let m = one("
- sourceRef: {apiVersion: v1, kind: Service, name: db, uid: 1234}
  sourcePath: $.spec.clusterIP
  targetPath: $.data.ip
  comment: copied at apply time
");
        assert_eq!(m.source.name, "db");
    }

    #[test]
    fn several_entries_keep_their_order() {
        let annotation = format!(
            "{}{}",
            with_source_ref("{apiVersion: v1, kind: Service, name: a}"),
            with_source_ref("{apiVersion: v1, kind: Service, name: b}")
        );
        let names: Vec<_> =
            parse_annotation(&annotation).unwrap().into_iter().map(|m| m.source.name).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn invalid_yaml_is_reported_on_one_line() {
        let message = error("- sourceRef: {kind: [");
        assert!(
            message.starts_with("invalid apply-time-mutation annotation: not valid YAML: line 1"),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn a_mapping_instead_of_a_list_is_rejected() {
        assert_eq!(
            error("sourceRef: {kind: Service}\nsourcePath: $.a\n"),
            "invalid apply-time-mutation annotation: expected a list of mutations, found a mapping"
        );
    }

    #[test]
    fn an_empty_list_is_rejected() {
        assert_eq!(parse_annotation("[]"), Err(MutationError::Empty));
    }

    #[test]
    fn an_empty_value_is_not_a_list() {
        for empty in ["", "  \n", "~"] {
            assert_eq!(parse_annotation(empty), Err(MutationError::NotAList { found: "an empty value" }));
        }
    }

    #[test]
    fn an_entry_that_is_not_a_mapping_is_named_by_position() {
        let annotation =
            format!("{}- just a string\n", with_source_ref("{apiVersion: v1, kind: S, name: a}"));
        assert_eq!(
            error(&annotation),
            "invalid apply-time-mutation annotation: entry 2 is a string, \
             expected a mapping with sourceRef, sourcePath and targetPath"
        );
    }

    /// An entry whose sourceRef is valid, followed by `$rest`.
    macro_rules! valid_ref {
        ($rest:literal) => {
            concat!("- sourceRef: {apiVersion: v1, kind: S, name: a}\n", $rest)
        };
    }

    #[test]
    fn each_missing_or_wrong_field_is_named_with_its_entry() {
        let valid = with_source_ref("{apiVersion: v1, kind: S, name: a}");
        let cases = [
            ("- sourcePath: $.a\n  targetPath: $.b\n", "sourceRef: is required"),
            (
                "- sourceRef: [a]\n  sourcePath: $.a\n  targetPath: $.b\n",
                "sourceRef: must be a mapping, found a list",
            ),
            (&with_source_ref("{apiVersion: v1, name: a}"), "sourceRef.kind: is required"),
            (&with_source_ref("{apiVersion: v1, kind: S}"), "sourceRef.name: is required"),
            (&with_source_ref("{apiVersion: v1, kind: S, name: ''}"), "sourceRef.name: must not be empty"),
            (
                &with_source_ref("{apiVersion: v1, kind: S, name: 42}"),
                "sourceRef.name: must be a string, found a number",
            ),
            (
                &with_source_ref("{apiVersion: v1, kind: S, name: a, namespace: [x]}"),
                "sourceRef.namespace: must be a string, found a list",
            ),
            (&with_source_ref("{kind: S, name: a}"), "sourceRef: needs group or apiVersion"),
            (
                &with_source_ref("{group: apps, apiVersion: v1, kind: S, name: a}"),
                "sourceRef.group: \"apps\" disagrees with apiVersion \"v1\"",
            ),
            (
                &with_source_ref("{group: true, kind: S, name: a}"),
                "sourceRef.group: must be a string, found a boolean",
            ),
            (
                &with_source_ref("{apiVersion: apps/, kind: S, name: a}"),
                "sourceRef.apiVersion: \"apps/\" is not an apiVersion",
            ),
            (valid_ref!("  targetPath: $.b\n"), "sourcePath: is required"),
            (valid_ref!("  sourcePath: $.a\n"), "targetPath: is required"),
            (
                valid_ref!("  sourcePath: '$.a['\n  targetPath: $.b\n"),
                "sourcePath: invalid JSONPath \"$.a[\"",
            ),
            (
                valid_ref!("  sourcePath: $.a\n  targetPath: 'spec.b'\n"),
                "targetPath: invalid JSONPath \"spec.b\"",
            ),
            (
                valid_ref!("  sourcePath: $.a\n  targetPath: $\n"),
                "targetPath: must name a field, not the whole object",
            ),
            (
                valid_ref!("  sourcePath: $.a\n  targetPath: $.b\n  token: 7\n"),
                "token: must be a string, found a number",
            ),
        ];
        for (entry, expected) in cases {
            let message = error(&format!("{valid}{entry}"));
            let prefix = "invalid apply-time-mutation annotation: entry 2, ";
            assert!(message.starts_with(prefix), "{message}");
            assert!(message[prefix.len()..].starts_with(expected), "{message}\n  expected: {expected}");
        }
    }

    #[test]
    fn api_versions_have_at_most_one_slash_and_no_empty_part() {
        assert!(is_api_version("v1"));
        assert!(is_api_version("apps/v1"));
        for bad in ["", "/v1", "apps/", "a/b/c", "apps v1"] {
            assert!(!is_api_version(bad), "{bad}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Fragments of annotation YAML, so that generated inputs often get past the YAML parser.
        fn yamlish() -> impl Strategy<Value = String> {
            let fragment = prop_oneof![
                Just("- ".to_owned()),
                Just("\n".to_owned()),
                Just("  ".to_owned()),
                Just("sourceRef: ".to_owned()),
                Just("{kind: S, name: a, apiVersion: v1}".to_owned()),
                Just("{group: '', kind: S, name: a}".to_owned()),
                Just("sourcePath: ".to_owned()),
                Just("targetPath: ".to_owned()),
                Just("token: ".to_owned()),
                Just("$.a".to_owned()),
                Just("'$[?(@.n==\"x\")].v'".to_owned()),
                Just("[".to_owned()),
                Just("]".to_owned()),
                Just("{".to_owned()),
                Just("&a ".to_owned()),
                Just("*a".to_owned()),
                "[ -~]{0,6}",
            ];
            prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
        }

        proptest! {
            #[test]
            fn parse_annotation_never_panics_on_arbitrary_strings(input in any::<String>()) {
                let _ = parse_annotation(&input);
            }

            #[test]
            fn parse_annotation_never_panics_on_yaml_like_strings(input in yamlish()) {
                let _ = parse_annotation(&input);
            }

            #[test]
            fn parse_errors_are_one_line(input in yamlish()) {
                if let Err(e) = parse_annotation(&input) {
                    prop_assert!(!e.to_string().contains('\n'), "{}", e);
                }
            }
        }
    }
}
