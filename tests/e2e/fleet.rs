//! Fleets end to end: one set on two real control planes at once (`--context a,b`), a cluster that
//! lacks a CRD, an unreachable cluster, canaries and failure limits, the same inventory id on each
//! cluster, an interrupt. Every run's event stream is checked per cluster against the ordering
//! contract (`KAPPLY_CHECK_EVENT_ORDER`, set by [`kapply_via`]).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};

use crate::apply::{
    CrdCleanup, Package, config_map, live_config_map, unschedulable_deployment, widget_crd, widget_resource,
};
use crate::second_plane::{FleetConfig, FleetNamespace, second_client};
use crate::support::{Run, client, eventually, kapply_via, unique_name};

/// A package for a fleet: its own Namespace (created by kapply on each cluster), its inventory
/// template inside it, and ConfigMaps `names`.
fn package(test: &str, names: &[&str]) -> (Package, FleetNamespace) {
    let ns = FleetNamespace { name: unique_name(test) };
    let package = Package::with_id(&ns.name, &unique_name("fleet"));
    package.write(
        "ns.yaml",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns.name}}).to_string(),
    );
    for name in names {
        package.write(&format!("cm-{name}.yaml"), &config_map(name, json!({})));
    }
    (package, ns)
}

/// `kapply <command> DIR -n NS ARGS… --kubeconfig MERGED`.
fn run(config: &FleetConfig, command: &str, package: &Package, args: &[&str]) -> Run {
    let dir = package.path().to_str().unwrap();
    let mut all = vec![command, dir, "-n", &package.namespace];
    all.extend_from_slice(args);
    kapply_via(&config.merged(), &all)
}

