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

use std::collections::{BTreeMap, HashMap, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::Value;

use crate::cluster::{ApplyAction, Cluster, ClusterError};
use crate::event::{ApplyOutcome, DryRun, Event, ObjectError, SkipReason, WaitOutcome};
use crate::graph::Scheduler;
use crate::inventory::{self, Ownership, PolicyError};
use crate::kstatus::{self, Status, StatusResult};
use crate::mutation;
use crate::object::{OWNING_INVENTORY, ObjRef, Object};
use crate::status::Until;

use super::cancel::{Cancel, CancelReason};
use super::discovery_gate::DiscoveryGate;
use super::emit::Emitter;
use super::live::LiveReader;
use super::waiter::{Verdict, Waiter};
use super::{ApplyOptions, Prepared};

/// What the prune phase needs to know about the apply phase.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// UID → reference of every object applied in this run.
    pub uids: BTreeMap<String, ObjRef>,
    /// How many applies failed (the request, a read or check before it, or the inventory policy):
    /// when any did, the set is not in place and the prune phase deletes nothing.
    pub failed: usize,
}

/// A successful apply.
struct Done {
    action: ApplyAction,
    response: Value,
    ownership: Ownership,
    /// Something the user should know about this apply (shown as a warning).
    note: Option<String>,
}

/// Why an object was not applied.
enum Refusal {
    /// The inventory policy forbids taking it over: it exists and is not ours, so it is not recorded.
    Policy(PolicyError),
    /// The apply (or a read before it) failed: the object may exist, so it is recorded.
    Failed(ObjectError),
}

type ApplyResult = Result<Done, Refusal>;

/// The read-only context of the apply phase, shared by every apply in flight.
pub(crate) struct ApplyPhase<'a> {
    cluster: &'a Cluster,
    prepared: &'a Prepared,
    options: &'a ApplyOptions,
    cancel: &'a Cancel,
    live: LiveReader<'a>,
    /// Per object, its dependencies outside the set: they must exist in the cluster and be Current.
    external: HashMap<ObjRef, Vec<ObjRef>>,
}

impl<'a> ApplyPhase<'a> {
    pub(crate) fn new(
        cluster: &'a Cluster,
        prepared: &'a Prepared,
        options: &'a ApplyOptions,
        cancel: &'a Cancel,
    ) -> Self {
        let mut external: HashMap<ObjRef, Vec<ObjRef>> = HashMap::new();
        for dep in prepared.graph.external() {
            external.entry(dep.from.clone()).or_default().push(dep.to.clone());
        }
        let live = LiveReader::new(cluster, prepared.graph.objects());
        ApplyPhase { cluster, prepared, options, cancel, live, external }
    }

    /// Applies the Namespace holding the inventory when it is in the set, does not exist yet and
    /// depends on nothing: the inventory cannot be written before it. Its result is reported by
    /// [`run`](Self::run), after the inventory event.
    pub(crate) async fn apply_inventory_namespace(&self) -> Option<(ObjRef, ApplyResultBox)> {
        let ns = ObjRef::new("", "Namespace", None, self.prepared.info.namespace.clone());
        let obj = &self.prepared.object(&ns)?;
        if !self.prepared.graph.dependencies(&ns).is_empty() {
            return None;
        }
        match self.cluster.get(&ns).await {
            // Known absent: applied without reading it a second time.
            Ok(None) => {
                let result = match self.check_externals(obj).await {
                    Ok(()) => self.apply_live(obj, None).await,
                    Err(refusal) => Err(refusal),
                };
                Some((ns, ApplyResultBox(result)))
            }
            _ => None,
        }
    }

