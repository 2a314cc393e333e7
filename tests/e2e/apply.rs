//! `kapply apply` end to end: the binary against the real control plane.

use std::collections::BTreeSet;
use std::path::Path;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{CreatedNamespace, Run, TestNamespace, client, kapply_via, unique_name};

const OWNING_INVENTORY: &str = "config.k8s.io/owning-inventory";

/// A directory of manifests with its own inventory template, applied into one test namespace.
pub struct Package {
    pub dir: TempDir,
    pub namespace: String,
    pub id: String,
}

impl Package {
    /// A package whose inventory lives in `namespace`.
    pub fn new(namespace: &str, test: &str) -> Self {
        Self::with_id(namespace, &unique_name(test))
    }

    /// A package whose inventory lives in `namespace`, with inventory id `id` (known beforehand).
    pub fn with_id(namespace: &str, id: &str) -> Self {
        let package =
            Package { dir: TempDir::new().unwrap(), namespace: namespace.to_owned(), id: id.to_owned() };
        package.write(
            "inventory-template.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inventory-{id}\n  namespace: {ns}\n  labels:\n    \
                 cli-utils.sigs.k8s.io/inventory-id: \"{id}\"\n",
                id = package.id,
                ns = namespace
            ),
        );
        package
    }

    pub fn write(&self, file: &str, yaml: &str) {
        std::fs::write(self.dir.path().join(file), yaml).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.path().join(file)).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `kapply apply DIR -n NAMESPACE --output events EXTRA…`
    pub fn apply(&self, extra: &[&str]) -> Run {
        self.run("apply", extra)
    }

    /// `kapply SUBCOMMAND DIR -n NAMESPACE --output events EXTRA…`
    pub fn run(&self, subcommand: &str, extra: &[&str]) -> Run {
        self.run_via(crate::support::kubeconfig_path(), subcommand, extra)
    }

    /// [`Package::run`] with another kubeconfig.
    pub fn run_via(&self, kubeconfig: &Path, subcommand: &str, extra: &[&str]) -> Run {
        let dir = self.path().to_str().unwrap().to_owned();
        let mut args =
            vec![subcommand, dir.as_str(), "-n", self.namespace.as_str(), "--poll-period", "250ms"];
        if !extra.iter().any(|a| *a == "-o" || *a == "--output") {
            args.extend(["--output", "events"]);
        }
        args.extend_from_slice(extra);
        kapply_via(kubeconfig, &args)
    }

    /// The keys of the live inventory ConfigMap's data.
    pub async fn inventory_keys(&self, client: &Client) -> BTreeSet<String> {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &self.namespace);
        let cm = api.get(&format!("inventory-{}", self.id)).await.expect("the inventory ConfigMap exists");
        cm.data.unwrap_or_default().into_keys().collect()
    }
}

pub fn config_map(name: &str, annotations: Value) -> String {
    serde_json::to_string(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "annotations": annotations},
        "data": {"key": name},
    }))
    .unwrap()
}

pub async fn live_config_map(client: &Client, namespace: &str, name: &str) -> Option<ConfigMap> {
    Api::<ConfigMap>::namespaced(client.clone(), namespace).get_opt(name).await.unwrap()
}

fn keys(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn create_then_reapply_reports_unchanged_and_records_cli_utils_keys() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-create").await;
    let package = Package::new(&ns.name, "create");
    package.write("a.yaml", &config_map("a", json!({})));
    package.write("b.yaml", &config_map("b", json!({})));
    package.write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n",
    );

    let first = package.apply(&[]);
    assert_eq!(first.code, 0, "{}", first.output());
    for obj in ["ConfigMap/{ns}/a", "ConfigMap/{ns}/b", "Service/{ns}/web"] {
        let obj = obj.replace("{ns}", &ns.name);
        assert!(first.stdout.contains(&format!("{obj} created")), "{obj}: {}", first.stdout);
        assert!(first.stdout.contains(&format!("{obj} reconciled")), "{obj}: {}", first.stdout);
    }
    // cli-utils' key format, exactly: <namespace>_<name>_<group>_<kind>.
    let n = &ns.name;
    assert_eq!(
        package.inventory_keys(&client).await,
        keys(&[&format!("{n}_a__ConfigMap"), &format!("{n}_b__ConfigMap"), &format!("{n}_web__Service")])
    );
    let a = live_config_map(&client, n, "a").await.unwrap();
    assert_eq!(a.annotations().get(OWNING_INVENTORY), Some(&package.id));

    let again = package.apply(&["--output", "json"]);
    assert_eq!(again.code, 0, "{}", again.output());
    let lines = again.json_lines();
    assert_eq!(lines.first().unwrap()["type"], "plan");
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["apply"]["unchanged"], 3, "{summary}");
    assert_eq!(summary["apply"]["created"], 0, "{summary}");
    assert_eq!(summary["outcome"], "success");
    let applies: Vec<&Value> = lines.iter().filter(|l| l["type"] == "apply").collect();
    assert_eq!(applies.len(), 3);
    assert!(applies.iter().all(|l| l["status"] == "unchanged"), "{applies:?}");
}

