//! Job: Current once it has started, since a running Job is doing what was asked; Failed only when
//! the controller says so. With [`Options::wait_for_jobs`](super::Options::wait_for_jobs), Current
//! only once Complete.

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

    // The first decisive condition in list order wins, as in cli-utils. `Suspended=True` decides only
    // while `spec.suspend` is true: the condition outlives a resume until the controller catches up,
    // and a Job being resumed is not done (cli-utils since commit 2aef07c, after its v0.37.2 release).
    for c in s.conditions.iter().filter(|c| c.status == Truth::True) {
        match c.type_ {
            "Complete" => {
                return Ok(StatusResult::current(format!(
                    "Job Completed. succeeded: {succeeded}/{completions}"
                )));
            }
            "Failed" => {
                let message = format!("Job Failed. failed: {failed}/{completions}");
                return Ok(StatusResult::failed("JobFailed", message));
            }
            // A suspended Job waits for someone to resume it; waiting for it would never end.
            "Suspended" if f.bool(&["spec", "suspend"])? == Some(true) => {
                if s.options.wait_for_jobs {
                    return Ok(StatusResult::in_progress("JobSuspended", "Job is suspended"));
                }
                return Ok(StatusResult::current("Job is suspended"));
            }
            _ => {}
        }
    }
    if start_time.is_empty() {
        return Ok(StatusResult::in_progress("JobNotStarted", "Job not started"));
    }
    let message = format!("Job in progress. success:{succeeded}, active: {active}, failed: {failed}");
    if s.options.wait_for_jobs {
        // `--wait-for-jobs`: done only once Complete.
        return Ok(StatusResult::in_progress("JobRunning", message));
    }
    Ok(StatusResult::current(message))
}
