//! A member's share of standard output: whole lines only, each marked with its cluster, so that the
//! lines of clusters running at once never mix within a line.
//!
//! Every member has its own printer writing into a [`Lines`]; a line goes to stdout when its newline
//! arrives. Text lines begin with `[context] `; JSON lines get `"cluster":"<context>"` right after
//! `timestamp` and `type` (docs/json-output.md).

use std::io::{self, Write};

/// How a member's lines are marked.
pub struct Lines {
    /// Written after a JSON line's `type`, or before a text line.
    mark: Vec<u8>,
    json: bool,
    /// The current line, until its newline.
    pending: Vec<u8>,
}

impl Lines {
    /// Text lines, each beginning with `[context] `.
    pub fn text(context: &str) -> Self {
        Lines { mark: format!("[{context}] ").into_bytes(), json: false, pending: Vec::new() }
    }

    /// JSON lines, each with `"cluster":"<context>"` right after `timestamp` and `type`.
    pub fn json(context: &str) -> Self {
        let field = format!(",\"cluster\":{}", serde_json::Value::from(context));
        Lines { mark: field.into_bytes(), json: true, pending: Vec::new() }
    }

    /// `line` (ending with its newline) marked.
    fn marked(&self, line: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(line.len() + self.mark.len());
        if !self.json {
            out.extend_from_slice(&self.mark);
            out.extend_from_slice(line);
            return out;
        }
        match after_type(line) {
            Some(at) => {
                out.extend_from_slice(&line[..at]);
                out.extend_from_slice(&self.mark);
                out.extend_from_slice(&line[at..]);
            }
            // Not a printer's line (every one has a `type`): left as it is rather than broken.
            None => out.extend_from_slice(line),
        }
        out
    }
}

/// Where the value of a JSON line's `"type"` ends: printers write `{"timestamp":"…","type":"…"` first,
/// and a type is a plain word (no quote, no escape) — see docs/json-output.md.
fn after_type(line: &[u8]) -> Option<usize> {
    const KEY: &[u8] = b"\"type\":\"";
    let start = line.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let end = line[start..].iter().position(|&b| b == b'"')?;
    Some(start + end + 1)
}

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            io::stdout().lock().write_all(&self.marked(&line))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_begin_with_the_context_and_json_lines_name_it_after_their_type() {
        let text = Lines::text("prod-eu");
        assert_eq!(text.marked(b"ConfigMap/a created\n"), b"[prod-eu] ConfigMap/a created\n");
        let json = Lines::json("prod-\"eu\"");
        let line = json.marked(b"{\"timestamp\":\"t\",\"type\":\"apply\",\"name\":\"x\"}\n");
        assert_eq!(
            String::from_utf8(line.clone()).unwrap(),
            "{\"timestamp\":\"t\",\"type\":\"apply\",\"cluster\":\"prod-\\\"eu\\\"\",\"name\":\"x\"}\n"
        );
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["cluster"], "prod-\"eu\"");
        assert_eq!(json.marked(b"{}\n"), b"{}\n");
    }
}

#[cfg(test)]
mod doc_tests {
    /// The examples of docs/json-output.md's Fleets section (```` ```json fleet ```` blocks): JSON
    /// lines whose first keys are `timestamp` and `type`, then `cluster` except on `fleetSummary`.
    #[test]
    fn the_fleet_examples_of_the_json_docs_have_the_fleet_shape() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-output.md")).unwrap();
        let mut in_block = false;
        let mut types = Vec::new();
        for line in doc.lines() {
            match line {
                "```json fleet" => in_block = true,
                "```" => in_block = false,
                example if in_block => {
                    let value: serde_json::Value = serde_json::from_str(example).unwrap();
                    let type_ = value["type"].as_str().unwrap().to_owned();
                    let prefix = format!("{{\"timestamp\":{},\"type\":\"{type_}\"", value["timestamp"]);
                    assert!(example.starts_with(&prefix), "{example}");
                    let after = &example[prefix.len()..];
                    assert_eq!(after.starts_with(",\"cluster\":"), type_ != "fleetSummary", "{example}");
                    types.push(type_);
                }
                _ => {}
            }
        }
        assert_eq!(types, ["apply", "notStarted", "fleetSummary"]);
    }
}
