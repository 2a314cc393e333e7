//! Published manifest bundles that nobody here wrote, through kapply's whole life cycle.
//!
//! Each bundle is a pinned release of a real project, fetched by `scripts/bundles` (which
//! `scripts/test` runs) into `~/.cache/kapply/bundles/<name>-<version>/`. Every test: preview → apply
//! (exit 0, every object created and Current) → a re-apply that reports every object unchanged (but
//! the few the server itself writes again, named with the reason) → client-side and server-side
//! previews reporting every object unchanged, and `diff` showing nothing → prune a few objects →
//! destroy, after which every object of the bundle is gone and stays gone (aggregated ClusterRoles
//! included). Each step's time is printed (`cargo test --test e2e bundles -- --nocapture` shows
//! them); nothing asserts on time.
//!
//! Every document is applied as published (see [`load`] for why none needs a change on kwok); a test
//! only adds a Namespace that a bundle's install instructions tell the user to create. Cluster-scoped
//! objects (CRDs, ClusterRoles, admission policies) have fixed names, so no two tests install the same
//! bundle, and each bundle has an inventory id and namespace of its own.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::Scope;
use serde_json::{Value, json};

use crate::apply::Package;
use crate::support::{Run, client};

/// One bundle of the suite: where it is cached and how a test adapts it.
struct Bundle {
    name: &'static str,
    version: &'static str,
    /// Files of the bundle (paths in its repository), applied in this order.
    files: &'static [&'static str],
    /// Namespace of the inventory, and of the namespaced objects that name none.
    namespace: &'static str,
    /// The bundle ships no Namespace object for `namespace`: the test adds one to the set (as its
    /// install instructions tell a user to create it), so that destroy removes it too.
    add_namespace: bool,
    /// `(kind, name)` of the objects the prune step removes from the set.
    prune: &'static [(&'static str, &'static str)],
    /// `(kind, name)`, sorted, of the objects that the API server itself writes again on the first apply
    /// after their create, though nothing in them changes (`kubectl apply --server-side` run twice
    /// bumps their resourceVersion just the same; the third run writes nothing):
    /// - a custom resource whose CRD schema defaults its `status` (gateway-api's GatewayClass and
    ///   Gateway: "Waiting for controller"): a create stores no status, a read defaults one, and the
    ///   first update stores what it read;
    /// - a ValidatingAdmissionPolicy: its status controller applies `status` right after the create,
    ///   and the next apply of the spec rewrites the field manager's entry (its time, its place in
    ///   `managedFields`) though the fields it owns are the same.
    written_again: &'static [(&'static str, &'static str)],
}

/// One object of a bundle, as a test applies it.
struct Object {
    /// Its file in the package.
    file: String,
    /// Its document, as published.
    text: String,
    /// Its document, parsed.
    body: Value,
}

/// The cache directory of a bundle; fails naming the command that fills it.
fn bundle_dir(bundle: &Bundle) -> PathBuf {
    let root = std::env::var_os("KAPPLY_BUNDLES_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/kapply/bundles")
    });
    let dir = root.join(format!("{}-{}", bundle.name, bundle.version));
    assert!(
        dir.join(".complete").is_file(),
        "the {} {} bundle is not in {}: run `scripts/bundles` (scripts/test does) to fetch it",
        bundle.name,
        bundle.version,
        dir.display()
    );
    dir
}

/// Splits a multi-document YAML file at its `---` lines, each document with its text as published and
/// parsed (empty ones, such as a comment-only head, are left out).
fn documents(text: &str) -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let doc: Value = serde_saphyr::from_str(current).unwrap_or_else(|e| panic!("bad document: {e}"));
        if !doc.is_null() {
            docs.push((std::mem::take(current), doc));
        }
        current.clear();
    };
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            flush(&mut current);
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current);
    docs
}

fn kind(obj: &Value) -> &str {
    obj["kind"].as_str().unwrap_or_default()
}

fn name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

