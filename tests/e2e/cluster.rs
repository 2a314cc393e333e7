//! The cluster module against the real API server: apply actions, conflicts, discovery refresh after a
//! CRD, batched list, and UID-preconditioned deletes.

use std::path::PathBuf;
use std::time::Duration;

use kapply::cluster::{ApplyAction, ApplyOptions, Cluster, ClusterError, DeleteResult};
use kapply::manifest::{self, Input, LoadOptions};
use kapply::object::{GroupKind, ObjRef, Object};
use kube::api::PropagationPolicy;

use crate::support::{TestNamespace, client, eventually, unique_name};

async fn cluster() -> Cluster {
    Cluster::from_client(client().await, "default".into()).await.expect("discovery")
}

async fn objects(cluster: &Cluster, ns: &str, yaml: &str) -> Vec<Object> {
    let opts = LoadOptions { default_namespace: Some(ns.into()), ..LoadOptions::default() };
    let input = Input::Text { name: PathBuf::from("test.yaml"), text: yaml.into() };
    manifest::load(&[input], &opts, &cluster.discovered().await).expect("valid manifests")
}

fn options(manager: &str) -> ApplyOptions {
    ApplyOptions { field_manager: manager.into(), force_conflicts: false, dry_run: false }
}

#[tokio::test]
async fn apply_reports_created_then_unchanged_then_configured() {
    let cluster = cluster().await;
    let ns = TestNamespace::new(cluster.client(), "cluster-apply").await;
    let v1 = &objects(
        &cluster,
        &ns.name,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n",
    )
    .await[0];
    let (action, live) = cluster.apply(v1, &v1.body, None, &options("kapply")).await.unwrap();
    assert_eq!(action, ApplyAction::Created);

    let before = cluster.get(&v1.obj_ref).await.unwrap().expect("exists");
    let (action, live2) = cluster.apply(v1, &v1.body, Some(&before), &options("kapply")).await.unwrap();
    assert_eq!(action, ApplyAction::Unchanged);
    assert_eq!(live["metadata"]["resourceVersion"], live2["metadata"]["resourceVersion"]);

    let v2 = &objects(
        &cluster,
        &ns.name,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '2'}\n",
    )
    .await[0];
    let (action, live3) = cluster.apply(v2, &v2.body, Some(&live2), &options("kapply")).await.unwrap();
    assert_eq!(action, ApplyAction::Configured);
    assert_eq!(live3["data"]["a"], "2");
}

#[tokio::test]
async fn a_field_manager_conflict_names_the_field_and_suggests_force() {
    let cluster = cluster().await;
    let ns = TestNamespace::new(cluster.client(), "cluster-conflict").await;
    let a =
        &objects(&cluster, &ns.name, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: a}\n")
            .await[0];
    let b =
        &objects(&cluster, &ns.name, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: b}\n")
            .await[0];
    cluster.apply(a, &a.body, None, &options("other-tool")).await.unwrap();
    let live = cluster.get(&a.obj_ref).await.unwrap();
    let err = cluster.apply(b, &b.body, live.as_ref(), &options("kapply")).await.unwrap_err();
    let ClusterError::Conflict { conflicts, .. } = &err else { panic!("expected a conflict, got {err}") };
    assert_eq!(conflicts[0].field, ".data.k");
    let text = err.to_string();
    assert!(text.contains(&format!("ConfigMap/{}/c", ns.name)), "{text}");
    assert!(text.contains("other-tool"), "{text}");
    assert!(!text.contains("--force-conflicts"), "a library error names no CLI flag: {text}");

    let forced = ApplyOptions { force_conflicts: true, ..options("kapply") };
    let (_, live) = cluster.apply(b, &b.body, live.as_ref(), &forced).await.unwrap();
    assert_eq!(live["data"]["k"], "b");
}

