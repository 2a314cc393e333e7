//! `preview`, `destroy`, apply-time mutation and immutable fields, end to end.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::apply::{CrdCleanup, Package, config_map, live_config_map, widget_crd};
use crate::support::{CreatedNamespace, TestNamespace, client, unique_name};

/// Name → resourceVersion of every ConfigMap in a namespace: what a write would change.
async fn config_maps(client: &Client, namespace: &str) -> BTreeMap<String, String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|cm| (cm.name_any(), cm.resource_version().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn preview_writes_nothing_yet_reports_what_apply_then_does() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "preview").await;
    let package = Package::new(&ns.name, "preview");
    package.write("a.yaml", &config_map("a", json!({})));
    package.write("old.yaml", &config_map("old", json!({})));
    // Enough objects of one kind for kapply to read them with one LIST (a snapshot of their
    // identities): a preview must still tell unchanged from configured.
    for name in ["same-1", "same-2", "same-3"] {
        package.write(&format!("{name}.yaml"), &config_map(name, json!({})));
    }
    assert_eq!(package.apply(&[]).code, 0);

    package.remove("old.yaml");
    package.write("a.yaml", &config_map("a", json!({})).replace("\"key\":\"a\"", "\"key\":\"changed\""));
    package.write("b.yaml", &config_map("b", json!({})));
    let before = config_maps(&client, &ns.name).await;
    let n = &ns.name;
    for mode in [&[][..], &["--server-side"][..]] {
        let preview = package.run("preview", mode);
        assert_eq!(preview.code, 0, "{mode:?}: {}", preview.output());
        let marker = if mode.is_empty() { "(preview)" } else { "(preview-server)" };
        for line in [
            format!("ConfigMap/{n}/a configured {marker}"),
            format!("ConfigMap/{n}/b created {marker}"),
            format!("ConfigMap/{n}/old pruned {marker}"),
            format!("ConfigMap/{n}/same-1 unchanged {marker}"),
            format!("ConfigMap/{n}/same-3 unchanged {marker}"),
        ] {
            assert!(preview.stdout.contains(&line), "{mode:?}: {line}\n{}", preview.stdout);
        }
        assert_eq!(config_maps(&client, n).await, before, "{mode:?}: the cluster is unchanged");
    }

    let applied = package.apply(&[]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    for line in [
        format!("ConfigMap/{n}/a configured"),
        format!("ConfigMap/{n}/b created"),
        format!("ConfigMap/{n}/old pruned"),
    ] {
        assert!(applied.stdout.contains(&line), "{line}\n{}", applied.stdout);
    }
}

#[tokio::test]
async fn a_server_side_preview_surfaces_a_validation_error_the_client_cannot_see() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "preview-invalid").await;
    let package = Package::new(&ns.name, "invalid");
    package.write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 70000}]\n",
    );
    let client_side = package.run("preview", &[]);
    assert_eq!(client_side.code, 0, "{}", client_side.output());
    let server_side = package.run("preview", &["--server-side"]);
    assert_eq!(server_side.code, 1, "{}", server_side.output());
    assert!(server_side.stdout.contains("spec.ports[0].port"), "names the field: {}", server_side.stdout);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns.name);
    assert!(services.get_opt("bad").await.unwrap().is_none());
    assert!(
        config_maps(&client, &ns.name).await.keys().all(|name| name == "kube-root-ca.crt"),
        "no inventory"
    );
}

