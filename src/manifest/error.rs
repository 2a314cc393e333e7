//! Manifest errors: every problem found in the input, each located by file, document and line.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::graph::DependsOnError;
use crate::mutation::MutationError;
use crate::object::{GroupKind, ObjRef, Source};

/// Where a problem is: the file, the document, the `List` item and the line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The path as given by the user, or `-` for standard input.
    pub file: PathBuf,
    /// 1-based document index as the user counts documents in the file; None when the problem
    /// concerns the whole file (it cannot be read).
    pub document: Option<usize>,
    /// Indexes into nested `items` when the problem is in an item of a `List` (`items[2]`).
    pub items: Vec<usize>,
    /// 1-based line: the offending line when known, else the line where the document (or item) starts.
    pub line: Option<usize>,
    /// 1-based column, given for syntax errors.
    pub column: Option<usize>,
}

impl Location {
    /// The location of a whole file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self { file: file.into(), document: None, items: Vec::new(), line: None, column: None }
    }

    /// The location of a document (or `List` item) whose [`Source`] is known.
    pub fn of(source: &Source) -> Self {
        Self {
            file: source.file.clone(),
            document: Some(source.document),
            items: Vec::new(),
            line: source.line,
            column: None,
        }
    }
}

/// `<stdin>` for `-`, the path otherwise.
pub(crate) fn display_file(file: &Path) -> String {
    if file.as_os_str() == "-" { "<stdin>".to_owned() } else { file.display().to_string() }
}

impl fmt::Display for Location {
    /// `file:line:column (document N, items[i])`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display_file(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(document) = self.document {
            write!(f, " (document {document}")?;
            for (depth, index) in self.items.iter().enumerate() {
                f.write_str(if depth == 0 { ", " } else { "." })?;
                write!(f, "items[{index}]")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// The input format a syntax error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// YAML: how text is parsed unless it starts with `{`; also the format reported for a `.yaml` or
    /// `.yml` file that starts with `{` and is valid as neither.
    Yaml,
    /// JSON: text that starts with `{` (sniffed as kubectl does) and is valid as neither JSON nor YAML,
    /// outside a `.yaml` or `.yml` file.
    Json,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        })
    }
}

/// What is wrong. Messages are lowercase, never quote a Secret's data, and end with a hint where one
/// helps.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file or directory could not be read.
    #[error("cannot read {what}: {message}")]
    Read {
        /// What could not be read: `path`, `directory` or `file`.
        what: &'static str,
        /// The operating system's error, e.g. `No such file or directory (os error 2)`.
        message: String,
    },

    /// A file is not UTF-8 text.
    #[error("not valid UTF-8 text: save the file as UTF-8")]
    NotUtf8,

    /// The parser rejected the text. The message is the parser's, without its position (the location
    /// carries it); inside a document that may be a Secret, quoted fragments are redacted.
    #[error("invalid {format}: {message}")]
    Syntax {
        /// The format the text was parsed as.
        format: Format,
        /// The parser's message, without its position, redacted inside a possible Secret.
        message: String,
    },

    /// A document (or `List` item) is a scalar or a sequence.
    #[error(
        "document is {found}, not a mapping: a Kubernetes object is a mapping with apiVersion, kind and \
         metadata (several objects go in separate documents, separated by ---, or in a kind: List)"
    )]
    NotAMapping {
        /// What was found instead: `a sequence`, `a string`, `a number`, `a boolean` or `null`.
        found: &'static str,
    },

    /// A field that must be a mapping is something else.
    #[error("{field} must be a mapping, found {found}")]
    NotAMappingField {
        /// The field's path: `metadata`, `metadata.labels` or `metadata.annotations`.
        field: &'static str,
        /// What was found instead: `a sequence`, `a string`, `a number` or `a boolean`.
        found: &'static str,
    },

    /// Identity fields are missing or empty.
    #[error("missing {}: every object needs apiVersion, kind and metadata.name", .fields.join(", "))]
    Missing {
        /// The missing or empty fields, in order: some of `apiVersion`, `kind`, `metadata.name`.
        fields: Vec<&'static str>,
    },

    /// A field that must be a string is something else.
    #[error("{field} must be a string, found {found}{}", quote_hint(.found))]
    NotAString {
        /// The field's path, e.g. `kind`, `metadata.namespace`, `metadata.labels.app`.
        field: String,
        /// What was found instead: `a number`, `a boolean`, `a mapping`, `a sequence` or `null`.
        found: &'static str,
    },

    /// `apiVersion` is neither `version` nor `group/version`.
    #[error("malformed apiVersion {0:?}: expected a version (v1) or group/version (apps/v1)")]
    MalformedApiVersion(String),

    /// A name the API server cannot take as a path segment.
    #[error("metadata.name {0:?} is not a valid name: it cannot contain '/' or '%', nor be '.' or '..'")]
    InvalidName(String),

    /// `metadata.generateName` without a name.
    #[error(
        "metadata.generateName cannot be applied idempotently (every apply would create another object); \
         give the object a metadata.name"
    )]
    GenerateName,

    /// `items` of a `*List` is not a sequence.
    #[error("items of a {kind} must be a sequence, found {found}")]
    ListItemsNotASequence {
        /// The list's kind: `List`, or another kind ending in `List` that has `items`.
        kind: String,
        /// What was found instead: `a mapping`, `a string`, `a number` or `a boolean`.
        found: &'static str,
    },

    /// A malformed `config.kubernetes.io/depends-on` annotation.
    #[error(transparent)]
    DependsOn(#[from] DependsOnError),

    /// A malformed `config.kubernetes.io/apply-time-mutation` annotation.
    #[error(transparent)]
    Mutation(#[from] MutationError),

    /// A cluster-scoped kind with `metadata.namespace`.
    #[error("{kind} is cluster-scoped but has metadata.namespace {namespace:?}: remove the namespace")]
    NamespaceOnClusterScoped {
        /// The object's kind.
        kind: GroupKind,
        /// The `metadata.namespace` it was given.
        namespace: String,
    },

    /// A namespaced object without a namespace, and no default namespace.
    #[error(
        "cannot determine the namespace of {kind}/{name}: set metadata.namespace or give a default \
         namespace"
    )]
    NoNamespace {
        /// The object's kind.
        kind: GroupKind,
        /// The object's `metadata.name`.
        name: String,
    },

    /// A kind neither the resolver nor a CRD of the set knows.
    #[error(
        "unknown kind {kind} (apiVersion {api_version}): not served by the cluster and no \
         CustomResourceDefinition in the set defines it"
    )]
    UnknownKind {
        /// The object's `kind`, as written.
        kind: String,
        /// The object's `apiVersion`, as written.
        api_version: String,
    },

    /// The same object twice; the error is located at the second, `first` names the first.
    #[error("{object} is defined more than once: first at {}", Location::of(.first))]
    Duplicate {
        /// The object defined twice (namespace defaulted).
        object: ObjRef,
        /// Where it was first defined.
        first: Source,
    },
}

