//! Tests of manifest loading as a whole: inline YAML for one behaviour each, fixtures under
//! `tests/fixtures/manifest/` for directories and multiple files.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::object::{GroupKind, ObjRef};

fn opts() -> LoadOptions {
    LoadOptions { default_namespace: Some("default".into()), ..LoadOptions::default() }
}

fn load_yaml(yaml: &str) -> Result<Vec<Object>> {
    load(&[Input::text("m.yaml", yaml)], &opts(), &BuiltinScopes)
}

fn objects(yaml: &str) -> Vec<Object> {
    load_yaml(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(yaml: &str) -> Vec<ManifestError> {
    match load_yaml(yaml) {
        Ok(objects) => panic!("expected errors, loaded {} objects", objects.len()),
        Err(e) => e.into_vec(),
    }
}

/// The one error of `yaml`, displayed.
fn error(yaml: &str) -> String {
    let errors = errors(yaml);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].to_string()
}

fn refs(objects: &[Object]) -> Vec<String> {
    objects.iter().map(|o| o.obj_ref.to_string()).collect()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest")
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

// --- values -------------------------------------------------------------------------------------------

#[test]
fn a_file_mode_written_in_octal_reaches_the_object_as_decimal() {
    let o = objects(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  volumes:\n  - name: s\n    secret:\n      \
         secretName: s\n      defaultMode: 0644\n",
    );
    assert_eq!(o[0].body["spec"]["volumes"][0]["secret"]["defaultMode"], json!(420));
}

#[test]
fn unquoted_yes_in_a_label_is_a_boolean_and_is_reported_with_a_hint() {
    let shown =
        error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    enabled: yes\n");
    assert!(
        shown.starts_with("m.yaml:6 (document 1): metadata.labels.enabled must be a string, found a boolean")
    );
    assert!(shown.contains("quote the value"), "{shown}");
}

#[test]
fn unquoted_on_in_data_is_a_boolean_and_quoted_on_a_string() {
    let o = objects(&format!("{CM}data:\n  a: on\n  b: 'on'\n"));
    assert_eq!(o[0].body["data"], json!({"a": true, "b": "on"}));
}

// --- documents ----------------------------------------------------------------------------------------

#[test]
fn empty_documents_are_skipped_and_documents_keep_the_users_numbers() {
    let yaml = format!("---\n# nothing here\n---\n{CM}---\n---\n{}", CM.replace("cm", "cm2"));
    let o = objects(&yaml);
    assert_eq!(refs(&o), ["ConfigMap/default/cm", "ConfigMap/default/cm2"]);
    assert_eq!((o[0].source.document, o[0].source.line), (2, Some(4)));
    assert_eq!((o[1].source.document, o[1].source.line), (4, Some(10)));
}

#[test]
fn objects_come_back_in_input_order() {
    let yaml = format!("{}---\n{CM}---\n{}", CM.replace("cm", "z"), CM.replace("cm", "a"));
    assert_eq!(refs(&objects(&yaml)), ["ConfigMap/default/z", "ConfigMap/default/cm", "ConfigMap/default/a"]);
}

#[test]
fn list_items_are_flattened_keeping_their_document_number_and_own_line() {
    let yaml = format!(
        "{CM}---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
         name: a\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n"
    );
    let o = objects(&yaml);
    assert_eq!(refs(&o), ["ConfigMap/default/cm", "ConfigMap/default/a", "Secret/default/b"]);
    assert_eq!((o[1].source.document, o[1].source.line), (2, Some(9)));
    assert_eq!((o[2].source.document, o[2].source.line), (2, Some(13)));
}

#[test]
fn items_of_a_typed_list_get_kind_and_api_version_from_the_list() {
    let o = objects("apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata:\n    name: a\n");
    assert_eq!(o[0].obj_ref, ObjRef::new("", "ConfigMap", Some("default"), "a"));
    assert_eq!(o[0].api_version, "v1");
}

#[test]
fn a_bad_list_item_is_reported_as_items_i() {
    let shown = error(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- 42\n",
    );
    assert_eq!(
        shown,
        format!("m.yaml:8 (document 1, items[1]): {}", ErrorKind::NotAMapping { found: "a number" })
    );
}

#[test]
fn a_list_whose_items_is_not_a_sequence_is_an_error() {
    let shown = error("apiVersion: v1\nkind: List\nitems: {a: 1}\n");
    assert_eq!(shown, "m.yaml:3 (document 1): items of a List must be a sequence, found a mapping");
}

#[test]
fn a_kind_ending_in_list_without_items_is_an_ordinary_object() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: \
               allowlists.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: \
               AllowList\n---\napiVersion: example.com/v1\nkind: AllowList\nmetadata:\n  name: a\n";
    assert_eq!(refs(&objects(crd))[1], "AllowList.example.com/default/a");
}

#[test]
fn local_config_objects_are_left_out_even_when_otherwise_invalid() {
    let yaml = format!(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    \
         config.kubernetes.io/local-config: \"true\"\n---\nkind: FunctionConfig\nmetadata:\n  annotations:\n    \
         config.kubernetes.io/local-config: \"true\"\n---\n{CM}"
    );
    assert_eq!(refs(&objects(&yaml)), ["ConfigMap/default/cm"]);
}

#[test]
fn local_config_false_is_applied() {
    let yaml = format!("{CM}  annotations:\n    config.kubernetes.io/local-config: \"false\"\n");
    assert_eq!(objects(&yaml).len(), 1);
}

#[test]
fn the_inventory_template_is_not_local_config() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inventory-12345678\n  labels:\n    \
                cli-utils.sigs.k8s.io/inventory-id: abc\n";
    assert_eq!(refs(&objects(yaml)), ["ConfigMap/default/inventory-12345678"]);
}

