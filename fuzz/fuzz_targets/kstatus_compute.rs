//! kstatus: arbitrary bytes parsed as JSON, then the status of that "object" computed.
//!
//! Checks only that `compute_at` does not panic (its documentation promises it never does, whatever
//! the JSON). A fixed clock keeps runs reproducible.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = kapply::kstatus::compute_at(&value, jiff::Timestamp::UNIX_EPOCH);
    }
});
