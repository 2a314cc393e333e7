//! Black-box tests of the `kapply` binary that need no cluster.

use std::io::Write;
use std::process::{Command, Stdio};

fn kapply(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapply"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kapply");
    // A kapply that fails before reading its input closes the pipe: not the test's concern.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const KUBECTL_GET_OUTPUT: &str = r#"apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: prod, generation: 3}
  spec: {replicas: 2}
  status: {observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
    conditions: [{type: Available, status: "True"}, {type: Progressing, status: "True", reason: NewReplicaSetAvailable}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: prod}
  status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;

#[test]
fn status_offline_reads_kubectl_get_output_from_stdin_and_exits_zero_when_all_current() {
    let (code, stdout, stderr) = kapply(&["status", "--offline", "-"], KUBECTL_GET_OUTPUT);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "Deployment.apps/prod/web: Current Deployment is available. Replicas: 2\nPod/prod/p: Current Pod is Ready\n"
    );
}

#[test]
fn status_offline_exits_four_when_an_object_failed() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n\
               status: {conditions: [{type: Failed, status: \"True\", reason: BackoffLimitExceeded}]}\n";
    let (code, stdout, _) = kapply(&["status", "--offline", "-o", "json", "-"], job);
    assert_eq!(code, 4);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["status"], "Failed");
}

#[test]
fn status_offline_reports_syntax_errors_with_location_and_exits_two() {
    let (code, stdout, stderr) = kapply(&["status", "--offline", "-"], "kind: [unclosed\n");
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("<stdin>"), "{stderr}");
}

#[test]
fn live_status_without_an_inventory_is_a_usage_error() {
    let (code, _, stderr) = kapply(&["status", "--kubeconfig", "/nonexistent/kubeconfig"], "");
    assert!(code == 1 || code == 2, "{code}: {stderr}");
    assert!(!stderr.is_empty());
}

