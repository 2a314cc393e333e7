//! [`FieldPath`]: a compiled RFC 9535 JSONPath naming one field, with the spellings cli-utils users write.

use std::fmt;

use serde_json::Value;
use serde_json_path::JsonPath;

/// Deepest bracket/parenthesis nesting accepted in a path.
///
/// The JSONPath parser is recursive; an annotation is user input, and a path like `$[?((((…` thousands
/// deep would overflow the stack (an abort, not a catchable panic). Real paths nest two or three levels.
const MAX_NESTING: usize = 32;

/// A JSONPath naming a field of an object, compiled once when the annotation is parsed.
///
/// cli-utils evaluates these paths with a Goessner-style JSONPath library (`$.spec.clusterIP`,
/// `$.spec.containers[?(@.name=="nginx")].image`); kapply uses RFC 9535, which reads those same
/// spellings identically, parenthesised filters included. One normalisation is made so that
/// kubectl-style paths work too: a path starting with `.` or `[` gets `$` prefixed (`.spec.x` is
/// `$.spec.x`). Regex filters (`=~`) of the Goessner dialect are not RFC 9535; use `match()`/`search()`.
///
/// [`Display`](fmt::Display) shows the path as the user wrote it, so messages quote their manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    written: String,
    compiled: JsonPath,
}

/// Why a path could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath {path:?}: {reason}")]
pub struct PathError {
    /// The path as written.
    pub path: String,
    /// What is wrong with it: `empty path`, too deep a nesting, or the JSONPath parser's message.
    pub reason: String,
}

impl FieldPath {
    /// Compiles `text`, prefixing `$` when it starts with `.` or `[`.
    ///
    /// # Errors
    /// An empty path, a path nested deeper than 32 brackets, or one RFC 9535 rejects.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let error = |reason: String| PathError { path: text.to_owned(), reason };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(error("empty path".into()));
        }
        if nesting_depth(trimmed) > MAX_NESTING {
            return Err(error(format!("nested deeper than {MAX_NESTING} brackets")));
        }
        let normalised =
            if trimmed.starts_with(['.', '[']) { format!("${trimmed}") } else { trimmed.to_owned() };
        let compiled = JsonPath::parse(&normalised).map_err(|e| {
            let hint =
                if normalised.starts_with('$') { "" } else { " (paths start with `$`, e.g. `$.spec.x`)" };
            error(format!("{e}{hint}"))
        })?;
        Ok(Self { written: text.to_owned(), compiled })
    }

    /// The path as written in the annotation.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// True when the path is `$` itself: it names the whole object rather than a field of it.
    ///
    /// Every RFC 9535 segment selects children or descendants, so only a query without segments can
    /// yield the root; its canonical form is exactly `$`.
    pub fn is_root(&self) -> bool {
        self.compiled.to_string() == "$"
    }

    /// The values the path selects in `value`, in document order.
    pub(crate) fn select<'v>(&self, value: &'v Value) -> Vec<&'v Value> {
        self.compiled.query(value).all()
    }

    /// The JSON Pointers (RFC 6901) of the nodes the path selects in `value`, in document order.
    ///
    /// Pointers rather than references so the caller can then borrow the object mutably to write.
    pub(crate) fn locate(&self, value: &Value) -> Vec<String> {
        self.compiled.query_located(value).locations().map(|location| location.to_json_pointer()).collect()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// The deepest nesting of `(` and `[` in `path`, ignoring characters inside quoted string literals.
fn nesting_depth(path: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in path.chars() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(path: &str, value: &Value) -> Vec<String> {
        FieldPath::parse(path).unwrap().locate(value)
    }

    #[test]
    fn dollar_paths_compile_as_written() {
        let value = json!({"spec": {"clusterIP": "10.0.0.1"}});
        assert_eq!(pointers("$.spec.clusterIP", &value), ["/spec/clusterIP"]);
    }

    #[test]
    fn kubectl_style_path_without_dollar_gets_it_prefixed() {
        let value = json!({"spec": {"clusterIP": "10.0.0.1"}, "list": [1, 2]});
        assert_eq!(pointers(".spec.clusterIP", &value), ["/spec/clusterIP"]);
        assert_eq!(pointers("['spec']['clusterIP']", &value), ["/spec/clusterIP"]);
        assert_eq!(pointers("  .list[1] ", &value), ["/list/1"]);
    }

    #[test]
    fn the_path_is_displayed_as_written() {
        assert_eq!(FieldPath::parse(".spec.x").unwrap().to_string(), ".spec.x");
    }

    #[test]
    fn parenthesised_filter_of_cli_utils_examples_selects_by_name() {
        let value = json!({"spec": {"containers": [
            {"name": "sidecar", "image": "envoy"},
            {"name": "nginx", "image": "nginx:1.25"},
        ]}});
        let path = r#"$.spec.containers[?(@.name=="nginx")].image"#;
        assert_eq!(pointers(path, &value), ["/spec/containers/1/image"]);
        let rfc = r#"$.spec.containers[?@.name == 'nginx'].image"#;
        assert_eq!(pointers(rfc, &value), ["/spec/containers/1/image"]);
    }

    #[test]
    fn or_filter_selects_several_nodes() {
        let value = json!({"entries": [{"name": "a", "v": 1}, {"name": "b", "v": 2}, {"name": "c", "v": 3}]});
        let path = r#"$.entries[?(@.name=="a" || @.name=="c")].v"#;
        assert_eq!(pointers(path, &value), ["/entries/0/v", "/entries/2/v"]);
    }

    #[test]
    fn keys_with_slash_and_tilde_become_escaped_pointers() {
        let value = json!({"metadata": {"annotations": {"example.com/a~b": "x"}}});
        let path = "$.metadata.annotations['example.com/a~b']";
        let found = pointers(path, &value);
        assert_eq!(found, ["/metadata/annotations/example.com~1a~0b"]);
        assert_eq!(value.pointer(&found[0]), Some(&json!("x")));
    }

    #[test]
    fn empty_and_malformed_paths_are_rejected_with_the_path_named() {
        for bad in ["", "   ", "$.nope[", "spec.x", "$.a[?(@.b==)]"] {
            let err = FieldPath::parse(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn bare_path_without_dollar_gets_a_hint() {
        let err = FieldPath::parse("spec.x").unwrap_err();
        assert!(err.reason.contains("paths start with `$`"), "{err}");
    }

    #[test]
    fn deeply_nested_path_is_rejected_before_the_recursive_parser_sees_it() {
        let deep = format!("$[?{}@.a{}]", "(".repeat(10_000), ")".repeat(10_000));
        let err = FieldPath::parse(&deep).unwrap_err();
        assert!(err.reason.contains("nested deeper"), "{err}");
    }

    #[test]
    fn brackets_inside_quoted_names_do_not_count_as_nesting() {
        let name = "[".repeat(40);
        let path = format!("$['{name}']");
        assert!(FieldPath::parse(&path).is_ok());
    }

    #[test]
    fn only_the_bare_dollar_is_the_root() {
        assert!(FieldPath::parse("$").unwrap().is_root());
        assert!(!FieldPath::parse("$.a").unwrap().is_root());
        assert!(!FieldPath::parse("$..*").unwrap().is_root());
    }
}
