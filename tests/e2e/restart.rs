//! A real apiserver restart: the kube-apiserver of a private control plane is stopped and started
//! again (`scripts/testenv restart-apiserver`) while kapply applies, and while it waits; the run must
//! converge with nothing lost.
//!
//! Each test has a control plane of its own (the shared one serves the tests running in parallel).
//! The restart is triggered by what kapply prints as it streams, never by a sleep, and each test
//! proves from the server's own data that the restart landed where it meant it to: the restart reports
//! etcd's revision while the apiserver was down, and a resourceVersion is the etcd revision of the
//! object's last write, so each object says whether the old apiserver wrote it or the new one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::apply::{Package, config_map};
use crate::support::{Run, client_for, repo_root, unique_name};

const OWNING_INVENTORY: &str = "config.k8s.io/owning-inventory";

/// How the apiserver is stopped before it is started again.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// SIGTERM, as a rolling upgrade does: it drains requests in flight and closes its connections.
    Graceful,
    /// SIGKILL, as a crash does: requests in flight are cut.
    Kill,
}

/// A control plane of one test's own, stopped (`scripts/testenv down`) when dropped, and by its
/// watchdog if this process dies first.
struct PrivatePlane {
    state: PathBuf,
    kubeconfig: PathBuf,
}

impl PrivatePlane {
    fn up(test: &str) -> Self {
        let state = std::env::temp_dir().join(format!("restart-{test}-{}", std::process::id()));
        let output = testenv(&state, &["up"]);
        assert!(
            output.status.success(),
            "could not start the private control plane of {test} ({}).\n{}\n\
             If binaries are missing, run: scripts/testenv install",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let kubeconfig =
            PathBuf::from(stdout.lines().last().expect("testenv up prints the kubeconfig").trim());
        PrivatePlane { state, kubeconfig }
    }

    /// Stops the apiserver, starts it again and waits until it is ready. Returns etcd's revision
    /// while it was down: every write with a resourceVersion up to it happened before the stop.
    fn restart_apiserver(&self, stop: Stop) -> u64 {
        let args: &[&str] = match stop {
            Stop::Graceful => &["restart-apiserver"],
            Stop::Kill => &["restart-apiserver", "--kill"],
        };
        let output = testenv(&self.state, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "restart-apiserver failed ({}):\n{stderr}", output.status);
        eprintln!("{stderr}");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("etcd-revision-at-stop="))
            .and_then(|revision| revision.parse().ok())
            .unwrap_or_else(|| panic!("restart-apiserver printed no etcd-revision-at-stop=N:\n{stderr}"))
    }

    /// A new client: one made before a restart holds connections to the old apiserver.
    async fn client(&self) -> Client {
        client_for(&self.kubeconfig).await
    }
}

impl Drop for PrivatePlane {
    fn drop(&mut self) {
        let output = testenv(&self.state, &["down"]);
        if !output.status.success() {
            eprintln!("testenv down: {}", String::from_utf8_lossy(&output.stderr));
        }
    }
}

