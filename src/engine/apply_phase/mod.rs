//! The apply loop: each object is applied as soon as everything it depends on is Current, then waited
//! for; a failure or timeout skips exactly the objects that depend on it.
//!
//! # The loop
//! One task owns all the state — the [`Scheduler`], the queue of objects ready to go, the [`Waiter`],
//! the event emitter — and a set of apply requests in flight (at most `concurrency`). Each turn it
//! moves newly ready objects to the queue, sends queued applies while there is room, then waits for
//! whichever comes first: an apply finishing, the next status poll, or cancellation. It ends when
//! nothing is in flight, queued or waited for.
//!
//! An object whose apply response is already Current (a ConfigMap, a Namespace, anything without
//! status to wait for) completes at once, without a poll. After a CustomResourceDefinition becomes
//! Current (established), its custom resources are held back until discovery serves their kind, while
//! discovery is refreshed in the background and everything else goes on (see [`DiscoveryGate`]).
//!
//! Queued objects go in kind order, however late they became ready, and large objects (a bundle's
//! CRDs) may hold at most a quarter of the slots, so that the small ones — the Deployments among
//! them — are not held up behind them ([`send_queue`]).
//!
//! This file is the loop; [`object`] is the work on one object (checks, mutations, the apply itself,
//! `--recreate-on-immutable`), [`compare`] the pure helpers (a preview's comparison, annotations,
//! per-object errors), [`send_queue`] the queue of ready objects.

mod compare;
mod object;
mod send_queue;

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::Value;

use crate::cluster::{ApplyAction, Cluster};
use crate::event::{ApplyOutcome, Event, SkipReason, WaitOutcome};
use crate::graph::Scheduler;
use crate::inventory::Ownership;
use crate::kstatus::{self, Status, StatusResult};
use crate::object::ObjRef;
use crate::wait::{Until, Verdict, Waiter};

use super::discovery_gate::DiscoveryGate;
use super::emit::Emitter;
use super::inventory_store::Digests;
use super::live::LiveReader;
use super::{ApplyOptions, Prepared};
use crate::cancel::{Cancel, CancelReason};

pub(crate) use compare::{mark_owned, object_error};
use object::{ApplyResult, ApplyResultBox, Done};
use send_queue::{LARGE_BODY_BYTES, SendQueue, large_slots};

/// What the prune phase needs to know about the apply phase.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// UID → reference of every object applied in this run.
    pub uids: BTreeMap<String, ObjRef>,
    /// How many applies failed (the request, a read or check before it, or the inventory policy):
    /// when any did, the set is not in place and the prune phase deletes nothing.
    pub failed: usize,
    /// What the inventory records of each apply of this run (sent or found unchanged).
    pub digests: Digests,
    /// The prune candidates the apply phase's LISTs showed lately, with their trimmed live bodies
    /// (None: not there): the prune phase need not list their batches again
    /// ([`LiveReader::listed_candidates`]).
    pub listed_candidates: HashMap<ObjRef, Option<Value>>,
}

/// The read-only context of the apply phase, shared by every apply in flight.
pub(crate) struct ApplyPhase<'a> {
    cluster: &'a Cluster,
    prepared: &'a Prepared,
    options: &'a ApplyOptions,
    cancel: &'a Cancel,
    live: LiveReader<'a>,
    /// Per object, its dependencies outside the set: they must exist in the cluster and be Current.
    external: HashMap<ObjRef, Vec<ObjRef>>,
    /// What the live inventory records of each object's last apply: an object whose configuration and
    /// live state still match is not sent again.
    recorded: &'a Digests,
}

impl<'a> ApplyPhase<'a> {
    /// `candidates`: the run's prune candidates, whose live state the apply phase's LISTs keep for
    /// the prune phase.
    pub(crate) fn new(
        cluster: &'a Cluster,
        prepared: &'a Prepared,
        options: &'a ApplyOptions,
        cancel: &'a Cancel,
        recorded: &'a Digests,
        candidates: &[ObjRef],
    ) -> Self {
        let mut external: HashMap<ObjRef, Vec<ObjRef>> = HashMap::new();
        for dep in prepared.graph.external() {
            external.entry(dep.from.clone()).or_default().push(dep.to.clone());
        }
        let live = LiveReader::new(
            cluster,
            prepared.graph.objects(),
            candidates,
            &options.field_manager,
            options.status_options(),
        );
        ApplyPhase { cluster, prepared, options, cancel, live, external, recorded }
    }

