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
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
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
fn unimplemented_subcommands_say_so_and_fail() {
    for cmd in ["apply", "preview", "diff", "destroy"] {
        let (code, _, stderr) = kapply(&[cmd], "");
        assert_eq!(code, 5, "{cmd}");
        assert!(stderr.contains("not implemented"), "{cmd}: {stderr}");
    }
    let (code, _, stderr) = kapply(&["status"], "");
    assert_eq!(code, 5);
    assert!(stderr.contains("--offline"), "{stderr}");
}

#[test]
fn usage_errors_exit_two() {
    let (code, _, _) = kapply(&["apply", "--no-such-flag"], "");
    assert_eq!(code, 2);
}