// --- inputs -------------------------------------------------------------------------------------------

#[test]
fn a_directory_is_read_top_level_only_unless_recursive() {
    let dir = fixtures().join("dir");
    let flat = load(&[Input::Path(dir.clone())], &opts(), &BuiltinScopes).unwrap();
    assert_eq!(
        refs(&flat),
        ["Namespace/shop", "ConfigMap/shop/web-config", "Deployment.apps/shop/web", "Service/shop/web"]
    );
    let deep = load(&[Input::Path(dir)], &LoadOptions { recursive: true, ..opts() }, &BuiltinScopes).unwrap();
    assert_eq!(refs(&deep).last().unwrap(), "ConfigMap/default/extra");
    assert_eq!(deep.len(), 5);
}

#[test]
fn objects_read_from_a_directory_name_their_file() {
    let o = load(&[Input::Path(fixtures().join("dir"))], &opts(), &BuiltinScopes).unwrap();
    assert_eq!(o[2].source.file, fixtures().join("dir/20-app.yml"));
    assert_eq!((o[2].source.document, o[2].source.line), (2, Some(10)));
    let volume = &o[2].body["spec"]["template"]["spec"]["volumes"][0];
    assert_eq!(volume["configMap"]["defaultMode"], json!(420));
}

#[test]
fn a_json_file_is_read() {
    let o = load(&[Input::Path(fixtures().join("dir/30-service.json"))], &opts(), &BuiltinScopes).unwrap();
    assert_eq!(refs(&o), ["Service/shop/web"]);
    assert_eq!(o[0].body["spec"]["ports"][0]["port"], json!(80));
}

#[test]
fn stdin_is_read_and_shown_as_stdin() {
    let json = r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, {"kind": "ConfigMap"}]}"#;
    let err = load(&[Input::Stdin(json.into())], &opts(), &BuiltinScopes).unwrap_err();
    assert_eq!(err.errors()[0].location.file, PathBuf::from("-"));
    let shown = err.to_string();
    assert!(
        shown.starts_with("<stdin>:1 (document 1, items[1]): missing apiVersion, metadata.name"),
        "{shown}"
    );
    let ok = load(&[Input::Stdin(CM.into())], &opts(), &BuiltinScopes).unwrap();
    assert_eq!(ok[0].source.file, PathBuf::from("-"));
}

#[test]
fn parse_str_then_validate_is_what_load_does() {
    let docs = parse_str(Path::new("m.yaml"), CM).unwrap();
    assert_eq!(docs[0].value["metadata"].get("namespace"), None);
    let o = validate(docs, &opts(), &BuiltinScopes).unwrap();
    assert_eq!(o[0].body["metadata"]["namespace"], json!("default"));
}

#[test]
fn read_values_flattens_lists_without_validating_identity() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  status: {phase: Running}\n- kind: Foo\n";
    let values = read_values(&[Input::text("get.yaml", text)], false).unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].1["status"]["phase"], json!("Running"));
    assert_eq!(values[1].0.line, Some(6));
}

