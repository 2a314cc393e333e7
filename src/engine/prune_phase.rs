//! The prune loop: objects recorded by the previous run and absent from the set are deleted, each
//! only after everything depending on it is gone, and only past every safety filter.
//!
//! A prune never starts what it cannot finish. It deletes nothing when an apply of the run failed
//! (the new set is not in place: an object it replaces may still be in use), nor when any deletion it
//! plans is forbidden to the user: every candidate then stays, recorded, for a run that can finish.
//!
//! Per candidate, in this order:
//! 1. its kind is still served (else: skipped with a warning, kept in the inventory);
//! 2. it still exists (else: already gone, dropped from the inventory);
//! 3. nothing applied in this run depends on it (a depends-on entry, or custom resources of a CRD);
//! 4. [`PruneFilters`]: the UID was not just applied, keep/detach (abandon: our owner annotation is
//!    removed), ownership under the policy, not a namespace still in use;
//! 5. deleted with a UID precondition, then waited for until gone;
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

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};

use crate::cluster::{Cluster, ClusterError, DeleteResult};
use crate::event::{AbandonReason, DeletionOutcome, DryRun, Event, ObjectError, PruneOutcome, SkipReason};
use crate::graph::{self, Scheduler};
use crate::inventory::{self, PruneFilters, PruneSkip};
use crate::kstatus::{Status, StatusResult};
use crate::object::{GroupKind, LIFECYCLE_DELETION, OWNING_INVENTORY, ObjRef};
use crate::status::{self, Until};

use super::apply_phase::{Applied, object_error};
use super::cancel::Cancel;
use super::emit::Emitter;
use super::waiter::{Verdict, Waiter};
use super::{ApplyOptions, Prepared, Removal};

/// An action on one candidate, sent to the cluster.
enum Action {
    Delete {
        uid: Option<String>,
    },
    /// Remove our owning-inventory annotation, then report the object abandoned.
    Unclaim(AbandonReason),
}

