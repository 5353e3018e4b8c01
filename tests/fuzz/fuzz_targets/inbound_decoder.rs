//! The inbound freshell decoder on arbitrary bytes (as text, lossily): no
//! panic, and every invariant of `decoder_invariants` (shared with the
//! property suite) holds before and after hello.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../properties/decoder_invariants.rs"]
mod decoder_invariants;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let violations = decoder_invariants::decoder_violations(&text);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
});
