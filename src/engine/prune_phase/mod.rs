//! The prune loop: objects recorded by the previous run and absent from the set are deleted, each
//! only after everything depending on it is gone, and only past every safety filter.
//!
//! A prune never starts what it cannot finish. It deletes nothing when an apply of the run failed
//! (the new set is not in place: an object it replaces may still be in use), nor when any deletion it
//! plans is forbidden to the user: every candidate then stays, recorded, for a run that can finish.
//!
//! Per candidate, in this order:
//! 1. its kind is still served (else: skipped with a warning, kept in the inventory);
//! 2. it still exists (else: already gone, dropped from the inventory), as one LIST per (kind,
//!    namespace) shows — or the apply phase's LIST of that batch, taken in the last seconds;
//! 3. nothing applied in this run depends on it (a depends-on entry, or custom resources of a CRD);
//! 4. [`PruneFilters`]: the UID was not just applied, keep/detach (abandon: our owner annotation is
//!    removed), ownership under the policy, not a namespace still in use;
//! 5. deleted with a UID precondition, then waited for until gone — a Namespace only once the Pods of
//!    the objects deleted in it are gone ([`settle`]: the namespace controller is slow to notice);
//! 6. once the loop is done, every object seen gone is looked for once more (one LIST per kind and
//!    namespace), and only then reported gone: one that a controller re-created in the meantime (an
//!    aggregated ClusterRole, a workload's owner) fails as [`DeletionOutcome::Reappeared`] instead of
//!    being claimed deleted.
//!
//! Between 4 and 5, for a prune (not a destroy): the user may delete every object steps 1–4 leave to
//! delete, as SelfSubjectAccessReviews tell; if one is forbidden, nothing is deleted.
//!
//! A candidate that stays (skipped, failed, timed out) keeps everything it depends on: the deletion
//! scheduler skips those too, so a Namespace is never deleted under an object still there. What an
//! *abandoned* object depends on is abandoned with it (unless a filter keeps it for a reason of its
//! own): the abandoned object leaves the inventory, so if its Namespace stayed recorded, nothing would
//! protect that Namespace from the next run, which would delete it and the kept object inside.
//!
//! This file is the loop; [`decide`] is the decision of step 4 (pure), [`access`] the RBAC pre-check
//! between 4 and 5, [`object`] the request sent for one candidate (step 5), [`settle`] the wait
//! before a Namespace's delete for the Pods of what was deleted in it.

mod access;
mod decide;
mod object;
mod settle;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::Value;

use crate::cluster::{Cluster, DeleteResult};
use crate::event::{DeletionOutcome, DryRun, Event, ObjectError, PruneOutcome, SkipReason};
use crate::graph::{self, Scheduler};
use crate::inventory::{self, PruneFilters};
use crate::kstatus::{Status, StatusResult};
use crate::object::ObjRef;
use crate::wait::{self, Until, Verdict, Waiter};

use super::apply_phase::Applied;
use super::emit::Emitter;
use super::{ApplyOptions, Prepared, Removal};
use crate::cancel::Cancel;
use access::refuse_every_deletion;
use decide::{Action, Decision, Rules, Stay, skip_reason};
use object::{ActionResult, reappeared};

pub(crate) struct PrunePhase<'a> {
    cluster: &'a Cluster,
    prepared: &'a Prepared,
    options: &'a ApplyOptions,
    cancel: &'a Cancel,
    applied: &'a Applied,
    removal: Removal,
    /// Refuse to delete the inventory's own Namespace (it would take the inventory with it). Off only
    /// for destroy's last step, once the inventory lists nothing else.
    protect_inventory_namespace: bool,
}

impl<'a> PrunePhase<'a> {
    pub(crate) fn new(
        cluster: &'a Cluster,
        prepared: &'a Prepared,
        options: &'a ApplyOptions,
        cancel: &'a Cancel,
        applied: &'a Applied,
        removal: Removal,
    ) -> Self {
        PrunePhase { cluster, prepared, options, cancel, applied, removal, protect_inventory_namespace: true }
    }

    /// Lets this phase delete the inventory's Namespace (destroy, once nothing else is left).
    pub(crate) fn unprotect_inventory_namespace(mut self) -> Self {
        self.protect_inventory_namespace = false;
        self
    }

