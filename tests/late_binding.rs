//! A CLI that picks its own session id (codex) is bound to its session when the session
//! appears where the CLI writes it down (codex's rollout files under `$CODEX_HOME`): every
//! client hears `terminal.session.associated` (spec §6.11), a second tab of that conversation
//! joins the running process, and the session is remembered for a resume after a restart.
//!
//! The fake agent plays codex: its `rollout <id>` command writes the rollout file codex writes
//! (each test daemon has its own `CODEX_HOME`).

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_codex_is_bound_to_the_session_it_writes_down() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let workdir = daemon.scratch_dir("codex-project");
    let other_dir = daemon.scratch_dir("elsewhere");
    let session_id = "019af0c2-5d1e-7a3b-9c4d-2e1f0a9b8c7d";

    let created = client
        .create(json!({"mode": "codex", "cwd": workdir.to_str().unwrap()}))
        .await;
    assert!(
        created.get("sessionRef").is_none(),
        "unbound at first: {created}"
    );
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    // An unbound codex elsewhere must not be taken for it.
    let bystander = client
        .create(json!({"mode": "codex", "cwd": other_dir.to_str().unwrap()}))
        .await;
    let associated = writes_down_its_session(&mut client, &terminal_id, session_id).await;
    assert_eq!(
        associated,
        json!({
            "type": "terminal.session.associated",
            "terminalId": terminal_id,
            "sessionRef": {"provider": "codex", "sessionId": session_id},
        })
    );

    // A second tab of the conversation joins the running codex.
    let (mut second, _) = Client::connect_ready(&daemon).await;
    let joined = second
        .create(
            json!({"mode": "codex", "sessionRef": {"provider": "codex", "sessionId": session_id}}),
        )
        .await;
    assert_eq!(joined["terminalId"], terminal_id.as_str());
    assert!(
        daemon.spawns_mentioning(session_id).is_empty(),
        "no `codex resume` was started: {:#?}",
        daemon.ledger()
    );
    let sessions = common::http::api_sessions(&daemon);
    let listed = sessions
        .iter()
        .find(|s| s["terminalId"] == terminal_id.as_str())
        .expect("listed");
    assert_eq!(listed["sessionRef"]["sessionId"], session_id);
    let bystander = sessions
        .iter()
        .find(|s| s["terminalId"] == bystander["terminalId"])
        .expect("listed");
    assert!(bystander["sessionRef"].is_null(), "{bystander}");

    // Remembered: after a restart the session is there to resume.
    let daemon = daemon.restart();
    let remembered = common::http::api_sessions(&daemon)
        .into_iter()
        .find(|s| s["sessionRef"]["sessionId"] == session_id)
        .expect("the bound session is remembered across a restart");
    assert_eq!(remembered["resumable"], true, "{remembered}");
}

/// A session whose terminal exited is free again: a later terminal that goes on with it (a
/// fresh codex resuming it from its own picker) is bound to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_terminal_exited_is_bound_to_the_next_terminal_that_writes_it_down() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let workdir = daemon.scratch_dir("codex-project");
    let session_id = "019af0c2-5d1e-7a3b-9c4d-000000000001";
    let mut bound_terminals = Vec::new();
    for _ in 0..2 {
        let created = client
            .create(json!({"mode": "codex", "cwd": workdir.to_str().unwrap()}))
            .await;
        let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
        let associated = writes_down_its_session(&mut client, &terminal_id, session_id).await;
        assert_eq!(associated["terminalId"], terminal_id.as_str());
        assert_eq!(associated["sessionRef"]["sessionId"], session_id);
        client.type_line(&terminal_id, "exit 0").await;
        client.wait_for_exit(&terminal_id).await;
        bound_terminals.push(terminal_id);
    }
    assert_ne!(bound_terminals[0], bound_terminals[1]);
}

/// Has the fake codex in `terminal_id` write `session_id` down as its rollout, as codex does
/// when a session starts, and returns the next `terminal.session.associated` the client hears
/// (for whichever terminal: a test can then see a wrong one bound).
async fn writes_down_its_session(
    client: &mut Client,
    terminal_id: &str,
    session_id: &str,
) -> Value {
    let attach = client.attach(terminal_id).await;
    client.wait_for_text(&attach, "fake> ").await;
    client
        .type_line(terminal_id, &format!("rollout {session_id}"))
        .await;
    client
        .recv_until("terminal.session.associated", PATIENCE, |m| {
            m["type"] == "terminal.session.associated"
        })
        .await
}
