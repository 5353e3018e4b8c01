//! `ptyhub attach` on a PTY whose size is not its terminal's (issue 12: "`ptyhub attach` does the
//! equivalent" of the web client's viewer that does not drive the size): in a real terminal (a
//! tmux pane of a chosen size), it draws the session's screen clipped to the pane, never wrapped,
//! with a status line that names both sizes and the key that takes the size; it never resizes
//! the PTY while it only watches; `C-\ s` takes the size, once; typing elsewhere takes it back.
//!
//! The session runs the winch-counter fixture, which numbers every SIGWINCH it gets
//! (`WINCH:<n>:<cols>x<rows>`), so a resize nobody asked for shifts every number after it, and
//! prints a 75-column ruler first, a line a 60-column pane must cut, not wrap.

mod common;

use common::cli::*;
use common::{Attach, Client, Daemon, COLS, ROWS, WINCH_COUNTER};
use serde_json::json;

/// The ruler the fixture prints (`--ruler 75`): `RULER:` then the digits over and over.
const RULER_COLS: usize = 75;
/// `C-\ s`, the take-size key after the default prefix, as tmux's send-keys names it.
const TAKE_SIZE: [&str; 2] = ["C-\\", "s"];

fn ruler() -> String {
    let digits: String = (0..RULER_COLS)
        .map(|i| char::from(b'0' + (i % 10) as u8))
        .collect();
    format!("RULER:{digits}")[..RULER_COLS].to_owned()
}

fn winch_daemon() -> Daemon {
    Daemon::start(&format!(
        "[providers.winch]\ncommand = {}\nargs = [\"--ruler\", \"{RULER_COLS}\"]\n",
        toml::Value::String(WINCH_COUNTER.to_owned())
    ))
}

/// A protocol client that types into the session at its own window size, as a browser tab in
/// another window would.
struct Typist {
    runtime: tokio::runtime::Runtime,
    client: Client,
    terminal_id: String,
    attach_request_id: String,
}

impl Typist {
    /// Starts a winch session and drives its size: alone, its window of `cols`×`rows` is the
    /// PTY's size (the fixture's first WINCH), and it types, so it stays the size's owner.
    fn start(daemon: &Daemon, cols: u16, rows: u16) -> Typist {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (client, terminal_id, attach_request_id) = runtime.block_on(async {
            let (mut client, _) = Client::connect_ready(daemon).await;
            let created = client.create(json!({"mode": "winch"})).await;
            let terminal_id = created["terminalId"].as_str().expect("an id").to_owned();
            // At the session's first size: the child counts resizes once it has started.
            let attach_request_id = client.attach_with(&terminal_id, Attach::default()).await;
            client
                .wait_for_text(&attach_request_id, &format!("SIZE:{COLS}x{ROWS}"))
                .await;
            (client, terminal_id, attach_request_id)
        });
        let mut typist = Typist {
            runtime,
            client,
            terminal_id,
            attach_request_id,
        };
        typist.resizes(cols, rows);
        typist.sees(&format!("WINCH:1:{cols}x{rows}"));
        typist.types("a");
        typist
    }

    fn send(&mut self, mut message: serde_json::Value) {
        message["terminalId"] = json!(self.terminal_id);
        self.runtime.block_on(self.client.send_json(&message));
    }

    fn types(&mut self, data: &str) {
        self.send(json!({"type": "terminal.input", "data": data}));
    }

    fn resizes(&mut self, cols: u16, rows: u16) {
        self.send(json!({"type": "terminal.resize", "cols": cols, "rows": rows}));
    }

    /// Waits until the child has printed `text` (in the typist's copy of the output).
    fn sees(&mut self, text: &str) {
        self.runtime
            .block_on(self.client.wait_for_text(&self.attach_request_id, text));
    }

    /// Every WINCH the child printed so far, after a ping.
    fn winches(&mut self) -> Vec<String> {
        self.runtime.block_on(self.client.ping(b"winches"));
        self.client
            .stream(&self.attach_request_id)
            .data
            .split("\r\n")
            .filter(|line| line.starts_with("WINCH:"))
            .map(str::to_owned)
            .collect()
    }
}

fn status_line(pty: &str, pane: &str) -> String {
    format!("session {pty}, this terminal {pane}")
}

/// The pane's last row, where the status line is drawn.
fn last_row(screen: &str) -> &str {
    screen.trim_end_matches('\n').lines().last().unwrap_or("")
}

