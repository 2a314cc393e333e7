//! Parsing one file's text into documents: YAML or JSON, sniffed as kubectl does.
//!
//! Here: [`RawDocument`], the sniffing, and what both formats share (the JSON value they build, number
//! normalization, redaction of parser messages). Beside this file: `split` cuts a YAML stream into
//! documents, `yaml` and `json` parse them, and `locate` finds the line of a field when a problem is
//! reported. Document numbers and line numbers are as the user counts them.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::ManifestError;
use super::json::parse_json;
use super::locate::DocText;
use super::split::lone_cr_to_lf;
use super::yaml::parse_yaml;
use crate::object::Source;

/// One non-empty document of a manifest file, parsed but not validated.
#[derive(Debug, Clone)]
pub struct RawDocument {
    /// File, 1-based document index, and the line of the document's first content line.
    pub source: Source,
    /// The document as JSON.
    pub value: Value,
    /// The document's text, kept to find the line of a field when reporting a problem.
    pub(crate) text: DocText,
}

/// Parses the text of one file. `seq` orders errors across files.
pub(crate) fn parse_text(
    file: &Path,
    text: &str,
    seq: usize,
    errors: &mut Vec<ManifestError>,
) -> Vec<RawDocument> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file_text: Arc<str> = Arc::from(lone_cr_to_lf(text).as_ref());
    let text = file_text.as_ref();
    if !looks_like_json(text) {
        return parse_yaml(file, &file_text, seq, errors);
    }
    // Sniffed as JSON like kubectl does; a YAML flow mapping also starts with `{`, so fall back to
    // YAML when the text is not JSON but is valid YAML.
    let mut json_errors = Vec::new();
    let docs = parse_json(file, &file_text, seq, &mut json_errors);
    if json_errors.is_empty() {
        return docs;
    }
    let mut yaml_errors = Vec::new();
    let yaml_docs = parse_yaml(file, &file_text, seq, &mut yaml_errors);
    let is_yaml_file = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml_errors.is_empty() {
        yaml_docs
    } else if is_yaml_file {
        errors.append(&mut yaml_errors);
        yaml_docs
    } else {
        errors.append(&mut json_errors);
        docs
    }
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// A parser message may quote a fragment of the input (`unexpected character: `x'`, a duplicate key).
/// In a document that may be a Secret, those fragments are replaced: a Secret's data must never reach
/// a terminal or a CI log. "May be a Secret" is deliberately broad (the text mentions `Secret`), since
/// a broken document cannot be trusted to say what it is.
pub(super) fn redact_if_secret(message: String, document_text: &str) -> String {
    if !document_text.contains("Secret") {
        return message;
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(start) = rest.find(['`', '"']) {
        let open = rest.as_bytes()[start] as char;
        let after = &rest[start + 1..];
        let close = if open == '`' { after.find(['`', '\'']) } else { after.find('"') };
        let Some(close) = close else { break };
        out.push_str(&rest[..=start]);
        out.push_str("<redacted>");
        out.push(after.as_bytes()[close] as char);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A JSON value that rejects duplicate keys: serde_json keeps the last, and the YAML parser only
/// rejects keys that are the same YAML node (`8080` and `"8080"` are two nodes but one JSON key).
pub(super) struct StrictJson(pub(super) Value);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictJsonVisitor).map(StrictJson)
    }
}

struct StrictJsonVisitor;

