//! What is under way when the daemon upgrades in place is finished by the next image, not
//! dropped, so an upgrade at any moment goes unnoticed: keys still queued for an agent, a turn
//! in flight and its number, a kill waiting for its grace, half a character read from the PTY,
//! a second reload sent while the next image starts, and in front of freshell the pane layout
//! the agent API finds panes by.

mod common;

use std::time::Duration;

use common::http::api_session;
use common::upgrade::{install_new_build, wait_for_handovers};
use common::*;

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