#[tokio::test]
async fn destroy_deletes_custom_resources_before_their_crd_and_contents_before_their_namespace() {
    let client = client().await;
    let home = TestNamespace::new(&client, "destroy-home").await;
    let created = CreatedNamespace::new("destroy-app");
    let package = Package::new(&home.name, "destroy");
    let group = format!("{}.kapply.test", unique_name("d"));
    let _crd_cleanup = CrdCleanup(format!("widgets.{group}"));
    let app = &created.name;
    package.write("ns.yaml", &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {app}}}\n"));
    package.write("crd.yaml", &widget_crd(&group));
    package.write(
        "w.yaml",
        &format!("apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w, namespace: {app}}}\n"),
    );
    package.write(
        "cm.yaml",
        &config_map("settings", json!({}))
            .replace("\"name\":\"settings\"", &format!("\"name\":\"settings\",\"namespace\":\"{app}\"")),
    );
    let applied = package.apply(&[]);
    assert_eq!(applied.code, 0, "{}", applied.output());

    let destroyed = package.run("destroy", &["--output", "json"]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    let events = destroyed.json_lines();
    let position = |kind: &str, wanted: &str| {
        events
            .iter()
            .position(|e| e["kind"] == kind && e["type"] == wanted)
            .unwrap_or_else(|| panic!("no {wanted} event for {kind}: {}", destroyed.stdout))
    };
    // Each object is deleted (and seen gone) before what it depends on is deleted; deletions are
    // confirmed once the removal is done, against what exists then.
    assert!(position("Widget", "delete") < position("CustomResourceDefinition", "delete"));
    assert!(position("Widget", "delete") < position("Namespace", "delete"));
    assert!(position("ConfigMap", "delete") < position("Namespace", "delete"));
    assert!(position("Widget", "reconcile") > position("CustomResourceDefinition", "delete"));
    let last = events.iter().rev().find(|e| e["type"] == "inventory").unwrap();
    assert_eq!(last["action"], "deleted", "{last}");

    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt(app).await.unwrap().is_none(), "the namespace is gone");
    let inventory: Api<ConfigMap> = Api::namespaced(client.clone(), &home.name);
    assert!(
        inventory.get_opt(&format!("inventory-{}", package.id)).await.unwrap().is_none(),
        "the inventory is gone"
    );

    let again = package.run("destroy", &[]);
    assert_eq!(again.code, 0, "running destroy twice is fine: {}", again.output());
}

#[tokio::test]
async fn a_mutation_copies_a_service_cluster_ip_into_a_config_map_whole_and_as_a_token() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "mutation").await;
    let package = Package::new(&ns.name, "mutation");
    package.write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  ports: [{port: 5432}]\n",
    );
    let mutation = "- sourceRef: {apiVersion: v1, kind: Service, name: db}\n  sourcePath: $.spec.clusterIP\n  targetPath: $.data.ip\n\
                    - sourceRef: {apiVersion: v1, kind: Service, name: db}\n  sourcePath: $.spec.clusterIP\n  targetPath: $.data.url\n  \
                    token: ${db-ip}\n";
    let target = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "client", "annotations": {"config.kubernetes.io/apply-time-mutation": mutation}},
        "data": {"ip": "filled-in-later", "url": "postgres://${db-ip}:5432/app"},
    });
    package.write("client.yaml", &target.to_string());
    let run = package.apply(&[]);
    assert_eq!(run.code, 0, "{}", run.output());
    let services: Api<Service> = Api::namespaced(client.clone(), &ns.name);
    let ip = services.get("db").await.unwrap().spec.unwrap().cluster_ip.unwrap();
    let data = live_config_map(&client, &ns.name, "client").await.unwrap().data.unwrap();
    assert_eq!(data["ip"], ip);
    assert_eq!(data["url"], format!("postgres://{ip}:5432/app"));
}

fn job(image: &str) -> String {
    serde_json::to_string(&json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "m", "image": image}]}}},
    }))
    .unwrap()
}

