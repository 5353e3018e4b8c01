//! `ptyhub upgrade` and SIGUSR2: the daemon executes the binary at its path in place
//! (`src/handover/`). Every agent keeps its process (same pid, no signal), every viewer
//! resumes where it was, and a binary that cannot take over changes nothing.
//!
//! The daemon runs a copy of the ptyhub binary in its own directory; the "newer build" is a
//! fresh copy renamed over it (a new file, as a package update installs one), so the
//! daemon's own image is gone from the path and what runs afterwards is the new file.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::http::{api_session, api_sessions, get, scrape, Auth};
use common::procs::memory_bytes;
use common::*;
use serde_json::Value;

/// Sessions in the big upgrade: a flood, an echo, a full-screen TUI, one exited, idle ones.
const SESSIONS: usize = 50;

/// Installs a new build at the daemon's binary path: a copy renamed over it.
fn install_new_build(daemon: &Daemon) {
    install_file(
        daemon.binary_path(),
        &std::fs::read(env!("CARGO_BIN_EXE_ptyhub")).unwrap(),
    );
}

/// Puts `contents` at `path` as a new executable file, renamed into place.
fn install_file(path: &Path, contents: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let staged = path.with_extension("staged");
    std::fs::write(&staged, contents).unwrap();
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

/// Runs a ptyhub client command against `daemon` with the given binary.
fn ptyhub(binary: &Path, daemon: &Daemon, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .arg("--state-dir")
        .arg(&daemon.state_dir)
        .output()
        .expect("run ptyhub")
}

/// `GET /ptyhub/api/daemon`, or `None` while the daemon does not answer (mid-exec).
fn daemon_status(daemon: &Daemon) -> Option<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut response = agent
        .get(&format!(
            "http://127.0.0.1:{}/ptyhub/api/daemon",
            daemon.port
        ))
        .header("Authorization", format!("Bearer {}", daemon.token))
        .call()
        .ok()?;
    if response.status().as_u16() != 200 {
        return None;
    }
    serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()
}

async fn wait_for_handovers(daemon: &Daemon, count: u64) -> Value {
    let mut last = None;
    wait_until(&format!("handover number {count}"), PATIENCE, || {
        last = daemon_status(daemon);
        last.as_ref()
            .is_some_and(|status| status["handovers"].as_u64() == Some(count))
    })
    .await;
    last.unwrap()
}

/// What the fake agents noted of signals, by file: (file, names) for every non-empty one.
fn noted_signals(dir: &Path) -> Vec<(String, String)> {
    let mut noted = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if !text.trim().is_empty() {
            noted.push((entry.file_name().to_string_lossy().into_owned(), text));
        }
    }
    noted
}

