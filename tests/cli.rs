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

/// kapply with a clean environment for connection errors: no kubeconfig anywhere unless `env` sets
/// one, no in-cluster service account.
fn kapply_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kapply"));
    command.args(args).env_remove("KUBECONFIG").env_remove("KUBERNETES_SERVICE_HOST").env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.stdin(Stdio::null()).output().expect("run kapply");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";

#[test]
fn the_bash_completion_completes_a_subcommand_when_sourced_in_bash() {
    let (code, script, stderr) = kapply(&["completion", "bash"], "");
    assert_eq!(code, 0, "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kapply.bash");
    std::fs::write(&path, script).unwrap();
    // The function clap_complete defines, called as bash would on `kapply ap<TAB>`.
    let test = format!(
        "source {}; COMP_WORDS=(kapply ap); COMP_CWORD=1; COMP_LINE='kapply ap'; COMP_POINT=9; \
         _kapply kapply ap kapply; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &test])
        .output()
        .expect("bash must be installed to test the bash completion");
    let replies = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(replies.trim(), "apply", "completions of `kapply ap`: {replies:?}");
}

#[test]
fn completions_exist_for_zsh_fish_and_powershell() {
    for shell in ["zsh", "fish", "powershell"] {
        let (code, script, stderr) = kapply(&["completion", shell], "");
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(script.contains("kapply") && script.contains("apply"), "{shell}: {script}");
    }
    let (code, _, stderr) = kapply(&["completion", "tcsh"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("possible values: bash, elvish, fish, powershell, zsh"), "{stderr}");
}

#[test]
fn man_prints_the_main_page_and_writes_one_page_per_subcommand() {
    let (code, page, stderr) = kapply(&["man"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(page.starts_with(".ie") || page.contains(".TH kapply 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let (code, _, stderr) = kapply(&["man", "--dir", out.to_str().unwrap()], "");
    assert_eq!(code, 0, "{stderr}");
    for page in ["kapply.1", "kapply-apply.1", "kapply-preview.1", "kapply-destroy.1", "kapply-version.1"] {
        let text = std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    let apply = std::fs::read_to_string(out.join("kapply-apply.1")).unwrap();
    assert!(apply.contains("reconcile\\-timeout"), "the flags are documented");
}

#[test]
fn version_shows_the_crate_version_commit_and_build_date_and_survives_no_cluster() {
    let (code, stdout, stderr) = kapply_env(&["--version"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout.trim();
    let prefix = format!("kapply {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&prefix), "{line}");
    let (commit, date) = line[prefix.len()..].trim_end_matches(')').split_once(", built ").unwrap();
    assert!(
        commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    // Dev and test builds stamp neither (build.rs: stamping would rebuild the crate on every commit).
    let is_date = date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-';
    assert!(is_date || (date == "unknown" && commit == "unknown"), "{date}");
    let (_, sub, _) = kapply_env(&["apply", "--version"], &[]);
    assert_eq!(sub.trim(), line.replacen("kapply", "kapply-apply", 1), "every subcommand knows the version");

    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_str().unwrap();
    let (code, stdout, stderr) = kapply_env(&["version"], &[("HOME", home_path)]);
    assert_eq!(code, 0, "no cluster is no failure of `version`: {stderr}");
    assert!(stdout.starts_with(&format!("{line}\n")), "{stdout}");
    assert!(stdout.contains("server: unknown (") && stdout.contains("no kubeconfig found"), "{stdout}");

    let (code, stdout, stderr) = kapply_env(&["version", "-o", "json", "--client"], &[("HOME", home_path)]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["clientVersion"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["clientVersion"]["gitCommit"], commit);
    assert_eq!(json["clientVersion"]["buildDate"], date);
    assert!(json.get("serverVersion").is_none() && json.get("serverError").is_none(), "{json}");

    let (code, stdout, _) = kapply_env(&["version", "-o", "json", "--server", "https://127.0.0.1:1"], &[]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let error = json["serverError"].as_str().unwrap();
    assert!(error.contains("https://127.0.0.1:1"), "{error}");
}

#[test]
fn run_as_kubectl_kapply_the_usage_reads_as_a_kubectl_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-kapply");
    std::fs::copy(env!("CARGO_BIN_EXE_kapply"), &plugin).unwrap();
    let out = Command::new(&plugin).args(["apply", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage: kubectl kapply apply [OPTIONS]"), "{help}");
    let (_, help, _) = kapply(&["apply", "--help"], "");
    assert!(help.contains("Usage: kapply apply [OPTIONS]"), "{help}");
}

#[test]
fn an_unreachable_server_is_named_after_a_few_visible_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cm.yaml");
    std::fs::write(&file, CONFIG_MAP).unwrap();
    let args = ["apply", file.to_str().unwrap(), "--inventory-id", "x", "--server", "https://127.0.0.1:1"];
    let (code, stdout, stderr) = kapply_env(&args, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("cannot reach the API server https://127.0.0.1:1 after 3 attempts"), "{stderr}");
    assert!(stderr.contains("Connection refused"), "the cause: {stderr}");
    assert_eq!(stderr.matches("retrying in").count(), 2, "each retry is announced: {stderr}");
    assert!(!stderr.contains("client error (Connect)\n"), "{stderr}");
}

#[test]
fn requests_are_logged_at_vv_and_with_rust_log() {
    let args =
        ["status", "--inventory-id", "x", "--server", "https://127.0.0.1:1", "--token", "s3cr3t-t0ken"];
    let (_, _, quiet) = kapply_env(&args, &[]);
    assert!(!quiet.contains("GET /version"), "no request lines by default: {quiet}");
    let mut verbose = args.to_vec();
    verbose.push("-vv");
    let (_, _, stderr) = kapply_env(&verbose, &[]);
    assert!(stderr.contains("GET /version failed after"), "{stderr}");
    let (_, _, stderr) = kapply_env(&args, &[("RUST_LOG", "kapply::http=debug")]);
    assert!(stderr.contains("GET /version failed after"), "{stderr}");
    let (_, _, stderr) = kapply_env(&verbose, &[("RUST_LOG", "trace")]);
    assert!(!stderr.contains("s3cr3t-t0ken"), "the token is never logged: {stderr}");
}

#[test]
fn insecure_skip_tls_verify_is_never_silent() {
    let args = ["version", "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify"];
    let (code, _, stderr) = kapply_env(&args, &[]);
    assert_eq!(code, 0);
    assert!(stderr.contains("warning: --insecure-skip-tls-verify"), "{stderr}");
    let (_, _, stderr) = kapply_env(&["version", "--server", "https://127.0.0.1:1"], &[]);
    assert!(!stderr.contains("insecure"), "{stderr}");
}

#[test]
fn no_kubeconfig_names_every_place_looked_at() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cm.yaml");
    std::fs::write(&file, CONFIG_MAP).unwrap();
    let args = ["apply", file.to_str().unwrap(), "--inventory-id", "x"];
    let (code, _, stderr) = kapply_env(&args, &[("HOME", home.path().to_str().unwrap())]);
    assert_eq!(code, 1, "{stderr}");
    let home_config = home.path().join(".kube").join("config");
    for said in [
        "no kubeconfig found",
        "$KUBECONFIG (not set)",
        &format!("{} (does not exist)", home_config.display()),
        "KUBERNETES_SERVICE_HOST is not set",
        "--kubeconfig FILE",
    ] {
        assert!(stderr.contains(said), "{said} in: {stderr}");
    }
    let (_, _, stderr) = kapply_env(&args, &[("KUBECONFIG", "/nonexistent/a:/nonexistent/b")]);
    assert!(stderr.contains("$KUBECONFIG (/nonexistent/a:/nonexistent/b: none exists)"), "{stderr}");
}

#[test]
fn an_unknown_context_lists_the_contexts_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n\
         clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {}}]\n\
         contexts: [{name: dev, context: {cluster: c, user: u}}, {name: prod, context: {cluster: c, user: u}}]\n",
    )
    .unwrap();
    let file = dir.path().join("cm.yaml");
    std::fs::write(&file, CONFIG_MAP).unwrap();
    let args = ["apply", file.to_str().unwrap(), "--inventory-id", "x", "--context", "nope"];
    let (code, _, stderr) = kapply_env(&args, &[("KUBECONFIG", kubeconfig.to_str().unwrap())]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("context \"nope\" is not in"), "{stderr}");
    assert!(stderr.contains("it has: dev, prod"), "{stderr}");
    // The context is named when its server does not answer.
    let args = ["apply", file.to_str().unwrap(), "--inventory-id", "x", "--context", "prod"];
    let (_, _, stderr) = kapply_env(&args, &[("KUBECONFIG", kubeconfig.to_str().unwrap())]);
    assert!(stderr.contains("https://127.0.0.1:1 (context \"prod\")"), "{stderr}");
}

#[test]
fn a_missing_file_is_reported_before_the_missing_kubeconfig() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, stderr) = kapply_env(
        &["apply", "missing.yaml", "--inventory-id", "x"],
        &[("HOME", home.path().to_str().unwrap())],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("missing.yaml: cannot read path"), "{stderr}");
    assert!(!stderr.contains("kubeconfig"), "{stderr}");
}

#[test]
fn kustomize_renders_with_kustomize_or_kubectl_and_names_both_when_neither_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let overlay = dir.path().join("overlay");
    std::fs::create_dir(&overlay).unwrap();
    let empty_path = bin.to_str().unwrap().to_owned();
    let (code, _, stderr) =
        kapply_env(&["status", "--offline", "-k", overlay.to_str().unwrap()], &[("PATH", &empty_path)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`kustomize` or `kubectl` on PATH, and neither was found"), "{stderr}");

    // A stand-in kubectl whose `kustomize` prints a finished Pod: the rendering is what is read.
    let kubectl = bin.join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\n[ \"$1\" = kustomize ] || exit 9\n\
         printf 'apiVersion: v1\\nkind: Pod\\nmetadata: {name: rendered, namespace: x}\\nstatus: {phase: Succeeded}\\n'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, stdout, stderr) =
        kapply_env(&["status", "--offline", "-k", overlay.to_str().unwrap()], &[("PATH", &empty_path)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("Pod/x/rendered: Current"), "{stdout}");
    let (code, _, stderr) = kapply(&["apply", "-k", "dir", "other.yaml"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn apply_takes_kubectl_s_server_side_dry_run_and_selector_flags() {
    let (code, help, _) = kapply(&["apply", "-h"], "");
    assert_eq!(code, 0);
    assert!(help.contains("--server-side"), "{help}");
    assert!(help.contains("[possible values: none, client, server]"), "{help}");
    assert!(help.contains("-l, --selector <SELECTOR>"), "{help}");
    let (code, _, stderr) = kapply(&["apply", "x.yaml", "-l", "env in prod"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("the values of in/notin go in parentheses"), "{stderr}");
    let (code, _, stderr) = kapply(&["apply", "x.yaml", "--dry-run", "maybe"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("--dry-run"), "{stderr}");
    // Accepted: the run gets as far as the missing file.
    let (code, _, stderr) =
        kapply(&["apply", "x.yaml", "--server-side", "--dry-run=server", "-l", "app=web,!legacy"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("x.yaml: cannot read path"), "{stderr}");
}

#[test]
fn init_says_which_namespace_it_chose_and_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = kapply_in(&["init", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("namespace: shop is used for inventory object (every namespaced object in"),
        "{stdout}"
    );
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("a.yaml"), CONFIG_MAP).unwrap();
    let (code, stdout, _) = kapply_in(&["init", other.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("namespace: default is used for inventory object (no namespaced object"),
        "{stdout}"
    );
    assert!(stdout.contains("no kubeconfig was found"), "{stdout}");
}

#[test]
fn every_subcommand_lists_the_values_of_its_enum_flags() {
    let expected: &[(&[&str], &[&str])] = &[
        (
            &["status", "-h"],
            &[
                "[possible values: known, current, deleted, forever]",
                "[possible values: events, json, table]",
                "[possible values: watch, poll]",
            ],
        ),
        (
            &["diff", "-h"],
            &["[possible values: auto, always, never]", "[possible values: strict, adopt, adopt-all]"],
        ),
        (
            &["destroy", "-h"],
            &["[possible values: Background, Foreground, Orphan]", "[possible values: events, json, table]"],
        ),
        (
            &["preview", "-h"],
            &["[possible values: Background, Foreground, Orphan]", "[possible values: watch, poll]"],
        ),
        (&["version", "-h"], &["[possible values: text, json]"]),
        (&["completion", "-h"], &["[possible values: bash, elvish, fish, powershell, zsh]"]),
    ];
    for (args, listed) in expected {
        let (code, help, stderr) = kapply(args, "");
        assert_eq!(code, 0, "{args:?}: {stderr}");
        for values in *listed {
            assert!(help.contains(values), "{args:?}: {values} in:\n{help}");
        }
    }
}

#[test]
fn request_timeout_bounds_a_server_that_accepts_and_never_answers() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    // Accepts every connection and keeps it open, silent.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let (code, stdout, stderr) =
        kapply_env(&["version", "-o", "json", "--server", &server, "--request-timeout", "1s"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let error = json["serverError"].as_str().unwrap();
    assert!(error.contains("no answer within the request timeout (1s)"), "{error}");
    assert!(error.contains(&server), "{error}");
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

#[test]
fn a_fleet_refuses_one_server_or_token_for_several_clusters() {
    let config = fleet_kubeconfig();
    let path = config.path().to_str().unwrap();
    for flag in [["--server", "https://127.0.0.1:1"], ["--token", "t"]] {
        let mut args = vec!["apply", "-", "--kubeconfig", path, "--contexts", "prod-*"];
        args.extend(flag);
        let (code, _, stderr) = kapply(&args, "");
        assert_eq!(code, 2, "{flag:?}: {stderr}");
        assert!(stderr.contains(&format!("{} names one cluster's", flag[0])), "{stderr}");
    }
}

#[test]
fn an_applyset_parent_is_checked_before_any_connection() {
    let (code, _, err) = kapply(&["apply", ".", "--applyset", "deployments.apps/shop"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("use secrets (the default) or configmaps"), "{err}");
    let (code, _, err) = kapply(&["apply", ".", "--applyset", "shop", "--inventory-id", "abc"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--inventory-id") && err.contains("--applyset"), "{err}");
    let (code, help, _) = kapply(&["apply", "--help"], "");
    assert_eq!(code, 0);
    assert!(help.contains("--applyset <[KIND/]NAME>"), "{help}");
}