fn group_version(obj: &Value) -> (&str, &str) {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn describe(obj: &Value) -> String {
    let namespace = obj["metadata"]["namespace"].as_str().map(|ns| format!("{ns}/")).unwrap_or_default();
    format!("{} {}{}", kind(obj), namespace, name(obj))
}

/// Reads a bundle from the cache. Every document is kept as published: nothing in these bundles
/// needs a change for the fake cluster (kwok) — no webhook configuration is shipped (kyverno creates
/// its own at run time, which never happens here, as its pods never run), the gateway-api
/// ValidatingAdmissionPolicy is evaluated by the API server itself, and no grace period is long.
fn load(bundle: &Bundle) -> Vec<Object> {
    let dir = bundle_dir(bundle);
    let mut docs = Vec::new();
    if bundle.add_namespace {
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": bundle.namespace}});
        docs.push((namespace.to_string(), namespace));
    }
    for file in bundle.files {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        docs.extend(documents(&text));
    }
    docs.into_iter()
        .enumerate()
        .map(|(i, (text, body))| {
            let file =
                format!("{i:03}-{}-{}.yaml", kind(&body).to_lowercase(), name(&body).replace(':', "_"));
            Object { file, text, body }
        })
        .collect()
}

/// The live object, if it exists. An object whose kind is no longer served (its CRD is gone) does not.
async fn live(client: &Client, obj: &Value, default_namespace: &str) -> Option<DynamicObject> {
    let (group, version) = group_version(obj);
    let gvk = GroupVersionKind::gvk(group, version, kind(obj));
    let (resource, caps): (ApiResource, _) = match kube::discovery::pinned_kind(client, &gvk).await {
        Ok(found) => found,
        Err(_) => return None,
    };
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &resource),
        Scope::Namespaced => {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or(default_namespace);
            Api::namespaced_with(client.clone(), ns, &resource)
        }
    };
    api.get_opt(name(obj)).await.unwrap_or_else(|e| panic!("GET {}: {e}", describe(obj)))
}

fn resource_version_of(obj: &DynamicObject) -> String {
    obj.metadata.resource_version.clone().unwrap_or_default()
}

async fn resource_version(client: &Client, obj: &Value, default_namespace: &str) -> String {
    let live = live(client, obj, default_namespace).await;
    resource_version_of(&live.unwrap_or_else(|| panic!("{} does not exist", describe(obj))))
}

/// The objects among `objects` that exist.
async fn existing<'a>(client: &Client, objects: impl Iterator<Item = &'a Value>, ns: &str) -> Vec<String> {
    let mut found = Vec::new();
    for obj in objects {
        if live(client, obj, ns).await.is_some() {
            found.push(describe(obj));
        }
    }
    found
}

/// Prints how long a step took (shown with `--nocapture`, and with a failing test's output), and for a
/// run that waited, which object it waited for longest.
fn timed(bundle: &Bundle, step: &str, f: impl FnOnce() -> Run) -> Run {
    let start = Instant::now();
    let run = f();
    let elapsed = start.elapsed();
    let mut slowest = String::new();
    if let Some((object, seconds)) = slowest_wait(&run) {
        slowest = format!(" (longest wait: {object}, {seconds:.1}s after the run's first event)");
    }
    eprintln!("[bundle {} {}] {step}: {elapsed:.2?}{slowest}", bundle.name, bundle.version);
    run
}

/// The `reconcile` line written last, and how long after the run's first line.
fn slowest_wait(run: &Run) -> Option<(String, f64)> {
    let lines: Vec<Value> = run.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let at = |line: &Value| line["timestamp"].as_str()?.parse::<jiff::Timestamp>().ok();
    let first = at(lines.first()?)?;
    let last = lines.iter().rev().find(|l| l["type"] == "reconcile")?;
    let object =
        format!("{} {}/{}", last["kind"].as_str()?, last["namespace"].as_str()?, last["name"].as_str()?);
    Some((object, (at(last)? - first).total(jiff::Unit::Second).ok()?))
}

