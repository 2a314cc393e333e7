//! Exit codes: the one place where a run's outcome becomes a number a pipeline can act on.

use std::process::ExitCode;

/// How a run ended. The numeric codes are part of kapply's interface (see README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: everything applied (or deleted) and reconciled.
    Success,
    /// 1: an apply, prune or delete failed; or (`diff`) differences were found.
    Failed,
    /// 2: invalid input or usage; nothing was written.
    Usage,
    /// 3: timed out waiting for objects to reconcile or be deleted.
    Timeout,
    /// 4: an object reached the Failed status.
    ObjectFailed,
    /// 130: interrupted (SIGINT/SIGTERM); the run stopped cleanly, the inventory recorded.
    Interrupted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::Timeout => 3,
            Outcome::ObjectFailed => 4,
            Outcome::Interrupted => 130,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome.code())
    }
}
