//! A kill (SIGKILL) at any moment loses nothing: every object kapply may have created is in the
//! inventory, nothing outside it is deleted, and the next run converges.
//!
//! The kill points are exact: kapply runs through [`FaultProxy`], which kills it when its N-th
//! request arrives (that request still reaches the apiserver, as one sent just before a crash does).

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::apply::{Package, config_map};
use crate::fault_proxy::FaultProxy;
use crate::support::{TestNamespace, client};

const OWNING_INVENTORY: &str = "config.k8s.io/owning-inventory";

/// Runs `kapply SUBCOMMAND DIR EXTRA…` through `proxy` and SIGKILLs it when its `requests`-th request
/// reaches the proxy. Panics if the run ended before that: the kill point would be wasted.
pub(crate) fn run_and_kill(
    package: &Package,
    subcommand: &str,
    extra: &[&str],
    proxy: &FaultProxy,
    requests: usize,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapply"))
        .env("KAPPLY_CHECK_EVENT_ORDER", "1")
        .args([subcommand, package.path().to_str().unwrap(), "-n", &package.namespace, "-o", "events"])
        .args(extra)
        .arg("--kubeconfig")
        .arg(proxy.kubeconfig())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    proxy.kill_after(requests, child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "{subcommand} ended ({status}) before its request {requests}");
}

/// Every object in the namespace that carries our owning-inventory annotation: what the inventory
/// must list.
pub(crate) async fn owned_objects(client: &Client, namespace: &str, id: &str) -> BTreeSet<String> {
    let mut owned = BTreeSet::new();
    let owned_by_us = |annotations: &std::collections::BTreeMap<String, String>| {
        annotations.get(OWNING_INVENTORY).map(String::as_str) == Some(id)
    };
    for cm in
        Api::<ConfigMap>::namespaced(client.clone(), namespace).list(&ListParams::default()).await.unwrap()
    {
        if owned_by_us(cm.annotations()) {
            owned.insert(format!("{namespace}_{}__ConfigMap", cm.name_any()));
        }
    }
    for d in
        Api::<Deployment>::namespaced(client.clone(), namespace).list(&ListParams::default()).await.unwrap()
    {
        if owned_by_us(d.annotations()) {
            owned.insert(format!("{namespace}_{}_apps_Deployment", d.name_any()));
        }
    }
    owned
}

async fn inventory_of(client: &Client, package: &Package) -> BTreeSet<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &package.namespace);
    match api.get_opt(&format!("inventory-{}", package.id)).await.unwrap() {
        Some(cm) => cm.data.unwrap_or_default().into_keys().collect(),
        None => BTreeSet::new(),
    }
}

/// Writes the set: `configmaps` ConfigMaps annotated with `round`, and the Deployment or not. A new
/// round changes every ConfigMap, so that a run has them all to apply: an unchanged object is not
/// sent at all, and a run with nothing to send would end before its kill point.
pub(crate) fn write_set(package: &Package, configmaps: usize, with_deployment: bool, round: &str) {
    for i in 0..40 {
        let file = format!("cm-{i}.yaml");
        if i < configmaps {
            package.write(&file, &config_map(&format!("cm-{i}"), json!({"test/round": round})));
        } else if package.path().join(&file).exists() {
            package.remove(&file);
        }
    }
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}},
    });
    if with_deployment {
        package.write("web.yaml", &deployment.to_string());
    } else if package.path().join("web.yaml").exists() {
        package.remove("web.yaml");
    }
}

#[tokio::test]
async fn a_kill_at_any_of_24_requests_orphans_nothing_deletes_nothing_else_and_the_next_run_converges() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "kills").await;
    let package = Package::new(&ns.name, "kills");
    // Not in any inventory: no run may delete it.
    let sentinel: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "sentinel"}})).unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .create(&PostParams::default(), &sentinel)
        .await
        .unwrap();

    // Every run of each phase makes more than 41 requests (one apply or delete per object at least:
    // each round changes every ConfigMap).
    let kill_points = [1, 3, 6, 10, 15, 21, 28, 37];
    let proxy = FaultProxy::start(Vec::new());
    let mut kills = 0;
    for (phase, subcommand, configmaps, deployment) in
        [("apply", "apply", 40, true), ("prune", "apply", 15, false), ("destroy", "destroy", 15, false)]
    {
        for requests in kill_points {
            // Start each kill from the phase's starting point: the full set applied (or for the first
            // phase, whatever the previous kill left).
            if phase != "apply" {
                write_set(&package, 40, true, &format!("{phase}-{requests}-setup"));
                assert_eq!(package.apply(&[]).code, 0, "setting up {phase}");
            }
            write_set(&package, configmaps, deployment, &format!("{phase}-{requests}"));
            run_and_kill(&package, subcommand, &[], &proxy, requests);
            kills += 1;
            let owned = owned_objects(&client, &ns.name, &package.id).await;
            let recorded = inventory_of(&client, &package).await;
            let orphans: Vec<&String> = owned.difference(&recorded).collect();
            assert!(
                orphans.is_empty(),
                "{phase} killed at request {requests}: objects not in the inventory: {orphans:?}"
            );
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
            assert!(
                api.get_opt("sentinel").await.unwrap().is_some(),
                "{phase} at request {requests}: sentinel deleted"
            );

            let converged = package.run(subcommand, &[]);
            assert_eq!(
                converged.code,
                0,
                "{phase} at request {requests}: the next run converges: {}",
                converged.output()
            );
            let owned = owned_objects(&client, &ns.name, &package.id).await;
            let expected: usize = if phase == "destroy" { 0 } else { configmaps + usize::from(deployment) };
            assert_eq!(owned.len(), expected, "{phase} at request {requests}: {owned:?}");
            assert_eq!(
                inventory_of(&client, &package).await.len(),
                expected,
                "{phase} at request {requests}"
            );
        }
    }
    assert!(kills >= 20);
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    assert!(api.get_opt("sentinel").await.unwrap().is_some(), "the sentinel survived everything");
}
