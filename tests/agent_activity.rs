//! Which agents are working and which wait for their user, as freshell's sidebar and
//! notifications learn it (issue 13): a submitted line makes a claude busy, the bell its stop
//! hook rings completes the turn, and it is idle again — told as `claude.activity.updated`,
//! `terminal.turn.complete` and `terminal.idle` to every client, answered in
//! `claude.activity.list`, and shown in ptyhub's own session list and metrics. Directly and
//! through the front of a (stand-in) freshell.
//!
//! The fake claude's `turn <path>` works until the test creates `<path>`, so "busy" is
//! observed for certain, not raced.

mod common;

use std::path::PathBuf;

use common::fake_freshell::FakeFreshell;
use common::upstream_browser::{start_in_front_of, Browser};
use common::*;
use serde_json::{json, Value};

fn sessions(daemon: &Daemon) -> Vec<Value> {
    let reply = http::get(
        daemon,
        "/ptyhub/api/sessions",
        http::Auth::Bearer(&daemon.token),
    );
    serde_json::from_str(&reply.body).expect("the session list is JSON")
}

fn activity_in_api(daemon: &Daemon, terminal_id: &str) -> Value {
    sessions(daemon)
        .into_iter()
        .find(|s| s["terminalId"] == terminal_id)
        .map(|s| s["activity"].clone())
        .unwrap_or_else(|| panic!("{terminal_id} is not listed"))
}

fn agents_gauge(daemon: &Daemon, state: &str) -> String {
    let metrics = http::get(daemon, "/metrics", http::Auth::Bearer(&daemon.token)).body;
    let name = format!("ptyhub_agents{{provider=\"claude\",state=\"{state}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&name).map(str::to_owned))
        .unwrap_or_else(|| panic!("no {name} in:\n{metrics}"))
}

fn turn_done_marker(daemon: &Daemon) -> PathBuf {
    daemon.state_dir.join("turn-done")
}

fn assert_activity_record(record: &Value, terminal_id: &str, session_id: &str, phase: &str) {
    assert_eq!(record["terminalId"], terminal_id, "{record}");
    assert_eq!(record["sessionId"], session_id, "{record}");
    assert_eq!(record["phase"], phase, "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_turn_is_busy_then_one_completion_then_idle() {
    let daemon = Daemon::start("");
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    // A sidebar: hears everything, attached to nothing.
    let (mut sidebar, _) = Client::connect_ready(&daemon).await;
    let FakeAgent {
        terminal_id,
        session_id,
        attach,
    } = typist.start_fake_agent().await;

    sidebar
        .send_json(&json!({"type": "claude.activity.list", "requestId": "before"}))
        .await;
    let list = sidebar
        .recv_until("the activity list", PATIENCE, |m| {
            m["requestId"] == "before"
        })
        .await;
    assert_eq!(list["terminals"].as_array().unwrap().len(), 1, "{list}");
    assert_activity_record(&list["terminals"][0], &terminal_id, &session_id, "idle");
    assert_eq!(activity_in_api(&daemon, &terminal_id), "idle");

    let done = turn_done_marker(&daemon);
    typist
        .type_line(&terminal_id, &format!("turn {}", done.display()))
        .await;
    let busy = sidebar
        .recv_until("busy", PATIENCE, |m| m["type"] == "claude.activity.updated")
        .await;
    assert_activity_record(&busy["upsert"][0], &terminal_id, &session_id, "busy");
    assert_eq!(busy["remove"], json!([]));
    typist.wait_for_text(&attach, "WORKING").await;
    assert_eq!(activity_in_api(&daemon, &terminal_id), "busy");
    assert_eq!(agents_gauge(&daemon, "busy"), "1");
    assert_eq!(agents_gauge(&daemon, "waiting"), "0");

    std::fs::write(&done, "").unwrap();
    let complete = sidebar
        .recv_until("the turn's completion", PATIENCE, |m| {
            m["type"] == "terminal.turn.complete"
        })
        .await;
    assert_eq!(complete["terminalId"], terminal_id.as_str());
    assert_eq!(complete["provider"], "claude");
    assert_eq!(complete["sessionId"], session_id.as_str());
    assert_eq!(complete["completionSeq"], 1);
    let idle_again = sidebar
        .recv_until("idle again", PATIENCE, |m| {
            m["type"] == "claude.activity.updated"
        })
        .await;
    assert_activity_record(&idle_again["upsert"][0], &terminal_id, &session_id, "idle");
    let truly_idle = sidebar
        .recv_until("truly idle", PATIENCE, |m| m["type"] == "terminal.idle")
        .await;
    assert_eq!(truly_idle["terminalId"], terminal_id.as_str());
    assert_eq!(truly_idle["reason"], "grace");
    assert_eq!(activity_in_api(&daemon, &terminal_id), "idle");
    assert_eq!(agents_gauge(&daemon, "waiting"), "1");

    sidebar
        .send_json(&json!({"type": "claude.activity.list", "requestId": "after"}))
        .await;
    let list = sidebar
        .recv_until("the activity list", PATIENCE, |m| m["requestId"] == "after")
        .await;
    assert_activity_record(&list["terminals"][0], &terminal_id, &session_id, "idle");
    assert_eq!(
        list["latestTurnCompletions"][0]["completionSeq"], 1,
        "{list}"
    );

    // An agent that ends leaves the lists.
    typist.type_line(&terminal_id, "exit 0").await;
    let gone = sidebar
        .recv_until("the agent leaves the list", PATIENCE, |m| {
            m["type"] == "claude.activity.updated" && m["remove"] == json!([terminal_id])
        })
        .await;
    assert_eq!(gone["upsert"], json!([]));
}

/// The first message the page has read, or reads next, that satisfies `predicate`.
async fn seen_or_next(page: &mut Browser, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
    if let Some(seen) = page.seen.iter().find(|m| predicate(m)) {
        return seen.clone();
    }
    page.until(what, predicate).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_front_a_turn_reaches_freshells_page_in_its_shapes() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut page = Browser::open(&daemon).await;
    page.handshake().await;
    page.send(&json!({"type": "terminal.create", "requestId": "agent", "mode": "claude"}))
        .await;
    let created = page
        .until("the agent's terminal", |m| {
            m["type"] == "terminal.created" && m["requestId"] == "agent"
        })
        .await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let session_id = created["sessionRef"]["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = page.attach(&terminal_id).await;
    let done = turn_done_marker(&daemon);
    page.run(
        &terminal_id,
        &attach,
        &format!("turn {}", done.display()),
        "WORKING",
    )
    .await;
    let busy = seen_or_next(&mut page, "busy", |m| {
        m["type"] == "claude.activity.updated" && m["upsert"][0]["phase"] == "busy"
    })
    .await;
    assert_activity_record(&busy["upsert"][0], &terminal_id, &session_id, "busy");

    std::fs::write(&done, "").unwrap();
    let complete = page
        .until("the turn's completion", |m| {
            m["type"] == "terminal.turn.complete"
        })
        .await;
    assert_eq!(complete["terminalId"], terminal_id.as_str());
    assert_eq!(complete["completionSeq"], 1);
    page.until("idle again", |m| {
        m["type"] == "claude.activity.updated" && m["upsert"][0]["phase"] == "idle"
    })
    .await;
    page.until("truly idle", |m| m["type"] == "terminal.idle")
        .await;
    assert_eq!(page.count("terminal.turn.complete"), 1);
    page.assert_nothing_from_upstream_terminals();
}
