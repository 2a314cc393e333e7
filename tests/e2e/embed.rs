//! `examples/embed.rs`, kapply used as a library, run against the real control plane.

use std::path::PathBuf;
use std::process::Command;

use crate::apply::live_config_map;
use crate::support::{TestNamespace, client, kubeconfig_path};

/// The example's binary, built beside this test binary by `cargo test --all-targets`.
fn embed_example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/e2e-…");
    let example = profile_dir.join("examples").join("embed");
    assert!(
        example.is_file(),
        "{} is missing: build it with `cargo build --example embed` (scripts/test builds every target)",
        example.display()
    );
    example
}

#[tokio::test]
async fn the_embedding_example_applies_its_manifests_and_exits_by_outcome() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "embed").await;
    let run = || {
        Command::new(embed_example())
            .args([ns.name.as_str(), "--kubeconfig"])
            .arg(kubeconfig_path())
            .output()
            .expect("run the embed example")
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&first.stderr));
    let settings = format!("apply ConfigMap/{}/embedded-settings: Created", ns.name);
    let flags = format!("apply ConfigMap/{}/embedded-feature-flags: Created", ns.name);
    assert!(stdout.contains(&settings) && stdout.contains(&flags), "{stdout}");
    assert!(stdout.find(&settings) < stdout.find(&flags), "depends-on honoured: {stdout}");
    assert!(stdout.trim_end().ends_with("summary: success"), "{stdout}");
    assert!(live_config_map(&client, &ns.name, "embedded-settings").await.is_some());

    let again = run();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("apply ConfigMap/{}/embedded-settings: Unchanged", ns.name)),
        "{stdout}"
    );
}