enum ActionResult {
    Deleted(DeleteResult),
    Unclaimed(AbandonReason),
    Failed(ObjectError),
}

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
    pub(crate) async fn run(
        &self,
        candidates: Vec<ObjRef>,
        emitter: &mut Emitter<'_>,
        outcome: &mut inventory::Outcome,
    ) {
        let removal = self.removal;
        let report = |emitter: &mut Emitter<'_>, obj: ObjRef, outcome: PruneOutcome| {
            emitter.emit(removal.event(obj, outcome));
        };
        if self.cancel.is_cancelled() {
            for obj in candidates {
                outcome.prune_skipped.insert(obj.clone());
                report(emitter, obj, PruneOutcome::Skipped(SkipReason::Cancelled));
            }
            return;
        }
        // 0. An apply failed: the set is not in place, so nothing it replaces is removed yet.
        if self.applied.failed > 0 {
            let reason = SkipReason::ApplyFailed(self.applied.failed);
            for obj in candidates {
                outcome.prune_skipped.insert(obj.clone());
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
                outcome.prune_skipped.insert(obj.clone());
                report(emitter, obj, PruneOutcome::Skipped(SkipReason::KindNotServed));
            }
        }
        // 2. Still there? One LIST per (kind, namespace).
        let mut observed = status::poll(self.cluster, &served).await.observed;
        let mut live: HashMap<ObjRef, Value> = HashMap::new();
        for obj in served {
            let seen = observed.remove(&obj);
            match seen {
                Some(status::Observed { live: Some(body), .. }) => {
                    live.insert(obj, body);
                }
                Some(status::Observed { status, .. }) if status.status == Status::Unknown => {
                    outcome.prune_failed.insert(obj.clone());
                    report(emitter, obj, PruneOutcome::Failed(ObjectError::new(status.message)));
                }
                _ => report(emitter, obj, PruneOutcome::Skipped(SkipReason::AlreadyGone)),
            }
        }
        let items: Vec<(ObjRef, &Value)> = live.iter().map(|(obj, body)| (obj.clone(), body)).collect();
        let deletion = graph::deletion_graph(&items);
        let needed = self.still_needed(&live);
        let set: Vec<ObjRef> = self.prepared.graph.objects().to_vec();
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
        // 4½. Every planned deletion is allowed, or none is sent (a destroy deletes what it may).
        if self.removal == Removal::Prune {
            let planned = self.planned_deletions(&deletion, &live, &filters, &needed);
            let denied = self.forbidden_deletions(&planned).await;
            if !denied.is_empty() {
                refuse_every_deletion(deletion.objects(), denied, emitter, outcome);
                return;
            }
        }
        let mut state = State {
            removal: self.removal,
            dry_run: self.options.dry_run,
            scheduler: deletion.delete_scheduler(),
            waiter: Waiter::new(Until::Deleted, self.options.poll_period, self.options.wait_mode),
            emitter,
            outcome,
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
                    match self.decide(&obj, &live[&obj], &filters, &needed) {
                        Decision::Act(action) => queue.push_back((obj, action)),
                        Decision::Stay(stay) => state.stays(obj, stay),
                    }
                }
                while let Some((obj, kept)) = state.kept_dependencies.pop() {
                    match self.decide_kept_dependency(&obj, &live[&obj], &filters, &needed, kept) {
                        Decision::Act(action) => queue.push_back((obj, action)),
                        Decision::Stay(stay) => state.stays(obj, stay),
                    }
                }
                while in_flight.len() < self.options.concurrency.max(1) {
                    let Some((obj, action)) = queue.pop_front() else { break };
                    in_flight.push(async move {
                        let result = self.act(&obj, action).await;
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
            state.cancel_the_rest(deletion.objects(), not_sent);
        }
        self.confirm_gone(&mut state).await;
    }

    /// Step 6: reports each object seen gone as [`DeletionOutcome::Gone`], or as
    /// [`DeletionOutcome::Reappeared`] when it exists again (it then stays in the inventory).
    async fn confirm_gone(&self, state: &mut State<'_, '_, '_>) {
        let gone = std::mem::take(&mut state.gone);
        if gone.is_empty() {
            return;
        }
        let mut observed = status::poll(self.cluster, &gone).await.observed;
        for obj in gone {
            let outcome = match observed.remove(&obj) {
                Some(status::Observed { live: Some(body), .. }) => {
                    state.outcome.prune_failed.insert(obj.clone());
                    DeletionOutcome::Reappeared(reappeared(&obj, &body))
                }
                // Not found, or not listable now: it was seen gone, and nothing says otherwise.
                _ => DeletionOutcome::Gone,
            };
            state.emitter.emit(Event::Deleted { obj, outcome });
        }
    }

    /// The candidates the loop would delete if every delete succeeded: a dry pass of its scheduler, in
    /// which a candidate that stays keeps what it depends on.
    fn planned_deletions(
        &self,
        deletion: &graph::Graph,
        live: &HashMap<ObjRef, Value>,
        filters: &PruneFilters,
        needed: &HashMap<ObjRef, ObjRef>,
    ) -> Vec<ObjRef> {
        let mut scheduler = deletion.delete_scheduler();
        let mut planned = Vec::new();
        loop {
            let ready = scheduler.ready();
            if ready.is_empty() {
                return planned;
            }
            for obj in ready {
                scheduler.start(&obj);
                if let Decision::Act(Action::Delete { .. }) = self.decide(&obj, &live[&obj], filters, needed)
                {
                    scheduler.complete(&obj);
                    planned.push(obj);
                } else {
                    scheduler.fail(&obj);
                }
            }
        }
    }

    /// The planned deletions the user may not send, each with its error. One access review per (kind,
    /// namespace); when that one is refused, one per object of it, as a Role may grant `delete` on some
    /// `resourceNames` only.
    ///
    /// A review that fails (an apiserver without `authorization.k8s.io/v1`) ends the check with
    /// nothing found: the prune goes on as it would without it, and a refused delete fails alone.
    /// Once a (kind, namespace) is refused, an object whose own review fails counts as refused.
    async fn forbidden_deletions(&self, planned: &[ObjRef]) -> Vec<(ObjRef, ObjectError)> {
        let mut batches: BTreeMap<(GroupKind, Option<&str>), Vec<&ObjRef>> = BTreeMap::new();
        for obj in planned {
            batches.entry((obj.group_kind(), obj.namespace.as_deref())).or_default().push(obj);
        }
        let mut forbidden = Vec::new();
        for ((gk, namespace), objects) in batches {
            let refused = match self.may_delete(&gk, namespace, None).await {
                Ok(None) => continue,
                Ok(Some(refused)) => refused,
                Err(err) => {
                    tracing::debug!("cannot review delete access, pruning without the check: {err}");
                    return Vec::new();
                }
            };
            let gk = &gk;
            let reviews = futures::stream::iter(objects)
                .map(|obj| async move { (obj, self.may_delete(gk, namespace, Some(&obj.name)).await) })
                .buffer_unordered(self.options.concurrency.max(1))
                .collect::<Vec<_>>()
                .await;
            for (obj, review) in reviews {
                match review {
                    Ok(None) => {}
                    Ok(Some(error)) => forbidden.push((obj.clone(), error)),
                    Err(err) => {
                        tracing::debug!("cannot review delete access to {obj}, counted as refused: {err}");
                        forbidden.push((obj.clone(), refused.clone()));
                    }
                }
            }
        }
        forbidden
    }

    /// None when the user may delete objects of `gk` in `namespace` (the one named `name`, when
    /// given), else the error that names what is forbidden and how to check it.
    async fn may_delete(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Option<ObjectError>, ClusterError> {
        let access = self.cluster.can_i("delete", gk, namespace, name).await?;
        if access.allowed {
            return Ok(None);
        }
        let reason = access.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        let error = ObjectError::new(format!(
            "{access} is forbidden to your kubeconfig user{reason}, so this prune deletes nothing"
        ))
        .with_hint(format!(
            "check the RBAC permissions of your kubeconfig user (`{}` must answer yes), then re-run",
            access.kubectl_can_i()
        ));
        Ok(Some(error))
    }

    /// Candidates that objects of the set still need: named in a depends-on (or mutation) of an
    /// applied object, or a CRD whose kind the set uses. Maps each to one object needing it.
    fn still_needed(&self, live: &HashMap<ObjRef, Value>) -> HashMap<ObjRef, ObjRef> {
        let mut needed = HashMap::new();
        for dep in self.prepared.graph.external() {
            if live.contains_key(&dep.to) {
                needed.entry(dep.to.clone()).or_insert_with(|| dep.from.clone());
            }
        }
        for (obj, body) in live {
            if !obj.group_kind().is_crd() {
                continue;
            }
            if let Some(defined) = graph::crd_group_kind(body)
                && let Some(user) = self.prepared.graph.objects().iter().find(|o| o.group_kind() == defined)
            {
                needed.entry(obj.clone()).or_insert_with(|| user.clone());
            }
        }
        needed
    }

    /// What to do with a candidate whose dependents are gone: an action, or why it stays.
    fn decide(
        &self,
        obj: &ObjRef,
        body: &Value,
        filters: &PruneFilters,
        needed: &HashMap<ObjRef, ObjRef>,
    ) -> Decision {
        // The UID check comes first (see PruneFilters), then what the set still needs.
        let checked = filters.check(obj, body);
        if let Err(skip @ PruneSkip::JustApplied { .. }) = &checked {
            return Decision::Stay(Stay::Filtered(skip.clone(), self.applied_as(body)));
        }
        if let Some(user) = needed.get(obj) {
            return Decision::Stay(Stay::Skipped(SkipReason::DependentExists(user.clone())));
        }
        match checked {
            Ok(()) => {
                let uid = body.pointer("/metadata/uid").and_then(Value::as_str).map(str::to_owned);
                Decision::Act(Action::Delete { uid })
            }
            Err(PruneSkip::Kept { annotation, remove_owner_annotation, .. }) => {
                let reason = if annotation == LIFECYCLE_DELETION {
                    AbandonReason::LifecycleDetach
                } else {
                    AbandonReason::OnRemoveKeep
                };
                if remove_owner_annotation {
                    Decision::Act(Action::Unclaim(reason))
                } else {
                    Decision::Stay(Stay::Abandoned(reason))
                }
            }
            Err(skip) => Decision::Stay(Stay::Filtered(skip, self.applied_as(body))),
        }
    }

    /// [`decide`](Self::decide) for a candidate an abandoned object depends on: what would be deleted
    /// is abandoned instead; a filter's own verdict (another owner, a keep annotation…) stands.
    fn decide_kept_dependency(
        &self,
        obj: &ObjRef,
        body: &Value,
        filters: &PruneFilters,
        needed: &HashMap<ObjRef, ObjRef>,
        kept: ObjRef,
    ) -> Decision {
        match self.decide(obj, body, filters, needed) {
            Decision::Act(Action::Delete { .. }) => {
                Decision::Act(Action::Unclaim(AbandonReason::DependentKept(kept)))
            }
            decision => decision,
        }
    }

    fn applied_as(&self, body: &Value) -> Option<ObjRef> {
        let uid = body.pointer("/metadata/uid").and_then(Value::as_str)?;
        self.applied.uids.get(uid).cloned()
    }

    async fn act(&self, obj: &ObjRef, action: Action) -> ActionResult {
        match action {
            Action::Delete { .. } if self.options.dry_run == DryRun::Client => {
                ActionResult::Deleted(DeleteResult::Gone)
            }
            Action::Delete { uid } => {
                let dry_run = self.options.dry_run == DryRun::Server;
                match self
                    .cluster
                    .delete(obj, uid.as_deref(), self.options.prune_propagation.policy(), dry_run)
                    .await
                {
                    Ok(result) => ActionResult::Deleted(result),
                    Err(err) => ActionResult::Failed(object_error(err)),
                }
            }
            // A merge patch has no dry run in kube's API: a preview only says what would happen.
            Action::Unclaim(reason) if self.options.dry_run.is_dry_run() => ActionResult::Unclaimed(reason),
            Action::Unclaim(reason) => {
                let patch = json!({"metadata": {"annotations": {OWNING_INVENTORY: null}}});
                match self.cluster.merge_patch(obj, &patch).await {
                    Ok(_) => ActionResult::Unclaimed(reason),
                    Err(err) => ActionResult::Failed(object_error(err)),
                }
            }
        }
    }
}

/// What happens to a candidate whose dependents are gone.
enum Decision {
    Act(Action),
    Stay(Stay),
}

/// Why a candidate stays in the cluster.
enum Stay {
    Filtered(PruneSkip, Option<ObjRef>),
    Skipped(SkipReason),
    Abandoned(AbandonReason),
}

struct State<'e, 's, 'o> {
    removal: Removal,
    dry_run: DryRun,
    scheduler: Scheduler,
    waiter: Waiter,
    emitter: &'e mut Emitter<'s>,
    outcome: &'o mut inventory::Outcome,
    /// Candidates that abandoned objects depend on, each with one such object, to be decided.
    kept_dependencies: Vec<(ObjRef, ObjRef)>,
    /// Objects seen gone, to be confirmed once the loop is done (step 6).
    gone: Vec<ObjRef>,
}