#[test]
fn read_values_rejects_documents_that_are_not_mappings() {
    let err = read_values(&[Input::text("get.yaml", "- a\n")], false).unwrap_err();
    assert!(err.to_string().contains("document is a sequence, not a mapping"), "{err}");
}

// --- validation: one error each, located ----------------------------------------------------------------

#[test]
fn a_document_that_is_not_a_mapping_is_an_error() {
    let shown = error(&format!("{CM}---\n\n- a\n- b\n"));
    assert!(shown.starts_with("m.yaml:7 (document 2): document is a sequence, not a mapping"), "{shown}");
}

#[test]
fn metadata_that_is_not_a_mapping_is_an_error_at_its_line() {
    let shown = error("apiVersion: v1\nkind: ConfigMap\nmetadata: cm\n");
    assert_eq!(shown, "m.yaml:3 (document 1): metadata must be a mapping, found a string");
}

#[test]
fn missing_api_version_is_an_error_at_the_document_start() {
    let shown = error("# comment\n\nkind: ConfigMap\nmetadata:\n  name: cm\n");
    assert!(shown.starts_with("m.yaml:3 (document 1): missing apiVersion: every object needs"), "{shown}");
}

#[test]
fn missing_kind_is_an_error() {
    let shown = error("apiVersion: v1\nmetadata:\n  name: cm\n");
    assert!(shown.starts_with("m.yaml:1 (document 1): missing kind:"), "{shown}");
}

#[test]
fn missing_name_is_an_error_at_the_metadata_line() {
    let shown = error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n");
    assert!(shown.starts_with("m.yaml:3 (document 1): missing metadata.name:"), "{shown}");
}

#[test]
fn missing_fields_of_one_object_are_reported_once() {
    let shown = error("foo: bar\n");
    assert!(shown.starts_with("m.yaml:1 (document 1): missing apiVersion, kind, metadata.name:"), "{shown}");
}

#[test]
fn generate_name_is_refused_with_a_hint() {
    let shown = error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: cm-\n");
    assert!(shown.starts_with("m.yaml:4 (document 1): metadata.generateName cannot be applied idempotently"));
    assert!(shown.contains("give the object a metadata.name"), "{shown}");
}

#[test]
fn generate_name_beside_a_name_is_accepted() {
    assert_eq!(objects(&format!("{CM}  generateName: x-\n")).len(), 1);
}

#[test]
fn a_name_that_is_not_a_string_is_an_error() {
    let shown = error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 12\n");
    assert!(shown.starts_with("m.yaml:4 (document 1): metadata.name must be a string, found a number"));
}

#[test]
fn a_name_with_a_slash_is_an_error() {
    let shown = error("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a/b\n");
    assert!(shown.starts_with("m.yaml:4 (document 1): metadata.name \"a/b\" is not a valid name"), "{shown}");
}

#[test]
fn a_malformed_api_version_is_an_error() {
    let shown = error("apiVersion: apps/v1/x\nkind: Deployment\nmetadata:\n  name: d\n");
    assert!(shown.starts_with("m.yaml:1 (document 1): malformed apiVersion \"apps/v1/x\""), "{shown}");
}

#[test]
fn a_malformed_depends_on_annotation_is_an_error_naming_file_and_document() {
    let yaml = format!("{CM}---\n{CM}  annotations:\n    config.kubernetes.io/depends-on: a/b\n").replacen(
        "name: cm\n  annotations",
        "name: cm2\n  annotations",
        1,
    );
    let shown = error(&yaml);
    assert!(shown.starts_with("m.yaml:11 (document 2): invalid "), "{shown}");
    assert!(shown.contains("depends-on") && shown.contains("a/b"), "{shown}");
}

#[test]
fn a_malformed_apply_time_mutation_annotation_is_an_error_naming_file_and_document() {
    let yaml =
        format!("{CM}  annotations:\n    config.kubernetes.io/apply-time-mutation: \"not: [a list\"\n");
    let shown = error(&yaml);
    assert!(shown.starts_with("m.yaml:6 (document 1): "), "{shown}");
    assert!(shown.contains("apply-time-mutation"), "{shown}");
}

#[test]
fn a_cluster_scoped_kind_with_a_namespace_is_an_error_at_the_namespace_line() {
    let shown = error(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: x\n",
    );
    assert_eq!(
        shown,
        "m.yaml:5 (document 1): ClusterRole.rbac.authorization.k8s.io is cluster-scoped but has \
         metadata.namespace \"x\": remove the namespace"
    );
}

