//! [`apply`] and [`apply_all`]: substituting source values into a target object before it is applied.

use serde_json::Value;

use super::parse::type_name;
use super::{Mutation, MutationError, Result};
use crate::object::ObjRef;

/// Applies one mutation to `target` (the manifest body), reading from `source` (the live source object).
///
/// The source path must select exactly one value. The target path must select exactly one field that
/// already exists: like cli-utils, a missing field is not created, so the manifest keeps a placeholder
/// there (usually the token itself), and a typo in the path is an error rather than a new field.
/// - Without a token, the target field is replaced by the source value, keeping its JSON type (a port
///   stays a number, a selector stays a mapping).
/// - With a token, the target field must be a string; every occurrence of the token is replaced by the
///   source value as text: a string as-is, a number or boolean as written in JSON, `null` as `null`,
///   a list or mapping as compact JSON (cli-utils does the same).
///
/// # Errors
/// [`MutationError::SourcePath`], [`MutationError::TargetPath`], [`MutationError::TargetIsRoot`],
/// [`MutationError::TargetNotString`], or [`MutationError::TokenAbsent`]. On error `target` is left
/// unchanged: every check runs before the one write.
///
/// # Caveats
/// cli-utils silently skips a token that does not occur in the target string; kapply reports it, since
/// it is nearly always a misspelt token. The flip side is that a mutation is not idempotent: apply it to
/// a fresh copy of the manifest body each time, never to an already-substituted one.
pub fn apply(target: &mut Value, mutation: &Mutation, source: &Value) -> Result<()> {
    let target_name = || describe(target).unwrap_or_else(|| "the target object".to_owned());
    let target_path = &mutation.target_path;
    if target_path.is_root() {
        return Err(MutationError::TargetIsRoot { path: target_path.to_string(), target: target_name() });
    }

    let source_values = mutation.source_path.select(source);
    let [source_value] = source_values.as_slice() else {
        let source_object =
            describe(source).unwrap_or_else(|| mutation.source_ref(target_namespace(target)).to_string());
        return Err(MutationError::SourcePath {
            path: mutation.source_path.to_string(),
            source_object,
            target: target_name(),
            matched: source_values.len(),
        });
    };

    let target_pointers = target_path.locate(target);
    let target_path_error =
        |matched| MutationError::TargetPath { path: target_path.to_string(), target: target_name(), matched };
    let [pointer] = target_pointers.as_slice() else {
        return Err(target_path_error(target_pointers.len()));
    };

    let new_value = match &mutation.token {
        None => (*source_value).clone(),
        Some(token) => {
            // The pointer came from this very value, so it resolves; an error rather than a panic if not.
            let current = target.pointer(pointer).ok_or_else(|| target_path_error(0))?;
            let Value::String(text) = current else {
                return Err(MutationError::TargetNotString {
                    path: target_path.to_string(),
                    target: target_name(),
                    found: type_name(current),
                });
            };
            if !text.contains(token.as_str()) {
                return Err(MutationError::TokenAbsent {
                    token: token.clone(),
                    path: target_path.to_string(),
                    target: target_name(),
                });
            }
            Value::String(text.replace(token.as_str(), &token_text(source_value)))
        }
    };
    let target_name = target_name();
    let slot = target.pointer_mut(pointer).ok_or(MutationError::TargetPath {
        path: target_path.to_string(),
        target: target_name,
        matched: 0,
    })?;
    *slot = new_value;
    Ok(())
}

