//! The real coding CLIs' startups, recorded (`tests/fixtures/recordings/`), replayed under
//! the daemon by the `replay-agent` fixture, and what the daemon owes each one: exactly one
//! answer per terminal query, with the content a terminal at that point of the stream gives.
//!
//! The fixture logs every byte its terminal's input delivers to a file of its own
//! ([`ReplayMode::heard`]); [`Heard`] sorts that into the terminal's replies, focus reports
//! and keys, so that a test can say "these answers, once each, and the keys the viewers
//! typed, nothing else" whichever viewers were attached.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{screen_model, wait_until, PATIENCE};

/// Replays a recording, logs its input (`tests/fixtures/replay-agent` says how).
pub const REPLAY_AGENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/replay-agent");

const RECORDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/recordings");

/// The terminal size the CLIs were recorded at. A session that replays one has it (and keeps
/// it: `size_policy = "manual"`), so that the output wraps, and the cursor lands, where it did.
pub const RECORDED_COLS: u16 = 120;
pub const RECORDED_ROWS: u16 = 40;

/// ptyhub's answer to DA1 (`CSI c`): xterm.js's.
pub const PRIMARY_ATTRIBUTES_REPLY: &str = "\x1b[?1;2c";

/// The web client's theme, the colours the daemon reports by default (OSC 10, OSC 11), in the
/// 16-bit form of the answer.
pub const THEME_FOREGROUND: &str = "rgb:d7d7/dcdc/e2e2";
pub const THEME_BACKGROUND: &str = "rgb:1010/1313/1818";

/// ptyhub's answer to XTVERSION (`CSI > 0 q`).
pub fn version_reply() -> String {
    format!("\x1bP>|ptyhub {}\x1b\\", env!("CARGO_PKG_VERSION"))
}

/// One recording of a CLI's startup.
pub struct Recording {
    /// The file name without extension.
    pub name: &'static str,
    /// Its terminal queries, in order, as they stand in the output.
    pub queries: &'static [&'static str],
    /// The daemon's answer to each query, in order.
    answers: fn() -> Vec<String>,
}

/// codex's answers, the same in both recordings: it asks the same questions at the same point.
fn codex_answers() -> Vec<String> {
    vec![
        // The kitty keyboard flags: the 7 it pushed (`CSI > 7 u`) just before asking.
        "\x1b[?7u".into(),
        // Alternate scroll: on, as the daemon's model starts (codex turns it off only later).
        "\x1b[?1007;1$y".into(),
        PRIMARY_ATTRIBUTES_REPLY.into(),
        // The cursor: row 3, column 1 — its warning wrapped onto a second row of 120 columns,
        // then a new line. (`recording_cursor` checks it with another emulator.)
        "\x1b[3;1R".into(),
        // The colours, ended as they were asked (ST).
        format!("\x1b]10;{THEME_FOREGROUND}\x1b\\"),
        format!("\x1b]11;{THEME_BACKGROUND}\x1b\\"),
    ]
}

const CODEX_QUERIES: [&str; 6] = [
    "\x1b[?u",
    "\x1b[?1007$p",
    "\x1b[c",
    "\x1b[6n",
    "\x1b]10;?\x1b\\",
    "\x1b]11;?\x1b\\",
];

/// codex 0.171.0, nobody answering: it waited out its timeouts, then drew its sign-in screen.
pub const CODEX_UNANSWERED: Recording = Recording {
    name: "codex-0.171.0-unanswered",
    queries: &CODEX_QUERIES,
    answers: codex_answers,
};

/// codex 0.171.0, answered as ptyhub would: it drew at once.
pub const CODEX_ANSWERED: Recording = Recording {
    name: "codex-0.171.0-answered",
    queries: &CODEX_QUERIES,
    answers: codex_answers,
};

/// claude-code 2.1.197, nobody answering: its banner, two queries, a connection error.
pub const CLAUDE_UNANSWERED: Recording = Recording {
    name: "claude-code-2.1.197-unanswered",
    queries: &["\x1b[>0q", "\x1b[c"],
    answers: || vec![version_reply(), PRIMARY_ATTRIBUTES_REPLY.into()],
};

/// claude-code 2.1.197, answered: once answered it also asks about synchronized output (and
/// DA1 again, the usual way to learn that an unanswered question will stay unanswered).
pub const CLAUDE_ANSWERED: Recording = Recording {
    name: "claude-code-2.1.197-answered",
    queries: &["\x1b[>0q", "\x1b[c", "\x1b[?2026$p", "\x1b[c"],
    answers: || {
        vec![
            version_reply(),
            PRIMARY_ATTRIBUTES_REPLY.into(),
            // Synchronized output: recognized, and off (claude had not turned it on yet).
            "\x1b[?2026;2$y".into(),
            PRIMARY_ATTRIBUTES_REPLY.into(),
        ]
    },
};

