//! [`Waiter`]: the objects the engine is waiting for, observed together.
//!
//! Every object has its own deadline (its reconcile or prune timeout counts from when it was applied
//! or deleted), but all pending objects are observed together, in one of two [`WaitMode`]s:
//!
//! - **poll**: every period, one LIST per (kind, namespace) of the pending objects ([`poll`]);
//! - **watch**: one watch per (kind, namespace), opened when its first object is waited for; each
//!   change wakes the engine at once (`Watches`, in `watch.rs`).
//!
//! The engine's loop (and [`observe`](super::observe())) awaits [`Waiter::wakeup`] and then calls
//! [`Waiter::poll`], which reports status changes and the waits that ended.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::poll::{batch_of, poll_with};
use super::until::Until;
use super::watch::Watches;
use crate::cluster::Cluster;
use crate::details::{self, Detail};
use crate::kstatus::{self, Status, StatusResult};
use crate::object::ObjRef;

/// Details are read again at most this often (and at least every poll period above it): each read
/// is a few LISTs per namespace.
const DETAILS_PERIOD: Duration = Duration::from_secs(2);

/// How long an object waits before its details are read: most rollouts finish sooner, and reading
/// them would only cost requests (W1's 100 Deployments: about 170 extra LISTs when read from the
/// first second, about 80 this way; docs/performance.md). A wait that ends Failed or timed out is
/// explained whenever it ends.
const DETAILS_AFTER: Duration = Duration::from_secs(5);

/// What a waiter that explains does beyond statuses (`Waiter::explaining`): it reads the details of
/// the objects still waited for ([`crate::details`]), and ends the wait of one whose details name
/// one of `reasons` for `grace` as Failed (`--fail-fast-on`, `--fail-fast-grace`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailFast {
    /// Detail reasons that end a wait as Failed (`CrashLoopBackOff`, `ImagePullBackOff`, …),
    /// compared without regard to case; empty: details never end a wait.
    pub reasons: Vec<String>,
    /// How long a detail must be seen (refresh after refresh) before it ends the wait.
    pub grace: Duration,
}

/// How the status of waited-for objects is read (`--wait-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitMode {
    /// One LIST per (kind, namespace) every poll period.
    Poll,
    /// One watch per (kind, namespace): changes are seen as they happen.
    #[default]
    Watch,
}

impl std::str::FromStr for WaitMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "poll" => Ok(WaitMode::Poll),
            "watch" => Ok(WaitMode::Watch),
            _ => Err(format!("unknown wait mode {text:?} (expected poll or watch)")),
        }
    }
}

struct Pending {
    /// When the wait started.
    since: Instant,
    deadline: Instant,
    last: StatusResult,
    /// The details last read (attached to every status seen while not Current).
    details: Vec<Detail>,
    /// Since when its details have named a fail-fast reason, refresh after refresh.
    failing_since: Option<Instant>,
}

/// How waiting for one object ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// It reached a final status for the wait (Current or Failed; or NotFound when waiting for deletion).
    Reached(StatusResult),
    /// Its deadline passed; the last status seen.
    TimedOut(StatusResult),
}

/// Adds their details to the verdicts of objects that reached the Failed status (a Deployment past its
/// progress deadline says why it made no progress) or timed out, when none were read yet: read once,
/// when the wait ends.
async fn explain_failures(cluster: &Cluster, verdicts: &mut [(ObjRef, Verdict)]) {
    let unexplained = |v: &Verdict| match v {
        Verdict::Reached(s) => s.status == Status::Failed && s.details.is_empty(),
        Verdict::TimedOut(s) => waiting(s.status) && s.details.is_empty(),
    };
    let failed: Vec<ObjRef> =
        verdicts.iter().filter(|(_, v)| unexplained(v)).map(|(obj, _)| obj.clone()).collect();
    if failed.is_empty() {
        return;
    }
    let mut read = super::details::fetch(cluster, &failed).await;
    for (obj, verdict) in verdicts {
        if let (Verdict::Reached(status) | Verdict::TimedOut(status), Some(found)) =
            (verdict, read.remove(obj))
        {
            status.details = found;
        }
    }
}

/// True for the statuses whose details are worth reading: the object is there and not done.
fn waiting(status: Status) -> bool {
    matches!(status, Status::InProgress | Status::Unknown)
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
    watches: Option<Watches>,
    /// Set when the waiter explains (reads details): the fail-fast rules, and the next read.
    explain: Option<(FailFast, Instant)>,
    /// How statuses are computed (`--wait-for-jobs`).
    options: kstatus::Options,
}

impl Waiter {
    pub(crate) fn new(until: Until, period: Duration, mode: WaitMode) -> Self {
        let watches = (mode == WaitMode::Watch).then(Watches::default);
        let (pending, next_poll, explain) = (BTreeMap::new(), Instant::now(), None);
        Waiter { until, period, pending, next_poll, watches, explain, options: kstatus::Options::default() }
    }

    /// The same waiter, computing statuses with `options`' departures from kstatus.
    pub(crate) fn with_status_options(mut self, options: kstatus::Options) -> Self {
        self.options = options;
        if let Some(watches) = &mut self.watches {
            watches.options = options;
        }
        self
    }

    /// The same waiter, reading the details of the objects it waits for that are not Current yet,
    /// every poll period but at most every 2 s, the first read one period after the first object
    /// is added, and of each object that reaches Failed when its wait ends; with `fail_fast`'s
    /// reasons ending their waits as Failed.
    pub(crate) fn explaining(mut self, fail_fast: FailFast) -> Self {
        self.explain = Some((fail_fast, Instant::now()));
        self
    }

