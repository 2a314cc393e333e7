//! Validation against the server before the first write of an apply: every object new to the inventory
//! that can be tried now is sent as a server-side dry-run apply with strict field validation, so that
//! what the server's schema refuses (a number where a string belongs, a Secret value that is not
//! base64, an unknown field) is an input error (exit 2) found before the inventory is written, not a
//! failed apply that leaves a ghost entry in it.
//!
//! Which objects are tried:
//! - only those the previous inventory does not list: an object already recorded is validated by its
//!   real apply, whose failure leaves no ghost (it was recorded before);
//! - only those the server can judge now: their kind is served at their apiVersion, no
//!   CustomResourceDefinition of the set defines their kind (the set may change its schema), and they
//!   carry no apply-time mutation (their values are filled in only at apply time). The others are
//!   validated by their apply, as before.
//!
//! An object whose Namespace does not exist yet (one the set creates) is tried too: the server checks
//! an applied body against the schema (types, unknown fields, encodings: the 500s below) before
//! admission finds the namespace missing, and answers 404 for a body that passes — no validation
//! error. What only the later validation checks (a required field, such as a TLS Secret's `tls.key`)
//! is then found by the apply. Admission answers only after a 50 ms wait for its cache, so these dry
//! runs are sent [`ABSENT_NAMESPACE_FANOUT`] times as many at once.
//!
//! A dry run refused with 400 (bad request), 422 (invalid), or one of the 500s by which a server-side
//! apply reports a body that does not fit the schema ([`SCHEMA_ERRORS_AS_500`]) is a validation
//! error — so is an admission webhook or policy denying the object with 400 or 422, as it would deny
//! its apply — and every one is collected, the run failing with one line per object. Any other
//! failure (forbidden, a conflict with another field manager, a change to an immutable field of an
//! existing object, a webhook that is down or does not take dry runs, another server error) is not the input's fault: the real apply meets it again and
//! reports it as usual.

use std::collections::{BTreeSet, HashSet};

use futures::StreamExt;

use super::apply_phase::mark_owned;
use super::{ApplyOptions, EngineError, Prepared};
use crate::cluster::{Cluster, ClusterError};
use crate::object::{ObjRef, Object, Source};

/// Dry-runs every object of `prepared` that `previous` does not list and the server can judge now
/// (see the [module documentation](self)).
///
/// # Errors
/// [`EngineError::Invalid`] naming every object the server refused as invalid, each with its file
/// and line. Nothing else fails the run.
pub(crate) async fn validate_new_objects(
    cluster: &Cluster,
    prepared: &Prepared,
    previous: &BTreeSet<ObjRef>,
    options: &ApplyOptions,
) -> Result<(), EngineError> {
    let crds: Vec<Object> = prepared
        .objects
        .keys()
        .filter(|obj| obj.group_kind().is_crd())
        .filter_map(|crd| prepared.object(crd))
        .collect();
    let defined_in_set = crate::graph::kinds_defined_by(&crds);
    let discovered = cluster.discovered().await;
    let candidates: Vec<&ObjRef> = prepared
        .graph
        .objects()
        .iter()
        .filter(|obj| !previous.contains(obj))
        .filter(|obj| !defined_in_set.contains(&obj.group_kind()))
        .filter(|obj| {
            let api_version = &prepared.objects[*obj].api_version;
            discovered.serves_version(&obj.group_kind(), api_version) == Some(true)
        })
        .collect();

    // Into a namespace that does not exist yet, the server refuses a create only after waiting 50 ms
    // for its cache to catch up (NamespaceLifecycle's `missingNamespaceWait`): the dry runs of those
    // objects keep the server waiting, not working, so many more of them are sent at once — at the
    // apply's concurrency, 10,000 ConfigMaps of a new namespace took 35 s to validate, three times
    // their applies.
    let absent = absent_namespaces(cluster, prepared, &candidates, options).await;
    let (waiting, working): (Vec<ObjRef>, Vec<ObjRef>) = candidates
        .into_iter()
        .cloned()
        .partition(|obj| obj.namespace.as_ref().is_some_and(|ns| absent.contains(ns)));
    let concurrency = options.concurrency.max(1);
    // Owned items: a closure over `&ObjRef` makes the run's future not provably `Send`
    // (rust-lang/rust#102211).
    let working = futures::stream::iter(working)
        .map(|obj: ObjRef| dry_run(cluster, prepared, options, obj))
        .buffer_unordered(concurrency);
    let waiting = futures::stream::iter(waiting)
        .map(|obj: ObjRef| dry_run(cluster, prepared, options, obj))
        .buffer_unordered(concurrency * ABSENT_NAMESPACE_FANOUT);
    let mut refused: Vec<(Source, ObjRef, String)> =
        futures::stream::select(working, waiting).filter_map(std::future::ready).collect().await;
    if refused.is_empty() {
        return Ok(());
    }
    refused.sort_by(|a, b| (&a.0.file, a.0.document, &a.1).cmp(&(&b.0.file, b.0.document, &b.1)));
    let lines: Vec<String> =
        refused.iter().map(|(source, obj, message)| refusal_line(source, obj, message)).collect();
    Err(EngineError::Invalid(format!(
        "{}\nthe server refused {} object{} as invalid (a server-side dry run, before anything was written): \
         fix the manifests above and run again",
        lines.join("\n"),
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    )))
}

