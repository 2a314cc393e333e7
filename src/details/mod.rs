//! Details: *why* an object is not Current yet, read from the objects it generates — its Pods, its
//! current ReplicaSet, its last Job — and from their Events.
//!
//! kstatus decides from an object alone, so a Deployment whose Pod cannot be scheduled says only
//! `Available: 0/1` until the timeout. [`explain`] looks further: given the waiting object (the
//! *subject*) and what was listed in its namespace ([`Related`]), it names the reason the Pod gives
//! (`Unschedulable: 0/2 nodes are available: …`, `ImagePullBackOff`, `CrashLoopBackOff` with the
//! restart count, a container not ready, …) as a list of [`Detail`]s.
//!
//! Details never change a verdict: they are carried beside the kstatus result
//! ([`StatusResult::details`](crate::kstatus::StatusResult::details)), and only an opt-in
//! fail-fast (`--fail-fast-on`, see [`first_matching`]) turns one into a Failed wait.
//!
//! Pure, like [`crate::kstatus`]: objects in, details out; no I/O, no clock. The waiter lists the
//! related objects (`src/wait/details.rs`) and calls this module.
//!
//! # Rules, by kind of subject
//! - Deployment: its current ReplicaSet (owned by it, the highest `deployment.kubernetes.io/revision`),
//!   then that ReplicaSet's Pods; Warning Events of the Deployment, the ReplicaSet and the Pods.
//! - StatefulSet, DaemonSet, ReplicaSet, Job: the Pods it owns; Warning Events of it and its Pods.
//! - CronJob: its last Job (the newest it owns), then that Job's Pods.
//! - Pod: itself.
//! - PersistentVolumeClaim, while Pending: its latest Event, Normal included (the volume controller
//!   reports `FailedBinding` and `ExternalProvisioning` as Normal events).
//! - Service of type LoadBalancer without an ingress address: `NoIngress`, and its latest Warning Event.
//! - Anything else (custom resources): each condition that reports a problem (status False, or True
//!   for `Stalled`, `Degraded`, `Failed`) with its message, `Ready` excepted (kstatus reports it).
//!
//! Per Pod, in order: a scheduling failure (`PodScheduled=False`: its reason and message); each
//! container waiting for a reason other than starting up (`ImagePullBackOff`, `ErrImagePull`,
//! `CrashLoopBackOff` with its restart count and last exit, `CreateContainerConfigError`, …) or
//! terminated in error (`OOMKilled`, `Error`); else, a Pod not Ready, naming the containers not
//! ready. Then the latest Warning Event of each object involved. Details with the same message are
//! kept once (three Pods unschedulable alike make one detail, naming the first Pod; a condition and
//! the Event reporting it, one), and at most
//! [`MAX_DETAILS`] are kept, the most specific first.
//!
//! # No Secret data
//! Messages are those the scheduler, the kubelet and the controllers wrote in status fields and
//! Events — never copied from an object's spec or data.

mod events;
mod owners;
mod pod;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::object::ObjRef;

/// At most this many details are kept per object: enough to tell why, short enough for a line.
pub const MAX_DETAILS: usize = 3;

/// One reason an object is not Current yet, found on an object it generated (or on itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Detail {
    /// A CamelCase code, as Kubernetes writes it: `Unschedulable`, `ImagePullBackOff`,
    /// `CrashLoopBackOff`, `OOMKilled`, `NotReady`, an Event's reason (`FailedCreate`), `NoIngress`, …
    /// What `--fail-fast-on` matches.
    pub reason: String,
    /// One line: the scheduler's, kubelet's or controller's message, naming the container when a
    /// container is the cause.
    pub message: String,
    /// The object it was found on: a Pod, a ReplicaSet, a Job, or the subject itself. None when the
    /// object could not be named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjRef>,
}

impl Detail {
    fn new(reason: impl Into<String>, message: impl Into<String>, object: Option<ObjRef>) -> Self {
        Detail { reason: reason.into(), message: one_line(&message.into()), object }
    }
}

impl fmt::Display for Detail {
    /// `<reason>: <message> (<object>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)?;
        match &self.object {
            Some(object) => write!(f, " ({object})"),
            None => Ok(()),
        }
    }
}

