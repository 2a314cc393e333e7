//! Parsing the documents of a YAML stream, with YAML 1.1 scalars as kubectl reads them.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use serde_saphyr::{Localizer, UserMessageFormatter};

use super::error::{ErrorKind, Format, Location, ManifestError};
use super::locate::DocText;
use super::parse::{RawDocument, StrictJson, normalize_numbers, redact_if_secret};
use super::split::split_documents;
use crate::object::Source;

/// The options every YAML parse uses. See docs/serde-saphyr.md.
pub(super) fn yaml_options() -> serde_saphyr::Options {
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

pub(super) fn parse_yaml(
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
