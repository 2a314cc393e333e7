//! Whether a kind is namespaced: the [`ScopeResolver`] trait, a built-in table, and CRDs of the set.

use std::collections::HashMap;

use serde_json::Value;

use crate::object::GroupKind;

/// Answers whether objects of a kind live in a namespace.
///
/// Loading manifests needs this to default namespaces and to reject a namespace on a cluster-scoped
/// kind. Offline, [`BuiltinScopes`] knows the kinds every cluster serves; the engine supplies a
/// discovery-backed resolver; [`WithCrds`] adds the CustomResourceDefinitions of the set to either.
pub trait ScopeResolver {
    /// `Some(true)` for a namespaced kind, `Some(false)` for a cluster-scoped one, None when unknown.
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool>;
}

impl<T: ScopeResolver + ?Sized> ScopeResolver for &T {
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        (**self).is_namespaced(gk)
    }
}

/// The built-in kinds of Kubernetes (as of 1.33, plus a few removed ones still found in old manifests),
/// by group and kind; the version does not matter for scope.
///
/// Enough to load ordinary manifests offline. Review-only kinds (TokenReview, SubjectAccessReview…) are
/// left out: they cannot be applied.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinScopes;

const NAMESPACED: bool = true;
const CLUSTER: bool = false;

/// (group, kind, namespaced).
const BUILTIN: &[(&str, &str, bool)] = &[
    // core
    ("", "Binding", NAMESPACED),
    ("", "ConfigMap", NAMESPACED),
    ("", "Endpoints", NAMESPACED),
    ("", "Event", NAMESPACED),
    ("", "LimitRange", NAMESPACED),
    ("", "PersistentVolumeClaim", NAMESPACED),
    ("", "Pod", NAMESPACED),
    ("", "PodTemplate", NAMESPACED),
    ("", "ReplicationController", NAMESPACED),
    ("", "ResourceQuota", NAMESPACED),
    ("", "Secret", NAMESPACED),
    ("", "Service", NAMESPACED),
    ("", "ServiceAccount", NAMESPACED),
    ("", "ComponentStatus", CLUSTER),
    ("", "Namespace", CLUSTER),
    ("", "Node", CLUSTER),
    ("", "PersistentVolume", CLUSTER),
    // apps
    ("apps", "ControllerRevision", NAMESPACED),
    ("apps", "DaemonSet", NAMESPACED),
    ("apps", "Deployment", NAMESPACED),
    ("apps", "ReplicaSet", NAMESPACED),
    ("apps", "StatefulSet", NAMESPACED),
    // extensions (removed, still in old manifests)
    ("extensions", "DaemonSet", NAMESPACED),
    ("extensions", "Deployment", NAMESPACED),
    ("extensions", "Ingress", NAMESPACED),
    ("extensions", "NetworkPolicy", NAMESPACED),
    ("extensions", "ReplicaSet", NAMESPACED),
    ("extensions", "PodSecurityPolicy", CLUSTER),
    // batch, autoscaling, policy
    ("batch", "CronJob", NAMESPACED),
    ("batch", "Job", NAMESPACED),
    ("autoscaling", "HorizontalPodAutoscaler", NAMESPACED),
    ("policy", "PodDisruptionBudget", NAMESPACED),
    ("policy", "PodSecurityPolicy", CLUSTER),
    // rbac
    ("rbac.authorization.k8s.io", "Role", NAMESPACED),
    ("rbac.authorization.k8s.io", "RoleBinding", NAMESPACED),
    ("rbac.authorization.k8s.io", "ClusterRole", CLUSTER),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", CLUSTER),
    // networking
    ("networking.k8s.io", "Ingress", NAMESPACED),
    ("networking.k8s.io", "NetworkPolicy", NAMESPACED),
    ("networking.k8s.io", "IngressClass", CLUSTER),
    ("networking.k8s.io", "IPAddress", CLUSTER),
    ("networking.k8s.io", "ServiceCIDR", CLUSTER),
    ("discovery.k8s.io", "EndpointSlice", NAMESPACED),
    // storage
    ("storage.k8s.io", "CSIStorageCapacity", NAMESPACED),
    ("storage.k8s.io", "CSIDriver", CLUSTER),
    ("storage.k8s.io", "CSINode", CLUSTER),
    ("storage.k8s.io", "StorageClass", CLUSTER),
    ("storage.k8s.io", "VolumeAttachment", CLUSTER),
    ("storage.k8s.io", "VolumeAttributesClass", CLUSTER),
    // API machinery
    ("apiextensions.k8s.io", "CustomResourceDefinition", CLUSTER),
    ("apiregistration.k8s.io", "APIService", CLUSTER),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy", CLUSTER),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", CLUSTER),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", CLUSTER),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", CLUSTER),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", CLUSTER),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", CLUSTER),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema", CLUSTER),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", CLUSTER),
    // scheduling, coordination, node, certificates, events, resource
    ("scheduling.k8s.io", "PriorityClass", CLUSTER),
    ("coordination.k8s.io", "Lease", NAMESPACED),
    ("coordination.k8s.io", "LeaseCandidate", NAMESPACED),
    ("node.k8s.io", "RuntimeClass", CLUSTER),
    ("certificates.k8s.io", "CertificateSigningRequest", CLUSTER),
    ("certificates.k8s.io", "ClusterTrustBundle", CLUSTER),
    ("events.k8s.io", "Event", NAMESPACED),
    ("resource.k8s.io", "ResourceClaim", NAMESPACED),
    ("resource.k8s.io", "ResourceClaimTemplate", NAMESPACED),
    ("resource.k8s.io", "DeviceClass", CLUSTER),
    ("resource.k8s.io", "ResourceSlice", CLUSTER),
];

