//! The work on one object of the apply loop: external dependencies checked, the live object read,
//! the inventory policy, apply-time mutations, the owning-inventory annotation, then the server-side
//! apply itself (or a preview's answer), and `--recreate-on-immutable`.

use std::collections::HashMap;

use serde_json::Value;

use crate::cluster::{ApplyAction, ClusterError};
use crate::event::{ApplyOutcome, DryRun, ObjectError};
use crate::inventory::{self, AppliedDigest, Ownership, PolicyError};
use crate::kstatus::{self, Status, StatusResult};
use crate::mutation;
use crate::object::{ObjRef, Object};

use super::ApplyPhase;
use super::compare::{as_stored, contains, drops_zero_values, mark_owned, object_error};
use crate::engine::live::Live;

/// A successful apply.
pub(super) struct Done {
    pub(super) action: ApplyAction,
    pub(super) response: Value,
    pub(super) ownership: Ownership,
    /// Something the user should know about this apply (shown as a warning).
    pub(super) note: Option<String>,
    /// The object's status when known without computing it from `response` (an apply not sent).
    pub(super) status: Option<StatusResult>,
    /// What the inventory records of this apply (None in previews, or without a record to make).
    pub(super) digest: Option<AppliedDigest>,
}

/// Why an object was not applied.
pub(super) enum Refusal {
    /// The inventory policy forbids taking it over: it exists and is not ours, so it is not recorded.
    Policy(PolicyError),
    /// The apply (or a read before it) failed: the object may exist, so it is recorded.
    Failed(ObjectError),
}

impl Refusal {
    /// The `Apply` outcome reporting it: [`ApplyOutcome::Refused`] or [`ApplyOutcome::Failed`].
    pub(super) fn outcome(self) -> ApplyOutcome {
        match self {
            Refusal::Policy(error) => {
                ApplyOutcome::Refused(ObjectError::new(error.to_string()).with_setting(error.setting()))
            }
            Refusal::Failed(error) => ApplyOutcome::Failed(error),
        }
    }
}

pub(super) type ApplyResult = Result<Done, Refusal>;

impl ApplyPhase<'_> {
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

    /// Applies one object: checks its external dependencies, reads it live, checks the inventory
    /// policy, fills in apply-time mutations, marks it as ours, and server-side-applies it (or, in a
    /// preview, tells what the apply would do).
    pub(super) async fn apply_one(&self, obj: &Object) -> ApplyResult {
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
                let whole =
                    self.cluster.get(&obj.obj_ref).await.map_err(|err| Refusal::Failed(object_error(err)))?;
                whole.map(|value| Live::of(value, &self.options.field_manager, self.options.status_options()))
            }
            live => live,
        };
        self.apply_live(obj, live).await
    }

    /// [`apply_one`](Self::apply_one) once the live object (`live`, None when absent) is known.
    async fn apply_live(&self, obj: &Object, live: Option<Live>) -> ApplyResult {
        let dry_run = self.options.dry_run;
        let ownership = inventory::check_apply(
            self.options.policy,
            &self.prepared.info.id,
            live.as_ref().map(|l| &l.value),
        )
        .map_err(Refusal::Policy)?;
        let mut body = obj.body.clone();
        let note = self.mutate(obj, &mut body).await.map_err(Refusal::Failed)?;
        mark_owned(&mut body, &self.prepared.info);
        let manager = &self.options.field_manager;
        if let Some(live) = live.as_ref().filter(|_| !dry_run.is_dry_run() && !self.options.always_apply)
            && let Some(recorded) = self.recorded.get(&obj.obj_ref)
            && recorded.unchanged(&body, manager, live.state)
        {
            // What applying it again would leave as it is: not sent (`inventory::AppliedDigest`).
            let (response, status) = (live.value.clone(), Some(live.status.clone()));
            return Ok(Done {
                action: ApplyAction::Unchanged,
                response,
                ownership,
                note,
                status,
                digest: Some(*recorded),
            });
        }
        let live = live.map(|l| l.value);
        if dry_run == DryRun::Client {
            let action = match &live {
                None => ApplyAction::Created,
                Some(live) if contains(live, &as_stored(&body), drops_zero_values(obj)) => {
                    ApplyAction::Unchanged
                }
                Some(_) => ApplyAction::Configured,
            };
            let response = live.unwrap_or(body);
            return Ok(Done { action, response, ownership, note, status: None, digest: None });
        }
        let options = crate::cluster::ApplyOptions {
            field_manager: self.options.field_manager.clone(),
            force_conflicts: self.options.force_conflicts,
            dry_run: dry_run == DryRun::Server,
        };
        match self.cluster.apply(obj, &body, live.as_ref(), &options).await {
            Ok((action, response)) => {
                let digest =
                    (!options.dry_run).then(|| AppliedDigest::of_apply(&body, manager, &response)).flatten();
                Ok(Done { action, response, ownership, note, status: None, digest })
            }
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
        err.code() == Some(404) && self.prepared.creates_namespace(namespace)
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
        let note =
            Some(format!("re-created (an immutable field changed and recreate-on-immutable is on): {cause}"));
        let digest = AppliedDigest::of_apply(body, &options.field_manager, &response);
        Ok(Done { action, response, ownership: Ownership::New, note, status: None, digest })
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
            status: None,
            digest: None,
        }
    }
}

/// An apply result carried from [`ApplyPhase::apply_inventory_namespace`] to [`ApplyPhase::run`].
pub(crate) struct ApplyResultBox(pub(super) ApplyResult);
