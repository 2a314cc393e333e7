//! Reading and validating manifests from files, directories and stdin: [`load`] is the entry point.
//!
//! ```text
//! inputs ──read──► texts ──parse──► RawDocument ──flatten──► items ──validate──► Vec<Object>
//! ```
//!
//! - **Inputs**: files (read whatever their extension), directories (`.yaml`, `.yml`, `.json` files,
//!   sorted by name; top level only unless [`LoadOptions::recursive`], as `kubectl -R`; entries starting
//!   with `.` skipped), standard input ([`Input::Stdin`], given as text so tests can inject it).
//! - **Formats**: multi-document YAML (`---`, `...`) and JSON (one object or several concatenated),
//!   sniffed like kubectl: text starting with `{` is JSON, unless it is not JSON but is valid YAML.
//!   YAML is read with YAML 1.1 scalars, as kubectl does (go-yaml v2): `0644` is 420, unquoted
//!   `yes`/`no`/`on`/`off`/`y`/`n` are booleans; integral floats become integers. See
//!   `docs/serde-saphyr.md`.
//! - **Documents** are numbered as the user counts them (1-based, empty and comment-only documents
//!   count but yield nothing). `kind: List` and every `*List` kind with `items` are flattened; each
//!   item keeps its document's number and errors name it `items[i]`.
//! - **Local config** — an object annotated `config.kubernetes.io/local-config` with any value but
//!   `"false"` (kpt's rule; kpt's Kptfile carries it) — is left out before validation. The inventory
//!   template (a ConfigMap labelled `cli-utils.sigs.k8s.io/inventory-id`) is *not* local config: it is
//!   returned like any object, and the caller separates it.
//! - **Validation** collects every problem before returning ([`ManifestErrors`]), each located by file,
//!   document and line (the offending field's line when it can be found, else the document's first line):
//!   syntax, non-mapping documents, missing or ill-typed apiVersion/kind/metadata.name,
//!   `metadata.generateName` without a name, non-string labels and annotations, malformed `depends-on` and
//!   `apply-time-mutation` annotations, namespaces (below), and the same object twice (both places named).
//!   No message ever quotes a Secret's data.
//! - **Namespaces**: a [`ScopeResolver`] tells whether a kind is namespaced ([`BuiltinScopes`] offline,
//!   discovery in the engine), extended by the CRDs of the set ([`WithCrds`]). A namespaced object
//!   without a namespace gets [`LoadOptions::default_namespace`]; with none, it is an error. A
//!   cluster-scoped object with a namespace is an error (as cli-utils). An unknown kind is an error, or
//!   assumed namespaced with [`UnknownKinds::AssumeNamespaced`] for offline use.

mod error;
mod json;
mod locate;
mod parse;
mod read;
mod scope;
mod selector;
mod split;
mod validate;
mod yaml;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use error::{ErrorKind, Format, Location, ManifestError, ManifestErrors, Result};
pub use parse::RawDocument;
pub use scope::{BuiltinScopes, ScopeResolver, WithCrds};
pub use selector::{Selector, SelectorError};

use crate::object::{Object, Source};

/// One input: a path (file or directory), standard input, or in-memory text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file, read whatever its extension, or a directory.
    Path(PathBuf),
    /// The content of standard input (`-` on the command line); its documents show as `<stdin>`.
    Stdin(String),
    /// Text from elsewhere (a generator's output, a test), shown under `name`.
    Text {
        /// The name errors and sources show for the text: a file name or any label, never read.
        name: PathBuf,
        /// The manifests: YAML (documents separated by `---`) or JSON.
        text: String,
    },
}

