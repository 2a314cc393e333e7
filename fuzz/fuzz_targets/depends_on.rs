//! The `config.kubernetes.io/depends-on` annotation: arbitrary bytes (lossy UTF-8) as its value.
//!
//! Checks that `parse_depends_on` does not panic and, when it succeeds, that formatting the references
//! with `format_depends_on` and parsing the result again gives the same references (the round trip
//! the formatter documents: parsed fields never hold `/` or `,`, and kind and name are non-empty).
#![no_main]

use kapply::graph::{format_depends_on, parse_depends_on};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(refs) = parse_depends_on(&text) {
        let formatted = format_depends_on(&refs);
        let reparsed = parse_depends_on(&formatted).unwrap_or_else(|err| {
            panic!("format_depends_on output does not parse: {formatted:?} (from {text:?}): {err}")
        });
        assert_eq!(refs, reparsed, "round trip changed the references: {text:?} -> {formatted:?}");
    }
});
