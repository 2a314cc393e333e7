//! Manifest parsing and validation: arbitrary bytes (lossy UTF-8) as a manifest file.
//!
//! Checks only that neither `parse_str` nor `validate` panics; errors are expected and fine.
#![no_main]

use std::path::Path;

use kapply::manifest::{self, BuiltinScopes, LoadOptions, UnknownKinds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(docs) = manifest::parse_str(Path::new("fuzz.yaml"), &text) {
        let opts = LoadOptions {
            default_namespace: Some("default".into()),
            unknown_kinds: UnknownKinds::AssumeNamespaced,
            ..Default::default()
        };
        let _ = manifest::validate(docs, &opts, &BuiltinScopes);
    }
});