impl BuiltinScopes {
    /// Every built-in kind and whether it is namespaced.
    pub fn kinds() -> impl Iterator<Item = (GroupKind, bool)> {
        BUILTIN.iter().map(|&(group, kind, namespaced)| (GroupKind::new(group, kind), namespaced))
    }
}

impl ScopeResolver for BuiltinScopes {
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        BUILTIN
            .iter()
            .find(|(group, kind, _)| *group == gk.group && *kind == gk.kind)
            .map(|&(_, _, namespaced)| namespaced)
    }
}

/// A resolver extended with the CustomResourceDefinitions of the set being loaded, so their custom
/// resources are known before the CRDs exist in the cluster.
///
/// A CRD of the set wins over the inner resolver: it is what will be applied (and the API server
/// refuses to change the scope of an existing CRD anyway).
#[derive(Debug, Clone)]
pub struct WithCrds<R> {
    inner: R,
    crds: HashMap<GroupKind, bool>,
}

impl<R: ScopeResolver> WithCrds<R> {
    /// `inner`, with no CRD added yet: it answers as `inner` until [`WithCrds::with_objects`] or
    /// [`WithCrds::add`] adds some.
    pub fn new(inner: R) -> Self {
        Self { inner, crds: HashMap::new() }
    }

    /// Adds every CRD among `objects` (others are ignored).
    pub fn with_objects<'a>(mut self, objects: impl IntoIterator<Item = &'a Value>) -> Self {
        for object in objects {
            self.add(object);
        }
        self
    }

    /// Adds the kind a CRD defines; returns false (and adds nothing) when `object` is not a CRD or lacks
    /// `spec.group`, `spec.names.kind` or a `spec.scope` of `Namespaced` or `Cluster`.
    pub fn add(&mut self, object: &Value) -> bool {
        match crd_scope(object) {
            Some((gk, namespaced)) => {
                self.crds.insert(gk, namespaced);
                true
            }
            None => false,
        }
    }
}

/// The group-kind a CRD defines and whether it is namespaced.
fn crd_scope(object: &Value) -> Option<(GroupKind, bool)> {
    let api_version = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    if !GroupKind::from_api_version(api_version, kind).is_crd() {
        return None;
    }
    let spec = object.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let kind = spec.get("names")?.get("kind")?.as_str()?;
    let namespaced = match spec.get("scope")?.as_str()? {
        "Namespaced" => true,
        "Cluster" => false,
        _ => return None,
    };
    Some((GroupKind::new(group, kind), namespaced))
}

impl<R: ScopeResolver> ScopeResolver for WithCrds<R> {
    fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        self.crds.get(gk).copied().or_else(|| self.inner.is_namespaced(gk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_table_knows_core_and_grouped_kinds() {
        let s = BuiltinScopes;
        assert_eq!(s.is_namespaced(&GroupKind::new("", "ConfigMap")), Some(true));
        assert_eq!(s.is_namespaced(&GroupKind::new("", "Namespace")), Some(false));
        assert_eq!(s.is_namespaced(&GroupKind::new("apps", "Deployment")), Some(true));
        assert_eq!(s.is_namespaced(&GroupKind::new("rbac.authorization.k8s.io", "ClusterRole")), Some(false));
        assert_eq!(s.is_namespaced(&GroupKind::new("example.com", "Widget")), None);
        assert_eq!(s.is_namespaced(&GroupKind::new("", "Deployment")), None, "group matters");
    }

    #[test]
    fn builtin_table_has_no_kind_twice() {
        let mut seen = std::collections::HashSet::new();
        for (gk, _) in BuiltinScopes::kinds() {
            assert!(seen.insert(gk.clone()), "{gk} listed twice");
        }
    }

    #[test]
    fn a_crd_makes_its_kind_known_with_its_scope() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets"}}});
        let s = WithCrds::new(BuiltinScopes).with_objects([&crd]);
        assert_eq!(s.is_namespaced(&GroupKind::new("example.com", "Widget")), Some(false));
        assert_eq!(s.is_namespaced(&GroupKind::new("", "Secret")), Some(true));
    }

    #[test]
    fn a_crd_without_a_valid_scope_adds_nothing() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "scope": "Galaxy", "names": {"kind": "Widget"}}});
        let mut s = WithCrds::new(BuiltinScopes);
        assert!(!s.add(&crd));
        assert!(!s.add(&json!({"kind": "ConfigMap"})));
        assert_eq!(s.is_namespaced(&GroupKind::new("example.com", "Widget")), None);
    }
}
