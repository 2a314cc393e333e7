//! Test support: one real control plane per test process, a fresh namespace per test.
//!
//! The control plane is the one named by `KAPPLY_TEST_KUBECONFIG` when set (scripts/test starts one and
//! sets it); otherwise the first test to ask starts a private one with `scripts/testenv up`, owned by
//! this process, which stops it when the process exits. Missing binaries fail the test loudly with the
//! command that installs them: a test is never skipped silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// The repository root (where `scripts/testenv` lives).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Path of the admin kubeconfig of the control plane used by this test process.
pub fn kubeconfig_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(path) = std::env::var("KAPPLY_TEST_KUBECONFIG") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "KAPPLY_TEST_KUBECONFIG={} does not exist; start a control plane with `scripts/testenv up`",
                path.display()
            );
            return path;
        }
        start_private_control_plane()
    })
}

fn start_private_control_plane() -> PathBuf {
    let testenv = repo_root().join("scripts/testenv");
    let state = std::env::temp_dir().join(format!("kapply-e2e-{}", std::process::id()));
    let output = Command::new(&testenv)
        .arg("up")
        .env("KAPPLY_TESTENV_STATE", &state)
        .env("KAPPLY_TESTENV_OWNER", std::process::id().to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", testenv.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "could not start the test control plane ({}).\n{stderr}\n\
         If binaries are missing, run: scripts/testenv install",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(stdout.lines().last().expect("testenv up prints the kubeconfig path").trim())
}

/// A kube client for the test control plane.
pub async fn client() -> Client {
    client_for(kubeconfig_path()).await
}

/// A kube client for the control plane of another kubeconfig (a private control plane's).
pub async fn client_for(path: &Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(path).expect("read test kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("load test kubeconfig");
    Client::try_from(config).expect("build kube client")
}

/// A namespace created for one test and deleted (without waiting) when dropped.
pub struct TestNamespace {
    pub name: String,
}

impl TestNamespace {
    /// Creates a namespace named after the test, unique within and across runs.
    pub async fn new(client: &Client, test: &str) -> Self {
        let name = unique_name(test);
        let api: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"kapply.test/e2e": "true"}}
        }))
        .unwrap();
        api.create(&PostParams::default(), &ns).await.expect("create test namespace");
        Self { name }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // The test's runtime may be single-threaded and busy dropping us: delete from a thread of our own.
        let name = self.name.clone();
        let path = kubeconfig_path().to_path_buf();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let api: Api<Namespace> = Api::all(client_for(&path).await);
                let _ = api.delete(&name, &DeleteParams::background()).await;
            });
        })
        .join();
    }
}

/// `<prefix>-<random>`, a valid DNS label of at most 63 characters.
pub fn unique_name(prefix: &str) -> String {
    let prefix: String = prefix
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{}-{suffix}", prefix.trim_matches('-'))
}

/// Polls `check` every 250 ms until it returns `Some`, panicking with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A namespace that a test expects kapply to create: deleted (without waiting) when dropped.
pub struct CreatedNamespace {
    pub name: String,
}

impl CreatedNamespace {
    pub fn new(test: &str) -> Self {
        Self { name: unique_name(test) }
    }
}

impl Drop for CreatedNamespace {
    fn drop(&mut self) {
        let _ = TestNamespace { name: std::mem::take(&mut self.name) };
    }
}

/// What a run of the kapply binary printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for assertions on messages wherever they are printed.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// stdout read as JSON lines: every line must parse.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
            .collect()
    }
}

/// Runs the kapply binary against the test control plane (`--kubeconfig` added).
pub fn kapply(args: &[&str]) -> Run {
    kapply_via(kubeconfig_path(), args)
}

/// Runs the kapply binary with another kubeconfig: a proxy's, a restricted user's, an exec plugin's.
pub fn kapply_via(kubeconfig: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_kapply"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        // Every run's event stream is checked against the ordering contract (exit 1 if broken).
        .env("KAPPLY_CHECK_EVENT_ORDER", "1")
        .output()
        .expect("run kapply");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
