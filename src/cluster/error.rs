//! Cluster errors: every one names the object (`Kind/namespace/name`), the verb, and what to do.

use std::fmt;

use kube::core::Status;

use crate::object::{GroupKind, ObjRef};

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

/// A field another field manager owns, from a server-side apply conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The field path, e.g. `.data.a`.
    pub field: String,
    /// The server's description, naming the other manager.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig: {0}")]
    Config(String),
    #[error("discovery failed: {0} (is the API server reachable?)")]
    Discovery(String),
    #[error("{0} is not served by the cluster (is its CustomResourceDefinition installed?)")]
    UnknownKind(GroupKind),
    #[error("{verb} {obj}: conflict with another field manager on {}; \
             re-run with --force-conflicts to take ownership of these fields",
            .conflicts.iter().map(|c| format!("{} ({})", c.field, c.message)).collect::<Vec<_>>().join(", "))]
    Conflict { obj: ObjRef, verb: &'static str, conflicts: Vec<FieldConflict> },
    #[error("{verb} {obj}: {message}{}", hint(*code, reason))]
    Api {
        obj: ObjRef,
        verb: &'static str,
        code: u16,
        reason: String,
        message: String,
        causes: Vec<(String, String)>,
    },
    #[error("{verb} {obj}: {source}")]
    Transport {
        obj: ObjRef,
        verb: &'static str,
        #[source]
        source: kube::Error,
    },
}

/// A hint for the common API failures.
fn hint(code: u16, reason: &str) -> &'static str {
    match (code, reason) {
        (403, _) => " (forbidden: check the RBAC permissions of your kubeconfig user)",
        (404, _) => " (not found: is the namespace or the kind present?)",
        (422, _) => " (the server rejected the object as invalid)",
        (409, "AlreadyExists") => " (it already exists)",
        _ => "",
    }
}

impl ClusterError {
    /// Wraps a kube error for `verb` on `obj`, pulling out field-manager conflicts.
    pub fn api(obj: &ObjRef, verb: &'static str, err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => Self::from_status(obj, verb, &status),
            source => ClusterError::Transport { obj: obj.clone(), verb, source },
        }
    }

    fn from_status(obj: &ObjRef, verb: &'static str, status: &Status) -> Self {
        let causes: Vec<(String, String)> = status
            .details
            .as_ref()
            .map(|d| d.causes.iter().map(|c| (c.field.clone(), c.message.clone())).collect())
            .unwrap_or_default();
        let conflicts: Vec<FieldConflict> = status
            .details
            .as_ref()
            .map(|d| {
                d.causes
                    .iter()
                    .filter(|c| c.reason == "FieldManagerConflict")
                    .map(|c| FieldConflict { field: c.field.clone(), message: c.message.clone() })
                    .collect()
            })
            .unwrap_or_default();
        if status.code == 409 && !conflicts.is_empty() {
            return ClusterError::Conflict { obj: obj.clone(), verb, conflicts };
        }
        ClusterError::Api {
            obj: obj.clone(),
            verb,
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
            causes,
        }
    }

    /// The HTTP status code, for API errors.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            ClusterError::Conflict { .. } => Some(409),
            _ => None,
        }
    }

    /// True when the server refused a change to an immutable field. Decided from the message of the
    /// 422's field causes, not from every 409/422, so that ordinary validation errors are not mistaken
    /// for it.
    pub fn is_immutable_field(&self) -> bool {
        match self {
            ClusterError::Api { code: 422, message, causes, .. } => {
                causes.iter().any(|(_, m)| m.contains("immutable")) || message.contains("field is immutable")
            }
            _ => false,
        }
    }
}

/// A 404, whether or not the body was a Kubernetes Status (an uninstalled CRD's path answers with a
/// plain-text 404, which kube's `is_not_found()` alone would not recognise).
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

impl fmt::Display for FieldConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
