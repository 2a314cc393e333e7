//! The kinds with a rule of their own (rule 4), keyed by group and kind.
//!
//! The version is not part of the key: `apps/v1beta2` and `apps/v1` Deployments are the same kind.

use super::fields::Field;
use super::{StatusResult, Subject, core_kinds, job, pod, workloads};
use crate::object::GroupKind;

/// A kind whose status is read from its own fields rather than from generic conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KnownKind {
    ConfigMap,
    Secret,
    Service,
    PersistentVolumeClaim,
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    PodDisruptionBudget,
    CustomResourceDefinition,
}

impl KnownKind {
    /// The rule for `gk`, or None for kinds left to the generic rules (Namespace, custom resources, ...).
    pub(super) fn of(gk: &GroupKind) -> Option<Self> {
        Some(match (gk.group.as_str(), gk.kind.as_str()) {
            ("", "ConfigMap") => Self::ConfigMap,
            ("", "Secret") => Self::Secret,
            ("", "Service") => Self::Service,
            ("", "PersistentVolumeClaim") => Self::PersistentVolumeClaim,
            ("", "Pod") => Self::Pod,
            // `extensions` served these before `apps` existed; old clusters and manifests still use it.
            ("apps" | "extensions", "Deployment") => Self::Deployment,
            ("apps" | "extensions", "ReplicaSet") => Self::ReplicaSet,
            ("apps" | "extensions", "DaemonSet") => Self::DaemonSet,
            ("apps", "StatefulSet") => Self::StatefulSet,
            ("batch", "Job") => Self::Job,
            ("batch", "CronJob") => Self::CronJob,
            ("policy", "PodDisruptionBudget") => Self::PodDisruptionBudget,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => Self::CustomResourceDefinition,
            _ => return None,
        })
    }

    pub(super) fn status(self, subject: &Subject<'_>) -> Field<StatusResult> {
        match self {
            KnownKind::ConfigMap | KnownKind::Secret | KnownKind::CronJob => Ok(core_kinds::always_current()),
            KnownKind::Service => core_kinds::service(subject),
            KnownKind::PersistentVolumeClaim => core_kinds::pvc(subject),
            KnownKind::PodDisruptionBudget => Ok(core_kinds::pdb()),
            KnownKind::CustomResourceDefinition => Ok(core_kinds::crd(subject)),
            KnownKind::Pod => pod::status(subject),
            KnownKind::Deployment => workloads::deployment(subject),
            KnownKind::ReplicaSet => workloads::replica_set(subject),
            KnownKind::StatefulSet => workloads::stateful_set(subject),
            KnownKind::DaemonSet => workloads::daemon_set(subject),
            KnownKind::Job => job::status(subject),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_is_known_in_apps_and_extensions_but_not_elsewhere() {
        assert_eq!(KnownKind::of(&GroupKind::new("apps", "Deployment")), Some(KnownKind::Deployment));
        assert_eq!(KnownKind::of(&GroupKind::new("extensions", "Deployment")), Some(KnownKind::Deployment));
        assert_eq!(KnownKind::of(&GroupKind::new("example.com", "Deployment")), None);
        assert_eq!(KnownKind::of(&GroupKind::new("", "Deployment")), None);
    }

    #[test]
    fn core_kinds_are_known_only_in_the_core_group() {
        assert_eq!(KnownKind::of(&GroupKind::new("", "Pod")), Some(KnownKind::Pod));
        assert_eq!(KnownKind::of(&GroupKind::new("metrics.k8s.io", "Pod")), None);
    }

    #[test]
    fn stateful_set_is_not_known_in_extensions() {
        assert_eq!(KnownKind::of(&GroupKind::new("extensions", "StatefulSet")), None);
    }

    #[test]
    fn kinds_are_matched_case_sensitively() {
        assert_eq!(KnownKind::of(&GroupKind::new("", "pod")), None);
    }
}