/// Per cluster, the outcome of its JSON `summary` line.
fn summaries(run: &Run) -> BTreeMap<String, String> {
    run.json_lines()
        .iter()
        .filter(|line| line["type"] == "summary")
        .map(|line| {
            (line["cluster"].as_str().unwrap().to_owned(), line["outcome"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// The closing `fleetSummary` line.
fn fleet_summary(run: &Run) -> Value {
    let lines = run.json_lines();
    let last = lines.last().unwrap_or_else(|| panic!("no output: {}", run.output())).clone();
    assert_eq!(last["type"], "fleetSummary", "{}", run.output());
    last
}

async fn inventory_keys(client: &Client, package: &Package) -> Vec<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &package.namespace);
    let cm = api.get(&format!("inventory-{}", package.id)).await.expect("the inventory ConfigMap exists");
    cm.data.unwrap_or_default().into_keys().collect()
}

async fn namespace_exists(client: &Client, name: &str) -> bool {
    Api::<Namespace>::all(client.clone()).get_opt(name).await.unwrap().is_some()
}

#[tokio::test]
async fn one_set_converges_on_both_clusters_each_with_its_own_inventory() {
    let config = FleetConfig::new();
    let (a, b) = (client().await, second_client().await);
    let (package, ns) = package("fleet-both", &["one", "two"]);

    // Both clusters, named through a KUBECONFIG list of two files (kubectl's merge rules).
    let dir = package.path().to_str().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kapply"))
        .args(["apply", dir, "-n", &ns.name, "-o", "json", "--context", "fleet-a,fleet-b"])
        .env("KUBECONFIG", config.list())
        .env("KAPPLY_CHECK_EVENT_ORDER", "1")
        .output()
        .unwrap();
    let applied = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(applied.code, 0, "{}", applied.output());
    let lines = applied.json_lines();
    assert!(
        lines
            .iter()
            .all(|l| l["cluster"] == "fleet-a" || l["cluster"] == "fleet-b" || l["type"] == "fleetSummary")
    );
    let expected: BTreeMap<String, String> =
        [("fleet-a".into(), "success".into()), ("fleet-b".into(), "success".into())].into();
    assert_eq!(summaries(&applied), expected);
    let summary = fleet_summary(&applied);
    assert_eq!(summary["exitCode"], 0);
    assert_eq!(summary["clusters"].as_array().unwrap().len(), 2);
    for client in [&a, &b] {
        assert!(live_config_map(client, &ns.name, "one").await.is_some());
        assert!(live_config_map(client, &ns.name, "two").await.is_some());
        assert_eq!(inventory_keys(client, &package).await.len(), 3, "the Namespace and two ConfigMaps");
    }

    // A fleet status: each cluster's inventory read on that cluster, every line naming it.
    let status = run(&config, "status", &package, &["-o", "json", "--context", "fleet-a,fleet-b"]);
    assert_eq!(status.code, 0, "{}", status.output());
    let current = |cluster: &str| {
        status.json_lines().iter().filter(|l| l["cluster"] == cluster && l["status"] == "Current").count()
    };
    assert_eq!((current("fleet-a"), current("fleet-b")), (3, 3), "{}", status.stdout);

    // The same inventory id on fleet-b alone: one --context is today's single-cluster run, unprefixed,
    // and it prunes `two` on fleet-b only — fleet-a's inventory of that id is another object.
    package.remove("cm-two.yaml");
    let single = run(&config, "apply", &package, &["-o", "events", "--context", "fleet-b"]);
    assert_eq!(single.code, 0, "{}", single.output());
    assert!(
        !single.stdout.contains("[fleet-b]") && !single.stdout.contains("fleet apply"),
        "{}",
        single.stdout
    );
    assert!(single.stdout.contains(&format!("ConfigMap/{}/two pruned", ns.name)), "{}", single.stdout);
    assert!(live_config_map(&b, &ns.name, "two").await.is_none());
    assert!(live_config_map(&a, &ns.name, "two").await.is_some(), "fleet-a is not touched");
    assert_eq!(inventory_keys(&a, &package).await.len(), 3);
    assert_eq!(inventory_keys(&b, &package).await.len(), 2);

    // A fleet preview: per cluster what apply would do; fleet-a would prune `two`, nothing is written.
    let preview = run(&config, "preview", &package, &["-o", "events", "--contexts", "fleet-?"]);
    assert_eq!(preview.code, 0, "{}", preview.output());
    let would_prune = format!("[fleet-a] ConfigMap/{}/two pruned (preview)", ns.name);
    assert!(preview.stdout.contains(&would_prune), "{}", preview.stdout);
    assert!(!preview.stdout.contains(&format!("[fleet-b] ConfigMap/{}/two", ns.name)), "{}", preview.stdout);
    assert!(live_config_map(&a, &ns.name, "two").await.is_some());

    // A fleet diff: headers name the cluster; only fleet-a would lose `two` (exit 1: differences).
    let diff = run(&config, "diff", &package, &["--context", "fleet-a,fleet-b"]);
    assert_eq!(diff.code, 1, "{}", diff.output());
    assert!(
        diff.stdout.contains(&format!("--- fleet-a/live/ConfigMap/{}/two\n", ns.name)),
        "{}",
        diff.stdout
    );
    assert!(!diff.stdout.contains("fleet-b/"), "fleet-b matches its manifests: {}", diff.stdout);

    // Destroy on both: each cluster deletes what its own inventory lists.
    let destroyed = run(&config, "destroy", &package, &["-o", "json", "--context", "fleet-a,fleet-b"]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    assert_eq!(summaries(&destroyed), expected);
    let deleted = |cluster: &str| {
        destroyed.json_lines().iter().filter(|l| l["cluster"] == cluster && l["type"] == "delete").count()
    };
    assert_eq!((deleted("fleet-a"), deleted("fleet-b")), (3, 2), "{}", destroyed.stdout);
}

/// A `Widget` CRD (its own group) created on the first plane only, once Established.
async fn widget_crd_on_first_plane(client: &Client) -> (String, CrdCleanup) {
    let group = format!("{}.kapply.test", unique_name("fleet"));
    let crd: CustomResourceDefinition = serde_saphyr::from_str(&widget_crd(&group)).unwrap();
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    api.create(&PostParams::default(), &crd).await.unwrap();
    let cleanup = CrdCleanup(format!("widgets.{group}"));
    eventually("the CRD to be Established", Duration::from_secs(30), || async {
        let crd = api.get(&format!("widgets.{group}")).await.ok()?;
        let conditions = crd.status?.conditions?;
        conditions.iter().any(|c| c.type_ == "Established" && c.status == "True").then_some(())
    })
    .await;
    (group, cleanup)
}

fn widget(group: &str) -> String {
    format!("apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w1}}\nspec: {{size: 3}}\n")
}

#[tokio::test]
async fn a_cluster_that_lacks_a_crd_fails_alone_before_any_write_there() {
    let config = FleetConfig::new();
    let (a, b) = (client().await, second_client().await);
    let (group, _crd) = widget_crd_on_first_plane(&a).await;
    let (package, ns) = package("fleet-crd", &["one"]);
    package.write("widget.yaml", &widget(&group));

    let applied = run(&config, "apply", &package, &["-o", "json", "--context", "fleet-a,fleet-b"]);
    assert_eq!(applied.code, 2, "{}", applied.output());
    assert_eq!(summaries(&applied), [("fleet-a".to_owned(), "success".to_owned())].into());
    let error = applied.json_lines().into_iter().find(|l| l["type"] == "error").expect("an error line");
    assert_eq!(error["cluster"], "fleet-b");
    assert!(error["error"].as_str().unwrap().contains("unknown kind Widget"), "{error}");
    let summary = fleet_summary(&applied);
    assert_eq!((summary["exitCode"].clone(), summary["exitCluster"].clone()), (json!(2), json!("fleet-b")));
    assert!(applied.stderr.contains("kapply apply [fleet-b]:"), "{}", applied.stderr);

    let widgets: Api<DynamicObject> = Api::namespaced_with(a.clone(), &ns.name, &widget_resource(&group));
    assert!(widgets.get_opt("w1").await.unwrap().is_some(), "fleet-a converged");
    assert!(!namespace_exists(&b, &ns.name).await, "nothing was written on fleet-b");

    // The table off a terminal: its final frame once (a line per cluster), each cluster's totals, then
    // the clusters table; the error on stderr, as no live frame is drawn over it.
    let table = run(&config, "apply", &package, &["-o", "table", "--context", "fleet-a,fleet-b"]);
    assert_eq!(table.code, 2, "{}", table.output());
    let line = |start: &str| table.stdout.lines().find(|l| l.starts_with(start)).map(str::to_owned);
    assert!(line("CLUSTER ").is_some_and(|l| l.contains("PROGRESS")), "{}", table.stdout);
    let b_line = line("fleet-b ").unwrap_or_else(|| panic!("no line for fleet-b: {}", table.stdout));
    assert!(b_line.contains("load failed: ") && b_line.contains("unknown kind Widget"), "{b_line}");
    let a_line = line("fleet-a ").unwrap_or_else(|| panic!("no line for fleet-a: {}", table.stdout));
    assert!(a_line.contains("] 3/3") && a_line.ends_with("success"), "{a_line}");
    assert!(line("[fleet-a] 3 resource(s) applied.").is_some(), "{}", table.stdout);
    assert!(table.stdout.ends_with("exit 2 (from fleet-b)\n"), "{}", table.stdout);
    assert!(table.stderr.contains("kapply apply [fleet-b]: "), "{}", table.stderr);
}

#[tokio::test]
async fn a_failing_canary_stops_the_rest_and_so_do_too_many_failures() {
    let config = FleetConfig::new();
    let (a, b) = (client().await, second_client().await);
    let (group, _crd) = widget_crd_on_first_plane(&a).await;
    let (package, ns) = package("fleet-canary", &["one"]);
    package.write("widget.yaml", &widget(&group));

    // fleet-b, the canary, lacks the CRD: fleet-a never starts.
    let canary = run(
        &config,
        "apply",
        &package,
        &["-o", "json", "--context", "fleet-a,fleet-b", "--canary", "fleet-b"],
    );
    assert_eq!(canary.code, 2, "{}", canary.output());
    let not_started: Vec<Value> =
        canary.json_lines().into_iter().filter(|l| l["type"] == "notStarted").collect();
    assert_eq!(not_started.len(), 1, "{}", canary.stdout);
    assert_eq!(not_started[0]["cluster"], "fleet-a");
    assert!(not_started[0]["reason"].as_str().unwrap().contains("canary"), "{}", canary.stdout);
    assert!(!namespace_exists(&a, &ns.name).await, "nothing was written on fleet-a");
    let summary = fleet_summary(&canary);
    assert_eq!(summary["exitCluster"], "fleet-b");

    // One at a time, at most one failure: fleet-b fails first, fleet-a is not started.
    let limited = run(
        &config,
        "apply",
        &package,
        &[
            "-o",
            "events",
            "--context",
            "fleet-b,fleet-a",
            "--cluster-concurrency",
            "1",
            "--max-failures",
            "1",
        ],
    );
    assert_eq!(limited.code, 2, "{}", limited.output());
    assert!(limited.stdout.contains("[fleet-a] not started: too many clusters failed"), "{}", limited.stdout);
    assert!(!namespace_exists(&a, &ns.name).await);

    // fleet-a as the canary succeeds and finishes before fleet-b starts (and fails).
    let ordered = run(
        &config,
        "apply",
        &package,
        &["-o", "json", "--context", "fleet-a,fleet-b", "--canary", "fleet-a"],
    );
    assert_eq!(ordered.code, 2, "{}", ordered.output());
    let lines = ordered.json_lines();
    let summary_a = lines.iter().position(|l| l["cluster"] == "fleet-a" && l["type"] == "summary");
    let first_b = lines.iter().position(|l| l["cluster"] == "fleet-b");
    assert!(summary_a.is_some() && first_b.is_some() && summary_a < first_b, "{}", ordered.stdout);
    assert!(live_config_map(&a, &ns.name, "one").await.is_some());
    assert!(!namespace_exists(&b, &ns.name).await);

    // The events form: a table row per cluster, and which cluster gave the exit code.
    let table = run(&config, "apply", &package, &["-o", "events", "--context", "fleet-a,fleet-b"]);
    assert_eq!(table.code, 2, "{}", table.output());
    let row = |context: &str| {
        table.stdout.lines().find(|l| l.starts_with(&format!("{context} "))).map(str::to_owned)
    };
    let row_b = row("fleet-b").unwrap_or_else(|| panic!("no row for fleet-b: {}", table.stdout));
    assert!(row_b.contains("load failed") && row_b.contains(" 2 "), "{row_b}");
    assert!(row("fleet-a").is_some_and(|r| r.contains("success")), "{}", table.stdout);
    assert!(table.stdout.contains("exit 2 (from fleet-b)"), "{}", table.stdout);
}

#[tokio::test]
async fn an_unreachable_cluster_fails_alone() {
    let config = FleetConfig::new();
    let a = client().await;
    let (package, ns) = package("fleet-dead", &["one"]);
    let applied = run(&config, "apply", &package, &["-o", "events", "--context", "fleet-a,fleet-dead"]);
    assert_eq!(applied.code, 1, "{}", applied.output());
    assert!(live_config_map(&a, &ns.name, "one").await.is_some(), "fleet-a converged");
    let row = |context: &str| {
        applied.stdout.lines().find(|l| l.starts_with(&format!("{context} "))).map(str::to_owned)
    };
    let dead = row("fleet-dead").unwrap_or_else(|| panic!("no row for fleet-dead: {}", applied.stdout));
    assert!(dead.contains("connect failed") && dead.contains("cannot reach the API server"), "{dead}");
    let alive = row("fleet-a").unwrap_or_else(|| panic!("no row for fleet-a: {}", applied.stdout));
    assert!(alive.contains("success"), "{alive}");
    assert!(applied.stdout.contains("exit 1 (from fleet-dead)"), "{}", applied.stdout);
    assert!(
        applied.stderr.contains("kapply apply [fleet-dead]: cannot reach the API server"),
        "{}",
        applied.stderr
    );
}

#[tokio::test]
async fn an_interrupt_stops_every_cluster_cleanly_with_each_inventory_written() {
    let config = FleetConfig::new();
    let (a, b) = (client().await, second_client().await);
    let (package, ns) = package("fleet-sigint", &["one"]);
    package.write("slow.yaml", &unschedulable_deployment("slow", None));
    let dir = package.path().to_str().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kapply"))
        .env("KAPPLY_CHECK_EVENT_ORDER", "1")
        .args(["apply", dir, "-n", &ns.name, "-o", "events", "--context", "fleet-a,fleet-b"])
        .arg("--kubeconfig")
        .arg(config.merged())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the Deployment exists on both: kapply then waits for it on both.
    for client in [&a, &b] {
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(client.clone(), &ns.name);
        eventually("the Deployment to be applied", Duration::from_secs(60), || async {
            deployments.get_opt("slow").await.ok().flatten().map(|_| ())
        })
        .await;
    }
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for context in ["fleet-a", "fleet-b"] {
        let skipped = format!("[{context}] Deployment.apps/{}/slow reconcile skipped", ns.name);
        assert!(stdout.contains(&skipped), "{stdout}");
    }
    for client in [&a, &b] {
        let keys = inventory_keys(client, &package).await;
        assert!(keys.iter().any(|k| k.ends_with("_slow_apps_Deployment")), "{keys:?}");
    }
}

#[tokio::test]
async fn a_selector_filters_the_set_on_every_cluster_as_on_one() {
    let config = FleetConfig::new();
    let (a, b) = (client().await, second_client().await);
    let (package, ns) = package("fleet-selector", &[]);
    let labelled = |name: &str, tier: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"tier": tier}}})
            .to_string()
    };
    package.write("web.yaml", &labelled("web", "front"));
    package.write("db.yaml", &labelled("db", "back"));
    package.write(
        "ns.yaml",
        &json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns.name, "labels": {"tier": "front"}}})
        .to_string(),
    );
    let applied = run(&config, "apply", &package, &["--context", "fleet-a,fleet-b", "-l", "tier=front"]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    for client in [&a, &b] {
        assert!(live_config_map(client, &ns.name, "web").await.is_some(), "{}", applied.output());
        assert!(
            live_config_map(client, &ns.name, "db").await.is_none(),
            "filtered out: {}",
            applied.output()
        );
    }
}