#[tokio::test]
async fn an_immutable_job_template_fails_naming_the_field_and_recreate_on_immutable_replaces_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "immutable").await;
    let package = Package::new(&ns.name, "immutable");
    package.write("job.yaml", &job("registry.k8s.io/pause:3.10"));
    let first = package.apply(&["--no-wait"]);
    assert_eq!(first.code, 0, "{}", first.output());
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns.name);
    let old_uid = jobs.get("migrate").await.unwrap().uid().unwrap();

    package.write("job.yaml", &job("registry.k8s.io/pause:3.9"));
    let refused = package.apply(&["--no-wait"]);
    assert_eq!(refused.code, 1, "{}", refused.output());
    assert!(refused.stdout.contains("spec.template"), "names the field: {}", refused.stdout);
    assert!(refused.stdout.contains("immutable"), "{}", refused.stdout);

    let recreated = package.apply(&["--no-wait", "--recreate-on-immutable"]);
    assert_eq!(recreated.code, 0, "{}", recreated.output());
    assert!(recreated.stdout.contains("re-created"), "{}", recreated.stdout);
    let job = jobs.get("migrate").await.unwrap();
    assert_ne!(job.uid().unwrap(), old_uid, "a new Job");
    let image = job.spec.unwrap().template.spec.unwrap().containers[0].image.clone();
    assert_eq!(image.as_deref(), Some("registry.k8s.io/pause:3.9"));
}

#[tokio::test]
async fn status_polls_until_a_slow_deployment_is_current_and_lists_inventories() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "status-live").await;
    let package = Package::new(&ns.name, "status");
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "slow"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "slow"}},
                 "template": {"metadata": {"labels": {"app": "slow"}},
                              "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}},
    });
    package.write("slow.yaml", &deployment.to_string());
    package.write("a.yaml", &config_map("a", json!({})));
    let applied = package.apply(&["--no-wait"]);
    assert_eq!(applied.code, 0, "{}", applied.output());

    let dir = package.path().to_str().unwrap().to_owned();
    let status = crate::support::kapply(&["status", &dir, "--poll-until", "current", "--timeout", "2m"]);
    assert_eq!(status.code, 0, "{}", status.output());
    let n = &ns.name;
    let last_line = |obj: &str| status.stdout.lines().rev().find(|l| l.starts_with(obj)).map(str::to_owned);
    assert_eq!(
        last_line(&format!("Deployment.apps/{n}/slow:")).as_deref(),
        Some(format!("Deployment.apps/{n}/slow: Current Deployment is available. Replicas: 2").as_str()),
        "{}",
        status.stdout
    );
    let live = Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), n)
        .get("slow")
        .await
        .unwrap();
    assert_eq!(live.status.and_then(|s| s.available_replicas), Some(2));

    let filtered = crate::support::kapply(&["status", &dir, "--statuses", "InProgress", "-o", "json"]);
    assert_eq!(filtered.code, 0, "{}", filtered.output());
    assert!(filtered.stdout.is_empty(), "nothing is in progress any more: {}", filtered.stdout);

    let inventories = crate::support::kapply(&["status", "--all-inventories", "-o", "json"]);
    assert_eq!(inventories.code, 0, "{}", inventories.output());
    let ours = inventories
        .json_lines()
        .into_iter()
        .find(|line| line["id"] == package.id.as_str())
        .unwrap_or_else(|| panic!("our inventory is listed: {}", inventories.stdout));
    assert_eq!(ours["objects"], 2);
    assert_eq!(ours["namespace"], n.as_str());
}

#[tokio::test]
async fn diff_masks_secret_values_exits_1_on_a_change_and_0_after_apply() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "diff").await;
    let package = Package::new(&ns.name, "diff");
    let secret = |value: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
               "stringData": {"password": value}})
        .to_string()
    };
    package.write("secret.yaml", &secret("first-hunter2"));
    package.write("a.yaml", &config_map("a", json!({})));
    assert_eq!(package.apply(&[]).code, 0);

    let dir = package.path().to_str().unwrap().to_owned();
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", dir.as_str(), "-n", ns.name.as_str()];
        args.extend_from_slice(extra);
        crate::support::kapply(&args)
    };
    let unchanged = diff(&[]);
    assert_eq!(unchanged.code, 0, "{}", unchanged.output());
    assert!(unchanged.stdout.is_empty(), "{}", unchanged.stdout);

    package.write("secret.yaml", &secret("second-hunter2"));
    package.write("a.yaml", &config_map("a", json!({})).replace("\"key\":\"a\"", "\"key\":\"changed\""));
    let changed = diff(&["--color", "always"]);
    assert_eq!(changed.code, 1, "{}", changed.output());
    let all = changed.output();
    for secret_text in ["hunter2", "Zmlyc3Q", "c2Vjb25k"] {
        assert!(!all.contains(secret_text), "a Secret value leaked ({secret_text}): {all}");
    }
    assert!(all.contains("*** (before)") && all.contains("*** (after)"), "the change is visible: {all}");
    assert!(all.contains("\u{1b}["), "colour was asked for: {all}");
    let plain = diff(&[]);
    assert!(plain.stdout.contains("-  key: a\n+  key: changed\n"), "{}", plain.stdout);
    assert!(!plain.stdout.contains("\u{1b}["), "no colour when piped");

    assert_eq!(package.apply(&[]).code, 0);
    let after = diff(&[]);
    assert_eq!(after.code, 0, "{}", after.output());
}