fn testenv(state: &Path, args: &[&str]) -> std::process::Output {
    let script = repo_root().join("scripts/testenv");
    Command::new(&script)
        .args(args)
        .env("KAPPLY_TESTENV_STATE", state)
        .env("KAPPLY_TESTENV_OWNER", std::process::id().to_string())
        .env_remove("KAPPLY_TESTENV_AUDIT_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}

/// `kapply apply` running in the background, its standard output read line by line as it streams.
struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<thread::JoinHandle<String>>,
}

impl Streaming {
    /// `kapply apply DIR -n NAMESPACE --poll-period 250ms --output events EXTRA…`, as
    /// [`Package::run_via`] runs it.
    fn apply(kubeconfig: &Path, package: &Package, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kapply"))
            .env("KAPPLY_CHECK_EVENT_ORDER", "1")
            .arg("apply")
            .arg(package.path())
            .args(["-n", &package.namespace, "--poll-period", "250ms", "--output", "events"])
            .args(extra)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env_remove("KUBECONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kapply");
        // Both pipes are drained all along: a full pipe would hold kapply up, not the apiserver.
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Streaming { child, lines, seen: Vec::new(), stderr: Some(stderr) }
    }

    /// Reads the output until `count` lines satisfy `matches`; panics if kapply ends first.
    fn until(&mut self, what: &str, count: usize, matches: impl Fn(&str) -> bool) {
        let mut found = self.seen.iter().filter(|line| matches(line)).count();
        while found < count {
            let Ok(line) = self.lines.recv() else {
                let run = self.finish();
                panic!("kapply ended (exit {}) before {what}:\n{}", run.code, run.output());
            };
            found += usize::from(matches(&line));
            self.seen.push(line);
        }
    }

    /// Waits for kapply to exit; everything it printed.
    fn finish(&mut self) -> Run {
        let status = self.child.wait().expect("wait for kapply");
        self.seen.extend(self.lines.iter());
        let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        let mut stdout = self.seen.join("\n");
        stdout.push('\n');
        Run { code: status.code().unwrap_or(-1), stdout, stderr }
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        // Only on a failed test: a kapply still running is ours to stop.
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn create_namespace(client: &Client, test: &str) -> String {
    let name = unique_name(test);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    name
}

fn resource_version(obj: &impl ResourceExt) -> u64 {
    obj.resource_version().and_then(|rv| rv.parse().ok()).expect("a numeric resourceVersion")
}

/// Every ConfigMap and Deployment of `namespace` but the inventory and `kube-root-ca.crt`, by inventory key, with the
/// resourceVersion of its last write (a Deployment's moves with its status) and its owning inventory.
async fn live_objects(client: &Client, namespace: &str, id: &str) -> BTreeMap<String, (u64, Option<String>)> {
    let mut live = BTreeMap::new();
    for cm in
        Api::<ConfigMap>::namespaced(client.clone(), namespace).list(&ListParams::default()).await.unwrap()
    {
        // The controller-manager's CA bundle is in every namespace.
        if cm.name_any() == format!("inventory-{id}") || cm.name_any() == "kube-root-ca.crt" {
            continue;
        }
        live.insert(
            format!("{namespace}_{}__ConfigMap", cm.name_any()),
            (resource_version(&cm), cm.annotations().get(OWNING_INVENTORY).cloned()),
        );
    }
    for d in
        Api::<Deployment>::namespaced(client.clone(), namespace).list(&ListParams::default()).await.unwrap()
    {
        live.insert(
            format!("{namespace}_{}_apps_Deployment", d.name_any()),
            (resource_version(&d), d.annotations().get(OWNING_INVENTORY).cloned()),
        );
    }
    live
}

const CONFIGMAPS: usize = 500;
const DEPLOYMENTS: usize = 5;
/// The apiserver is stopped once this many ConfigMaps are reported created: about 5 % of the set,
/// which kapply applies at some 500 objects a second, so the rest are still to be sent.
const STOP_AFTER: usize = 25;

#[tokio::test]
async fn an_apiserver_killed_and_restarted_in_the_middle_of_an_apply_loses_nothing_and_the_run_converges() {
    restart_mid_apply("apply-kill", Stop::Kill).await;
}

/// Found by this test: the apiserver stops listening at once on SIGTERM and is gone for about 40 s,
/// longer than kapply used to retry a refused connection (16 s), so the applies in flight failed.
#[tokio::test]
async fn an_apiserver_restarted_gracefully_in_the_middle_of_an_apply_loses_nothing_and_the_run_converges() {
    restart_mid_apply("apply-term", Stop::Graceful).await;
}

/// Stops the apiserver once kapply has applied [`STOP_AFTER`] of a set of [`CONFIGMAPS`] ConfigMaps
/// and [`DEPLOYMENTS`] Deployments, then starts it again; the run must converge by itself.
async fn restart_mid_apply(test: &str, stop: Stop) {
    let plane = PrivatePlane::up(test);
    let client = plane.client().await;
    let ns = create_namespace(&client, &format!("restart-{test}")).await;
    let package = Package::new(&ns, "restart-apply");
    let mut expected = BTreeSet::new();
    for i in 0..CONFIGMAPS {
        let name = format!("cm-{i:03}");
        package.write(&format!("{name}.yaml"), &config_map(&name, json!({})));
        expected.insert(format!("{ns}_{name}__ConfigMap"));
    }
    for i in 0..DEPLOYMENTS {
        let name = format!("web-{i}");
        package.write(&format!("{name}.yaml"), &crate::proof::deployment(&name, 1, json!({})).to_string());
        expected.insert(format!("{ns}_{name}_apps_Deployment"));
    }

    let mut apply =
        Streaming::apply(&plane.kubeconfig, &package, &["--reconcile-timeout", "3m", "--timeout", "4m"]);
    let created = |line: &str| line.starts_with("ConfigMap/") && line.ends_with(" created");
    apply.until(&format!("{STOP_AFTER} ConfigMaps were created"), STOP_AFTER, created);
    let stopped_at = plane.restart_apiserver(stop);
    let run = apply.finish();

    // The contract: kapply retries what failed on the way (cut requests wherever a replay is harmless,
    // refused connections for as long as a restart takes once the cluster has answered), so the run
    // itself converges; the re-run below then has nothing left to do.
    assert_eq!(run.code, 0, "{stop:?}: the run rides out the restart:\n{}", run.output());
    let client = plane.client().await;
    let live = live_objects(&client, &ns, &package.id).await;
    let live_keys: BTreeSet<String> = live.keys().cloned().collect();
    assert!(
        live_keys == expected,
        "exactly the set exists; missing {:?}, extra {:?}",
        expected.difference(&live_keys).collect::<Vec<_>>(),
        live_keys.difference(&expected).collect::<Vec<_>>()
    );
    let not_ours: Vec<&String> =
        live.iter().filter(|(_, (_, owner))| owner.as_ref() != Some(&package.id)).map(|(k, _)| k).collect();
    assert!(not_ours.is_empty(), "every object carries our owning-inventory annotation: {not_ours:?}");
    assert_eq!(package.inventory_keys(&client).await, expected, "the inventory lists exactly the set");
    for key in &expected {
        let (name, kind) = match key.strip_suffix("__ConfigMap") {
            Some(rest) => (&rest[ns.len() + 1..], "ConfigMap"),
            None => (&key[ns.len() + 1..key.len() - "_apps_Deployment".len()], "Deployment.apps"),
        };
        for event in ["created", "reconciled"] {
            let line = format!("{kind}/{ns}/{name} {event}");
            let times = run.stdout.lines().filter(|l| *l == line).count();
            assert_eq!(times, 1, "`{line}` printed once:\n{}", run.output());
        }
    }

    // Where the restart landed: some of the set was written by the apiserver that was killed, the rest
    // by the one that replaced it (a ConfigMap is written once: its resourceVersion is its creation).
    let (before, after): (Vec<u64>, Vec<u64>) = live
        .iter()
        .filter(|(key, _)| key.ends_with("__ConfigMap"))
        .map(|(_, (rv, _))| *rv)
        .partition(|rv| *rv <= stopped_at);
    assert!(
        before.len() >= STOP_AFTER && !after.is_empty(),
        "{stop:?}: the stop landed in the middle of the apply: {} ConfigMaps written before it (etcd \
         revision {stopped_at}), {} after",
        before.len(),
        after.len()
    );
    eprintln!(
        "{stop:?}: stopped at etcd revision {stopped_at}: {} ConfigMaps written before, {} after",
        before.len(),
        after.len()
    );

    let again = package.run_via(&plane.kubeconfig, "apply", &[]);
    assert_eq!(again.code, 0, "{}", again.output());
    let unchanged = again.stdout.lines().filter(|l| l.ends_with(" unchanged")).count();
    assert_eq!(unchanged, expected.len(), "a re-run finds everything applied:\n{}", again.output());
}

/// Deployments that cannot become Available before a node carries `label`, and a ConfigMap that
/// depends on one of them.
fn waiting_set(package: &Package, label: &str) {
    for name in ["web-0", "web-1"] {
        let mut d = crate::proof::deployment(name, 1, json!({}));
        d["spec"]["template"]["spec"]["nodeSelector"] = json!({label: "true"});
        package.write(&format!("{name}.yaml"), &d.to_string());
    }
    let ns = &package.namespace;
    let after = json!({"config.kubernetes.io/depends-on": format!("apps/namespaces/{ns}/Deployment/web-0")});
    package.write("after.yaml", &config_map("after", after));
}

/// Restarts the apiserver while kapply waits for Deployments that can only become Available after the
/// restart: their pods are schedulable only once a node carries a label set after it.
async fn restart_mid_wait(plane: &PrivatePlane, wait_mode: &str, stop: Stop) {
    let ns = create_namespace(&plane.client().await, &format!("restart-wait-{wait_mode}")).await;
    let package = Package::new(&ns, "restart-wait");
    let label = format!("kapply.test/{ns}");
    waiting_set(&package, &label);

    let mut apply = Streaming::apply(
        &plane.kubeconfig,
        &package,
        &["--wait-mode", wait_mode, "--status-events", "--reconcile-timeout", "3m", "--timeout", "4m"],
    );
    // The wait has begun and observed each Deployment: the first InProgress line of each comes from
    // its apply's response ("Replicas: 0/1", no status yet), the second (a status event is printed
    // on a change only) from the watch or the poll, once the controller has published a status.
    for name in ["web-0", "web-1"] {
        let prefix = format!("Deployment.apps/{ns}/{name} is InProgress");
        apply.until(&format!("the wait observed {name}"), 2, |line| line.starts_with(&prefix));
    }
    let stopped_at = plane.restart_apiserver(stop);
    let client = plane.client().await;
    Api::<Node>::all(client.clone())
        .patch(
            "kwok-node-0",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {label.as_str(): "true"}}})),
        )
        .await
        .expect("label the node");
    let run = apply.finish();

    assert_eq!(run.code, 0, "{wait_mode}: the wait rides out the restart:\n{}", run.output());
    for name in ["web-0", "web-1"] {
        let line = format!("Deployment.apps/{ns}/{name} reconciled");
        assert!(run.stdout.lines().any(|l| l == line), "{wait_mode}: `{line}`:\n{}", run.output());
        // kapply saw it Available; after a killed apiserver the controllers may take a moment to
        // publish it again (a node heartbeat missed during the outage), so look until they have.
        let deployments = Api::<Deployment>::namespaced(client.clone(), &ns);
        crate::support::eventually(
            &format!("{wait_mode}: {name} Available"),
            std::time::Duration::from_secs(60),
            || {
                let deployments = deployments.clone();
                async move {
                    let d = deployments.get(name).await.ok()?;
                    (d.status.and_then(|s| s.available_replicas).unwrap_or(0) == 1).then_some(())
                }
            },
        )
        .await;
    }
    // What waited on web-0 was applied after the restart, by the new apiserver.
    let after = Api::<ConfigMap>::namespaced(client.clone(), &ns).get("after").await.expect("after applied");
    assert!(resource_version(&after) > stopped_at, "{wait_mode}: `after` written after the restart");
    let expected: BTreeSet<String> = [
        format!("{ns}_web-0_apps_Deployment"),
        format!("{ns}_web-1_apps_Deployment"),
        format!("{ns}_after__ConfigMap"),
    ]
    .into();
    assert_eq!(package.inventory_keys(&client).await, expected, "{wait_mode}");
}

#[tokio::test]
async fn an_apiserver_restarted_in_the_middle_of_a_watch_wait_and_killed_in_a_polling_wait_is_ridden_out() {
    let plane = PrivatePlane::up("wait");
    restart_mid_wait(&plane, "watch", Stop::Graceful).await;
    restart_mid_wait(&plane, "poll", Stop::Kill).await;
}
