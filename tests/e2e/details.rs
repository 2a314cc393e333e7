//! Details: why an object is not Current yet, from the Pods (and Events) it generates, shown in the
//! events output, the JSON lines and the timeout summary; `--fail-fast-on` ends such a wait early
//! (exit 4). Against the real scheduler and controllers; where kwok would fake a healthy container,
//! the test writes the Pod's status subresource itself, as a kubelet would.
//!
//! kwok (its Stage definitions, see `scripts/testenv`) makes a Pod Running and Ready: `pod-create`
//! matches Pods without a `status.podIP`, `pod-ready` Pending Pods whose `Initialized` condition is
//! True. The Pods patched here get a `podIP` and no `Initialized` condition, so neither stage matches
//! them again; the template's `pod-create` delay annotations (delay and jitter, both needed: kwok takes
//! the jitter when it is below the delay) keep kwok away until the patch lands.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::apply::Package;
use crate::support::{Run, TestNamespace, client, eventually};

/// A Deployment of one Pod labelled `app: <name>`; `spec` is merged into the Pod spec and
/// `annotations` into the Pod template's.
fn deployment(name: &str, pod_spec: &str, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: 1\n  selector: \
         {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}, annotations: \
         {{{annotations}}}}}\n    spec: {{containers: [{{name: app, image: registry.invalid/{name}:1}}]{pod_spec}}}\n"
    )
}

/// kwok leaves the Pod alone for an hour (see the module documentation).
const KWOK_WAITS: &str =
    "pod-create.stage.kwok.x-k8s.io/delay: 1h, pod-create.stage.kwok.x-k8s.io/jitter-delay: 1h";

/// The one Pod labelled `app: <app>` once it exists, by name.
async fn pod_named(namespace: &str, app: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(client().await, namespace);
    let selector = format!("app={app}");
    eventually(&format!("a Pod of {app}"), std::time::Duration::from_secs(60), || {
        let (pods, selector) = (pods.clone(), selector.clone());
        async move {
            let list = pods.list(&ListParams::default().labels(&selector)).await.ok()?;
            list.items.first().and_then(|p| p.metadata.name.clone())
        }
    })
    .await
}

/// Writes the Pod's status as a kubelet would: `status` replaces the lists it names.
async fn set_pod_status(namespace: &str, pod: &str, status: Value) {
    let pods: Api<Pod> = Api::namespaced(client().await, namespace);
    pods.patch_status(pod, &PatchParams::default(), &Patch::Merge(json!({"status": status})))
        .await
        .unwrap_or_else(|e| panic!("patch the status of Pod/{namespace}/{pod}: {e}"));
}

/// The status of a Pod whose container `app` waits for `waiting` (`reason`, `message`), with
/// `extra` fields of that container status.
fn waiting_pod(phase: &str, waiting: Value, extra: Value) -> Value {
    let mut container = json!({
        "name": "app", "image": "registry.invalid/x:1", "imageID": "", "ready": false, "restartCount": 0,
        "started": false, "state": {"waiting": waiting},
    });
    for (key, value) in extra.as_object().into_iter().flatten() {
        container[key] = value.clone();
    }
    json!({
        "phase": phase, "podIP": "10.0.0.99", "hostIP": "10.0.0.1",
        "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
             "message": "containers with unready status: [app]"},
        ],
        "containerStatuses": [container],
    })
}

/// The text of a run after its totals: the summary's list of objects not Current.
fn summary_part(run: &Run) -> &str {
    let at =
        run.stdout.find("resource(s) reconciled").unwrap_or_else(|| panic!("no totals:\n{}", run.output()));
    &run.stdout[at..]
}

/// The details (as `reason`s) of every JSON line of `type_` whose object is `name`, read at `path`.
fn json_reasons(run: &Run, type_: &str, name: &str, pointer: &str) -> Vec<String> {
    run.json_lines()
        .iter()
        .filter(|line| line["type"] == type_ && line["name"] == name)
        .filter_map(|line| line.pointer(pointer)?.as_array().cloned())
        .flatten()
        .filter_map(|detail| Some(detail["reason"].as_str()?.to_owned()))
        .collect()
}

