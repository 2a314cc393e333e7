//! Pod: by phase, with two ways to fail early instead of waiting for a timeout: a container in
//! `CrashLoopBackOff`, and a pod that stays unschedulable past [`SCHEDULE_WINDOW`].

use jiff::SignedDuration;
use serde_json::Value;

use super::conditions::Truth;
use super::fields::{Field, FieldError, Fields};
use super::{StatusResult, Subject};

/// How long after its creation an unschedulable Pod is still InProgress before it is Failed.
///
/// The scheduler often reports `Unschedulable` transiently (a node still joining, an autoscaler about
/// to add one); a poller should look at such a pod again once this much time has passed.
pub const SCHEDULE_WINDOW: SignedDuration = SignedDuration::from_secs(15);

pub(super) fn status(s: &Subject<'_>) -> Field<StatusResult> {
    match s.fields.str(&["status", "phase"])? {
        // A pod that has run to completion, successfully or not, will not change any more.
        Some("Succeeded") => Ok(StatusResult::current("Pod has completed successfully")),
        Some("Failed") => Ok(StatusResult::current("Pod has completed, but not successfully")),
        Some("Running") => running(s),
        Some("Pending") => pending(s),
        // The kubelet has not reported yet.
        None | Some("") => Ok(StatusResult::in_progress("PodNotObserved", "Pod phase not available")),
        Some(other) => Err(FieldError::new("status.phase", "a known pod phase", &Value::from(other))),
    }
}

fn running(s: &Subject<'_>) -> Field<StatusResult> {
    if s.conditions.has("Ready", Truth::True) {
        return Ok(StatusResult::current("Pod is Ready"));
    }
    let looping = crash_looping_containers(s.fields)?;
    if !looping.is_empty() {
        let message = format!("Containers in CrashLoop state: {}", looping.join(","));
        return Ok(StatusResult::failed("ContainerCrashLooping", message));
    }
    Ok(StatusResult::in_progress("PodRunningNotReady", "Pod is running but is not Ready"))
}

fn pending(s: &Subject<'_>) -> Field<StatusResult> {
    let unschedulable =
        s.conditions.find("PodScheduled", Truth::False).is_some_and(|c| c.reason == "Unschedulable");
    if !unschedulable {
        return Ok(StatusResult::in_progress("PodPending", "Pod is in the Pending phase"));
    }
    // A pod without a creation time counts as old, as in cli-utils (Go's zero time).
    let created = s.fields.timestamp(&["metadata", "creationTimestamp"])?;
    if created.is_some_and(|created| s.now.duration_since(created) < SCHEDULE_WINDOW) {
        return Ok(StatusResult::in_progress("PodNotScheduled", "Pod has not been scheduled"));
    }
    Ok(StatusResult::failed("PodUnschedulable", "Pod could not be scheduled"))
}

/// Names of the containers waiting in `CrashLoopBackOff`, in `status.containerStatuses` order.
/// Entries without a name or a waiting reason are not looping; a `null` entry is absent.
fn crash_looping_containers(fields: Fields<'_>) -> Field<Vec<&str>> {
    let mut names = Vec::new();
    for (index, item) in fields.list(&["status", "containerStatuses"])?.iter().enumerate() {
        if item.is_null() {
            continue;
        }
        let container = Fields::item("status.containerStatuses", index, item)?;
        let name = container.str(&["name"])?;
        let reason = container.str(&["state", "waiting", "reason"])?;
        if let (Some(name), Some("CrashLoopBackOff")) = (name, reason) {
            names.push(name);
        }
    }
    Ok(names)
}
