//! `Cancel`: how a run (or an observation) is asked to stop early — its caller's
//! [`CancellationToken`], or its own overall timeout — and why it stopped. Shared by `engine` and
//! `wait`, so neither depends on the other for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use crate::event::CancelReason;

/// The cancellation state one run watches: the caller's token and the run's deadline. Cloning
/// shares it. The first reason seen wins.
#[derive(Debug, Clone)]
pub(crate) struct Cancel {
    token: CancellationToken,
    deadline: Option<Instant>,
    reason: Arc<Mutex<Option<CancelReason>>>,
}

impl Cancel {
    /// Stops when `token` is cancelled or `timeout` (from now) passes.
    pub(crate) fn new(token: CancellationToken, timeout: Option<Duration>) -> Self {
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        Cancel { token, deadline, reason: Arc::new(Mutex::new(None)) }
    }

    /// Why the run was cancelled, if it was.
    pub(crate) fn reason(&self) -> Option<CancelReason> {
        let mut reason = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if reason.is_none() {
            // Cancelled by the caller counts first when both happened unseen: it was a decision.
            if self.token.is_cancelled() {
                *reason = Some(CancelReason::Interrupted);
            } else if self.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                *reason = Some(CancelReason::TimedOut);
            }
        }
        *reason
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once the run is cancelled (at once if it already is).
    pub(crate) async fn cancelled(&self) {
        let reason = match self.deadline {
            Some(deadline) => tokio::select! {
                () = self.token.cancelled() => CancelReason::Interrupted,
                () = tokio::time::sleep_until(deadline) => CancelReason::TimedOut,
            },
            None => {
                self.token.cancelled().await;
                CancelReason::Interrupted
            }
        };
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_token_cancels_and_the_first_reason_wins() {
        let token = CancellationToken::new();
        let cancel = Cancel::new(token.clone(), None);
        assert!(!cancel.is_cancelled());
        let waiter = tokio::spawn({
            let cancel = cancel.clone();
            async move { cancel.cancelled().await }
        });
        token.cancel();
        waiter.await.unwrap();
        assert_eq!(cancel.reason(), Some(CancelReason::Interrupted));
        cancel.cancelled().await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_timeout_cancels_as_timed_out() {
        let cancel = Cancel::new(CancellationToken::new(), Some(Duration::from_secs(5)));
        assert_eq!(cancel.reason(), None);
        cancel.cancelled().await;
        assert_eq!(cancel.reason(), Some(CancelReason::TimedOut));
    }
}
