//! A member's share of standard output: whole lines only, each marked with its cluster, so that the
//! lines of clusters running at once never mix within a line.
//!
//! Every member has its own printer writing into a [`Lines`]; a line goes to stdout when its newline
//! arrives. Text lines begin with `[context] `; JSON lines get `"cluster":"<context>"` as their first
//! key (docs/json-output.md).

use std::io::{self, Write};

/// How a member's lines are marked.
pub struct Lines {
    /// Written after a JSON line's `{`, or before a text line.
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

    /// JSON lines, each with `"cluster":"<context>"` first.
    pub fn json(context: &str) -> Self {
        let field = format!("\"cluster\":{},", serde_json::Value::from(context));
        Lines { mark: field.into_bytes(), json: true, pending: Vec::new() }
    }

    /// `line` (ending with its newline) marked.
    fn marked(&self, line: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(line.len() + self.mark.len());
        match line.split_first() {
            // An empty object has no key to put a comma before; printers write none, but be exact.
            Some((b'{', rest)) if self.json && !rest.starts_with(b"}") => {
                out.push(b'{');
                out.extend_from_slice(&self.mark);
                out.extend_from_slice(rest);
            }
            _ if self.json => out.extend_from_slice(line),
            _ => {
                out.extend_from_slice(&self.mark);
                out.extend_from_slice(line);
            }
        }
        out
    }
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
    fn text_lines_begin_with_the_context_and_json_lines_name_it_first() {
        let text = Lines::text("prod-eu");
        assert_eq!(text.marked(b"ConfigMap/a created\n"), b"[prod-eu] ConfigMap/a created\n");
        let json = Lines::json("prod-\"eu\"");
        let line = json.marked(b"{\"type\":\"apply\"}\n");
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["cluster"], "prod-\"eu\"");
        assert_eq!(value["type"], "apply");
        assert_eq!(json.marked(b"{}\n"), b"{}\n");
    }
}
