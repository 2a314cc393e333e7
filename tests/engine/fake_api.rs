//! A fake API server for in-process engine tests: a task answering a `kube::Client` built on
//! `tower_test::mock::pair()`, with aggregated discovery (the core group, `apps` and
//! `authorization.k8s.io`) and GET, LIST (label selectors), POST, PUT (resourceVersion checks),
//! PATCH (server-side apply and JSON merge patch, dry runs included) and DELETE (UID preconditions)
//! of objects kept in a map. It knows nothing of admission, defaulting or field ownership: an apply
//! replaces the object's content. SelfSubjectAccessReviews allow everything not
//! refused by [`FakeApi::deny_delete`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::{Method, Request, Response, StatusCode};
use kapply::Cluster;
use kube::client::Body;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// How long the answer to a request that cancels the run is held back.
pub const ANSWER_DELAY: Duration = Duration::from_millis(100);

/// Where an object lives: (resource plural, namespace, name).
type Key = (String, Option<String>, String);

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// The resource plural (`configmaps`); discovery requests are not recorded.
    pub resource: String,
    pub name: Option<String>,
    pub dry_run: bool,
}

#[derive(Default)]
struct Store {
    objects: BTreeMap<Key, Value>,
    /// Names whose (real, not dry-run) server-side apply is refused with 422.
    refuse_apply: BTreeSet<String>,
    /// Names the user may not delete, as SelfSubjectAccessReviews answer (a review of their whole
    /// kind and namespace is refused too, as under a Role granting `delete` on some names only).
    deny_delete: BTreeSet<String>,
    /// A name whose real apply cancels the token, and is answered only a while later.
    cancel_on_apply: Option<(String, CancellationToken)>,
    seen: Vec<Seen>,
    version: u64,
}

/// The fake's state, shared with the task serving it.
#[derive(Clone, Default)]
pub struct FakeApi {
    store: Arc<Mutex<Store>>,
}

impl FakeApi {
    /// A fake holding the Namespace `shop`.
    pub fn new() -> Self {
        let fake = FakeApi::default();
        fake.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
        fake
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connects a [`Cluster`] (default namespace `shop`) to a new task serving this fake.
    pub async fn cluster(&self) -> Cluster {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let fake = self.clone();
        tokio::spawn(async move {
            while let Some((request, respond)) = handle.next_request().await {
                let response = fake.serve(request).await;
                respond.send_response(response);
            }
        });
        let client = kube::Client::new(service, "shop");
        Cluster::from_client(client, "shop".to_owned()).await.expect("discovery of the fake API")
    }

    /// Stores `body` as if created (a uid and resourceVersion are added).
    pub fn insert(&self, body: Value) {
        let mut store = self.store();
        let key = key_of(&body);
        let stored = store.created(body);
        store.objects.insert(key, stored);
    }

    /// The real (not dry-run) apply of every object named `name` is refused with 422 Invalid.
    pub fn refuse_apply(&self, name: &str) {
        self.store().refuse_apply.insert(name.to_owned());
    }

    /// Access reviews refuse deleting the objects named `name` (and, any object of their kind).
    pub fn deny_delete(&self, name: &str) {
        self.store().deny_delete.insert(name.to_owned());
    }

    /// The real apply of the object named `name` cancels `token`, and is answered [`ANSWER_DELAY`]
    /// later: under paused time, once the client has seen the cancellation.
    pub fn cancel_on_apply(&self, name: &str, token: CancellationToken) {
        self.store().cancel_on_apply = Some((name.to_owned(), token));
    }

    /// The stored ConfigMap `shop/name`.
    pub fn config_map(&self, name: &str) -> Option<Value> {
        self.store()
            .objects
            .get(&("configmaps".to_owned(), Some("shop".to_owned()), name.to_owned()))
            .cloned()
    }

    /// Every request served so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.store().seen.clone()
    }

    async fn serve(&self, request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let query = query_of(parts.uri.query().unwrap_or(""));
        let path = parts.uri.path().to_owned();
        let content_type =
            parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let mut delay = false;
        let (code, answer) = {
            let mut store = self.store();
            match path.as_str() {
                "/api" => (StatusCode::OK, core_discovery()),
                "/apis" => (StatusCode::OK, group_discovery()),
                _ => match parse_path(&path) {
                    Some(target) => {
                        let dry_run = query.get("dryRun").is_some_and(|v| v == "All");
                        store.seen.push(Seen {
                            method: parts.method.to_string(),
                            resource: target.plural.clone(),
                            name: target.name.clone(),
                            dry_run,
                        });
                        if let Some((name, token)) = &store.cancel_on_apply
                            && parts.method == Method::PATCH
                            && !dry_run
                            && target.name.as_ref() == Some(name)
                        {
                            token.cancel();
                            delay = true;
                        }
                        store.handle(&parts.method, &target, &query, &content_type, body, dry_run)
                    }
                    None => status(StatusCode::NOT_FOUND, "NotFound", &format!("no such path {path}")),
                },
            }
        };
        if delay {
            tokio::time::sleep(ANSWER_DELAY).await;
        }
        Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&answer).expect("JSON")))
            .expect("a response")
    }
}

