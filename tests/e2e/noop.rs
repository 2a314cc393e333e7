//! A re-apply of an unchanged set sends no PATCH (the inventory's digests, `inventory::AppliedDigest`),
//! and every way an object can have changed behind kapply's back still gets it applied — each counted
//! on the wire through [`FaultProxy`], which logs every request kapply sends.

use hyper::Method;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::apply::{Package, live_config_map};
use crate::fault_proxy::FaultProxy;
use crate::support::{Run, TestNamespace, client};

/// A ConfigMap manifest with `data`.
fn cm(name: &str, data: serde_json::Value) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}).to_string()
}

/// Applies `package` through a fresh proxy: the run, and the PATCH requests it sent to ConfigMaps of
/// its namespace: the applies (the inventory is written by PUT or POST, and the validating dry runs are
/// left out).
pub(crate) fn apply_counting(package: &Package, extra: &[&str]) -> (Run, usize) {
    let proxy = FaultProxy::start(Vec::new());
    let run = package.run_via(proxy.kubeconfig(), "apply", extra);
    let prefix = format!("/api/v1/namespaces/{}/configmaps/", package.namespace);
    // Not the server dry runs that validate objects new to the inventory (`?dryRun=All`).
    let patches = proxy
        .served()
        .iter()
        .filter(|s| s.method == Method::PATCH && s.path.starts_with(&prefix) && !s.path.contains("dryRun"))
        .count();
    (run, patches)
}

fn line<'r>(run: &'r Run, object: &str) -> &'r str {
    run.stdout.lines().find(|l| l.starts_with(object) && !l.contains("reconcile")).unwrap_or("")
}

