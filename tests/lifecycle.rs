//! How a terminal ends, and how a viewer leaves without ending it (freshell spec §5.5, §5.6,
//! §10.2).

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_exiting_right_after_a_burst_delivers_every_byte_before_terminal_exit() {
    const BURST_LINES: u64 = 50_000;
    let daemon = Daemon::start("");
    // A small receive buffer keeps most of the burst inside the daemon while we do not read.
    let mut viewer = Client::connect_with_small_receive_buffer(&daemon, 4096).await;
    viewer.hello().await;
    let FakeAgent {
        terminal_id,
        session_id,
        attach,
    } = viewer.start_fake_agent().await;
    let terminal_id = terminal_id.as_str();
    let child = daemon.spawns_mentioning(&session_id)[0].pid;

    viewer
        .type_line(terminal_id, &format!("burst-exit {BURST_LINES} 3"))
        .await;
    // Not reading until the child is gone means the daemon learns of the exit while this
    // viewer is still far behind: the exit must wait for the output, not overtake it.
    wait_until("the child has exited", PATIENCE, || {
        !process_is_alive(child)
    })
    .await;
    // And until the daemon has taken the exit in (the viewer still has not read).
    wait_until("the daemon reports the exit", PATIENCE, || {
        common::http::api_session(&daemon, terminal_id).is_some_and(|s| s["status"] == "exited")
    })
    .await;
    let exit_code = viewer.wait_for_exit(terminal_id).await;

    // The harness refuses output after terminal.exit, so this is everything that came.
    let lines = numbered_lines(&viewer.stream(&attach).data);
    assert_eq!(
        lines.len() as u64,
        BURST_LINES,
        "lines received before terminal.exit"
    );
    assert_eq!(
        lines,
        (1..=BURST_LINES).collect::<Vec<u64>>(),
        "every line, in order"
    );
    assert!(
        viewer.stream(&attach).gaps.is_empty(),
        "{:?}",
        viewer.stream(&attach).gaps
    );
    assert_eq!(exit_code, 3);
}

/// The exit/last-read race made wide: the daemon's PTY reader waits before every read (a test
/// hook), so each child has long exited while its last burst is still unread; two hundred
/// times over, every line still reaches the viewer before `terminal.exit` (the harness refuses
/// output after it) and the exit code is the child's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_last_burst_arrives_before_the_exit_even_with_the_reader_far_behind() {
    const ROUNDS: usize = 200;
    const LINES: u64 = 1_000;
    let config = format!(
        r#"
[limits]
creates_per_window = 1000

[providers.burst]
command = "/bin/sh"
args = ["-c", "read go; i=1; while [ $i -le {LINES} ]; do echo line $i; i=$((i+1)); done; exit 3"]
"#
    );
    let daemon = Daemon::start_with_env(&config, &[("PTYHUB_TEST_PTY_READ_LAG_MS", "5")]);
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let expected: Vec<u64> = (1..=LINES).collect();
    for round in 0..ROUNDS {
        let created = viewer.create(json!({"mode": "burst"})).await;
        let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
        let attach = viewer.attach(&terminal_id).await;
        viewer.type_line(&terminal_id, "go").await;
        let exit_code = viewer.wait_for_exit(&terminal_id).await;
        let stream = viewer.stream(&attach);
        let lines = numbered_lines(&stream.data);
        assert!(
            lines == expected,
            "round {round}: {} of {LINES} lines before terminal.exit, last {:?}",
            lines.len(),
            lines.last()
        );
        assert!(stream.gaps.is_empty(), "round {round}: {:?}", stream.gaps);
        assert_eq!(exit_code, 3, "round {round}");
    }
}