    /// Prunes `candidates`; every one gets exactly one `Prune` event (and a `Deleted` when deleted).
    pub(crate) async fn run(&self, candidates: Vec<ObjRef>, emitter: &mut Emitter<'_>) {
        let removal = self.removal;
        let report = |emitter: &mut Emitter<'_>, obj: ObjRef, outcome: PruneOutcome| {
            emitter.emit(removal.event(obj, outcome));
        };
        if self.cancel.is_cancelled() {
            for obj in candidates {
                report(emitter, obj, PruneOutcome::Skipped(SkipReason::stopped(self.cancel.reason())));
            }
            return;
        }
        // 0. An apply failed: the set is not in place, so nothing it replaces is removed yet.
        if self.applied.failed > 0 {
            let reason = SkipReason::ApplyFailed(self.applied.failed);
            for obj in candidates {
                report(emitter, obj, PruneOutcome::Skipped(reason.clone()));
            }
            return;
        }
        // 1. Kinds no longer served.
        let mut served = Vec::new();
        for obj in candidates {
            if self.cluster.resolve(&obj.group_kind(), None).await.is_ok() {
                served.push(obj);
            } else {
                emitter.emit(Event::Warning {
                    obj: Some(obj.clone()),
                    message: format!(
                        "not pruned: the cluster no longer serves {}; it stays in the inventory",
                        obj.group_kind()
                    ),
                });
                report(emitter, obj, PruneOutcome::Skipped(SkipReason::KindNotServed));
            }
        }
        // 2. Still there? One LIST per (kind, namespace), except for the batches the apply phase
        //    listed in the last seconds (`LiveReader::listed_candidates`): what that LIST showed stands
        //    in for a new one, as this phase's own LIST stands for its whole loop. An object
        //    re-created in between fails its delete's UID precondition either way.
        let listed = &self.applied.listed_candidates;
        let to_list: Vec<ObjRef> = served.iter().filter(|obj| !listed.contains_key(obj)).cloned().collect();
        let mut observed = wait::poll(self.cluster, &to_list).await.observed;
        let mut live: HashMap<ObjRef, Value> = HashMap::new();
        for obj in served {
            let body = match listed.get(&obj) {
                Some(body) => body.clone(),
                None => match observed.remove(&obj) {
                    Some(wait::Observed { live: Some(body), .. }) => Some(body),
                    Some(wait::Observed { status, .. }) if status.status == Status::Unknown => {
                        report(emitter, obj, PruneOutcome::Failed(ObjectError::new(status.message)));
                        continue;
                    }
                    _ => None,
                },
            };
            match body {
                Some(body) => {
                    live.insert(obj, body);
                }
                None => report(emitter, obj, PruneOutcome::Skipped(SkipReason::AlreadyGone)),
            }
        }
        let items: Vec<(ObjRef, &Value)> = live.iter().map(|(obj, body)| (obj.clone(), body)).collect();
        // The UIDs of the candidates in each Namespace: what a Namespace's delete waits for the Pods
        // of (only those deleted matter: one that stays keeps its Namespace from being deleted).
        let mut in_namespace: HashMap<String, HashSet<String>> = HashMap::new();
        for (obj, body) in &live {
            if let (Some(ns), Some(uid)) =
                (&obj.namespace, body.pointer("/metadata/uid").and_then(Value::as_str))
            {
                in_namespace.entry(ns.clone()).or_default().insert(uid.to_owned());
            }
        }
        let in_namespace = &in_namespace;
        let deletion = graph::deletion_graph(&items);
        let needed = decide::still_needed(&self.prepared.graph, &self.prepared.retained, &live);
        let set: Vec<ObjRef> = self.prepared.kept_refs();
        let filters = PruneFilters {
            policy: self.options.policy,
            inventory_id: self.prepared.info.id.clone(),
            local_namespaces: if self.protect_inventory_namespace {
                inventory::local_namespaces(&self.prepared.info.namespace, &set)
            } else {
                BTreeSet::new()
            },
            applied_uids: self.applied.uids.keys().cloned().collect(),
        };
        let rules = Rules { filters: &filters, needed: &needed, applied: &self.applied.uids };
        // 4½. Every planned deletion is allowed, or none is sent (a destroy deletes what it may).
        if self.removal == Removal::Prune {
            let planned = access::planned_deletions(&deletion, &live, &rules);
            let denied = self.forbidden_deletions(&planned).await;
            if !denied.is_empty() {
                refuse_every_deletion(deletion.objects(), denied, emitter);
                return;
            }
        }
        let mut state = State {
            removal: self.removal,
            dry_run: self.options.dry_run,
            scheduler: deletion.delete_scheduler(),
            waiter: Waiter::new(Until::Deleted, self.options.poll_period, self.options.wait_mode),
            emitter,
            kept_dependencies: Vec::new(),
            gone: Vec::new(),
        };
        let mut queue: VecDeque<(ObjRef, Action)> = VecDeque::new();
        let mut in_flight = FuturesUnordered::new();
        let mut cancelled = false;
        loop {
            if !cancelled {
                for obj in state.scheduler.ready() {
                    state.scheduler.start(&obj);
                    match rules.decide(&obj, &live[&obj]) {
                        Decision::Act(action) => queue.push_back((obj, action)),
                        Decision::Stay(stay) => state.stays(obj, stay),
                    }
                }
                while let Some((obj, kept)) = state.kept_dependencies.pop() {
                    match rules.decide_kept_dependency(&obj, &live[&obj], kept) {
                        Decision::Act(action) => queue.push_back((obj, action)),
                        Decision::Stay(stay) => state.stays(obj, stay),
                    }
                }
                while in_flight.len() < self.options.concurrency.max(1) {
                    let Some((obj, action)) = queue.pop_front() else { break };
                    in_flight.push(async move {
                        let deleted =
                            settle::waits_for_pods(&obj).then(|| in_namespace.get(&obj.name)).flatten();
                        let result = self.act(&obj, action, deleted).await;
                        (obj, result)
                    });
                }
            }
            let waiting = !cancelled && !state.waiter.is_empty();
            if in_flight.is_empty() && !waiting {
                break;
            }
            tokio::select! {
                Some((obj, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    state.finish(obj, result, self.options.prune_timeout, cancelled);
                }
                () = state.waiter.wakeup(), if waiting => {
                    let tick = state.waiter.poll(self.cluster).await;
                    state.observe(tick);
                }
                () = self.cancel.cancelled(), if !cancelled => cancelled = true,
            }
        }
        if cancelled {
            let not_sent: Vec<ObjRef> = queue.into_iter().map(|(obj, _)| obj).collect();
            state.cancel_the_rest(deletion.objects(), not_sent, self.cancel.reason());
        }
        self.confirm_gone(&mut state).await;
    }

