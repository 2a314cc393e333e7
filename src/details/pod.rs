//! The details one Pod gives: a scheduling failure, containers waiting or terminated in error, or
//! containers not ready.

use serde_json::Value;

use super::{Detail, text};
use crate::object::ObjRef;

/// Waiting reasons that only say a container is starting: not worth a detail.
const STARTING: [&str; 2] = ["ContainerCreating", "PodInitializing"];

/// What `pod` says about why it is not running and ready, most specific first.
pub(super) fn details(pod: &Value) -> Vec<Detail> {
    let me = ObjRef::from_value(pod);
    let mut found = Vec::new();
    if let Some(c) = condition(pod, "PodScheduled").filter(|c| text(c, "/status") == Some("False")) {
        let reason = text(c, "/reason").filter(|r| !r.is_empty()).unwrap_or("PodScheduledFalse");
        let message = text(c, "/message").unwrap_or("the Pod is not scheduled");
        found.push(Detail::new(reason, message, me.clone()));
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        let statuses = pod.pointer(&format!("/status/{list}")).and_then(Value::as_array);
        for status in statuses.into_iter().flatten() {
            found.extend(container(status, me.as_ref()));
        }
    }
    if found.is_empty() && text(pod, "/status/phase") == Some("Running") {
        found.extend(not_ready(pod, me.as_ref()));
    }
    found
}

/// A container waiting for something other than its start, or terminated in error.
fn container(status: &Value, pod: Option<&ObjRef>) -> Option<Detail> {
    let name = text(status, "/name").unwrap_or("?");
    let restarts = status.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
    if let Some(waiting) = status.pointer("/state/waiting") {
        let reason = text(waiting, "/reason").filter(|r| !STARTING.contains(r))?;
        let mut message = format!("container {name}");
        if reason == "CrashLoopBackOff" {
            message.push_str(&format!(" restarted {restarts} time(s)"));
            if let Some(last) = status.pointer("/lastState/terminated") {
                message.push_str(&format!(", last exit: {}", exit(last)));
            }
        }
        if let Some(text) = text(waiting, "/message").filter(|m| !m.is_empty()) {
            message.push_str(": ");
            message.push_str(text);
        }
        return Some(Detail::new(reason, message, pod.cloned()));
    }
    let terminated = status.pointer("/state/terminated")?;
    let code = terminated.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
    let reason = text(terminated, "/reason").filter(|r| !r.is_empty());
    if code == 0 && reason != Some("OOMKilled") {
        return None;
    }
    let reason = reason.unwrap_or("Error");
    Some(Detail::new(reason, format!("container {name} terminated: {}", exit(terminated)), pod.cloned()))
}

/// `<reason> (exit code <n>)`, from a `terminated` state.
fn exit(terminated: &Value) -> String {
    let code = terminated.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
    let reason = text(terminated, "/reason").filter(|r| !r.is_empty()).unwrap_or("Terminated");
    format!("{reason} (exit code {code})")
}

/// A running Pod whose `Ready` condition is False: the containers not ready, by name.
fn not_ready(pod: &Value, me: Option<&ObjRef>) -> Option<Detail> {
    let ready = condition(pod, "Ready")?;
    if text(ready, "/status") != Some("False") {
        return None;
    }
    let statuses = pod.pointer("/status/containerStatuses").and_then(Value::as_array);
    let names: Vec<&str> = statuses
        .into_iter()
        .flatten()
        .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(false))
        .filter_map(|s| text(s, "/name"))
        .collect();
    let message = if names.is_empty() {
        text(ready, "/message").unwrap_or("the Pod is not ready").to_owned()
    } else {
        format!("container(s) not ready: {} (readiness probe not passing)", names.join(", "))
    };
    Some(Detail::new("NotReady", message, me.cloned()))
}

/// The Pod's condition of `type_`.
fn condition<'p>(pod: &'p Value, type_: &str) -> Option<&'p Value> {
    pod.pointer("/status/conditions")?.as_array()?.iter().find(|c| text(c, "/type") == Some(type_))
}
