use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn config_map(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "app", "namespace": "ns"}, "data": data})
}

fn secret(data: Value, string_data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"},
           "type": "Opaque", "data": data, "stringData": string_data})
}

#[test]
fn a_changed_field_shows_as_one_changed_line_with_context() {
    let live = config_map(json!({"a": "1x", "b": "old"}));
    let desired = config_map(json!({"a": "1x", "b": "new"}));
    let expected = "\
--- live/ConfigMap/ns/app
+++ desired/ConfigMap/ns/app
@@ -1,7 +1,7 @@
 apiVersion: v1
 data:
   a: 1x
-  b: old
+  b: new
 kind: ConfigMap
 metadata:
   name: app
";
    assert_eq!(diff_objects("ConfigMap/ns/app", Some(&live), Some(&desired)).unwrap(), expected);
}

#[test]
fn server_bookkeeping_alone_makes_no_diff() {
    let mut live = config_map(json!({"a": "b"}));
    live["metadata"]["resourceVersion"] = json!("1");
    live["metadata"]["managedFields"] = json!([{"manager": "kubectl"}]);
    live["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"});
    let mut desired = config_map(json!({"a": "b"}));
    desired["metadata"]["resourceVersion"] = json!("2");
    desired["metadata"]["managedFields"] = json!([{"manager": "kapply"}]);
    desired["status"] = json!({"observedGeneration": 2});
    assert_eq!(diff_objects("ConfigMap/ns/app", Some(&live), Some(&desired)), None);
}

#[test]
fn an_object_to_be_created_shows_in_full_as_added_lines() {
    let desired = config_map(json!({"a": "b"}));
    let expected = "\
--- live/ConfigMap/ns/app
+++ desired/ConfigMap/ns/app
@@ -0,0 +1,7 @@
+apiVersion: v1
+data:
+  a: b
+kind: ConfigMap
+metadata:
+  name: app
+  namespace: ns
";
    assert_eq!(diff_objects("ConfigMap/ns/app", None, Some(&desired)).unwrap(), expected);
}

#[test]
fn an_object_to_be_deleted_shows_in_full_as_removed_lines() {
    let live = config_map(json!({"a": "b"}));
    let d = diff_objects("ConfigMap/ns/app", Some(&live), None).unwrap();
    assert!(d.contains("@@ -1,7 +0,0 @@\n-apiVersion: v1\n"), "{d}");
}

#[test]
fn no_object_on_either_side_makes_no_diff() {
    assert_eq!(diff_objects("ConfigMap/ns/app", None, None), None);
}

const SECRETS: [&str; 8] = [
    "c2FtZS12YWx1ZQ==",
    "b2xkLXZhbHVl",
    "bmV3LXZhbHVl",
    "Z29uZS12YWx1ZQ==",
    "YWRkZWQtdmFsdWU=",
    "plain-text-password",
    "another-clear-text",
    "only-in-desired-clear",
];

#[test]
fn a_secret_value_never_appears_in_the_diff() {
    let mut live = secret(
        json!({"same": SECRETS[0], "changed": SECRETS[1], "gone": SECRETS[3]}),
        json!({"pw": SECRETS[5]}),
    );
    live["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            format!("{{\"data\":{{\"changed\":\"{}\"}}}}", SECRETS[1])
    });
    let desired = secret(
        json!({"same": SECRETS[0], "changed": SECRETS[2], "added": SECRETS[4]}),
        json!({"pw": SECRETS[6], "extra": SECRETS[7]}),
    );
    let d = diff_objects("Secret/ns/s", Some(&live), Some(&desired)).unwrap();
    for value in SECRETS {
        assert!(!d.contains(value), "{value} leaked:\n{d}");
    }
    for line in
        ["-  changed: '*** (before)'", "+  changed: '*** (after)'", "-  gone: '***'", "+  added: '***'"]
    {
        let line = line.replace('\'', "\"");
        assert!(d.lines().any(|l| l == line), "missing {line}:\n{d}");
    }
    assert!(d.lines().any(|l| l == "   same: \"***\""), "an unchanged value shows as unchanged:\n{d}");
    assert!(d.lines().any(|l| l == "+  extra: \"***\""), "{d}");
}

