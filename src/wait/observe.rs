//! [`observe`]: the live status of a set of objects, until a condition holds — what `kapply status`
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

/// What [`observe`] saw.
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

/// Observes `refs` until each satisfies `until`, `cancel` is cancelled or `timeout` passes, calling
/// `on_change` for every status change (the first observation of each object included).
#[allow(clippy::too_many_arguments)]
pub async fn observe(
    cluster: &Cluster,
    refs: &[ObjRef],
    until: Until,
    mode: WaitMode,
    period: Duration,
    cancel: CancellationToken,
    timeout: Option<Duration>,
    mut on_change: impl FnMut(&ObjRef, &StatusResult),
) -> Observation {
    let cancel = Cancel::new(cancel, timeout);
    // A status nobody reports: every first observation is a change.
    let unseen = StatusResult::unknown("not observed yet");
    // Deadlines are the caller's business (through `cancel`): a century is "never".
    let timeout = Duration::from_secs(100 * 365 * 24 * 3600);
    let mut waiter = Waiter::new(until, period, mode);
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