/// A child a signal ends by itself (a crash, an OOM kill) reports 128 + the signal, as a
/// shell would, not the 1 it used to nor the 0 of a requested kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_ended_by_a_signal_reports_128_plus_the_signal() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGSEGV, 139)] {
        let FakeAgent { terminal_id, .. } = client.start_fake_agent().await;
        client
            .type_line(&terminal_id, &format!("die {signal}"))
            .await;
        assert_eq!(
            client.wait_for_exit(&terminal_id).await,
            code,
            "signal {signal}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_ends_the_child_and_every_viewer_is_told() {
    let daemon = Daemon::start("");
    let (mut killer, _) = Client::connect_ready(&daemon).await;
    let FakeAgent {
        terminal_id,
        session_id,
        ..
    } = killer.start_fake_agent().await;
    let terminal_id = terminal_id.as_str();
    let (mut onlooker, _) = Client::connect_ready(&daemon).await;
    let watched = onlooker.attach(terminal_id).await;
    onlooker.wait_for_text(&watched, "FAKE-AGENT").await;
    assert_eq!(daemon.live_agents_mentioning(&session_id).len(), 1);

    killer
        .send_json(&json!({"type": "terminal.kill", "terminalId": terminal_id}))
        .await;
    // freshell reports a terminal someone killed as exit 0, whatever signal ended it.
    assert_eq!(killer.wait_for_exit(terminal_id).await, 0);
    assert_eq!(onlooker.wait_for_exit(terminal_id).await, 0);
    wait_until("the killed child is gone from /proc", PATIENCE, || {
        daemon.live_agents_mentioning(&session_id).is_empty()
    })
    .await;

    let (_, handshake) = Client::connect_ready(&daemon).await;
    let listed = handshake
        .terminal(terminal_id)
        .expect("a killed terminal is still remembered");
    assert_eq!(listed["status"], "exited", "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detach_is_acknowledged_and_leaves_the_process_running() {
    let daemon = Daemon::start("");
    let (mut leaver, _) = Client::connect_ready(&daemon).await;
    let FakeAgent {
        terminal_id,
        session_id,
        attach,
    } = leaver.start_fake_agent().await;
    let terminal_id = terminal_id.as_str();
    let (mut stayer, _) = Client::connect_ready(&daemon).await;
    let stayed = stayer.attach(terminal_id).await;

    leaver
        .send_json(&json!({"type": "terminal.detach", "terminalId": terminal_id}))
        .await;
    leaver
        .recv_until("terminal.detached", PATIENCE, |m| {
            m["type"] == "terminal.detached" && m["terminalId"] == terminal_id
        })
        .await;

    stayer.type_line(terminal_id, "echo after-detach").await;
    stayer.wait_for_text(&stayed, "ECHO:after-detach").await;
    // The echo is out; whatever the leaver's socket was still to get for the terminal is
    // queued before the answer to a request sent now.
    let barrier = fresh_id("barrier");
    leaver
        .send_json(&json!({"type": "claude.activity.list", "requestId": barrier}))
        .await;
    leaver
        .recv_until("the answer to the barrier request", PATIENCE, |m| {
            m["requestId"] == barrier.as_str()
        })
        .await;
    assert!(
        !leaver.stream(&attach).data.contains("ECHO:after-detach"),
        "a detached socket receives no more output"
    );
    assert_eq!(
        leaver.exit_code(terminal_id),
        None,
        "detach does not end the terminal"
    );
    assert_eq!(
        daemon.live_agents_mentioning(&session_id).len(),
        1,
        "the process keeps running"
    );

    // Coming back later finds it alive, with what it printed meanwhile.
    let again = leaver.attach(terminal_id).await;
    leaver.wait_for_text(&again, "ECHO:after-detach").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exited_terminal_refuses_attach_with_its_exit_code_and_refuses_input() {
    let daemon = Daemon::start("");
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let terminal_id = viewer.create(json!({"mode": "claude"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&terminal_id).await;
    viewer.wait_for_text(&attach, "fake> ").await;
    viewer.type_line(&terminal_id, "exit 7").await;
    assert_eq!(viewer.wait_for_exit(&terminal_id).await, 7);

    // freshell reads an attach error with a numeric exit code as "the CLI died" (spec §5.2).
    let (mut late, _) = Client::connect_ready(&daemon).await;
    let attach_id = late.send_attach(&terminal_id, Attach::default()).await;
    let error = late.expect_error_for(&attach_id).await;
    assert_eq!(error["code"], "INVALID_TERMINAL_ID", "{error}");
    assert_eq!(error["terminalId"], terminal_id.as_str(), "{error}");
    assert_eq!(error["terminalExitCode"], 7, "{error}");

    late.type_line(&terminal_id, "echo too late").await;
    let error = late.expect_error().await;
    assert_eq!(error["code"], "INVALID_TERMINAL_ID", "{error}");
    assert_eq!(error["terminalId"], terminal_id.as_str(), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hangs_up_every_child_and_closes_sockets_with_4009() {
    let daemon = Daemon::start("");
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    let child = daemon.spawns_mentioning(&agent.session_id)[0].pid;

    let daemon_pid = daemon.pid().expect("the daemon runs");
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(daemon_pid as libc::pid_t, libc::SIGTERM) };

    let (_, close_code) = viewer.recv_until_closed(PATIENCE).await;
    assert_eq!(
        close_code,
        Some(4009),
        "sockets are closed as 'server shutting down'"
    );
    wait_until("the child was hung up", PATIENCE, || {
        !process_is_alive(child)
    })
    .await;
    wait_until("the daemon exited", PATIENCE, || {
        !process_is_alive(daemon_pid)
    })
    .await;
}

/// `terminals.changed` names a terminal as recoverable only when its process ended with no
/// socket attached and it ran a session a client can resume (spec §7): not one that ended
/// watched, not a shell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_is_flagged_recoverable_only_unwatched_and_with_a_session() {
    let daemon = Daemon::start("");
    // A sidebar: attached to nothing, hears every terminals.changed.
    let (mut sidebar, _) = Client::connect_ready(&daemon).await;
    let (mut tab, _) = Client::connect_ready(&daemon).await;

    let watched = tab.start_fake_agent().await;
    tab.type_line(&watched.terminal_id, "exit 0").await;
    tab.wait_for_exit(&watched.terminal_id).await;
    let shell = tab.create(json!({"mode": "shell"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    tab.send_json(&json!({"type": "terminal.kill", "terminalId": shell}))
        .await;
    let unwatched = tab.create(json!({"mode": "claude"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    tab.send_json(&json!({"type": "terminal.kill", "terminalId": unwatched}))
        .await;

    let mut flagged = Vec::new();
    while !flagged.contains(&unwatched) {
        let changed = sidebar
            .recv_until("a terminals.changed", PATIENCE, |m| {
                m["type"] == "terminals.changed"
            })
            .await;
        if let Some(ids) = changed["recoverableTerminalIds"].as_array() {
            flagged.extend(ids.iter().filter_map(|id| id.as_str()).map(str::to_owned));
        }
    }
    assert_eq!(
        flagged,
        [unwatched],
        "only the unwatched agent is recoverable"
    );
}
