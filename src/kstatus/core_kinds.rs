//! Core and API-machinery kinds with simple rules: ConfigMap, Secret, CronJob, Service,
//! PersistentVolumeClaim, PodDisruptionBudget, CustomResourceDefinition.

use super::conditions::Truth;
use super::fields::Field;
use super::{StatusResult, Subject};

/// ConfigMap, Secret, CronJob: no controller reconciles them into a state worth waiting for.
pub(super) fn always_current() -> StatusResult {
    StatusResult::current("Resource is always ready")
}

/// Service: only a LoadBalancer without a cluster IP is still being set up. The load balancer's own
/// ingress is deliberately not awaited: on clusters without a cloud provider it never comes.
pub(super) fn service(s: &Subject<'_>) -> Field<StatusResult> {
    let service_type = s.fields.str_or(&["spec", "type"], "ClusterIP")?;
    let cluster_ip = s.fields.str_or(&["spec", "clusterIP"], "")?;
    if service_type == "LoadBalancer" && cluster_ip.is_empty() {
        return Ok(StatusResult::in_progress(
            "NoIPAssigned",
            "ClusterIP not set. Service type: LoadBalancer",
        ));
    }
    Ok(StatusResult::current("Service is ready"))
}

/// PersistentVolumeClaim: Current once bound to a volume.
pub(super) fn pvc(s: &Subject<'_>) -> Field<StatusResult> {
    let phase = s.fields.str_or(&["status", "phase"], "unknown")?;
    if phase != "Bound" {
        return Ok(StatusResult::in_progress("NotBound", format!("PVC is not Bound. phase: {phase}")));
    }
    Ok(StatusResult::current("PVC is Bound"))
}

/// PodDisruptionBudget: the disruption controller sets no useful condition; that it has observed the
/// latest generation (checked by the generic rule) is all there is to know.
pub(super) fn pdb() -> StatusResult {
    StatusResult::current("AllowedDisruptions has been computed.")
}

/// CustomResourceDefinition: Failed on a name conflict or a failed establishment, Current once
/// established, otherwise still installing. The first of these conditions in list order decides, as in
/// cli-utils (the apiextensions controller never lists contradicting ones).
pub(super) fn crd(s: &Subject<'_>) -> StatusResult {
    let decisive = s.conditions.iter().find(|c| match (c.type_, c.status) {
        ("NamesAccepted", Truth::False) | ("Established", Truth::True) => true,
        ("Established", Truth::False) => c.reason != "Installing",
        _ => false,
    });
    match decisive {
        Some(c) if c.status == Truth::True => StatusResult::current("CRD is established"),
        Some(c) => StatusResult::failed(c.reason_or_default(), c.message_or_default()),
        None => StatusResult::in_progress("Installing", "Install in progress"),
    }
}