/// The checks every case makes: `object` (`Kind/ns/name`, named `name`) waits with a detail `reason`
/// found on `on` (a Pod's name prefix, or the object itself) and `words` in its message — in the events
/// output's reconcile line and timeout summary, in the JSON reconcile line and summary — and
/// `--fail-fast-on <reason>` ends its wait as Failed, exit 4.
fn check_details(package: &Package, object: &str, name: &str, reason: &str, on: &str, words: &str) {
    let run = package.apply(&["--reconcile-timeout", "3s"]);
    assert_eq!(run.code, 3, "a reconcile timeout:\n{}", run.output());
    let detail = |text: &str| {
        text.lines().any(|l| l.contains(on) && l.contains(&format!("({reason})")) && l.contains(words))
    };
    let timeout_line = format!("{object} reconcile timeout: InProgress");
    // The indented lines right after the reconcile timeout line are its details.
    let (_, after) = run
        .stdout
        .split_once(&timeout_line)
        .unwrap_or_else(|| panic!("no {timeout_line:?}:\n{}", run.output()));
    let details: Vec<&str> = after.lines().skip(1).take_while(|l| l.starts_with("  ")).collect();
    assert!(
        detail(&details.join("\n")),
        "the reconcile line is followed by the detail {reason} on {on}:\n{}",
        run.output()
    );
    let summary = summary_part(&run);
    assert!(summary.contains(&format!("{object} is InProgress")), "{summary}");
    assert!(detail(summary), "the timeout summary names {reason} on {on}:\n{summary}");

    let run = package.apply(&["--reconcile-timeout", "3s", "-o", "json"]);
    assert_eq!(run.code, 3, "{}", run.output());
    assert!(
        json_reasons(&run, "reconcile", name, "/lastStatus/details").contains(&reason.to_owned()),
        "{}",
        run.stdout
    );
    let summary = run.json_lines().into_iter().find(|l| l["type"] == "summary").expect("a summary line");
    let not_current = summary["notCurrent"].as_array().cloned().unwrap_or_default();
    let entry = not_current.iter().find(|o| o["name"] == name).unwrap_or_else(|| panic!("{summary}"));
    let found = entry["details"].as_array().into_iter().flatten().any(|d| {
        d["reason"] == reason
            && d["message"].as_str().is_some_and(|m| m.contains(words))
            && d["object"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(on.rsplit('/').next().unwrap_or(on)))
    });
    assert!(found, "the JSON summary lists {reason} on {on}: {entry}");

    let run =
        package.apply(&["--reconcile-timeout", "10m", "--fail-fast-on", reason, "--fail-fast-grace", "0s"]);
    assert_eq!(run.code, 4, "--fail-fast-on ends the wait as Failed:\n{}", run.output());
    assert!(
        run.stdout.contains(&format!("{object} reconcile failed: "))
            && run.stdout.contains(&format!("failing fast on {reason}")),
        "{}",
        run.output()
    );
}

#[tokio::test]
async fn an_unschedulable_pod_says_why_its_deployment_waits() {
    let ns = TestNamespace::new(&client().await, "details-unschedulable").await;
    let package = Package::new(&ns.name, "details-unschedulable");
    package.write("web.yaml", &deployment("web", ", nodeSelector: {kapply.test/no-such-node: x}", ""));
    let object = format!("Deployment.apps/{}/web", ns.name);
    let pod = format!("Pod/{}/web-", ns.name);
    check_details(
        &package,
        &object,
        "web",
        "Unschedulable",
        &pod,
        "didn't match Pod's node affinity/selector",
    );
}