/// What was listed in the subject's namespace: the candidates [`explain`] picks the subject's own
/// from (by owner reference, never by name). Each may hold objects of unrelated owners.
#[derive(Debug, Clone, Copy, Default)]
pub struct Related<'a> {
    /// Pods.
    pub pods: &'a [Value],
    /// ReplicaSets (read for Deployments).
    pub replica_sets: &'a [Value],
    /// Jobs (read for CronJobs).
    pub jobs: &'a [Value],
    /// core/v1 Events.
    pub events: &'a [Value],
}

/// The kinds whose details come from the Pods they generate (directly or through a ReplicaSet or a
/// Job): what decides whether Pods are listed for a waiting object.
pub fn reads_pods(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("apps" | "extensions", "Deployment" | "ReplicaSet" | "DaemonSet")
            | ("apps", "StatefulSet")
            | ("batch", "Job" | "CronJob")
            | ("", "Pod")
    )
}

/// Why `subject`, an object not Current yet, is waiting: see the [module documentation](self).
/// Empty when nothing listed tells more than its status does.
pub fn explain(subject: &Value, related: &Related<'_>) -> Vec<Detail> {
    let Some(me) = ObjRef::from_value(subject) else { return Vec::new() };
    let mut found = Vec::new();
    let mut involved: Vec<&Value> = vec![subject];
    match (me.group.as_str(), me.kind.as_str()) {
        ("", "Pod") => found.extend(pod::details(subject)),
        ("", "PersistentVolumeClaim") => {
            if text(subject, "/status/phase") == Some("Pending") {
                found.extend(events::latest(related.events, subject, events::AnyType));
            }
            involved.clear();
        }
        ("", "Service") => {
            found.extend(no_ingress(subject, &me));
        }
        _ if reads_pods(&me.group, &me.kind) => {
            let (owners, pods) = owners::pods_of(subject, related);
            for pod in &pods {
                found.extend(pod::details(pod));
            }
            involved.extend(owners);
            involved.extend(pods);
        }
        _ => found.extend(conditions(subject, &me)),
    }
    for object in involved {
        found.extend(events::latest(related.events, object, events::WarningOnly));
    }
    let mut kept: Vec<Detail> = Vec::new();
    for detail in found {
        // A condition and the Event that reported it often say the same words: keep the first.
        let same = |k: &Detail| k.message == detail.message;
        if !kept.iter().any(same) && kept.len() < MAX_DETAILS {
            kept.push(detail);
        }
    }
    kept
}

/// The first detail whose reason is one of `reasons` (compared without regard to case): what
/// `--fail-fast-on` looks for.
pub fn first_matching<'d>(details: &'d [Detail], reasons: &[String]) -> Option<&'d Detail> {
    details.iter().find(|d| reasons.iter().any(|r| r.eq_ignore_ascii_case(&d.reason)))
}

/// A LoadBalancer Service that has no ingress address yet.
fn no_ingress(service: &Value, me: &ObjRef) -> Option<Detail> {
    if text(service, "/spec/type") != Some("LoadBalancer") {
        return None;
    }
    let ingress = service.pointer("/status/loadBalancer/ingress").and_then(Value::as_array);
    if ingress.is_some_and(|list| !list.is_empty()) {
        return None;
    }
    Some(Detail::new(
        "NoIngress",
        "no load-balancer ingress address assigned yet (is a load-balancer controller running?)",
        Some(me.clone()),
    ))
}

/// A custom resource's conditions that report a problem, `Ready` excepted (kstatus reports it).
fn conditions(subject: &Value, me: &ObjRef) -> Vec<Detail> {
    let Some(list) = subject.pointer("/status/conditions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            let type_ = c.get("type")?.as_str()?;
            let status = c.get("status")?.as_str()?;
            let negative = matches!(type_, "Stalled" | "Degraded" | "Failed");
            let problem = if negative { status == "True" } else { status == "False" };
            if type_ == "Ready" || !problem {
                return None;
            }
            let message = c.get("message").and_then(Value::as_str).filter(|m| !m.is_empty())?;
            let reason = c
                .get("reason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
                .map_or_else(|| format!("{type_}{status}"), str::to_owned);
            Some(Detail::new(reason, format!("{type_}: {message}"), Some(me.clone())))
        })
        .collect()
}

/// The string at a JSON pointer.
fn text<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Messages on one line: kubelet and scheduler messages sometimes hold newlines.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
