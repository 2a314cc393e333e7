//! Cluster errors: every one names the object (`Kind/namespace/name`), the verb, and what to do.

use std::fmt;

use kube::core::Status;

use crate::object::{GroupKind, ObjRef};

/// The result of a request to the cluster; the error is a [`ClusterError`] unless said otherwise.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

/// A field another field manager owns, from a server-side apply conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The field path, e.g. `.data.a`.
    pub field: String,
    /// The server's description, naming the other manager.
    pub message: String,
}

/// A failed request to the cluster (or a failure to reach it): what went wrong, on which object, for
/// which verb. The `Display` form is a whole sentence for a user, credentials left out; match on the variant
/// (or use [`ClusterError::code`]) to decide what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The client could not be configured: the kubeconfig (or in-cluster config) is missing, unreadable
    /// or invalid, its context is not found, or an exec credential plugin failed. Also returned when an
    /// object's body is not a valid Kubernetes object and so cannot be sent (create, replace). The
    /// string says what failed; an exec plugin's environment and standard output are left out.
    #[error("cannot load the kubeconfig: {0}")]
    Config(String),
    /// The API server did not answer the first request, after a few attempts: it is down, the URL
    /// is wrong, a firewall drops the connection, or TLS failed.
    #[error("cannot reach the API server {server}{} after {attempts} attempt{}: {cause}; check that \
             the cluster is running and that the kubeconfig (or --server) points at it",
            .context.as_ref().map(|c| format!(" (context {c:?})")).unwrap_or_default(),
            if *.attempts == 1 { "" } else { "s" })]
    Unreachable {
        /// The server's URL, e.g. `https://10.0.0.1:6443`.
        server: String,
        /// The kubeconfig context used, if any.
        context: Option<String>,
        /// How many times it was tried.
        attempts: u32,
        /// Why the last attempt failed, credentials left out.
        cause: String,
    },
    /// Discovery (which kinds the server serves) failed, aggregated and per-group alike: the API server
    /// is unreachable or refuses the client. The string is the cause, described as for `Config`.
    #[error("discovery failed: {0} (is the API server reachable?)")]
    Discovery(String),
    /// The server does not serve this kind at any version, per the last discovery: its
    /// CustomResourceDefinition is not installed (or not yet established — see
    /// [`Cluster::refresh_discovery`](super::Cluster::refresh_discovery)), or the kind is misspelt.
    #[error("{0} is not served by the cluster (is its CustomResourceDefinition installed?)")]
    UnknownKind(GroupKind),
    /// A server-side apply without force-conflicts was refused (409) because other field managers own
    /// fields the applied object sets. Re-applying with force-conflicts takes them over.
    #[error("{verb} {obj}: conflict with another field manager on {}",
            .conflicts.iter().map(|c| format!("{} ({})", c.field, c.message)).collect::<Vec<_>>().join(", "))]
    Conflict {
        /// The object that was applied.
        obj: ObjRef,
        /// The request, in lowercase: `apply`, or `validate` for the dry-run apply that validates.
        verb: &'static str,
        /// The contested fields, one per field the server named (never empty).
        conflicts: Vec<FieldConflict>,
    },
    /// The server answered with an error status (a Kubernetes `Status`, or a plain 404) other than a
    /// field-manager conflict: forbidden (403), not found (404), invalid (422), already exists or a
    /// stale resourceVersion (409), and so on. A 500 or 502 was retried first where repeating the
    /// request is safe; this is what came back from the last attempt.
    #[error("{verb} {obj}: {message}{}", hint(*code, reason))]
    Api {
        /// The object the request was about (for a LIST: its kind and namespace, named `*`).
        obj: ObjRef,
        /// The request, in lowercase: `get`, `list`, `create`, `replace`, `patch`, `apply`, `delete`
        /// or `validate`.
        verb: &'static str,
        /// The HTTP status code, e.g. 403, 404, 409, 422.
        code: u16,
        /// The Status's machine-readable reason, e.g. `Forbidden`, `AlreadyExists`, `Conflict`,
        /// `Invalid`; empty when the server gave none.
        reason: String,
        /// The server's own description of the failure, as it sent it.
        message: String,
        /// The Status's field causes, as `(field path, message)` pairs, e.g.
        /// `("spec.selector", "field is immutable")`; empty when the server gave none.
        causes: Vec<(String, String)>,
    },
    /// The request got no answer from the server: the connection failed or was cut, TLS or
    /// authentication failed, or the answer could not be read. It was retried first where repeating the
    /// request is safe; this is the failure of the last attempt.
    #[error("{verb} {obj}: {}", describe(source))]
    Transport {
        /// The object the request was about (for a LIST: its kind and namespace, named `*`).
        obj: ObjRef,
        /// The request, in lowercase, as for [`ClusterError::Api`].
        verb: &'static str,
        /// kube's error. Its own `Display` may carry an exec credential plugin's command line and
        /// output; this variant's `Display` leaves them out.
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

/// A kube error in words, without what an exec credential plugin's failure carries in kube's own
/// message: the plugin's command line with its environment (credentials, often) and its standard
/// output (the credential itself, when it printed one). What is left: the exit status and the
/// plugin's standard error, which is what kubectl shows too.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    match chain(err).find_map(|e| e.downcast_ref::<kube::client::AuthError>()) {
        Some(auth) => describe_auth(auth),
        None => err.to_string(),
    }
}

