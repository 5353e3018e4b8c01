//! Sessions outlive the daemon as records (docs/test-contract.md, "Guardrails (issue 4)"):
//! `<state-dir>/sessions.json` remembers every session with a sessionRef; after a restart
//! they are listed as exited and resumable, and the first create naming one resumes it once,
//! however many sockets ask at the same moment. A damaged state file never stops the daemon.

mod common;

use std::path::Path;

use common::http::api_sessions;
use common::*;
use serde_json::{json, Value};

const STATE_FILE: &str = "sessions.json";

/// Session ids in the state file, if it exists and is JSON.
fn remembered_session_ids(state_dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(state_dir.join(STATE_FILE)).ok()?;
    let state: Value = serde_json::from_str(&text).ok()?;
    Some(
        state["sessions"]
            .as_array()?
            .iter()
            .filter_map(|s| s["sessionId"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// The inventory records naming `session_id`.
fn inventory_records<'a>(handshake: &'a Handshake, session_id: &str) -> Vec<&'a Value> {
    handshake.inventory["terminals"]
        .as_array()
        .expect("the inventory lists terminals")
        .iter()
        .filter(|t| t["sessionRef"]["sessionId"] == session_id)
        .collect()
}

/// Files in `dir` whose name starts with `prefix`.
fn files_starting_with(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_as_records_and_resume_once_when_five_sockets_ask() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    // A fresh claude (the daemon chose its id), a restored one (we chose), and a shell
    // (no sessionRef: nothing to resume, nothing to remember).
    let fresh = client.start_fake_agent().await;
    let restored_id = uuid::Uuid::new_v4().to_string();
    let restored_ref = json!({"provider": "claude", "sessionId": restored_id});
    client
        .create(json!({"mode": "claude", "restore": true, "sessionRef": restored_ref}))
        .await;
    let shell = client.create(json!({"mode": "shell"})).await;
    let shell_id = shell["terminalId"].as_str().unwrap().to_owned();
    wait_until("sessions.json names both claude sessions", PATIENCE, || {
        remembered_session_ids(&daemon.state_dir)
            .is_some_and(|ids| ids.contains(&fresh.session_id) && ids.contains(&restored_id))
    })
    .await;
    drop(client);

    let daemon = daemon.restart();
    let ids = remembered_session_ids(&daemon.state_dir).expect("sessions.json is still there");
    assert!(
        ids.contains(&fresh.session_id) && ids.contains(&restored_id),
        "sessions.json keeps both: {ids:?}"
    );

    // A new socket sees both as exited, with their sessionRef; the shell is forgotten.
    let (_, handshake) = Client::connect_ready(&daemon).await;
    for session_id in [&fresh.session_id, &restored_id] {
        let records = inventory_records(&handshake, session_id);
        assert_eq!(
            records.len(),
            1,
            "{session_id} once in {:#}",
            handshake.inventory
        );
        assert_eq!(records[0]["status"], "exited", "{}", records[0]);
        assert_eq!(records[0]["mode"], "claude", "{}", records[0]);
        assert_eq!(
            records[0]["sessionRef"],
            json!({"provider": "claude", "sessionId": session_id})
        );
    }
    assert!(
        handshake.terminal(&shell_id).is_none(),
        "{:#}",
        handshake.inventory
    );
    // The API agrees, and says they can be resumed.
    let api = api_sessions(&daemon);
    for session_id in [&fresh.session_id, &restored_id] {
        let record = api
            .iter()
            .find(|r| r["sessionRef"]["sessionId"] == session_id.as_str())
            .unwrap_or_else(|| panic!("{session_id} not in the API: {api:#?}"));
        assert_eq!(record["status"], "exited", "{record}");
        assert_eq!(record["resumable"], true, "{record}");
        assert_eq!(record["pid"], Value::Null, "{record}");
    }
    assert!(
        daemon.live_agents_mentioning(&fresh.session_id).is_empty(),
        "nothing is respawned eagerly"
    );

    // Five tabs restore the fresh session's pane at the same moment.
    let starts_before = daemon.spawns_mentioning(&fresh.session_id).len();
    assert_eq!(starts_before, 1, "{:#?}", daemon.ledger());
    let fresh_ref = json!({"provider": "claude", "sessionId": fresh.session_id});
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(Client::connect_ready(&daemon).await.0);
    }
    let creates: Vec<Value> = (0..5)
        .map(|_| {
            json!({
                "type": "terminal.create",
                "requestId": fresh_id("req"),
                "mode": "claude",
                "restore": true,
                "sessionRef": fresh_ref,
            })
        })
        .collect();
    let mut terminal_ids = Vec::new();
    for answer in create_at_once(&mut clients, &creates).await {
        assert_eq!(answer["type"], "terminal.created", "{answer}");
        assert_eq!(answer["sessionRef"], fresh_ref, "{answer}");
        terminal_ids.push(answer["terminalId"].as_str().unwrap().to_owned());
    }
    assert!(
        terminal_ids.iter().all(|t| *t == terminal_ids[0]),
        "one terminal for the five: {terminal_ids:?}"
    );
    let attach = clients[0].attach(&terminal_ids[0]).await;
    clients[0].wait_for_text(&attach, "fake> ").await;
    let starts = daemon.spawns_mentioning(&fresh.session_id);
    assert_eq!(
        starts.len(),
        starts_before + 1,
        "one new process: {starts:#?}"
    );
    let resumed = starts.last().unwrap();
    assert_eq!(
        resumed.argv.last().map(String::as_str),
        Some(fresh.session_id.as_str())
    );
    assert_eq!(
        resumed.arg_after("--resume"),
        Some(fresh.session_id.as_str())
    );
    assert_eq!(
        daemon.live_agents_mentioning(&fresh.session_id),
        vec![resumed.pid],
        "exactly that process runs, from /proc"
    );

    // Now it runs (listed once); the other is still a record.
    let (_, handshake) = Client::connect_ready(&daemon).await;
    let records = inventory_records(&handshake, &fresh.session_id);
    assert_eq!(records.len(), 1, "{:#}", handshake.inventory);
    assert_eq!(records[0]["status"], "running", "{}", records[0]);
    assert_eq!(
        records[0]["terminalId"].as_str(),
        Some(terminal_ids[0].as_str())
    );
    let records = inventory_records(&handshake, &restored_id);
    assert_eq!(records.len(), 1, "{:#}", handshake.inventory);
    assert_eq!(records[0]["status"], "exited");
    assert!(daemon.live_agents_mentioning(&restored_id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_is_moved_aside_and_the_daemon_still_serves() {
    const GARBAGE: &str = "{\"version\": 1, \"sessions\": [ {\"terminalId\": tru";
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let agent = client.start_fake_agent().await;
    wait_until("sessions.json names the agent", PATIENCE, || {
        remembered_session_ids(&daemon.state_dir).is_some_and(|ids| ids.contains(&agent.session_id))
    })
    .await;
    drop(client);

    let daemon = daemon.restart_with(|state_dir| {
        std::fs::write(state_dir.join(STATE_FILE), GARBAGE).unwrap();
    });

    let moved = files_starting_with(&daemon.state_dir, "sessions.corrupt-");
    assert_eq!(moved.len(), 1, "the damaged file is kept aside: {moved:?}");
    assert_eq!(
        std::fs::read_to_string(&moved[0]).unwrap(),
        GARBAGE,
        "kept as it was, for a human to look at"
    );

    // The daemon serves, remembering nothing from the damaged file.
    let (mut client, handshake) = Client::connect_ready(&daemon).await;
    client.assert_served().await;
    assert!(
        inventory_records(&handshake, &agent.session_id).is_empty(),
        "{:#}",
        handshake.inventory
    );
    let fresh = client.start_fake_agent().await;
    client
        .type_line(&fresh.terminal_id, "echo still serving")
        .await;
    client
        .wait_for_text(&fresh.attach, "ECHO:still serving")
        .await;

    // And it keeps a good state file again.
    wait_until("a new sessions.json names the new agent", PATIENCE, || {
        remembered_session_ids(&daemon.state_dir).is_some_and(|ids| ids.contains(&fresh.session_id))
    })
    .await;
    assert_eq!(
        files_starting_with(&daemon.state_dir, "sessions.corrupt-").len(),
        1,
        "the moved-aside file is left alone"
    );
}