pub const ALL_RECORDINGS: [&Recording; 4] = [
    &CODEX_UNANSWERED,
    &CODEX_ANSWERED,
    &CLAUDE_UNANSWERED,
    &CLAUDE_ANSWERED,
];

impl Recording {
    /// The recording's path without extension, as `replay-agent` takes it.
    pub fn path(&self) -> PathBuf {
        Path::new(RECORDINGS).join(self.name)
    }

    /// One of its files (`Path::with_extension` would cut its name at the version's dots).
    fn file(&self, extension: &str) -> PathBuf {
        Path::new(RECORDINGS).join(format!("{}.{extension}", self.name))
    }

    /// The bytes the CLI wrote.
    pub fn output(&self) -> Vec<u8> {
        std::fs::read(self.file("out"))
            .unwrap_or_else(|e| panic!("read the recording {}: {e}", self.name))
    }

    /// The answers its responder gave while it was recorded, if it was answered.
    pub fn recorded_answers(&self) -> Option<Vec<u8>> {
        std::fs::read(self.file("in")).ok()
    }

    /// The daemon's answers, in order, each once.
    pub fn answers(&self) -> Vec<String> {
        (self.answers)()
    }

    /// Panics if `output`, what a viewer was sent, holds one of the recording's queries.
    pub fn assert_no_query_in(&self, output: &str, who: &str) {
        for query in self.queries {
            assert!(
                !output.contains(query),
                "{who} was sent {}'s query {query:?}",
                self.name
            );
        }
    }
}

/// How `replay-agent` replays a recording.
#[derive(Clone, Copy)]
pub struct Replay {
    pub recording: &'static Recording,
    /// Waits for one read of input (the cue) before it starts.
    pub on_cue: bool,
    /// One write per recorded read, waiting for an answer where the CLI was answered.
    pub chunks: bool,
    /// Times it is replayed, each after a full reset.
    pub repeat: u32,
}

impl Replay {
    /// The recording written whole, at once, when the session starts.
    pub fn whole(recording: &'static Recording) -> Replay {
        Replay {
            recording,
            on_cue: false,
            chunks: false,
            repeat: 1,
        }
    }

    /// The recording in its recorded reads, waiting for its answers, once cued.
    pub fn chunked_on_cue(recording: &'static Recording) -> Replay {
        Replay {
            on_cue: true,
            chunks: true,
            ..Replay::whole(recording)
        }
    }

    /// The answers the daemon owes this replay, in order.
    pub fn answers(&self) -> Vec<String> {
        let once = self.recording.answers();
        (0..self.repeat).flat_map(|_| once.clone()).collect()
    }
}

/// A provider mode that replays a recording and logs its input to a file of its own. One
/// session per mode: a second one would log to the same file.
pub struct ReplayMode {
    pub mode: String,
    pub replay: Replay,
    pub input_log: PathBuf,
}

impl ReplayMode {
    /// Mode `mode`, logging into `log_dir`.
    pub fn new(mode: &str, replay: Replay, log_dir: &Path) -> ReplayMode {
        ReplayMode {
            mode: mode.to_owned(),
            replay,
            input_log: log_dir.join(format!("{mode}.input")),
        }
    }

    /// The provider's table in the daemon's config.
    pub fn config(&self) -> String {
        let mut args = vec![
            self.replay.recording.path().to_string_lossy().into_owned(),
            "--input-log".to_owned(),
            self.input_log.to_string_lossy().into_owned(),
        ];
        if self.replay.on_cue {
            args.push("--on-cue".into());
        }
        if self.replay.chunks {
            args.push("--chunks".into());
        }
        if self.replay.repeat != 1 {
            args.extend(["--repeat".into(), self.replay.repeat.to_string()]);
        }
        let args: Vec<toml::Value> = args.into_iter().map(toml::Value::String).collect();
        format!(
            "[providers.{}]\ncommand = {}\nargs = {}\n",
            self.mode,
            toml::Value::String(REPLAY_AGENT.to_owned()),
            toml::Value::Array(args)
        )
    }

    /// Whether the fixture is reading its input (it creates the log once its terminal is raw).
    pub fn is_reading(&self) -> bool {
        self.input_log.exists()
    }

    /// What the fixture has heard so far.
    pub fn heard(&self) -> Heard {
        Heard::from_bytes(&std::fs::read(&self.input_log).unwrap_or_default())
    }

    /// Waits until the fixture reads its input.
    pub async fn wait_until_reading(&self) {
        wait_until(&format!("{} reads its input", self.mode), PATIENCE, || {
            self.is_reading()
        })
        .await;
    }