/// An error and its sources, outermost first: where a kube error hides the cause that matters.
pub(crate) fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

fn describe_auth(err: &kube::client::AuthError) -> String {
    use kube::client::AuthError;
    const PLUGIN: &str = "authentication failed: the kubeconfig's exec credential plugin";
    const HINT: &str = "check the exec section of your kubeconfig user, and run its command by hand";
    match err {
        AuthError::AuthExecRun { cmd, out } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = stderr.trim();
            let said = if stderr.is_empty() {
                String::new()
            } else {
                let lines: Vec<&str> = stderr.lines().take(10).collect();
                format!("; it said: {}", lines.join(" / "))
            };
            let program = program_of(cmd).map(|p| format!(" {p}")).unwrap_or_default();
            format!("{PLUGIN}{program} failed ({}){said} ({HINT})", out.status)
        }
        AuthError::AuthExecParse(_) => format!(
            "{PLUGIN} printed something that is not an ExecCredential (not shown: it may hold \
             credentials) ({HINT})"
        ),
        other => other.to_string(),
    }
}

/// The program of a failed plugin's command line as kube writes it: `Command`'s debug form
/// (`VAR="value" "program" "arg"`, environment first) or `program args`. Only the program: the
/// environment and the arguments may hold credentials.
fn program_of(cmd: &str) -> Option<&str> {
    if !cmd.contains('"') {
        return cmd.split_whitespace().next();
    }
    // The first quoted string not right after `=`; quotes inside a string are escaped (`\"`).
    let bytes = cmd.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let is_value = i > 0 && bytes[i - 1] == b'=';
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if !is_value {
            return cmd.get(start..end.min(cmd.len()));
        }
        i = end + 1;
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_plugin_is_named_by_its_program_only() {
        let debug = r#"KUBERNETES_EXEC_INFO="{\"kind\":1}" TOKEN="s3cret" "/opt/bin/get-token" "--key" "k""#;
        assert_eq!(program_of(debug), Some("/opt/bin/get-token"));
        assert_eq!(program_of(r#""/opt/bin/get-token""#), Some("/opt/bin/get-token"));
        assert_eq!(program_of("gcloud config config-helper --token s3cret"), Some("gcloud"));
    }

    #[test]
    fn a_failed_plugin_shows_its_status_and_stderr_never_its_environment_or_stdout() {
        use std::os::unix::process::ExitStatusExt;
        let out = std::process::Output {
            status: std::process::ExitStatus::from_raw(3 << 8),
            stdout: b"{\"status\":{\"token\":\"t0ken\"}}".to_vec(),
            stderr: b"no credentials for you\n".to_vec(),
        };
        let err = kube::client::AuthError::AuthExecRun {
            cmd: r#"SECRET="s3cret" "/opt/bin/get-token" "--password=hunter2""#.into(),
            out: Box::new(out),
        };
        let text = describe(&kube::Error::Auth(err));
        assert!(text.contains("/opt/bin/get-token failed (exit status: 3)"), "{text}");
        assert!(text.contains("no credentials for you"), "{text}");
        for secret in ["s3cret", "hunter2", "t0ken", "SECRET"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}
