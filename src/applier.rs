//! [`Applier`] and [`Destroyer`]: runs as streams of [`Event`]s, the way kube-runtime's `watcher`
//! is a stream — the embedding API of kapply.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::StreamExt;
//! use kapply::{Applier, Cluster, ConnectOptions, Event, Input, Loader};
//! use tokio_util::sync::CancellationToken;
//!
//! let cluster = Cluster::connect(&ConnectOptions::default()).await?;
//! let set = Loader::new(&cluster).inventory_id("shop").load(&[Input::path("deploy/")]).await?;
//! let mut events = Applier::new(&cluster).field_manager("my-controller").run(set, CancellationToken::new());
//! while let Some(event) = events.next().await {
//!     match event? {
//!         Event::Summary(summary) => println!("done: {}", summary.outcome().as_str()),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The order of a run's events, its errors and its cancellation are documented on [`EventStream`].

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::cluster::Cluster;
use crate::engine::{self, ApplyOptions, Cancel, EngineError, EventSink, Propagation};
use crate::event::{DryRun, Event, Summary};
use crate::inventory::{InventoryInfo, InventoryPolicy};
use crate::load::Set;
use crate::wait::WaitMode;

/// The events of one run, as a [`Stream`]: what [`Applier::run`] and [`Destroyer::run`] return.
///
/// # Events
/// A run's items are its events in the order of the [ordering contract](crate::event): the
/// [`Event::Plan`] first, [`Event::Summary`] last. A failure concerning one object is an event and
/// the run goes on; a failure of the whole run (the inventory cannot be read or written, the cluster
/// cannot be reached) is an `Err` item instead of the `Summary`, and ends the stream.
///
/// # Cancellation
/// Cancelling the run's [`CancellationToken`] (or its [`Applier::timeout`] passing) stops it cleanly:
/// no new apply or delete starts, requests in flight finish and are reported, waits end, nothing is
/// pruned, the inventory is still written with every object that may exist, and
/// [`Event::Cancelled`] comes right before the `Summary`. Dropping the stream stops the run at once,
/// wherever it is; the inventory written before any apply still lists every object it may create.
///
/// # Spawning
/// An [`EventStream`] is `Send + 'static`: it owns what its run uses (the runner's clone of the
/// [`Cluster`], the [`Set`]), so it can be moved into `tokio::spawn` and polled there.
#[must_use = "a run does nothing until its stream is polled"]
pub struct EventStream {
    run: Option<BoxFuture<'static, Result<Summary, EngineError>>>,
    queue: Arc<Mutex<VecDeque<Event>>>,
    error: Option<EngineError>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").field("running", &self.run.is_some()).finish_non_exhaustive()
    }
}

/// The sink a run writes into: the stream's queue.
struct Queue(Arc<Mutex<VecDeque<Event>>>);

impl EventSink for Queue {
    fn event(&mut self, event: &Event) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push_back(event.clone());
    }
}

impl EventStream {
    /// Wraps a run that pushes its events into the sink it is given.
    fn new<F>(run: impl FnOnce(Queue) -> F) -> Self
    where
        F: std::future::Future<Output = Result<Summary, EngineError>> + Send + 'static,
    {
        let queue = Arc::new(Mutex::new(VecDeque::new()));
        let future = run(Queue(queue.clone()));
        EventStream { run: Some(Box::pin(future)), queue, error: None }
    }

    fn pop(&self) -> Option<Event> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
    }
}

#[cfg(test)]
impl EventStream {
    /// A scripted run for the tests of what consumes streams ([`crate::fleet`]): waits for `gate`,
    /// then emits `events` and ends with the summary among them (a default one if none).
    pub(crate) fn scripted(
        events: Vec<Event>,
        gate: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Self {
        EventStream::new(move |mut sink| async move {
            gate.await;
            let mut summary = Summary::default();
            for event in &events {
                if let Event::Summary(last) = event {
                    summary = last.clone();
                }
                sink.event(event);
            }
            Ok(summary)
        })
    }
}

impl Stream for EventStream {
    type Item = Result<Event, EngineError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.pop() {
                return Poll::Ready(Some(Ok(event)));
            }
            let Some(run) = this.run.as_mut() else {
                return Poll::Ready(this.error.take().map(Err));
            };
            match run.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    this.run = None;
                    this.error = result.err();
                }
                // Events emitted during this poll are handed out first; the run has registered the
                // waker for what it waits on.
                Poll::Pending if !this.queue.lock().unwrap_or_else(|e| e.into_inner()).is_empty() => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Applies a [`Set`]: records it in its inventory, server-side-applies every object in dependency
/// order, waits until each is Current, prunes what left the set, and records the result.
#[derive(Clone)]
#[must_use]
pub struct Applier {
    cluster: Cluster,
    options: ApplyOptions,
    timeout: Option<Duration>,
}

impl fmt::Debug for Applier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applier").field("options", &self.options).field("timeout", &self.timeout).finish()
    }
}

