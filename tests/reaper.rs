//! The idle reaper (docs/test-contract.md, "Guardrails (issue 4)"): a session nobody
//! watches, types into or gets new text from for `idle_timeout_ms` is ended. A spinner is not
//! new text; a stream of new lines is; a viewer keeps any session alive; a mode can opt out.
//!
//! Timeouts are short (2 s, checked every 200 ms). Sessions that must survive are watched
//! for four timeouts; sessions that must go are waited for with a deadline.

mod common;

use std::time::{Duration, Instant};

use common::http::{self, api_session, scrape, Auth};
use common::*;
use serde_json::json;

const IDLE_TIMEOUT: Duration = Duration::from_millis(2000);

fn config() -> String {
    format!(
        "[reaper]\nidle_timeout_ms = {}\ncheck_interval_ms = 200\n\
         [providers.codex]\nidle_timeout_ms = 0\n",
        IDLE_TIMEOUT.as_millis()
    )
}

/// The visible screen of a terminal, as text.
fn screen(daemon: &Daemon, terminal_id: &str) -> String {
    let reply = http::get(
        daemon,
        &format!("/ptyhub/api/sessions/{terminal_id}/screen"),
        Auth::Bearer(&daemon.token),
    );
    assert_eq!(reply.status, 200, "screen of {terminal_id}: {reply:?}");
    reply.body
}

/// The spinner cell of a `spin`ning fake agent's screen.
fn spinner_cell(screen: &str) -> Option<char> {
    screen
        .lines()
        .find_map(|line| line.strip_prefix("working "))
        .and_then(|rest| rest.chars().next())
}

fn status(daemon: &Daemon, terminal_id: &str) -> String {
    api_session(daemon, terminal_id)
        .unwrap_or_else(|| panic!("{terminal_id} is not in /ptyhub/api/sessions"))["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A fresh session of `mode`, never attached; returns (terminalId, pid).
async fn create_detached(client: &mut Client, daemon: &Daemon, mode: &str) -> (String, u32) {
    let created = client.create(json!({"mode": mode})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let pid = api_session(daemon, &terminal_id).unwrap()["pid"]
        .as_u64()
        .expect("a running session has a pid") as u32;
    (terminal_id, pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_detached_sessions_are_reaped_but_busy_watched_or_exempt_ones_are_not() {
    let daemon = Daemon::start(&config());
    let (mut client, _) = Client::connect_ready(&daemon).await;

    // A spinner that was watched, then left alone.
    let spinner = client.start_fake_agent().await;
    let spinner_pid = daemon.spawns_mentioning(&spinner.session_id)[0].pid;
    client.type_line(&spinner.terminal_id, "spin").await;
    client.wait_for_text(&spinner.attach, "SPINNING").await;
    client
        .send_json(&json!({"type": "terminal.detach", "terminalId": spinner.terminal_id}))
        .await;
    client
        .recv_until("terminal.detached", PATIENCE, |m| {
            m["type"] == "terminal.detached" && m["terminalId"] == spinner.terminal_id
        })
        .await;

    // A spinner somebody watches.
    let watched = client.start_fake_agent().await;
    let watched_pid = daemon.spawns_mentioning(&watched.session_id)[0].pid;
    client.type_line(&watched.terminal_id, "spin").await;
    client.wait_for_text(&watched.attach, "SPINNING").await;

    // An agent nobody watches that keeps printing new lines.
    let (chatter, chatter_pid) = create_detached(&mut client, &daemon, "claude").await;
    client.type_line(&chatter, "chatter").await;

    // An agent nobody watches that prints nothing after its prompt.
    let (silent, silent_pid) = create_detached(&mut client, &daemon, "claude").await;

    // A mode whose idle timeout is 0 (never), left alone just the same.
    let (exempt, exempt_pid) = create_detached(&mut client, &daemon, "codex").await;
    let quiet_since = Instant::now();

    // The detached spinner really keeps drawing, for nobody.
    let mut cells = std::collections::HashSet::new();
    let deadline = Instant::now() + PATIENCE;
    while cells.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the detached spinner never turned: {:?}",
            screen(&daemon, &spinner.terminal_id)
        );
        cells.extend(spinner_cell(&screen(&daemon, &spinner.terminal_id)));
        client.drain_for(Duration::from_millis(50)).await;
    }

    // The idle ones go: the spinner and the silent agent.
    let deadline = Instant::now() + PATIENCE;
    while !(status(&daemon, &spinner.terminal_id) == "exited"
        && status(&daemon, &silent) == "exited")
    {
        assert!(
            Instant::now() < deadline,
            "idle detached sessions were not reaped within {PATIENCE:?}"
        );
        client.drain_for(Duration::from_millis(100)).await;
    }
    for (pid, what) in [
        (spinner_pid, "the detached spinner"),
        (silent_pid, "the silent agent"),
    ] {
        wait_until(&format!("{what}'s process is gone"), PATIENCE, || {
            !process_is_alive(pid)
        })
        .await;
    }

    let chatter_lines_when_others_went = last_chatter_line(&screen(&daemon, &chatter));
    // The others stay, through four idle timeouts.
    while quiet_since.elapsed() < IDLE_TIMEOUT * 4 {
        client.drain_for(Duration::from_millis(200)).await;
        for (terminal_id, pid, what) in [
            (&chatter, chatter_pid, "the chattering agent"),
            (&watched.terminal_id, watched_pid, "the watched spinner"),
            (&exempt, exempt_pid, "the codex (idle_timeout_ms = 0)"),
        ] {
            assert_eq!(
                status(&daemon, terminal_id),
                "running",
                "{what} was reaped after {:?}",
                quiet_since.elapsed()
            );
            assert!(process_is_alive(pid), "{what}'s process died");
        }
    }
    assert_eq!(
        client.exit_code(&watched.terminal_id),
        None,
        "the viewer saw no exit"
    );
    let chatter_lines_now = last_chatter_line(&screen(&daemon, &chatter));
    assert!(
        chatter_lines_now > chatter_lines_when_others_went,
        "the chattering agent kept printing after the idle ones were reaped \
         (last line {chatter_lines_when_others_went} then, {chatter_lines_now} now)"
    );

    // The reaped ones are listed as exited, and counted.
    let (_, handshake) = Client::connect_ready(&daemon).await;
    for terminal_id in [&spinner.terminal_id, &silent] {
        let record = handshake
            .terminal(terminal_id)
            .unwrap_or_else(|| panic!("{terminal_id} is not in the inventory"));
        assert_eq!(record["status"], "exited", "{record}");
    }
    for terminal_id in [&chatter, &watched.terminal_id, &exempt] {
        assert_eq!(
            handshake.terminal(terminal_id).unwrap()["status"],
            "running"
        );
    }
    let metrics = scrape(&daemon);
    assert_eq!(
        metrics.value("ptyhub_sessions_reaped_total", &[("provider", "claude")]),
        Some(2.0)
    );
    assert!(
        metrics
            .value("ptyhub_sessions_reaped_total", &[("provider", "codex")])
            .unwrap_or(0.0)
            == 0.0
    );
}

/// The number of the last "chatter <n>: …" line on a screen (0 if none).
fn last_chatter_line(screen: &str) -> u64 {
    screen
        .lines()
        .filter_map(|l| {
            l.strip_prefix("chatter ")?
                .split(':')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}