#[tokio::test]
async fn an_object_removed_from_the_set_is_pruned_unless_marked_keep_or_detach() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-prune").await;
    let package = Package::new(&ns.name, "prune");
    package.write("stays.yaml", &config_map("stays", json!({})));
    package.write("gone.yaml", &config_map("gone", json!({})));
    package.write("kept.yaml", &config_map("kept", json!({"cli-utils.sigs.k8s.io/on-remove": "keep"})));
    package.write(
        "detached.yaml",
        &config_map("detached", json!({"client.lifecycle.config.k8s.io/deletion": "detach"})),
    );
    let first = package.apply(&[]);
    assert_eq!(first.code, 0, "{}", first.output());

    for file in ["gone.yaml", "kept.yaml", "detached.yaml"] {
        package.remove(file);
    }
    let second = package.apply(&[]);
    assert_eq!(second.code, 0, "{}", second.output());
    let n = &ns.name;
    assert!(second.stdout.contains(&format!("ConfigMap/{n}/gone pruned")), "{}", second.stdout);
    assert!(live_config_map(&client, n, "gone").await.is_none(), "gone was deleted");
    for name in ["kept", "detached"] {
        let live = live_config_map(&client, n, name).await.unwrap_or_else(|| panic!("{name} was deleted"));
        assert_eq!(live.annotations().get(OWNING_INVENTORY), None, "{name}: our claim is removed");
        assert!(second.stdout.contains(&format!("ConfigMap/{n}/{name} abandoned")), "{}", second.stdout);
    }
    assert_eq!(package.inventory_keys(&client).await, keys(&[&format!("{n}_stays__ConfigMap")]));
}

#[tokio::test]
async fn strict_refuses_an_object_of_another_inventory_and_adopt_all_takes_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-policy").await;
    let first_owner = Package::new(&ns.name, "owner-a");
    first_owner.write("shared.yaml", &config_map("shared", json!({})));
    let run = first_owner.apply(&[]);
    assert_eq!(run.code, 0, "{}", run.output());

    let other = Package::new(&ns.name, "owner-b");
    other.write("shared.yaml", &config_map("shared", json!({})));
    other.write("mine.yaml", &config_map("mine", json!({})));
    let refused = other.apply(&[]);
    assert_eq!(refused.code, 1, "{}", refused.output());
    assert!(refused.stdout.contains("inventory overlap"), "{}", refused.stdout);
    assert!(refused.stdout.contains(&first_owner.id), "names the other inventory: {}", refused.stdout);
    assert!(refused.stdout.contains("adopt-all"), "says how to take it: {}", refused.stdout);
    let shared = live_config_map(&client, &ns.name, "shared").await.unwrap();
    assert_eq!(shared.annotations().get(OWNING_INVENTORY), Some(&first_owner.id));
    assert!(
        live_config_map(&client, &ns.name, "mine").await.is_some(),
        "the independent object still applied"
    );
    assert!(
        !other.inventory_keys(&client).await.contains(&format!("{}_shared__ConfigMap", ns.name)),
        "a refused object is not recorded"
    );

    let taken = other.apply(&["--inventory-policy", "adopt-all"]);
    assert_eq!(taken.code, 0, "{}", taken.output());
    let shared = live_config_map(&client, &ns.name, "shared").await.unwrap();
    assert_eq!(shared.annotations().get(OWNING_INVENTORY), Some(&other.id));
    assert!(taken.stdout.contains("taken over"), "{}", taken.stdout);
}

