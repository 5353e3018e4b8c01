//! A viewer that comes back gets exactly what it lacks: the missing frames when they are few,
//! when they are many, a checkpoint of the screen and the frames after it that fit its budget
//! (docs/test-contract.md, "Snapshot semantics").

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_with_since_seq_after_a_short_disconnect_loses_and_doubles_nothing() {
    let daemon = Daemon::start("");
    // The driver types; it is not attached, so the roamer is the terminal's only viewer and
    // owns the geometry (with others watching, §8.4 forces a full replay instead; see below).
    let (mut driver, _) = Client::connect_ready(&daemon).await;
    let terminal_id = driver.create(json!({"mode": "claude"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (mut roamer, _) = Client::connect_ready(&daemon).await;
    let roamed = roamer.attach(&terminal_id).await;
    roamer.wait_for_text(&roamed, "fake> ").await;
    driver.type_line(&terminal_id, "flood 300").await;
    roamer.wait_for_text(&roamed, "line 300\r\nfake> ").await;
    let had_seq = roamer.stream(&roamed).last_seq();
    let had_data = roamer.stream(&roamed).data.clone();
    drop(roamer);

    // While it is away the child keeps printing; the driver peeks, then looks away again.
    let peek = driver.attach(&terminal_id).await;
    driver.type_line(&terminal_id, "flood 500").await;
    driver.wait_for_text(&peek, "line 500\r\nfake> ").await;
    driver
        .send_json(&json!({"type": "terminal.detach", "terminalId": terminal_id}))
        .await;
    driver
        .recv_until("terminal.detached", PATIENCE, |m| {
            m["type"] == "terminal.detached"
        })
        .await;

    let (mut roamer, _) = Client::connect_ready(&daemon).await;
    let back = roamer.reattach_since(&terminal_id, had_seq).await;
    let ready = roamer.stream(&back).ready.clone();
    assert_eq!(
        ready["effectiveSinceSeq"],
        json!(had_seq),
        "the viewer's sinceSeq is honoured: {ready}"
    );
    assert_eq!(
        ready["replayFromSeq"],
        json!(had_seq + 1),
        "the replay starts right after what it had: {ready}"
    );
    driver.type_line(&terminal_id, "echo back").await;
    roamer.wait_for_text(&back, "ECHO:back\r\nfake> ").await;
    let after = roamer.stream(&back);
    assert!(after.gaps.is_empty(), "nothing was lost: {:?}", after.gaps);
    assert!(
        after
            .frames
            .iter()
            .any(|f| f.source.as_deref() == Some("replay")),
        "the missed part came as replay"
    );

    // A viewer that hydrates from the start now receives the whole history, byte for byte.
    let (mut reference, _) = Client::connect_ready(&daemon).await;
    let everything = reference
        .attach_with(
            &terminal_id,
            Attach {
                intent: "keepalive_delta",
                ..Default::default()
            },
        )
        .await;
    reference.wait_for_seq(&everything, after.last_seq()).await;
    let everything = reference.stream(&everything);
    assert_eq!(
        everything.frames.first().map(|f| f.seq_start),
        Some(1),
        "the history is complete"
    );
    assert_same_output(
        &everything.data,
        &format!("{had_data}{}", after.data),
        "before + after the disconnect equals the terminal's whole output",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_with_since_seq_while_others_watch_replays_everything_once() {
    let daemon = Daemon::start("");
    let (mut watcher, _) = Client::connect_ready(&daemon).await;
    let terminal_id = watcher.create(json!({"mode": "claude"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let watched = watcher.attach(&terminal_id).await;
    watcher.wait_for_text(&watched, "fake> ").await;

    let (mut roamer, _) = Client::connect_ready(&daemon).await;
    let roamed = roamer.attach(&terminal_id).await;
    watcher.type_line(&terminal_id, "flood 300").await;
    roamer.wait_for_text(&roamed, "line 300\r\nfake> ").await;
    let had_seq = roamer.stream(&roamed).last_seq();
    drop(roamer);
    watcher.type_line(&terminal_id, "flood 500").await;
    watcher.wait_for_text(&watched, "line 500\r\nfake> ").await;

    // Another socket may have drawn at another size meanwhile, so a delta could render wrong:
    // freshell's server answers a full replay, and says why (spec §8.4 step 6).
    let (mut roamer, _) = Client::connect_ready(&daemon).await;
    let back = roamer.reattach_since(&terminal_id, had_seq).await;
    let ready = roamer.stream(&back).ready.clone();
    assert_eq!(
        ready["geometryAuthority"], "multi_client_unknown",
        "{ready}"
    );
    assert_eq!(
        ready["replayResetReason"], "geometry_authority_unknown",
        "{ready}"
    );
    assert_eq!(ready["requestedSinceSeq"], json!(had_seq), "{ready}");
    assert_eq!(ready["effectiveSinceSeq"], json!(0), "{ready}");
    watcher.type_line(&terminal_id, "echo back").await;
    roamer.wait_for_text(&back, "ECHO:back\r\nfake> ").await;
    watcher.wait_for_text(&watched, "ECHO:back\r\nfake> ").await;
    let (again, stayed) = (roamer.stream(&back), watcher.stream(&watched));
    assert_eq!(again.last_seq(), stayed.last_seq());
    assert_same_output(
        &stayed.data,
        &again.data,
        "the full replay plus live output equals what the watcher saw",
    );
}

/// A shell whose prompt is `READY> ` (typed as `'REA''DY> '`, so the echoed command never
/// contains it), with a client attached: (client, terminal id, attach id).
async fn watched_shell(daemon: &Daemon) -> (Client, String, String) {
    let (mut watcher, _) = Client::connect_ready(daemon).await;
    let terminal_id = watcher.create(json!({"mode": "shell"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let watched = watcher.attach(&terminal_id).await;
    watcher.type_line(&terminal_id, "PS1='REA''DY> '").await;
    watcher.wait_for_text(&watched, "READY> ").await;
    (watcher, terminal_id, watched)
}

/// The longest run of consecutive numbers, one per line, that ends with `last`.
fn consecutive_lines_ending_at(lines: &[String], last: u64) -> u64 {
    let Some(end) = lines.iter().rposition(|line| line == &last.to_string()) else {
        return 0;
    };
    let mut expected = last;
    let mut run = 0;
    for line in lines[..=end].iter().rev() {
        if line.parse::<u64>().ok() != Some(expected) {
            break;
        }
        run += 1;
        expected -= 1;
    }
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_after_200000_lines_gives_the_exact_screen_and_the_history_the_budget_holds() {
    let daemon = Daemon::start("");
    let (mut watcher, terminal_id, watched) = watched_shell(&daemon).await;

    let (mut roamer, _) = Client::connect_ready(&daemon).await;
    let roamed = roamer.attach(&terminal_id).await;
    watcher
        .type_line(&terminal_id, "seq 1 200000; echo SEQ-$((40+2))")
        .await;
    roamer.wait_for_text(&roamed, "\r\n1000\r\n").await;
    let had_seq = roamer.stream(&roamed).last_seq();
    let had_data = roamer.stream(&roamed).data.clone();
    drop(roamer);

    watcher.wait_for_text(&watched, "SEQ-42\r\n").await;
    let after_marker = watcher.stream(&watched).data.rfind("SEQ-42\r\n").unwrap();
    watcher
        .wait_for_text_from(&watched, after_marker, "READY> ")
        .await;
    let head_seq = watcher.stream(&watched).last_seq();
    let full_screen = watcher.stream(&watched).screen(ROWS, COLS);

    // The viewer that left comes back from where it was, over its budget: a gap, a
    // checkpoint's repaint, then the raw frames after it.
    let (mut roamer, _) = Client::connect_ready(&daemon).await;
    let back = roamer.reattach_since(&terminal_id, had_seq).await;
    roamer.wait_for_seq(&back, head_seq).await;
    let stream = roamer.stream(&back);
    assert_eq!(stream.ready["headSeq"], json!(head_seq));
    let repaint_seq = stream.ready["replayFromSeq"].as_u64().unwrap();
    assert!(
        repaint_seq < head_seq,
        "the replay starts at a checkpoint, with frames after it"
    );
    assert_eq!(
        stream.gaps.len(),
        1,
        "one gap for everything skipped: {:?}",
        stream.gaps
    );
    assert_eq!(stream.gaps[0].reason, "replay_budget_exceeded");
    assert_eq!(
        json!(stream.gaps[0].from_seq),
        json!(stream.ready["effectiveSinceSeq"].as_u64().unwrap() + 1),
        "the gap starts where the viewer's replay does"
    );
    assert_eq!(
        stream.gaps[0].to_seq,
        repaint_seq - 1,
        "the gap ends right before the checkpoint's repaint"
    );
    let mut rebuilt = screen_model(ROWS, COLS);
    rebuilt.process(had_data.as_bytes());
    rebuilt.process(stream.data.as_bytes());
    assert_same_screen(&full_screen, &rebuilt, "returning viewer");

    // A brand-new pane hydrating with freshell's budget (128 KiB) gets the exact screen
    // and at least 10 000 consecutive lines of history ending at the last, none doubled
    // where the checkpoint's repaint hands over to the raw frames.
    let (mut newcomer, _) = Client::connect_ready(&daemon).await;
    let hydrated = newcomer
        .attach_with(
            &terminal_id,
            Attach {
                max_replay_bytes: Some(131_072),
                ..Default::default()
            },
        )
        .await;
    newcomer.wait_for_seq(&hydrated, head_seq).await;
    let stream = newcomer.stream(&hydrated);
    assert!(
        stream.replay_bytes() <= 131_072,
        "the replay keeps to the budget: {} bytes",
        stream.replay_bytes()
    );
    assert_same_screen(&full_screen, &stream.screen(ROWS, COLS), "new viewer");
    let lines = history_lines(&stream.data, ROWS, COLS, 50_000);
    let run = consecutive_lines_ending_at(&lines, 200_000);
    assert!(
        run >= 10_000,
        "the new viewer scrolls back through {run} consecutive lines, want ≥ 10 000"
    );
    let numbers: Vec<&String> = lines.iter().filter(|l| l.parse::<u64>().is_ok()).collect();
    let distinct: std::collections::HashSet<&&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "no line appears twice");

    // And both keep receiving live output after the replay.
    watcher.type_line(&terminal_id, "echo LIVE-$((1+1))").await;
    roamer.wait_for_text(&back, "LIVE-2").await;
    newcomer.wait_for_text(&hydrated, "LIVE-2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_to_a_full_screen_tui_repaints_its_modes_colours_and_alternate_screen() {
    let daemon = Daemon::start("");
    let (mut watcher, _) = Client::connect_ready(&daemon).await;
    let terminal_id = watcher.create(json!({"mode": "claude"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let watched = watcher.attach(&terminal_id).await;
    watcher.wait_for_text(&watched, "fake> ").await;
    watcher.type_line(&terminal_id, "screen").await;
    watcher.wait_for_text(&watched, "SCREEN-READY").await;
    let head_seq = watcher.stream(&watched).last_seq();
    let full_screen = watcher.stream(&watched).screen(ROWS, COLS);
    assert!(
        full_screen.screen().alternate_screen(),
        "the fixture drew on the alternate screen"
    );

    // A budget far below the TUI's output forces the repaint.
    let (mut newcomer, _) = Client::connect_ready(&daemon).await;
    let hydrated = newcomer
        .attach_with(
            &terminal_id,
            Attach {
                max_replay_bytes: Some(512),
                ..Default::default()
            },
        )
        .await;
    newcomer.wait_for_seq(&hydrated, head_seq).await;
    let stream = newcomer.stream(&hydrated);
    assert_eq!(stream.gaps.len(), 1, "{:?}", stream.gaps);
    assert_eq!(stream.gaps[0].reason, "replay_budget_exceeded");
    assert_same_screen(&full_screen, &stream.screen(ROWS, COLS), "repainted TUI");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_sessions_resting_screen_repaints_exactly_and_wakes_on_output() {
    let daemon = Daemon::start("");
    let (mut watcher, terminal_id, watched) = watched_shell(&daemon).await;
    watcher
        .type_line(
            &terminal_id,
            r"printf '\033[1;31mRED\033[0m \033[4mLINE\033[0m\n'",
        )
        .await;
    // The echoed command shows `\033`, never the escape itself.
    watcher.wait_for_text(&watched, "LINE\x1b[0m\r\n").await;
    let after_output = watcher
        .stream(&watched)
        .data
        .rfind("LINE\x1b[0m\r\n")
        .unwrap();
    watcher
        .wait_for_text_from(&watched, after_output, "READY> ")
        .await;

    // Quiet now: the daemon puts the screen model at rest.
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let record = http::api_session(&daemon, &terminal_id).expect("the session is listed");
        if record["screenResting"] == json!(true) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the quiet session's screen never rested: {record}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let full_screen = watcher.stream(&watched).screen(ROWS, COLS);

    // A new viewer over its budget is repainted from the resting model, exactly.
    let (mut newcomer, _) = Client::connect_ready(&daemon).await;
    let hydrated = newcomer
        .attach_with(
            &terminal_id,
            Attach {
                max_replay_bytes: Some(512),
                ..Default::default()
            },
        )
        .await;
    newcomer.wait_for_text(&hydrated, "READY> ").await;
    let stream = newcomer.stream(&hydrated);
    assert_eq!(
        stream.gaps.len(),
        1,
        "a repaint, not the history: {} then {} frames",
        stream.ready,
        stream.frames.len()
    );
    assert_same_screen(
        &full_screen,
        &newcomer.stream(&hydrated).screen(ROWS, COLS),
        "repainted from rest",
    );

    // Output wakes it, and the model follows on from where it rested.
    watcher.type_line(&terminal_id, "echo AFTER-$((1+1))").await;
    watcher.wait_for_text(&watched, "AFTER-2\r\n").await;
    newcomer.wait_for_text(&hydrated, "AFTER-2").await;
    let after = watcher.stream(&watched).data.rfind("AFTER-2\r\n").unwrap();
    watcher.wait_for_text_from(&watched, after, "READY> ").await;
    let text = http::get(
        &daemon,
        &format!("/ptyhub/api/sessions/{terminal_id}/screen"),
        http::Auth::Bearer(&daemon.token),
    )
    .body;
    assert!(
        text.contains("RED LINE"),
        "the screen from before the rest: {text}"
    );
    assert!(text.contains("AFTER-2"), "and the output after it: {text}");
}
