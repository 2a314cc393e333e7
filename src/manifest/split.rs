//! Splitting a YAML stream into its documents, on `---` and `...` lines.
//!
//! Each document is then parsed on its own: a syntax error in one document does not hide the problems
//! of the others, and document numbers count every document the user wrote, the empty ones too.

use std::ops::Range;

/// A document of a YAML stream: its byte range, first line, and first content line.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Chunk {
    pub(super) range: Range<usize>,
    pub(super) first_line: usize,
    pub(super) content_line: Option<usize>,
}

/// A marker line: `---` or `...` at column 0, alone or followed by a space or tab.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Old Mac line endings, a CR alone, made LF: YAML reads a lone CR as a line break, and the document
/// splitter must too, or a `---` of such a file would not start a document. CRLF stays as it is.
pub(super) fn lone_cr_to_lf(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone) {
        return std::borrow::Cow::Borrowed(text);
    }
    let fixed: Vec<u8> = (0..bytes.len()).map(|i| if lone(i) { b'\n' } else { bytes[i] }).collect();
    // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(fixed).expect("ASCII for ASCII keeps UTF-8 valid"))
}

/// Splits a YAML stream into documents, as the YAML spec does: a `---` line starts a document, a `...`
/// line ends one, and text before the first `---` is a document only if it has content (not just
/// comments and directives). A `---` or `...` at column 0 cannot be inside a scalar (YAML forbids it),
/// so line-level splitting agrees with the parser.
pub(super) fn split_documents(text: &str) -> Vec<Chunk> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