#[tokio::test]
async fn a_field_manager_conflict_names_the_field_and_force_conflicts_wins() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-conflict").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"key": "theirs"}});
    api.patch("x", &PatchParams::apply("someone-else"), &Patch::Apply(&theirs)).await.unwrap();

    let package = Package::new(&ns.name, "conflict");
    package.write("x.yaml", &config_map("x", json!({})));
    let conflicted = package.apply(&["--inventory-policy", "adopt"]);
    assert_eq!(conflicted.code, 1, "{}", conflicted.output());
    assert!(conflicted.stdout.contains(".data.key"), "names the field: {}", conflicted.stdout);
    assert!(conflicted.stdout.contains("someone-else"), "names the other manager: {}", conflicted.stdout);
    assert!(conflicted.stdout.contains("--force-conflicts"), "{}", conflicted.stdout);
    assert_eq!(api.get("x").await.unwrap().data.unwrap()["key"], "theirs");

    let forced = package.apply(&["--inventory-policy", "adopt", "--force-conflicts"]);
    assert_eq!(forced.code, 0, "{}", forced.output());
    assert_eq!(api.get("x").await.unwrap().data.unwrap()["key"], "x");
}

#[tokio::test]
async fn a_crd_and_its_custom_resources_apply_in_one_run() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-crd").await;
    let package = Package::new(&ns.name, "crd");
    let group = format!("{}.kapply.test", unique_name("g"));
    package.write("crd.yaml", &widget_crd(&group));
    package.write(
        "widget.yaml",
        &format!("apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w1}}\nspec: {{size: 3}}\n"),
    );
    let run = package.apply(&[]);
    let crd_cleanup = CrdCleanup(format!("widgets.{group}"));
    assert_eq!(run.code, 0, "{}", run.output());
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns.name, &widget_resource(&group));
    let w1 = widgets.get("w1").await.expect("the custom resource was created");
    assert_eq!(w1.data["spec"]["size"], 3);
    let crd_line =
        run.stdout.find(&format!("CustomResourceDefinition.apiextensions.k8s.io/widgets.{group} reconciled"));
    let cr_line = run.stdout.find(&format!("Widget.{group}/{}/w1 created", ns.name));
    assert!(crd_line.is_some() && cr_line.is_some() && crd_line < cr_line, "{}", run.stdout);
    drop(crd_cleanup);
}

/// A namespaced `Widget` CRD in `group`, schema-less.
pub fn widget_crd(group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  \
         versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        \
         type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
    )
}

/// The API resource of [`widget_crd`]'s Widgets, to read them with a dynamic client.
pub fn widget_resource(group: &str) -> ApiResource {
    ApiResource {
        group: group.to_owned(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Widget".into(),
        plural: "widgets".into(),
    }
}

/// Deletes a CRD when dropped (CRDs are cluster-scoped: the test namespace does not take them along).
pub struct CrdCleanup(pub String);

impl Drop for CrdCleanup {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
                let api: Api<CustomResourceDefinition> = Api::all(client().await);
                let _ = api.delete(&name, &Default::default()).await;
            });
        })
        .join();
    }
}

#[tokio::test]
async fn a_namespace_its_contents_and_the_inventory_inside_it_apply_in_one_run() {
    let client = client().await;
    let created = CreatedNamespace::new("apply-new-ns");
    let package = Package::new(&created.name, "new-ns");
    package.write(
        "ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {}}}\n", created.name),
    );
    package.write("a.yaml", &config_map("a", json!({})));
    let run = package.apply(&[]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(live_config_map(&client, &created.name, "a").await.is_some());
    let n = &created.name;
    assert_eq!(
        package.inventory_keys(&client).await,
        keys(&[&format!("_{n}__Namespace"), &format!("{n}_a__ConfigMap")])
    );
}

pub fn unschedulable_deployment(name: &str, progress_deadline: Option<u32>) -> String {
    let mut spec = json!({
        "replicas": 1,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "nodeSelector": {"kapply.test/no-such-node": "true"},
                "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
            },
        },
    });
    if let Some(seconds) = progress_deadline {
        spec["progressDeadlineSeconds"] = json!(seconds);
    }
    serde_json::to_string(
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}),
    )
    .unwrap()
}