#[test]
fn a_namespaced_object_without_any_namespace_is_an_error() {
    let no_default = LoadOptions::default();
    let err = load(&[Input::text("m.yaml", CM)], &no_default, &BuiltinScopes).unwrap_err();
    let shown = err.errors()[0].to_string();
    assert!(
        shown.starts_with("m.yaml:1 (document 1): cannot determine the namespace of ConfigMap/cm"),
        "{shown}"
    );
}

#[test]
fn an_unknown_kind_is_an_error_at_the_kind_line() {
    let shown = error("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n");
    assert_eq!(
        shown,
        "m.yaml:2 (document 1): unknown kind Widget (apiVersion example.com/v1): not served by the cluster \
         and no CustomResourceDefinition in the set defines it"
    );
}

#[test]
fn an_unknown_kind_can_be_assumed_namespaced_for_offline_use() {
    let lenient = LoadOptions { unknown_kinds: UnknownKinds::AssumeNamespaced, ..opts() };
    let yaml = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    let o = load(&[Input::text("m.yaml", yaml)], &lenient, &BuiltinScopes).unwrap();
    assert_eq!(o[0].obj_ref, ObjRef::new("example.com", "Widget", Some("default"), "w"));
}

#[test]
fn a_non_string_annotation_is_an_error_at_its_line() {
    let shown = error(&format!("{CM}  annotations:\n    replicas: 3\n"));
    assert!(
        shown.starts_with("m.yaml:6 (document 1): metadata.annotations.replicas must be a string"),
        "{shown}"
    );
}

#[test]
fn every_problem_is_reported_together_in_input_order() {
    let yaml = format!("kind: X\n---\n{CM}---\nbad: [\n---\napiVersion: v1\nkind: Secret\nmetadata: {{}}\n");
    let errors = errors(&yaml);
    let documents: Vec<_> = errors.iter().map(|e| e.location.document).collect();
    assert_eq!(documents, [Some(1), Some(3), Some(4)]);
    let shown = ManifestErrors::new(errors).to_string();
    assert!(shown.ends_with("\n3 errors in the manifests"), "{shown}");
}

// --- identity -----------------------------------------------------------------------------------------

#[test]
fn the_default_namespace_is_filled_into_namespaced_objects_only() {
    let yaml = format!("{CM}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n");
    let o = objects(&yaml);
    assert_eq!(o[0].body["metadata"]["namespace"], json!("default"));
    assert_eq!(o[0].obj_ref.namespace.as_deref(), Some("default"));
    assert_eq!(o[1].body["metadata"].get("namespace"), None);
    assert_eq!(o[1].obj_ref.namespace, None);
}

#[test]
fn an_explicit_namespace_wins_over_the_default() {
    let o = objects(&format!("{CM}  namespace: prod\n"));
    assert_eq!(o[0].obj_ref.to_string(), "ConfigMap/prod/cm");
}

#[test]
fn the_same_object_twice_is_an_error_naming_both_places() {
    let yaml = format!("{CM}---\n{CM}  namespace: default\n");
    let shown = error(&yaml);
    assert_eq!(
        shown,
        "m.yaml:6 (document 2): ConfigMap/default/cm is defined more than once: first at m.yaml:1 (document 1)"
    );
}

#[test]
fn the_same_object_in_two_files_names_both_files() {
    let dir = fixtures().join("dup");
    let inputs = [Input::Path(dir.join("one.yaml")), Input::Path(dir.join("two.yaml"))];
    let prod = LoadOptions { default_namespace: Some("prod".into()), ..opts() };
    let err = load(&inputs, &prod, &BuiltinScopes).unwrap_err();
    assert_eq!(err.len(), 1);
    let shown = err.errors()[0].to_string();
    let (one, two) = (dir.join("one.yaml"), dir.join("two.yaml"));
    let expected = format!(
        "{}:7 (document 2): ConfigMap/prod/settings is defined more than once: first at {}:1 (document 1)",
        two.display(),
        one.display()
    );
    assert_eq!(shown, expected);
}

#[test]
fn a_crd_in_the_set_makes_its_kind_known_with_its_scope() {
    let yaml = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\napiVersion: \
                apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n\
                spec:\n  group: example.com\n  scope: Cluster\n  names:\n    kind: Widget\n    plural: widgets\n";
    let o = objects(yaml);
    assert_eq!(o[0].obj_ref, ObjRef::new("example.com", "Widget", None, "w"));
    assert_eq!(o[1].obj_ref.group_kind(), GroupKind::new("apiextensions.k8s.io", "CustomResourceDefinition"));
}