impl State<'_, '_, '_> {
    fn emit(&mut self, obj: ObjRef, outcome: PruneOutcome) {
        self.emitter.emit(self.removal.event(obj, outcome));
    }

    fn stays(&mut self, obj: ObjRef, stay: Stay) {
        let result = match stay {
            Stay::Filtered(skip, applied_as) => {
                self.outcome.record_prune_skip(obj.clone(), &skip);
                PruneOutcome::Skipped(skip_reason(&skip, applied_as, &obj))
            }
            Stay::Skipped(reason) => {
                self.outcome.prune_skipped.insert(obj.clone());
                PruneOutcome::Skipped(reason)
            }
            Stay::Abandoned(reason) => {
                self.outcome.abandoned.insert(obj.clone());
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
            self.outcome.prune_skipped.insert(dependency.clone());
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
                    self.outcome.prune_skipped.insert(obj.clone());
                    self.emitter.emit(Event::Deleted { obj, outcome: DeletionOutcome::Timeout(status) });
                } else {
                    self.emitter.emit(Event::Status { obj: obj.clone(), status: status.clone() });
                    self.waiter.add(obj, status, timeout);
                }
            }
            ActionResult::Unclaimed(reason) => {
                self.outcome.abandoned.insert(obj.clone());
                self.emit(obj.clone(), PruneOutcome::Abandoned(reason));
                self.abandon_dependencies(&obj);
            }
            ActionResult::Failed(error) => {
                self.outcome.prune_failed.insert(obj.clone());
                self.emit(obj.clone(), PruneOutcome::Failed(error));
                self.keep_dependencies(&obj);
            }
        }
    }

    fn observe(&mut self, tick: super::waiter::Tick) {
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
                    self.outcome.prune_skipped.insert(obj.clone());
                    self.emitter
                        .emit(Event::Deleted { obj: obj.clone(), outcome: DeletionOutcome::Timeout(status) });
                    self.keep_dependencies(&obj);
                }
            }
        }
    }

    fn cancel_the_rest(&mut self, objects: &[ObjRef], not_sent: Vec<ObjRef>) {
        for (obj, status) in self.waiter.drain() {
            self.outcome.prune_skipped.insert(obj.clone());
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
            self.outcome.prune_skipped.insert(obj.clone());
            self.emit(obj, PruneOutcome::Skipped(SkipReason::Cancelled));
        }
    }
}

