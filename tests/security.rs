//! Who may do what: the full token does everything; the view token only
//! watches. A read-only socket can neither type, resize, create nor kill,
//! whatever its client sends.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_token_socket_watches_but_cannot_type_resize_create_or_kill() {
    let daemon = Daemon::start("");
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    let agent = owner.start_fake_agent().await;
    let terminal_id = agent.terminal_id.as_str();
    owner.type_line(terminal_id, "echo before-viewer").await;
    owner
        .wait_for_text(&agent.attach, "ECHO:before-viewer")
        .await;

    let mut viewer = Client::connect(&daemon)
        .await
        .with_token(&daemon.view_token());
    viewer.hello().await;
    // A resizing intent from a read-only socket must not change the PTY size.
    let watched = viewer
        .attach_with(
            terminal_id,
            Attach {
                intent: "viewport_hydrate",
                cols: 33,
                rows: 11,
                ..Default::default()
            },
        )
        .await;
    viewer.wait_for_text(&watched, "ECHO:before-viewer").await;

    for (message, field) in [
        (
            json!({"type": "terminal.input", "terminalId": terminal_id, "data": "echo sneaky\r"}),
            "terminalId",
        ),
        (
            json!({"type": "terminal.resize", "terminalId": terminal_id, "cols": 40, "rows": 12}),
            "terminalId",
        ),
        (
            json!({"type": "terminal.create", "requestId": "ro-create", "mode": "shell"}),
            "requestId",
        ),
        (
            json!({"type": "terminal.kill", "terminalId": terminal_id}),
            "terminalId",
        ),
    ] {
        viewer.send_json(&message).await;
        let error = viewer.expect_error().await;
        assert_eq!(error["code"], "UNAUTHORIZED", "{message} → {error}");
        assert!(
            error["message"].as_str().unwrap().contains("read-only"),
            "{error}"
        );
        assert_eq!(error[field], message[field], "{error}");
    }

    // Nothing the viewer sent reached the child, and the owner still can.
    owner.type_line(terminal_id, "echo after-viewer").await;
    owner
        .wait_for_text(&agent.attach, "ECHO:after-viewer")
        .await;
    viewer.wait_for_text(&watched, "ECHO:after-viewer").await;
    assert!(
        !owner.stream(&agent.attach).data.contains("sneaky"),
        "read-only input reached the child"
    );
    assert_eq!(
        daemon.live_agents_mentioning(&agent.session_id).len(),
        1,
        "the kill from the read-only socket did nothing"
    );
    assert_eq!(
        daemon.ledger().len(),
        1,
        "the read-only create spawned nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_attach_never_sets_the_pty_size() {
    let daemon = Daemon::start("");
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    let created = owner.create(json!({"mode": "shell"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap();
    let mine = owner.attach(terminal_id).await;

    let mut viewer = Client::connect(&daemon)
        .await
        .with_token(&daemon.view_token());
    viewer.hello().await;
    viewer
        .attach_with(
            terminal_id,
            Attach {
                intent: "viewport_hydrate",
                cols: 33,
                rows: 11,
                ..Default::default()
            },
        )
        .await;
    owner
        .type_line(terminal_id, "echo SIZE-$(stty size | tr ' ' x)-END")
        .await;
    owner
        .wait_for_text(&mine, &format!("SIZE-{ROWS}x{COLS}-END"))
        .await;
}