    /// Runs the loop described in the module documentation until every object has its final event.
    pub(crate) async fn run(
        &self,
        early: Option<(ObjRef, ApplyResultBox)>,
        emitter: &mut Emitter<'_>,
        outcome: &mut inventory::Outcome,
    ) -> Applied {
        let mut state = State {
            scheduler: self.prepared.graph.scheduler(),
            queue: VecDeque::new(),
            waiter: Waiter::new(Until::Current, self.options.poll_period, self.options.wait_mode),
            established_crds: Vec::new(),
            gate: DiscoveryGate::default(),
            applied: Applied::default(),
            emitter,
            outcome,
        };
        if let Some((obj, ApplyResultBox(result))) = early {
            state.scheduler.start(&obj);
            state.finish_apply(self, obj, result);
        }
        let mut in_flight = FuturesUnordered::new();
        let mut cancelled = self.cancel.is_cancelled();
        // The background discovery refresh, while the gate awaits kinds (see `DiscoveryGate`).
        let mut refresh: Option<futures::future::BoxFuture<'_, crate::cluster::Result<()>>> = None;
        loop {
            if !cancelled {
                for obj in state.scheduler.ready() {
                    state.scheduler.start(&obj);
                    state.queue.push_back(obj);
                }
                let discovered = self.cluster.discovered().await;
                for crd in std::mem::take(&mut state.established_crds) {
                    if let Some(crd) = self.prepared.object(&crd) {
                        state.gate.crd_established(&crd.body, &discovered, tokio::time::Instant::now());
                    }
                }
                while in_flight.len() < self.options.concurrency.max(1) {
                    let Some(obj) = state.queue.pop_front() else { break };
                    let object = self.prepared.object(&obj).expect("every scheduled object is in the set");
                    if state.gate.hold(&object, &discovered) {
                        continue;
                    }
                    in_flight.push(async move { (obj, self.apply_one(&object).await) });
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
                Some((obj, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    if cancelled {
                        state.finish_cancelled_apply(obj, result, self.cancel.reason());
                    } else {
                        state.finish_apply(self, obj, result);
                    }
                }
                () = state.waiter.wakeup(), if waiting => {
                    let tick = state.waiter.poll(self.cluster).await;
                    state.observe(tick);
                }
                refreshed = async { refresh.as_mut().expect("guarded").await }, if refresh.is_some() && !cancelled => {
                    refresh = None;
                    if let Err(err) = refreshed {
                        state.emitter.emit(Event::Warning { obj: None, message: err.to_string() });
                    }
                    let discovered = self.cluster.discovered().await;
                    let version = |obj: &ObjRef| self.prepared.object(obj).map(|o| o.api_version.clone());
                    let released = state.gate.refreshed(&discovered, version, tokio::time::Instant::now());
                    for obj in released.into_iter().rev() {
                        state.queue.push_front(obj);
                    }
                }
                () = self.cancel.cancelled(), if !cancelled => cancelled = true,
            }
        }
        if cancelled {
            state.cancel_the_rest(self, self.cancel.reason());
        }
        state.applied
    }

    /// Applies one object: checks its external dependencies, reads it live, checks the inventory
    /// policy, fills in apply-time mutations, marks it as ours, and server-side-applies it (or, in a
    /// preview, tells what the apply would do).
    async fn apply_one(&self, obj: &Object) -> ApplyResult {
        let dry_run = self.options.dry_run;
        self.check_externals(obj).await?;
        let live = match self.live.read(&obj.obj_ref).await {
            Ok(live) => live,
            // Only in a preview can a kind be unknown here: validation accepted it because a CRD of
            // the set defines it, and that CRD is not created.
            Err(ClusterError::UnknownKind(_)) if dry_run.is_dry_run() => {
                return Ok(Done::pending(obj, "would be created after its CustomResourceDefinition"));
            }
            Err(err) => return Err(Refusal::Failed(object_error(err))),
        };
        // A preview tells unchanged from configured by comparing contents, and a batch snapshot keeps
        // only an object's identity and versions: read the whole object (a preview's one extra GET).
        let live = match live {
            Some(_) if dry_run.is_dry_run() => {
                self.cluster.get(&obj.obj_ref).await.map_err(|err| Refusal::Failed(object_error(err)))?
            }
            live => live,
        };
        self.apply_live(obj, live).await
    }

    /// [`apply_one`](Self::apply_one) once the live object (`live`, None when absent) is known.
    async fn apply_live(&self, obj: &Object, live: Option<Value>) -> ApplyResult {
        let dry_run = self.options.dry_run;
        let ownership = inventory::check_apply(self.options.policy, &self.prepared.info.id, live.as_ref())
            .map_err(Refusal::Policy)?;
        let mut body = obj.body.clone();
        let note = self.mutate(obj, &mut body).await.map_err(Refusal::Failed)?;
        set_annotation(&mut body, OWNING_INVENTORY, &self.prepared.info.id);
        if dry_run == DryRun::Client {
            let action = match &live {
                None => ApplyAction::Created,
                Some(live) if contains(live, &as_stored(&body), drops_zero_values(obj)) => {
                    ApplyAction::Unchanged
                }
                Some(_) => ApplyAction::Configured,
            };
            let response = live.unwrap_or(body);
            return Ok(Done { action, response, ownership, note });
        }
        let options = crate::cluster::ApplyOptions {
            field_manager: self.options.field_manager.clone(),
            force_conflicts: self.options.force_conflicts,
            dry_run: dry_run == DryRun::Server,
        };
        match self.cluster.apply(obj, &body, live.as_ref(), &options).await {
            Ok((action, response)) => Ok(Done { action, response, ownership, note }),
            Err(err) if dry_run == DryRun::Server && self.namespace_is_pending(obj, &err) => {
                Ok(Done::pending(obj, "would be created after its Namespace"))
            }
            Err(err)
                if err.is_immutable_field()
                    && self.options.recreate_on_immutable
                    && !dry_run.is_dry_run() =>
            {
                self.recreate(obj, &body, live.as_ref(), &options, &err).await
            }
            Err(err) => Err(Refusal::Failed(object_error(err))),
        }
    }

    /// In a server-side preview, a namespaced object of a Namespace the set creates cannot be
    /// dry-run: the server answers 404 for the namespace.
    fn namespace_is_pending(&self, obj: &Object, err: &ClusterError) -> bool {
        let Some(namespace) = obj.obj_ref.namespace.as_deref() else { return false };
        err.code() == Some(404)
            && self.prepared.objects.contains_key(&ObjRef::new("", "Namespace", None, namespace.to_owned()))
    }

    /// `--recreate-on-immutable`: delete the object (only the one read: UID precondition), wait until
    /// it is gone, and apply it again.
    async fn recreate(
        &self,
        obj: &Object,
        body: &Value,
        live: Option<&Value>,
        options: &crate::cluster::ApplyOptions,
        cause: &ClusterError,
    ) -> ApplyResult {
        let failed = |err: ClusterError| Refusal::Failed(object_error(err));
        let uid = live.and_then(|l| l.pointer("/metadata/uid")).and_then(Value::as_str);
        let policy = kube::api::PropagationPolicy::Background;
        self.cluster.delete(&obj.obj_ref, uid, policy, false).await.map_err(failed)?;
        let deadline = tokio::time::Instant::now() + self.options.reconcile_timeout;
        while self.cluster.get(&obj.obj_ref).await.map_err(failed)?.is_some() {
            if tokio::time::Instant::now() >= deadline {
                return Err(Refusal::Failed(ObjectError::new(format!(
                    "deleted to re-create it ({cause}), but it was still there after {:?}",
                    self.options.reconcile_timeout
                ))));
            }
            tokio::time::sleep(self.options.poll_period.min(std::time::Duration::from_millis(250))).await;
        }
        let (action, response) = self.cluster.apply(obj, body, None, options).await.map_err(failed)?;
        let note = Some(format!("re-created (--recreate-on-immutable): {cause}"));
        Ok(Done { action, response, ownership: Ownership::New, note })
    }

    /// Every object outside the set that `obj` depends on must exist and be Current.
    async fn check_externals(&self, obj: &Object) -> Result<(), Refusal> {
        for dep in self.external.get(&obj.obj_ref).into_iter().flatten() {
            self.check_external(dep).await.map_err(Refusal::Failed)?;
        }
        Ok(())
    }

    /// An object outside the set that one in the set depends on must exist and be Current.
    async fn check_external(&self, dep: &ObjRef) -> Result<(), ObjectError> {
        match self.cluster.get(dep).await {
            Ok(Some(live)) => {
                let status = kstatus::compute(&live).unwrap_or_else(|e| StatusResult::unknown(e.to_string()));
                if status.status == Status::Current {
                    Ok(())
                } else {
                    Err(ObjectError::new(format!(
                        "depends on {dep}, which is not in the set and is {}: {}",
                        status.status, status.message
                    )))
                }
            }
            Ok(None) | Err(ClusterError::UnknownKind(_)) => Err(ObjectError::new(format!(
                "depends on {dep}, which is neither in the set nor in the cluster"
            ))
            .with_hint("add it to the manifests, or remove it from the depends-on annotation")),
            Err(err) => Err(object_error(err)),
        }
    }

    /// Fills in the object's apply-time mutations from the live sources (all Current by now: they are
    /// dependencies). In a preview a source may not exist yet: the values are then left as written,
    /// and the returned note says so.
    async fn mutate(&self, obj: &Object, body: &mut Value) -> Result<Option<String>, ObjectError> {
        let mutations = mutation::mutations_of(obj).map_err(|e| ObjectError::new(e.to_string()))?;
        if mutations.is_empty() {
            return Ok(None);
        }
        let mut sources: HashMap<ObjRef, Value> = HashMap::new();
        let namespace = obj.obj_ref.namespace.as_deref();
        for mutation in &mutations {
            for source in [mutation.source_ref(namespace), mutation.source_ref(None)] {
                if sources.contains_key(&source) {
                    continue;
                }
                match self.cluster.get(&source).await {
                    Ok(Some(live)) => {
                        sources.insert(source, live);
                    }
                    Ok(None) | Err(ClusterError::UnknownKind(_)) => {}
                    Err(err) => return Err(object_error(err)),
                }
            }
        }
        match mutation::apply_all(body, &mutations, |r| sources.get(r)) {
            Ok(()) => Ok(None),
            Err(err @ mutation::MutationError::SourceUnavailable { .. })
                if self.options.dry_run.is_dry_run() =>
            {
                Ok(Some(format!("apply-time mutation not previewed: {err}")))
            }
            Err(err) => Err(ObjectError::new(format!("apply-time mutation: {err}"))),
        }
    }
}

impl Done {
    /// A preview's answer for an object that cannot be tried before something else is created.
    fn pending(obj: &Object, note: &str) -> Self {
        Done {
            action: ApplyAction::Created,
            response: obj.body.clone(),
            ownership: Ownership::New,
            note: Some(note.to_owned()),
        }
    }
}

/// `body` as the server stores it, where a client can tell: a Secret's `stringData` is merged into
/// `data`, base64-encoded (the server never returns `stringData`).
fn as_stored(body: &Value) -> Value {
    let mut body = body.clone();
    let is_secret = body.get("kind").and_then(Value::as_str) == Some("Secret")
        && body.get("apiVersion").and_then(Value::as_str) == Some("v1");
    let Some(map) = body.as_object_mut().filter(|_| is_secret) else { return body };
    if let Some(Value::Object(string_data)) = map.remove("stringData") {
        let data = map.entry("data").or_insert_with(|| Value::Object(Default::default()));
        if let Some(data) = data.as_object_mut() {
            for (key, value) in string_data {
                let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                data.insert(key, Value::String(base64(text.as_bytes())));
            }
        }
    }
    body
}

/// Standard base64 with padding (RFC 4648), as Kubernetes stores Secret data.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// True when every field of `desired` has the same value in `live`: a client-side preview's best
/// guess that an apply would change nothing (the server may still default fields).
///
/// With `zero_dropped`, a field `live` lacks matches an empty or zero value in `desired` (`{}`,
/// `[]`, `0`, `false`, `""`, `null`): the server stores built-in kinds as Go structs whose
/// `omitempty` fields drop such values (`minReadySeconds: 0`, `labels: {}`), so sending them again
/// changes nothing — `diff` and a server-side preview agree. `metadata` is such a struct for every
/// kind; a custom resource's other fields are kept as sent, so there a missing field is a change.
fn contains(live: &Value, desired: &Value, zero_dropped: bool) -> bool {
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => desired.iter().all(|(key, value)| {
            let zero_dropped = zero_dropped || key == "metadata";
            match live.get(key) {
                Some(live) => contains(live, value, zero_dropped),
                None => value.is_null() || (zero_dropped && is_zero(value)),
            }
        }),
        (Value::Array(live), Value::Array(desired)) => {
            live.len() == desired.len() && live.iter().zip(desired).all(|(l, d)| contains(l, d, zero_dropped))
        }
        (Value::Number(live), Value::Number(desired)) => live.as_f64() == desired.as_f64(),
        // A server-side apply drops explicit nulls (`replicas: null`, `creationTimestamp: null`): they
        // ask for nothing.
        (_, Value::Null) => true,
        (live, desired) => live == desired,
    }
}

/// The values Go's `omitempty` leaves out.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Whether the server stores `obj` as a built-in Go type (see [`contains`]): the core group and the
/// groups Kubernetes itself serves (`apps`, `batch`, … and `*.k8s.io`), CRDs included.
fn drops_zero_values(obj: &Object) -> bool {
    let group = obj.obj_ref.group.as_str();
    matches!(group, "" | "apps" | "batch" | "autoscaling" | "policy") || group.ends_with(".k8s.io")
}

/// An apply result carried from [`ApplyPhase::apply_inventory_namespace`] to [`ApplyPhase::run`].
pub(crate) struct ApplyResultBox(ApplyResult);

/// The mutable state of the loop.
struct State<'e, 's, 'o> {
    scheduler: Scheduler,
    /// Ready objects not sent yet (started in the scheduler).
    queue: VecDeque<ObjRef>,
    waiter: Waiter,
    /// CRDs that became Current since the loop last told the gate.
    established_crds: Vec<ObjRef>,
    /// Custom resources held until discovery serves their kind.
    gate: DiscoveryGate,
    applied: Applied,
    emitter: &'e mut Emitter<'s>,
    outcome: &'o mut inventory::Outcome,
}