/// Applies `mutations` in order to `target`, looking each source object up with `sources`.
///
/// Later mutations see the result of earlier ones, so two tokens in one string (`${host}:${port}`) are
/// two entries. All or nothing: on error `target` is left as it was.
///
/// Sources are looked up by the reference of [`Mutation::source_ref`] (namespace defaulted to the
/// target's); when that finds nothing and the `sourceRef` gave no namespace, the cluster-scoped
/// reference (no namespace) is tried. A kind has one scope, so at most one of the two can exist: the
/// engine can key its sources by their real `ObjRef` without knowing the scope here.
///
/// # Errors
/// [`MutationError::SourceUnavailable`] naming the defaulted reference, or any error of [`apply`].
pub fn apply_all<'s>(
    target: &mut Value,
    mutations: &[Mutation],
    sources: impl Fn(&ObjRef) -> Option<&'s Value>,
) -> Result<()> {
    let namespace = target_namespace(target).map(str::to_owned);
    let mut mutated = target.clone();
    for mutation in mutations {
        let namespaced = mutation.source_ref(namespace.as_deref());
        let source = sources(&namespaced).or_else(|| match mutation.source.namespace {
            Some(_) => None,
            None => sources(&mutation.source_ref(None)),
        });
        let Some(source) = source else {
            return Err(MutationError::SourceUnavailable {
                source_ref: namespaced,
                target: describe(target).unwrap_or_else(|| "the target object".to_owned()),
            });
        };
        apply(&mut mutated, mutation, source)?;
    }
    *target = mutated;
    Ok(())
}

/// The text a source value takes when it replaces a token.
fn token_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        // serde_json writes numbers, booleans, null, lists and mappings as compact JSON.
        other => other.to_string(),
    }
}

/// `Kind/namespace/name` of a JSON object, when it carries apiVersion, kind and name.
fn describe(value: &Value) -> Option<String> {
    ObjRef::from_value(value).map(|obj_ref| obj_ref.to_string())
}