#[tokio::test]
async fn a_deployment_that_fails_exits_4_and_skips_only_its_dependents() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-failed").await;
    let package = Package::new(&ns.name, "failed");
    package.write("stuck.yaml", &unschedulable_deployment("stuck", Some(3)));
    let depends =
        json!({"config.kubernetes.io/depends-on": format!("apps/namespaces/{}/Deployment/stuck", ns.name)});
    package.write("after.yaml", &config_map("after", depends));
    package.write("unrelated.yaml", &config_map("unrelated", json!({})));
    let run = package.apply(&["--reconcile-timeout", "2m"]);
    assert_eq!(run.code, 4, "{}", run.output());
    let n = &ns.name;
    assert!(run.stdout.contains("ProgressDeadlineExceeded"), "the failure's reason is shown: {}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "ConfigMap/{n}/after apply skipped: dependency Deployment.apps/{n}/stuck failed"
        )),
        "{}",
        run.stdout
    );
    assert!(live_config_map(&client, n, "after").await.is_none(), "the dependent was not applied");
    assert!(live_config_map(&client, n, "unrelated").await.is_some(), "the independent object was applied");
}

#[tokio::test]
async fn a_reconcile_timeout_exits_3_naming_the_object_still_in_progress() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-timeout").await;
    let package = Package::new(&ns.name, "timeout");
    package.write("slow.yaml", &unschedulable_deployment("slow", None));
    let run = package.apply(&["--reconcile-timeout", "3s"]);
    assert_eq!(run.code, 3, "{}", run.output());
    let n = &ns.name;
    assert!(run.stdout.contains(&format!("Deployment.apps/{n}/slow is InProgress")), "{}", run.stdout);
    assert!(run.stdout.contains("1 timed out"), "{}", run.stdout);
}

#[tokio::test]
async fn a_run_timeout_says_timed_out_on_the_prunes_it_skipped_not_cancelled() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-run-timeout").await;
    let package = Package::new(&ns.name, "run-timeout");
    package.write("old.yaml", &config_map("old", json!({})));
    assert_eq!(package.apply(&[]).code, 0);
    package.remove("old.yaml");
    package.write("slow.yaml", &unschedulable_deployment("slow", None));
    let run = package.apply(&["--timeout", "3s"]);
    assert_eq!(run.code, 3, "{}", run.output());
    let n = &ns.name;
    assert!(
        run.stdout.contains(&format!("ConfigMap/{n}/old prune skipped: the run timed out")),
        "{}",
        run.stdout
    );
    assert!(!run.output().contains("cancelled"), "a timeout is not a cancellation: {}", run.output());
}

#[tokio::test]
async fn while_waiting_the_events_output_beats_naming_what_it_waits_for_with_timestamps() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-heartbeat").await;
    let package = Package::new(&ns.name, "heartbeat");
    package.write("slow.yaml", &unschedulable_deployment("slow", None));
    // A 1s heartbeat against a 5s wait: several beats, whatever the machine's speed.
    let run =
        package.apply(&["--reconcile-timeout", "5s", "--heartbeat", "1s", "--timestamps", "-o", "events"]);
    assert_eq!(run.code, 3, "{}", run.output());
    let n = &ns.name;
    let beat = run.stdout.lines().position(|line| line.contains(" still running after ")).expect(&run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[beat].contains("object(s) not finished, 1 waited for"), "{}", run.stdout);
    assert!(lines[beat + 1].contains(&format!("  Deployment.apps/{n}/slow ")), "{}", run.stdout);
    for line in &lines {
        let time = line.split(' ').next().unwrap();
        assert!(time.ends_with('Z') && time.parse::<jiff::Timestamp>().is_ok(), "unstamped: {line}");
    }
}

#[tokio::test]
async fn with_json_output_an_unknown_kind_is_one_error_line() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-unknown-json").await;
    let package = Package::new(&ns.name, "unknown-json");
    package.write("a.yaml", &config_map("a", json!({})));
    package.write("gizmo.yaml", "apiVersion: nowhere.kapply.test/v1\nkind: Gizmo\nmetadata: {name: g}\n");
    let run = package.apply(&["-o", "json"]);
    assert_eq!(run.code, 2, "{}", run.output());
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert_eq!(lines[0]["type"], "error");
    assert!(lines[0]["error"].as_str().unwrap().contains("Gizmo"), "{}", run.stdout);
}

#[tokio::test]
async fn a_kind_the_cluster_does_not_serve_is_an_error_before_any_write() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-unknown").await;
    let package = Package::new(&ns.name, "unknown");
    package.write("a.yaml", &config_map("a", json!({})));
    package.write("gizmo.yaml", "apiVersion: nowhere.kapply.test/v1\nkind: Gizmo\nmetadata: {name: g}\n");
    let run = package.apply(&[]);
    assert_eq!(run.code, 2, "{}", run.output());
    assert!(run.stderr.contains("gizmo.yaml"), "names the file: {}", run.stderr);
    assert!(run.stderr.contains("Gizmo"), "names the kind: {}", run.stderr);
    assert!(live_config_map(&client, &ns.name, "a").await.is_none(), "nothing was applied");
    let inventories = Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .list(&kube::api::ListParams::default().labels("cli-utils.sigs.k8s.io/inventory-id"))
        .await
        .unwrap();
    assert!(inventories.items.is_empty(), "no inventory was written");
}

