//! The live table in a real terminal: `scripts/table-frames` runs kapply in tmux at 80×20 and 160×45
//! against this control plane and checks the captured frames (waiting rows and progress bar on screen,
//! finished rows folded, the cursor hidden; after Ctrl-C the notice inside the table, one header, the
//! totals saying interrupted, the cursor back) — and, with `--fleet`, a fleet's table on two planes
//! (a line per cluster, the waiting rows of one, the fleet's progress line; after Ctrl-C each cluster's
//! totals and the clusters table).

use std::path::Path;
use std::process::Command;

use crate::second_plane::FleetConfig;
use crate::support::{kubeconfig_path, repo_root};

/// Runs `scripts/table-frames ARGS… OUT_DIR` with `env`; fails with its report unless every check
/// passed.
fn table_frames(args: &[&str], env: (&str, &Path)) {
    let tmux = Command::new("tmux").arg("-V").output();
    assert!(
        tmux.is_ok_and(|out| out.status.success()),
        "tmux is missing: run scripts/ensure-packages (it installs tmux), then run this test again"
    );
    let frames = tempfile::tempdir().unwrap();
    let out = Command::new(repo_root().join("scripts/table-frames"))
        .args(args)
        .arg(frames.path())
        .env(env.0, env.1)
        .env("KAPPLY_BIN", env!("CARGO_BIN_EXE_kapply"))
        .output()
        .expect("run scripts/table-frames");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/table-frames {args:?} failed:\n{stderr}");
    assert!(stderr.contains("every check passed"), "{stderr}");
}

#[test]
fn the_live_table_keeps_waiting_rows_and_the_progress_bar_on_screen_in_tmux() {
    table_frames(&[], ("KAPPLY_TEST_KUBECONFIG", kubeconfig_path()));
}

#[test]
fn a_fleets_live_table_shows_a_line_per_cluster_and_the_rows_of_one_in_tmux() {
    let config = FleetConfig::new();
    table_frames(&["--fleet"], ("KAPPLY_FLEET_KUBECONFIG", &config.merged()));
}
