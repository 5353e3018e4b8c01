//! Every malformed or unexpected message gets its documented answer, the offending socket
//! stays open where freshell keeps it open, and the daemon keeps serving everyone else
//! (freshell spec §2, §5, §7, §11).

mod common;

use common::*;
use serde_json::{json, Value};

/// A daemon with a bystander typing into its own agent, and a probe socket that misbehaves.
struct Scene {
    daemon: Daemon,
    bystander: Client,
    bystander_terminal: String,
    bystander_attach: String,
    probe: Client,
}

impl Scene {
    async fn new() -> Scene {
        let daemon = Daemon::start("");
        let (mut bystander, _) = Client::connect_ready(&daemon).await;
        let created = bystander.create(json!({"mode": "claude"})).await;
        let bystander_terminal = created["terminalId"].as_str().unwrap().to_owned();
        let bystander_attach = bystander.attach(&bystander_terminal).await;
        bystander.wait_for_text(&bystander_attach, "fake> ").await;
        let (probe, _) = Client::connect_ready(&daemon).await;
        Scene {
            daemon,
            bystander,
            bystander_terminal,
            bystander_attach,
            probe,
        }
    }

    /// The daemon still serves the other socket and its terminal.
    async fn assert_bystander_served(&mut self) {
        let word = fresh_id("alive");
        self.bystander
            .type_line(&self.bystander_terminal, &format!("echo {word}"))
            .await;
        self.bystander
            .wait_for_text(&self.bystander_attach, &format!("ECHO:{word}"))
            .await;
    }

    /// Sends `message` from the probe and returns the error it is answered with.
    async fn probe_error(&mut self, message: Value) -> Value {
        self.probe.send_json(&message).await;
        self.probe.expect_error().await
    }