fn target_namespace(target: &Value) -> Option<&str> {
    target.get("metadata")?.get("namespace")?.as_str().filter(|ns| !ns.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutation::{FieldPath, SourceRef, parse_annotation};
    use serde_json::json;

    /// The mutation reading `source_path` from Service `db` into `target_path`.
    fn mutation(source_path: &str, target_path: &str, token: Option<&str>) -> Mutation {
        Mutation {
            source: SourceRef {
                group: String::new(),
                kind: "Service".into(),
                name: "db".into(),
                namespace: None,
                api_version: Some("v1".into()),
            },
            source_path: FieldPath::parse(source_path).unwrap(),
            target_path: FieldPath::parse(target_path).unwrap(),
            token: token.map(str::to_owned),
        }
    }

    fn config_map(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "prod"},
               "data": data})
    }

    fn service(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "prod"},
               "spec": spec})
    }

    #[test]
    fn service_cluster_ip_is_substituted_into_a_config_map_url() {
        let annotation = r#"
- sourceRef:
    kind: Service
    apiVersion: v1
    name: db
  sourcePath: $.spec.clusterIP
  targetPath: $.data.url
  token: ${ip}
"#;
        let mutations = parse_annotation(annotation).unwrap();
        let mut target = config_map(json!({"url": "postgres://${ip}:5432/app"}));
        let db = service(json!({"clusterIP": "10.96.0.12", "ports": [{"port": 5432}]}));
        apply_all(&mut target, &mutations, |r| {
            (*r == ObjRef::new("", "Service", Some("prod"), "db")).then_some(&db)
        })
        .unwrap();
        assert_eq!(target["data"]["url"], "postgres://10.96.0.12:5432/app");
    }

    #[test]
    fn number_source_is_written_as_its_digits_inside_a_token() {
        let mut target = config_map(json!({"port": "port=${port}"}));
        let m = mutation("$.spec.ports[0].port", "$.data.port", Some("${port}"));
        apply(&mut target, &m, &service(json!({"ports": [{"port": 5432}]}))).unwrap();
        assert_eq!(target["data"]["port"], "port=5432");
    }

    #[test]
    fn boolean_and_mapping_sources_are_written_as_json_inside_a_token() {
        let source = service(json!({"flag": true, "selector": {"app": "db", "tier": "data"}}));
        let mut target = config_map(json!({"flag": "on=${v}", "sel": "sel=${v}"}));
        apply(&mut target, &mutation("$.spec.flag", "$.data.flag", Some("${v}")), &source).unwrap();
        apply(&mut target, &mutation("$.spec.selector", "$.data.sel", Some("${v}")), &source).unwrap();
        assert_eq!(target["data"]["flag"], "on=true");
        assert_eq!(target["data"]["sel"], r#"sel={"app":"db","tier":"data"}"#);
    }

    #[test]
    fn every_occurrence_of_the_token_is_replaced() {
        let mut target = config_map(json!({"hosts": "${ip},${ip};${ip}"}));
        let m = mutation("$.spec.clusterIP", "$.data.hosts", Some("${ip}"));
        apply(&mut target, &m, &service(json!({"clusterIP": "10.0.0.1"}))).unwrap();
        assert_eq!(target["data"]["hosts"], "10.0.0.1,10.0.0.1;10.0.0.1");
    }

    #[test]
    fn a_token_absent_from_the_target_string_is_an_error() {
        let mut target = config_map(json!({"url": "postgres://${IP}:5432"}));
        let m = mutation("$.spec.clusterIP", "$.data.url", Some("${ip}"));
        let err = apply(&mut target, &m, &service(json!({"clusterIP": "10.0.0.1"}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"token "${ip}" does not occur in target path $.data.url of ConfigMap/prod/app"#
        );
    }

    #[test]
    fn a_token_in_a_non_string_target_is_an_error() {
        let mut target = config_map(json!({"port": 1}));
        let m = mutation("$.spec.clusterIP", "$.data.port", Some("${ip}"));
        let err = apply(&mut target, &m, &service(json!({"clusterIP": "10.0.0.1"}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "target path $.data.port in ConfigMap/prod/app is a number, but a token can only be replaced \
             inside a string"
        );
    }

    #[test]
    fn without_a_token_a_number_replaces_the_field_as_a_number() {
        let mut target = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"}, "spec": {"replicas": "placeholder"}});
        let m = mutation("$.spec.ports[0].port", "$.spec.replicas", None);
        apply(&mut target, &m, &service(json!({"ports": [{"port": 3}]}))).unwrap();
        assert_eq!(target["spec"]["replicas"], json!(3));
    }

    #[test]
    fn without_a_token_a_mapping_replaces_the_field_as_a_mapping() {
        let mut target = config_map(json!({"selector": "placeholder"}));
        let m = mutation("$.spec.selector", "$.data.selector", None);
        apply(&mut target, &m, &service(json!({"selector": {"app": "db"}}))).unwrap();
        assert_eq!(target["data"]["selector"], json!({"app": "db"}));
    }

    #[test]
    fn filter_paths_select_the_source_and_the_target_by_name() {
        let source = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "prod"},
            "spec": {"containers": [
                {"name": "sidecar", "image": "envoy"}, {"name": "nginx", "image": "nginx:1.25"}]}});
        let mut target = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "nginx", "image": "TBD"}, {"name": "sidecar", "image": "envoy"}]}}}});
        let m = mutation(
            r#"$.spec.containers[?(@.name=="nginx")].image"#,
            r#"$.spec.template.spec.containers[?(@.name=="nginx")].image"#,
            None,
        );
        apply(&mut target, &m, &source).unwrap();
        assert_eq!(target["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25");
        assert_eq!(target["spec"]["template"]["spec"]["containers"][1]["image"], "envoy");
    }

    #[test]
    fn kubectl_style_paths_without_dollar_apply() {
        let mut target = config_map(json!({"ip": "x"}));
        let m = mutation(".spec.clusterIP", ".data.ip", None);
        apply(&mut target, &m, &service(json!({"clusterIP": "10.0.0.1"}))).unwrap();
        assert_eq!(target["data"]["ip"], "10.0.0.1");
    }

    #[test]
    fn a_source_path_matching_nothing_names_path_source_and_target() {
        let mut target = config_map(json!({"ip": "x"}));
        let m = mutation("$.spec.clusterIP", "$.data.ip", None);
        let err = apply(&mut target, &m, &service(json!({}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source path $.spec.clusterIP matched nothing in Service/prod/db (mutating ConfigMap/prod/app)"
        );
    }

    #[test]
    fn a_source_path_matching_several_values_is_an_error() {
        let mut target = config_map(json!({"port": "x"}));
        let m = mutation("$.spec.ports[*].port", "$.data.port", None);
        let err =
            apply(&mut target, &m, &service(json!({"ports": [{"port": 80}, {"port": 443}]}))).unwrap_err();
        assert_eq!(
            err,
            MutationError::SourcePath {
                path: "$.spec.ports[*].port".into(),
                source_object: "Service/prod/db".into(),
                target: "ConfigMap/prod/app".into(),
                matched: 2,
            }
        );
        assert!(
            err.to_string().contains("matched 2 values in Service/prod/db, expected exactly one"),
            "{err}"
        );
    }

    #[test]
    fn a_target_path_matching_nothing_names_path_and_target_and_creates_nothing() {
        let mut target = config_map(json!({}));
        let before = target.clone();
        let m = mutation("$.spec.clusterIP", "$.data.ip", None);
        let err = apply(&mut target, &m, &service(json!({"clusterIP": "10.0.0.1"}))).unwrap_err();
        assert_eq!(err.to_string(), "target path $.data.ip matched nothing in ConfigMap/prod/app");
        assert_eq!(target, before);
    }

    #[test]
    fn a_target_path_matching_several_fields_is_an_error() {
        let mut target = config_map(json!({"a": "x", "b": "y"}));
        let m = mutation("$.spec.clusterIP", "$.data.*", None);
        let err = apply(&mut target, &m, &service(json!({"clusterIP": "10.0.0.1"}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "target path $.data.* matched 2 values in ConfigMap/prod/app, expected exactly one"
        );
    }

    #[test]
    fn a_target_path_of_the_whole_object_is_refused_even_when_built_by_hand() {
        let mut m = mutation("$.spec", "$.data", None);
        m.target_path = FieldPath::parse("$").unwrap();
        let mut target = config_map(json!({}));
        let err = apply(&mut target, &m, &service(json!({}))).unwrap_err();
        assert!(matches!(err, MutationError::TargetIsRoot { .. }), "{err}");
    }

    #[test]
    fn a_null_source_replaces_a_token_with_null_as_cli_utils_does() {
        let mut target = config_map(json!({"v": "v=${v}"}));
        apply(&mut target, &mutation("$.spec.x", "$.data.v", Some("${v}")), &service(json!({"x": null})))
            .unwrap();
        assert_eq!(target["data"]["v"], "v=null");
    }

    #[test]
    fn apply_all_applies_in_order_so_two_tokens_can_share_a_field() {
        let annotation = r#"
- sourceRef: {kind: Service, apiVersion: v1, name: db}
  sourcePath: $.spec.clusterIP
  targetPath: $.data.addr
  token: ${ip}
- sourceRef: {kind: Service, apiVersion: v1, name: db}
  sourcePath: $.spec.ports[0].port
  targetPath: $.data.addr
  token: ${port}
"#;
        let mutations = parse_annotation(annotation).unwrap();
        let db = service(json!({"clusterIP": "10.0.0.1", "ports": [{"port": 5432}]}));
        let mut target = config_map(json!({"addr": "${ip}:${port}"}));
        apply_all(&mut target, &mutations, |_| Some(&db)).unwrap();
        assert_eq!(target["data"]["addr"], "10.0.0.1:5432");
    }

    #[test]
    fn apply_all_reports_an_unavailable_source_with_the_defaulted_namespace() {
        let mutations = vec![mutation("$.spec.clusterIP", "$.data.ip", None)];
        let mut target = config_map(json!({"ip": "x"}));
        let err = apply_all(&mut target, &mutations, |_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "source Service/prod/db of a mutation of ConfigMap/prod/app is not available"
        );
    }

    #[test]
    fn apply_all_finds_a_cluster_scoped_source_keyed_without_namespace() {
        let annotation = "
- sourceRef: {kind: Namespace, apiVersion: v1, name: infra}
  sourcePath: $.metadata.uid
  targetPath: $.data.uid
";
        let mutations = parse_annotation(annotation).unwrap();
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "infra", "uid": "u-1"}});
        let key = ObjRef::new("", "Namespace", None, "infra");
        let mut target = config_map(json!({"uid": "x"}));
        apply_all(&mut target, &mutations, |r| (*r == key).then_some(&namespace)).unwrap();
        assert_eq!(target["data"]["uid"], "u-1");
    }

    #[test]
    fn apply_all_is_all_or_nothing() {
        let annotation = "
- sourceRef: {kind: Service, apiVersion: v1, name: db}
  sourcePath: $.spec.clusterIP
  targetPath: $.data.ip
- sourceRef: {kind: Service, apiVersion: v1, name: db}
  sourcePath: $.spec.missing
  targetPath: $.data.other
";
        let mutations = parse_annotation(annotation).unwrap();
        let db = service(json!({"clusterIP": "10.0.0.1"}));
        let mut target = config_map(json!({"ip": "x", "other": "y"}));
        let before = target.clone();
        assert!(apply_all(&mut target, &mutations, |_| Some(&db)).is_err());
        assert_eq!(target, before);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                prop_oneof![Just("spec".to_owned()), Just("name".to_owned()), "[a-z${}]{0,6}"]
                    .prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                let key = prop_oneof![
                    Just("spec".to_owned()),
                    Just("name".to_owned()),
                    Just("clusterIP".to_owned()),
                    Just("ports".to_owned()),
                    Just("data".to_owned()),
                    "[a-z/~]{1,4}",
                ];
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    prop::collection::btree_map(key, inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn any_mutation() -> impl Strategy<Value = Mutation> {
            let path = prop_oneof![
                Just("$.spec.clusterIP"),
                Just("$.spec"),
                Just("$.spec.ports[0]"),
                Just("$.spec.ports[*]"),
                Just("$..name"),
                Just("$.data.*"),
                Just(r#"$.spec[?(@.name=="spec")].name"#),
                Just("$['a/~']"),
                Just(".data.url"),
                Just("$.spec.ports[-1:]"),
            ];
            let token = prop_oneof![Just(None), Just(Some("${ip}")), Just(Some("spec")), Just(Some("a"))];
            (path.clone(), path, token).prop_map(|(source, target, token)| mutation(source, target, token))
        }

        proptest! {
            #[test]
            fn apply_never_panics_on_arbitrary_json(
                source in json_value(),
                mut target in json_value(),
                m in any_mutation(),
            ) {
                let before = target.clone();
                if apply(&mut target, &m, &source).is_err() {
                    prop_assert_eq!(target, before);
                }
            }

            #[test]
            fn whole_field_replacement_copies_any_source_value_exactly(value in json_value()) {
                let mut target = config_map(json!({"f": "placeholder"}));
                let m = mutation("$.spec.x", "$.data.f", None);
                apply(&mut target, &m, &service(json!({"x": value}))).unwrap();
                prop_assert_eq!(&target["data"]["f"], &value);
            }

            #[test]
            fn a_string_source_replaces_the_token_verbatim(text in any::<String>()) {
                let mut target = config_map(json!({"f": "<${v}>"}));
                let m = mutation("$.spec.x", "$.data.f", Some("${v}"));
                apply(&mut target, &m, &service(json!({"x": text}))).unwrap();
                let expected = format!("<{text}>");
                prop_assert_eq!(target["data"]["f"].as_str(), Some(expected.as_str()));
            }

            #[test]
            fn apply_all_never_panics_on_arbitrary_sources(
                source in json_value(),
                mut target in json_value(),
                ms in prop::collection::vec(any_mutation(), 0..4),
            ) {
                let _ = apply_all(&mut target, &ms, |_| Some(&source));
            }
        }
    }
}