    /// Runs the loop described in the module documentation until every object has its final event.
    pub(crate) async fn run(
        &self,
        early: Option<(ObjRef, ApplyResultBox)>,
        emitter: &mut Emitter<'_>,
    ) -> Applied {
        let mut state = State {
            scheduler: self.prepared.graph.scheduler(),
            queue: SendQueue::default(),
            waiter: Waiter::new(Until::Current, self.options.poll_period, self.options.wait_mode)
                .explaining(self.options.fail_fast.clone())
                .with_status_options(self.options.status_options()),
            established_crds: Vec::new(),
            gate: DiscoveryGate::default(),
            applied: Applied::default(),
            emitter,
        };
        if let Some((obj, ApplyResultBox(result))) = early {
            state.scheduler.start(&obj);
            state.finish_apply(self, obj, result);
        }
        let mut in_flight = FuturesUnordered::new();
        let concurrency = self.options.concurrency.max(1);
        let mut large_in_flight = 0;
        let mut cancelled = self.cancel.is_cancelled();
        // The background discovery refresh, while the gate awaits kinds (see `DiscoveryGate`).
        let mut refresh: Option<futures::future::BoxFuture<'_, crate::cluster::Result<()>>> = None;
        loop {
            if !cancelled {
                for obj in state.scheduler.ready() {
                    state.scheduler.start(&obj);
                    self.enqueue(&mut state, obj);
                }
                let discovered = self.cluster.discovered().await;
                for crd in std::mem::take(&mut state.established_crds) {
                    if let Some(crd) = self.prepared.object(&crd) {
                        state.gate.crd_established(&crd.body, &discovered, tokio::time::Instant::now());
                    }
                }
                while in_flight.len() < concurrency {
                    let Some((obj, large)) = state.queue.pop(large_in_flight < large_slots(concurrency))
                    else {
                        break;
                    };
                    let object = self.prepared.object(&obj).expect("every scheduled object is in the set");
                    if state.gate.hold(&object, &discovered) {
                        continue;
                    }
                    large_in_flight += usize::from(large);
                    in_flight.push(async move { (obj, large, self.apply_one(&object).await) });
                }
                if refresh.is_none() && state.gate.wants_refresh() {
                    let (pause, cluster) = (state.gate.next_pause(), self.cluster);
                    refresh = Some(Box::pin(async move {
                        tokio::time::sleep(pause).await;
                        cluster.refresh_discovery().await
                    }));
                }
            }
            let waiting = !cancelled && !state.waiter.is_empty();
            let holding = !cancelled && state.gate.is_holding();
            if in_flight.is_empty() && !waiting && !holding {
                break;
            }
            tokio::select! {
                Some((obj, large, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    large_in_flight -= usize::from(large);
                    if cancelled {
                        state.finish_cancelled_apply(self, obj, result, self.cancel.reason());
                    } else {
                        state.finish_apply(self, obj, result);
                    }
                }
                () = state.waiter.wakeup(), if waiting => {
                    let tick = state.waiter.poll(self.cluster).await;
                    state.observe(self, tick);
                }
                refreshed = async { refresh.as_mut().expect("guarded").await }, if refresh.is_some() && !cancelled => {
                    refresh = None;
                    if let Err(err) = refreshed {
                        state.emitter.emit(Event::Warning { obj: None, message: err.to_string() });
                    }
                    let discovered = self.cluster.discovered().await;
                    let version = |obj: &ObjRef| self.prepared.object(obj).map(|o| o.api_version.clone());
                    let released = state.gate.refreshed(&discovered, version, tokio::time::Instant::now());
                    for obj in released {
                        self.enqueue(&mut state, obj);
                    }
                }
                () = self.cancel.cancelled(), if !cancelled => cancelled = true,
            }
        }
        if cancelled {
            state.cancel_the_rest(self, self.cancel.reason());
        }
        state.applied.listed_candidates = self.live.listed_candidates();
        state.applied
    }

    /// Queues a started object at its place in kind order; a CRD or a large body is large: its apply
    /// is heavy for the apiserver, and kept to a quarter of the slots ([`send_queue`]).
    fn enqueue(&self, state: &mut State<'_, '_>, obj: ObjRef) {
        let large = obj.group_kind().is_crd()
            || self.prepared.body_len(&obj).is_some_and(|len| len >= LARGE_BODY_BYTES);
        let rank = state.scheduler.place(&obj);
        state.queue.push(obj, rank, large);
    }
}

/// The mutable state of the loop.
struct State<'e, 's> {
    scheduler: Scheduler,
    /// Ready objects not sent yet (started in the scheduler).
    queue: SendQueue,
    waiter: Waiter,
    /// CRDs that became Current since the loop last told the gate.
    established_crds: Vec<ObjRef>,
    /// Custom resources held until discovery serves their kind.
    gate: DiscoveryGate,
    applied: Applied,
    emitter: &'e mut Emitter<'s>,
}

impl State<'_, '_> {
    fn finish_apply(&mut self, phase: &ApplyPhase<'_>, obj: ObjRef, result: ApplyResult) {
        let done = match result {
            Ok(done) => done,
            Err(refusal) => {
                self.applied.failed += 1;
                self.emitter.emit(Event::Apply { obj: obj.clone(), outcome: refusal.outcome() });
                self.skip_dependents(&obj, SkipReason::DependencyFailed(obj.clone()));
                return;
            }
        };
        self.record_applied(&obj, &done);
        if phase.options.dry_run.is_dry_run() {
            // A preview waits for nothing: the Apply event is the object's final event.
            self.scheduler.complete(&obj);
            return;
        }
        let status = done.status.clone().unwrap_or_else(|| {
            kstatus::compute_with(&done.response, phase.options.status_options())
                .unwrap_or_else(|e| StatusResult::unknown(e.to_string()))
        });
        if status.status == Status::Current {
            self.reconciled(obj, WaitOutcome::Current);
        } else if phase.options.no_wait && phase.prepared.graph.dependents(&obj).is_empty() {
            self.emitter.emit(Event::Reconciled {
                obj: obj.clone(),
                outcome: WaitOutcome::Skipped(SkipReason::NotWaited),
            });
            self.scheduler.complete(&obj);
        } else {
            self.status(phase, &obj, status.clone());
            self.waiter.add(obj, status, phase.options.reconcile_timeout);
        }
    }