/// A parsed resource path.
struct Target {
    api_version: String,
    plural: String,
    namespace: Option<String>,
    name: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (api_version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ((*version).to_owned(), rest),
        ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
        _ => return None,
    };
    let owned = |s: &&str| (*s).to_owned();
    let (plural, namespace, name) = match rest {
        ["namespaces", ns, plural, name @ ..] => (owned(plural), Some(owned(ns)), name.first().map(owned)),
        [plural, name @ ..] => (owned(plural), None, name.first().map(owned)),
        [] => return None,
    };
    Some(Target { api_version, plural, namespace, name })
}

fn key_of(body: &Value) -> Key {
    let kind = body["kind"].as_str().unwrap_or_default();
    let plural = format!("{}s", kind.to_ascii_lowercase());
    let namespace = body.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_owned);
    let name = body.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
    (plural, namespace, name)
}

impl Store {
    fn next_version(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }

    /// `body` as stored when created: with a uid and a resourceVersion.
    fn created(&mut self, mut body: Value) -> Value {
        let version = self.next_version();
        let metadata = body["metadata"].as_object_mut().expect("an object has metadata");
        metadata.insert("uid".into(), json!(format!("uid-{version}")));
        metadata.insert("resourceVersion".into(), json!(version));
        body
    }

    fn handle(
        &mut self,
        method: &Method,
        target: &Target,
        query: &BTreeMap<String, String>,
        content_type: &str,
        body: Value,
        dry_run: bool,
    ) -> (StatusCode, Value) {
        let key = (target.plural.clone(), target.namespace.clone(), target.name.clone().unwrap_or_default());
        let existing = self.objects.get(&key).cloned();
        let what = format!("{} {:?}", target.plural, target.name.as_deref().unwrap_or(""));
        match (method.as_str(), &target.name) {
            ("GET", Some(_)) => match existing {
                Some(found) => (StatusCode::OK, found),
                None => status(StatusCode::NOT_FOUND, "NotFound", &format!("{what} not found")),
            },
            ("GET", None) if query.get("watch").is_some_and(|v| v == "true" || v == "1") => {
                status(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "the fake API does not watch")
            }
            ("GET", None) => (StatusCode::OK, self.list(target, query.get("labelSelector"))),
            ("POST", None) if target.plural == "selfsubjectaccessreviews" => {
                let mut review = body;
                let attributes = &review["spec"]["resourceAttributes"];
                let denied = attributes["verb"] == "delete"
                    && !self.deny_delete.is_empty()
                    && attributes["name"].as_str().is_none_or(|name| self.deny_delete.contains(name));
                review["status"] =
                    json!({"allowed": !denied, "reason": if denied { "denied by the fake API" } else { "" }});
                (StatusCode::CREATED, review)
            }
            ("POST", None) => {
                let key = (target.plural.clone(), target.namespace.clone(), key_of(&body).2);
                if self.objects.contains_key(&key) {
                    return status(StatusCode::CONFLICT, "AlreadyExists", &format!("{} exists", key.2));
                }
                let stored = self.created(body);
                if !dry_run {
                    self.objects.insert(key, stored.clone());
                }
                (StatusCode::CREATED, stored)
            }
            ("PUT", Some(_)) => {
                let Some(existing) = existing else {
                    return status(StatusCode::NOT_FOUND, "NotFound", &format!("{what} not found"));
                };
                let sent = body.pointer("/metadata/resourceVersion");
                if sent.is_some() && sent != existing.pointer("/metadata/resourceVersion") {
                    return status(StatusCode::CONFLICT, "Conflict", &format!("{what} was modified"));
                }
                let stored = self.updated(&existing, body);
                if !dry_run {
                    self.objects.insert(key, stored.clone());
                }
                (StatusCode::OK, stored)
            }
            ("PATCH", Some(name)) if content_type.starts_with("application/apply-patch") => {
                if !dry_run && self.refuse_apply.contains(name) {
                    return status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        &format!("{what} is invalid: refused by the fake API"),
                    );
                }
                let stored = match &existing {
                    Some(existing) if same_content(existing, &body) => existing.clone(),
                    Some(existing) => self.updated(existing, body),
                    None => self.created(body),
                };
                if !dry_run {
                    self.objects.insert(key, stored.clone());
                }
                let code = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
                (code, stored)
            }
            ("PATCH", Some(_)) => {
                let Some(existing) = existing else {
                    return status(StatusCode::NOT_FOUND, "NotFound", &format!("{what} not found"));
                };
                let mut patched = existing.clone();
                merge_patch(&mut patched, &body);
                let stored = self.updated(&existing, patched);
                if !dry_run {
                    self.objects.insert(key, stored.clone());
                }
                (StatusCode::OK, stored)
            }
            ("DELETE", Some(_)) => {
                let Some(existing) = existing else {
                    return status(StatusCode::NOT_FOUND, "NotFound", &format!("{what} not found"));
                };
                let wanted = body.pointer("/preconditions/uid");
                if wanted.is_some_and(|uid| !uid.is_null()) && wanted != existing.pointer("/metadata/uid") {
                    return status(
                        StatusCode::CONFLICT,
                        "Conflict",
                        &format!("{what}: uid precondition failed"),
                    );
                }
                let dry_run = dry_run || body["dryRun"].as_array().is_some_and(|d| d.contains(&json!("All")));
                if !dry_run {
                    self.objects.remove(&key);
                }
                (StatusCode::OK, existing)
            }
            _ => status(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", &format!("{method} {what}")),
        }
    }

