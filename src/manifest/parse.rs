//! Parsing: a file's text into documents ([`RawDocument`]), YAML or JSON, with document numbers and
//! line numbers as the user counts them.
//!
//! YAML streams are split into documents here, on `---` and `...` lines, and each document is parsed on
//! its own: a syntax error in one document does not hide the problems of the others, and document
//! numbers count every document the user wrote, the empty ones too.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::{Localizer, Spanned, UserMessageFormatter};

use super::error::{ErrorKind, Format, Location, ManifestError};
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

/// The text of one document: the file's text and the document's byte range in it.
#[derive(Clone)]
pub(crate) struct DocText {
    file_text: Arc<str>,
    range: Range<usize>,
    /// 1-based line of `range.start` in the file.
    first_line: usize,
    /// Position of the file in reading order.
    pub(crate) seq: usize,
}

impl fmt::Debug for DocText {
    /// Never prints the text: it may hold a Secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocText").field("range", &self.range).field("first_line", &self.first_line).finish()
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl DocText {
    fn text(&self) -> &str {
        &self.file_text[self.range.clone()]
    }

    /// The document's size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.range.len()
    }

    /// The 1-based file line of the node at `path`: of the key when the path ends with a key, of the
    /// element when it ends with an index, of the document when empty. None when the path is not in
    /// the document (or the text cannot be re-read, e.g. some JSON).
    ///
    /// Re-parses the document, so it is meant for error reporting, not for every object.
    pub(crate) fn line_of(&self, path: &[Seg<'_>]) -> Option<usize> {
        self.find(path, Target::Node).into_iter().next()
    }

    /// The 1-based file lines of the elements of the sequence at `path`, in one parse.
    pub(crate) fn element_lines(&self, path: &[Seg<'_>]) -> Vec<usize> {
        self.find(path, Target::Elements)
    }

    fn find(&self, path: &[Seg<'_>], target: Target) -> Vec<usize> {
        let found =
            serde_saphyr::with_deserializer_from_str_with_options(self.text(), yaml_options(), |de| {
                Find { path, target }.deserialize(de)
            });
        found
            .unwrap_or_default()
            .into_iter()
            .filter(|&line| line > 0)
            .map(|line| usize::try_from(line).unwrap_or(usize::MAX).saturating_add(self.first_line - 1))
            .collect()
    }
}

/// The options every YAML parse uses. See docs/serde-saphyr.md.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // YAML 1.1 octal (`defaultMode: 0644` is 420), as kubectl's go-yaml v2 reads it.
        legacy_octal_numbers: true,
        // Snippets would quote the input, which may be a Secret; the location is reported separately.
        with_snippet: false,
        emit_comments: false,
        // A `kind: List` from `kubectl get -o yaml` can be large: lift the node and event caps, keep
        // the depth cap (it bounds stack use) and the alias limits.
        budget: serde_saphyr::budget! {
            max_nodes: 50_000_000,
            max_events: 200_000_000,
            max_total_scalar_bytes: 1 << 30,
        },
    }
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

/// A document of a YAML stream: its byte range, first line, and first content line.
#[derive(Debug, PartialEq, Eq)]
struct Chunk {
    range: Range<usize>,
    first_line: usize,
    content_line: Option<usize>,
}

/// A marker line: `---` or `...` at column 0, alone or followed by a space or tab.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Splits a YAML stream into documents, as the YAML spec does: a `---` line starts a document, a `...`
/// line ends one, and text before the first `---` is a document only if it has content (not just
/// comments and directives). A `---` or `...` at column 0 cannot be inside a scalar (YAML forbids it),
/// so line-level splitting agrees with the parser.
/// Old Mac line endings, a CR alone, made LF: YAML reads a lone CR as a line break, and the document
/// splitter must too, or a `---` of such a file would not start a document. CRLF stays as it is.
fn lone_cr_to_lf(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone) {
        return std::borrow::Cow::Borrowed(text);
    }
    let fixed: Vec<u8> = (0..bytes.len()).map(|i| if lone(i) { b'\n' } else { bytes[i] }).collect();
    // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(fixed).expect("ASCII for ASCII keeps UTF-8 valid"))
}

fn split_documents(text: &str) -> Vec<Chunk> {
    struct Current {
        start: usize,
        first_line: usize,
        marker: bool,
        content_line: Option<usize>,
    }
    impl Current {
        fn is_document(&self) -> bool {
            self.marker || self.content_line.is_some()
        }
        fn finish(&self, end: usize) -> Chunk {
            Chunk { range: self.start..end, first_line: self.first_line, content_line: self.content_line }
        }
    }
    let mut chunks = Vec::new();
    let mut cur = Current { start: 0, first_line: 1, marker: false, content_line: None };
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        if is_marker(line, "---") {
            if cur.is_document() {
                chunks.push(cur.finish(offset));
                cur = Current { start: offset, first_line: line_no, marker: true, content_line: None };
            } else {
                cur.marker = true;
            }
            let rest = line[3..].trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                cur.content_line = Some(line_no);
            }
        } else if is_marker(line, "...") {
            let end = offset + raw.len();
            if cur.is_document() {
                chunks.push(cur.finish(end));
            }
            cur = Current { start: end, first_line: line_no + 1, marker: false, content_line: None };
        } else if cur.content_line.is_none() {
            let trimmed = line.trim_start();
            let directive = line.starts_with('%') && !cur.marker;
            if !trimmed.is_empty() && !trimmed.starts_with('#') && !directive {
                cur.content_line = Some(line_no);
            }
        }
        offset += raw.len();
    }
    if cur.is_document() {
        chunks.push(cur.finish(text.len()));
    }
    chunks
}

