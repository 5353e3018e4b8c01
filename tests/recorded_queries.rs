//! The real CLIs' startup queries, replayed from their recordings (`tests/fixtures/recordings/`,
//! `common/recordings.rs`), hear exactly one answer each — the daemon's, with the content a
//! terminal gives at that point of the stream — however many viewers watch and however they
//! come and go (issue 12): none; one, three or a hundred protocol clients; viewers that reload,
//! reconnect resuming with `sinceSeq`, are repainted for want of budget, or fall behind and are
//! resynced; and xterm.js terminals (`@xterm/headless`, over real WebSockets) that forward
//! everything they emit as input, as freshell's frontend does, so that a query that reached one
//! would be answered twice. Last, the colours codex is told once a viewer reported its theme.
//! The browser's and `ptyhub attach`'s turns are in `tests/web_client.rs` and
//! `tests/attach_cli.rs`.

mod common;

use common::driven_script::DrivenScript;
use common::recordings::*;
use common::*;
use serde_json::{json, Value};

/// What a viewer of a replayed recording attaches with: the recorded size.
fn recorded_size() -> Attach {
    Attach {
        cols: RECORDED_COLS,
        rows: RECORDED_ROWS,
        ..Attach::default()
    }
}

/// Text each recording shows once replayed whole.
fn last_words(recording: &Recording) -> &'static str {
    if recording.name.starts_with("codex") {
        "Sign in with ChatGPT"
    } else {
        "ENOTFOUND"
    }
}

/// `text` with the version XTVERSION's answer names taken out.
fn without_version(text: &str) -> String {
    match text.split_once("ptyhub ") {
        Some((before, after)) => {
            let rest = after.find('\x1b').map_or("", |end| &after[end..]);
            format!("{before}ptyhub{}", without_version(rest))
        }
        None => text.to_owned(),
    }
}

async fn create(client: &mut Client, mode: &ReplayMode) -> String {
    let created = client.create(json!({"mode": mode.mode})).await;
    created["terminalId"].as_str().unwrap().to_owned()
}

async fn send_input(client: &mut Client, terminal_id: &str, data: &str) {
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": data}))
        .await;
}

/// The answers this file expects are the ones the recordings were answered with (by a responder
/// written apart from the daemon), and the cursor report names where another emulator puts the
/// cursor at the query.
#[test]
fn the_expected_answers_are_the_recorded_ones_and_the_cursor_stands_where_vt100_puts_it() {
    for recording in [&CODEX_ANSWERED, &CLAUDE_ANSWERED] {
        let recorded = recording.recorded_answers().expect("an answered recording");
        assert_eq!(
            without_version(&String::from_utf8_lossy(&recorded)),
            without_version(&recording.answers().concat()),
            "{}",
            recording.name
        );
    }
    for recording in [&CODEX_ANSWERED, &CODEX_UNANSWERED] {
        let output = recording.output();
        let asked_at = output
            .windows(4)
            .position(|w| w == b"\x1b[6n")
            .expect("codex asks for the cursor");
        let (row, column) = recording_cursor(&output[..asked_at]);
        assert!(
            recording
                .answers()
                .contains(&format!("\x1b[{row};{column}R")),
            "{}: vt100 puts the cursor at {row};{column}",
            recording.name
        );
    }
}

/// No viewer at all: the daemon answers every query of every recording once, whether the
/// recording comes in one write or read by read, waiting for its answers as the CLI did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_query_is_answered_once_with_no_viewer() {
    let logs = tempfile::tempdir().unwrap();
    let modes: Vec<ReplayMode> = ALL_RECORDINGS
        .iter()
        .enumerate()
        .flat_map(|(index, recording)| {
            [
                ReplayMode::new(
                    &format!("whole-{index}"),
                    Replay::whole(recording),
                    logs.path(),
                ),
                ReplayMode::new(
                    &format!("chunks-{index}"),
                    Replay {
                        chunks: true,
                        ..Replay::whole(recording)
                    },
                    logs.path(),
                ),
            ]
        })
        .collect();
    let daemon = Daemon::start(&replay_config("", &modes.iter().collect::<Vec<_>>()));
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let mut terminals = Vec::new();
    for mode in &modes {
        terminals.push(create(&mut client, mode).await);
    }
    for (mode, terminal_id) in modes.iter().zip(&terminals) {
        let answers = mode.replay.answers();
        mode.wait_until_heard("its answers", |heard| heard.replies.len() >= answers.len())
            .await;
        // A keystroke after the answers: anything else sent to the child comes before it.
        send_input(&mut client, terminal_id, "z").await;
        mode.wait_until_heard("the keystroke", |heard| heard.keys.ends_with('z'))
            .await;
        mode.assert_heard_once("z", mode.replay.recording.name);
    }
}