#[test]
fn apply_without_manifests_is_a_usage_error_before_any_connection() {
    let (code, stdout, stderr) = kapply(&["apply", "--kubeconfig", "/nonexistent/kubeconfig"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("no manifests"), "{stderr}");
}

#[test]
fn apply_rejects_a_bad_duration_naming_it() {
    let (code, _, stderr) = kapply(&["apply", "x.yaml", "--reconcile-timeout", "soon"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("soon"), "{stderr}");
}

#[test]
fn usage_errors_exit_two() {
    let (code, _, _) = kapply(&["apply", "--no-such-flag"], "");
    assert_eq!(code, 2);
}

fn kapply_in(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kapply"))
        .args(args)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("run kapply");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn template_of(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("inventory-template.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn init_writes_a_labelled_configmap_in_the_namespace_shared_by_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = kapply_in(&["init", dir.path().to_str().unwrap(), "-i", "shop-inv"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("inventory-template.yaml"));
    let cm = template_of(dir.path());
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["namespace"], "shop");
    assert_eq!(cm["metadata"]["labels"]["cli-utils.sigs.k8s.io/inventory-id"], "shop-inv");
    let name = cm["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("inventory-") && name.len() == "inventory-".len() + 8, "{name}");
}

#[test]
fn init_refuses_to_overwrite_and_validates_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _, stderr) = kapply_in(&["init", path, "-i", "-bad-"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!dir.path().join("inventory-template.yaml").exists());

    let (code, _, _) = kapply_in(&["init", path, "-n", "team-a"]);
    assert_eq!(code, 0);
    let first = template_of(dir.path());
    assert_eq!(first["metadata"]["namespace"], "team-a");
    let id = first["metadata"]["labels"]["cli-utils.sigs.k8s.io/inventory-id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a random UUID: {id}");

    let (code, _, stderr) = kapply_in(&["init", path]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(template_of(dir.path()), first, "the existing template is untouched");
}

#[test]
fn init_falls_back_to_the_context_namespace_when_manifests_span_several() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: east}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: west}\n",
    )
    .unwrap();
    let (code, _, stderr) = kapply_in(&["init", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(template_of(dir.path())["metadata"]["namespace"], "default");
}

#[test]
fn enum_flags_list_their_values_in_help_and_refuse_others() {
    let (code, help, _) = kapply(&["apply", "--help"], "");
    assert_eq!(code, 0);
    for listed in [
        "[possible values: strict, adopt, adopt-all]",
        "[possible values: watch, poll]",
        "[possible values: events, json, table]",
        "[possible values: Background, Foreground, Orphan]",
    ] {
        assert!(help.contains(listed), "{listed} in:\n{help}");
    }
    let (code, _, stderr) = kapply(&["status", "--statuses", "Bogus", "--offline", "-"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid value 'Bogus'"), "{stderr}");
    let (code, _, stderr) =
        kapply(&["apply", "-", "--inventory-policy", "must-match", "--wait-mode", "sometimes"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--wait-mode"), "{stderr}");
}

#[test]
fn cli_utils_policy_names_and_any_case_of_an_output_format_are_accepted() {
    // Parsing succeeds: the run gets as far as reading the (empty) standard input.
    let (code, _, stderr) = kapply(&["apply", "-", "--inventory-policy", "must-match", "-o", "JSON"], "");
    assert!(!stderr.contains("invalid value"), "{stderr}");
    assert_ne!(code, 0);
}

/// The JSON lines of `stdout`, each parsed; panics on a line that is not JSON.
fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

#[test]
fn with_json_output_every_failure_before_the_run_is_one_error_line() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    for args in [
        &["apply", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig", "-"][..],
        &["apply", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig"][..],
        &["destroy", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig", "--inventory-id", "abc"][..],
        &["status", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig", "--inventory-id", "abc"][..],
        &["status", "-o", "json", "--offline", "-"][..],
    ] {
        let stdin = if args.contains(&"--offline") { "kind: [unclosed\n" } else { cm };
        let (code, stdout, stderr) = kapply(args, stdin);
        assert_ne!(code, 0, "{args:?}");
        let lines = json_lines(&stdout);
        assert_eq!(lines.len(), 1, "{args:?}: {stdout}");
        assert_eq!(lines[0]["type"], "error", "{args:?}");
        let error = lines[0]["error"].as_str().unwrap();
        assert!(!error.is_empty() && stderr.contains(error.lines().next().unwrap()), "{error} / {stderr}");
    }
}

#[test]
fn without_json_output_errors_go_to_stderr_only() {
    let (code, stdout, stderr) = kapply(&["apply", "--kubeconfig", "/nonexistent/kubeconfig", "-"], "");
    assert_ne!(code, 0);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("kubeconfig"), "{stderr}");
}

#[test]
fn every_subcommand_takes_the_same_output_names_with_text_an_alias_of_events() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {succeeded: 1, conditions: [{type: Complete, status: \"True\"}]}\n";
    let (_, events, stderr) = kapply(&["status", "--offline", "-o", "events", "-"], job);
    assert!(events.starts_with("Job.batch/j: Current"), "{events}{stderr}");
    let (_, text, _) = kapply(&["status", "--offline", "-o", "text", "-"], job);
    assert_eq!(events, text);
    let (_, help, _) = kapply(&["status", "--help"], "");
    assert!(help.contains("[possible values: events, json, table]"), "{help}");
    // Parsing succeeds: the run gets as far as the (missing) kubeconfig.
    let (code, _, stderr) = kapply(&["apply", "-", "-o", "text", "--kubeconfig", "/nonexistent"], "");
    assert!(!stderr.contains("invalid value") && stderr.contains("kubeconfig"), "{stderr}");
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn status_json_lines_have_the_apply_lines_shape() {
    let (_, stdout, _) = kapply(&["status", "--offline", "-o", "json", "-"], KUBECTL_GET_OUTPUT);
    for line in stdout.lines() {
        // The keys in apply's order, no null for an absent reason.
        assert!(line.starts_with(r#"{"timestamp":""#), "{line}");
        assert!(line.contains(r#"","type":"status","group":"#), "{line}");
        assert!(!line.contains("null"), "{line}");
    }
}

#[test]
fn heartbeat_takes_a_duration_and_zero() {
    for ok in ["0", "10s", "1m"] {
        let (_, _, stderr) =
            kapply(&["apply", "-", "--heartbeat", ok, "--timestamps", "--kubeconfig", "/nonexistent"], "");
        assert!(!stderr.contains("invalid value"), "{ok}: {stderr}");
    }
    let (code, _, stderr) = kapply(&["apply", "-", "--heartbeat", "often"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("--heartbeat"), "{stderr}");
}

/// A kubeconfig with contexts `prod-eu`, `prod-us` and `staging`, all at a port nobody listens on:
/// the fleet flags are checked before any connection.
fn fleet_kubeconfig() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let context = |name: &str| format!("- name: {name}\n  context: {{cluster: c, user: u}}\n");
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1'}}\n\
         users:\n- name: u\n  user: {{token: t}}\ncontexts:\n{}{}{}current-context: staging\n",
        context("prod-eu"),
        context("prod-us"),
        context("staging")
    );
    file.write_all(yaml.as_bytes()).unwrap();
    file
}

#[test]
fn a_fleet_refuses_contexts_the_kubeconfig_lacks_and_patterns_matching_none_naming_the_known_ones() {
    let config = fleet_kubeconfig();
    let path = config.path().to_str().unwrap();
    let (code, _, stderr) =
        kapply(&["apply", "-", "--kubeconfig", path, "--context", "prod-eu,prod-asia"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no context \"prod-asia\"") && stderr.contains("prod-eu, prod-us, staging"),
        "{stderr}"
    );
    let (code, _, stderr) =
        kapply(&["apply", "-", "-o", "table", "--kubeconfig", path, "--context", "prod-eu,prod-asia"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the live table follows one cluster; a fleet prints events"), "{stderr}");
    let (code, _, stderr) = kapply(&["destroy", "--kubeconfig", path, "--contexts", "dev-*"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--contexts \"dev-*\" matches no context"), "{stderr}");
    let (code, stdout, stderr) = kapply(
        &["preview", "-", "-o", "json", "--kubeconfig", path, "--contexts", "prod-*", "--canary", "staging"],
        "",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--canary \"staging\" is not among the chosen contexts (prod-eu, prod-us)"),
        "{stderr}"
    );
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["type"], "error");
}

#[test]
fn init_refuses_several_contexts_and_read_only_fleets_refuse_rollout_flags() {
    let config = fleet_kubeconfig();
    let path = config.path().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    let (code, _, stderr) = kapply(&["init", dir, "--kubeconfig", path, "--context", "prod-eu,prod-us"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("takes one --context"), "{stderr}");
    let (code, _, stderr) =
        kapply(&["status", "--kubeconfig", path, "--contexts", "prod-*", "--max-failures", "1"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("status writes nothing"), "{stderr}");
    let (code, _, stderr) =
        kapply(&["diff", "-", "--kubeconfig", path, "--contexts", "prod-*", "--canary", "prod-eu"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("diff writes nothing"), "{stderr}");
}
