//! Deployment, ReplicaSet, StatefulSet and DaemonSet: replica counts against the desired count.
//!
//! These controllers publish counts rather than conditions (StatefulSet and DaemonSet set none at all),
//! so each rule compares the counts in a fixed order and reports the first shortfall.

use super::conditions::Truth;
use super::fields::Field;
use super::{StatusResult, Subject};

const LESS_REPLICAS: &str = "LessReplicas";
const LESS_UPDATED: &str = "LessUpdated";
const LESS_AVAILABLE: &str = "LessAvailable";
const LESS_READY: &str = "LessReady";
const LESS_CURRENT: &str = "LessCurrent";
const EXTRA_PODS: &str = "ExtraPods";

/// `spec.progressDeadlineSeconds` value the Deployment controller treats as "no deadline".
const NO_PROGRESS_DEADLINE: i64 = i32::MAX as i64;

/// InProgress `reason` "`label`: have/want" when fewer than wanted.
fn shortfall(reason: &str, label: &str, have: i64, want: i64) -> Option<StatusResult> {
    (want > have).then(|| StatusResult::in_progress(reason, format!("{label}: {have}/{want}")))
}

/// InProgress `ExtraPods` while surplus pods of a scale-down are still going away.
fn extra_pods(have: i64, want: i64) -> Option<StatusResult> {
    (have > want).then(|| {
        StatusResult::in_progress(EXTRA_PODS, format!("Pending termination: {}", have.saturating_sub(want)))
    })
}

/// Deployment: a missed progress deadline is Failed; then counts; then the controller's own
/// `Progressing` and `Available` conditions.
pub(super) fn deployment(s: &Subject<'_>) -> Field<StatusResult> {
    let f = s.fields;
    let progressing_conditions = || s.conditions.iter().filter(|c| c.type_ == "Progressing");
    if progressing_conditions().any(|c| c.reason == "ProgressDeadlineExceeded") {
        return Ok(StatusResult::failed("ProgressDeadlineExceeded", "Progress deadline exceeded"));
    }
    // Without a deadline the controller never sets `Progressing`, so there is nothing to wait for.
    // Read only now: a missed deadline decides whatever the field holds.
    let no_deadline = f.int(&["spec", "progressDeadlineSeconds"])?.is_none_or(|d| d == NO_PROGRESS_DEADLINE);
    let progressing = no_deadline
        || progressing_conditions().any(|c| c.status == Truth::True && c.reason == "NewReplicaSetAvailable");
    let available = s.conditions.has("Available", Truth::True);

    let spec = f.int_or(&["spec", "replicas"], 1)?;
    let replicas = f.int_or(&["status", "replicas"], 0)?;
    let updated = f.int_or(&["status", "updatedReplicas"], 0)?;
    let ready = f.int_or(&["status", "readyReplicas"], 0)?;
    let available_replicas = f.int_or(&["status", "availableReplicas"], 0)?;

    let first_shortfall = shortfall(LESS_REPLICAS, "Replicas", replicas, spec)
        .or_else(|| shortfall(LESS_UPDATED, "Updated", updated, spec))
        .or_else(|| extra_pods(replicas, spec))
        .or_else(|| shortfall(LESS_AVAILABLE, "Available", available_replicas, updated))
        .or_else(|| shortfall(LESS_READY, "Ready", ready, spec));
    Ok(first_shortfall.unwrap_or_else(|| {
        if !progressing {
            StatusResult::in_progress("ReplicaSetNotAvailable", "ReplicaSet not Available")
        } else if !available {
            StatusResult::in_progress("DeploymentNotAvailable", "Deployment not Available")
        } else {
            StatusResult::current(format!("Deployment is available. Replicas: {replicas}"))
        }
    }))
}

/// ReplicaSet: a `ReplicaFailure` (quota, admission) is still InProgress, since the controller keeps
/// retrying; then counts.
pub(super) fn replica_set(s: &Subject<'_>) -> Field<StatusResult> {
    if s.conditions.has("ReplicaFailure", Truth::True) {
        return Ok(StatusResult::in_progress("ReplicaFailure", "Replica Failure condition. Check Pods"));
    }
    let f = s.fields;
    let spec = f.int_or(&["spec", "replicas"], 1)?;
    let replicas = f.int_or(&["status", "replicas"], 0)?;
    let ready = f.int_or(&["status", "readyReplicas"], 0)?;
    let available = f.int_or(&["status", "availableReplicas"], 0)?;
    let labelled = f.int_or(&["status", "fullyLabeledReplicas"], 0)?;

    let first_shortfall = shortfall("LessLabelled", "Labelled", labelled, spec)
        .or_else(|| shortfall(LESS_AVAILABLE, "Available", available, spec))
        .or_else(|| shortfall(LESS_READY, "Ready", ready, spec))
        .or_else(|| extra_pods(replicas, spec));
    Ok(first_shortfall
        .unwrap_or_else(|| StatusResult::current(format!("ReplicaSet is available. Replicas: {replicas}"))))
}

