//! The one place that talks to the API server: connection, discovery, server-side apply, reads, deletes.
//!
//! Everything above this module works on [`Object`]s, [`ObjRef`]s and JSON; this module turns them into
//! requests through kube's dynamic API and turns failures into [`ClusterError`]s that name the object
//! and say what to do. kube's client retries 429/503/504 with backoff, honouring `Retry-After`; every
//! request is also retried where that is safe when the connection fails or the server answers 500/502
//! (see `src/cluster/retry.rs`).
//!
//! The one exception in form, not in substance: watches. `crate::wait` runs kube-runtime's watcher, but
//! over the `Api` that `Cluster::api` builds for a kind [`Cluster::resolve`] found, with this module's
//! helpers to complete its items and describe its failures; it never builds a client or an `Api`
//! itself (see `src/wait/mod.rs`).

mod access;
mod connect;
mod discovery;
mod error;
mod http_log;
mod retry;

use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, PropagationPolicy,
};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::RwLock;

pub use connect::ConnectOptions;
pub use discovery::{Discovered, Resolved};
pub(crate) use error::describe;
pub use error::{ClusterError, FieldConflict, Result};
pub use http_log::{RequestTimeout, TARGET as HTTP_LOG_TARGET};

use crate::object::{GroupKind, ObjRef, Object};
use retry::{Verb, retrying};

/// Objects per page of a LIST.
pub const LIST_PAGE: u32 = 500;

/// What a server-side apply did to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyAction {
    /// The object did not exist.
    Created,
    /// The object existed and the apply changed it (its resourceVersion moved).
    Configured,
    /// The object existed and the apply changed nothing.
    Unchanged,
}

/// Parameters of one server-side apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The field manager the apply is made as: the owner the server records for every field sent.
    pub field_manager: String,
    /// Take ownership of fields another manager owns (`--force-conflicts`).
    pub force_conflicts: bool,
    /// Server dry-run: validation and admission run, nothing is stored.
    pub dry_run: bool,
}

/// Result of [`Cluster::delete`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteResult {
    /// The object is gone already.
    Gone,
    /// Deletion has started; finalizers or dependents are still being processed.
    Terminating,
}

/// A connected cluster with its discovery cache.
///
/// Cheap to clone: clones share the connection pool and the discovery cache, so a runner
/// ([`crate::Applier`], …) keeps its own and its run owns everything it uses (a `'static` stream).
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    default_namespace: String,
    discovery: Arc<RwLock<Discovered>>,
    server_version: Option<String>,
}

impl Cluster {
    /// Connects with the kubeconfig rules of kubectl (and the overrides `options` holds), checks
    /// that the server answers — a few attempts, each failure a `tracing` warning, then
    /// [`ClusterError::Unreachable`] naming the server and the context — and runs discovery once
    /// (aggregated where served).
    ///
    /// TLS is verified unless the kubeconfig says `insecure-skip-tls-verify` or
    /// [`ConnectOptions::insecure_skip_tls_verify`] was set.
    pub async fn connect(options: &ConnectOptions) -> Result<Self> {
        let (client, server, context) = options.client().await?;
        let default_namespace = client.default_namespace().to_owned();
        let version = connect::first_contact(&client, &server, context.as_deref()).await?;
        let mut cluster = Self::from_client(client, default_namespace).await?;
        cluster.server_version = version.map(|info| info.git_version);
        Ok(cluster)
    }

    /// Wraps an existing client (library users, tests) and runs discovery.
    pub async fn from_client(client: Client, default_namespace: String) -> Result<Self> {
        let discovered = Discovered::run(client.clone(), true).await?;
        Ok(Self {
            client,
            default_namespace,
            discovery: Arc::new(RwLock::new(discovered)),
            server_version: None,
        })
    }

    /// The namespace of the kubeconfig context (`default` when it names none).
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// The server's version (its `gitVersion`, e.g. `v1.33.1`) as it answered when
    /// [`Cluster::connect`] first reached it; None for a cluster made [`Cluster::from_client`], or
    /// when the server would not tell.
    pub fn server_version(&self) -> Option<&str> {
        self.server_version.as_deref()
    }

