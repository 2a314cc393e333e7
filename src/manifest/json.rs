//! Parsing JSON text: one object, or several concatenated, each a document.

use std::path::Path;
use std::sync::Arc;

use super::error::{ErrorKind, Format, Location, ManifestError};
use super::locate::DocText;
use super::parse::{RawDocument, StrictJson, normalize_numbers, redact_if_secret};
use crate::object::Source;

pub(super) fn parse_json(
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