    /// Step 6: reports each object seen gone as [`DeletionOutcome::Gone`], or as
    /// [`DeletionOutcome::Reappeared`] when it exists again (it then stays in the inventory).
    async fn confirm_gone(&self, state: &mut State<'_, '_>) {
        let gone = std::mem::take(&mut state.gone);
        if gone.is_empty() {
            return;
        }
        let mut observed = wait::poll(self.cluster, &gone).await.observed;
        for obj in gone {
            let outcome = match observed.remove(&obj) {
                Some(wait::Observed { live: Some(body), .. }) => {
                    DeletionOutcome::Reappeared(reappeared(&obj, &body))
                }
                // Not found, or not listable now: it was seen gone, and nothing says otherwise.
                _ => DeletionOutcome::Gone,
            };
            state.emitter.emit(Event::Deleted { obj, outcome });
        }
    }
}

struct State<'e, 's> {
    removal: Removal,
    dry_run: DryRun,
    scheduler: Scheduler,
    waiter: Waiter,
    emitter: &'e mut Emitter<'s>,
    /// Candidates that abandoned objects depend on, each with one such object, to be decided.
    kept_dependencies: Vec<(ObjRef, ObjRef)>,
    /// Objects seen gone, to be confirmed once the loop is done (step 6).
    gone: Vec<ObjRef>,
}

impl State<'_, '_> {
    fn emit(&mut self, obj: ObjRef, outcome: PruneOutcome) {
        self.emitter.emit(self.removal.event(obj, outcome));
    }

    fn stays(&mut self, obj: ObjRef, stay: Stay) {
        let result = match stay {
            Stay::Filtered(skip, applied_as) => PruneOutcome::Skipped(skip_reason(&skip, applied_as, &obj)),
            Stay::Skipped(reason) => PruneOutcome::Skipped(reason),
            Stay::Abandoned(reason) => {
                self.emit(obj.clone(), PruneOutcome::Abandoned(reason));
                self.abandon_dependencies(&obj);
                return;
            }
        };
        self.emit(obj.clone(), result);
        self.keep_dependencies(&obj);
    }

