//! [`Cancel`]: how a run is asked to stop early — Ctrl-C, or the overall `--timeout`.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The user interrupted it (SIGINT, SIGTERM).
    Interrupted,
    /// The overall `--timeout` expired.
    TimedOut,
}

/// A cancellation signal shared by the run and whoever may stop it. Cloning shares it.
///
/// The first reason given wins; later calls change nothing.
#[derive(Debug, Clone)]
pub struct Cancel {
    reason: Arc<Mutex<Option<CancelReason>>>,
    notify: watch::Sender<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    pub fn new() -> Self {
        Cancel { reason: Arc::new(Mutex::new(None)), notify: watch::Sender::new(false) }
    }

    /// Asks the run to stop, for `reason`.
    pub fn cancel(&self, reason: CancelReason) {
        let mut current = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none() {
            *current = Some(reason);
            self.notify.send_replace(true);
        }
    }

    /// Why the run was cancelled, if it was.
    pub fn reason(&self) -> Option<CancelReason> {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once the run is cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        let mut receiver = self.notify.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let cancel = Cancel::new();
        assert!(!cancel.is_cancelled());
        let waiter = tokio::spawn({
            let cancel = cancel.clone();
            async move { cancel.cancelled().await }
        });
        cancel.cancel(CancelReason::TimedOut);
        cancel.cancel(CancelReason::Interrupted);
        waiter.await.unwrap();
        assert_eq!(cancel.reason(), Some(CancelReason::TimedOut));
        cancel.cancelled().await;
    }
}
