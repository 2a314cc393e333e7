//! `--wait-for-jobs`: a Job counts as Current only once Complete (kstatus counts a started Job
//! Current). kwok completes a Job's Pod through its `pod-ready` then `pod-complete` stages; the
//! `pod-ready` delay annotations (delay and jitter: kwok takes the jitter when it is below the delay)
//! keep one Job running for the length of the test.

use crate::apply::Package;
use crate::support::{TestNamespace, client};

fn job(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n  backoffLimit: 0\n  template:\n    \
         metadata: {{annotations: {{{annotations}}}}}\n    spec: {{restartPolicy: Never, containers: [{{name: run, \
         image: registry.invalid/{name}:1}}]}}\n"
    )
}

#[tokio::test]
async fn a_running_job_is_current_unless_wait_for_jobs_asks_for_complete() {
    let ns = TestNamespace::new(&client().await, "wait-for-jobs-running").await;
    let package = Package::new(&ns.name, "wait-for-jobs-running");
    let stuck = "pod-ready.stage.kwok.x-k8s.io/delay: 1h, pod-ready.stage.kwok.x-k8s.io/jitter-delay: 1h";
    package.write("job.yaml", &job("slow", stuck));
    let object = format!("Job.batch/{}/slow", ns.name);

    // kstatus: Current once started. The controller starts it at once; the first apply may still see
    // it not started, so the verdict is read from a second, unchanged apply.
    let first = package.apply(&["--reconcile-timeout", "60s"]);
    assert_eq!(first.code, 0, "{}", first.output());
    let run = package.apply(&["--reconcile-timeout", "60s"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(run.stdout.contains(&format!("{object} reconciled")), "{}", run.output());

    let run = package.apply(&["--wait-for-jobs", "--reconcile-timeout", "3s"]);
    assert_eq!(run.code, 3, "a running Job is not done with --wait-for-jobs:\n{}", run.output());
    assert!(run.stdout.contains(&format!("{object} is InProgress: Job in progress.")), "{}", run.output());
    assert!(run.stdout.contains("Reconciling (JobRunning)"), "{}", run.output());
}

#[tokio::test]
async fn with_wait_for_jobs_a_job_is_reconciled_once_complete() {
    let ns = TestNamespace::new(&client().await, "wait-for-jobs-complete").await;
    let package = Package::new(&ns.name, "wait-for-jobs-complete");
    package.write("job.yaml", &job("quick", ""));
    let run = package.apply(&["--wait-for-jobs", "--reconcile-timeout", "2m", "--status-events"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let object = format!("Job.batch/{}/quick", ns.name);
    assert!(run.stdout.contains(&format!("{object} reconciled")), "{}", run.output());
    assert!(run.stdout.contains(&format!("{object} is InProgress: Job in progress.")), "{}", run.output());
}