#[tokio::test]
async fn server_dry_run_reports_invalid_objects_and_stores_nothing() {
    let cluster = cluster().await;
    let ns = TestNamespace::new(cluster.client(), "cluster-dry-run").await;
    let bad = &objects(
        &cluster,
        &ns.name,
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n",
    )
    .await[0];
    let dry = ApplyOptions { dry_run: true, ..options("kapply") };
    let err = cluster.apply(bad, &bad.body, None, &dry).await.unwrap_err();
    assert_eq!(err.code(), Some(422), "{err}");
    assert!(err.to_string().contains(&format!("Service/{}/s", ns.name)), "{err}");

    let good =
        &objects(&cluster, &ns.name, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").await[0];
    cluster.apply(good, &good.body, None, &dry).await.unwrap();
    assert_eq!(cluster.get(&good.obj_ref).await.unwrap(), None, "dry-run stored nothing");
}

#[tokio::test]
async fn a_crd_kind_resolves_after_discovery_is_refreshed() {
    let cluster = cluster().await;
    let group = format!("{}.kapply.test", unique_name("disc"));
    let gk = GroupKind::new(group.clone(), "Gadget");
    assert!(matches!(cluster.resolve(&gk, None).await, Err(ClusterError::UnknownKind(_))));

    let crd_yaml = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: gadgets.{group}}}\n\
         spec:\n  group: {group}\n  scope: Cluster\n  names: {{plural: gadgets, kind: Gadget, listKind: GadgetList, singular: gadget}}\n\
         \x20 versions: [{{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}}}]\n"
    );
    let crd = &objects(&cluster, "default", &crd_yaml).await[0];
    cluster.apply(crd, &crd.body, None, &options("kapply")).await.unwrap();
    let resolved = eventually("the Gadget kind to be discovered", Duration::from_secs(30), || async {
        cluster.refresh_discovery().await.ok()?;
        cluster.resolve(&gk, None).await.ok()
    })
    .await;
    assert!(!resolved.namespaced);
    assert_eq!(resolved.resource.plural, "gadgets");
    cluster.delete(&crd.obj_ref, None, PropagationPolicy::Background, false).await.unwrap();
}

#[tokio::test]
async fn list_returns_every_object_of_a_kind_in_a_namespace() {
    let cluster = cluster().await;
    let ns = TestNamespace::new(cluster.client(), "cluster-list").await;
    for obj in objects(
        &cluster,
        &ns.name,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
    )
    .await
    {
        cluster.apply(&obj, &obj.body, None, &options("kapply")).await.unwrap();
    }
    let listed = cluster.list(&GroupKind::new("", "ConfigMap"), Some(&ns.name)).await.unwrap();
    assert!(listed.iter().all(|item| item["kind"] == "ConfigMap" && item["apiVersion"] == "v1"));
    // kube-root-ca.crt is published into new namespaces by a controller, sooner or later: not ours.
    let mut names: Vec<&str> = listed
        .iter()
        .map(|v| v["metadata"]["name"].as_str().unwrap())
        .filter(|name| *name != "kube-root-ca.crt")
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["a", "b"]);
}

#[tokio::test]
async fn delete_honours_the_uid_precondition_and_treats_gone_as_success() {
    let cluster = cluster().await;
    let ns = TestNamespace::new(cluster.client(), "cluster-delete").await;
    let cm = &objects(&cluster, &ns.name, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").await[0];
    let (_, live) = cluster.apply(cm, &cm.body, None, &options("kapply")).await.unwrap();
    let uid = live["metadata"]["uid"].as_str().unwrap();

    let wrong = cluster
        .delete(
            &cm.obj_ref,
            Some("00000000-0000-0000-0000-000000000000"),
            PropagationPolicy::Background,
            false,
        )
        .await;
    assert_eq!(wrong.unwrap_err().code(), Some(409), "a stale UID must not delete");
    assert!(cluster.get(&cm.obj_ref).await.unwrap().is_some());

    cluster.delete(&cm.obj_ref, Some(uid), PropagationPolicy::Background, false).await.unwrap();
    assert_eq!(cluster.get(&cm.obj_ref).await.unwrap(), None);
    let again = cluster.delete(&cm.obj_ref, Some(uid), PropagationPolicy::Background, false).await.unwrap();
    assert_eq!(again, DeleteResult::Gone);
    let missing = ObjRef::new("", "ConfigMap", Some(&ns.name), "never-existed");
    assert_eq!(cluster.get(&missing).await.unwrap(), None);
}
