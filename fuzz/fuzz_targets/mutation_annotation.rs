//! The `config.kubernetes.io/apply-time-mutation` annotation: arbitrary bytes (lossy UTF-8) as its value.
//!
//! Checks only that `parse_annotation` (YAML parsing, entry validation, JSONPath compilation) does not
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = kapply::mutation::parse_annotation(&text);
});
