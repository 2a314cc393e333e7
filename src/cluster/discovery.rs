//! The discovery cache: which kinds the server serves, at which versions, namespaced or not.

use kube::Client;
use kube::discovery::{ApiResource, Discovery, Scope};

use super::error::{ClusterError, Result};
use super::retry::{Verb, retrying};
use crate::manifest::ScopeResolver;
use crate::object::GroupKind;

/// A resolved kind: how to address it and whether it is namespaced.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// One run of discovery. Cheap to clone, so callers can hold a snapshot without locking.
#[derive(Clone)]
pub struct Discovered {
    discovery: std::sync::Arc<Discovery>,
}

impl Discovered {
    /// Aggregated discovery (two requests, Kubernetes ≥ 1.26), falling back to the per-group walk.
    pub async fn run(client: Client) -> Result<Self> {
        let aggregated = || Discovery::new(client.clone()).run_aggregated();
        let discovery = match retrying(Verb::Idempotent, &"aggregated discovery", aggregated).await {
            Ok(discovery) => discovery,
            Err(_) => Discovery::new(client)
                .run()
                .await
                .map_err(|e| ClusterError::Discovery(super::error::describe(&e)))?,
        };
        Ok(Self { discovery: std::sync::Arc::new(discovery) })
    }

    /// Resolves a kind at `api_version` when that version serves it, else at the group's preferred
    /// version (the identity of an object does not depend on the version it is read at).
    pub fn resolve(&self, gk: &GroupKind, api_version: Option<&str>) -> Option<Resolved> {
        let group = self.discovery.get(&gk.group)?;
        let version = api_version.map(|v| v.rsplit('/').next().unwrap_or(v));
        let exact = version.and_then(|v| {
            group.versioned_resources(v).into_iter().find(|(resource, _)| resource.kind == gk.kind)
        });
        let (resource, caps) = exact.or_else(|| group.recommended_kind(&gk.kind))?;
        Some(Resolved { resource, namespaced: caps.scope == Scope::Namespaced })
    }
}

impl Discovered {
    /// Whether the server serves `gk` at exactly `api_version`: None when it does not serve the kind
    /// at all (validation reports that), Some(false) for a version it dropped or never had.
    pub fn serves_version(&self, gk: &GroupKind, api_version: &str) -> Option<bool> {
        let group = self.discovery.get(&gk.group)?;
        group.recommended_kind(&gk.kind)?;
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        Some(group.versioned_resources(version).iter().any(|(resource, _)| resource.kind == gk.kind))
    }
}

impl ScopeResolver for Discovered {
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        self.resolve(gk, None).map(|r| r.namespaced)
    }
}