/// Sessions to watch with 1, 3 and 100 viewers: claude answered, codex answered and codex
/// unanswered, each replayed read by read once cued.
fn one_three_and_a_hundred(logs: &std::path::Path) -> [(usize, ReplayMode); 3] {
    [
        (
            1,
            ReplayMode::new("one", Replay::chunked_on_cue(&CLAUDE_ANSWERED), logs),
        ),
        (
            3,
            ReplayMode::new("three", Replay::chunked_on_cue(&CODEX_ANSWERED), logs),
        ),
        (
            100,
            ReplayMode::new("hundred", Replay::chunked_on_cue(&CODEX_UNANSWERED), logs),
        ),
    ]
}

/// A daemon with room for every viewer of `cases` on sockets of their own.
fn daemon_for_counts(cases: &[(usize, ReplayMode)]) -> Daemon {
    let modes: Vec<&ReplayMode> = cases.iter().map(|(_, mode)| mode).collect();
    Daemon::start(&format!(
        "[server]\nmax_connections = 128\n\n{}",
        replay_config("", &modes)
    ))
}

/// One, three and a hundred viewers attached before the CLI starts asking: none of them is
/// sent a query, all show the same screen, and the child hears one answer per query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_three_and_a_hundred_viewers_change_nothing_the_child_hears() {
    let logs = tempfile::tempdir().unwrap();
    let cases = one_three_and_a_hundred(logs.path());
    let daemon = daemon_for_counts(&cases);
    for (count, mode) in &cases {
        let recording = mode.replay.recording;
        let mut viewers = Vec::new();
        let (mut first, _) = Client::connect_ready(&daemon).await;
        let terminal_id = create(&mut first, mode).await;
        let attach = first.attach_with(&terminal_id, recorded_size()).await;
        viewers.push((first, attach));
        for _ in 1..*count {
            let (mut viewer, _) = Client::connect_ready(&daemon).await;
            let attach = viewer.attach_with(&terminal_id, recorded_size()).await;
            viewers.push((viewer, attach));
        }
        mode.wait_until_reading().await;

        let (first, first_attach) = &mut viewers[0];
        send_input(first, &terminal_id, "g").await;
        first
            .wait_for_text(first_attach, last_words(recording))
            .await;
        send_input(first, &terminal_id, "z").await;
        mode.wait_until_heard("the keystroke", |heard| heard.keys.ends_with('z'))
            .await;
        let who = format!("{count} viewers");
        mode.assert_heard_once("gz", &who);

        let expected = viewers[0]
            .0
            .stream(&viewers[0].1)
            .screen(RECORDED_ROWS, RECORDED_COLS);
        for (index, (viewer, attach)) in viewers.iter_mut().enumerate() {
            viewer.wait_for_text(attach, last_words(recording)).await;
            let output = &viewer.stream(attach).data;
            recording.assert_no_query_in(output, &format!("viewer {} of {who}", index + 1));
            assert_same_screen(
                &expected,
                &viewer.stream(attach).screen(RECORDED_ROWS, RECORDED_COLS),
                &format!("viewer {} of {who} against the first", index + 1),
            );
        }
    }
}

/// Every way a viewer comes back after the CLI asked — a page reload (a fresh attach), a
/// reconnect resuming with `sinceSeq` from before the queries, one resuming from after them, an
/// attach repainted for want of replay budget — neither shows it a query nor makes anything
/// reach the child again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_reconnects_resumes_and_repaints_never_bring_a_query_back() {
    let logs = tempfile::tempdir().unwrap();
    let mode = ReplayMode::new(
        "codex",
        Replay::chunked_on_cue(&CODEX_ANSWERED),
        logs.path(),
    );
    let recording = mode.replay.recording;
    let daemon = Daemon::start(&replay_config("", &[&mode]));
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let terminal_id = create(&mut typist, &mode).await;
    let typed = typist.attach_with(&terminal_id, recorded_size()).await;
    mode.wait_until_reading().await;
    let seq_before_the_queries = typist.stream(&typed).last_seq();
    send_input(&mut typist, &terminal_id, "g").await;
    typist.wait_for_text(&typed, last_words(recording)).await;
    let seq_after_the_queries = typist.stream(&typed).last_seq();
    typist.close().await;

    let comebacks = [
        ("a page reload", recorded_size()),
        (
            "a reconnect resuming from before the queries",
            Attach {
                intent: "transport_reconnect",
                since_seq: seq_before_the_queries,
                ..recorded_size()
            },
        ),
        (
            "a reconnect resuming from after them",
            Attach {
                intent: "transport_reconnect",
                since_seq: seq_after_the_queries,
                ..recorded_size()
            },
        ),
        (
            "an attach repainted for want of budget",
            Attach {
                max_replay_bytes: Some(16),
                ..recorded_size()
            },
        ),
    ];
    for (who, attach) in comebacks {
        let (mut viewer, _) = Client::connect_ready(&daemon).await;
        let attach = viewer.attach_with(&terminal_id, attach).await;
        let head = viewer.stream(&attach).ready["headSeq"].as_u64().unwrap();
        viewer.wait_for_seq(&attach, head).await;
        recording.assert_no_query_in(&viewer.stream(&attach).data, who);
        viewer.close().await;
    }

    let (mut last, _) = Client::connect_ready(&daemon).await;
    send_input(&mut last, &terminal_id, "z").await;
    mode.wait_until_heard("the keystroke", |heard| heard.keys.ends_with('z'))
        .await;
    mode.assert_heard_once("gz", "after reloads, reconnects and a repaint");
}

