//! The pure core of `kapply diff`: [`diff_objects`] renders, for one object, a unified diff from the live
//! object to the server's dry-run result of applying ours.
//!
//! Diffing against the dry-run result rather than against our manifest means that what the server
//! would add anyway (defaults, admission mutations, fields other managers own) shows up on both sides
//! and drops out of the diff: what is left is what applying would change. Both sides are
//! [`normalize`](normalize())d to drop what the server rewrites on every write (`resourceVersion`,
//! `managedFields`, `status`, …), Secret values are masked ([`mask_secrets`]) so they never reach a
//! terminal or a log, and both are rendered with [`to_yaml`], a stable line-per-field YAML, before
//! [`unified_diff`] compares them. No I/O happens here: fetching the live object and the dry-run result
//! is the caller's.

mod normalize;
mod secrets;
mod unified;
mod yaml;

pub use normalize::normalize;
pub use secrets::{MASK, MASK_AFTER, MASK_BEFORE, mask_secrets};
pub use unified::{colorize, unified_diff};
pub use yaml::to_yaml;

use serde_json::Value;

/// Lines of context around each change, as `diff -u` and `kubectl diff` show by default.
const CONTEXT: usize = 3;

/// The unified diff from `live` to `desired` (the dry-run result of applying our object), with headers
/// `--- live/<name>` and `+++ desired/<name>`; `None` when they do not differ once normalized.
///
/// An absent side is an empty text, so an object to be created shows in full as added lines and one to
/// be deleted as removed lines. `name` is shown as given (e.g. `ConfigMap/ns/app`).
pub fn diff_objects(name: &str, live: Option<&Value>, desired: Option<&Value>) -> Option<String> {
    let mut live_view = live.map(normalize).unwrap_or(Value::Null);
    let mut desired_view = desired.map(normalize).unwrap_or(Value::Null);
    mask_secrets(&mut live_view, &mut desired_view);
    let render = |present: bool, view: &Value| if present { to_yaml(view) } else { String::new() };
    unified_diff(
        &render(live.is_some(), &live_view),
        &render(desired.is_some(), &desired_view),
        &format!("live/{name}"),
        &format!("desired/{name}"),
        CONTEXT,
    )
}

#[cfg(test)]
mod tests;
