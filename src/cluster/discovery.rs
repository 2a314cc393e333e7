//! The discovery cache: which kinds the server serves, at which versions, namespaced or not.

use kube::Client;
use kube::discovery::{ApiCapabilities, ApiGroup, ApiResource, Discovery, Scope};

use super::error::{ClusterError, Result};
use super::retry::{Verb, retrying};
use crate::manifest::ScopeResolver;
use crate::object::GroupKind;

/// A resolved kind: how to address it and whether it is namespaced.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The resource that serves the kind, at the version it was resolved at: group, version, plural
    /// (the URL path segment) and kind, as kube's dynamic API takes them.
    pub resource: ApiResource,
    /// True when objects of the kind live in a namespace; false for cluster-scoped kinds.
    pub namespaced: bool,
}

/// One run of discovery. Cheap to clone, so callers can hold a snapshot without locking.
#[derive(Clone)]
pub struct Discovered {
    discovery: std::sync::Arc<Discovery>,
}

impl Discovered {
    /// Aggregated discovery (two requests, Kubernetes ≥ 1.26), falling back to the per-group walk.
    /// `first_contact`: the cluster's first request (see `Verb::FirstContact`).
    pub async fn run(client: Client, first_contact: bool) -> Result<Self> {
        let aggregated = || Discovery::new(client.clone()).run_aggregated();
        let verb = if first_contact { Verb::FirstContact } else { Verb::Idempotent };
        let discovery = match retrying(verb, &"aggregated discovery", aggregated).await {
            Ok(discovery) => discovery,
            Err(_) => Discovery::new(client)
                .run()
                .await
                .map_err(|e| ClusterError::Discovery(super::error::describe(&e)))?,
        };
        Ok(Self { discovery: std::sync::Arc::new(discovery) })
    }

    /// Resolves a kind at `api_version` when that version serves it, else at the most preferred
    /// version that does (the identity of an object does not depend on the version it is read at).
    pub fn resolve(&self, gk: &GroupKind, api_version: Option<&str>) -> Option<Resolved> {
        let group = self.discovery.get(&gk.group)?;
        let exact = api_version.and_then(|v| find_in(group, version_of(v), &gk.kind));
        let (resource, caps) = exact.or_else(|| find_kind(group, &gk.kind))?;
        Some(Resolved { resource, namespaced: caps.scope == Scope::Namespaced })
    }

    /// Whether the server serves `gk` at exactly `api_version`: None when it does not serve the kind
    /// at all (validation reports that), Some(false) for a version it dropped or never had.
    pub fn serves_version(&self, gk: &GroupKind, api_version: &str) -> Option<bool> {
        let group = self.discovery.get(&gk.group)?;
        find_kind(group, &gk.kind)?;
        Some(find_in(group, version_of(api_version), &gk.kind).is_some())
    }
}

/// `v1` of `apps/v1` (and of `v1`).
fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// `kind` at one version of the group, when that version serves it.
fn find_in(group: &ApiGroup, version: &str, kind: &str) -> Option<(ApiResource, ApiCapabilities)> {
    group.versioned_resources(version).into_iter().find(|(resource, _)| resource.kind == kind)
}

/// `kind` at the group's preferred version, else at the first other version serving it, in the
/// server's priority order.
///
/// Not kube's `recommended_kind`: that looks at the preferred version only, and a group's kinds need
/// not share versions — kyverno.io prefers `v2` while `ClusterPolicy` is served at `v1` alone, and
/// monitoring.coreos.com prefers `v1` while `AlertmanagerConfig` is `v1alpha1` only. kubectl finds
/// both; so must every read, list, watch, delete and scope check here.
fn find_kind(group: &ApiGroup, kind: &str) -> Option<(ApiResource, ApiCapabilities)> {
    let preferred = group.preferred_version_or_latest();
    find_in(group, preferred, kind)
        .or_else(|| group.versions().filter(|v| *v != preferred).find_map(|v| find_in(group, v, kind)))
}

impl ScopeResolver for Discovered {
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        self.resolve(gk, None).map(|r| r.namespaced)
    }
}