/// Why a non-string was found where a string belongs, for the most common cause.
fn quote_hint(found: &str) -> &'static str {
    match found {
        "a boolean" => ": quote the value (YAML 1.1 reads unquoted yes/no/on/off/true/false/y/n as booleans)",
        "a number" => ": quote the value",
        _ => "",
    }
}

/// One problem in the manifests, with its location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct ManifestError {
    /// Where the problem is.
    pub location: Location,
    /// What the problem is.
    #[source]
    pub kind: ErrorKind,
    /// Position of the file in reading order, so errors sort in input order.
    pub(crate) seq: usize,
}

impl ManifestError {
    /// The problem `kind` at `location`.
    pub fn new(location: Location, kind: impl Into<ErrorKind>) -> Self {
        Self { location, kind: kind.into(), seq: 0 }
    }

    pub(crate) fn with_seq(mut self, seq: usize) -> Self {
        self.seq = seq;
        self
    }
}

/// Every problem found in a set of manifests, in input order.
///
/// Loading never stops at the first problem: the user fixes them all in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestErrors(Vec<ManifestError>);

impl ManifestErrors {
    /// Sorts by file (in reading order), document and line.
    pub(crate) fn new(mut errors: Vec<ManifestError>) -> Self {
        errors.sort_by(|a, b| {
            (a.seq, a.location.document, a.location.line).cmp(&(b.seq, b.location.document, b.location.line))
        });
        Self(errors)
    }

    /// The errors, in input order (never empty when returned by the loader).
    pub fn errors(&self) -> &[ManifestError] {
        &self.0
    }

    /// The errors, in input order, by value.
    pub fn into_vec(self) -> Vec<ManifestError> {
        self.0
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no error at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors, in input order.
    pub fn iter(&self) -> std::slice::Iter<'_, ManifestError> {
        self.0.iter()
    }
}

impl fmt::Display for ManifestErrors {
    /// One error per line (`file:line (document N): message`), then a count line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.0 {
            writeln!(f, "{error}")?;
        }
        let n = self.0.len();
        write!(f, "{n} error{} in the manifests", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for ManifestErrors {}

impl IntoIterator for ManifestErrors {
    type Item = ManifestError;
    type IntoIter = std::vec::IntoIter<ManifestError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ManifestErrors {
    type Item = &'a ManifestError;
    type IntoIter = std::slice::Iter<'a, ManifestError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// `Result` of the manifest functions.
pub type Result<T, E = ManifestErrors> = std::result::Result<T, E>;

/// "a string", "a mapping"…: the JSON type of a value, for messages (never the value itself).
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, document: usize, line: usize) -> Location {
        Location {
            file: file.into(),
            document: Some(document),
            items: vec![],
            line: Some(line),
            column: None,
        }
    }

    #[test]
    fn location_shows_file_line_document_and_items() {
        let mut loc = at("a.yaml", 2, 7);
        assert_eq!(loc.to_string(), "a.yaml:7 (document 2)");
        loc.items = vec![3, 0];
        loc.column = Some(5);
        assert_eq!(loc.to_string(), "a.yaml:7:5 (document 2, items[3].items[0])");
        assert_eq!(Location::file("-").to_string(), "<stdin>");
    }

    #[test]
    fn errors_display_one_per_line_then_a_count() {
        let errors = ManifestErrors::new(vec![
            ManifestError::new(at("b.yaml", 1, 1), ErrorKind::GenerateName).with_seq(1),
            ManifestError::new(at("a.yaml", 3, 9), ErrorKind::Missing { fields: vec!["kind"] }),
            ManifestError::new(at("a.yaml", 1, 2), ErrorKind::Missing { fields: vec!["apiVersion", "kind"] }),
        ]);
        let shown = errors.to_string();
        let lines: Vec<_> = shown.lines().collect();
        assert_eq!(lines.len(), 4, "{shown}");
        assert!(lines[0].starts_with("a.yaml:2 (document 1): missing apiVersion, kind:"), "{shown}");
        assert!(lines[1].starts_with("a.yaml:9 (document 3): missing kind"), "{shown}");
        assert!(lines[2].starts_with("b.yaml:1 (document 1): metadata.generateName"), "{shown}");
        assert_eq!(lines[3], "3 errors in the manifests");
    }

    #[test]
    fn a_boolean_where_a_string_belongs_suggests_quoting() {
        let kind = ErrorKind::NotAString { field: "metadata.labels.enabled".into(), found: "a boolean" };
        assert!(kind.to_string().contains("quote the value"), "{kind}");
    }
}
