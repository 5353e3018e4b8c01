//! The one shared harness of ptyhub's integration tests.
//!
//! Every test drives the real binary as a black box, as `docs/test-contract.md` describes:
//! [`Daemon::start`] runs `ptyhub serve` on 127.0.0.1 port 0 with its own temporary state
//! directory, config file and fake-CLI ledger; [`Client::connect`] opens a real WebSocket and
//! validates every message it receives against freshell's frozen server-message schema;
//! [`streams`] keeps, per attachRequestId, what a viewer has been sent and checks the seq
//! rules of the protocol as it goes. The fake CLIs live in `tests/fixtures/`.
//!
//! Each integration test binary includes this module with `mod common;`, so not every helper
//! is used by every binary.
#![allow(dead_code, unused_imports)]

pub mod agent_api;
pub mod chromium;
pub mod cli;
pub mod client;
pub mod daemon;
pub mod driven_script;
pub mod fake_freshell;
pub mod http;
pub mod procs;
pub mod prometheus;
pub mod raw_http;
pub mod recordings;
pub mod schema;
pub mod streams;
pub mod upgrade;
pub mod upstream_browser;

use std::time::{Duration, Instant};

pub use client::{create_at_once, Attach, Client, Event, FakeAgent, Handshake};
pub use daemon::{toml_string, Daemon, LedgerEntry};
pub use procs::{live_processes_matching, process_is_alive};
pub use streams::{
    assert_same_output, assert_same_screen, history_lines, screen_model, AttachStream, Frame, Gap,
};

/// The fake coding CLI that claude, codex and opencode are mapped to.
pub const FAKE_AGENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fake-agent");

/// A child that floods its terminal and reports its own write rate.
pub const FLOODER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flooder");

/// A child that ignores SIGHUP and SIGTERM, with a grandchild in its process group that does too.
pub const STUBBORN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stubborn");

/// A child that writes numbered lines forever and keeps a tally of what it has written.
pub const TALLY_WRITER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tally-writer");

/// A child in raw mode that prints, in hex, every byte its terminal's input delivers.
pub const RAW_INPUT_DUMP: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/raw-input-dump");

/// A child in raw mode that asks what coding agents ask at startup (`--on-cue`: after one
/// read of input), then prints in hex what its input delivers.
pub const QUERY_ASKER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/query-asker");

/// The daemon's answers to the query-asker's queries, one per query in order; `row` is
/// where the cursor stood when it asked.
pub fn query_asker_answers(row: u16) -> String {
    use recordings::{version_reply, PRIMARY_ATTRIBUTES_REPLY, THEME_BACKGROUND, THEME_FOREGROUND};
    [
        version_reply(),
        PRIMARY_ATTRIBUTES_REPLY.to_owned(),
        "\x1b[?0u".to_owned(),
        // Alternate scroll is on by default in the model.
        "\x1b[?1007;1$y".to_owned(),
        PRIMARY_ATTRIBUTES_REPLY.to_owned(),
        format!("\x1b[{row};1R"),
        format!("\x1b]10;{THEME_FOREGROUND}\x1b\\"),
        format!("\x1b]11;{THEME_BACKGROUND}\x07"),
        "\x1bP1$r0m\x1b\\".to_owned(),
        // "xterm-256color", in hex.
        "\x1bP1+r544e=787465726D2D323536636F6C6F72\x1b\\".to_owned(),
    ]
    .concat()
}

/// What the fixture reported from the screen's text, whose rows cut long `HEX:` lines.
pub fn answered_hex_on_screen(screen: &str) -> String {
    screen
        .replace('\n', "")
        .split("HEX:")
        .skip(1)
        .flat_map(|rest| rest.chars().take_while(char::is_ascii_hexdigit))
        .collect()
}

/// A child in raw mode that reports every SIGWINCH with the new size, numbered.
pub const WINCH_COUNTER: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/winch-counter");

/// What a fixture that reports its input (`raw-input-dump`, `query-asker`) has read, in
/// hex, from its complete `HEX:` lines in `output`.
pub fn reported_hex(output: &str) -> String {
    output
        .split("HEX:")
        .skip(1)
        .filter_map(|rest| rest.split_once("\r\n").map(|(hex, _)| hex))
        .collect()
}

/// `text`'s bytes in hex, as `reported_hex` gives them.
pub fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Terminal size used by the harness everywhere (config `initial_cols/rows` and attaches), so
/// that a viewer's screen model and the PTY always agree without a resize.
pub const COLS: u16 = 80;
pub const ROWS: u16 = 24;

/// How long a test waits for something the daemon must eventually do. Generous: tests run in
/// parallel on two cores in debug builds. Never used to assert speed.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A new unique id with a readable prefix (`req-…`, `attach-…`).
pub fn fresh_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Polls `condition` every 20 ms until it holds; panics with `what` after `timeout`.
pub async fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes, without failing: the
/// caller's assertions then say what is wrong.
pub async fn settle_until(timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// True when `s` is a canonical UUID (8-4-4-4-12 hex), the shape claude session ids must have.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// Numbers of the lines `line <n>` (the fake agent's flood format) found in terminal output,
/// in the order they appear.
pub fn numbered_lines(output: &str) -> Vec<u64> {
    output
        .split('\n')
        .filter_map(|line| line.trim_end_matches('\r').strip_prefix("line "))
        .filter_map(|n| n.parse().ok())
        .collect()
}
