//! kstatus: the status of a live object computed from its JSON, the way cli-utils' kstatus does it.
//!
//! Entry point: [`compute`] (or [`compute_at`] with an injected clock) turns one object, as the API
//! server returns it, into a [`StatusResult`]. It is pure: no I/O, no state, no clock except the one
//! given. Polling, watching and deciding when to stop waiting belong to the cluster-facing `status`
//! module.
//!
//! # Rules, in order
//! 1. `metadata.deletionTimestamp` set: [`Status::Terminating`].
//! 2. `metadata.generation` and `status.observedGeneration` both set and different: InProgress.
//! 3. A `Reconciling=True` condition: InProgress; a `Stalled=True` condition: Failed (the first listed
//!    decides, as in cli-utils).
//! 4. The rule of a known kind (Deployment, Pod, Job, CRD, ...), matched on its [`GroupKind`].
//! 5. A `Ready` condition: True is Current, False or Unknown is InProgress.
//! 6. Otherwise Current.
//!
//! Every InProgress result carries a `Reconciling` condition and every Failed one a `Stalled`
//! condition, so a consumer can treat built-in kinds and custom resources alike. docs/status.md lists
//! every reason and message.
//!
//! # Tolerance
//! cli-utils gives up (or silently reads 0) when a field has an unexpected type; issue helm#32615 is a
//! CRD stuck Unknown because its `observedGeneration` was a string. Here numbers written as strings
//! and whole floats are read as integers, and a field that really cannot be read yields
//! [`Status::Unknown`] with a message naming its path — never a panic, never an `Err`.
//!
//! Files: `generic` (rules 1–3, 5, 6), `kinds` (the kind table), `workloads`, `pod`, `job`,
//! `core_kinds` (rule 4), `conditions` and `fields` (tolerant reading).

mod conditions;
mod core_kinds;
mod fields;
mod generic;
mod job;
mod kinds;
mod pod;
mod workloads;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::object::GroupKind;
use conditions::Conditions;
use fields::{Field, Fields};

pub use pod::SCHEDULE_WINDOW;

/// The status of one object, as kstatus defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// The controller is still working towards the desired state.
    InProgress,
    /// The controller gave up or cannot make progress; waiting longer will not help.
    Failed,
    /// The desired state is reached.
    Current,
    /// The object is scheduled for deletion (finalizers still pending).
    Terminating,
    /// The object does not exist. Never returned by [`compute`]: only a lookup can know it.
    NotFound,
    /// The status cannot be told: the object could not be read, or a field it depends on is unreadable.
    Unknown,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 6] = [
        Status::InProgress,
        Status::Failed,
        Status::Current,
        Status::Terminating,
        Status::NotFound,
        Status::Unknown,
    ];

    /// The name cli-utils uses for this status (`InProgress`, `Current`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Failed => "Failed",
            Status::Current => "Current",
            Status::Terminating => "Terminating",
            Status::NotFound => "NotFound",
            Status::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;

    /// Case-insensitive, so `--statuses current,failed` on a command line parses.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        Status::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| Error::UnknownStatusName(text.to_owned()))
    }
}

/// A kstatus condition computed for an object: `Reconciling` for InProgress, `Stalled` for Failed.
///
/// Serialized like a Kubernetes condition (`type`, `status`, `reason`, `message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// `Reconciling` or `Stalled`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Always `True`: kstatus conditions follow the "abnormal-true" convention.
    pub status: String,
    /// The result's CamelCase reason (e.g. `LessReplicas`); empty when it has none.
    pub reason: String,
    /// The result's message, the same text.
    pub message: String,
}

/// Type of the condition carried by every InProgress result.
pub const RECONCILING: &str = "Reconciling";
/// Type of the condition carried by every Failed result.
pub const STALLED: &str = "Stalled";

impl Condition {
    fn abnormal_true(type_: &str, reason: Option<&str>, message: &str) -> Self {
        Condition {
            type_: type_.to_owned(),
            status: "True".to_owned(),
            reason: reason.unwrap_or_default().to_owned(),
            message: message.to_owned(),
        }
    }
}

/// The outcome of [`compute`]: a status, why, and the computed kstatus conditions.
///
/// Build results through the constructors: they keep the invariant that InProgress carries exactly
/// one `Reconciling` condition, Failed exactly one `Stalled` condition (both with the result's reason
/// and message), and every other status none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResult {
    /// The computed status.
    pub status: Status,
    /// A CamelCase reason (`LessReplicas`, `PodUnschedulable`, ...) for InProgress and Failed results
    /// (`<Type><Status>`, e.g. `ReadyFalse`, when the object's own condition gave none); None for the
    /// others.
    pub reason: Option<String>,
    /// A human-readable explanation, always set.
    pub message: String,
    /// The kstatus conditions: one `Reconciling` for InProgress, one `Stalled` for Failed, none for
    /// the other statuses.
    pub conditions: Vec<Condition>,
    /// Why the object is not Current yet, as the objects it generates tell ([`crate::details`]):
    /// never set by [`compute`], which reads the object alone, but by the wait, for objects still
    /// waited for and once for an object that reaches Failed. They never change
    /// [`status`](Self::status). Empty when nothing more is known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<crate::details::Detail>,
}

impl StatusResult {
    /// Current, with no reason.
    pub fn current(message: impl Into<String>) -> Self {
        Self::plain(Status::Current, message)
    }

    /// InProgress, carrying a `Reconciling` condition with the same reason and message.
    pub fn in_progress(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self::abnormal(Status::InProgress, RECONCILING, reason, message)
    }

    /// Failed, carrying a `Stalled` condition with the same reason and message.
    pub fn failed(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self::abnormal(Status::Failed, STALLED, reason, message)
    }

