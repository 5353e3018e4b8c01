//! The daemon is the terminal its children talk to: a child's terminal
//! queries are answered by the daemon's screen model, once each, from the
//! state at that point of the stream (issue 12). For now it answers only
//! while no viewer is attached (the viewers' terminals still answer the
//! queries they see): a session nobody watches is answered at all.

mod common;

use common::*;
use serde_json::json;

/// The hex the query-asker fixture reported, from its complete `HEX:` lines.
fn answered_hex(screen: &str) -> String {
    screen
        .split("HEX:")
        .skip(1)
        .map(|rest| rest.split(['\r', '\n']).next().unwrap_or(""))
        .collect()
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_nobody_watches_gets_one_answer_per_query() {
    let config = format!(
        "[providers.asker]\ncommand = {}\n",
        toml::Value::String(QUERY_ASKER.to_owned())
    );
    let daemon = Daemon::start(&config);
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let created = client.create(json!({"mode": "asker"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let screen = || {
        http::get(
            &daemon,
            &format!("/ptyhub/api/sessions/{terminal_id}/screen"),
            http::Auth::Bearer(&daemon.token),
        )
        .body
    };

    // DA1 as xterm.js answers it; the cursor after "ASKING\r\n".
    let answers = hex("\x1b[?1;2c\x1b[2;1R");
    wait_until("the child is answered", PATIENCE, || {
        answered_hex(&screen()).contains(&answers)
    })
    .await;

    // Input queues in order: whatever else the child was sent before this
    // keystroke shows before it.
    let attach = client.attach(&terminal_id).await;
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "z"}))
        .await;
    client.wait_for_text(&attach, "HEX:7a").await;
    assert_eq!(answered_hex(&screen()), format!("{answers}7a"));
}