impl<'de> Visitor<'de> for StrictJsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key \"{key}\"")));
            }
            let StrictJson(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Writes integral floats as integers (`1.0`, `1e3`, YAML 1.1 `08`), as kubectl does: its YAML and
/// JSON decoders produce float64 values that Go's JSON encoder then writes without a fraction. An API
/// server expecting an integer would reject `1.0`.
pub(super) fn normalize_numbers(value: &mut Value) {
    const EXACT: f64 = (1u64 << 53) as f64;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < EXACT
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_numbers),
        Value::Object(map) => map.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> (Vec<RawDocument>, Vec<ManifestError>) {
        let mut errors = Vec::new();
        let docs = parse_text(Path::new("m.yaml"), text, 0, &mut errors);
        (docs, errors)
    }

    fn values(text: &str) -> Vec<Value> {
        let (docs, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        docs.into_iter().map(|d| d.value).collect()
    }

    fn numbers(docs: &[RawDocument]) -> Vec<(usize, Option<usize>)> {
        docs.iter().map(|d| (d.source.document, d.source.line)).collect()
    }

    #[test]
    fn octal_0644_parses_as_420_like_kubectl() {
        assert_eq!(
            values("defaultMode: 0644\nquoted: '0644'\n"),
            [json!({"defaultMode": 420, "quoted": "0644"})]
        );
    }

    #[test]
    fn unquoted_yes_on_y_are_booleans_as_in_yaml_1_1_and_quoted_ones_strings() {
        let v = values("a: yes\nb: on\nc: Off\nd: n\ne: 'yes'\non: 1\n");
        assert_eq!(v, [json!({"a": true, "b": true, "c": false, "d": false, "e": "yes", "on": 1})]);
    }

    #[test]
    fn integral_floats_become_integers_and_other_floats_stay() {
        assert_eq!(values("a: 1.0\nb: 1e3\nc: 08\nd: 1.5\n"), [json!({"a": 1, "b": 1000, "c": 8, "d": 1.5})]);
    }

    #[test]
    fn ports_and_times_stay_strings() {
        assert_eq!(values("p: 22:22\nt: 2024-01-01\n"), [json!({"p": "22:22", "t": "2024-01-01"})]);
    }

    #[test]
    fn empty_and_comment_only_documents_are_skipped_but_still_counted() {
        let (docs, errors) =
            parse("# header\n---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n---\n~\n---\n");
        assert!(errors.is_empty());
        assert_eq!(numbers(&docs), [(1, Some(3)), (4, Some(8))]);
    }

    #[test]
    fn content_before_the_first_marker_is_document_1() {
        let (docs, _) = parse("a: 1\n---\nb: 2\n");
        assert_eq!(numbers(&docs), [(1, Some(1)), (2, Some(3))]);
    }

    #[test]
    fn document_end_markers_and_directives_are_understood() {
        let (docs, errors) = parse("%YAML 1.1\n---\na: 1\n...\nb: 2\n...\n--- {c: 3}\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(numbers(&docs), [(1, Some(3)), (2, Some(5)), (3, Some(7))]);
        assert_eq!(docs[2].value, json!({"c": 3}));
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column_and_other_documents_still_parse() {
        let (docs, errors) = parse("a: 1\n---\nb: [1, 2\n---\nc: 3\n");
        assert_eq!(numbers(&docs), [(1, Some(1)), (3, Some(5))]);
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!((e.location.document, e.location.line, e.location.column), (Some(2), Some(3), Some(4)));
        assert_eq!(e.to_string(), "m.yaml:3:4 (document 2): invalid YAML: unclosed bracket '['");
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let (_, errors) = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(errors[0].location.line, Some(3));
        assert!(errors[0].to_string().contains("duplicate mapping key `a`"), "{}", errors[0]);
    }

    #[test]
    fn keys_that_differ_in_yaml_but_not_in_json_are_rejected_with_their_line() {
        let (_, errors) = parse("kind: ConfigMap\ndata:\n  8080: a\n  \"8080\": b\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].to_string().contains("duplicate key \"8080\""), "{}", errors[0]);
        // The parser places the error at the first of the two keys.
        assert_eq!(errors[0].location.line, Some(3), "{}", errors[0]);
    }

    #[test]
    fn a_merge_key_overridden_by_an_explicit_key_is_not_a_duplicate() {
        let (docs, errors) = parse("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs[0].value["derived"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn old_mac_line_endings_split_documents_and_count_lines() {
        let (docs, errors) = parse("a: 1\r---\rb: 2\rc: [\r");
        assert_eq!(numbers(&docs), [(1, Some(1))]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location.document, Some(2));
        let (docs, errors) = parse("a: 1\r\n---\r\nb: 2\r---\rc: 3\r");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(numbers(&docs), [(1, Some(1)), (2, Some(3)), (3, Some(5))]);
    }

    #[test]
    fn crlf_line_endings_and_a_bom_are_accepted() {
        let (docs, errors) = parse("\u{feff}a: 1\r\n---\r\nb: 2\r\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(numbers(&docs), [(1, Some(1)), (2, Some(3))]);
    }

    #[test]
    fn a_json_object_is_one_document() {
        let (docs, errors) = parse("{\"kind\": \"ConfigMap\", \"data\": {\"mode\": 0}}");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs[0].value, json!({"kind": "ConfigMap", "data": {"mode": 0}}));
    }

    #[test]
    fn concatenated_json_objects_are_numbered_documents() {
        let (docs, errors) = parse("{\"a\": 1}\n\n{\n \"b\": 2.0\n}\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(numbers(&docs), [(1, Some(1)), (2, Some(3))]);
        assert_eq!(docs[1].value, json!({"b": 2}));
    }

    #[test]
    fn a_json_syntax_error_has_json_line_and_column() {
        let mut errors = Vec::new();
        parse_text(Path::new("m.json"), "{\n  \"a\": 1,\n  \"b\" 2\n}", 0, &mut errors);
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!((e.location.line, e.location.column), (Some(3), Some(7)));
        assert!(e.to_string().starts_with("m.json:3:7 (document 1): invalid JSON: expected `:`"), "{e}");
    }

    #[test]
    fn json_duplicate_keys_are_rejected() {
        let mut errors = Vec::new();
        parse_text(Path::new("m.json"), "{\"a\": 1, \"a\": 2}", 0, &mut errors);
        assert!(errors[0].to_string().contains("duplicate key \"a\""), "{}", errors[0]);
    }

    #[test]
    fn a_yaml_flow_mapping_is_not_mistaken_for_broken_json() {
        assert_eq!(values("{a: 1, b: [x]}\n"), [json!({"a": 1, "b": ["x"]})]);
        assert_eq!(values("{\"a\": 1}\n---\n{\"b\": 2}\n"), [json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn quoted_fragments_of_parser_messages_are_redacted_in_secrets() {
        let secret = "kind: Secret\n";
        assert_eq!(
            redact_if_secret("unexpected character: `@'".into(), secret),
            "unexpected character: `<redacted>'"
        );
        assert_eq!(
            redact_if_secret("duplicate key \"k\" here".into(), secret),
            "duplicate key \"<redacted>\" here"
        );
        assert_eq!(
            redact_if_secret("unexpected character: `@'".into(), "kind: X"),
            "unexpected character: `@'"
        );
        assert_eq!(redact_if_secret("odd ` quote".into(), secret), "odd ` quote");
    }
}