/// A viewer that stops reading while the CLI asks, again and again, falls behind and is
/// resynced: it is told what it lost and repainted, never sent a query, and the child hears
/// each answer once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resynced_viewer_is_never_sent_a_query_and_the_child_hears_each_answer_once() {
    /// About 1 MB of output: far more than the stalled viewer's queue and socket buffers.
    const REPLAYS: u32 = 500;
    let logs = tempfile::tempdir().unwrap();
    let mode = ReplayMode::new(
        "codex",
        Replay {
            on_cue: true,
            repeat: REPLAYS,
            ..Replay::whole(&CODEX_ANSWERED)
        },
        logs.path(),
    );
    let recording = mode.replay.recording;
    let daemon = Daemon::start(&replay_config("viewer_queue_bytes = 1024\n", &[&mode]));
    let mut stalled = Client::connect_with_small_receive_buffer(&daemon, 4096).await;
    stalled.hello().await;
    let terminal_id = create(&mut stalled, &mode).await;
    let stuck = stalled.attach_with(&terminal_id, recorded_size()).await;
    mode.wait_until_reading().await;

    // The cue, then no reading until the child has heard every answer.
    send_input(&mut stalled, &terminal_id, "g").await;
    let answers = mode.replay.answers().len();
    mode.wait_until_heard("every answer", |heard| heard.replies.len() >= answers)
        .await;

    let (mut witness, _) = Client::connect_ready(&daemon).await;
    let watched = witness.attach_with(&terminal_id, recorded_size()).await;
    let head = witness.stream(&watched).ready["headSeq"].as_u64().unwrap();
    stalled.wait_for_seq(&stuck, head).await;
    let resynced = stalled.stream(&stuck);
    assert!(
        resynced
            .gaps
            .iter()
            .any(|gap| gap.reason == "queue_overflow"),
        "the stalled viewer was never resynced: {:?}",
        resynced.gaps
    );
    recording.assert_no_query_in(&resynced.data, "the resynced viewer");

    send_input(&mut witness, &terminal_id, "z").await;
    mode.wait_until_heard("the keystroke", |heard| heard.keys.ends_with('z'))
        .await;
    mode.assert_heard_once("gz", &format!("{REPLAYS} replays, a viewer resynced"));
}

// ---------------------------------------------------------------------------------------------
// xterm.js viewers
// ---------------------------------------------------------------------------------------------

/// `web-client/scripts/headless-viewers.mjs` on `terminal_id`: xterm.js terminals as viewers.
fn headless_viewers(daemon: &Daemon, terminal_id: &str) -> DrivenScript {
    let web_client = common::chromium::web_client_dir();
    assert!(
        web_client.join("node_modules/@xterm/headless").exists(),
        "web-client/node_modules/@xterm/headless is missing: run `npm ci` in web-client/"
    );
    // node 20 has a WebSocket client only behind a flag; node 22 has it always.
    let has_websocket = std::process::Command::new("node")
        .args(["-e", "process.stdout.write(typeof WebSocket)"])
        .output()
        .is_ok_and(|out| out.stdout == b"function");
    let node_args: &[&str] = if has_websocket {
        &[]
    } else {
        &["--experimental-websocket"]
    };
    DrivenScript::start(
        "scripts/headless-viewers.mjs",
        node_args,
        &[
            ("PTYHUB_WS_URL", daemon.ws_url.clone()),
            ("PTYHUB_TOKEN", daemon.token.clone()),
            ("PTYHUB_TERMINAL", terminal_id.to_owned()),
            ("PTYHUB_COLS", RECORDED_COLS.to_string()),
            ("PTYHUB_ROWS", RECORDED_ROWS.to_string()),
        ],
    )
}