#[tokio::test]
async fn an_unchanged_set_sends_no_apply_and_each_outside_change_is_applied_again() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "noop").await;
    let package = Package::new(&ns.name, "noop");
    let names = ["edited", "forced", "recreated", "trimmed", "mutated", "stable"];
    for name in names {
        package.write(&format!("{name}.yaml"), &cm(name, json!({"k": "v", "extra": "x"})));
    }
    // An apply-time-mutation source outside the set, changed below by someone else.
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let source: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "source"}, "data": {"v": "one"}})).unwrap();
    api.create(&PostParams::default(), &source).await.unwrap();
    let mutation = "- sourceRef: {apiVersion: v1, kind: ConfigMap, name: source}\n  sourcePath: $.data.v\n  targetPath: $.data.k\n";
    package.write(
        "mutated.yaml",
        &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "mutated", "annotations": {"config.kubernetes.io/apply-time-mutation": mutation}},
                "data": {"k": "later", "extra": "x"}})
        .to_string(),
    );

    let (first, patches) = apply_counting(&package, &[]);
    assert_eq!(first.code, 0, "{}", first.output());
    assert_eq!(patches, names.len(), "the first apply sends each object once: {}", first.output());

    let (again, patches) = apply_counting(&package, &[]);
    assert_eq!(again.code, 0, "{}", again.output());
    assert_eq!(patches, 0, "an unchanged set sends no apply: {}", again.output());
    for name in names {
        assert!(
            line(&again, &format!("ConfigMap/{}/{name} ", ns.name)).ends_with("unchanged"),
            "{}",
            again.stdout
        );
    }
    let (always, patches) = apply_counting(&package, &["--always-apply"]);
    assert_eq!(always.code, 0, "{}", always.output());
    assert_eq!(patches, names.len(), "--always-apply sends everything: {}", always.output());

    // Changes behind kapply's back, one per object; `stable` is left alone.
    // 1. A value changed by an Update (what `kubectl edit` sends).
    let mut edited = api.get("edited").await.unwrap();
    edited.data.as_mut().unwrap().insert("k".into(), "edited-by-hand".into());
    api.replace(
        "edited",
        &PostParams { field_manager: Some("kubectl-edit".into()), ..Default::default() },
        &edited,
    )
    .await
    .unwrap();
    // 2. A field taken over by another manager's forced server-side apply.
    let takeover = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "forced"}, "data": {"k": "theirs"}});
    api.patch("forced", &PatchParams::apply("other-tool").force(), &Patch::Apply(&takeover)).await.unwrap();
    // 3. Deleted and re-created by someone else, with the same content (and owner annotation).
    let mut recreated = api.get("recreated").await.unwrap();
    api.delete("recreated", &DeleteParams::default()).await.unwrap();
    recreated.metadata.resource_version = None;
    recreated.metadata.uid = None;
    recreated.metadata.managed_fields = None;
    recreated.metadata.creation_timestamp = None;
    while api.get_opt("recreated").await.unwrap().is_some() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    api.create(&PostParams { field_manager: Some("restorer".into()), ..Default::default() }, &recreated)
        .await
        .unwrap();
    // 4. A field removed from the manifest.
    package.write("trimmed.yaml", &cm("trimmed", json!({"k": "v"})));
    // 5. The mutation's source changed.
    api.patch("source", &PatchParams::default(), &Patch::Merge(json!({"data": {"v": "two"}}))).await.unwrap();
    // 6. kapply's own field manager applied another configuration, unrecorded (a run killed after its
    //    apply, before its final inventory write).
    let killed = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "stable", "annotations": {"config.k8s.io/owning-inventory": package.id}},
                        "data": {"k": "half-done"}});
    api.patch("stable", &PatchParams::apply("kapply").force(), &Patch::Apply(&killed)).await.unwrap();

    let (changed, patches) = apply_counting(&package, &[]);
    let prefix = format!("ConfigMap/{}", ns.name);
    // Fields another manager now owns conflict, as they do without digests (an Update takes the field
    // as a forced apply does).
    assert_eq!(changed.code, 1, "{}", changed.output());
    for name in ["edited", "forced"] {
        let said = line(&changed, &format!("{prefix}/{name} "));
        assert!(said.contains("conflict with another field manager"), "{name}: {}", changed.stdout);
    }
    for name in ["recreated", "trimmed", "mutated", "stable"] {
        assert!(
            line(&changed, &format!("{prefix}/{name} ")).ends_with("configured"),
            "{name}: {}",
            changed.stdout
        );
    }
    assert_eq!(patches, names.len(), "every changed object is sent: {}", changed.output());
    let data = |cm: Option<ConfigMap>| cm.unwrap().data.unwrap();
    assert_eq!(data(live_config_map(&client, &ns.name, "stable").await)["k"], "v");
    assert_eq!(data(live_config_map(&client, &ns.name, "mutated").await)["k"], "two");
    assert!(!data(live_config_map(&client, &ns.name, "trimmed").await).contains_key("extra"));

    let (forced, _) = apply_counting(&package, &["--force-conflicts"]);
    assert_eq!(forced.code, 0, "{}", forced.output());
    assert_eq!(data(live_config_map(&client, &ns.name, "forced").await)["k"], "v");
    assert_eq!(data(live_config_map(&client, &ns.name, "edited").await)["k"], "v");
    let (settled, patches) = apply_counting(&package, &[]);
    assert_eq!(settled.code, 0, "{}", settled.output());
    assert_eq!(patches, 0, "settled again: {}", settled.output());
}

#[tokio::test]
async fn an_inventory_written_by_cli_utils_gets_every_object_applied_once_then_none() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "noop-cli-utils").await;
    let package = Package::new(&ns.name, "noop-cli-utils");
    for i in 0..4 {
        package.write(&format!("cm-{i}.yaml"), &cm(&format!("cm-{i}"), json!({"i": i.to_string()})));
    }
    assert_eq!(apply_counting(&package, &[]).0.code, 0);
    // cli-utils v0.37 rewrites every value with its own status JSON (or "") and reads only the keys.
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let name = format!("inventory-{}", package.id);
    let mut inventory = api.get(&name).await.unwrap();
    let data = inventory.data.as_mut().unwrap();
    assert!(
        data.values().all(|v| v.starts_with("kapply.v1:")),
        "kapply records a digest per object: {data:?}"
    );
    for value in data.values_mut() {
        *value = r#"{"actuation":"Succeeded","reconcile":"Succeeded","strategy":"Apply"}"#.into();
    }
    api.replace(&name, &PostParams::default(), &inventory).await.unwrap();

    let (run, patches) = apply_counting(&package, &[]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(patches, 4, "no digest: every object is applied as before: {}", run.output());
    assert!(run.stdout.contains("4 unchanged"), "{}", run.stdout);
    let (run, patches) = apply_counting(&package, &[]);
    assert_eq!((run.code, patches), (0, 0), "{}", run.output());
}