impl Applier {
    /// An applier with the defaults of `kapply apply`: field manager `kapply`, strict inventory
    /// policy, watch-mode waits of at most 5 minutes per object, 16 requests at once, pruning on.
    pub fn new(cluster: &Cluster) -> Self {
        Applier { cluster: cluster.clone(), options: ApplyOptions::default(), timeout: None }
    }

    /// The field manager of the server-side applies.
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.options.field_manager = manager.into();
        self
    }

    /// Take over fields another field manager owns instead of failing with a conflict.
    pub fn force_conflicts(mut self, force: bool) -> Self {
        self.options.force_conflicts = force;
        self
    }

    /// Which existing objects may be taken over, and which candidates pruned.
    pub fn inventory_policy(mut self, policy: InventoryPolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// How long each applied object may take to become Current.
    pub fn reconcile_timeout(mut self, timeout: Duration) -> Self {
        self.options.reconcile_timeout = timeout;
        self
    }

    /// Whether to wait for objects to become Current (default true). Objects others depend on are
    /// waited for either way.
    pub fn wait_for_current(mut self, wait: bool) -> Self {
        self.options.no_wait = !wait;
        self
    }

    /// How waited-for objects are observed: watches (default) or polling.
    pub fn wait_mode(mut self, mode: WaitMode) -> Self {
        self.options.wait_mode = mode;
        self
    }

    /// How often polling mode LISTs the objects it waits for (default 1 s).
    pub fn poll_period(mut self, period: Duration) -> Self {
        self.options.poll_period = period;
        self
    }

    /// Requests in flight at once (default 16, at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.options.concurrency = concurrency.max(1);
        self
    }

    /// Whether objects that left the set are deleted (default true); when not, they stay recorded.
    pub fn prune(mut self, prune: bool) -> Self {
        self.options.no_prune = !prune;
        self
    }

    /// How the garbage collector treats what a pruned object owns (default background).
    pub fn prune_propagation(mut self, propagation: Propagation) -> Self {
        self.options.prune_propagation = propagation;
        self
    }

    /// How long each pruned object may take to disappear.
    pub fn prune_timeout(mut self, timeout: Duration) -> Self {
        self.options.prune_timeout = timeout;
        self
    }

    /// Delete and re-create an object whose apply the server refuses for an immutable field.
    pub fn recreate_on_immutable(mut self, recreate: bool) -> Self {
        self.options.recreate_on_immutable = recreate;
        self
    }

    /// Send every object's apply. By default an object is not sent when its configuration is the one
    /// the inventory records as last applied and its live fields are as that apply left them: such an
    /// apply would change nothing (it is reported unchanged; the rule is on
    /// [`AppliedDigest`](crate::inventory::AppliedDigest)).
    pub fn always_apply(mut self, always: bool) -> Self {
        self.options.always_apply = always;
        self
    }

    /// End the wait of an object as Failed (exit 4) once its details (why it is not Current yet: a
    /// Pod in `CrashLoopBackOff`, an image that does not pull, …) have named one of `reasons`
    /// (compared without regard to case) for `grace`. By default nothing does: details only inform,
    /// and the kstatus verdict alone decides.
    pub fn fail_fast_on(mut self, reasons: Vec<String>, grace: Duration) -> Self {
        self.options.fail_fast = crate::wait::FailFast { reasons, grace };
        self
    }

    /// Whether a Job counts as Current only once Complete (default false: kstatus counts a running Job
    /// Current, since it is doing what was asked). A Job that fails is Failed either way.
    pub fn wait_for_jobs(mut self, wait: bool) -> Self {
        self.options.wait_for_jobs = wait;
        self
    }

    /// A preview: [`DryRun::Client`] sends no write, [`DryRun::Server`] sends every write as a server
    /// dry run. Either way the inventory is not written and nothing is waited for.
    pub fn dry_run(mut self, dry_run: DryRun) -> Self {
        self.options.dry_run = dry_run;
        self
    }

    /// Give up on the whole run after `timeout`: waits end as timed out, nothing more is applied or
    /// pruned, the inventory is written ([`crate::CancelReason::TimedOut`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Starts applying `set` when the stream is first polled.
    pub fn run(self, set: Set, cancel: CancellationToken) -> EventStream {
        let Applier { cluster, options, timeout } = self;
        let cancel = Cancel::new(cancel, timeout);
        EventStream::new(move |mut sink| async move {
            engine::apply(&cluster, &set.prepared, &options, &cancel, &mut sink).await
        })
    }
}

/// Deletes every object an inventory lists, in reverse dependency order, then the inventory.
#[derive(Clone)]
#[must_use]
pub struct Destroyer {
    cluster: Cluster,
    inventory: InventoryInfo,
    options: ApplyOptions,
    timeout: Option<Duration>,
}

