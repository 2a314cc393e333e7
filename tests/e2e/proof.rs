//! Proof that the test control plane behaves like a real cluster in the ways kapply relies on:
//! server-side apply conflicts, Deployment rollouts on kwok nodes, progress deadlines, CRDs,
//! namespace finalization and Jobs.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::json;

use crate::support::{TestNamespace, client, eventually, unique_name};

fn condition<'a>(conditions: &'a [serde_json::Value], type_: &str) -> Option<&'a serde_json::Value> {
    conditions.iter().find(|c| c["type"] == type_)
}

fn conditions_of(obj: &impl serde::Serialize) -> Vec<serde_json::Value> {
    let value = serde_json::to_value(obj).unwrap();
    value["status"]["conditions"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn server_side_apply_conflict_names_the_field_and_force_wins() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "ssa-conflict").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let cm = |value: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"a": value}});
    api.patch("shared", &PatchParams::apply("manager-a"), &Patch::Apply(cm("1"))).await.unwrap();

    let err =
        api.patch("shared", &PatchParams::apply("manager-b"), &Patch::Apply(cm("2"))).await.unwrap_err();
    let kube::Error::Api(status) = err else { panic!("expected an API error, got {err:?}") };
    assert_eq!(status.code, 409, "{status:?}");
    assert!(status.message.contains("manager-a"), "conflict names the other manager: {}", status.message);
    assert!(status.message.contains(".data.a"), "conflict names the field: {}", status.message);

    let forced =
        api.patch("shared", &PatchParams::apply("manager-b").force(), &Patch::Apply(cm("2"))).await.unwrap();
    assert_eq!(forced.data.unwrap()["a"], "2");
}

/// A Deployment kwok runs (Available a second or two after it is applied), with `extra_spec` merged
/// into its spec.
pub fn deployment(name: &str, replicas: i32, extra_spec: serde_json::Value) -> serde_json::Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]}
            }
        }
    });
    if let serde_json::Value::Object(extra) = extra_spec {
        for (k, v) in extra {
            d["spec"][k] = v;
        }
    }
    d
}

#[tokio::test]
async fn deployment_rolls_out_onto_kwok_nodes_and_becomes_available() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rollout").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let body = deployment("web", 2, json!({}));
    api.patch("web", &PatchParams::apply("proof"), &Patch::Apply(body)).await.unwrap();

    let available = eventually("Deployment web to become Available", Duration::from_secs(90), || async {
        let d = api.get("web").await.ok()?;
        let status = d.status.clone()?;
        let available = condition(&conditions_of(&d), "Available").map(|c| c["status"] == "True")?;
        (available
            && status.observed_generation == d.metadata.generation
            && status.available_replicas == Some(2))
        .then_some(d)
    })
    .await;
    assert_eq!(available.status.unwrap().ready_replicas, Some(2));

    let rs: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns.name);
    assert_eq!(rs.list(&ListParams::default().labels("app=web")).await.unwrap().items.len(), 1);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    let pods = pods.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(pods.len(), 2);
    for pod in pods {
        let node = pod.spec.unwrap().node_name.unwrap_or_default();
        assert!(node.starts_with("kwok-node-"), "pod scheduled onto a kwok node, got {node:?}");
        assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Running"));
    }
}

#[tokio::test]
async fn unschedulable_deployment_exceeds_its_progress_deadline() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "deadline").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let mut body = deployment("stuck", 1, json!({"progressDeadlineSeconds": 10}));
    body["spec"]["template"]["spec"]["nodeSelector"] = json!({"kapply.test/no-such-node": "true"});
    api.patch("stuck", &PatchParams::apply("proof"), &Patch::Apply(body)).await.unwrap();

    let progressing = eventually("ProgressDeadlineExceeded", Duration::from_secs(90), || async {
        let d = api.get("stuck").await.ok()?;
        let c = condition(&conditions_of(&d), "Progressing")?.clone();
        (c["reason"] == "ProgressDeadlineExceeded").then_some(c)
    })
    .await;
    assert_eq!(progressing["status"], "False");
}

#[tokio::test]
async fn crd_becomes_established_and_its_custom_resource_applies() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "crd").await;
    let group = format!("{}.kapply.test", unique_name("g"));
    let crd_name = format!("widgets.{group}");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    });
    crds.patch(&crd_name, &PatchParams::apply("proof"), &Patch::Apply(crd)).await.unwrap();
    eventually("CRD Established", Duration::from_secs(30), || async {
        let c = crds.get(&crd_name).await.ok()?;
        condition(&conditions_of(&c), "Established").filter(|c| c["status"] == "True").map(|_| ())
    })
    .await;

    let gvk = GroupVersionKind::gvk(&group, "v1", "Widget");
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns.name, &ApiResource::from_gvk_with_plural(&gvk, "widgets"));
    let widget = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
                        "metadata": {"name": "w1"}, "spec": {"size": 3}});
    let applied = eventually("the Widget to apply", Duration::from_secs(30), || async {
        widgets.patch("w1", &PatchParams::apply("proof"), &Patch::Apply(&widget)).await.ok()
    })
    .await;
    assert_eq!(applied.data["spec"]["size"], 3);
    crds.delete(&crd_name, &DeleteParams::background()).await.unwrap();
}

#[tokio::test]
async fn namespace_with_contents_terminates_and_disappears() {
    let client = client().await;
    let name = unique_name("ns-delete");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    namespaces.patch(&name, &PatchParams::apply("proof"), &Patch::Apply(ns)).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &name);
    let cm =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inside"}, "data": {"k": "v"}});
    cms.patch("inside", &PatchParams::apply("proof"), &Patch::Apply(cm)).await.unwrap();

    let deleting = namespaces.delete(&name, &DeleteParams::background()).await.unwrap();
    let ns = deleting.left().expect("a namespace with contents is not deleted at once");
    assert!(ns.metadata.deletion_timestamp.is_some());
    assert_eq!(ns.status.and_then(|s| s.phase).as_deref(), Some("Terminating"));

    eventually("the namespace to disappear", Duration::from_secs(60), || async {
        match namespaces.get_opt(&name).await {
            Ok(None) => Some(()),
            _ => None,
        }
    })
    .await;
}

#[tokio::test]
async fn job_runs_to_complete_on_kwok() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "job").await;
    let api: Api<Job> = Api::namespaced(client.clone(), &ns.name);
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "run", "image": "registry.invalid/job:1"}]}}}
    });
    api.patch("once", &PatchParams::apply("proof"), &Patch::Apply(job)).await.unwrap();
    let complete = eventually("Job Complete", Duration::from_secs(90), || async {
        let j = api.get("once").await.ok()?;
        condition(&conditions_of(&j), "Complete").filter(|c| c["status"] == "True").map(|_| j)
    })
    .await;
    assert_eq!(complete.status.unwrap().succeeded, Some(1));
}