fn parse_yaml(
    file: &Path,
    file_text: &Arc<str>,
    seq: usize,
    errors: &mut Vec<ManifestError>,
) -> Vec<RawDocument> {
    let mut docs = Vec::new();
    for (index, chunk) in split_documents(file_text).into_iter().enumerate() {
        let document = index + 1;
        let Some(content_line) = chunk.content_line else { continue };
        let text = &file_text[chunk.range.clone()];
        let source = Source { file: file.to_path_buf(), document, line: Some(content_line) };
        // StrictJson: two keys that YAML tells apart but JSON does not (`8080` and `"8080"`) would
        // otherwise silently keep the last one.
        match serde_saphyr::from_str_with_options::<StrictJson>(text, yaml_options()) {
            Ok(StrictJson(Value::Null)) => {}
            Ok(StrictJson(mut value)) => {
                normalize_numbers(&mut value);
                let text = DocText {
                    file_text: file_text.clone(),
                    range: chunk.range,
                    first_line: chunk.first_line,
                    seq,
                };
                docs.push(RawDocument { source, value, text });
            }
            Err(e) => {
                let position = e.location().filter(|l| l.line() > 0);
                let line = position.map(|l| to_usize(l.line()) + chunk.first_line - 1);
                let location = Location {
                    line: line.or(Some(content_line)),
                    column: position.map(|l| to_usize(l.column())),
                    ..Location::of(&source)
                };
                let message = redact_if_secret(yaml_message(&e), text);
                let kind = ErrorKind::Syntax { format: Format::Yaml, message };
                errors.push(ManifestError::new(location, kind).with_seq(seq));
            }
        }
    }
    docs
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The parser's message in its user-facing wording, without position (the location carries it) and
/// without snippet.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    struct NoPosition;
    impl Localizer for NoPosition {
        fn attach_location<'a>(&self, base: Cow<'a, str>, _: serde_saphyr::Location) -> Cow<'a, str> {
            base
        }
    }
    let formatter = UserMessageFormatter.with_localizer(&NoPosition);
    error.render_with_options(serde_saphyr::render_options! {
        formatter: &formatter,
        snippets: serde_saphyr::SnippetMode::Off,
    })
}