#[test]
fn a_secret_created_or_deleted_shows_its_keys_but_not_its_values() {
    let s = secret(json!({"k": SECRETS[0]}), json!({"p": SECRETS[5]}));
    for (live, desired) in [(Some(&s), None), (None, Some(&s))] {
        let d = diff_objects("Secret/ns/s", live, desired).unwrap();
        assert!(!d.contains(SECRETS[0]) && !d.contains(SECRETS[5]), "{d}");
        assert!(d.contains("  k: \"***\"") && d.contains("  p: \"***\""), "{d}");
    }
}

#[test]
fn an_unchanged_secret_makes_no_diff() {
    let s = secret(json!({"k": SECRETS[0]}), Value::Null);
    assert_eq!(diff_objects("Secret/ns/s", Some(&s), Some(&s)), None);
}

/// Arbitrary JSON, with strings biased towards the characters and words YAML treats specially.
pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
    let tricky = prop_oneof![
        any::<String>(),
        "[ -~\n\t]{0,12}",
        "[-?:,#&*!|>'\"%@` \n.0-9a-z]{0,8}",
        "[-+.0-9a-fA-FxXoObB_:eEtTzZ ]{1,10}",
        prop::sample::select(vec![
            "true",
            "No",
            "null",
            "~",
            "0x1f",
            "1_000",
            "1:30",
            ".inf",
            "-.5",
            "1e5",
            "<<",
            "=",
            "a\n",
            "a\n\n",
            "a\n b",
            " ",
            "\u{85}",
            "Secret",
            "v1",
            "data",
            "stringData",
            "metadata",
        ])
        .prop_map(String::from),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        tricky.clone().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(tricky.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Secret values made of lines that cannot occur anywhere else in a rendered diff.
fn secret_values() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop::collection::vec("S3CR[A-Z0-9]{6}", 1..3).prop_map(|lines| lines.join("\n"));
    prop::collection::vec(("[a-z]{1,3}", value), 0..5)
}

fn secret_side(data: Vec<(String, String)>, string_data: Vec<(String, String)>) -> Value {
    let to_map = |entries: Vec<(String, String)>| {
        Value::Object(entries.into_iter().map(|(k, v)| (k, v.into())).collect())
    };
    secret(to_map(data), to_map(string_data))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn no_secret_value_survives_whatever_the_keys_on_each_side(
        live_data in secret_values(), live_string in secret_values(),
        desired_data in secret_values(), desired_string in secret_values(),
        shared in secret_values(), live_present: bool, desired_present: bool,
    ) {
        let values: Vec<String> = [&live_data, &live_string, &desired_data, &desired_string, &shared]
            .iter().flat_map(|entries| entries.iter().map(|(_, v)| v.clone())).collect();
        let live = secret_side([shared.clone(), live_data].concat(), [shared.clone(), live_string].concat());
        let desired = secret_side([shared.clone(), desired_data].concat(), [shared, desired_string].concat());
        let d = diff_objects(
            "Secret/ns/s",
            live_present.then_some(&live),
            desired_present.then_some(&desired),
        ).unwrap_or_default();
        for value in &values {
            for line in value.lines() {
                prop_assert!(!d.contains(line), "{} leaked:\n{}", line, d);
            }
        }
    }

    #[test]
    fn diff_objects_never_panics(
        live in proptest::option::of(arb_json()), desired in proptest::option::of(arb_json()),
    ) {
        let _ = diff_objects("X/ns/n", live.as_ref(), desired.as_ref());
    }

    #[test]
    fn diff_objects_never_panics_on_odd_secrets(
        data in arb_json(), string_data in arb_json(), other in arb_json(),
    ) {
        let live = secret(data, string_data);
        let d = diff_objects("Secret/ns/s", Some(&live), Some(&other));
        let _ = d.map(|d| colorize(&d));
    }
}