#[tokio::test]
async fn a_mutation_source_that_never_becomes_current_skips_its_target_with_a_message() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "mutation-stuck").await;
    let package = Package::new(&ns.name, "mutation-stuck");
    package.write("source.yaml", &crate::apply::unschedulable_deployment("source", None));
    let mutation = "- sourceRef: {group: apps, kind: Deployment, name: source}\n  sourcePath: $.spec.replicas\n  \
                    targetPath: $.data.replicas\n";
    let target = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "target", "annotations": {"config.kubernetes.io/apply-time-mutation": mutation}},
        "data": {"replicas": "unknown"},
    });
    package.write("target.yaml", &target.to_string());
    let run = package.apply(&["--reconcile-timeout", "2s"]);
    assert_eq!(run.code, 3, "{}", run.output());
    let n = &ns.name;
    assert!(
        run.stdout.contains(&format!(
            "ConfigMap/{n}/target apply skipped: dependency Deployment.apps/{n}/source did not become Current in time"
        )),
        "{}",
        run.stdout
    );
    assert!(live_config_map(&client, n, "target").await.is_none());
}

/// Regression: destroy deleted the inventory's own Namespace, and with it an object marked keep.
#[tokio::test]
async fn destroy_never_deletes_a_namespace_that_holds_an_abandoned_object() {
    let client = client().await;
    let created = CreatedNamespace::new("destroy-keep");
    let package = Package::new(&created.name, "destroy-keep");
    let n = &created.name;
    package.write("ns.yaml", &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {n}}}\n"));
    package.write("kept.yaml", &config_map("kept", json!({"cli-utils.sigs.k8s.io/on-remove": "keep"})));
    package.write("gone.yaml", &config_map("gone", json!({})));
    assert_eq!(package.apply(&[]).code, 0);

    let destroyed = package.run("destroy", &[]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    assert!(destroyed.stdout.contains(&format!("ConfigMap/{n}/kept abandoned")), "{}", destroyed.stdout);
    assert!(destroyed.stdout.contains(&format!("Namespace/{n} delete skipped")), "{}", destroyed.stdout);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = namespaces.get(n).await.unwrap();
    assert!(namespace.metadata.deletion_timestamp.is_none(), "the namespace is not being deleted");
    assert!(live_config_map(&client, n, "kept").await.is_some(), "the kept object survives");
    assert!(live_config_map(&client, n, "gone").await.is_none());
    assert_eq!(
        package.inventory_keys(&client).await,
        [format!("_{n}__Namespace")].into_iter().collect(),
        "the inventory still lists the namespace it could not delete"
    );
}

#[tokio::test]
async fn destroying_an_inventory_that_does_not_exist_says_where_it_looked_and_exits_0() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "destroy-missing").await;
    let run = crate::support::kapply(&["destroy", "--inventory-id", "no-such-inventory", "-n", &ns.name]);
    assert_eq!(run.code, 0, "{}", run.output());
    let said = format!("no inventory \"no-such-inventory\" in namespace {}: nothing to destroy", ns.name);
    assert!(run.output().contains(&said), "{}", run.output());
}
