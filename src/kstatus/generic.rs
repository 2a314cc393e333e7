//! The rules that apply to every kind: deletion, generation, the kstatus conditions, `Ready`, default.

use super::StatusResult;
use super::conditions::{Conditions, Truth};
use super::fields::{Field, Fields};
use super::{RECONCILING, STALLED};

/// Rule 1: an object with a `metadata.deletionTimestamp` waits only for its finalizers.
pub(super) fn terminating(fields: Fields<'_>) -> Field<Option<StatusResult>> {
    let deletion = fields.str(&["metadata", "deletionTimestamp"])?;
    Ok(deletion
        .filter(|t| !t.is_empty())
        .map(|_| StatusResult::terminating("Resource scheduled for deletion")))
}

/// Rule 2: until the controller has seen the latest spec, nothing else in `status` can be trusted.
///
/// Skipped when either field is absent: many kinds have no `observedGeneration`.
pub(super) fn generation_not_observed(fields: Fields<'_>, kind: &str) -> Field<Option<StatusResult>> {
    let Some(generation) = fields.int(&["metadata", "generation"])? else {
        return Ok(None);
    };
    let Some(observed) = fields.int(&["status", "observedGeneration"])? else {
        return Ok(None);
    };
    Ok((generation != observed).then(|| {
        StatusResult::in_progress(
            "LatestGenerationNotObserved",
            format!("{kind} generation is {generation}, but latest observed generation is {observed}"),
        )
    }))
}

/// Rule 3: a controller that speaks kstatus says so itself. When both `Reconciling=True` and
/// `Stalled=True` are present, the one listed first decides, as in cli-utils.
pub(super) fn reconciling_or_stalled(conditions: &Conditions<'_>) -> Option<StatusResult> {
    let (which, c) = conditions.first_of(&[(RECONCILING, Truth::True), (STALLED, Truth::True)])?;
    let (reason, message) = (c.reason_or_default(), c.message_or_default());
    Some(if which == 0 {
        StatusResult::in_progress(reason, message)
    } else {
        StatusResult::failed(reason, message)
    })
}

/// Rule 5: the first `Ready` condition that is True, False or Unknown decides; one with another status
/// is ignored.
pub(super) fn ready(conditions: &Conditions<'_>) -> Option<StatusResult> {
    let c = conditions.iter().find(|c| c.type_ == "Ready" && c.status != Truth::Other)?;
    Some(match c.status {
        Truth::True => StatusResult::current("Resource is Ready"),
        _ => StatusResult::in_progress(c.reason_or_default(), c.message_or_default()),
    })
}

/// Rule 6: nothing says otherwise.
pub(super) fn current() -> StatusResult {
    StatusResult::current("Resource is current")
}
