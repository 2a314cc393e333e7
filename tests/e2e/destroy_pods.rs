//! `destroy` deletes a Namespace only once the Pods of the Deployments it deleted there are gone
//! (src/engine/prune_phase/settle.rs), and does not wait for a Pod nobody is deleting.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams};
use serde_json::json;

use crate::apply::Package;
use crate::support::{CreatedNamespace, TestNamespace, client};

/// A Deployment of `replicas` Pods (kwok runs them) that terminate within 3 s of their deletion.
fn deployment(name: &str, namespace: &str, replicas: u32) -> String {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"terminationGracePeriodSeconds": 3,
                                       "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_deletes_a_namespace_only_once_its_deployments_pods_are_gone_and_ignores_a_bystander_pod() {
    let client = client().await;
    let home = TestNamespace::new(&client, "settle-home").await;
    let created = CreatedNamespace::new("settle-app");
    let app = created.name.clone();
    let package = Package::new(&home.name, "settle");
    package.write("ns.yaml", &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {app}}}\n"));
    package.write("web.yaml", &deployment("web", &app, 3));
    let applied = package.apply(&[]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    // A Pod nobody deletes (not in the inventory): the Namespace's deletion takes it, unwaited for.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &app);
    let bystander: Pod = serde_json::from_value(json!({
        "metadata": {"name": "bystander"},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}
    }))
    .unwrap();
    pods.create(&Default::default(), &bystander).await.unwrap();

    // Watch from the side: whenever the Namespace is seen terminating, which Pods does it still hold?
    let done = Arc::new(AtomicBool::new(false));
    let observer = tokio::spawn({
        let (client, app, done) = (client.clone(), app.clone(), done.clone());
        async move {
            let namespaces: Api<Namespace> = Api::all(client.clone());
            let pods: Api<Pod> = Api::namespaced(client, &app);
            let mut seen_terminating = false;
            let mut deployment_pods_then = BTreeSet::new();
            while !done.load(Ordering::SeqCst) {
                if let Ok(Some(ns)) = namespaces.get_opt(&app).await
                    && ns.metadata.deletion_timestamp.is_some()
                {
                    seen_terminating = true;
                    let left = pods.list(&ListParams::default().labels("app=web")).await.unwrap();
                    deployment_pods_then.extend(left.items.into_iter().filter_map(|p| p.metadata.name));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (seen_terminating, deployment_pods_then)
        }
    });
    let destroyed = package.run("destroy", &[]);
    done.store(true, Ordering::SeqCst);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    let (seen_terminating, deployment_pods_then) = observer.await.unwrap();
    assert!(seen_terminating, "the Namespace was never seen terminating: {}", destroyed.output());
    assert!(
        deployment_pods_then.is_empty(),
        "the Namespace was deleted while the Deployment's Pods {deployment_pods_then:?} still existed:\n{}",
        destroyed.output()
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt(&app).await.unwrap().is_none(), "the Namespace is gone");
}
