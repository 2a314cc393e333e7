//! The discovery cache: which kinds the server serves, at which versions, namespaced or not.

use std::collections::HashMap;
use std::sync::Arc;

use kube::Client;
use kube::discovery::{ApiGroup, ApiResource, Discovery, Scope};

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
///
/// Every kind is indexed once, when discovery has run: a run asks for the kind of every object
/// several times (its version, its scope, its resource), and kube's `ApiGroup` answers each question
/// by copying a whole version's resource list — for 1,110 objects that was a third of a no-op
/// re-apply's CPU time.
#[derive(Clone)]
pub struct Discovered {
    kinds: Arc<HashMap<GroupKind, Vec<Resolved>>>,
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
        Ok(Self::index(discovery.groups()))
    }

    /// The index of `groups`' kinds: per kind, every version serving it, the group's preferred
    /// version first, then the others in the server's priority order.
    ///
    /// Not kube's `recommended_kind`: that looks at the preferred version only, and a group's kinds
    /// need not share versions — kyverno.io prefers `v2` while `ClusterPolicy` is served at `v1`
    /// alone, and monitoring.coreos.com prefers `v1` while `AlertmanagerConfig` is `v1alpha1` only.
    /// kubectl finds both; so must every read, list, watch, delete and scope check here.
    fn index<'g>(groups: impl IntoIterator<Item = &'g ApiGroup>) -> Self {
        let mut kinds: HashMap<GroupKind, Vec<Resolved>> = HashMap::new();
        for group in groups {
            let preferred = group.preferred_version_or_latest();
            let others = group.versions().filter(|v| *v != preferred);
            for version in std::iter::once(preferred).chain(others) {
                for (resource, caps) in group.versioned_resources(version) {
                    let entry = kinds.entry(GroupKind::new(&resource.group, &resource.kind)).or_default();
                    // The first resource of a kind at a version serves it (as a lookup by kind would find).
                    if entry.iter().all(|known| known.resource.version != resource.version) {
                        entry.push(Resolved { namespaced: caps.scope == Scope::Namespaced, resource });
                    }
                }
            }
        }
        Self { kinds: Arc::new(kinds) }
    }

    /// Resolves a kind at `api_version` when that version serves it, else at the most preferred
    /// version that does (the identity of an object does not depend on the version it is read at).
    pub fn resolve(&self, gk: &GroupKind, api_version: Option<&str>) -> Option<Resolved> {
        let versions = self.kinds.get(gk)?;
        let exact = api_version.and_then(|v| at_version(versions, version_of(v)));
        exact.or_else(|| versions.first()).cloned()
    }

    /// Whether the server serves `gk` at exactly `api_version`: None when it does not serve the kind
    /// at all (validation reports that), Some(false) for a version it dropped or never had.
    pub fn serves_version(&self, gk: &GroupKind, api_version: &str) -> Option<bool> {
        let versions = self.kinds.get(gk)?;
        Some(at_version(versions, version_of(api_version)).is_some())
    }
}

/// `v1` of `apps/v1` (and of `v1`).
fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

fn at_version<'r>(versions: &'r [Resolved], version: &str) -> Option<&'r Resolved> {
    versions.iter().find(|r| r.resource.version == version)
}

impl ScopeResolver for Discovered {
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        self.kinds.get(gk).and_then(|versions| versions.first()).map(|r| r.namespaced)
    }
}
