//! How kapply waits: the status of many objects, followed together until each one's wait ends.
//!
//! # Watch or poll
//! Objects are never read one by one. They are grouped in **batches**, one per (kind, namespace)
//! ([`Batch`], [`batches`]), and each batch is read with one request, whatever its size. A
//! [`WaitMode`] says how:
//!
//! - **watch** (the default): one watch per batch, opened the first time an object of the batch is
//!   waited for and kept for the rest of the run. It relists and retries with backoff by itself; each
//!   change wakes the waiter at once. A batch whose watch cannot be opened (its kind is not served, or
//!   the request fails) is polled instead.
//! - **poll**: every poll period, one LIST per batch of the objects still waited for ([`poll()`]), up
//!   to 8 LISTs at once, a page of 500 objects at a time.
//!
//! # What ends a wait
//! Each object waits on its own: [`Until`] says which status ends it (Current or Failed for an
//! apply, NotFound for a prune or delete, any known status, or never); its own deadline (the
//! reconcile or prune timeout, counted from when it was applied or deleted) ends it as timed out
//! with the last status seen; cancellation ends every wait at once. The engine's loops and
//! [`Observer`] drive the same waiter: they await its wake-up, then read what changed and which
//! waits ended.
//!
//! # Where the kstatus rules come in
//! The rules are [`crate::kstatus`]'s, a pure module of its own: every object a LIST or a watch
//! returns goes through [`kstatus::compute`](crate::kstatus::compute) as it arrives, and only its
//! status (and, for polls, the object [`trim`]med) is kept — never whole bodies, so a wait on
//! thousands of objects stays small. What no object tells is decided here: an object missing from
//! its batch is NotFound, as is every object of a kind the server no longer serves; a failed LIST
//! makes its objects Unknown with the error as message; an object kstatus cannot read is Unknown.
//!
//! # The API server
//! [`Cluster`](crate::cluster::Cluster) stays the one door to the API server: nothing here builds a
//! client, an `Api` or a request. Polls read through [`Cluster::list_mapped`]; a watch runs
//! kube-runtime's watcher over the `Api` that `Cluster` builds (`Cluster::resolve` and
//! `Cluster::api`) and turns its items and failures into values and messages with the cluster
//! module's own helpers. A new way of reading belongs in `cluster` as a method, not here.
//!
//! # Files
//! - `poll.rs`: [`poll()`], the batched status read ([`Poll`], [`Observed`], [`batches`]), and [`trim`],
//!   what is kept of a live object;
//! - `until.rs`: [`Until`], what a wait waits for;
//! - `waiter.rs`: the `Waiter` (pending objects, their deadlines, the wake-up, the verdicts) and
//!   [`WaitMode`];
//! - `watch.rs`: [`watch()`], one watch as a stream of [`Watched`] items, and the set of watches of
//!   watch mode;
//! - `details.rs`: the batched reads behind [`crate::details`] — the waiting objects, their Pods,
//!   ReplicaSets, Jobs and Events — for objects still waited for and not Current ([`FailFast`]);
//! - `observe.rs`: [`Observer`], the waiter on its own, without applying anything (`kapply status`).
//!
//! [`Cluster::list_mapped`]: crate::cluster::Cluster::list_mapped

mod details;
mod observe;
mod poll;
mod until;
mod waiter;
mod watch;

pub use observe::{Observation, Observer};
pub use poll::{Batch, Observed, Poll, batches, poll, poll_with, trim};
pub use until::Until;
pub use waiter::{FailFast, WaitMode};
pub(crate) use waiter::{Tick, Verdict, Waiter};
pub use watch::{Watched, watch};
