//! A small block-style YAML emitter whose output is stable and line-oriented, so that a line diff of two
//! renderings shows exactly the fields that differ.
//!
//! Written by hand rather than with serde-saphyr's serializer to control what matters for diffing:
//! mapping keys sorted (whatever serde_json's map order happens to be), one field per line, sequences
//! of maps as `- key: value`, multi-line strings as literal blocks (one diff line per line of a
//! ConfigMap's embedded file), and strings quoted only when a YAML reader would otherwise read them as
//! something else.

use serde_json::{Map, Value};

/// Characters that give a plain scalar a different meaning when they come first.
const INDICATORS: &[char] =
    &['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`'];

/// Plain scalars that YAML 1.1 or 1.2 readers resolve to null, booleans or merge keys (compared
/// case-insensitively, which quotes a few more spellings than strictly needed).
const RESERVED: &[&str] = &["", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "="];

/// YAML readers give up looking for the `:` of an implicit key after 1024 characters; longer keys use
/// the explicit `? key` form. The margin leaves room for quotes and escapes.
const MAX_IMPLICIT_KEY: usize = 512;

/// Render `value` as a block-style YAML document ending in a newline.
///
/// Mapping keys are sorted, so that two renderings of the same object compare line by line whatever
/// the order the API server returned fields in (serde_json's `preserve_order` feature is not enabled
/// by this crate, but any dependency could enable it). Strings are quoted only when they would
/// otherwise read back as another type or break the syntax; multi-line strings are literal blocks
/// where that is exact, double-quoted with escapes otherwise.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, false, &mut out),
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, false, &mut out),
        scalar => write_scalar(scalar, 2, &mut out),
    }
    out
}

/// Write the entries of a non-empty map at `indent`. With `first_inline` the cursor is already where the
/// first key goes (after a sequence's `- `).
fn write_map(map: &Map<String, Value>, indent: usize, first_inline: bool, out: &mut String) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 || !first_inline {
            push_indent(indent, out);
        }
        write_key(key, indent, out);
        write_entry_value(value, indent, out);
    }
}

fn write_key(key: &str, indent: usize, out: &mut String) {
    let text = if is_plain_safe(key) { key.to_owned() } else { double_quoted(key) };
    if text.len() > MAX_IMPLICIT_KEY {
        out.push_str("? ");
        out.push_str(&text);
        out.push('\n');
        push_indent(indent, out);
    } else {
        out.push_str(&text);
    }
    out.push(':');
}

/// Write what follows `key:`. A nested sequence stays at the key's indentation, like kubectl renders it.
fn write_entry_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, false, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, indent, false, out);
        }
        scalar => {
            out.push(' ');
            write_scalar(scalar, indent + 2, out);
        }
    }
}

/// Write the items of a non-empty sequence at `indent`; nested collections start on the `- ` line.
fn write_seq(items: &[Value], indent: usize, first_inline: bool, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            push_indent(indent, out);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(map, indent + 2, true, out),
            Value::Array(nested) if !nested.is_empty() => write_seq(nested, indent + 2, true, out),
            scalar => write_scalar(scalar, indent + 2, out),
        }
    }
}

/// Write a scalar (or an empty collection) and its newline; a literal block's lines go at `block_indent`.
fn write_scalar(value: &Value, block_indent: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json prints floats with a `.` or an exponent, so they read back as floats, not integers.
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) if is_literal_safe(s) => {
            write_literal(s, block_indent, out);
            return;
        }
        Value::String(s) if is_plain_safe(s) => out.push_str(s),
        Value::String(s) => out.push_str(&double_quoted(s)),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    out.push('\n');
}

