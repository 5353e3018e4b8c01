//! What the PTY loop costs the daemon, from the outside: no thread per session, and no
//! wake-up but for output (`src/session/pty_loop.rs`, `pty_io.rs`).

mod common;

use std::time::Duration;

use common::procs::live_agents_of;
use common::*;
use serde_json::json;

/// A session costs the daemon no thread of its own: its PTY and its child's exit are watched
/// by the runtime's epoll, as tmux watches its panes. Forty fake agents started one after the
/// other, each running and drawn before the next, leave the daemon's thread count where it
/// was, give or take the runtime's blocking pool (which parses screens and may keep a few
/// threads); a reader, writer or waiter thread per session would add forty or more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_cost_the_daemon_no_thread_each() {
    const SESSIONS: usize = 40;
    let daemon = Daemon::start("[limits]\ncreates_per_window = 100\n");
    let pid = daemon.pid().expect("the daemon's pid");
    let threads = || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .count()
    };
    let (mut client, _) = Client::connect_ready(&daemon).await;
    // The first session starts what the runtime starts lazily (its blocking pool).
    client.start_fake_agent().await;
    let before = threads();
    for _ in 0..SESSIONS {
        client.start_fake_agent().await;
    }
    let after = threads();
    assert_eq!(live_agents_of(&daemon).len(), SESSIONS + 1);
    assert!(
        after < before + SESSIONS / 4,
        "{SESSIONS} sessions took the daemon from {before} to {after} threads"
    );
}

/// The PTY loop wakes for output, not for input. A PTY's master turns writable each time
/// the child reads what was typed; watched for that, the loop woke for nothing on every
/// keystroke's way to its echo. A child that reads keys and prints nothing costs the loop
/// no wake-up.
#[tokio::test]
async fn typing_into_a_silent_child_wakes_no_pty_loop() {
    const KEYS: u64 = 100;
    let daemon = Daemon::start("");
    let pid = daemon.pid().expect("the daemon's pid");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let created = client.create(json!({"mode": "shell"})).await;
    let id = created["terminalId"].as_str().unwrap().to_owned();
    let attach = client.attach(&id).await;
    client
        .type_line(
            &id,
            "stty raw -echo; echo SILENT-$((6*7)); exec cat > /dev/null",
        )
        .await;
    client.wait_for_text(&attach, "SILENT-42").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pty_loop = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|task| task.unwrap().path())
        .find(|task| {
            std::fs::read_to_string(task.join("comm")).is_ok_and(|comm| comm.trim() == "pty-loop")
        })
        .expect("the daemon has a pty-loop thread");
    let wake_ups = || {
        let status = std::fs::read_to_string(pty_loop.join("status")).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|count| count.trim().parse::<u64>().ok())
            .expect("a thread's status counts its voluntary context switches")
    };
    let before = wake_ups();
    for _ in 0..KEYS {
        client
            .send_json(&json!({"type": "terminal.input", "terminalId": id, "data": "x"}))
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let woken = wake_ups() - before;
    assert!(
        woken < KEYS / 4,
        "{KEYS} keys into a child that prints nothing woke the PTY loop {woken} times"
    );
}