/// The error of an object that exists again after it was seen gone.
fn reappeared(obj: &ObjRef, body: &Value) -> ObjectError {
    let uid = body.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("unknown");
    let ours = crate::object::annotation(body, OWNING_INVENTORY).is_some();
    let by = if ours { "re-applied with this inventory's annotation" } else { "re-created by someone else" };
    ObjectError::new(format!("was deleted, but exists again (uid {uid}, {by}); it stays in the inventory"))
        .with_hint(format!(
            "find what re-creates {obj} (a controller, another tool) and stop it, then re-run; or delete it \
             yourself"
        ))
}

/// A prune with forbidden deletions: nothing is deleted. Each forbidden candidate fails with its error,
/// every other one is skipped, and all stay in the inventory.
fn refuse_every_deletion(
    candidates: &[ObjRef],
    forbidden: Vec<(ObjRef, ObjectError)>,
    emitter: &mut Emitter<'_>,
    outcome: &mut inventory::Outcome,
) {
    let count = forbidden.len();
    let mut forbidden: HashMap<ObjRef, ObjectError> = forbidden.into_iter().collect();
    for obj in candidates {
        let result = match forbidden.remove(obj) {
            Some(error) => {
                outcome.prune_failed.insert(obj.clone());
                PruneOutcome::Failed(error)
            }
            None => {
                outcome.prune_skipped.insert(obj.clone());
                PruneOutcome::Skipped(SkipReason::DeletionForbidden(count))
            }
        };
        emitter.emit(Event::Prune { obj: obj.clone(), outcome: result });
    }
}