    /// Starts waiting for `obj`, last seen as `seen`, for at most `timeout`.
    pub(crate) fn add(&mut self, obj: ObjRef, seen: StatusResult, timeout: Duration) {
        if self.pending.is_empty() {
            self.next_poll = Instant::now() + self.period;
            if let Some((_, next)) = &mut self.explain {
                *next = Instant::now() + self.period;
            }
        }
        let pending = Pending {
            since: Instant::now(),
            deadline: Instant::now() + timeout,
            last: seen,
            details: Vec::new(),
            failing_since: None,
        };
        self.pending.insert(obj, pending);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Resolves when [`poll`](Self::poll) has something to look at: the next poll period, or (watch
    /// mode) a change or the next deadline. Owns what it needs, so the loop's state stays free.
    pub(crate) fn wakeup(&self) -> impl Future<Output = ()> + Send + 'static {
        let (notify, deadline) = match &self.watches {
            // A watch that is not open yet is opened by `poll`: come back at once.
            Some(watches) if self.pending.keys().any(|obj| !watches.knows(&batch_of(obj))) => {
                (None, Instant::now())
            }
            Some(watches) => {
                let polled = self.pending.keys().any(|obj| watches.polled.contains(&batch_of(obj)));
                let next_check = if polled { self.next_poll } else { Instant::now() + self.period * 30 };
                let first_deadline = self.pending.values().map(|p| p.deadline).min();
                let next_check = match &self.explain {
                    Some((_, next_details)) => next_check.min(*next_details),
                    None => next_check,
                };
                let deadline = first_deadline.map_or(next_check, |d| d.min(next_check));
                (Some(watches.notify.clone()), deadline)
            }
            None => (None, self.next_poll),
        };
        async move {
            match notify {
                Some(notify) => {
                    tokio::select! {
                        () = notify.notified_owned() => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
                None => tokio::time::sleep_until(deadline).await,
            }
        }
    }

    /// Observes every pending object once and reports changes and ended waits.
    pub(crate) async fn poll(&mut self, cluster: &Cluster) -> Tick {
        let refs: Vec<ObjRef> = self.pending.keys().cloned().collect();
        let observed: BTreeMap<ObjRef, StatusResult> = match &mut self.watches {
            Some(watches) => watches.observe(cluster, &refs).await,
            None => {
                let polled = poll_with(cluster, &refs, self.options).await;
                polled.observed.into_iter().map(|(r, o)| (r, o.status)).collect()
            }
        };
        let now = Instant::now();
        let mut tick = Tick::default();
        for (obj, seen) in observed {
            let Some(pending) = self.pending.get_mut(&obj) else { continue };
            let seen = if waiting(seen.status) { seen.with_details(pending.details.clone()) } else { seen };
            if pending.last != seen {
                pending.last = seen.clone();
                tick.changes.push((obj.clone(), seen.clone()));
            }
            if self.until.is_final(seen.status) {
                self.pending.remove(&obj);
                tick.verdicts.push((obj, Verdict::Reached(seen)));
            }
        }
        if let Some((fail_fast, next_details)) = &mut self.explain
            && now >= *next_details
        {
            *next_details = now + self.period.max(DETAILS_PERIOD);
            let fail_fast = fail_fast.clone();
            self.read_details(cluster, &fail_fast, now, &mut tick).await;
        }
        let expired: Vec<ObjRef> =
            self.pending.iter().filter(|(_, p)| now >= p.deadline).map(|(obj, _)| obj.clone()).collect();
        for obj in expired {
            if let Some(pending) = self.pending.remove(&obj) {
                tick.verdicts.push((obj, Verdict::TimedOut(pending.last)));
            }
        }
        if self.explain.is_some() {
            explain_failures(cluster, &mut tick.verdicts).await;
        }
        self.next_poll = Instant::now() + self.period;
        tick
    }

    /// Reads the details of the objects still waiting, reports those that changed, and ends the
    /// waits that `fail_fast` ends.
    async fn read_details(&mut self, cluster: &Cluster, fail_fast: &FailFast, now: Instant, tick: &mut Tick) {
        let refs: Vec<ObjRef> = self
            .pending
            .iter()
            .filter(|(_, p)| waiting(p.last.status) && now.duration_since(p.since) >= DETAILS_AFTER)
            .map(|(obj, _)| obj.clone())
            .collect();
        if refs.is_empty() {
            return;
        }
        let mut read = super::details::fetch(cluster, &refs).await;
        for obj in refs {
            let Some(pending) = self.pending.get_mut(&obj) else { continue };
            let found = read.remove(&obj).unwrap_or_default();
            if pending.details != found {
                pending.details = found.clone();
                pending.last = pending.last.clone().with_details(found);
                tick.changes.push((obj.clone(), pending.last.clone()));
            }
            let Some(detail) = details::first_matching(&pending.details, &fail_fast.reasons) else {
                pending.failing_since = None;
                continue;
            };
            let since = *pending.failing_since.get_or_insert(now);
            if now.duration_since(since) >= fail_fast.grace {
                let message =
                    format!("{}; failing fast on {} (--fail-fast-on)", pending.last.message, detail.reason);
                let failed = StatusResult::failed(detail.reason.clone(), message)
                    .with_details(pending.details.clone());
                self.pending.remove(&obj);
                tick.verdicts.push((obj, Verdict::Reached(failed)));
            }
        }
    }

    /// The last status seen of every object still waited for.
    pub(crate) fn pending(&self) -> impl Iterator<Item = (&ObjRef, &StatusResult)> {
        self.pending.iter().map(|(obj, p)| (obj, &p.last))
    }

    /// Ends every wait at once (cancellation), returning each object's last status.
    pub(crate) fn drain(&mut self) -> Vec<(ObjRef, StatusResult)> {
        std::mem::take(&mut self.pending).into_iter().map(|(obj, p)| (obj, p.last)).collect()
    }
}