impl fmt::Debug for Destroyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destroyer")
            .field("inventory", &self.inventory)
            .field("options", &self.options)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Destroyer {
    /// A destroyer of `inventory` (e.g. [`Set::inventory`]) with the defaults of `kapply destroy`.
    pub fn new(cluster: &Cluster, inventory: InventoryInfo) -> Self {
        Destroyer { cluster: cluster.clone(), inventory, options: ApplyOptions::default(), timeout: None }
    }

    /// Which objects may be deleted: under `strict` (default), only those this inventory owns.
    pub fn inventory_policy(mut self, policy: InventoryPolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// How deleted objects are watched until gone: watches (default) or polling.
    pub fn wait_mode(mut self, mode: WaitMode) -> Self {
        self.options.wait_mode = mode;
        self
    }

    /// How often polling mode LISTs the objects it waits for (default 1 s).
    pub fn poll_period(mut self, period: Duration) -> Self {
        self.options.poll_period = period;
        self
    }

    /// Requests in flight at once (default 16, at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.options.concurrency = concurrency.max(1);
        self
    }

    /// How the garbage collector treats what a deleted object owns (default background).
    pub fn propagation(mut self, propagation: Propagation) -> Self {
        self.options.prune_propagation = propagation;
        self
    }

    /// How long each deleted object may take to disappear.
    pub fn delete_timeout(mut self, timeout: Duration) -> Self {
        self.options.prune_timeout = timeout;
        self
    }

    /// A preview of the destroy (see [`Applier::dry_run`]).
    pub fn dry_run(mut self, dry_run: DryRun) -> Self {
        self.options.dry_run = dry_run;
        self
    }

    /// Give up on the whole run after `timeout` (see [`Applier::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Starts destroying when the stream is first polled.
    pub fn run(self, cancel: CancellationToken) -> EventStream {
        let Destroyer { cluster, inventory, options, timeout } = self;
        let cancel = Cancel::new(cancel, timeout);
        EventStream::new(move |mut sink| async move {
            engine::destroy(&cluster, &inventory, &options, &cancel, &mut sink).await
        })
    }
}

/// Diffs a [`Set`] against the cluster: per object, the live object against the server's dry run of
/// applying it (Secret values masked), then the prune candidates a prune would delete, as removals.
#[derive(Clone)]
#[must_use]
pub struct Differ {
    cluster: Cluster,
    options: engine::DiffOptions,
}

impl fmt::Debug for Differ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Differ").field("options", &self.options).finish_non_exhaustive()
    }
}

impl Differ {
    /// A differ with the defaults of `kapply diff`.
    pub fn new(cluster: &Cluster) -> Self {
        let options = engine::DiffOptions {
            field_manager: ApplyOptions::default().field_manager,
            force_conflicts: false,
            policy: InventoryPolicy::Strict,
            concurrency: usize::from(engine::DEFAULT_CONCURRENCY),
        };
        Differ { cluster: cluster.clone(), options }
    }

    /// The field manager the dry runs apply as.
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.options.field_manager = manager.into();
        self
    }

    /// Dry-run with force, as an apply taking over conflicting fields would; without it a conflict is
    /// that object's error.
    pub fn force_conflicts(mut self, force: bool) -> Self {
        self.options.force_conflicts = force;
        self
    }

    /// The policy a prune would use: decides which candidates show as removals.
    pub fn inventory_policy(mut self, policy: InventoryPolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// Dry runs in flight at once (default 16, at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.options.concurrency = concurrency.max(1);
        self
    }

    /// The diffs, in apply order, then the removals.
    ///
    /// # Errors
    /// The live inventory cannot be read. A dry run that fails is that object's
    /// [`ObjectDiff::error`](engine::ObjectDiff::error).
    pub async fn diff(&self, set: &Set) -> Result<Vec<engine::ObjectDiff>, EngineError> {
        engine::diff(&self.cluster, &set.prepared, &self.options).await
    }
}

/// Compile-time checks: a controller spawns runs (`tokio::spawn` needs `Send + 'static`) and awaits
/// the library's futures on a multi-threaded runtime (`Send`). These fail to build, not to run.
#[cfg(test)]
mod send_checks {
    use super::*;
    use crate::{Input, Loader};

    fn send_static<T: Send + 'static>() {}
    fn send<T: Send>(_: &T) {}

    #[test]
    fn runs_and_runners_are_send_and_static() {
        send_static::<EventStream>();
        send_static::<Applier>();
        send_static::<Destroyer>();
        send_static::<Differ>();
        send_static::<Cluster>();
        send_static::<Set>();
    }

    #[allow(dead_code, clippy::let_underscore_future)]
    fn the_library_futures_are_send(cluster: &Cluster, set: &Set, inputs: &[Input], info: &InventoryInfo) {
        let loader = Loader::new(cluster);
        send(&loader.load(inputs));
        let differ = Differ::new(cluster);
        send(&differ.diff(set));
        send(&crate::read_inventory(cluster, info));
        send(&crate::list_inventories(cluster));
        let (until, mode) = (crate::Until::Current, WaitMode::Watch);
        let cancel = CancellationToken::new();
        let observer = crate::Observer::new(cluster).until(until).wait_mode(mode);
        send(&observer.run(&[], cancel, |_, _| {}));
    }
}