/// The event's reason for a filter's skip.
fn skip_reason(skip: &PruneSkip, applied_as: Option<ObjRef>, obj: &ObjRef) -> SkipReason {
    match skip {
        PruneSkip::OwnedByOther { owner } => SkipReason::OwnedByAnotherInventory(owner.clone()),
        PruneSkip::NotOwned => SkipReason::NotOwned,
        PruneSkip::JustApplied { .. } => SkipReason::SameAsApplied(applied_as.unwrap_or_else(|| obj.clone())),
        PruneSkip::NamespaceInUse { .. } => SkipReason::NamespaceInUse,
        // Handled as abandonment before this is called.
        PruneSkip::Kept { .. } => SkipReason::NotOwned,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> ObjRef {
        ObjRef::new("", "ConfigMap", Some("shop"), name)
    }

    #[test]
    fn a_forbidden_deletion_fails_its_object_skips_every_other_and_keeps_all_recorded() {
        let mut events = Vec::new();
        let mut sink = |event: &Event| events.push(event.clone());
        let mut emitter = Emitter::new(&mut sink);
        let mut outcome = inventory::Outcome::default();
        let denied = ObjectError::new("delete configmaps/b in namespace shop is forbidden");
        let forbidden = vec![(cm("b"), denied.clone())];
        refuse_every_deletion(&[cm("a"), cm("b"), cm("c")], forbidden, &mut emitter, &mut outcome);
        drop(emitter);
        let skipped = PruneOutcome::Skipped(SkipReason::DeletionForbidden(1));
        assert_eq!(
            events,
            vec![
                Event::Prune { obj: cm("a"), outcome: skipped.clone() },
                Event::Prune { obj: cm("b"), outcome: PruneOutcome::Failed(denied) },
                Event::Prune { obj: cm("c"), outcome: skipped },
            ]
        );
        let all = BTreeSet::from([cm("a"), cm("b"), cm("c")]);
        assert_eq!(inventory::final_set(&all, &outcome), all, "every candidate stays recorded");
    }
}