/// A literal block (`|`), its chomping indicator keeping exactly the string's trailing newlines.
fn write_literal(s: &str, indent: usize, out: &mut String) {
    let content = s.trim_end_matches('\n');
    let trailing_newlines = s.len() - content.len();
    out.push_str(match trailing_newlines {
        0 => "|-\n",
        1 => "|\n",
        _ => "|+\n",
    });
    for line in content.split('\n') {
        if !line.is_empty() {
            push_indent(indent, out);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing_newlines {
        out.push('\n');
    }
}

fn push_indent(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Characters that can appear as themselves in any scalar style: printable, and neither a line break
/// (YAML 1.1 also breaks lines at NEL, LS and PS) nor a byte-order mark.
fn is_printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Whether `s` reads back as the same string when written without quotes.
fn is_plain_safe(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else {
        return false;
    };
    s.chars().all(is_printable)
        && !first.is_whitespace()
        && !last.is_whitespace()
        && !INDICATORS.contains(&first)
        && !s.starts_with("...")
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !is_reserved_word(s)
        && !looks_numeric(s)
}

fn is_reserved_word(s: &str) -> bool {
    RESERVED.iter().any(|word| s.eq_ignore_ascii_case(word))
}

/// Whether a reader might take `s` for a number or a timestamp: anything Rust parses as a float (which
/// includes `inf` and `nan`), YAML's `.inf`/`.nan`, radix integers (`0x1F`, `0o17`, `0b1`), numerals
/// with underscores or colons (`1_000`, sexagesimal `1:30`), and anything starting like a date
/// (`2024-01-01…`). Over-approximates (`1.2.3` is quoted too, harmlessly) but leaves quantities such as
/// `10m` or `1Gi` alone.
fn looks_numeric(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits_from =
        |rest: &str| rest.strip_prefix('.').unwrap_or(rest).starts_with(|c: char| c.is_ascii_digit());
    let radix = ["0x", "0X", "0o", "0O", "0b", "0B"]
        .iter()
        .find_map(|prefix| unsigned.strip_prefix(prefix))
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_hexdigit() || c == '_'));
    let date = s.len() >= 5 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.as_bytes()[4] == b'-';
    s.parse::<f64>().is_ok()
        || unsigned.eq_ignore_ascii_case(".inf")
        || unsigned.eq_ignore_ascii_case(".nan")
        || radix
        || date
        || (digits_from(unsigned) && unsigned.chars().all(|c| c.is_ascii_digit() || "_:.+-eE".contains(c)))
}

/// Whether `s` can be written as a literal block and read back exactly: it has several lines, nothing
/// needing an escape, no trailing blanks on any line (readers may drop them), and a first line that fixes
/// the block's indentation (non-empty and not indented).
fn is_literal_safe(s: &str) -> bool {
    let first_line = s.split('\n').next().unwrap_or_default();
    s.contains('\n')
        && s.chars().all(|c| c == '\n' || c == '\t' || is_printable(c))
        && !first_line.is_empty()
        && !first_line.starts_with([' ', '\t'])
        && s.split('\n').all(|line| !line.ends_with([' ', '\t']))
}

/// A double-quoted scalar: always exact, used for strings no other style can carry.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if is_printable(c) => out.push(c),
            c if u32::from(c) <= 0xFF => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    fn read_back(yaml: &str) -> Value {
        serde_saphyr::from_str::<Value>(yaml).unwrap_or_else(|e| panic!("unreadable YAML {yaml:?}: {e}"))
    }

    fn assert_round_trips(value: &Value) {
        let yaml = to_yaml(value);
        assert_eq!(&read_back(&yaml), value, "rendered as:\n{yaml}");
    }

    #[test]
    fn an_object_renders_as_sorted_block_yaml() {
        let obj = json!({
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {"name": "app", "labels": {"tier": "web", "app": "app"}},
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [
                    {"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}], "args": []},
                ]}},
                "selector": {}
            }
        });
        let expected = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: app
    tier: web
  name: app
spec:
  replicas: 2
  selector: {}
  template:
    spec:
      containers:
      - args: []
        image: nginx:1.25
        name: c
        ports:
        - containerPort: 80