/// How many times the apply's concurrency the dry runs into namespaces not created yet are sent at:
/// each keeps the server waiting 50 ms (see `validate_new_objects`), doing little.
const ABSENT_NAMESPACE_FANOUT: usize = 8;

/// The server's dry run of `obj` (not of one with apply-time mutations: its values are only known at
/// apply time), and the refusal when it refused the object as invalid.
async fn dry_run(
    cluster: &Cluster,
    prepared: &Prepared,
    options: &ApplyOptions,
    obj: ObjRef,
) -> Option<(Source, ObjRef, String)> {
    let object = prepared.object(&obj).expect("every graph object is in the set");
    if !crate::mutation::mutations_of(&object).is_ok_and(|m| m.is_empty()) {
        return None;
    }
    let mut body = object.body.clone();
    mark_owned(&mut body, &prepared.info);
    let result =
        cluster.validate_apply(&object, &body, &options.field_manager, options.force_conflicts).await;
    result.err().and_then(|error| refusal(&object, error))
}

/// The namespaces of `candidates` that the set creates (a Namespace of the set) and the cluster does
/// not have yet: one GET each. A namespace the set does not create is expected to exist.
async fn absent_namespaces(
    cluster: &Cluster,
    prepared: &Prepared,
    candidates: &[&ObjRef],
    options: &ApplyOptions,
) -> HashSet<String> {
    let created: BTreeSet<String> = candidates
        .iter()
        .filter_map(|obj| obj.namespace.as_deref())
        .filter(|ns| prepared.creates_namespace(ns))
        .map(str::to_owned)
        .collect();
    futures::stream::iter(created)
        .map(|namespace: String| async move {
            let found = cluster.get(&ObjRef::new("", "Namespace", None, namespace.as_str())).await;
            (namespace, found)
        })
        .buffer_unordered(options.concurrency.max(1))
        // Not found: absent. Found, or not known (the dry runs then go at the usual pace).
        .filter_map(|(namespace, found)| async move { matches!(found, Ok(None)).then_some(namespace) })
        .collect()
        .await
}

/// The messages of the 500s a server-side apply answers when the applied object itself does not fit
/// the schema (measured on Kubernetes v1.37): a value of the wrong type or a field the schema does not
/// declare (`failed to create typed patch object … .data.a: expected string, got …`, `… .spec.replicaz:
/// field not declared in schema`), or a value that does not decode (`failed to convert new object …
/// illegal base64 data`, a Secret's `data`). The API server reports them as internal errors, but the
/// same body is refused the same way every time: they are input errors. Other 500s (a webhook that
/// fails, etcd) are not.
const SCHEMA_ERRORS_AS_500: [&str; 2] =
    ["failed to create typed patch object", "failed to convert new object"];

/// The object and the server's message when a dry run was refused as invalid input (400, 422, or one
/// of the 500s of [`SCHEMA_ERRORS_AS_500`]); None when it failed for another reason.
fn refusal(object: &Object, error: ClusterError) -> Option<(Source, ObjRef, String)> {
    // An existing object (new to this inventory: adopted) whose immutable field the set changes: the
    // apply deals with that (`--recreate-on-immutable`, or an error suggesting it).
    if error.is_immutable_field() {
        return None;
    }
    match error {
        ClusterError::Api { code, message, causes, .. } if is_invalid_input(code, &message) => {
            let message = redact_secret_values(&object.body, with_causes(message, &causes));
            Some((object.source.clone(), object.obj_ref.clone(), message))
        }
        _ => None,
    }
}

