//! [`Observer`]: the live status of a set of objects, until a condition holds — what `kapply status`
//! runs. The same [`Waiter`] as apply's (watch or poll), without applying anything; it stops early
//! through the engine's `Cancel` (the caller's token and the overall timeout), as a run does.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::until::Until;
use super::waiter::{Verdict, WaitMode, Waiter};
use crate::cancel::Cancel;
use crate::cluster::Cluster;
use crate::event::CancelReason;
use crate::kstatus::StatusResult;
use crate::object::ObjRef;

/// What an [`Observer`] saw.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Observation {
    /// The last status of every object.
    pub statuses: BTreeMap<ObjRef, StatusResult>,
    /// True when every object reached the `until` condition; false after a timeout or cancellation.
    pub complete: bool,
    /// Why the observation stopped early, if it did.
    pub cancelled: Option<CancelReason>,
}

/// Follows the status of objects until a condition holds; a builder whose settings all have
/// defaults (until Current, watches, 1 s poll period, no timeout).
#[derive(Clone)]
#[must_use]
pub struct Observer {
    cluster: Cluster,
    until: Until,
    mode: WaitMode,
    period: Duration,
    timeout: Option<Duration>,
    explain: bool,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("until", &self.until)
            .field("mode", &self.mode)
            .field("period", &self.period)
            .field("timeout", &self.timeout)
            .field("explain", &self.explain)
            .finish_non_exhaustive()
    }
}

impl Observer {
    /// An observer of objects on `cluster` (it keeps its own clone).
    pub fn new(cluster: &Cluster) -> Self {
        Observer {
            cluster: cluster.clone(),
            until: Until::Current,
            mode: WaitMode::Watch,
            period: Duration::from_secs(1),
            timeout: None,
            explain: false,
        }
    }

    /// Read why objects are not Current yet, as `apply` does while it waits: the
    /// [`details`](crate::kstatus::StatusResult::details) of each status, from the object's Pods,
    /// their containers and Events (default off). It costs a few LISTs per namespace, only for the
    /// objects still waited for, from one poll period on.
    pub fn explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// What to wait for (default [`Until::Current`]).
    pub fn until(mut self, until: Until) -> Self {
        self.until = until;
        self
    }

    /// Watches (default) or polling.
    pub fn wait_mode(mut self, mode: WaitMode) -> Self {
        self.mode = mode;
        self
    }

    /// How often polling mode LISTs the objects (default 1 s).
    pub fn poll_period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Stop after `timeout` (default: never), as cancelled with [`CancelReason::TimedOut`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Observes `refs` until each satisfies the condition, `cancel` is cancelled or the timeout
    /// passes, calling `on_change` for every status change (the first observation of each object
    /// included).
    pub async fn run(
        &self,
        refs: &[ObjRef],
        cancel: CancellationToken,
        on_change: impl FnMut(&ObjRef, &StatusResult),
    ) -> Observation {
        let Observer { cluster, until, mode, period, timeout, explain } = self;
        let mut waiter = Waiter::new(*until, *period, *mode);
        if *explain {
            waiter = waiter.explaining(super::FailFast::default());
        }
        observe(cluster, refs, waiter, cancel, *timeout, on_change).await
    }
}

#[allow(clippy::too_many_arguments)]
async fn observe(
    cluster: &Cluster,
    refs: &[ObjRef],
    mut waiter: Waiter,
    cancel: CancellationToken,
    timeout: Option<Duration>,
    mut on_change: impl FnMut(&ObjRef, &StatusResult),
) -> Observation {
    let cancel = Cancel::new(cancel, timeout);
    // A status nobody reports: every first observation is a change.
    let unseen = StatusResult::unknown("not observed yet");
    // Deadlines are the caller's business (through `cancel`): a century is "never".
    let timeout = Duration::from_secs(100 * 365 * 24 * 3600);
    for obj in refs {
        waiter.add(obj.clone(), unseen.clone(), timeout);
    }
    let mut observation = Observation::default();
    let mut first = true;
    while !waiter.is_empty() {
        if !first {
            tokio::select! {
                () = waiter.wakeup() => {}
                () = cancel.cancelled() => break,
            }
        }
        first = false;
        let tick = waiter.poll(cluster).await;
        for (obj, status) in tick.changes {
            on_change(&obj, &status);
            observation.statuses.insert(obj, status);
        }
        for (obj, verdict) in tick.verdicts {
            let (Verdict::Reached(status) | Verdict::TimedOut(status)) = verdict;
            observation.statuses.insert(obj, status);
        }
    }
    observation.complete = waiter.is_empty();
    observation.cancelled = if observation.complete { None } else { cancel.reason() };
    for (obj, status) in waiter.pending() {
        observation.statuses.insert(obj.clone(), status.clone());
    }
    observation
}
