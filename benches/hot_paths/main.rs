//! Criterion benchmarks of the hot paths between a PTY read and a viewer's socket, each
//! measured on the same generated streams the end-to-end benchmark writes (plain scrolling
//! text and an agent-like TUI, `../e2e/streams.rs`):
//!
//! - `screen`: ingest through `ScreenModel` (alacritty_terminal), beside vt100 and the bare
//!   vte parser both are built on, and the snapshot a resyncing or reattaching viewer gets
//!   (`screen.rs`);
//! - `encoding`: the reader's framing and the freshell `terminal.output` encoding for N
//!   viewers, against serializing per viewer (`encoding.rs`);
//! - `ring`: replay-ring append with eviction, a viewer's poll, and attach planning
//!   (`ring.rs`).
//!
//!     cargo bench --bench hot_paths [-- <filter>]
//!
//! BENCHMARKS.md lists the figures and what they mean for the end-to-end results.

#[path = "../e2e/streams.rs"]
#[allow(dead_code)]
mod streams;

mod encoding;
mod queries;
mod ring;
mod screen;

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ptyhub::session::{Frame, ReplayRing};
use streams::StreamKind;

/// About 1 MiB of a stream (its block, with the TUI's alternate-screen prefix).
pub fn stream_text(kind: StreamKind) -> String {
    let (prefix, block) = streams::block(kind);
    prefix + &String::from_utf8(block).unwrap_or_default()
}

/// The text cut as the PTY reader cuts it: reads of at most 4 KiB (what a Linux PTY hands
/// out), on character boundaries.
pub fn reads(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + 4096).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push(text[start..end].to_owned());
        start = end;
    }
    out
}

/// The text as frames in a ring, as the session core holds it.
pub fn frames(text: &str) -> Vec<Arc<Frame>> {
    let mut ring = ReplayRing::new(u64::MAX / 2);
    reads(text)
        .into_iter()
        .map(|read| ring.push(read))
        .collect()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = hot_paths;
    config = config();
    targets = queries::filter, screen::ingest, screen::snapshot, encoding::framing, encoding::fan_out, ring::append, ring::poll, ring::plan_attach
}
criterion_main!(hot_paths);