/// True when a refused dry run says the object itself is invalid. An admission webhook that cannot
/// take dry runs answers 400 too: that says nothing about the object, and its apply will tell.
fn is_invalid_input(code: u16, message: &str) -> bool {
    match code {
        400 if message.contains("does not support dry run") => false,
        400 | 422 => true,
        500 => SCHEMA_ERRORS_AS_500.iter().any(|known| message.contains(known)),
        _ => false,
    }
}

/// The server's message, followed by the field causes it does not already quote.
fn with_causes(message: String, causes: &[(String, String)]) -> String {
    let missing: Vec<String> = causes
        .iter()
        .filter(|(_, cause)| !cause.is_empty() && !message.contains(cause.as_str()))
        .map(|(field, cause)| if field.is_empty() { cause.clone() } else { format!("{field}: {cause}") })
        .collect();
    if missing.is_empty() { message } else { format!("{message} ({})", missing.join("; ")) }
}

/// `message` without the values of `body` when it is a Secret: the server's type errors quote the
/// value they refused (`expected string, got &value.valueUnstructured{Value:12345}`), and a Secret's
/// values must never be printed. Quoted values and every `data` or `stringData` value of four
/// characters or more become `<redacted>` (shorter ones would also hit the words around them).
fn redact_secret_values(body: &serde_json::Value, message: String) -> String {
    const REDACTED: &str = "<redacted>";
    let is_secret = body.get("kind").and_then(serde_json::Value::as_str) == Some("Secret")
        && body.get("apiVersion").and_then(serde_json::Value::as_str) == Some("v1");
    if !is_secret {
        return message;
    }
    let mut message = redact_unstructured_values(&message, REDACTED);
    let values = ["data", "stringData"]
        .iter()
        .filter_map(|field| body.get(*field).and_then(serde_json::Value::as_object))
        .flat_map(|map| map.values())
        .map(|value| value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()));
    let mut values: Vec<String> = values.filter(|value| value.chars().count() >= 4).collect();
    // Longest first: a value containing another is redacted whole.
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    for value in values {
        message = message.replace(&value, REDACTED);
    }
    message
}

/// `valueUnstructured{Value:…}` (how a server-side apply quotes a value of the wrong type) with its
/// value replaced by `redacted`, braces balanced.
fn redact_unstructured_values(message: &str, redacted: &str) -> String {
    const OPEN: &str = "valueUnstructured{Value:";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start + OPEN.len()]);
        rest = &rest[start + OPEN.len()..];
        let mut depth = 1usize;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(rest.len(), |(at, _)| at);
        out.push_str(redacted);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// One line of the validation error: `<file>:<line> (document N): Kind/ns/name: <server message>`.
