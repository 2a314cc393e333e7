//! Batched status polling against real controllers.

use std::path::PathBuf;
use std::time::Duration;

use kapply::cluster::{ApplyOptions, Cluster};
use kapply::kstatus::Status;
use kapply::manifest::{self, Input, LoadOptions};
use kapply::wait::{self, Until};

use crate::support::{TestNamespace, client};

#[tokio::test]
async fn a_deployment_is_waited_on_until_current_with_one_list_per_kind_and_namespace() {
    let cluster = Cluster::from_client(client().await, "default".into()).await.unwrap();
    let ns = TestNamespace::new(cluster.client(), "status-wait").await;
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  \
                selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
                spec: {containers: [{name: c, image: registry.invalid/web:1}]}\n---\n\
                apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
                apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
    let opts = LoadOptions { default_namespace: Some(ns.name.clone()), ..LoadOptions::default() };
    let objects = manifest::load(
        &[Input::Text { name: PathBuf::from("w.yaml"), text: yaml.into() }],
        &opts,
        &cluster.discovered().await,
    )
    .unwrap();
    let apply = ApplyOptions { field_manager: "kapply".into(), force_conflicts: false, dry_run: false };
    for obj in &objects {
        cluster.apply(obj, &obj.body, None, &apply).await.unwrap();
    }
    let refs: Vec<_> = objects.iter().map(|o| o.obj_ref.clone()).collect();

    let first = wait::poll(&cluster, &refs).await;
    assert_eq!(first.lists, 2, "one LIST for the ConfigMaps, one for the Deployment");
    assert_eq!(first.observed.len(), 3);

    // The poll right after applying counts too: a fast rollout may be Current by the time `wait` starts.
    let mut seen: Vec<_> = first.observed.iter().map(|(r, o)| (r.clone(), o.status.status)).collect();
    // The engine's waiter in poll mode: one LIST per batch per period. A timeout bounds the wait.
    let last = kapply::Observer::new(&cluster)
        .until(Until::Current)
        .wait_mode(wait::WaitMode::Poll)
        .poll_period(Duration::from_millis(500))
        .timeout(Duration::from_secs(90))
        .run(&refs, tokio_util::sync::CancellationToken::new(), |r, s| seen.push((r.clone(), s.status)))
        .await;
    for (r, status) in &last.statuses {
        assert_eq!(status.status, Status::Current, "{r}: {}", status.message);
    }
    let deployment = &refs[0];
    assert!(
        seen.iter().any(|(r, s)| r == deployment && *s == Status::InProgress),
        "the rollout was observed in progress first: {seen:?}"
    );
}

#[tokio::test]
async fn objects_that_do_not_exist_are_not_found() {
    let cluster = Cluster::from_client(client().await, "default".into()).await.unwrap();
    let ns = TestNamespace::new(cluster.client(), "status-missing").await;
    let missing = kapply::ObjRef::new("", "ConfigMap", Some(&ns.name), "nope");
    let poll = wait::poll(&cluster, std::slice::from_ref(&missing)).await;
    assert_eq!(poll.observed[&missing].status.status, Status::NotFound);
}
