//! Regressions for the bugs published bundles found (kyverno, prometheus-operator, aggregated
//! ClusterRoles), each reduced to its smallest case on the real control plane.

use std::time::Duration;

use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::Api;
use serde_json::json;

use crate::apply::{CrdCleanup, Package};
use crate::proof::deployment;
use crate::support::{TestNamespace, client, unique_name};

/// A namespaced, schema-less CRD of `group` serving `kind` at `versions` only (the first stored).
fn crd(group: &str, kind: &str, plural: &str, versions: &[&str]) -> String {
    let versions: Vec<serde_json::Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({"name": v, "served": true, "storage": i == 0,
                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
        })
        .collect();
    serde_json::to_string(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind},
                 "versions": versions}
    }))
    .unwrap()
}

/// Kyverno's ClusterPolicy is `kyverno.io/v1` while the group prefers `v2`: a group whose kinds do
/// not share versions. Here `Gadget` is served at v2 (the group's preferred version) and `Widget` at
/// v1alpha1 only. Before the fix the re-apply failed after a 30 s discovery wait, an apply without the
/// CRD in the set said "unknown kind", and prune skipped the Widget as "kind no longer served".
#[tokio::test]
async fn a_kind_served_only_at_a_non_preferred_version_applies_re_applies_prunes_and_destroys() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "nonpreferred").await;
    let group = format!("{}.kapply.test", unique_name("np"));
    let _cleanup = (CrdCleanup(format!("gadgets.{group}")), CrdCleanup(format!("widgets.{group}")));
    let package = Package::new(&ns.name, "nonpreferred");
    package.write("gadget-crd.yaml", &crd(&group, "Gadget", "gadgets", &["v2"]));
    package.write("widget-crd.yaml", &crd(&group, "Widget", "widgets", &["v1alpha1"]));
    let widget =
        |name: &str| format!("apiVersion: {group}/v1alpha1\nkind: Widget\nmetadata: {{name: {name}}}\n");
    package.write("w1.yaml", &widget("w1"));
    package.write("w2.yaml", &widget("w2"));

    let first = package.apply(&[]);
    assert_eq!(first.code, 0, "first apply: {}", first.output());
    let again = package.apply(&[]);
    assert_eq!(again.code, 0, "re-apply: {}", again.output());
    for name in ["w1", "w2"] {
        let line = format!("Widget.{group}/{}/{name} unchanged", ns.name);
        assert!(again.stdout.contains(&line), "{line} in:\n{}", again.output());
    }
    assert!(!again.output().contains("not served"), "{}", again.output());

    // Another set using the kind, its CRD already installed and not in the set.
    let other = Package::new(&ns.name, "nonpreferred-user");
    other.write("w3.yaml", &widget("w3"));
    let user = other.apply(&[]);
    assert_eq!(user.code, 0, "a set without the CRD: {}", user.output());

    // Pruned, not skipped as a kind no longer served.
    package.remove("w2.yaml");
    let pruned = package.apply(&[]);
    assert_eq!(pruned.code, 0, "{}", pruned.output());
    let line = format!("Widget.{group}/{}/w2 pruned", ns.name);
    assert!(pruned.stdout.contains(&line), "{line} in:\n{}", pruned.output());

    let destroyed = other.run("destroy", &[]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    let destroyed = package.run("destroy", &[]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    assert!(
        destroyed.stdout.contains(&format!("Widget.{group}/{}/w1 deleted", ns.name)),
        "{}",
        destroyed.stdout
    );
}

/// Deleted after the roles it selects, an aggregated ClusterRole came back: the aggregation controller
/// server-side-applies its rules, which creates it when it is missing. kapply deletes it first now,
/// and confirms every deletion against what exists once the destroy is done.
#[tokio::test]
async fn destroy_deletes_an_aggregated_cluster_role_first_and_nothing_comes_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "aggregated").await;
    let prefix = unique_name("agg");
    let label = format!("kapply.test/aggregate-to-{prefix}");
    let package = Package::new(&ns.name, "aggregated");
    let aggregated = format!("{prefix}-admin");
    package.write(
        "admin.yaml",
        &serde_json::to_string(&json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": aggregated},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {&label: "true"}}]},
            "rules": []
        }))
        .unwrap(),
    );
    let sources: Vec<String> = (0..4).map(|i| format!("{prefix}-source-{i}")).collect();
    for source in &sources {
        package.write(
            &format!("{source}.yaml"),
            &serde_json::to_string(&json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": source, "labels": {&label: "true"}},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
            }))
            .unwrap(),
        );
    }
    let applied = package.apply(&[]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    let roles: Api<ClusterRole> = Api::all(client.clone());
    crate::support::eventually("the controller aggregates the rules", Duration::from_secs(30), || async {
        let role = roles.get(&aggregated).await.ok()?;
        role.rules.filter(|rules| !rules.is_empty()).map(|_| ())
    })
    .await;

    let destroyed = package.run("destroy", &["--output", "json"]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    let events = destroyed.json_lines();
    let deleted_at = |name: &str| {
        events
            .iter()
            .position(|e| e["type"] == "delete" && e["name"] == name)
            .unwrap_or_else(|| panic!("no delete event for {name}: {}", destroyed.stdout))
    };
    for source in &sources {
        assert!(deleted_at(&aggregated) < deleted_at(source), "aggregated role first: {}", destroyed.stdout);
    }
    // Give the aggregation controller time to act on the deletions, then look again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for name in std::iter::once(&aggregated).chain(&sources) {
        assert!(roles.get_opt(name).await.unwrap().is_none(), "ClusterRole {name} exists after destroy");
    }
}

/// Explicit empty or zero values the server drops (`labels: {}`, `minReadySeconds: 0`) made a
/// client-side preview say "configured" where `diff` and a server-side preview say unchanged.
#[tokio::test]
async fn a_preview_reports_unchanged_for_zero_values_the_server_drops() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "zero-values").await;
    let package = Package::new(&ns.name, "zero-values");
    let mut web = deployment("web", 1, json!({"minReadySeconds": 0, "paused": false}));
    web["metadata"]["labels"] = json!({});
    package.write("web.yaml", &serde_json::to_string(&web).unwrap());
    package.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, labels: {}, annotations: {}}\ndata: {}\n",
    );
    let applied = package.apply(&[]);
    assert_eq!(applied.code, 0, "{}", applied.output());

    for extra in [&[][..], &["--server-side"][..]] {
        let preview = package.run("preview", extra);
        assert_eq!(preview.code, 0, "{}", preview.output());
        let configured = preview.stdout.lines().any(|line| line.contains(" configured ("));
        assert!(!configured, "preview {extra:?}:\n{}", preview.stdout);
        for line in [
            format!("Deployment.apps/{}/web unchanged", ns.name),
            format!("ConfigMap/{}/settings unchanged", ns.name),
        ] {
            assert!(preview.stdout.contains(&line), "{line} in preview {extra:?}:\n{}", preview.stdout);
        }
    }
    let dir = package.path().to_str().unwrap().to_owned();
    let diff = crate::support::kapply(&["diff", &dir, "-n", &ns.name]);
    assert_eq!(diff.code, 0, "diff agrees: {}", diff.output());
}
