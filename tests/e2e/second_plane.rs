//! A second control plane, for fleets: the one named by `KAPPLY_TEST_KUBECONFIG_2` when set
//! (scripts/test starts one and sets it); otherwise the first test to ask starts a private one with
//! `scripts/testenv up`, owned by this process (`KAPPLY_TESTENV_OWNER`), which stops it when the
//! process exits — as [`crate::support`] does for the first.
//!
//! [`FleetConfig`] writes kubeconfigs naming both planes by context: `fleet-a` (the first plane),
//! `fleet-b` (the second), and `fleet-dead` (the first plane's credentials at a port nobody listens on).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams};
use kube::config::Kubeconfig;
use tempfile::TempDir;

use crate::support::{client_for, kubeconfig_path, repo_root};

/// Path of the admin kubeconfig of the second control plane.
pub fn second_kubeconfig_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(path) = std::env::var("KAPPLY_TEST_KUBECONFIG_2") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "KAPPLY_TEST_KUBECONFIG_2={} does not exist; start a second control plane with \
                 `KAPPLY_TESTENV_STATE=/tmp/plane-b scripts/testenv up`",
                path.display()
            );
            return path;
        }
        start_second_control_plane()
    })
}

fn start_second_control_plane() -> PathBuf {
    let testenv = repo_root().join("scripts/testenv");
    let state = std::env::temp_dir().join(format!("kapply-e2e-{}-second", std::process::id()));
    let output = Command::new(&testenv)
        .arg("up")
        .env("KAPPLY_TESTENV_STATE", &state)
        .env("KAPPLY_TESTENV_OWNER", std::process::id().to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", testenv.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "could not start the second test control plane ({}).\n{stderr}\n\
         If binaries are missing, run: scripts/testenv install",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(stdout.lines().last().expect("testenv up prints the kubeconfig path").trim())
}

/// Kubeconfigs for a fleet of the two planes (and a dead one), in a temporary directory.
pub struct FleetConfig {
    dir: TempDir,
}

impl FleetConfig {
    pub fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let a = renamed(kubeconfig_path(), "fleet-a", None);
        let b = renamed(second_kubeconfig_path(), "fleet-b", None);
        let dead = renamed(kubeconfig_path(), "fleet-dead", Some(dead_server()));
        let write = |file: &str, config: &Kubeconfig| {
            std::fs::write(dir.path().join(file), serde_json::to_string(config).unwrap()).unwrap();
        };
        write("a.json", &a);
        write("b.json", &b);
        let mut merged = a.clone();
        for other in [b, dead] {
            merged.clusters.extend(other.clusters);
            merged.auth_infos.extend(other.auth_infos);
            merged.contexts.extend(other.contexts);
        }
        write("merged.json", &merged);
        FleetConfig { dir }
    }

    /// One kubeconfig file with the contexts fleet-a, fleet-b and fleet-dead.
    pub fn merged(&self) -> PathBuf {
        self.dir.path().join("merged.json")
    }

    /// `a.json:b.json`: a `KUBECONFIG` list of one file per plane.
    pub fn list(&self) -> String {
        format!("{}:{}", self.dir.path().join("a.json").display(), self.dir.path().join("b.json").display())
    }
}

/// A kubeconfig's only cluster, user and context renamed to `name`, its server moved when asked.
fn renamed(path: &Path, name: &str, server: Option<String>) -> Kubeconfig {
    let mut config = Kubeconfig::read_from(path).expect("read test kubeconfig");
    assert_eq!(config.contexts.len(), 1, "{}: a testenv kubeconfig has one context", path.display());
    for cluster in &mut config.clusters {
        cluster.name = name.to_owned();
        if let (Some(server), Some(cluster)) = (&server, &mut cluster.cluster) {
            cluster.server = Some(server.clone());
        }
    }
    for user in &mut config.auth_infos {
        user.name = name.to_owned();
    }
    for context in &mut config.contexts {
        context.name = name.to_owned();
        let inner = context.context.as_mut().expect("a context");
        inner.cluster = name.to_owned();
        inner.user = Some(name.to_owned());
    }
    config.current_context = Some(name.to_owned());
    config
}

/// `https://127.0.0.1:<port>` where nothing listens: a port just bound and released.
fn dead_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("https://127.0.0.1:{port}")
}

/// A client of the second plane.
pub async fn second_client() -> Client {
    client_for(second_kubeconfig_path()).await
}

/// A namespace name kapply is expected to create on both planes: deleted on both when dropped.
pub struct FleetNamespace {
    pub name: String,
}

impl Drop for FleetNamespace {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                for path in [kubeconfig_path(), second_kubeconfig_path()] {
                    let api: Api<Namespace> = Api::all(client_for(path).await);
                    let _ = api.delete(&name, &DeleteParams::background()).await;
                }
            });
        })
        .join();
    }
}
