//! Build information for `kapply version`: the git commit and the build date, as environment
//! variables for the compiler (`KAPPLY_GIT_COMMIT`, `KAPPLY_BUILD_DATE`).
//!
//! Outside a git checkout (`cargo install` from a crate or a tarball) or without git, the commit is
//! `unknown`: the build never fails for want of it. `SOURCE_DATE_EPOCH` (reproducible builds) fixes
//! the date.
//!
//! Only the release profile stamps them, re-running when the checkout's HEAD moves. A re-run rebuilds
//! the whole crate, library and tests included (about 30 s of the dev loop after every commit), so
//! the dev and test profiles say `unknown` for both and re-run only when this file changes.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        println!("cargo:rustc-env=KAPPLY_GIT_COMMIT=unknown");
        println!("cargo:rustc-env=KAPPLY_BUILD_DATE=unknown");
        return;
    }
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    for path in watched_git_files() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=KAPPLY_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=KAPPLY_BUILD_DATE={}", build_date());
}

/// The output of a git command in the package's directory, None when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// HEAD and the ref it points at (in a worktree, HEAD is in its own git dir and the refs are in the
/// common one). Without a git checkout: nothing, so the script runs once.
fn watched_git_files() -> Vec<PathBuf> {
    let (Some(git_dir), Some(common)) =
        (git(&["rev-parse", "--absolute-git-dir"]), git(&["rev-parse", "--git-common-dir"]))
    else {
        return Vec::new();
    };
    let git_dir = PathBuf::from(git_dir);
    let common =
        if PathBuf::from(&common).is_absolute() { PathBuf::from(common) } else { git_dir.join(common) };
    let mut files = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        files.push(common.join(head_ref));
    }
    files.into_iter().filter(|f| f.exists()).collect()
}

/// Today (UTC) as `YYYY-MM-DD`, or the day of `SOURCE_DATE_EPOCH`.
fn build_date() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