/// The script's report: asserts no viewer's terminal emitted anything by itself (an answer)
/// and all show the same screen.
fn assert_no_viewer_answered(viewers: &mut DrivenScript, who: &str) {
    let report = viewers.step("report", "{");
    let report: Value = serde_json::from_str(&report).expect("the report is JSON");
    let viewers = report["viewers"].as_array().expect("a list of viewers");
    for (index, viewer) in viewers.iter().enumerate() {
        assert_eq!(
            viewer["emitted"],
            json!([]),
            "xterm.js viewer {index} of {who} answered something"
        );
        assert_eq!(
            viewer["screen"], viewers[0]["screen"],
            "xterm.js viewer {index} of {who} shows another screen than viewer 0"
        );
    }
}

/// One, three and a hundred xterm.js viewers, attached before the CLI asks; the three reload,
/// are repainted and reconnect afterwards. Each types a key: an answer it had given would reach
/// the child before its key. The child hears the daemon's answers once, and the keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xterm_js_viewers_never_answer_through_reloads_and_reconnects() {
    let logs = tempfile::tempdir().unwrap();
    let cases = one_three_and_a_hundred(logs.path());
    let daemon = daemon_for_counts(&cases);
    let (mut client, _) = Client::connect_ready(&daemon).await;
    for (count, mode) in &cases {
        let recording = mode.replay.recording;
        let who = format!("{count} xterm.js viewers");
        let terminal_id = create(&mut client, mode).await;
        let mut viewers = headless_viewers(&daemon, &terminal_id);
        viewers.step(&format!("open {count}"), "OPENED");
        mode.wait_until_reading().await;

        send_input(&mut client, &terminal_id, "g").await;
        viewers.step(&format!("wait {}", last_words(recording)), "SHOWN");
        if *count == 3 {
            viewers.step("reload 0", "RELOADED");
            viewers.step("reload 1 16", "RELOADED");
            viewers.step("reconnect 2", "RECONNECTED");
            viewers.step(&format!("wait {}", last_words(recording)), "SHOWN");
        }
        let typists = (*count).min(3);
        for index in 0..typists {
            viewers.step(&format!("type {index} y"), "TYPED");
        }
        let keys = format!("g{}", "y".repeat(typists));
        mode.wait_until_heard("every viewer's key", |heard| heard.keys == keys)
            .await;
        assert_no_viewer_answered(&mut viewers, &who);
        viewers.close();
        mode.assert_heard_once(&keys, &who);
    }
}

// ---------------------------------------------------------------------------------------------
// The viewers' theme
// ---------------------------------------------------------------------------------------------

/// Sends `ptyhub.theme` and waits until the daemon has handled it (messages of one socket are
/// handled in order).
async fn report_theme(client: &mut Client, foreground: &str, background: &str) {
    client
        .send_json(
            &json!({"type": "ptyhub.theme", "foreground": foreground, "background": background}),
        )
        .await;
    client.assert_served().await;
}

/// A viewer reports its theme (the web client does on every connection): the first full-token
/// report is what codex is told its colours are; a read-only viewer's report and a later one
/// change nothing, and a malformed one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_is_told_the_colours_the_first_viewer_reported() {
    let logs = tempfile::tempdir().unwrap();
    let mode = ReplayMode::new(
        "codex",
        Replay::chunked_on_cue(&CODEX_ANSWERED),
        logs.path(),
    );
    let daemon = Daemon::start(&replay_config("", &[&mode]));

    let mut watcher = Client::connect(&daemon)
        .await
        .with_token(&daemon.view_token());
    watcher.hello().await;
    report_theme(&mut watcher, "#000000", "#ffffff").await;
    let (mut first, _) = Client::connect_ready(&daemon).await;
    first
        .send_json(&json!({"type": "ptyhub.theme", "foreground": "white", "background": "#000000"}))
        .await;
    let refused = first.expect_error().await;
    assert_eq!(refused["code"], "INVALID_MESSAGE", "{refused}");
    report_theme(&mut first, "#202020", "#fafafa").await;
    let (mut second, _) = Client::connect_ready(&daemon).await;
    report_theme(&mut second, "#00ff00", "#0000ff").await;

    let terminal_id = create(&mut first, &mode).await;
    mode.wait_until_reading().await;
    send_input(&mut first, &terminal_id, "g").await;
    let expected: Vec<String> = mode
        .replay
        .answers()
        .into_iter()
        .map(|answer| {
            answer
                .replace(THEME_FOREGROUND, "rgb:2020/2020/2020")
                .replace(THEME_BACKGROUND, "rgb:fafa/fafa/fafa")
        })
        .collect();
    let heard = mode
        .wait_until_heard("its answers", |heard| heard.replies.len() >= expected.len())
        .await;
    assert_eq!(heard.replies, expected, "codex was told other colours");
}