    /// Waits until what it heard passes `condition`; returns it.
    pub async fn wait_until_heard(&self, what: &str, condition: impl Fn(&Heard) -> bool) -> Heard {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(heard) = self.heard_by(what, &condition, deadline) {
                return heard;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// [`ReplayMode::wait_until_heard`] for tests without a runtime.
    pub fn poll_until_heard(&self, what: &str, condition: impl Fn(&Heard) -> bool) -> Heard {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(heard) = self.heard_by(what, &condition, deadline) {
                return heard;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What it heard, if that passes `condition`; fails the test past `deadline`.
    fn heard_by(
        &self,
        what: &str,
        condition: &impl Fn(&Heard) -> bool,
        deadline: Instant,
    ) -> Option<Heard> {
        let heard = self.heard();
        if condition(&heard) {
            return Some(heard);
        }
        assert!(
            Instant::now() < deadline,
            "{} never heard {what}; it heard {heard:?}",
            self.mode
        );
        None
    }

    /// Panics unless the fixture heard exactly the daemon's answers, each once, and `keys`.
    pub fn assert_heard_once(&self, keys: &str, context: &str) {
        let heard = self.heard();
        let expected = self.replay.answers();
        assert_eq!(
            heard.replies, expected,
            "{}: the child did not hear exactly one answer per query, in order ({context})",
            self.mode
        );
        assert_eq!(
            heard.keys, keys,
            "{}: the child heard other keys than the viewers typed ({context})",
            self.mode
        );
        heard.assert_focus_is_one_signal(context);
    }
}

/// A child's input, sorted: every escape sequence is a terminal's reply, but for focus
/// reports; the rest is keys (the tests type no escape sequences).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Heard {
    pub replies: Vec<String>,
    /// `CSI I` and `CSI O`, in order.
    pub focus_reports: Vec<String>,
    pub keys: String,
}

impl Heard {
    pub fn from_bytes(input: &[u8]) -> Heard {
        let text = String::from_utf8_lossy(input);
        let mut heard = Heard::default();
        let mut rest: &str = &text;
        while let Some(start) = rest.find('\x1b') {
            heard.keys.push_str(&rest[..start]);
            let len = escape_sequence_len(&rest[start..]);
            let sequence = &rest[start..start + len];
            if matches!(sequence, "\x1b[I" | "\x1b[O") {
                heard.focus_reports.push(sequence.to_owned());
            } else {
                heard.replies.push(sequence.to_owned());
            }
            rest = &rest[start + len..];
        }
        heard.keys.push_str(rest);
        heard
    }

    /// Focus reaches the child as one signal: in and out alternate, starting with in.
    pub fn assert_focus_is_one_signal(&self, context: &str) {
        for (index, report) in self.focus_reports.iter().enumerate() {
            let expected = if index % 2 == 0 { "\x1b[I" } else { "\x1b[O" };
            assert_eq!(
                report, expected,
                "focus reports out of turn ({context}): {:?}",
                self.focus_reports
            );
        }
    }
}

/// The length of the escape sequence `text` starts with (CSI, OSC or DCS; else ESC and one
/// character), or of all of `text` if it ends inside one.
fn escape_sequence_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let end = match bytes.get(1) {
        Some(b'[') => bytes[2..]
            .iter()
            .position(|b| (0x40..=0x7e).contains(b))
            .map(|at| 2 + at + 1),
        Some(b']') | Some(b'P') => {
            let body = &text[2..];
            match (body.find('\x07'), body.find("\x1b\\")) {
                (Some(bell), Some(st)) if bell < st => Some(2 + bell + 1),
                (_, Some(st)) => Some(2 + st + 2),
                (Some(bell), None) => Some(2 + bell + 1),
                (None, None) => None,
            }
        }
        Some(_) => text[1..].chars().next().map(|c| 1 + c.len_utf8()),
        None => None,
    };
    end.unwrap_or(text.len())
}

/// The cursor (row, column, from 1) after `bytes`, as vt100 — an emulator independent of the
/// daemon's — places it on a screen of the recorded size.
pub fn recording_cursor(bytes: &[u8]) -> (u16, u16) {
    let mut screen = screen_model(RECORDED_ROWS, RECORDED_COLS);
    screen.process(bytes);
    let (row, column) = screen.screen().cursor_position();
    (row + 1, column + 1)
}

/// The daemon config for sessions that replay recordings: the recorded size, never resized;
/// `sessions` is more of the `[sessions]` table.
pub fn replay_config(sessions: &str, modes: &[&ReplayMode]) -> String {
    let mut config = format!(
        "[sessions]\ninitial_cols = {RECORDED_COLS}\ninitial_rows = {RECORDED_ROWS}\nsize_policy = \"manual\"\n{sessions}\n"
    );
    for mode in modes {
        config.push_str(&mode.config());
        config.push('\n');
    }
    config
}