";
        assert_eq!(to_yaml(&obj), expected);
        assert_round_trips(&obj);
    }

    #[test]
    fn strings_that_would_read_as_other_types_are_quoted() {
        let obj = json!({
            "a": "true", "b": "No", "c": "null", "d": "~", "e": "", "f": "80", "g": "1.5", "h": "0x1F",
            "i": "1e3", "j": ".inf", "k": "-1", "l": "1:30", "m": "2024-01-01", "n": "NaN", "o": "+1",
            "p": "2024-01-01T00:00:00Z", "q": "0b_1",
        });
        let yaml = to_yaml(&obj);
        for line in yaml.lines() {
            assert!(line.split_once(": ").is_some_and(|(_, v)| v.starts_with('"')), "unquoted: {line}");
        }
        assert_round_trips(&obj);
    }

    #[test]
    fn ordinary_strings_stay_unquoted() {
        let obj = json!({"image": "nginx:1.25", "url": "http://x/y#z", "cpu": "10m", "mem": "1Gi",
                         "x": "1x", "d": "3d", "list": "a,b", "quote": "it's", "words": "hello world"});
        let yaml = to_yaml(&obj);
        assert!(!yaml.contains('"'), "{yaml}");
        assert_round_trips(&obj);
    }

    #[test]
    fn strings_with_special_characters_are_quoted() {
        for s in [
            "- x",
            "? x",
            ": x",
            "#x",
            "x #y",
            "x: y",
            "x:",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "'q'",
            "\"q\"",
            "%d",
            "@x",
            "`x`",
            "[x]",
            "{x}",
            ",x",
            " lead",
            "trail ",
            "tab\there",
            "bell\u{7}",
            "...",
            "---",
            "nel\u{85}",
            "bom\u{FEFF}",
            "ls\u{2028}",
            "cr\r",
        ] {
            let yaml = to_yaml(&json!({ "k": s }));
            assert!(yaml.starts_with("k: \""), "{s:?} rendered as {yaml:?}");
            assert_round_trips(&json!({ s: s }));
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        let obj = json!({"config": "a: 1\nb:\n  c: 2\n", "script": "echo hi\n\nexit 0", "kept": "x\n\n\n"});
        let expected = "\
config: |
  a: 1
  b:
    c: 2
kept: |+
  x


script: |-
  echo hi

  exit 0
";
        assert_eq!(to_yaml(&obj), expected);
        assert_round_trips(&obj);
    }

    #[test]
    fn multi_line_strings_a_literal_block_cannot_carry_are_double_quoted() {
        for s in ["\nleading newline", "  indented\nfirst", "trailing space \nx", "cr\r\nlf", "\n"] {
            let obj = json!({ "k": s });
            assert!(to_yaml(&obj).starts_with("k: \""), "{s:?}");
            assert_round_trips(&obj);
        }
    }

    #[test]
    fn literal_blocks_inside_sequences_round_trip() {
        assert_round_trips(&json!([["a\nb"], {"k": "c\nd\n"}, "e\nf"]));
    }

    #[test]
    fn nested_sequences_and_empty_collections_render_compactly() {
        let value = json!({"a": [[1, 2], [], {}, [{"b": null}]], "c": {}});
        let expected = "\
a:
- - 1
  - 2
- []
- {}
- - b: null
c: {}
";
        assert_eq!(to_yaml(&value), expected);
        assert_round_trips(&value);
    }

    #[test]
    fn scalars_and_empty_collections_at_the_root_render_alone() {
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!(null)), "null\n");
        assert_eq!(to_yaml(&json!("x")), "x\n");
        for v in
            [json!(1.0), json!(-7), json!(u64::MAX), json!(i64::MIN), json!(1e300), json!(1e-7), json!(true)]
        {
            assert_round_trips(&v);
        }
        assert_round_trips(&json!("multi\nline\n"));
    }

    #[test]
    fn a_very_long_key_uses_the_explicit_form() {
        let key = "k".repeat(2000);
        let value = json!({ &key: {"x": [1]}, "short": 1 });
        assert!(to_yaml(&value).contains(&format!("? {key}\n:")));
        assert_round_trips(&value);
        assert_round_trips(&json!([{ &key: "v", "a": "b" }]));
    }

    #[test]
    fn rendering_is_the_same_whatever_the_insertion_order() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"d": 2, "c": 3}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": {"c": 3, "d": 2}, "b": 1}"#).unwrap();
        assert_eq!(to_yaml(&a), to_yaml(&b));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_json_value_reads_back_equal(value in arb_json()) {
            let yaml = to_yaml(&value);
            let back = serde_saphyr::from_str::<Value>(&yaml);
            prop_assert!(back.is_ok(), "unreadable YAML {:?}: {:?}", yaml, back);
            prop_assert_eq!(back.unwrap(), value, "rendered as:\n{}", yaml);
        }
    }
}