    /// `body` replacing `existing`: same uid, a new resourceVersion.
    fn updated(&mut self, existing: &Value, mut body: Value) -> Value {
        let version = self.next_version();
        let metadata = body["metadata"].as_object_mut().expect("an object has metadata");
        metadata.insert("uid".into(), existing.pointer("/metadata/uid").cloned().unwrap_or(Value::Null));
        metadata.insert("resourceVersion".into(), json!(version));
        body
    }

    fn list(&self, target: &Target, selector: Option<&String>) -> Value {
        let wanted: Vec<(&str, &str)> = selector
            .map(|s| s.split(',').filter_map(|term| term.split_once('=')).collect())
            .unwrap_or_default();
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|((plural, namespace, _), _)| {
                *plural == target.plural && (target.namespace.is_none() || *namespace == target.namespace)
            })
            .map(|(_, body)| body)
            .filter(|body| {
                wanted.iter().all(|(label, value)| {
                    body.pointer("/metadata/labels").and_then(|l| l.get(*label)).and_then(Value::as_str)
                        == Some(*value)
                })
            })
            .cloned()
            .collect();
        json!({
            "apiVersion": target.api_version,
            "kind": "List",
            "metadata": {"resourceVersion": self.version.to_string()},
            "items": items,
        })
    }
}

/// Whether an apply of `body` changes nothing of `existing` (metadata bookkeeping aside).
fn same_content(existing: &Value, body: &Value) -> bool {
    let strip = |value: &Value| {
        let mut value = value.clone();
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("uid");
            metadata.remove("resourceVersion");
        }
        value
    };
    strip(existing) == strip(body)
}

/// RFC 7386.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let map = target.as_object_mut().expect("an object");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> (StatusCode, Value) {
    let answer = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, answer)
}

fn query_of(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn resource(group: &str, plural: &str, kind: &str, scope: &str) -> Value {
    json!({
        "resource": plural,
        "responseKind": {"group": group, "version": "v1", "kind": kind},
        "scope": scope,
        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
    })
}

fn discovery_list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "apidiscovery.k8s.io/v2", "kind": "APIGroupDiscoveryList", "metadata": {}, "items": items})
}

fn group(name: &str, resources: Vec<Value>) -> Value {
    json!({"metadata": {"name": name}, "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]})
}

fn core_discovery() -> Value {
    discovery_list(vec![group(
        "",
        vec![
            resource("", "configmaps", "ConfigMap", "Namespaced"),
            resource("", "namespaces", "Namespace", "Cluster"),
            resource("", "serviceaccounts", "ServiceAccount", "Namespaced"),
        ],
    )])
}

fn group_discovery() -> Value {
    discovery_list(vec![
        group("apps", vec![resource("apps", "deployments", "Deployment", "Namespaced")]),
        group(
            "authorization.k8s.io",
            vec![resource(
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "SelfSubjectAccessReview",
                "Cluster",
            )],
        ),
    ])
}
