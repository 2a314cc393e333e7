//! kubectl habits end to end: `version` against the server, `apply -l` (and what a filtered run
//! leaves alone), `--dry-run`, `--as` impersonation, and the request log at `-vv`.

use serde_json::json;

use crate::apply::{Package, config_map, live_config_map};
use crate::support::{TestNamespace, client, kapply};

fn labelled(name: &str, app: &str) -> String {
    serde_json::to_string(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": app}},
        "data": {"key": name},
    }))
    .unwrap()
}

#[tokio::test]
async fn version_shows_the_server_version_of_the_cluster() {
    let client = client().await;
    let expected = client.apiserver_version().await.unwrap().git_version;
    let run = kapply(&["version", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["serverVersion"]["gitVersion"], expected, "{json}");
    assert!(json.get("serverError").is_none(), "{json}");
    let text = kapply(&["version"]);
    assert!(text.stdout.contains(&format!("server: {expected}\n")), "{}", text.stdout);
}

#[tokio::test]
async fn a_selector_applies_only_what_it_selects_and_a_filtered_run_prunes_nothing_it_left_out() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "kubectl-selector").await;
    let n = &ns.name;
    let package = Package::new(n, "selector");
    package.write("web.yaml", &labelled("web", "web"));
    package.write("db.yaml", &labelled("db", "db"));
    package.write("gone.yaml", &labelled("gone", "web"));
    let first = package.apply(&["-l", "app=web"]);
    assert_eq!(first.code, 0, "{}", first.output());
    assert!(live_config_map(&client, n, "web").await.is_some());
    assert!(live_config_map(&client, n, "db").await.is_none(), "not selected, not applied");
    assert!(!first.stdout.contains("ConfigMap/{n}/db"), "{}", first.stdout);

    let all = package.apply(&[]);
    assert_eq!(all.code, 0, "{}", all.output());
    assert_eq!(package.inventory_keys(&client).await.len(), 3);

    // `db` changes but is filtered out; `gone` leaves the manifests: only `gone` is pruned.
    package.write("db.yaml", &labelled("db", "db").replace("\"key\":\"db\"", "\"key\":\"changed\""));
    package.remove("gone.yaml");
    let filtered = package.apply(&["-l", "app=web"]);
    assert_eq!(filtered.code, 0, "{}", filtered.output());
    let db = live_config_map(&client, n, "db").await.expect("a filtered-out object is not pruned");
    assert_eq!(db.data.unwrap()["key"], "db", "nor applied");
    assert!(live_config_map(&client, n, "gone").await.is_none(), "what left the manifests is pruned");
    let keys = package.inventory_keys(&client).await;
    assert!(keys.contains(&format!("{n}_db__ConfigMap")), "it stays in the inventory: {keys:?}");
    assert!(!keys.contains(&format!("{n}_gone__ConfigMap")), "{keys:?}");

    let none = package.apply(&["-l", "app=nothing"]);
    assert_eq!(none.code, 2, "{}", none.output());
    assert!(none.stderr.contains("matches the label selector \"app=nothing\""), "{}", none.stderr);
}

#[tokio::test]
async fn apply_dry_run_writes_nothing_and_server_side_is_accepted() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "kubectl-dry-run").await;
    let package = Package::new(&ns.name, "dry-run");
    package.write("a.yaml", &config_map("a", json!({})));
    for mode in ["--dry-run=client", "--dry-run=server"] {
        let run = package.apply(&[mode, "--server-side"]);
        assert_eq!(run.code, 0, "{mode}: {}", run.output());
        assert!(run.stdout.contains(&format!("ConfigMap/{}/a created", ns.name)), "{mode}: {}", run.stdout);
        assert!(live_config_map(&client, &ns.name, "a").await.is_none(), "{mode} wrote the object");
    }
    let real = package.apply(&["--server-side", "--dry-run=none"]);
    assert_eq!(real.code, 0, "{}", real.output());
    assert!(live_config_map(&client, &ns.name, "a").await.is_some());
}

#[tokio::test]
async fn as_impersonates_a_user_whose_lack_of_rights_the_server_reports() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "kubectl-as").await;
    let package = Package::new(&ns.name, "as");
    package.write("a.yaml", &config_map("a", json!({})));
    let run = package.apply(&["--as", "nobody-in-particular", "--as-group", "no-group"]);
    assert_ne!(run.code, 0, "{}", run.output());
    assert!(
        run.output().contains("nobody-in-particular"),
        "the server names the impersonated user: {}",
        run.output()
    );
    assert!(live_config_map(&client, &ns.name, "a").await.is_none());
}

#[tokio::test]
async fn vv_logs_each_request_with_its_status_and_never_a_secret() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "kubectl-log").await;
    let package = Package::new(&ns.name, "log");
    package.write(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2-in-plain-sight}\n",
    );
    let run = package.apply(&["-vv"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(run.stderr.contains("GET /version 200"), "{}", run.stderr);
    let patch = format!("PATCH /api/v1/namespaces/{}/secrets/s?", ns.name);
    assert!(run.stderr.lines().any(|l| l.contains(&patch) && l.contains(" 201 ")), "{}", run.stderr);
    assert!(!run.output().contains("hunter2-in-plain-sight"), "{}", run.output());
    assert!(!run.stderr.to_lowercase().contains("bearer"), "{}", run.stderr);
}
