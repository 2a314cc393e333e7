//! [`Waiter`]: the objects the engine is waiting for, polled together.
//!
//! Every object has its own deadline (its reconcile or prune timeout counts from when it was applied
//! or deleted), but all pending objects are read in one poll — one LIST per (kind, namespace) — every
//! period. The engine's loop calls [`Waiter::poll`] when [`Waiter::next_poll`] comes.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::kstatus::StatusResult;
use crate::object::ObjRef;
use crate::status::{self, Until};

struct Pending {
    deadline: Instant,
    last: StatusResult,
}

/// How waiting for one object ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// It reached a final status for the wait (Current or Failed; or NotFound when waiting for deletion).
    Reached(StatusResult),
    /// Its deadline passed; the last status seen.
    TimedOut(StatusResult),
}

/// What one poll saw: status changes (for `Status` events) and the waits that ended.
#[derive(Debug, Default)]
pub(crate) struct Tick {
    pub changes: Vec<(ObjRef, StatusResult)>,
    pub verdicts: Vec<(ObjRef, Verdict)>,
}

pub(crate) struct Waiter {
    until: Until,
    period: Duration,
    pending: BTreeMap<ObjRef, Pending>,
    next_poll: Instant,
}

impl Waiter {
    pub(crate) fn new(until: Until, period: Duration) -> Self {
        Waiter { until, period, pending: BTreeMap::new(), next_poll: Instant::now() }
    }

    /// Starts waiting for `obj`, last seen as `seen`, for at most `timeout`.
    pub(crate) fn add(&mut self, obj: ObjRef, seen: StatusResult, timeout: Duration) {
        if self.pending.is_empty() {
            self.next_poll = Instant::now() + self.period;
        }
        self.pending.insert(obj, Pending { deadline: Instant::now() + timeout, last: seen });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// When the next poll is due.
    pub(crate) fn next_poll(&self) -> Instant {
        self.next_poll
    }

    /// Reads every pending object once and reports changes and ended waits.
    pub(crate) async fn poll(&mut self, cluster: &Cluster) -> Tick {
        let refs: Vec<ObjRef> = self.pending.keys().cloned().collect();
        let observed = status::poll(cluster, &refs).await.observed;
        let now = Instant::now();
        let mut tick = Tick::default();
        for (obj, seen) in observed {
            let Some(pending) = self.pending.get_mut(&obj) else { continue };
            if pending.last != seen.status {
                pending.last = seen.status.clone();
                tick.changes.push((obj.clone(), seen.status.clone()));
            }
            if self.until.is_final(seen.status.status) {
                self.pending.remove(&obj);
                tick.verdicts.push((obj, Verdict::Reached(seen.status)));
            } else if now >= pending.deadline {
                let last = pending.last.clone();
                self.pending.remove(&obj);
                tick.verdicts.push((obj, Verdict::TimedOut(last)));
            }
        }
        self.next_poll = Instant::now() + self.period;
        tick
    }

    /// Ends every wait at once (cancellation), returning each object's last status.
    pub(crate) fn drain(&mut self) -> Vec<(ObjRef, StatusResult)> {
        std::mem::take(&mut self.pending).into_iter().map(|(obj, p)| (obj, p.last)).collect()
    }
}