impl Input {
    /// A file or a directory.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Input::Path(path.into())
    }

    /// Text from elsewhere (embedded manifests, a generator's output), shown under `name` in errors.
    pub fn text(name: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Input::Text { name: name.into(), text: text.into() }
    }

    /// The text of standard input, already read; its documents show as `<stdin>`.
    pub fn stdin(text: impl Into<String>) -> Self {
        Input::Stdin(text.into())
    }

    /// How errors name the input: its path, `<stdin>`, or the text's name.
    pub fn name(&self) -> &Path {
        match self {
            Input::Path(path) => path,
            Input::Stdin(_) => Path::new("<stdin>"),
            Input::Text { name, .. } => name,
        }
    }
}

/// What to do with a kind the [`ScopeResolver`] does not know and no CRD of the set defines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownKinds {
    /// An error: the cluster does not serve the kind, so applying it would fail anyway.
    #[default]
    Error,
    /// Treat it as namespaced (most custom resources are), for offline use where no cluster can say.
    AssumeNamespaced,
}

/// How to load manifests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Descend into subdirectories of directory inputs (`kubectl -R`).
    pub recursive: bool,
    /// The namespace of namespaced objects that name none: `--namespace`, else the kubeconfig
    /// context's. None (or empty) when unknown: such objects are then an error.
    pub default_namespace: Option<String>,
    /// What a kind neither the resolver nor a CRD of the set knows is: an error (the default) or a
    /// namespaced kind.
    pub unknown_kinds: UnknownKinds,
}

/// Reads, parses and validates manifests into objects, in input order.
///
/// # Errors
/// Every problem found in any input, all together (see the module documentation); nothing is returned
/// when there is any, since a bad document anywhere means nothing may be applied.
pub fn load(inputs: &[Input], opts: &LoadOptions, scopes: &dyn ScopeResolver) -> Result<Vec<Object>> {
    let mut errors = Vec::new();
    let docs = read_and_parse(inputs, opts.recursive, &mut errors);
    let items = validate::flatten(docs, &mut errors);
    let objects = validate::validate(items, opts, scopes, &mut errors);
    finish(objects, errors)
}

/// Parses one text into its non-empty documents, without flattening or validation: the lower level of
/// [`load`], for tests and tools that want raw documents. `file` names the text in errors.
///
/// # Errors
/// Every syntax error of the text.
pub fn parse_str(file: &Path, text: &str) -> Result<Vec<RawDocument>> {
    let mut errors = Vec::new();
    let docs = parse::parse_text(file, text, 0, &mut errors);
    finish(docs, errors)
}

/// Validates parsed documents into objects: the second half of [`load`].
///
/// # Errors
/// Every validation problem of the documents.
pub fn validate(
    docs: Vec<RawDocument>,
    opts: &LoadOptions,
    scopes: &dyn ScopeResolver,
) -> Result<Vec<Object>> {
    let mut errors = Vec::new();
    let items = validate::flatten(docs, &mut errors);
    let objects = validate::validate(items, opts, scopes, &mut errors);
    finish(objects, errors)
}

/// Reads inputs into JSON values, `List`s flattened, without identity validation, namespace defaulting
/// or local-config filtering: for `kapply status --offline`, which reads `kubectl get -o yaml` output.
///
/// # Errors
/// Unreadable inputs, syntax errors, and documents or items that are not mappings.
pub fn read_values(inputs: &[Input], recursive: bool) -> Result<Vec<(Source, Value)>> {
    let mut errors = Vec::new();
    let docs = read_and_parse(inputs, recursive, &mut errors);
    let values = validate::flatten(docs, &mut errors)
        .into_iter()
        .filter_map(|item| validate::require_mapping(item, &mut errors))
        .collect();
    finish(values, errors)
}

fn read_and_parse(inputs: &[Input], recursive: bool, errors: &mut Vec<ManifestError>) -> Vec<RawDocument> {
    read::read_inputs(inputs, recursive, errors)
        .into_iter()
        .flat_map(|source| parse::parse_text(&source.file, &source.text, source.seq, errors))
        .collect()
}

fn finish<T>(value: T, errors: Vec<ManifestError>) -> Result<T> {
    if errors.is_empty() { Ok(value) } else { Err(ManifestErrors::new(errors)) }
}
