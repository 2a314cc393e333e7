//! API faults: kapply against the real apiserver through [`FaultProxy`], which answers chosen
//! requests with 429 + `Retry-After`, 500, 503, reset connections, delays and outages.
//!
//! Every test also asserts that each planned fault was really injected, so none can pass because a
//! rule never matched.

use std::time::Duration;

use hyper::Method;
use kube::Client;
use serde_json::json;

use crate::apply::{Package, config_map, live_config_map};
use crate::fault_proxy::{Fault, FaultProxy, Rule};
use crate::support::{TestNamespace, client};

/// A one-replica Deployment kwok runs, as manifest text.
fn deployment(name: &str) -> String {
    crate::proof::deployment(name, 1, json!({})).to_string()
}

async fn deployment_available(client: &Client, namespace: &str, name: &str) -> bool {
    let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(client.clone(), namespace);
    let deployment = api.get(name).await.expect("the deployment exists");
    deployment.status.and_then(|s| s.available_replicas).unwrap_or(0) >= 1
}

/// The path of a server-side apply of one ConfigMap of `namespace`.
fn configmap_path(namespace: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/configmaps/{name}?")
}

#[tokio::test]
async fn applies_and_waits_ride_out_429s_500s_503s_resets_and_delays() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "faults-transient").await;
    let package = Package::new(&ns.name, "faults-transient");
    for name in ["c0", "c1", "c2", "c3", "c4"] {
        package.write(&format!("{name}.yaml"), &config_map(name, json!({})));
    }
    package.write("web.yaml", &deployment("web"));
    let n = &ns.name;
    let patch = Some(Method::PATCH);
    let c = |name: &str| configmap_path(n, name);
    let proxy = FaultProxy::start(vec![
        Rule::new(patch.clone(), &[&c("c0")], Fault::TooManyRequests { retry_after_secs: 1 }, 1),
        Rule::new(patch.clone(), &[&c("c1")], Fault::Status(500), 2),
        Rule::new(patch.clone(), &[&c("c2")], Fault::Status(503), 1),
        Rule::new(patch.clone(), &[&c("c3")], Fault::Reset, 1),
        Rule::new(patch.clone(), &[&c("c4")], Fault::Delay(Duration::from_millis(800)), 1),
        // The inventory read and the Deployment's status watch fail once too.
        Rule::new(None, &[&format!("/api/v1/namespaces/{n}/configmaps"), "inventory-"], Fault::Reset, 1),
        Rule::new(Some(Method::GET), &[&format!("/namespaces/{n}/deployments"), "watch"], Fault::Reset, 1),
    ]);

    let run = package.run_via(proxy.kubeconfig(), "apply", &[]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(proxy.remaining(), vec![0; 7], "every planned fault was injected");
    for name in ["c0", "c1", "c2", "c3", "c4"] {
        assert!(live_config_map(&client, n, name).await.is_some(), "{name} applied\n{}", run.output());
        assert!(run.stdout.contains(&format!("ConfigMap/{n}/{name} created")), "{name}: {}", run.stdout);
    }
    assert!(deployment_available(&client, n, "web").await);
    assert!(run.stdout.contains(&format!("Deployment.apps/{n}/web reconciled")), "{}", run.stdout);
    assert_eq!(package.inventory_keys(&client).await.len(), 6);

    // Retry-After was honoured: the retry of c0 came no sooner than a second after its 429.
    let c0: Vec<_> = proxy
        .served()
        .into_iter()
        .filter(|s| s.method == Method::PATCH && s.path.starts_with(&c("c0")))
        .collect();
    assert!(c0.len() >= 2, "c0 was retried: {c0:?}");
    let waited = c0[1].at - c0[0].at;
    assert!(waited >= Duration::from_millis(950), "retried {waited:?} after a 429 asking for 1 s");
}