    /// An abandoned candidate's dependencies are decided again, to be abandoned with it.
    fn abandon_dependencies(&mut self, obj: &ObjRef) {
        for dependency in self.scheduler.fail(obj) {
            self.kept_dependencies.push((dependency, obj.clone()));
        }
    }

    /// A candidate that stays keeps what it depends on.
    fn keep_dependencies(&mut self, obj: &ObjRef) {
        for dependency in self.scheduler.fail(obj) {
            self.emit(dependency, PruneOutcome::Skipped(SkipReason::DependentExists(obj.clone())));
        }
    }

    fn finish(&mut self, obj: ObjRef, result: ActionResult, timeout: std::time::Duration, cancelled: bool) {
        match result {
            ActionResult::Deleted(_) if self.dry_run.is_dry_run() => {
                // A preview waits for nothing: the Prune (Delete) event is final.
                self.emit(obj.clone(), PruneOutcome::Deleted);
                self.scheduler.complete(&obj);
            }
            ActionResult::Deleted(DeleteResult::Gone) => {
                self.emit(obj.clone(), PruneOutcome::Deleted);
                // Seen gone now (a printer may show it), confirmed when the loop is done.
                self.emitter.emit(Event::Status { obj: obj.clone(), status: StatusResult::not_found() });
                self.scheduler.complete(&obj);
                self.gone.push(obj);
            }
            ActionResult::Deleted(DeleteResult::Terminating) => {
                self.emit(obj.clone(), PruneOutcome::Deleted);
                let status = StatusResult::terminating("deletion in progress");
                if cancelled {
                    self.emitter.emit(Event::Deleted { obj, outcome: DeletionOutcome::Timeout(status) });
                } else {
                    self.emitter.emit(Event::Status { obj: obj.clone(), status: status.clone() });
                    self.waiter.add(obj, status, timeout);
                }
            }
            ActionResult::Unclaimed(reason) => {
                self.emit(obj.clone(), PruneOutcome::Abandoned(reason));
                self.abandon_dependencies(&obj);
            }
            ActionResult::Failed(error) => {
                self.emit(obj.clone(), PruneOutcome::Failed(error));
                self.keep_dependencies(&obj);
            }
            ActionResult::Stopped(reason) => {
                self.emit(obj.clone(), PruneOutcome::Skipped(SkipReason::stopped(reason)));
                self.keep_dependencies(&obj);
            }
        }
    }

    fn observe(&mut self, tick: crate::wait::Tick) {
        for (obj, status) in tick.changes {
            self.emitter.emit(Event::Status { obj, status });
        }
        for (obj, verdict) in tick.verdicts {
            match verdict {
                Verdict::Reached(_) => {
                    self.scheduler.complete(&obj);
                    self.gone.push(obj);
                }
                Verdict::TimedOut(status) => {
                    // Still there: it stays recorded, and so does everything it depends on.
                    self.emitter
                        .emit(Event::Deleted { obj: obj.clone(), outcome: DeletionOutcome::Timeout(status) });
                    self.keep_dependencies(&obj);
                }
            }
        }
    }

    fn cancel_the_rest(
        &mut self,
        objects: &[ObjRef],
        not_sent: Vec<ObjRef>,
        reason: Option<crate::CancelReason>,
    ) {
        for (obj, status) in self.waiter.drain() {
            self.emitter.emit(Event::Deleted { obj, outcome: DeletionOutcome::Timeout(status) });
        }
        let mut not_started: BTreeSet<ObjRef> = objects
            .iter()
            .filter(|obj| {
                matches!(self.scheduler.state(obj), Some(graph::TaskState::Blocked | graph::TaskState::Ready))
            })
            .cloned()
            .collect();
        not_started.extend(not_sent);
        not_started.extend(std::mem::take(&mut self.kept_dependencies).into_iter().map(|(obj, _)| obj));
        for obj in not_started {
            self.emit(obj, PruneOutcome::Skipped(SkipReason::stopped(reason)));
        }
    }
}

impl Removal {
    /// The event reporting how the removal of `obj` ended.
    fn event(self, obj: ObjRef, outcome: PruneOutcome) -> Event {
        match self {
            Removal::Prune => Event::Prune { obj, outcome },
            Removal::Delete => Event::Delete { obj, outcome },
        }
    }
}
