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

async fn opencode_activity(client: &mut Client, request_id: &str) -> Value {
    client
        .send_json(&json!({"type": "opencode.activity.list", "requestId": request_id}))
        .await;
    client
        .recv_until("the opencode activity list", PATIENCE, |m| {
            m["requestId"] == request_id
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencode_reports_its_own_turns_through_its_server_and_is_bound_to_its_session() {
    let daemon = Daemon::start("");
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let (mut sidebar, _) = Client::connect_ready(&daemon).await;
    let created = typist.create(json!({"mode": "opencode"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    assert!(created.get("sessionRef").is_none(), "{created}");
    let attach = typist.attach(&terminal_id).await;
    typist.wait_for_text(&attach, "fake> ").await;
    let argv = &daemon.ledger()[0].argv;
    let port_at = argv.iter().position(|a| a == "--port").expect("--port");
    assert_eq!(
        argv[port_at - 2..port_at],
        ["--hostname", "127.0.0.1"],
        "{argv:?}"
    );
    assert!(argv[port_at + 1].parse::<u16>().is_ok(), "{argv:?}");
    let list = opencode_activity(&mut sidebar, "before").await;
    assert_eq!(
        list["terminals"],
        json!([]),
        "an idle opencode is not listed: {list}"
    );

    let done = turn_done_marker(&daemon);
    typist
        .type_line(&terminal_id, &format!("turn {}", done.display()))
        .await;
    let busy = sidebar
        .recv_until("busy", PATIENCE, |m| {
            m["type"] == "opencode.activity.updated"
        })
        .await;
    assert_eq!(
        busy["upsert"][0]["terminalId"],
        terminal_id.as_str(),
        "{busy}"
    );
    assert_eq!(busy["upsert"][0]["phase"], "busy", "{busy}");
    let associated = typist
        .recv_until("the session it works in", PATIENCE, |m| {
            m["type"] == "terminal.session.associated"
        })
        .await;
    assert_eq!(associated["terminalId"], terminal_id.as_str());
    assert_eq!(associated["sessionRef"]["provider"], "opencode");
    let session_id = associated["sessionRef"]["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(session_id.starts_with("ses_"), "{associated}");
    let list = opencode_activity(&mut sidebar, "busy").await;
    assert_activity_record(&list["terminals"][0], &terminal_id, &session_id, "busy");

    std::fs::write(&done, "").unwrap();
    let complete = sidebar
        .recv_until("the turn's completion", PATIENCE, |m| {
            m["type"] == "terminal.turn.complete"
        })
        .await;
    assert_eq!(complete["provider"], "opencode");
    assert_eq!(complete["sessionId"], session_id.as_str());
    assert_eq!(complete["completionSeq"], 1, "{complete}");
    let removed = sidebar
        .recv_until("no longer listed", PATIENCE, |m| {
            m["type"] == "opencode.activity.updated"
        })
        .await;
    assert_eq!(removed["remove"], json!([terminal_id]), "{removed}");
    sidebar
        .recv_until("truly idle", PATIENCE, |m| m["type"] == "terminal.idle")
        .await;
    let list = opencode_activity(&mut sidebar, "after").await;
    assert_eq!(list["terminals"], json!([]), "{list}");
    assert_eq!(
        list["latestTurnCompletions"][0]["completionSeq"], 1,
        "{list}"
    );

    // A subtask's child session at work is its parent's work, not a turn of its own: the
    // second turn completes while the subtask still works.
    let subtask_done = daemon.state_dir.join("subtask-done");
    typist
        .type_line(&terminal_id, &format!("subtask {}", subtask_done.display()))
        .await;
    typist.wait_for_text(&attach, "SUBTASK-STARTED").await;
    let second_done = daemon.state_dir.join("second-turn-done");
    typist
        .type_line(&terminal_id, &format!("turn {}", second_done.display()))
        .await;
    sidebar
        .recv_until("busy again", PATIENCE, |m| {
            m["type"] == "opencode.activity.updated" && m["upsert"][0]["phase"] == "busy"
        })
        .await;
    std::fs::write(&second_done, "").unwrap();
    let complete = sidebar
        .recv_until("the second turn's completion", PATIENCE, |m| {
            m["type"] == "terminal.turn.complete"
        })
        .await;
    assert_eq!(complete["completionSeq"], 2, "{complete}");
    std::fs::write(&subtask_done, "").unwrap();
    let listed = sessions(&daemon)
        .into_iter()
        .find(|s| s["terminalId"] == terminal_id.as_str())
        .unwrap();
    assert_eq!(
        listed["sessionRef"]["sessionId"],
        session_id.as_str(),
        "{listed}"
    );
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
