//! A test hook: with `PTYHUB_TEST_PANIC_MARKER` set, a `terminal.input`
//! whose data contains the marker makes that socket's task panic, and
//! output a child writes containing it makes that session's output path
//! panic — so a test can show that a panic stays where it happened
//! (`tests/faults.rs`). Unset, as everywhere but in tests, nothing happens.

use std::sync::OnceLock;

/// Panics (naming `place`) if `text` contains the marker.
pub fn panic_if_marked(text: &str, place: &str) {
    static MARKER: OnceLock<Option<String>> = OnceLock::new();
    let marker = MARKER.get_or_init(|| {
        std::env::var("PTYHUB_TEST_PANIC_MARKER")
            .ok()
            .filter(|m| !m.is_empty())
    });
    if let Some(marker) = marker {
        if text.contains(marker.as_str()) {
            panic!("injected panic in {place} (PTYHUB_TEST_PANIC_MARKER)");
        }
    }
}
