//! [`Until`]: what a wait is waiting for, and which status ends it for one object.

use crate::kstatus::Status;

/// What a wait is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Every object Current (a Failed object ends its own wait early).
    Current,
    /// Every object NotFound.
    Deleted,
    /// Every object's status known (anything but Unknown): one good observation.
    Known,
    /// Never: observe until cancelled or out of time.
    Forever,
}

impl Until {
    /// True when `status` ends the wait for one object.
    pub fn is_final(self, status: Status) -> bool {
        match self {
            Until::Current => matches!(status, Status::Current | Status::Failed),
            Until::Deleted => status == Status::NotFound,
            Until::Known => status != Status::Unknown,
            Until::Forever => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_object_ends_a_wait_for_current_but_not_a_wait_for_deletion() {
        assert!(Until::Current.is_final(Status::Failed));
        assert!(Until::Current.is_final(Status::Current));
        assert!(!Until::Current.is_final(Status::InProgress));
        assert!(!Until::Deleted.is_final(Status::Failed));
        assert!(Until::Deleted.is_final(Status::NotFound));
    }
}