    /// Terminating, with no reason.
    pub fn terminating(message: impl Into<String>) -> Self {
        Self::plain(Status::Terminating, message)
    }

    /// NotFound: what a lookup reports when the object does not exist.
    pub fn not_found() -> Self {
        Self::plain(Status::NotFound, "Resource not found")
    }

    /// Unknown, with what prevented the computation.
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::plain(Status::Unknown, message)
    }

    /// The same result with `details` (replacing any before).
    pub fn with_details(mut self, details: Vec<crate::details::Detail>) -> Self {
        self.details = details;
        self
    }

    fn plain(status: Status, message: impl Into<String>) -> Self {
        Self { status, reason: None, message: message.into(), conditions: Vec::new(), details: Vec::new() }
    }

    /// An empty reason becomes None: a condition copied from an object may have none.
    fn abnormal(
        status: Status,
        condition: &str,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let reason = Some(reason.into()).filter(|r| !r.is_empty());
        let message = message.into();
        let conditions = vec![Condition::abnormal_true(condition, reason.as_deref(), &message)];
        Self { status, reason, message, conditions, details: Vec::new() }
    }
}

/// Why [`compute`] refused its input: it is not a Kubernetes object at all.
///
/// An object whose fields are odd is not an error: it gets [`Status::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is not a JSON object; the string names what it is instead (`null`, `a list`,
    /// `a string`, ...).
    #[error("not a kubernetes object: expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// The input has no `kind`, or an empty or non-string one.
    #[error("not a kubernetes object: `kind` is missing, empty or not a string")]
    MissingKind,
    /// The input has no `apiVersion`, or an empty or non-string one.
    #[error("not a kubernetes object: `apiVersion` is missing, empty or not a string")]
    MissingApiVersion,
    /// Parsing a [`Status`] from text ([`str::parse`]) found no status of that name, compared without
    /// regard to case; the string is the text, trimmed.
    #[error(
        "unknown status {0:?} (expected one of InProgress, Failed, Current, Terminating, NotFound, Unknown)"
    )]
    UnknownStatusName(String),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Opt-in departures from the kstatus rules; the default is kstatus exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// A Job is Current only once `Complete=True` (`--wait-for-jobs`): a running or suspended Job is
    /// InProgress (`JobRunning`, `JobSuspended`) instead of Current. A Failed Job is Failed either way.
    pub wait_for_jobs: bool,
}

/// Computes the status of `obj` against the system clock, with `options`' departures from kstatus.
///
/// # Errors
/// As [`compute`].
pub fn compute_with(obj: &Value, options: Options) -> Result<StatusResult> {
    let group_kind = identify(obj)?;
    Ok(evaluate(obj, &group_kind, Timestamp::now(), options)
        .unwrap_or_else(|err| StatusResult::unknown(err.to_string())))
}

/// Computes the status of `obj` against the system clock.
///
/// # Errors
/// Only when `obj` is not a Kubernetes object: not a JSON object, or without a string `kind` or
/// `apiVersion`. See [`compute_at`] for everything else.
pub fn compute(obj: &Value) -> Result<StatusResult> {
    compute_at(obj, Timestamp::now())
}

/// Computes the status of `obj` as of `now`.
///
/// `now` matters for one rule only: an unschedulable Pod is InProgress for [`SCHEDULE_WINDOW`] after
/// its creation, then Failed. Injecting it keeps results reproducible.
///
/// # Errors
/// Only when `obj` is not a Kubernetes object (see [`Error`]).
///
/// # Caveats
/// A field that is present but unreadable (`status.replicas: "abc"`, `status.conditions` not a list)
/// gives `Ok` with [`Status::Unknown`] and a message naming the field. Never panics, whatever the JSON.
pub fn compute_at(obj: &Value, now: Timestamp) -> Result<StatusResult> {
    let group_kind = identify(obj)?;
    Ok(evaluate(obj, &group_kind, now, Options::default())
        .unwrap_or_else(|err| StatusResult::unknown(err.to_string())))
}

/// The group-kind of a JSON object, or why it is not a Kubernetes object.
fn identify(obj: &Value) -> Result<GroupKind> {
    let map = obj.as_object().ok_or(Error::NotAnObject(fields::json_type(obj)))?;
    let non_empty = |key| map.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let kind = non_empty("kind").ok_or(Error::MissingKind)?;
    let api_version = non_empty("apiVersion").ok_or(Error::MissingApiVersion)?;
    Ok(GroupKind::from_api_version(api_version, kind))
}

/// The rules in their documented order; the first that decides wins.
fn evaluate(obj: &Value, group_kind: &GroupKind, now: Timestamp, options: Options) -> Field<StatusResult> {
    let fields = Fields::new(obj);
    if let Some(result) = generic::terminating(fields)? {
        return Ok(result);
    }
    if let Some(result) = generic::generation_not_observed(fields, &group_kind.kind)? {
        return Ok(result);
    }
    // Parsed only now: cli-utils reads conditions after the deletion and generation checks, so a
    // terminating object with odd conditions is still Terminating.
    let conditions = Conditions::parse(fields)?;
    if let Some(result) = generic::reconciling_or_stalled(&conditions) {
        return Ok(result);
    }
    if let Some(kind) = kinds::KnownKind::of(group_kind) {
        let subject = Subject { fields, kind: &group_kind.kind, conditions: &conditions, now, options };
        return kind.status(&subject);
    }
    Ok(generic::ready(&conditions).unwrap_or_else(generic::current))
}

/// What a kind-specific rule reads: the object, its kind for messages, its parsed conditions, the clock.
struct Subject<'a> {
    fields: Fields<'a>,
    kind: &'a str,
    conditions: &'a Conditions<'a>,
    now: Timestamp,
    options: Options,
}