/// StatefulSet: `OnDelete` means the user rolls pods by hand, so there is no rollout to wait for.
pub(super) fn stateful_set(s: &Subject<'_>) -> Field<StatusResult> {
    let f = s.fields;
    if f.str_or(&["spec", "updateStrategy", "type"], "")? == "OnDelete" {
        return Ok(StatusResult::current("StatefulSet is using the ondelete update strategy"));
    }
    let spec = f.int_or(&["spec", "replicas"], 1)?;
    let replicas = f.int_or(&["status", "replicas"], 0)?;
    let ready = f.int_or(&["status", "readyReplicas"], 0)?;
    let current = f.int_or(&["status", "currentReplicas"], 0)?;
    let updated = f.int_or(&["status", "updatedReplicas"], 0)?;
    // -1 is how cli-utils spells "no partition"; the API server refuses negative partitions anyway.
    let partition = f.int(&["spec", "updateStrategy", "rollingUpdate", "partition"])?.filter(|&p| p != -1);

    let first_shortfall = shortfall(LESS_REPLICAS, "Replicas", replicas, spec)
        .or_else(|| shortfall(LESS_READY, "Ready", ready, spec))
        .or_else(|| extra_pods(replicas, spec));
    if let Some(result) = first_shortfall {
        return Ok(result);
    }
    if let Some(partition) = partition {
        // Only ordinals at or above the partition are updated: that many, not all, must be updated.
        let to_update = spec.saturating_sub(partition);
        return Ok(shortfall("PartitionRollout", "updated", updated, to_update).unwrap_or_else(|| {
            StatusResult::current(format!("Partition rollout complete. updated: {updated}"))
        }));
    }
    if let Some(result) = shortfall(LESS_CURRENT, "current", current, spec) {
        return Ok(result);
    }
    let current_revision = f.str_or(&["status", "currentRevision"], "")?;
    let update_revision = f.str_or(&["status", "updateRevision"], "")?;
    if current_revision != update_revision {
        return Ok(StatusResult::in_progress(
            "RevisionMismatch",
            "Waiting for updated revision to match current",
        ));
    }
    Ok(StatusResult::current(format!("All replicas scheduled as expected. Replicas: {replicas}")))
}

/// DaemonSet: the controller always writes both generations, so their absence means it has not seen
/// the object yet (the generic rule is lenient about that); then scheduled counts.
pub(super) fn daemon_set(s: &Subject<'_>) -> Field<StatusResult> {
    let f = s.fields;
    if f.int(&["metadata", "generation"])?.is_none() {
        return Ok(StatusResult::in_progress(
            "NoGeneration",
            format!("{} metadata.generation not found", s.kind),
        ));
    }
    if f.int(&["status", "observedGeneration"])?.is_none() {
        let message = format!("{} status.observedGeneration not found", s.kind);
        return Ok(StatusResult::in_progress("NoObservedGeneration", message));
    }
    // -1 is how cli-utils spells "not reported yet"; the API server refuses negative counts anyway.
    let Some(desired) = f.int(&["status", "desiredNumberScheduled"])?.filter(|&d| d != -1) else {
        return Ok(StatusResult::in_progress("NoDesiredNumber", "Missing .status.desiredNumberScheduled"));
    };
    let current = f.int_or(&["status", "currentNumberScheduled"], 0)?;
    let updated = f.int_or(&["status", "updatedNumberScheduled"], 0)?;
    let available = f.int_or(&["status", "numberAvailable"], 0)?;
    let ready = f.int_or(&["status", "numberReady"], 0)?;

    let first_shortfall = shortfall(LESS_CURRENT, "Current", current, desired)
        .or_else(|| shortfall(LESS_UPDATED, "Updated", updated, desired))
        .or_else(|| shortfall(LESS_AVAILABLE, "Available", available, desired))
        .or_else(|| shortfall(LESS_READY, "Ready", ready, desired));
    Ok(first_shortfall.unwrap_or_else(|| {
        StatusResult::current(format!("All replicas scheduled as expected. Replicas: {desired}"))
    }))
}
