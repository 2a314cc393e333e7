//! How fast does `kapply apply` notice that an object became Current, in each `--wait-mode`?
//!
//! For each mode and repetition: apply a custom resource whose status says Ready=False (InProgress),
//! wait until kapply reports it applied, flip its status to Ready=True at a random moment, and time
//! how long kapply takes to report it reconciled. Prints the figures; asserts nothing.
//!
//! Run: `scripts/testenv up` then `KUBECONFIG=<its kubeconfig> cargo bench --bench wait_latency`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kapply::cluster::{ApplyOptions, Cluster, ConnectOptions};
use kapply::manifest::{self, Input, LoadOptions, UnknownKinds};
use kapply::object::ObjRef;
use serde_json::{Value, json};

const REPETITIONS: usize = 5;
const GROUP: &str = "bench.kapply.test";

fn main() {
    // `cargo test --all-targets` runs benchmark binaries too, without `--bench`: this one writes to a
    // cluster and measures, so it only runs under `cargo bench`.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("wait_latency is a benchmark: run it with `cargo bench --bench wait_latency`");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let kubeconfig = std::env::var("KUBECONFIG").expect(
        "set KUBECONFIG to a test cluster: `scripts/testenv up` prints one (this benchmark writes to the cluster)",
    );
    let cluster =
        Cluster::connect(&ConnectOptions::default().kubeconfig(kubeconfig.clone())).await.expect("connect");
    install_crd(&cluster).await;
    let kapply = env!("CARGO_BIN_EXE_kapply");
    println!("wait_latency: time from an object becoming Current to kapply reporting it (ms)");
    for mode in ["poll", "watch"] {
        let mut latencies = Vec::new();
        for rep in 0..REPETITIONS {
            latencies.push(measure(&cluster, kapply, &kubeconfig, mode, rep).await);
        }
        latencies.sort();
        let ms: Vec<u128> = latencies.iter().map(Duration::as_millis).collect();
        println!(
            "  --wait-mode {mode:5}: median {:4} ms, max {:4} ms  (runs: {ms:?})",
            ms[ms.len() / 2],
            ms[ms.len() - 1]
        );
    }
}

async fn install_crd(cluster: &Cluster) {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{GROUP}")},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]},
    });
    apply(cluster, &crd).await;
    for _ in 0..100 {
        cluster.refresh_discovery().await.unwrap();
        if cluster.resolve(&kapply::GroupKind::new(GROUP, "Gadget"), None).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the Gadget CRD did not become served");
}

async fn apply(cluster: &Cluster, body: &Value) {
    let options = LoadOptions { unknown_kinds: UnknownKinds::AssumeNamespaced, ..LoadOptions::default() };
    let objects =
        manifest::load(&[Input::text("bench.yaml", body.to_string())], &options, &manifest::BuiltinScopes)
            .expect("valid bench object");
    let apply = ApplyOptions { field_manager: "bench".into(), force_conflicts: true, dry_run: false };
    cluster.apply(&objects[0], &objects[0].body, None, &apply).await.expect("apply");
}

async fn measure(cluster: &Cluster, kapply: &str, kubeconfig: &str, mode: &str, rep: usize) -> Duration {
    let ns = format!("bench-wait-{mode}-{rep}-{}", std::process::id());
    apply(cluster, &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})).await;
    let dir = tempfile::tempdir().unwrap();
    let gadget = json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "Gadget", "metadata": {"name": "g", "namespace": ns},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Starting", "message": "not yet"}]},
    });
    std::fs::write(dir.path().join("gadget.yaml"), gadget.to_string()).unwrap();
    let mut child = Command::new(kapply)
        .args(["apply", dir.path().to_str().unwrap(), "--inventory-id", &ns, "-n", &ns, "-o", "json"])
        .args(["--wait-mode", mode, "--kubeconfig", kubeconfig, "--reconcile-timeout", "60s"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run kapply");
    // A reader thread timestamps nothing itself: the receiver sees each line as soon as it is printed.
    let stdout = child.stdout.take().unwrap();
    let (sender, events) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let next_event = |wanted: &str| loop {
        let event = events.recv().expect("kapply ended early");
        if event["type"] == wanted && event["kind"] == "Gadget" {
            return event;
        }
    };
    next_event("apply");
    // Flip the status at a moment unrelated to kapply's polling schedule.
    let jitter = u64::from(std::process::id() as u16 ^ (rep as u16 * 7919)) % 1000;
    tokio::time::sleep(Duration::from_millis(jitter)).await;
    let target = ObjRef::new(GROUP, "Gadget", Some(&ns), "g");
    let started = Instant::now();
    let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Done", "message": "ok"}]}});
    cluster.merge_patch(&target, &ready).await.expect("flip status");
    let reconciled = next_event("reconcile");
    let latency = started.elapsed();
    assert_eq!(reconciled["status"], "reconciled", "{reconciled}");
    child.wait().unwrap();
    latency
}