#[tokio::test]
async fn an_error_that_persists_fails_only_its_object_after_a_few_attempts_and_names_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "faults-persistent").await;
    let package = Package::new(&ns.name, "faults-persistent");
    package.write("good.yaml", &config_map("good", json!({})));
    package.write("bad.yaml", &config_map("bad", json!({})));
    let bad = configmap_path(&ns.name, "bad");
    let proxy = FaultProxy::start(vec![Rule::new(Some(Method::PATCH), &[&bad], Fault::Status(500), 100)]);

    let run = package.run_via(proxy.kubeconfig(), "apply", &[]);
    assert_eq!(run.code, 1, "an apply that failed exits 1: {}", run.output());
    // The server-side dry run before the inventory write meets the 500 first: not a validation
    // error, not retried, left to the apply.
    let attempts = proxy.injected(Fault::Status(500));
    let dry_runs = proxy
        .served()
        .into_iter()
        .filter(|s| s.path.starts_with(&bad) && s.path.contains("dryRun=All"))
        .count();
    assert_eq!(dry_runs, 1, "one dry run of the new object before the inventory write");
    assert_eq!(attempts - dry_runs, 3, "a 500 is retried twice, then reported");
    let output = run.output();
    assert!(output.contains(&format!("ConfigMap/{}/bad apply failed", ns.name)), "{output}");
    assert!(output.contains("injected by the fault proxy (500)"), "the server's message is shown: {output}");
    assert!(live_config_map(&client, &ns.name, "good").await.is_some(), "the other object is applied");
    assert!(live_config_map(&client, &ns.name, "bad").await.is_none());
    // Recorded anyway: a later attempt may have reached the server.
    assert_eq!(package.inventory_keys(&client).await.len(), 2, "{output}");
}

/// What a client sees while the apiserver restarts: open watches cut, connections refused. The
/// outage starts when kapply opens the watch it waits with, and lasts longer than the Deployment
/// takes to become Available, so the wait can only end by reconnecting.
async fn outage_mid_wait(wait_mode: &str, trigger: Rule) {
    let client = client().await;
    let ns = TestNamespace::new(&client, &format!("faults-outage-{wait_mode}")).await;
    let package = Package::new(&ns.name, "faults-outage");
    package.write("web.yaml", &deployment("web"));
    package.write(
        "after.yaml",
        &config_map(
            "after",
            json!({"config.kubernetes.io/depends-on": format!("apps/namespaces/{}/Deployment/web", ns.name)}),
        ),
    );
    let proxy = FaultProxy::start(vec![trigger]);

    let run = package.run_via(
        proxy.kubeconfig(),
        "apply",
        &["--wait-mode", wait_mode, "--reconcile-timeout", "90s"],
    );
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(proxy.remaining(), vec![0], "the outage happened");
    let served = proxy.served();
    let refused = served.iter().filter(|s| s.refused).count();
    let outage_end = served.iter().find(|s| matches!(s.fault, Some(Fault::Outage(_)))).unwrap().at
        + Duration::from_secs(6);
    assert!(
        served.iter().any(|s| s.at > outage_end && s.path.contains("deployments")),
        "the Deployment was read again after the outage; refused during it: {refused}"
    );
    assert!(run.stdout.contains(&format!("Deployment.apps/{}/web reconciled", ns.name)), "{}", run.stdout);
    assert!(live_config_map(&client, &ns.name, "after").await.is_some(), "what waited on it was applied");
}

#[tokio::test]
async fn an_apiserver_outage_in_the_middle_of_a_watch_wait_is_ridden_out() {
    let trigger = Rule::new(
        Some(Method::GET),
        &["/deployments?", "watch=true"],
        Fault::Outage(Duration::from_secs(6)),
        1,
    );
    outage_mid_wait("watch", trigger).await;
}

#[tokio::test]
async fn an_apiserver_outage_in_the_middle_of_a_polling_wait_is_ridden_out() {
    let trigger = Rule::new(Some(Method::GET), &["/deployments?"], Fault::Outage(Duration::from_secs(6)), 1);
    outage_mid_wait("poll", trigger).await;
}