/// A parser message may quote a fragment of the input (`unexpected character: `x'`, a duplicate key).
/// In a document that may be a Secret, those fragments are replaced: a Secret's data must never reach
/// a terminal or a CI log. "May be a Secret" is deliberately broad (the text mentions `Secret`), since
/// a broken document cannot be trusted to say what it is.
fn redact_if_secret(message: String, document_text: &str) -> String {
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

fn parse_json(
    file: &Path,
    file_text: &Arc<str>,
    seq: usize,
    errors: &mut Vec<ManifestError>,
) -> Vec<RawDocument> {
    let text: &str = file_text;
    let newlines: Vec<usize> = text.match_indices('\n').map(|(at, _)| at).collect();
    let line_of = |offset: usize| newlines.partition_point(|&at| at < offset) + 1;
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<StrictJson>();
    let mut document = 0;
    loop {
        let before = stream.byte_offset();
        let start = text.len() - text[before..].trim_start().len();
        match stream.next() {
            None => break,
            Some(Ok(StrictJson(mut value))) => {
                document += 1;
                let first_line = line_of(start);
                let source = Source { file: file.to_path_buf(), document, line: Some(first_line) };
                let range = start..stream.byte_offset();
                normalize_numbers(&mut value);
                if !value.is_null() {
                    let text = DocText { file_text: file_text.clone(), range, first_line, seq };
                    docs.push(RawDocument { source, value, text });
                }
            }
            Some(Err(e)) => {
                document += 1;
                let source = Source { file: file.to_path_buf(), document, line: Some(line_of(start)) };
                let line = (e.line() > 0).then_some(e.line());
                let location = Location {
                    line: line.or(source.line),
                    column: line.map(|_| e.column()),
                    ..Location::of(&source)
                };
                let message = e.to_string();
                let message = match message.rfind(" at line ") {
                    Some(at) if line.is_some() => message[..at].to_owned(),
                    _ => message,
                };
                let message = redact_if_secret(message, &text[start..]);
                let kind = ErrorKind::Syntax { format: Format::Json, message };
                errors.push(ManifestError::new(location, kind).with_seq(seq));
                break;
            }
        }
    }
    docs
}

/// A JSON value that rejects duplicate keys: serde_json keeps the last, and the YAML parser only
/// rejects keys that are the same YAML node (`8080` and `"8080"` are two nodes but one JSON key).
struct StrictJson(Value);

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
fn normalize_numbers(value: &mut Value) {
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

/// What [`Find`] reports at the end of its path.
#[derive(Clone, Copy)]
enum Target {
    /// The line of the node (of the key, when the path ends with a key).
    Node,
    /// The lines of the elements of the sequence.
    Elements,
}

/// Walks a document along a path, ignoring everything else, and reports line numbers from the
/// parser's spans.
struct Find<'p, 'k> {
    path: &'p [Seg<'k>],
    target: Target,
}

impl<'de> DeserializeSeed<'de> for Find<'_, '_> {
    type Value = Vec<u64>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<u64>, D::Error> {
        match (self.path.first(), self.target) {
            (None, Target::Node) => {
                let node = Spanned::<IgnoredAny>::deserialize(de)?;
                Ok(vec![node.referenced.line()])
            }
            (None, Target::Elements) | (Some(Seg::Index(_)), _) => de.deserialize_seq(self),
            (Some(Seg::Key(_)), _) => de.deserialize_map(self),
        }
    }
}

impl<'de> Visitor<'de> for Find<'_, '_> {
    type Value = Vec<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or a sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<u64>, A::Error> {
        let Some(&Seg::Key(wanted)) = self.path.first() else {
            return Err(de::Error::custom("unexpected map"));
        };
        let rest = &self.path[1..];
        let mut found = Vec::new();
        while let Some(key) = map.next_key::<Spanned<AnyKey>>()? {
            if found.is_empty() && key.value.0.as_deref() == Some(wanted) {
                if rest.is_empty() && matches!(self.target, Target::Node) {
                    found = vec![key.referenced.line()];
                    map.next_value::<IgnoredAny>()?;
                } else {
                    found = map.next_value_seed(Find { path: rest, target: self.target })?;
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
        let mut found = Vec::new();
        match self.path.first() {
            None => {
                while let Some(element) = seq.next_element::<Spanned<IgnoredAny>>()? {
                    found.push(element.referenced.line());
                }
            }
            Some(&Seg::Index(wanted)) => {
                let mut index = 0;
                loop {
                    let more = if index == wanted {
                        let seed = Find { path: &self.path[1..], target: self.target };
                        match seq.next_element_seed(seed)? {
                            Some(lines) => {
                                found = lines;
                                true
                            }
                            None => false,
                        }
                    } else {
                        seq.next_element::<IgnoredAny>()?.is_some()
                    };
                    if !more {
                        break;
                    }
                    index += 1;
                }
            }
            Some(Seg::Key(_)) => return Err(de::Error::custom("unexpected sequence")),
        }
        Ok(found)
    }
}

/// A mapping key: its text when it is a string, None for other scalars (which a path never names).
struct AnyKey(Option<String>);

impl<'de> Deserialize<'de> for AnyKey {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = AnyKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyKey, E> {
                Ok(AnyKey(Some(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyKey, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnyKey(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyKey, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyKey(None))
            }
        }
        de.deserialize_any(KeyVisitor)
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
    fn lines_of_keys_and_elements_are_found_in_the_file() {
        let (docs, _) = parse("x: 0\n---\n# c\nkind: List\nitems:\n- a: 1\n-\n  b: 2\n  c: {d: 3}\n");
        let text = &docs[1].text;
        assert_eq!(text.line_of(&[]), Some(4));
        assert_eq!(text.line_of(&[Seg::Key("items")]), Some(5));
        assert_eq!(text.line_of(&[Seg::Key("items"), Seg::Index(1), Seg::Key("c"), Seg::Key("d")]), Some(9));
        assert_eq!(text.line_of(&[Seg::Key("nope")]), None);
        assert_eq!(text.line_of(&[Seg::Key("kind"), Seg::Key("x")]), None);
        assert_eq!(text.element_lines(&[Seg::Key("items")]), [6, 8]);
    }

    #[test]
    fn lines_of_keys_are_found_in_json_documents() {
        let (docs, _) = parse("{\"a\": 1}\n{\n \"metadata\": {\n  \"name\": 1}}\n");
        assert_eq!(docs[1].text.line_of(&[Seg::Key("metadata"), Seg::Key("name")]), Some(4));
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

    #[test]
    fn splitting_counts_markers_and_content() {
        let chunks = split_documents("---\n---\na\n...\n# x\n");
        assert_eq!(
            chunks,
            [
                Chunk { range: 0..4, first_line: 1, content_line: None },
                Chunk { range: 4..14, first_line: 2, content_line: Some(3) },
            ]
        );
    }
}