#[tokio::test]
async fn kapply_status_says_why_too_while_it_waits() {
    let ns = TestNamespace::new(&client().await, "details-status").await;
    let package = Package::new(&ns.name, "details-status");
    package.write("web.yaml", &deployment("web", ", nodeSelector: {kapply.test/no-such-node: x}", ""));
    let applied = package.apply(&["--no-wait"]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    let dir = package.path().to_str().unwrap().to_owned();
    let args = [
        "status",
        &dir,
        "-n",
        &ns.name,
        "--poll-until",
        "current",
        "--poll-period",
        "500ms",
        "--timeout",
        "15s",
    ];
    let status = crate::support::kapply(&args);
    assert_ne!(status.code, 0, "{}", status.output());
    let said = format!("Pod/{}/web-", ns.name);
    let line = status
        .stdout
        .lines()
        .find(|l| l.contains("(Unschedulable)"))
        .unwrap_or_else(|| panic!("{}", status.output()));
    assert!(
        line.trim_start().starts_with(&said) && line.contains("didn't match Pod's node affinity/selector"),
        "{line}"
    );
}

#[tokio::test]
async fn an_image_that_never_pulls_says_why_its_deployment_waits() {
    let ns = TestNamespace::new(&client().await, "details-image-pull").await;
    let package = Package::new(&ns.name, "details-image-pull");
    package.write("pull.yaml", &deployment("pull", "", KWOK_WAITS));
    let run = package.apply(&["--no-wait"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let pod = pod_named(&ns.name, "pull").await;
    let waiting = json!({"reason": "ImagePullBackOff", "message": "Back-off pulling image \"registry.invalid/pull:1\""});
    set_pod_status(&ns.name, &pod, waiting_pod("Pending", waiting, json!({}))).await;
    let object = format!("Deployment.apps/{}/pull", ns.name);
    check_details(
        &package,
        &object,
        "pull",
        "ImagePullBackOff",
        &format!("Pod/{}/{pod}", ns.name),
        "Back-off pulling image",
    );
}

#[tokio::test]
async fn a_crash_loop_says_why_its_stateful_set_waits_with_the_restart_count() {
    let ns = TestNamespace::new(&client().await, "details-crash-loop").await;
    let package = Package::new(&ns.name, "details-crash-loop");
    package.write(
        "db.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  serviceName: db\n  replicas: 1\n  \
             selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}, annotations: \
             {{{KWOK_WAITS}}}}}\n    spec: {{containers: [{{name: app, image: registry.invalid/db:1}}]}}\n"
        ),
    );
    let run = package.apply(&["--no-wait"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let pod = pod_named(&ns.name, "db").await;
    let waiting =
        json!({"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=app"});
    let last = json!({"restartCount": 4, "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}});
    set_pod_status(&ns.name, &pod, waiting_pod("Running", waiting, last)).await;
    let object = format!("StatefulSet.apps/{}/db", ns.name);
    check_details(
        &package,
        &object,
        "db",
        "CrashLoopBackOff",
        &format!("Pod/{}/{pod}", ns.name),
        "restarted 4 time(s), last exit: Error (exit code 1)",
    );
}

#[tokio::test]
async fn a_pending_claim_names_its_provisioning_event() {
    let ns = TestNamespace::new(&client().await, "details-pvc").await;
    let package = Package::new(&ns.name, "details-pvc");
    package.write(
        "data.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], \
         resources: {requests: {storage: 1Gi}}}\n",
    );
    let object = format!("PersistentVolumeClaim/{}/data", ns.name);
    check_details(
        &package,
        &object,
        "data",
        "FailedBinding",
        &object,
        "no persistent volumes available for this claim",
    );
}

#[tokio::test]
async fn an_object_waiting_on_a_dependency_names_it_and_its_status() {
    let ns = TestNamespace::new(&client().await, "details-dependency").await;
    let package = Package::new(&ns.name, "details-dependency");
    package.write("web.yaml", &deployment("web", ", nodeSelector: {kapply.test/no-such-node: x}", ""));
    package.write(
        "after.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations: {{config.kubernetes.io/depends-on: \
             apps/namespaces/{}/Deployment/web}}\n",
            ns.name
        ),
    );
    let web = format!("Deployment.apps/{}/web", ns.name);
    let after = format!("ConfigMap/{}/after", ns.name);

    let run = package.apply(&["--reconcile-timeout", "12s", "--status-events"]);
    assert_eq!(run.code, 3, "{}", run.output());
    let waiting = format!("{after} waiting for {web}: InProgress, Available: 0/1");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let carried = lines.iter().enumerate().any(|(at, line)| {
        line.starts_with(&waiting)
            && lines[at + 1..]
                .iter()
                .take_while(|l| l.starts_with("  "))
                .any(|l| l.contains("(Unschedulable)"))
    });
    assert!(carried, "a waiting line carries the dependency's details:\n{}", run.output());
    assert!(
        run.stdout
            .contains(&format!("{after} apply skipped: dependency {web} did not become Current in time"))
    );
    assert!(summary_part(&run).contains("(Unschedulable)"), "{}", run.output());

    let run = package.apply(&["--reconcile-timeout", "12s", "--status-events", "-o", "json"]);
    assert_eq!(run.code, 3, "{}", run.output());
    let blocked = run
        .json_lines()
        .into_iter()
        .filter(|l| l["type"] == "blocked" && l["name"] == "after")
        .collect::<Vec<_>>();
    assert!(
        blocked
            .iter()
            .all(|l| l["dependency"]["name"] == "web" && l["dependencyStatus"]["status"] == "InProgress"),
        "{blocked:?}"
    );
    assert!(
        json_reasons(&run, "blocked", "after", "/dependencyStatus/details")
            .contains(&"Unschedulable".to_owned()),
        "{}",
        run.stdout
    );

    let run = package.apply(&[
        "--reconcile-timeout",
        "10m",
        "--fail-fast-on",
        "unschedulable",
        "--fail-fast-grace",
        "0s",
    ]);
    assert_eq!(run.code, 4, "{}", run.output());
    assert!(
        run.stdout.contains(&format!("{after} apply skipped: dependency {web} failed")),
        "{}",
        run.output()
    );
}

#[tokio::test]
async fn a_deployment_past_its_progress_deadline_fails_as_kstatus_says_and_names_why() {
    let ns = TestNamespace::new(&client().await, "details-deadline").await;
    let package = Package::new(&ns.name, "details-deadline");
    let spec = ", nodeSelector: {kapply.test/no-such-node: x}";
    package.write(
        "web.yaml",
        &deployment("web", spec, "").replace("replicas: 1", "replicas: 1\n  progressDeadlineSeconds: 3"),
    );
    let object = format!("Deployment.apps/{}/web", ns.name);

    // The verdict is kstatus's (Failed, ProgressDeadlineExceeded): details only say why.
    let run = package.apply(&["--reconcile-timeout", "10m"]);
    assert_eq!(run.code, 4, "{}", run.output());
    let failed = format!("{object} reconcile failed: Progress deadline exceeded");
    let (_, after) =
        run.stdout.split_once(&failed).unwrap_or_else(|| panic!("no {failed:?}:\n{}", run.output()));
    let details: Vec<&str> = after.lines().skip(1).take_while(|l| l.starts_with("  ")).collect();
    assert!(details.iter().any(|l| l.contains("(Unschedulable)")), "{}", run.output());
    assert!(summary_part(&run).contains("(Unschedulable)"), "{}", run.output());

    let run = package.apply(&["--reconcile-timeout", "10m", "-o", "json"]);
    assert_eq!(run.code, 4, "{}", run.output());
    let reconcile = run
        .json_lines()
        .into_iter()
        .find(|l| l["type"] == "reconcile" && l["name"] == "web")
        .expect("a reconcile line");
    assert_eq!(reconcile["lastStatus"]["reason"], "ProgressDeadlineExceeded", "{reconcile}");
    assert!(
        json_reasons(&run, "reconcile", "web", "/lastStatus/details").contains(&"Unschedulable".to_owned()),
        "{}",
        run.stdout
    );
}
