//! Job: Current once it has started, since a running Job is doing what was asked; Failed only when
//! the controller says so.

use super::conditions::Truth;
use super::fields::Field;
use super::{StatusResult, Subject};

pub(super) fn status(s: &Subject<'_>) -> Field<StatusResult> {
    let f = s.fields;
    let parallelism = f.int_or(&["spec", "parallelism"], 1)?;
    let completions = f.int_or(&["spec", "completions"], parallelism)?;
    let succeeded = f.int_or(&["status", "succeeded"], 0)?;
    let active = f.int_or(&["status", "active"], 0)?;
    let failed = f.int_or(&["status", "failed"], 0)?;
    let start_time = f.str_or(&["status", "startTime"], "")?;

    if s.conditions.has("Complete", Truth::True) {
        return Ok(StatusResult::current(format!("Job Completed. succeeded: {succeeded}/{completions}")));
    }
    if s.conditions.has("Failed", Truth::True) {
        return Ok(StatusResult::failed("JobFailed", format!("Job Failed. failed: {failed}/{completions}")));
    }
    // A suspended Job waits for someone to resume it; waiting for it would never end.
    if s.conditions.has("Suspended", Truth::True) {
        return Ok(StatusResult::current("Job is suspended"));
    }
    if start_time.is_empty() {
        return Ok(StatusResult::in_progress("JobNotStarted", "Job not started"));
    }
    Ok(StatusResult::current(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    )))
}