// --- secrets ------------------------------------------------------------------------------------------

#[test]
fn secret_values_never_appear_in_error_text() {
    let head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n";
    let broken = [
        format!("{head}stringData:\n  password: @hunter2\n"),
        format!("{head}stringData:\n  password: \"hunter2\n"),
        format!("{head}stringData:\n  password: \"hunter2\\q\"\n"),
        format!("{head}stringData:\n  password: hunter2: x\n"),
        format!("{head}stringData:\n  hunter2: a\n  hunter2: b\n"),
        format!("{head}stringData:\n  password: [hunter2\n"),
        format!("{head}data:\n  password: !!binary hunter2!\n"),
        format!("{head}data:\n password: hunter2\n  x: y\n"),
        "{\"kind\": \"Secret\", \"data\": {\"hunter2\": \"a\", \"hunter2\": \"b\"}}".to_owned(),
        "{\"kind\": \"Secret\", \"data\": {\"password\": \"hunter2\\x\"}}".to_owned(),
        "{\"kind\": \"Secret\", \"data\": {\"password\": hunter2}}".to_owned(),
        "apiVersion: v1\nkind: Secret\nmetadata: hunter2\ndata:\n  password: aHVudGVyMg==\n".to_owned(),
        "apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n".to_owned(),
    ];
    for text in &broken {
        for name in ["s.yaml", "s.json"] {
            let err = load(&[Input::text(name, text.as_str())], &opts(), &BuiltinScopes).unwrap_err();
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains("hunter2") && !shown.contains("aHVudGVyMg"), "leaked in: {shown}");
            }
        }
    }
}

// --- golden -------------------------------------------------------------------------------------------

#[test]
fn invalid_fixtures_report_every_problem_as_in_the_golden_file() {
    let dir = fixtures().join("invalid");
    let err = load(&[Input::Path(dir.clone())], &opts(), &BuiltinScopes).unwrap_err();
    let shown = err.to_string().replace(&format!("{}/", dir.display()), "");
    let golden = std::fs::read_to_string(dir.join("expected-errors.txt")).unwrap();
    assert_eq!(shown.trim_end(), golden.trim_end(), "\n--- got ---\n{shown}\n");
}

// --- robustness ---------------------------------------------------------------------------------------

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for text in ["[".repeat(100_000), "{\"a\":".repeat(100_000), "a:\n ".repeat(10_000)] {
        assert!(parse_str(Path::new("deep.yaml"), &text).is_err());
    }
}

/// Fragments that make arbitrary text look like manifests, to reach past the parser.
const TOKENS: &[&str] = &[
    "---\n",
    "...\n",
    "\n",
    "  ",
    "- ",
    ": ",
    "apiVersion: v1\n",
    "apiVersion: apps/v1\n",
    "kind: List\n",
    "kind: ConfigMap\n",
    "kind: ConfigMapList\n",
    "kind: Namespace\n",
    "kind: CustomResourceDefinition\n",
    "metadata:\n",
    "  name: a\n",
    "  namespace: b\n",
    "  generateName: c\n",
    "items:\n",
    "- kind: Secret\n",
    "  labels: {a: yes}\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "0644",
    "~",
    "!!binary ",
    "\t",
    "\r\n",
    "%YAML 1.1\n",
    "{\"kind\": \"List\", \"items\": [",
    "spec:\n  scope: Cluster\n",
];

fn never_panics(text: &str) {
    let _ = parse_str(Path::new("p.yaml"), text);
    let _ = load(&[Input::text("p.yaml", text)], &opts(), &BuiltinScopes);
    let lenient = LoadOptions { unknown_kinds: UnknownKinds::AssumeNamespaced, ..LoadOptions::default() };
    let _ = load(&[Input::text("p.json", text)], &lenient, &BuiltinScopes);
    let _ = read_values(&[Input::Stdin(text.to_owned())], false);
}

proptest! {
    #[test]
    fn loading_never_panics_on_arbitrary_text(text in any::<String>()) {
        never_panics(&text);
    }

    #[test]
    fn loading_never_panics_on_arbitrary_bytes_read_as_lossy_utf8(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn loading_never_panics_on_manifest_like_token_soup(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..48)) {
        never_panics(&tokens.concat());
    }
}