/// Open descriptors, threads and resident memory of `pid`.
fn footprint(pid: u32) -> (usize, usize, u64) {
    let count = |what: &str| {
        std::fs::read_dir(format!("/proc/{pid}/{what}"))
            .unwrap()
            .count()
    };
    (count("fd"), count("task"), memory_bytes(pid).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_keeps_every_agent_its_process_and_every_viewer_its_place() {
    // Between stopping every session's reading and the exec the daemon waits a while, so
    // the flood surely writes in that window: what it writes must wait in the PTY.
    let daemon = Daemon::start_from_copied_binary(
        "[limits]\ncreates_per_window = 100\n",
        &[("PTYHUB_TEST_HANDOVER_DELAY_MS", "300")],
    );
    let daemon_pid = daemon.pid().unwrap();
    let signals = daemon.scratch_dir("signals");
    let (mut viewer, handshake) = Client::connect_ready(&daemon).await;
    let boot_id = handshake.ready["bootId"].as_str().unwrap().to_owned();

    let mut agents = Vec::new();
    for index in 0..SESSIONS {
        let agent = viewer.start_fake_agent().await;
        let noted = signals.join(format!("agent-{index}"));
        viewer
            .type_line(
                &agent.terminal_id,
                &format!("note-signals {}", noted.display()),
            )
            .await;
        viewer.wait_for_text(&agent.attach, "NOTING-SIGNALS").await;
        agents.push(agent);
    }
    let (flood, echo, tui, exited) = (&agents[0], &agents[1], &agents[2], &agents[3]);
    viewer.type_line(&tui.terminal_id, "screen").await;
    viewer.wait_for_text(&tui.attach, "SCREEN-READY").await;
    viewer.type_line(&exited.terminal_id, "exit 3").await;
    assert_eq!(viewer.wait_for_exit(&exited.terminal_id).await, 3);
    let pids: Vec<u32> = agents
        .iter()
        .map(|agent| daemon.spawns_mentioning(&agent.session_id)[0].pid)
        .collect();

    // The upgrade runs while the flood flows: it goes on until this file exists.
    let flood_stop = daemon.scratch_dir("flood").join("stop");
    viewer
        .type_line(
            &flood.terminal_id,
            &format!("flood-until {}", flood_stop.display()),
        )
        .await;
    viewer.wait_for_text(&flood.attach, "line 1000\r\n").await;
    install_new_build(&daemon);
    let binary = daemon.binary_path().to_owned();
    let state_dir_daemon = (daemon.state_dir.clone(), daemon.port);
    let upgrade = tokio::task::spawn_blocking(move || {
        Command::new(&binary)
            .args(["upgrade", "--state-dir"])
            .arg(&state_dir_daemon.0)
            .output()
            .expect("run ptyhub upgrade")
    });
    let (_, close_code) = viewer.recv_until_closed(PATIENCE).await;
    assert_eq!(
        close_code,
        Some(4009),
        "sockets close with freshell's restart code"
    );
    let upgrade = upgrade.await.unwrap();
    let said = String::from_utf8_lossy(&upgrade.stdout);
    assert!(
        upgrade.status.success(),
        "ptyhub upgrade failed: {said}{}",
        String::from_utf8_lossy(&upgrade.stderr)
    );
    assert!(said.contains(&format!("pid {daemon_pid} kept")), "{said}");

    let status = wait_for_handovers(&daemon, 1).await;
    assert_eq!(status["pid"].as_u64(), Some(u64::from(daemon_pid)));
    assert!(
        !std::fs::read_link(format!("/proc/{daemon_pid}/exe"))
            .unwrap()
            .to_string_lossy()
            .contains("(deleted)"),
        "the daemon runs the new file at its path, not its old image"
    );
    eprintln!(
        "handover with {SESSIONS} sessions: output waited {} ms (paused to serving again)",
        status["lastHandoverMs"]
    );

    // Clients come back to the same daemon (same bootId) and resume from the seq they had.
    let (mut resumed, handshake) = Client::connect_ready(&daemon).await;
    assert_eq!(handshake.ready["bootId"].as_str(), Some(boot_id.as_str()));
    let mut resumed_attaches = Vec::new();
    for agent in agents
        .iter()
        .filter(|a| a.terminal_id != exited.terminal_id)
    {
        let had = viewer.stream(&agent.attach).next_seq - 1;
        let attach = resumed.reattach_since(&agent.terminal_id, had).await;
        assert_eq!(
            resumed.stream(&attach).ready["replayFromSeq"].as_u64(),
            Some(had + 1),
            "{}: the resume starts right after the seq the viewer had",
            agent.terminal_id
        );
        resumed_attaches.push((agent, attach));
    }
    let flood_resumed = &resumed_attaches[0].1.clone();
    assert!(
        !viewer.stream(&flood.attach).data.contains("FLOOD-DONE"),
        "the flood was still flowing when the upgrade began"
    );
    std::fs::write(&flood_stop, "").unwrap();
    resumed.wait_for_text(flood_resumed, "FLOOD-DONE:").await;
    resumed
        .type_line(&echo.terminal_id, "echo after-upgrade")
        .await;
    let echo_resumed = resumed_attaches[1].1.clone();
    resumed
        .wait_for_text(&echo_resumed, "ECHO:after-upgrade")
        .await;

    // Nothing lost or doubled: what the viewer had plus what it resumed with (seqs 1 to
    // the resumed viewer's last) is what a witness attaching from the start now gets for
    // those seqs, for every session.
    let mut witness = Client::connect(&daemon).await;
    witness.hello().await;
    for (agent, attach) in &resumed_attaches {
        let seen = format!(
            "{}{}",
            viewer.stream(&agent.attach).data,
            resumed.stream(attach).data
        );
        let whole = witness
            .attach_with(
                &agent.terminal_id,
                Attach {
                    max_replay_bytes: Some(64 * 1024 * 1024),
                    ..Attach::default()
                },
            )
            .await;
        let head = resumed.stream(attach).next_seq - 1;
        witness.wait_for_seq(&whole, head).await;
        assert!(viewer.stream(&agent.attach).gaps.is_empty());
        assert!(
            resumed.stream(attach).gaps.is_empty(),
            "{:?}",
            resumed.stream(attach).gaps
        );
        assert!(witness.stream(&whole).gaps.is_empty());
        // The witness may have more (output after the resumed viewer's last read).
        let witnessed = &witness.stream(&whole).data;
        assert_same_output(
            witnessed.get(..seen.len()).unwrap_or(witnessed),
            &seen,
            &format!("{} across the upgrade", agent.terminal_id),
        );
    }
    let flood_lines = flood_lines_seen(&viewer, &flood.attach, &resumed, flood_resumed);
    let done = resumed
        .stream(flood_resumed)
        .data
        .split("FLOOD-DONE:")
        .nth(1)
        .unwrap();
    let written: u64 = done
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("FLOOD-DONE names the lines written");
    assert_eq!(
        flood_lines, written,
        "every flood line arrived exactly once"
    );
    assert!(
        resumed.stream(flood_resumed).data[..].contains("line "),
        "the flood went on after the upgrade"
    );

    // Every agent kept its process, and none heard a hang-up or a size change.
    for (agent, pid) in agents.iter().zip(&pids) {
        if agent.terminal_id != exited.terminal_id {
            assert!(
                process_is_alive(*pid),
                "agent {} (pid {pid}) is gone",
                agent.terminal_id
            );
        }
    }
    assert_eq!(
        daemon.ledger().len(),
        SESSIONS,
        "no agent was started again"
    );
    assert_eq!(noted_signals(&signals), Vec::<(String, String)>::new());
    let sessions = api_sessions(&daemon);
    let running = sessions.iter().filter(|s| s["status"] == "running").count();
    assert_eq!(running, SESSIONS - 1);
    assert_eq!(
        sessions
            .iter()
            .filter(|s| s["terminalId"] == exited.terminal_id.as_str())
            .count(),
        1,
        "the exited session is listed once"
    );
    let ended = api_session(&daemon, &exited.terminal_id).expect("the exited session is kept");
    assert_eq!(ended["exitCode"].as_i64(), Some(3), "{ended}");
    let screen = get(
        &daemon,
        &format!("/ptyhub/api/sessions/{}/screen", tui.terminal_id),
        Auth::Bearer(&daemon.token),
    );
    assert!(screen.body.contains("SCREEN-READY"), "{}", screen.body);
}

/// Flood lines ("line N") the viewer saw across both attaches, counted once each, checked
/// to be 1, 2, 3, … in order.
fn flood_lines_seen(before: &Client, before_attach: &str, resumed: &Client, attach: &str) -> u64 {
    let text = format!(
        "{}{}",
        before.stream(before_attach).data,
        resumed.stream(attach).data
    );
    let mut expected = 1;
    for line in text.split(['\n', '\r']) {
        if let Some(number) = line
            .strip_prefix("line ")
            .and_then(|n| n.parse::<u64>().ok())
        {
            assert_eq!(number, expected, "flood lines out of order or repeated");
            expected += 1;
        }
    }
    expected - 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_upgrades_in_a_row_leave_descriptors_threads_and_memory_flat() {
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let daemon_pid = daemon.pid().unwrap();
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agents = [
        viewer.start_fake_agent().await,
        viewer.start_fake_agent().await,
        viewer.start_fake_agent().await,
    ];
    viewer.close().await;
    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 1).await;
    let before = footprint(daemon_pid);
    for count in 2..=21 {
        daemon.signal(libc::SIGUSR2);
        wait_for_handovers(&daemon, count).await;
    }
    let after = footprint(daemon_pid);
    assert!(
        after.0 <= before.0 + 2,
        "descriptors grew from {} to {} over 20 upgrades",
        before.0,
        after.0
    );
    assert!(
        after.1 <= before.1 + 2,
        "threads grew from {} to {} over 20 upgrades",
        before.1,
        after.1
    );
    assert!(
        after.2 <= before.2 + 8 * 1024 * 1024,
        "resident memory grew from {} to {} bytes over 20 upgrades",
        before.2,
        after.2
    );
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    for agent in &agents {
        let attach = viewer.attach(&agent.terminal_id).await;
        viewer
            .type_line(&agent.terminal_id, "echo still-here")
            .await;
        viewer.wait_for_text(&attach, "ECHO:still-here").await;
    }
    assert_eq!(daemon.ledger().len(), 3, "no agent was started again");
    // Metrics count on across upgrades.
    let spawned =
        scrape(&daemon).value("ptyhub_processes_spawned_total", &[("provider", "claude")]);
    assert_eq!(spawned, Some(3.0));
}

/// Whether the process runs an image the daemon executed for a handover (its environment,
/// as the exec set it, names the handover's descriptor).
fn runs_a_taken_over_image(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
        environ
            .split(|byte| *byte == 0)
            .any(|variable| variable.starts_with(b"PTYHUB_HANDOVER_FD="))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_sent_while_the_next_image_starts_is_held_for_it_neither_lost_nor_fatal() {
    // The next image waits 1.5 s before it listens for signals again.
    let daemon = Daemon::start_from_copied_binary("", &[("PTYHUB_TEST_TAKEOVER_DELAY_MS", "1500")]);
    let daemon_pid = daemon.pid().unwrap();
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    viewer.close().await;
    daemon.signal(libc::SIGUSR2);
    wait_until("the next image runs", PATIENCE, || {
        runs_a_taken_over_image(daemon_pid)
    })
    .await;
    // A second reload, before that image listens: its default action would end the daemon,
    // and ignoring it would lose it.
    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 2).await;
    assert_eq!(daemon.pid(), Some(daemon_pid), "the same daemon serves");
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let attach = viewer.attach(&agent.terminal_id).await;
    viewer.type_line(&agent.terminal_id, "echo after-two").await;
    viewer.wait_for_text(&attach, "ECHO:after-two").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_that_cannot_take_over_is_refused_and_the_daemon_keeps_serving() {
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let daemon_pid = daemon.pid().unwrap();
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    let ours = Path::new(env!("CARGO_BIN_EXE_ptyhub"));

    let refusals: [(&str, &[u8], &str); 3] = [
        (
            "a build that reads another handover format",
            b"#!/bin/sh\necho 'ptyhub 9.0.0 reads handover formats [7], not 2' >&2\nexit 1\n",
            "reads handover formats [7], not 2",
        ),
        (
            "a file that is no program",
            b"\x7fELF garbage",
            "does not run",
        ),
        (
            "a binary that hangs",
            b"#!/bin/sh\nexec sleep 600\n",
            "did not answer",
        ),
    ];
    for (what, contents, reason) in refusals {
        install_file(daemon.binary_path(), contents);
        let upgrade = ptyhub(ours, &daemon, &["upgrade"]);
        let said = String::from_utf8_lossy(&upgrade.stderr);
        assert!(!upgrade.status.success(), "{what}: the upgrade went ahead");
        assert!(
            said.contains("cannot take over") && said.contains(reason),
            "{what}: {said}"
        );
        // Nothing changed: same process, no handover, the viewer's socket still open.
        assert!(process_is_alive(daemon_pid));
        assert_eq!(daemon_status(&daemon).unwrap()["handovers"], 0);
        viewer
            .type_line(&agent.terminal_id, &format!("echo after {what}"))
            .await;
        viewer
            .wait_for_text(&agent.attach, &format!("ECHO:after {what}"))
            .await;
    }

    // A build that claims the running format but cannot read the state itself (a format changed without
    // a new number): found when it reads the real state, before the exec. The sockets had
    // been closed for the exec by then: clients come back, and the agent's output meanwhile
    // is all there.
    install_file(
        daemon.binary_path(),
        b"#!/bin/sh\ncase \"$*\" in\n  *--state-fd*) echo 'the handover state of format 2 does not read: missing field `x`' >&2; exit 1;;\n  *) echo 'takes over handover format 2';;\nesac\n",
    );
    let had = viewer.stream(&agent.attach).next_seq - 1;
    let upgrade = ptyhub(ours, &daemon, &["upgrade"]);
    let said = String::from_utf8_lossy(&upgrade.stderr);
    assert!(!upgrade.status.success(), "the upgrade went ahead");
    assert!(said.contains("missing field `x`"), "{said}");
    let status = daemon_status(&daemon).unwrap();
    assert_eq!(status["handovers"], 0);
    assert_eq!(status["upgradeFailures"], 4, "{status}");
    let (_, code) = viewer.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4009));
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let attach = viewer.reattach_since(&agent.terminal_id, had).await;
    viewer
        .type_line(&agent.terminal_id, "echo after a state it could not read")
        .await;
    viewer
        .wait_for_text(&attach, "ECHO:after a state it could not read")
        .await;
    assert!(viewer.stream(&attach).gaps.is_empty());
    let agent = FakeAgent { attach, ..agent };

    // SIGUSR2 with a broken binary: the same refusal, in the log.
    install_file(daemon.binary_path(), b"#!/bin/sh\nexit 3\n");
    daemon.signal(libc::SIGUSR2);
    wait_until("the refusal is logged", PATIENCE, || {
        daemon.log().contains("SIGUSR2 upgrade did not happen")
    })
    .await;
    viewer
        .type_line(&agent.terminal_id, "echo after SIGUSR2")
        .await;
    viewer
        .wait_for_text(&agent.attach, "ECHO:after SIGUSR2")
        .await;
    assert_eq!(daemon.ledger().len(), 1);
}

#[test]
fn check_handover_names_the_formats_it_reads() {
    let ours = env!("CARGO_BIN_EXE_ptyhub");
    let accepted = Command::new(ours)
        .args(["check-handover", "--format", "2"])
        .output()
        .unwrap();
    assert!(accepted.status.success());
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("takes over handover format 2"));
    for other in ["0", "3"] {
        let refused = Command::new(ours)
            .args(["check-handover", "--format", other])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "format {other} was accepted");
        assert!(
            String::from_utf8_lossy(&refused.stderr)
                .contains(&format!("reads handover formats [1, 2], not {other}")),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_a_state_dir_in_use_is_refused_and_the_first_keeps_serving() {
    let daemon = Daemon::start("");
    let second = Command::new(env!("CARGO_BIN_EXE_ptyhub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
        .arg(&daemon.state_dir)
        .env(
            "AUTH_TOKEN",
            "another-token-long-enough-for-the-check-0123456789",
        )
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second daemon started: {said}");
    assert!(
        said.contains(&format!(
            "another ptyhub daemon (pid {}",
            daemon.pid().unwrap()
        )),
        "{said}"
    );
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    viewer.type_line(&agent.terminal_id, "echo first").await;
    viewer.wait_for_text(&agent.attach, "ECHO:first").await;
    let record = std::fs::read_to_string(daemon.state_dir.join("daemon.json")).unwrap();
    assert!(
        record.contains(&daemon.token),
        "the first daemon's record was overwritten"
    );
}

/// `ptyhub attach` in a real terminal (tmux) comes back by itself when the daemon upgrades in
/// place: it goes on from the last frame it wrote (nothing repeated), typing still reaches the
/// session, and the command does not end.
#[test]
fn ptyhub_attach_in_tmux_resumes_by_itself_across_an_upgrade() {
    use common::cli::{new_session, ptyhub_ok, wait_for_snapshot, Pane};
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let id = new_session(&daemon, &["--mode", "claude"]);
    ptyhub_ok(&daemon, &["send", &id, "echo before-upgrade", "--enter"]);
    wait_for_snapshot(&daemon, &id, "ECHO:before-upgrade");
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for_text("ECHO:before-upgrade");

    install_new_build(&daemon);
    let upgrade = ptyhub(daemon.binary_path(), &daemon, &["upgrade"]);
    assert!(
        upgrade.status.success(),
        "{}",
        String::from_utf8_lossy(&upgrade.stderr)
    );
    pane.type_line("echo after-upgrade");
    let screen = pane.wait_for_text("ECHO:after-upgrade");
    assert_eq!(
        screen.matches("ECHO:before-upgrade").count(),
        1,
        "output before the upgrade was written again:\n{screen}"
    );
    assert!(
        !screen.contains("[ptyhub exit"),
        "the attach ended:\n{screen}"
    );
    wait_for_snapshot(&daemon, &id, "ECHO:after-upgrade");
}

/// Keys typed in the old image's last moments are not lost: the writer still holds them
/// (held back here by a test hook, `PTYHUB_TEST_PTY_WRITE_LAG_MS`) when the upgrade starts,
/// and the daemon waits for them to reach the PTY before it executes itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_still_queued_when_the_upgrade_starts_reach_the_agent() {
    let daemon = Daemon::start_from_copied_binary("", &[("PTYHUB_TEST_PTY_WRITE_LAG_MS", "1000")]);
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    viewer
        .type_line(&agent.terminal_id, "echo queued-before-upgrade")
        .await;
    viewer.ping(b"the line is queued").await;
    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 1).await;
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let attach = viewer.attach(&agent.terminal_id).await;
    viewer
        .wait_for_text(&attach, "ECHO:queued-before-upgrade")
        .await;
}

/// `claude.activity.list` as `client` gets it: (terminal phase, latest completionSeq).
async fn claude_activity(client: &mut Client, request_id: &str) -> (String, Option<u64>) {
    client
        .send_json(&serde_json::json!({"type": "claude.activity.list", "requestId": request_id}))
        .await;
    let list = client
        .recv_until("the activity list", PATIENCE, |m| {
            m["requestId"] == request_id
        })
        .await;
    let phase = list["terminals"][0]["phase"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let latest = list["latestTurnCompletions"][0]["completionSeq"].as_u64();
    (phase, latest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_turn_in_flight_completes_after_an_upgrade_numbered_after_the_ones_before() {
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let agent = typist.start_fake_agent().await;
    let first_done = daemon.state_dir.join("first-turn-done");
    std::fs::write(&first_done, "").unwrap();
    typist
        .type_line(
            &agent.terminal_id,
            &format!("turn {}", first_done.display()),
        )
        .await;
    typist
        .recv_until("the first turn's completion", PATIENCE, |m| {
            m["type"] == "terminal.turn.complete"
        })
        .await;
    typist
        .recv_until("idle after the first turn", PATIENCE, |m| {
            m["type"] == "terminal.idle"
        })
        .await;
    let second_done = daemon.state_dir.join("second-turn-done");
    typist
        .type_line(
            &agent.terminal_id,
            &format!("turn {}", second_done.display()),
        )
        .await;
    typist
        .recv_until("busy with the second turn", PATIENCE, |m| {
            m["type"] == "claude.activity.updated" && m["upsert"][0]["phase"] == "busy"
        })
        .await;
    assert_eq!(
        claude_activity(&mut typist, "before").await,
        ("busy".to_owned(), Some(1))
    );

    install_new_build(&daemon);
    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 1).await;
    let (mut sidebar, _) = Client::connect_ready(&daemon).await;
    assert_eq!(
        claude_activity(&mut sidebar, "after").await,
        ("busy".to_owned(), Some(1)),
        "the new image knows the agent is mid-turn and which turn came last"
    );
    std::fs::write(&second_done, "").unwrap();
    let complete = sidebar
        .recv_until("the second turn's completion", PATIENCE, |m| {
            m["type"] == "terminal.turn.complete"
        })
        .await;
    assert_eq!(complete["terminalId"], agent.terminal_id.as_str());
    assert_eq!(complete["completionSeq"], 2, "{complete}");
    let idle = sidebar
        .recv_until("truly idle", PATIENCE, |m| m["type"] == "terminal.idle")
        .await;
    assert_eq!(idle["terminalId"], agent.terminal_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_under_way_at_an_upgrade_still_ends_a_child_that_ignores_it() {
    let daemon = Daemon::start_from_copied_binary(
        &format!(
            "[sessions]\nkill_grace_ms = 1500\n\n[providers.stubborn]\ncommand = {}\n",
            toml_string(STUBBORN)
        ),
        &[],
    );
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let terminal = viewer.create(serde_json::json!({"mode": "stubborn"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&terminal).await;
    viewer.wait_for_text(&attach, "pgid=").await;
    viewer
        .send_json(&serde_json::json!({"type": "terminal.kill", "terminalId": terminal}))
        .await;
    viewer.ping(b"the kill has started").await;
    // The child ignores the SIGHUP it got; its SIGTERM and SIGKILL were due on the old
    // image's timer, which the exec ends.
    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 1).await;
    wait_until(
        "the stubborn child and its grandchild end after the upgrade",
        PATIENCE,
        || daemon.live_descendants().is_empty(),
    )
    .await;
    let record = api_session(&daemon, &terminal).expect("the killed terminal is remembered");
    assert_eq!(record["status"], "exited", "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_front_of_freshell_the_agent_api_still_finds_panes_by_the_layout_after_an_upgrade() {
    use common::fake_freshell::FakeFreshell;
    use common::raw_http::http;
    use common::upstream_browser::{auth, start_in_front_of, Browser};
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (mut browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    // freshell's page pushes its layout when it changes, not when it reconnects.
    browser
        .send(&serde_json::json!({
            "type": "ui.layout.sync",
            "tabs": [{"id": "tab-a", "title": "main"}],
            "activeTabId": "tab-a",
            "layouts": {"tab-a": {"type": "leaf", "id": "pane-term", "content": {
                "kind": "terminal", "createRequestId": "c1", "status": "running",
                "mode": "shell", "terminalId": terminal_id}}},
            "activePane": {"tab-a": "pane-term"},
            "paneTitles": {"tab-a": {"pane-term": "builder"}},
            "timestamp": 1
        }))
        .await;
    browser.sync_with_upstream().await;

    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 1).await;
    for (target, word) in [("builder", "by-title"), ("main.0", "by-index")] {
        let reply = http(
            &daemon,
            "POST",
            &format!("/api/panes/{target}/send-keys"),
            &[auth(&daemon), ("content-type", b"application/json")],
            serde_json::json!({"data": format!("echo {word}-$((6*7))\r")})
                .to_string()
                .into_bytes(),
        )
        .await;
        assert_eq!(reply.status, 200, "send-keys to {target}: {}", reply.text());
        assert_eq!(reply.json()["data"]["terminalId"], terminal_id.as_str());
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let text = http(
            &daemon,
            "GET",
            "/api/panes/pane-term/capture",
            &[auth(&daemon)],
            Vec::new(),
        )
        .await
        .text();
        if text.contains("by-title-42") && text.contains("by-index-42") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "both lines never showed in the pane's capture: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Half a character read from the PTY when the old image stops reading is passed to the next
/// image, which decodes it with the rest: the viewer sees the whole character once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_split_across_the_upgrade_arrives_whole() {
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let shell = viewer.create(serde_json::json!({"mode": "shell"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&shell).await;
    // 你 is E4 BD A0: its first two bytes end the first write, its last one starts the next.
    viewer
        .type_line(
            &shell,
            r"printf 'HA''LF\344\275'; sleep 2; printf '\240DO''NE\n'",
        )
        .await;
    viewer.wait_for_text(&attach, "HALF").await;
    let had = viewer.stream(&attach).last_seq();
    daemon.signal(libc::SIGUSR2);
    wait_for_handovers(&daemon, 1).await;
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let attach = viewer.reattach_since(&shell, had).await;
    viewer.wait_for_text(&attach, "DONE").await;
    let after = viewer.stream(&attach).data.clone();
    assert!(
        after.contains("你DONE"),
        "the character split by the upgrade arrived whole: {after:?}"
    );
}