impl State<'_, '_, '_> {
    fn finish_apply(&mut self, phase: &ApplyPhase<'_>, obj: ObjRef, result: ApplyResult) {
        let done = match result {
            Ok(done) => done,
            Err(refusal) => {
                let error = match refusal {
                    Refusal::Policy(error) => {
                        self.outcome.apply_skipped.insert(obj.clone());
                        ObjectError::new(error.to_string())
                    }
                    Refusal::Failed(error) => {
                        self.outcome.apply_failed.insert(obj.clone());
                        error
                    }
                };
                self.applied.failed += 1;
                self.emitter.emit(Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Failed(error) });
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
        let status =
            kstatus::compute(&done.response).unwrap_or_else(|e| StatusResult::unknown(e.to_string()));
        if status.status == Status::Current {
            self.reconciled(obj, WaitOutcome::Current);
        } else if phase.options.no_wait && phase.prepared.graph.dependents(&obj).is_empty() {
            self.emitter.emit(Event::Reconciled {
                obj: obj.clone(),
                outcome: WaitOutcome::Skipped(SkipReason::NotWaited),
            });
            self.scheduler.complete(&obj);
        } else {
            self.emitter.emit(Event::Status { obj: obj.clone(), status: status.clone() });
            self.waiter.add(obj, status, phase.options.reconcile_timeout);
        }
    }

    /// An apply that finished after cancellation: reported, but not waited for.
    fn finish_cancelled_apply(&mut self, obj: ObjRef, result: ApplyResult, reason: Option<CancelReason>) {
        match result {
            Ok(done) => {
                self.record_applied(&obj, &done);
                let status =
                    kstatus::compute(&done.response).unwrap_or_else(|e| StatusResult::unknown(e.to_string()));
                let outcome = match (status.status, reason) {
                    (Status::Current, _) => WaitOutcome::Current,
                    (_, Some(CancelReason::TimedOut)) => WaitOutcome::Timeout(status),
                    _ => WaitOutcome::Skipped(SkipReason::Cancelled),
                };
                self.emitter.emit(Event::Reconciled { obj, outcome });
            }
            Err(Refusal::Policy(error)) => {
                self.applied.failed += 1;
                self.outcome.apply_skipped.insert(obj.clone());
                self.emitter.emit(Event::Apply {
                    obj,
                    outcome: ApplyOutcome::Failed(ObjectError::new(error.to_string())),
                });
            }
            Err(Refusal::Failed(error)) => {
                self.applied.failed += 1;
                self.outcome.apply_failed.insert(obj.clone());
                self.emitter.emit(Event::Apply { obj, outcome: ApplyOutcome::Failed(error) });
            }
        }
    }

    fn record_applied(&mut self, obj: &ObjRef, done: &Done) {
        let outcome = match done.action {
            ApplyAction::Created => ApplyOutcome::Created,
            ApplyAction::Configured => ApplyOutcome::Configured,
            ApplyAction::Unchanged => ApplyOutcome::Unchanged,
        };
        self.outcome.applied.insert(obj.clone());
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
                    "taken over from inventory {previous_owner} (--inventory-policy=adopt-all); that inventory \
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

    fn skip_dependents(&mut self, obj: &ObjRef, reason: SkipReason) {
        for dependent in self.scheduler.fail(obj) {
            self.outcome.apply_skipped.insert(dependent.clone());
            self.emitter
                .emit(Event::Apply { obj: dependent, outcome: ApplyOutcome::Skipped(reason.clone()) });
        }
    }

    fn observe(&mut self, tick: super::waiter::Tick) {
        for (obj, status) in tick.changes {
            self.emitter.emit(Event::Status { obj, status });
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
        let mut not_sent: Vec<ObjRef> = self.queue.drain(..).collect();
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
            self.outcome.apply_skipped.insert(obj.clone());
            self.emitter.emit(Event::Apply { obj, outcome: ApplyOutcome::Skipped(SkipReason::Cancelled) });
        }
    }
}

/// A cluster error as a per-object error, with the hint the situation calls for.
pub(crate) fn object_error(err: ClusterError) -> ObjectError {
    let hint = match &err {
        ClusterError::Api { .. } if err.is_immutable_field() => Some(
            "the field cannot change once set: re-run with --recreate-on-immutable to delete and re-create the object",
        ),
        ClusterError::UnknownKind(_) => Some("apply its CustomResourceDefinition first, or in the same set"),
        _ => None,
    };
    let error = ObjectError::new(err.to_string());
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// Sets `metadata.annotations[key] = value`, creating the maps as needed.
pub(crate) fn set_annotation(body: &mut Value, key: &str, value: &str) {
    let Some(map) = body.as_object_mut() else { return };
    let metadata = map.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
    let Some(metadata) = metadata.as_object_mut() else { return };
    let annotations = metadata.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
    if !annotations.is_object() {
        *annotations = Value::Object(Default::default());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn a_secret_with_string_data_compares_as_the_server_stores_it() {
        let desired = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "foobar"}});
        let live =
            json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": "Zm9vYmFy"}, "type": "Opaque"});
        assert!(contains(&live, &as_stored(&desired), true));
        let changed = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "other"}});
        assert!(!contains(&live, &as_stored(&changed), true));
    }

    #[test]
    fn zero_values_the_server_drops_compare_as_unchanged() {
        // Regression: `minReadySeconds: 0` and `labels: {}` were previewed as configured.
        let live = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
        let desired =
            json!({"metadata": {"name": "d", "labels": {}}, "spec": {"replicas": 1, "minReadySeconds": 0}});
        assert!(contains(&live, &desired, true));
        assert!(!contains(&live, &json!({"spec": {"minReadySeconds": 5}}), true), "a real value is a change");
        assert!(!contains(&json!({"spec": {"replicas": 1}}), &json!({"spec": {"replicas": 0}}), true));
    }

    #[test]
    fn explicit_nulls_ask_for_nothing() {
        // Regression (kyverno's Deployments, prometheus-operator's examples): previewed as configured.
        let live = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
        let desired =
            json!({"metadata": {"name": "d", "creationTimestamp": null}, "spec": {"replicas": null}});
        assert!(contains(&live, &desired, true));
        assert!(contains(&live, &desired, false), "a custom resource too");
    }

    #[test]
    fn a_custom_resource_keeps_zero_values_except_in_metadata() {
        let live = json!({"metadata": {"name": "w"}, "spec": {}});
        assert!(!contains(&live, &json!({"spec": {"size": 0}}), false), "the server would store it");
        assert!(contains(&live, &json!({"metadata": {"labels": {}}}), false), "metadata drops it");
        let widget = crate::object::testing::obj(
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
        );
        let deployment = crate::object::testing::obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        );
        let crd = crate::object::testing::obj(
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "c"}}),
        );
        assert!(!drops_zero_values(&widget));
        assert!(drops_zero_values(&deployment) && drops_zero_values(&crd));
    }

    #[test]
    fn the_owning_inventory_annotation_is_added_beside_existing_ones() {
        let mut body = json!({"metadata": {"name": "a", "annotations": {"x": "1"}}});
        set_annotation(&mut body, OWNING_INVENTORY, "inv");
        assert_eq!(body["metadata"]["annotations"], json!({"x": "1", OWNING_INVENTORY: "inv"}));
        let mut bare = json!({"metadata": {"name": "a"}});
        set_annotation(&mut bare, OWNING_INVENTORY, "inv");
        assert_eq!(bare["metadata"]["annotations"][OWNING_INVENTORY], "inv");
    }
}