pub(crate) fn refusal_line(source: &Source, obj: &ObjRef, message: &str) -> String {
    // The server's message may span lines; the error keeps one line per object.
    let message: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    format!("{source}: {obj}: {}", message.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(line: Option<usize>) -> Source {
        Source { file: "manifests/app.yaml".into(), document: 3, line }
    }

    #[test]
    fn a_refusal_names_the_file_line_document_and_object() {
        let obj = ObjRef::new("", "ConfigMap", Some("apps"), "settings");
        let line = refusal_line(
            &source(Some(12)),
            &obj,
            ".data.a: expected string, got &value.valueUnstructured{Value:1}",
        );
        assert_eq!(
            line,
            "manifests/app.yaml:12 (document 3): ConfigMap/apps/settings: .data.a: expected string, got \
             &value.valueUnstructured{Value:1}"
        );
    }

    #[test]
    fn a_message_on_several_lines_becomes_one_and_stdin_is_named() {
        let obj = ObjRef::new("apps", "Deployment", Some("apps"), "web");
        let stdin = Source { file: "-".into(), document: 1, line: Some(1) };
        let line = refusal_line(&stdin, &obj, "strict decoding error:\n  unknown field \"spec.replicaz\"\n");
        assert_eq!(
            line,
            "<stdin>:1 (document 1): Deployment.apps/apps/web: strict decoding error: unknown field \
             \"spec.replicaz\""
        );
        let no_line = refusal_line(&source(None), &obj, "bad");
        assert_eq!(no_line, "manifests/app.yaml (document 3): Deployment.apps/apps/web: bad");
    }

    #[test]
    fn causes_the_message_leaves_out_are_added() {
        let causes = vec![
            ("data[tls.key]".to_owned(), "Required value".to_owned()),
            ("data[x]".to_owned(), "already quoted".to_owned()),
        ];
        assert_eq!(
            with_causes("Secret \"t\" is invalid: already quoted".to_owned(), &causes),
            "Secret \"t\" is invalid: already quoted (data[tls.key]: Required value)"
        );
        assert_eq!(with_causes("plain".to_owned(), &[]), "plain");
    }

    #[test]
    fn a_400_or_422_is_a_validation_error_and_other_codes_are_not() {
        let object = crate::object::testing::config_map("apps", "a");
        let api = |code: u16, message: &str| ClusterError::Api {
            obj: object.obj_ref.clone(),
            verb: "validate",
            code,
            reason: String::new(),
            message: message.to_owned(),
            causes: Vec::new(),
        };
        assert!(refusal(&object, api(400, "bad request")).is_some());
        assert!(refusal(&object, api(422, "invalid")).is_some());
        for code in [403, 404, 409, 500, 503] {
            assert!(refusal(&object, api(code, "refused")).is_none(), "{code}");
        }
        let mut immutable = api(422, "Deployment.apps \"web\" is invalid: spec.selector: field is immutable");
        if let ClusterError::Api { causes, .. } = &mut immutable {
            causes.push(("spec.selector".to_owned(), "field is immutable".to_owned()));
        }
        assert!(refusal(&object, immutable).is_none(), "left to --recreate-on-immutable");
        let no_dry_run = "admission webhook \"check.example.com\" does not support dry run";
        assert!(refusal(&object, api(400, no_dry_run)).is_none());
    }

    #[test]
    fn a_secret_value_the_server_quotes_is_redacted() {
        let secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"pin": 12345, "nested": {"x": "s3cr3t"}, "short": "ab"},
            "stringData": {"password": "hunter22"},
        });
        let message = "failed to create typed patch object (apps/s; /v1, Kind=Secret): .data.pin: expected \
                       string, got &value.valueUnstructured{Value:12345}; .data.nested: expected string, got \
                       &value.valueUnstructured{Value:map[x:s3cr3t]}; hunter22 {\"x\":\"s3cr3t\"}";
        let redacted = redact_secret_values(&secret, message.to_owned());
        for leak in ["12345", "s3cr3t", "hunter22"] {
            assert!(!redacted.contains(leak), "{leak} in {redacted}");
        }
        assert!(
            redacted.contains(".data.pin: expected string, got &value.valueUnstructured{Value:<redacted>};")
        );
        assert!(redacted.ends_with("<redacted> <redacted>"), "{redacted}");
        let config_map = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"pin": 12345}});
        assert_eq!(redact_secret_values(&config_map, message.to_owned()), message);
    }

    #[test]
    fn a_500_is_a_validation_error_only_when_it_is_a_schema_mismatch() {
        let schema = [
            "failed to create typed patch object (apps/c; /v1, Kind=ConfigMap): .data.a: expected string, got \
             &value.valueUnstructured{Value:1}",
            "failed to create typed patch object (apps/web; apps/v1, Kind=Deployment): .spec.replicaz: field not \
             declared in schema",
            "failed to convert new object (apps/s; /v1, Kind=Secret) to proper version: unable to convert \
             unstructured object to /v1, Kind=Secret: error decoding from json: illegal base64 data at input byte 3",
        ];
        for message in schema {
            assert!(is_invalid_input(500, message), "{message}");
        }
        for message in [
            "Internal error occurred: failed calling webhook \"check.example.com\": connection refused",
            "etcdserver: request timed out",
            "failed to create typed live object (apps/c; /v1, Kind=ConfigMap): bad live object",
        ] {
            assert!(!is_invalid_input(500, message), "{message}");
        }
    }
}
