//! `ptyhub upgrade` and SIGUSR2: the daemon executes the binary at its path in place
//! (`src/handover/`). Every agent keeps its process (same pid, no signal) and every viewer
//! resumes where it was, freshell-protocol clients and `ptyhub attach` in tmux alike; twenty
//! upgrades in a row leave descriptors, threads and memory flat. What is under way at the
//! exec is in `upgrade_in_flight.rs`, what is refused in `upgrade_refusals.rs`.
//!
//! The daemon runs a copy of the ptyhub binary (`common::upgrade`), so an upgrade here runs a
//! new file at the daemon's path, as after a package update.

mod common;

use std::path::Path;
use std::process::Command;

use common::http::{api_session, api_sessions, get, scrape, Auth};
use common::procs::memory_bytes;
use common::upgrade::{install_new_build, ptyhub, wait_for_handovers};
use common::*;

/// Sessions in the big upgrade: a flood, an echo, a full-screen TUI, one exited, idle ones.
const SESSIONS: usize = 50;

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