    /// After a rejected message: the probe's socket is open and the daemon serves everyone.
    async fn assert_all_still_served(&mut self) {
        self.probe.assert_served().await;
        self.assert_bystander_served().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_that_is_not_json_is_invalid_message_and_the_socket_stays_open() {
    let mut scene = Scene::new().await;
    scene.probe.send_text("{this is not json").await;
    let error = scene.probe.expect_error().await;
    assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
    scene.assert_all_still_served().await;

    // Even before hello, and the socket can still say hello afterwards.
    let mut early = Client::connect(&scene.daemon).await;
    early.send_text("not json either").await;
    let error = early.expect_error().await;
    assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
    early.hello().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_type_is_invalid_message_and_the_socket_stays_open() {
    let mut scene = Scene::new().await;
    let error = scene
        .probe_error(json!({"type": "terminal.teleport", "terminalId": "x"}))
        .await;
    assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
    scene.assert_all_still_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_over_one_mebibyte_is_invalid_message_and_the_socket_stays_open() {
    let mut scene = Scene::new().await;
    let huge = "a".repeat(1024 * 1024 + 1);
    let terminal = scene.bystander_terminal.clone();
    let error = scene
        .probe_error(json!({"type": "terminal.input", "terminalId": terminal, "data": huge}))
        .await;
    assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
    scene.assert_all_still_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_legacy_resume_session_id_is_rejected_and_spawns_nothing() {
    let mut scene = Scene::new().await;
    let legacy_id = uuid::Uuid::new_v4().to_string();
    let request_id = fresh_id("req");
    scene
        .probe
        .send_json(&json!({
            "type": "terminal.create", "requestId": request_id, "mode": "claude", "resumeSessionId": legacy_id,
        }))
        .await;
    let error = scene.probe.expect_error_for(&request_id).await;
    assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
    scene.assert_all_still_served().await;
    assert_eq!(
        scene.daemon.ledger().len(),
        1,
        "only the bystander's agent was ever started: {:?}",
        scene.daemon.ledger()
    );
    assert!(scene.daemon.live_agents_mentioning(&legacy_id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_an_unknown_key_is_invalid_message() {
    let mut scene = Scene::new().await;
    let request_id = fresh_id("req");
    scene
        .probe
        .send_json(&json!({"type": "terminal.create", "requestId": request_id, "mode": "claude", "colour": "blue"}))
        .await;
    let error = scene.probe.expect_error_for(&request_id).await;
    assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
    scene.assert_all_still_served().await;
    assert_eq!(
        scene.daemon.ledger().len(),
        1,
        "nothing was spawned: {:?}",
        scene.daemon.ledger()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_session_id_that_is_not_a_uuid_is_invalid_session_id() {
    let mut scene = Scene::new().await;
    for restore in [true, false] {
        let request_id = fresh_id("req");
        scene
            .probe
            .send_json(&json!({
                "type": "terminal.create", "requestId": request_id, "mode": "claude", "restore": restore,
                "sessionRef": {"provider": "claude", "sessionId": "not-a-uuid"},
            }))
            .await;
        let error = scene.probe.expect_error_for(&request_id).await;
        assert_eq!(
            error["code"], "INVALID_SESSION_ID",
            "restore={restore}: {error}"
        );
    }
    scene.assert_all_still_served().await;
    assert_eq!(
        scene.daemon.ledger().len(),
        1,
        "nothing was spawned: {:?}",
        scene.daemon.ledger()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resize_outside_2_to_1000_columns_or_2_to_500_rows_is_invalid_message() {
    let mut scene = Scene::new().await;
    let terminal = scene.bystander_terminal.clone();
    for (cols, rows) in [(1, 24), (1001, 24), (80, 1), (80, 501)] {
        let error = scene
            .probe_error(json!({"type": "terminal.resize", "terminalId": terminal, "cols": cols, "rows": rows}))
            .await;
        assert_eq!(error["code"], "INVALID_MESSAGE", "{cols}x{rows}: {error}");
    }
    scene.assert_all_still_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_to_an_unknown_terminal_is_invalid_terminal_id() {
    let mut scene = Scene::new().await;
    let error = scene
        .probe_error(
            json!({"type": "terminal.input", "terminalId": "no-such-terminal", "data": "hello\r"}),
        )
        .await;
    assert_eq!(error["code"], "INVALID_TERMINAL_ID", "{error}");
    assert_eq!(error["terminalId"], "no-such-terminal", "{error}");
    scene.assert_all_still_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_terminal_messages_of_freshells_ui_are_tolerated() {
    let mut scene = Scene::new().await;
    for provider in ["claude", "codex", "opencode", "amplifier"] {
        let request_id = fresh_id("activity");
        scene
            .probe
            .send_json(
                &json!({"type": format!("{provider}.activity.list"), "requestId": request_id}),
            )
            .await;
        let kind = format!("{provider}.activity.list.response");
        let reply = scene
            .probe
            .recv_until(&kind, PATIENCE, |m| {
                m["type"] == kind.as_str() && m["requestId"] == request_id
            })
            .await;
        // The scene's one agent is a claude, idle.
        let agents = usize::from(provider == "claude");
        assert_eq!(
            reply["terminals"].as_array().unwrap().len(),
            agents,
            "{reply}"
        );
        if agents == 1 {
            assert_eq!(reply["terminals"][0]["phase"], "idle", "{reply}");
        }
    }
    let messages = [
        json!({"type": "sessions.prefs", "includeSubagents": false}),
        json!({"type": "ui.layout.sync", "tabs": [{"id": "tab-1"}], "layouts": {}, "activePane": {}, "timestamp": 1}),
        json!({
            "type": "client.diagnostic", "event": "restore_unavailable", "reason": "dead_live_handle",
            "terminalId": "gone", "tabId": "tab-1", "paneId": "pane-1", "mode": "shell", "hasSessionRef": false,
        }),
    ];
    for message in &messages {
        scene.probe.send_json(message).await;
    }
    scene.assert_all_still_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_detach_or_kill_of_an_unknown_terminal_is_invalid_terminal_id() {
    let mut scene = Scene::new().await;
    let attach_id = scene
        .probe
        .send_attach("no-such-terminal", Attach::default())
        .await;
    let error = scene.probe.expect_error_for(&attach_id).await;
    assert_eq!(error["code"], "INVALID_TERMINAL_ID", "{error}");
    assert_eq!(error["terminalId"], "no-such-terminal", "{error}");
    assert!(error.get("terminalExitCode").is_none(), "{error}");
    for kind in ["terminal.detach", "terminal.kill"] {
        let error = scene
            .probe_error(json!({"type": kind, "terminalId": "no-such-terminal"}))
            .await;
        assert_eq!(error["code"], "INVALID_TERMINAL_ID", "{kind}: {error}");
        assert_eq!(error["terminalId"], "no-such-terminal", "{kind}: {error}");
    }
    scene.assert_all_still_served().await;
}