#[test]
fn attach_on_a_pty_another_viewer_sizes_draws_it_clipped_and_takes_the_size_on_a_key() {
    let daemon = winch_daemon();
    let mut typist = Typist::start(&daemon, 100, 30);
    let id = typist.terminal_id.clone();

    let pane = Pane::start_sized(60, 20);
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    let watching = status_line("100x30", "60x20");
    let screen = pane.wait_for("the status line", |s| s.contains(&watching));
    let status = last_row(&screen);
    assert!(
        status.contains(&watching) && status.contains("C-\\ s: use this size"),
        "the status line names the take-size key, on the last row:\n{screen}"
    );
    // Cut at the pane's 60 columns, never wrapped onto the next row.
    let ruler = ruler();
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with("RULER:"))
        .unwrap_or_else(|| panic!("no ruler:\n{screen}"));
    assert_eq!(
        lines[at],
        &ruler[..60],
        "the ruler is cut at 60 columns:\n{screen}"
    );
    assert!(
        lines[at + 1].starts_with("SIZE:80x24"),
        "the row after the ruler is the next line of output, not its wrapped tail:\n{screen}"
    );
    assert!(
        !lines.iter().any(|line| line.starts_with(&ruler[60..])),
        "{screen}"
    );

    // Output while watching is drawn too, and a new PTY size is followed.
    typist.resizes(100, 31);
    typist.sees("WINCH:2:100x31");
    pane.wait_for("the second WINCH, under a status line naming 100x31", |s| {
        s.contains("WINCH:2:100x31") && s.contains(&status_line("100x31", "60x20"))
    });

    // The take-size key: the PTY takes the pane's size, once, and the status line goes.
    pane.press(&TAKE_SIZE);
    typist.sees("WINCH:3:60x20");
    let taken = pane.wait_for("the pane's own size, without a status line", |s| {
        s.contains("WINCH:3:60x20") && !s.contains("this terminal")
    });
    assert!(!taken.contains("use this size"), "{taken}");

    // Typing in the other viewer takes the size back, and the status line returns.
    typist.types("b");
    typist.sees("WINCH:4:100x31");
    pane.wait_for("the status line again", |s| {
        s.contains("WINCH:4:100x31") && s.contains(&status_line("100x31", "60x20"))
    });
    assert_eq!(
        typist.winches(),
        [
            "WINCH:1:100x30",
            "WINCH:2:100x31",
            "WINCH:3:60x20",
            "WINCH:4:100x31"
        ],
        "the watching pane resized the PTY"
    );

    // Detaching while clipped takes the status line away with it.
    pane.press(&["C-\\", "d"]);
    let left = pane.wait_for_text(&detached_line(&id));
    assert!(!left.contains("this terminal"), "{left}");
    pane.assert_outer_shell_is_sane();
}

#[test]
fn a_read_only_attach_follows_its_window_without_resizing_the_pty_and_draws_raw_at_its_size() {
    let daemon = winch_daemon();
    let mut typist = Typist::start(&daemon, 100, 30);
    let id = typist.terminal_id.clone();

    let pane = Pane::start_sized(60, 20);
    pane.run_ptyhub(&daemon, &format!("attach {id} --read-only"));
    let screen = pane.wait_for("the status line", |s| {
        s.contains(&status_line("100x30", "60x20"))
    });
    let status = last_row(&screen);
    assert!(
        status.contains("read-only") && !status.contains("use this size"),
        "a read-only attach offers no key:\n{screen}"
    );
    // The take-size key does nothing here.
    pane.press(&TAKE_SIZE);

    // A window that changes size is drawn again at its new size, and the PTY keeps its own.
    pane.resize(70, 25);
    let resized = pane.wait_for("the status line at the new size", |s| {
        s.contains(&status_line("100x30", "70x25"))
    });
    let ruler = ruler();
    assert!(
        resized.lines().any(|line| line == &ruler[..70]),
        "the ruler cut at 70 columns:\n{resized}"
    );

    // At the PTY's size, the output passes raw again: no status line, the whole ruler.
    pane.resize(100, 30);
    let raw = pane.wait_for("no status line at the PTY's size", |s| {
        !s.contains("this terminal") && s.contains("WINCH:1:100x30")
    });
    assert!(raw.lines().any(|line| line == ruler), "{raw}");

    // Nothing the pane did resized the PTY: the next resize is the child's second.
    typist.resizes(100, 32);
    typist.sees("WINCH:2:100x32");
    pane.wait_for("the status line, the PTY being taller than the pane", |s| {
        s.contains(&status_line("100x32", "100x30")) && s.contains("WINCH:2:100x32")
    });
    assert_eq!(typist.winches(), ["WINCH:1:100x30", "WINCH:2:100x32"]);

    pane.press(&["C-\\", "d"]);
    pane.wait_for_text(&detached_line(&id));
    pane.assert_outer_shell_is_sane();
}