/// The `status` of every line of type `kind`, keyed by the object it names.
fn statuses(run: &Run, line_type: &str) -> Vec<(String, String)> {
    run.json_lines()
        .into_iter()
        .filter(|l| l["type"] == line_type)
        .map(|l| {
            let object = format!(
                "{} {}/{}",
                l["kind"].as_str().unwrap(),
                l["namespace"].as_str().unwrap(),
                l["name"].as_str().unwrap()
            );
            (object, l["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// What a run printed, less its `plan` line (thousands of characters for a bundle) and the
/// `reconcile` lines of objects that did reconcile.
fn brief(run: &Run) -> String {
    let stdout: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.contains(r#""type":"plan""#) && !l.contains(r#""status":"reconciled""#))
        .collect();
    format!("exit {}\n{}\n{}", run.code, stdout.join("\n"), run.stderr)
}

fn summary(run: &Run) -> Value {
    let lines = run.json_lines();
    let last = lines.last().cloned().unwrap_or_else(|| panic!("no output: {}", brief(run)));
    assert_eq!(last["type"], "summary", "{}", brief(run));
    last
}

/// `(kind, name, status)` of `lines`, sorted.
fn kinds_and_names(lines: &[(String, String)]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = lines
        .iter()
        .map(|(object, status)| {
            let (kind, rest) = object.split_once(' ').unwrap();
            let name = rest.rsplit_once('/').map_or(rest, |(_, name)| name);
            (kind.to_owned(), name.to_owned(), status.clone())
        })
        .collect();
    out.sort();
    out
}

/// The objects whose `line_type` line does not have status `want`.
fn not(run: &Run, line_type: &str, want: &str) -> Vec<(String, String)> {
    statuses(run, line_type).into_iter().filter(|(_, status)| status != want).collect()
}

/// The whole life cycle of one bundle.
async fn life_cycle(bundle: &Bundle) {
    let client = client().await;
    let objects = load(bundle);
    let all: Vec<&Value> = objects.iter().map(|o| &o.body).collect();
    let total = all.len();
    let package = Package::with_id(bundle.namespace, &format!("bundle-{}", bundle.name));
    let inventories: Api<ConfigMap> = Api::namespaced(client.clone(), bundle.namespace);
    let inventory_name = format!("inventory-bundle-{}", bundle.name);

    // A run of this test on the same cluster that failed half-way left its objects, listed in its
    // inventory (fixed id): destroy them first, so that this run starts from nothing.
    if inventories.get_opt(&inventory_name).await.unwrap().is_some() {
        eprintln!("[bundle {}] destroying what an earlier run left", bundle.name);
        let leftover = package.run("destroy", &[]);
        assert_eq!(leftover.code, 0, "destroying an earlier run's leftovers: {}", brief(&leftover));
    }
    let before = existing(&client, all.iter().copied(), bundle.namespace).await;
    assert!(before.is_empty(), "objects of the bundle exist before the test applies it: {before:?}");
    for object in &objects {
        package.write(&object.file, &object.text);
    }

    // Preview: every object would be created; nothing is written.
    let preview = timed(bundle, "preview", || package.run("preview", &["--output", "json"]));
    assert_eq!(preview.code, 0, "preview: {}", brief(&preview));
    assert_eq!(not(&preview, "apply", "created"), vec![], "preview: objects not to be created");
    assert_eq!(statuses(&preview, "apply").len(), total, "preview reports on every object");
    let after_preview = existing(&client, all.iter().copied(), bundle.namespace).await;
    assert!(after_preview.is_empty(), "preview wrote: {after_preview:?}");

    // Apply: every object created and Current.
    let apply = timed(bundle, "apply", || package.apply(&["--output", "json"]));
    assert_eq!(apply.code, 0, "apply: {}", brief(&apply));
    let sum = summary(&apply);
    assert_eq!(sum["outcome"], "success", "{sum}");
    assert_eq!(not(&apply, "apply", "created"), vec![], "apply: objects not created");
    assert_eq!(not(&apply, "reconcile", "reconciled"), vec![], "apply: objects not Current");
    assert_eq!(sum["apply"]["created"], total, "{sum}");
    assert_eq!(sum["reconcile"]["reconciled"], total, "{sum}");
    let missing: Vec<String> = {
        let mut missing = Vec::new();
        for obj in &all {
            if live(&client, obj, bundle.namespace).await.is_none() {
                missing.push(describe(obj));
            }
        }
        missing
    };
    assert_eq!(missing, Vec::<String>::new(), "applied objects that do not exist");

    // The same set again. The API server itself writes a few objects on the first apply after their
    // create (`Bundle::written_again`): exactly those must be reported configured, each must really
    // have been written (a new resourceVersion), and one more apply must then change nothing at all.
    // A comparison that took the server's defaulting for a change would fail both ways.
    let written_again: Vec<&Value> = bundle
        .written_again
        .iter()
        .map(|(k, n)| {
            *all.iter().find(|o| kind(o) == *k && name(o) == *n).expect("written_again is in the bundle")
        })
        .collect();
    let mut versions = Vec::new();
    for obj in &written_again {
        versions.push(resource_version(&client, obj, bundle.namespace).await);
    }
    // Every apply sent, so that what the server writes again shows (by default an object whose
    // configuration and owned fields are as the last apply left them is not sent: the third apply).
    let again = timed(bundle, "re-apply", || package.apply(&["--output", "json", "--always-apply"]));
    assert_eq!(again.code, 0, "re-apply: {}", brief(&again));
    let configured: Vec<(&str, &str)> = bundle.written_again.to_vec();
    assert_eq!(
        kinds_and_names(&not(&again, "apply", "unchanged")),
        configured
            .iter()
            .map(|(k, n)| (k.to_string(), n.to_string(), "configured".to_owned()))
            .collect::<Vec<_>>(),
        "re-apply: objects not unchanged, other than those the server writes again"
    );
    for (obj, before) in written_again.iter().zip(&versions) {
        let after = resource_version(&client, obj, bundle.namespace).await;
        assert_ne!(&after, before, "{} reported configured, but the server wrote nothing", describe(obj));
    }
    let third =
        timed(bundle, "re-apply (unchanged objects not sent)", || package.apply(&["--output", "json"]));
    assert_eq!(third.code, 0, "third apply: {}", brief(&third));
    assert_eq!(not(&third, "apply", "unchanged"), vec![], "third apply: objects not unchanged");

    // Preview now, client-side and with server dry runs: every object unchanged. A wrong verdict here
    // writes nothing, so the test carries on (prune and destroy still run, and clean up) and fails at
    // the end.
    let mut wrong_previews = Vec::new();
    for (step, extra) in
        [("preview (applied)", &[][..]), ("preview --server-side (applied)", &["--server-side"][..])]
    {
        let args: Vec<&str> = ["--output", "json"].into_iter().chain(extra.iter().copied()).collect();
        let preview = timed(bundle, step, || package.run("preview", &args));
        assert_eq!(preview.code, 0, "{step}: {}", brief(&preview));
        let changed = not(&preview, "apply", "unchanged");
        if !changed.is_empty() {
            wrong_previews.push(format!("{step}: objects not unchanged: {changed:?}"));
        }
    }

    // diff: nothing.
    let diff = timed(bundle, "diff", || {
        crate::support::kapply(&["diff", package.path().to_str().unwrap(), "-n", bundle.namespace])
    });
    assert_eq!(diff.code, 0, "diff found differences: {}", diff.output());
    assert_eq!(diff.stdout.trim(), "", "diff printed: {}", diff.stdout);

    // Prune: the chosen objects leave the set and the cluster; the rest stays unchanged.
    let mut pruned = Vec::new();
    for (kind_name, object_name) in bundle.prune {
        let object = objects
            .iter()
            .find(|o| kind(&o.body) == *kind_name && name(&o.body) == *object_name)
            .unwrap_or_else(|| panic!("{kind_name} {object_name} is not in the bundle"));
        package.remove(&object.file);
        pruned.push(&object.body);
    }
    let prune = timed(bundle, "prune", || package.apply(&["--output", "json"]));
    assert_eq!(prune.code, 0, "prune: {}", brief(&prune));
    assert_eq!(not(&prune, "prune", "pruned"), vec![], "prune: candidates not pruned");
    assert_eq!(statuses(&prune, "prune").len(), pruned.len(), "prune: {}", prune.stdout);
    assert_eq!(not(&prune, "apply", "unchanged"), vec![], "prune: the rest not unchanged");
    let still = existing(&client, pruned.iter().copied(), bundle.namespace).await;
    assert!(still.is_empty(), "pruned objects still exist: {still:?}");

    // Destroy: everything goes, and stays gone.
    let destroy = timed(bundle, "destroy", || package.run("destroy", &["--output", "json"]));
    assert_eq!(destroy.code, 0, "destroy: {}", brief(&destroy));
    assert_eq!(not(&destroy, "delete", "deleted"), vec![], "destroy: objects not deleted");
    assert_eq!(summary(&destroy)["delete"]["deleted"], total - pruned.len());
    let left = existing(&client, all.iter().copied(), bundle.namespace).await;
    assert!(left.is_empty(), "objects left after destroy: {left:?}");
    assert!(inventories.get_opt(&inventory_name).await.unwrap().is_none(), "the inventory is left");
    // Controllers may re-create what was deleted (the aggregation controller, an aggregated
    // ClusterRole whose sources went after it): look again once they had time to.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let back = existing(&client, all.iter().copied(), bundle.namespace).await;
    assert!(back.is_empty(), "objects back 5 s after destroy: {back:?}");

    assert!(wrong_previews.is_empty(), "after the apply: {}", wrong_previews.join("\n"));
}

/// prometheus-operator: ten huge CRDs (bundle.yaml is 4 MB) and custom resources of them in one set,
/// among them an AlertmanagerConfig, served only as `monitoring.coreos.com/v1alpha1` where the group
/// prefers `v1`. The operator goes to the `default` namespace, as published; the custom resources to
/// a namespace of their own.
#[tokio::test]
async fn bundle_prometheus_operator() {
    life_cycle(&Bundle {
        name: "prometheus-operator",
        version: "v0.85.0",
        files: &[
            "bundle.yaml",
            "example/user-guides/alerting/alertmanager-example.yaml",
            "example/user-guides/alerting/alertmanager-config-example.yaml",
            "example/user-guides/alerting/prometheus-example.yaml",
            "example/user-guides/alerting/prometheus-example-rules.yaml",
            "example/user-guides/getting-started/example-app-service-monitor.yaml",
        ],
        namespace: "bundle-prometheus-operator",
        add_namespace: true,
        prune: &[("ServiceMonitor", "example-app"), ("PrometheusRule", "prometheus-example-rules")],
        written_again: &[],
    })
    .await;
}

/// kyverno: 22 CRDs, a Namespace, four aggregated ClusterRoles (and the roles aggregated into them), and
/// a ClusterPolicy, served as `kyverno.io/v1` where the group prefers `v2`.
#[tokio::test]
async fn bundle_kyverno() {
    life_cycle(&Bundle {
        name: "kyverno",
        version: "v1.19.1",
        files: &[
            "config/install-latest-testing.yaml",
            "cmd/cli/kubectl-kyverno/_testdata/policies/cpol-pod-requirements.yaml",
        ],
        namespace: "kyverno",
        add_namespace: false,
        prune: &[("ClusterPolicy", "pod-requirements"), ("Service", "kyverno-svc-metrics")],
        written_again: &[],
    })
    .await;
}

/// gateway-api: the standard channel's CRDs, its ValidatingAdmissionPolicy and binding (enforced by the
/// API server on every CRD write while the test runs), and a GatewayClass, Gateway and HTTPRoute.
#[tokio::test]
async fn bundle_gateway_api() {
    life_cycle(&Bundle {
        name: "gateway-api",
        version: "v1.6.3",
        files: &[
            "config/crd/standard/gateway.networking.k8s.io_vap_safeupgrades.yaml",
            "config/crd/standard/gateway.networking.k8s.io_backendtlspolicies.yaml",
            "config/crd/standard/gateway.networking.k8s.io_gatewayclasses.yaml",
            "config/crd/standard/gateway.networking.k8s.io_gateways.yaml",
            "config/crd/standard/gateway.networking.k8s.io_grpcroutes.yaml",
            "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
            "config/crd/standard/gateway.networking.k8s.io_listenersets.yaml",
            "config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml",
            "config/crd/standard/gateway.networking.k8s.io_tcproutes.yaml",
            "config/crd/standard/gateway.networking.k8s.io_tlsroutes.yaml",
            "config/crd/standard/gateway.networking.k8s.io_udproutes.yaml",
            "examples/standard/basic-http.yaml",
        ],
        namespace: "bundle-gateway-api",
        add_namespace: true,
        prune: &[
            ("HTTPRoute", "http-app-1"),
            ("CustomResourceDefinition", "udproutes.gateway.networking.k8s.io"),
        ],
        written_again: &[
            ("Gateway", "my-gateway"),
            ("GatewayClass", "example"),
            ("ValidatingAdmissionPolicy", "safe-upgrades.gateway.networking.k8s.io"),
        ],
    })
    .await;
}

/// argo-cd: its install.yaml — CRDs, a StatefulSet, six Deployments, NetworkPolicies, Secrets,
/// cluster and namespace RBAC — in the `argocd` namespace its ClusterRoleBindings name.
#[tokio::test]
async fn bundle_argo_cd() {
    life_cycle(&Bundle {
        name: "argo-cd",
        version: "v3.5.7",
        files: &["manifests/install.yaml"],
        namespace: "argocd",
        add_namespace: true,
        prune: &[
            ("NetworkPolicy", "argocd-dex-server-network-policy"),
            ("Deployment", "argocd-dex-server"),
            ("Service", "argocd-dex-server"),
        ],
        written_again: &[],
    })
    .await;
}