    /// An apply that finished after cancellation: reported, but not waited for.
    fn finish_cancelled_apply(
        &mut self,
        phase: &ApplyPhase<'_>,
        obj: ObjRef,
        result: ApplyResult,
        reason: Option<CancelReason>,
    ) {
        match result {
            Ok(done) => {
                self.record_applied(&obj, &done);
                let status = done.status.clone().unwrap_or_else(|| {
                    kstatus::compute_with(&done.response, phase.options.status_options())
                        .unwrap_or_else(|e| StatusResult::unknown(e.to_string()))
                });
                let outcome = match (status.status, reason) {
                    (Status::Current, _) => WaitOutcome::Current,
                    (_, Some(CancelReason::TimedOut)) => WaitOutcome::Timeout(status),
                    _ => WaitOutcome::Skipped(SkipReason::stopped(reason)),
                };
                self.emitter.emit(Event::Reconciled { obj, outcome });
            }
            Err(refusal) => {
                self.applied.failed += 1;
                self.emitter.emit(Event::Apply { obj, outcome: refusal.outcome() });
            }
        }
    }

    fn record_applied(&mut self, obj: &ObjRef, done: &Done) {
        if let Some(digest) = done.digest {
            self.applied.digests.insert(obj.clone(), digest);
        }
        let outcome = match done.action {
            ApplyAction::Created => ApplyOutcome::Created,
            ApplyAction::Configured => ApplyOutcome::Configured,
            ApplyAction::Unchanged => ApplyOutcome::Unchanged,
        };
        if let Some(uid) = done.response.pointer("/metadata/uid").and_then(Value::as_str) {
            self.applied.uids.insert(uid.to_owned(), obj.clone());
        }
        self.emitter.emit(Event::Apply { obj: obj.clone(), outcome });
        if let Some(note) = &done.note {
            self.emitter.emit(Event::Warning { obj: Some(obj.clone()), message: note.clone() });
        }
        if let Ownership::TakenOver { previous_owner } = &done.ownership {
            self.emitter.emit(Event::Warning {
                obj: Some(obj.clone()),
                message: format!(
                    "taken over from inventory {previous_owner} (inventory policy adopt-all); that inventory \
                     will no longer prune or delete it"
                ),
            });
        }
    }