#[tokio::test]
async fn an_interrupt_stops_cleanly_with_every_applied_object_recorded() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-sigint").await;
    let package = Package::new(&ns.name, "sigint");
    package.write("slow.yaml", &unschedulable_deployment("slow", None));
    let depends =
        json!({"config.kubernetes.io/depends-on": format!("apps/namespaces/{}/Deployment/slow", ns.name)});
    package.write("after.yaml", &config_map("after", depends));
    package.write("a.yaml", &config_map("a", json!({})));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kapply"))
        .env("KAPPLY_CHECK_EVENT_ORDER", "1")
        .args(["apply", package.path().to_str().unwrap(), "-n", &ns.name, "-o", "events"])
        .arg("--kubeconfig")
        .arg(crate::support::kubeconfig_path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the Deployment exists: kapply is then waiting for it.
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), &ns.name);
    crate::support::eventually(
        "the Deployment to be applied",
        std::time::Duration::from_secs(30),
        || async { deployments.get_opt("slow").await.unwrap().map(|_| ()) },
    )
    .await;
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let n = &ns.name;
    assert!(stdout.contains(&format!("ConfigMap/{n}/after apply skipped")), "{stdout}");
    assert!(stdout.contains(&format!("Deployment.apps/{n}/slow reconcile skipped")), "{stdout}");
    assert!(live_config_map(&client, n, "after").await.is_none());
    assert_eq!(
        package.inventory_keys(&client).await,
        keys(&[&format!("{n}_a__ConfigMap"), &format!("{n}_slow_apps_Deployment")]),
        "the inventory lists what exists, and not what was never applied"
    );
}

#[tokio::test]
async fn a_rollout_is_waited_for_until_available_in_both_wait_modes() {
    let client = client().await;
    for mode in ["watch", "poll"] {
        let ns = TestNamespace::new(&client, &format!("apply-rollout-{mode}")).await;
        let package = Package::new(&ns.name, mode);
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}},
            },
        });
        package.write("web.yaml", &deployment.to_string());
        let run = package.apply(&["--wait-mode", mode, "--status-events"]);
        assert_eq!(run.code, 0, "{mode}: {}", run.output());
        let n = &ns.name;
        let in_progress = run.stdout.find(&format!("Deployment.apps/{n}/web is InProgress"));
        let reconciled = run.stdout.find(&format!("Deployment.apps/{n}/web reconciled"));
        assert!(
            in_progress.is_some() && in_progress < reconciled,
            "{mode}: waited through the rollout: {}",
            run.stdout
        );
        let live = Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), n)
            .get("web")
            .await
            .unwrap();
        assert_eq!(
            live.status.and_then(|s| s.available_replicas),
            Some(2),
            "{mode}: Current means Available"
        );
    }
}

#[tokio::test]
async fn two_concurrent_runs_on_one_inventory_lose_no_entries() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "apply-concurrent").await;
    let first = Package::new(&ns.name, "concurrent");
    let second = Package { dir: TempDir::new().unwrap(), namespace: ns.name.clone(), id: first.id.clone() };
    std::fs::copy(
        first.path().join("inventory-template.yaml"),
        second.path().join("inventory-template.yaml"),
    )
    .unwrap();
    let mut expected = BTreeSet::new();
    for i in 0..15 {
        first.write(&format!("a{i}.yaml"), &config_map(&format!("a{i}"), json!({})));
        second.write(&format!("b{i}.yaml"), &config_map(&format!("b{i}"), json!({})));
        expected.insert(format!("{}_a{i}__ConfigMap", ns.name));
        expected.insert(format!("{}_b{i}__ConfigMap", ns.name));
    }
    // --no-prune: each run's set lacks the other's objects, and this test is about recording, not pruning.
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = [&first, &second]
            .into_iter()
            .map(|package| scope.spawn(move || package.apply(&["--no-prune", "--concurrency", "2"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.output());
    }
    assert_eq!(first.inventory_keys(&client).await, expected);
}
