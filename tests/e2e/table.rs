//! The live table in a real terminal: `scripts/table-frames` runs kapply in tmux at 80×20 and 160×45
//! against this control plane and checks the captured frames (waiting rows and progress bar on screen,
//! finished rows folded, the cursor hidden; after Ctrl-C the notice inside the table, one header, the
//! totals saying interrupted, the cursor back).

use std::process::Command;

use crate::support::{kubeconfig_path, repo_root};

#[test]
fn the_live_table_keeps_waiting_rows_and_the_progress_bar_on_screen_in_tmux() {
    let tmux = Command::new("tmux").arg("-V").output();
    assert!(
        tmux.is_ok_and(|out| out.status.success()),
        "tmux is missing: run scripts/ensure-packages (it installs tmux), then run this test again"
    );
    let frames = tempfile::tempdir().unwrap();
    let out = Command::new(repo_root().join("scripts/table-frames"))
        .arg(frames.path())
        .env("KAPPLY_TEST_KUBECONFIG", kubeconfig_path())
        .env("KAPPLY_BIN", env!("CARGO_BIN_EXE_kapply"))
        .output()
        .expect("run scripts/table-frames");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/table-frames failed:\n{stderr}");
    assert!(stderr.contains("every check passed"), "{stderr}");
}