    /// A wait that ended: Current completes the object; Failed and timeouts skip its dependents.
    fn reconciled(&mut self, obj: ObjRef, outcome: WaitOutcome) {
        let skip = match &outcome {
            WaitOutcome::Current => None,
            WaitOutcome::Failed(_) => Some(SkipReason::DependencyFailed(obj.clone())),
            WaitOutcome::Timeout(_) => Some(SkipReason::DependencyTimedOut(obj.clone())),
            WaitOutcome::Skipped(_) => Some(SkipReason::DependencySkipped(obj.clone())),
        };
        self.emitter.emit(Event::Reconciled { obj: obj.clone(), outcome });
        match skip {
            None => {
                if obj.group_kind().is_crd() {
                    self.established_crds.push(obj.clone());
                }
                self.scheduler.complete(&obj);
            }
            Some(reason) => self.skip_dependents(&obj, reason),
        }
    }

    /// A `Status` of a waited-for object, then a `Blocked` for each object that depends on it directly
    /// and is not applied yet for that reason: so that a dependent says what it waits for.
    fn status(&mut self, phase: &ApplyPhase<'_>, obj: &ObjRef, status: StatusResult) {
        self.emitter.emit(Event::Status { obj: obj.clone(), status: status.clone() });
        for dependent in phase.prepared.graph.dependents(obj) {
            if self.scheduler.state(&dependent) == Some(crate::graph::TaskState::Blocked) {
                let event =
                    Event::Blocked { obj: dependent, dependency: obj.clone(), status: status.clone() };
                self.emitter.emit(event);
            }
        }
    }

    fn skip_dependents(&mut self, obj: &ObjRef, reason: SkipReason) {
        for dependent in self.scheduler.fail(obj) {
            self.emitter
                .emit(Event::Apply { obj: dependent, outcome: ApplyOutcome::Skipped(reason.clone()) });
        }
    }

    fn observe(&mut self, phase: &ApplyPhase<'_>, tick: crate::wait::Tick) {
        for (obj, status) in tick.changes {
            self.status(phase, &obj, status);
        }
        for (obj, verdict) in tick.verdicts {
            let outcome = match verdict {
                Verdict::Reached(status) if status.status == Status::Current => WaitOutcome::Current,
                Verdict::Reached(status) => WaitOutcome::Failed(status),
                Verdict::TimedOut(status) => WaitOutcome::Timeout(status),
            };
            self.reconciled(obj, outcome);
        }
    }

    /// After cancellation: every wait ends, and every object not yet sent is skipped.
    fn cancel_the_rest(&mut self, phase: &ApplyPhase<'_>, reason: Option<CancelReason>) {
        for (obj, status) in self.waiter.drain() {
            let outcome = match reason {
                Some(CancelReason::TimedOut) => WaitOutcome::Timeout(status),
                _ => WaitOutcome::Skipped(SkipReason::Cancelled),
            };
            self.emitter.emit(Event::Reconciled { obj, outcome });
        }
        let mut not_sent: Vec<ObjRef> = self.queue.drain();
        not_sent.extend(self.gate.release_all());
        not_sent.extend(
            phase
                .prepared
                .graph
                .objects()
                .iter()
                .filter(|obj| {
                    matches!(
                        self.scheduler.state(obj),
                        Some(crate::graph::TaskState::Blocked | crate::graph::TaskState::Ready)
                    )
                })
                .cloned(),
        );
        for obj in not_sent {
            let outcome = ApplyOutcome::Skipped(SkipReason::stopped(reason));
            self.emitter.emit(Event::Apply { obj, outcome });
        }
    }
}