    /// The underlying kube client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs discovery again and keeps what it saw: needed after CRDs are established, so their kinds
    /// resolve.
    pub async fn refresh_discovery(&self) -> Result<()> {
        let fresh = Discovered::run(self.client.clone(), false).await?;
        *self.discovery.write().await = fresh;
        Ok(())
    }

    /// A snapshot of the discovery cache, e.g. as a [`crate::manifest::ScopeResolver`].
    pub async fn discovered(&self) -> Discovered {
        self.discovery.read().await.clone()
    }

    /// Resolves a kind (at `api_version` when served, else the group's preferred version).
    pub async fn resolve(&self, gk: &GroupKind, api_version: Option<&str>) -> Result<Resolved> {
        self.discovery
            .read()
            .await
            .resolve(gk, api_version)
            .ok_or_else(|| ClusterError::UnknownKind(gk.clone()))
    }

    /// The dynamic API of a resolved kind in one namespace (or every namespace with None; always
    /// cluster-wide for a cluster-scoped kind), on this cluster's client. Every request goes through
    /// one of these.
    pub(crate) fn api(&self, resolved: &Resolved, namespace: Option<&str>) -> Api<DynamicObject> {
        match (resolved.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resolved.resource),
            (true, None) => Api::all_with(self.client.clone(), &resolved.resource),
            (false, _) => Api::all_with(self.client.clone(), &resolved.resource),
        }
    }

    /// Reads one object; `None` when it does not exist.
    pub async fn get(&self, obj: &ObjRef) -> Result<Option<Value>> {
        let resolved = self.resolve(&obj.group_kind(), None).await?;
        let api = self.api(&resolved, obj.namespace.as_deref());
        match retrying(Verb::Idempotent, obj, || api.get_opt(&obj.name)).await {
            Ok(found) => Ok(found.map(to_value)),
            Err(err) if error::is_not_found(&err) => Ok(None),
            Err(err) => Err(ClusterError::api(obj, "get", err)),
        }
    }

    /// Lists every object of a kind in one namespace (or cluster-wide with `None`): the batched read
    /// that status polling uses instead of one GET per object. Each item carries apiVersion and kind.
    pub async fn list(&self, gk: &GroupKind, namespace: Option<&str>) -> Result<Vec<Value>> {
        self.list_mapped(gk, namespace, Some).await
    }

    /// [`Cluster::list`], each item passed through `keep` as it arrives (None drops it): a page of
    /// [`LIST_PAGE`] objects at a time, so that listing a namespace of 10,000 objects to keep a few
    /// fields of each never holds them all at once.
    pub async fn list_mapped<T>(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        mut keep: impl FnMut(Value) -> Option<T>,
    ) -> Result<Vec<T>> {
        let resolved = self.resolve(gk, None).await?;
        let api = self.api(&resolved, namespace);
        // List items come without apiVersion and kind; put them back so each item is a whole object.
        let api_version = resolved.resource.api_version.clone();
        let mut kept = Vec::new();
        let what = ObjRef::new(gk.group.clone(), gk.kind.clone(), namespace, "*");
        let mut params = ListParams::default().limit(LIST_PAGE);
        loop {
            let page = retrying(Verb::Idempotent, &what, || api.list(&params))
                .await
                .map_err(|err| ClusterError::api(&what, "list", err))?;
            let next = page.metadata.continue_.clone().filter(|token| !token.is_empty());
            kept.extend(
                page.items
                    .into_iter()
                    .filter_map(|item| keep(with_type(to_value(item), &api_version, &gk.kind))),
            );
            match next {
                Some(token) => params = ListParams::default().limit(LIST_PAGE).continue_token(&token),
                None => return Ok(kept),
            }
        }
    }

    /// Lists the objects of a kind in one namespace (None: all) carrying the labels of `selector` (e.g.
    /// `cli-utils.sigs.k8s.io/inventory-id=<id>`). Each item carries apiVersion and kind.
    pub async fn list_selected(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Value>> {
        let resolved = self.resolve(gk, None).await?;
        let api = self.api(&resolved, namespace);
        let what = ObjRef::new(gk.group.clone(), gk.kind.clone(), namespace, "*");
        let params = ListParams::default().labels(selector);
        let list = retrying(Verb::Idempotent, &what, || api.list(&params))
            .await
            .map_err(|err| ClusterError::api(&what, "list", err))?;
        let api_version = resolved.resource.api_version.clone();
        Ok(list.items.into_iter().map(|item| with_type(to_value(item), &api_version, &gk.kind)).collect())
    }

    /// Lists at most `limit` objects of a kind in one namespace (None: all), filtered by a label
    /// selector and a field selector when given: one request, one page, for reads that may stop short
    /// (the details of a waiting object: its Pods, its Events). Each item carries apiVersion and kind.
    pub async fn list_first(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Value>> {
        let resolved = self.resolve(gk, None).await?;
        let api = self.api(&resolved, namespace);
        let what = ObjRef::new(gk.group.clone(), gk.kind.clone(), namespace, "*");
        let mut params = ListParams::default().limit(limit);
        if let Some(labels) = labels {
            params = params.labels(labels);
        }
        if let Some(fields) = fields {
            params = params.fields(fields);
        }
        let list = retrying(Verb::Idempotent, &what, || api.list(&params))
            .await
            .map_err(|err| ClusterError::api(&what, "list", err))?;
        let api_version = resolved.resource.api_version.clone();
        Ok(list.items.into_iter().map(|item| with_type(to_value(item), &api_version, &gk.kind)).collect())
    }

    /// Creates an object (a POST): fails with a 409 `AlreadyExists` when it exists.
    pub async fn create(&self, obj: &ObjRef, body: &Value) -> Result<Value> {
        let resolved = self.resolve(&obj.group_kind(), None).await?;
        let api = self.api(&resolved, obj.namespace.as_deref());
        let object = dynamic(obj, body).map_err(ClusterError::Config)?;
        let params = PostParams::default();
        retrying(Verb::Create, obj, || api.create(&params, &object))
            .await
            .map(to_value)
            .map_err(|err| ClusterError::api(obj, "create", err))
    }

    /// Replaces an object (a PUT). With `metadata.resourceVersion` set in `body`, the server refuses
    /// (409 `Conflict`) when the object changed since it was read: an optimistic lock.
    pub async fn replace(&self, obj: &ObjRef, body: &Value) -> Result<Value> {
        let resolved = self.resolve(&obj.group_kind(), None).await?;
        let api = self.api(&resolved, obj.namespace.as_deref());
        let object = dynamic(obj, body).map_err(ClusterError::Config)?;
        let params = PostParams::default();
        retrying(Verb::Idempotent, obj, || api.replace(&obj.name, &params, &object))
            .await
            .map(to_value)
            .map_err(|err| ClusterError::api(obj, "replace", err))
    }

    /// Applies a JSON merge patch (RFC 7386), e.g. `{"metadata":{"annotations":{"a":null}}}` to remove
    /// one annotation without taking ownership of any other field.
    pub async fn merge_patch(&self, obj: &ObjRef, patch: &Value) -> Result<Value> {
        let resolved = self.resolve(&obj.group_kind(), None).await?;
        let api = self.api(&resolved, obj.namespace.as_deref());
        let (params, patch) = (PatchParams::default(), Patch::Merge(patch));
        retrying(Verb::Idempotent, obj, || api.patch(&obj.name, &params, &patch))
            .await
            .map(to_value)
            .map_err(|err| ClusterError::api(obj, "patch", err))
    }

    /// Server-side-applies `body` (the object's manifest, possibly mutated) and reports what changed,
    /// comparing with `live`, the object as read before (None when it did not exist).
    pub async fn apply(
        &self,
        obj: &Object,
        body: &Value,
        live: Option<&Value>,
        options: &ApplyOptions,
    ) -> Result<(ApplyAction, Value)> {
        let resolved = self.resolve(&obj.obj_ref.group_kind(), Some(&obj.api_version)).await?;
        let api = self.api(&resolved, obj.obj_ref.namespace.as_deref());
        let mut params = PatchParams::apply(&options.field_manager);
        params.force = options.force_conflicts;
        params.dry_run = options.dry_run;
        let patch = Patch::Apply(body);
        let applied =
            retrying(Verb::Idempotent, &obj.obj_ref, || api.patch(&obj.obj_ref.name, &params, &patch))
                .await
                .map_err(|err| ClusterError::api(&obj.obj_ref, "apply", err))?;
        let applied = to_value(applied);
        let action = match live {
            None => ApplyAction::Created,
            // A dry run never moves the resourceVersion: compare the content instead.
            Some(before) if options.dry_run && same_content(before, &applied) => ApplyAction::Unchanged,
            Some(before) if !options.dry_run && resource_version(before) == resource_version(&applied) => {
                ApplyAction::Unchanged
            }
            Some(_) => ApplyAction::Configured,
        };
        Ok((action, applied))
    }

    /// Validates `body` against the server without storing anything: a server-side apply sent as a
    /// dry run (`dryRun=All`) with strict field validation, so that the server's schema checks run and
    /// unknown or duplicate fields are refused rather than dropped with a warning. Not retried: the
    /// caller counts only the server's refusals of the body itself, and leaves every other failure to
    /// the real apply, which retries.
    pub async fn validate_apply(
        &self,
        obj: &Object,
        body: &Value,
        field_manager: &str,
        force: bool,
    ) -> Result<()> {
        let resolved = self.resolve(&obj.obj_ref.group_kind(), Some(&obj.api_version)).await?;
        let api = self.api(&resolved, obj.obj_ref.namespace.as_deref());
        let mut params = PatchParams::apply(field_manager).validation_strict();
        params.force = force;
        params.dry_run = true;
        let patch = Patch::Apply(body);
        api.patch(&obj.obj_ref.name, &params, &patch)
            .await
            .map(drop)
            .map_err(|err| ClusterError::api(&obj.obj_ref, "validate", err))
    }

    /// Deletes an object, only if its UID is still `uid` (when given): a precondition that keeps a
    /// prune from deleting an object re-created under the same name by someone else.
    pub async fn delete(
        &self,
        obj: &ObjRef,
        uid: Option<&str>,
        propagation: PropagationPolicy,
        dry_run: bool,
    ) -> Result<DeleteResult> {
        let resolved = self.resolve(&obj.group_kind(), None).await?;
        let api = self.api(&resolved, obj.namespace.as_deref());
        let params = DeleteParams {
            propagation_policy: Some(propagation),
            dry_run,
            preconditions: uid
                .map(|uid| kube::api::Preconditions { uid: Some(uid.to_owned()), resource_version: None }),
            ..DeleteParams::default()
        };
        match retrying(Verb::Idempotent, obj, || api.delete(&obj.name, &params)).await {
            // The server answers with the object when it still exists after the request (finalizers
            // pending, including Foreground's), and with the object as it was when it is already gone.
            // (A Namespace keeps its finalizers in `spec`: its deletionTimestamp tells.)
            Ok(either) => Ok(match either.left() {
                Some(obj)
                    if obj.metadata.deletion_timestamp.is_some()
                        || obj.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty()) =>
                {
                    DeleteResult::Terminating
                }
                _ => DeleteResult::Gone,
            }),
            Err(err) if error::is_not_found(&err) => Ok(DeleteResult::Gone),
            Err(err) => Err(ClusterError::api(obj, "delete", err)),
        }
    }
}

/// A dynamic object as JSON (Null if it cannot be serialized, which kube's own objects always can).
pub(crate) fn to_value(obj: DynamicObject) -> Value {
    serde_json::to_value(obj).unwrap_or(Value::Null)
}

/// `body` as kube's dynamic object, for the verbs that take one (create, replace).
fn dynamic(obj: &ObjRef, body: &Value) -> std::result::Result<DynamicObject, String> {
    serde_json::from_value(body.clone()).map_err(|e| format!("{obj} is not a valid Kubernetes object: {e}"))
}

/// Puts back the apiVersion and kind a LIST leaves out of its items, so each is a whole object.
pub(crate) fn with_type(mut value: Value, api_version: &str, kind: &str) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(api_version.to_owned()));
        map.insert("kind".into(), Value::String(kind.to_owned()));
    }
    value
}

/// True when two states of an object differ only in bookkeeping (resourceVersion, managedFields).
fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |value: &Value| {
        let mut value = value.clone();
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("resourceVersion");
            metadata.remove("managedFields");
        }
        value
    };
    strip(a) == strip(b)
}

fn resource_version(value: &Value) -> Option<&str> {
    value.pointer("/metadata/resourceVersion").and_then(Value::as_str)
}
