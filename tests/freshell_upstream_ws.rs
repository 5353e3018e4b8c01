//! `ptyhub serve --freshell-upstream <url>`, the WebSocket side: ptyhub's `/ws` bridged to an
//! unchanged freshell server (`docs/freshell-http-terminals.md` §0, §6).
//!
//! The browser talks only to ptyhub. ptyhub answers the whole terminal family of the WebSocket
//! protocol itself (and `ping`, and the `*.activity.list` requests), and opens one upstream
//! socket to freshell per browser socket for everything else, which passes unchanged and in
//! order, both ways. What a freshell restart or outage costs the browser (neither its socket
//! nor its terminals) is in `freshell_upstream_ws_restarts.rs`; the HTTP side of the bridge is
//! in `freshell_upstream_http.rs` and its siblings.
//!
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`.

mod common;

use common::fake_freshell::*;
use common::upstream_browser::{start_in_front_of, Browser};
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// WebSocket: ptyhub's terminals, freshell's everything else
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_is_ptyhubs_ready_and_inventory_and_freshells_settings_after_ready() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;

    let handshake = browser.handshake().await;

    assert_eq!(
        handshake[0]["type"], "ready",
        "ptyhub's ready comes first: {handshake:#?}"
    );
    let ready = &handshake[0];
    let inventory = handshake
        .iter()
        .find(|m| m["type"] == "terminal.inventory")
        .unwrap();
    assert_eq!(
        inventory["bootId"], ready["bootId"],
        "ptyhub's own inventory"
    );
    for kind in ["settings.updated", "perf.logging"] {
        let forwarded: Vec<&Value> = handshake.iter().filter(|m| m["type"] == kind).collect();
        assert_eq!(
            forwarded.len(),
            1,
            "freshell's {kind}, once: {handshake:#?}"
        );
    }
    let settings_updated = handshake
        .iter()
        .find(|m| m["type"] == "settings.updated")
        .unwrap();
    assert_eq!(settings_updated["settings"], settings(), "unchanged");
    assert_eq!(browser.count("ready"), 1);
    browser.assert_nothing_from_upstream_terminals();

    let hellos = fake.hellos();
    assert_eq!(hellos.len(), 1, "one upstream hello");
    assert_eq!(
        hellos[0].message, browser.hello,
        "the browser's hello, unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_terminal_messages_pass_both_ways_unchanged_and_in_order() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;

    let sent = vec![
        json!({"type": "sessions.prefs", "includeSubagents": true}),
        json!({"type": "tabs.sync.query", "requestId": "q-1", "deviceId": "device-1"}),
        json!({"type": "ui.layout.sync", "tabs": [{"id": "tab-1", "title": "one"}], "activeTabId": "tab-1"}),
        json!({"type": "x-stand-in.probe", "requestId": "probe-1", "payload": {"nested": [1, "two", {"three": 3.5}], "unicode": "é ✓"}}),
        json!({"type": "tabs.sync.push", "records": [], "deviceId": "device-1"}),
        json!({"type": "tabs.sync.query", "requestId": "q-2"}),
        json!({"type": "ui.screenshot.result", "requestId": "shot-1", "ok": true, "imageBase64": "iVBORw0KGgo="}),
        json!({"type": "tabs.sync.query", "requestId": "q-3"}),
    ];
    for message in &sent {
        browser.send(message).await;
    }
    browser
        .until("the answer to q-3", |m| {
            m["type"] == "tabs.sync.snapshot" && m["requestId"] == "q-3"
        })
        .await;

    let connection = fake.hellos()[0].connection;
    let upstream: Vec<Value> = fake
        .frames_on(connection)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(upstream[0], browser.hello);
    assert_eq!(
        upstream[1..],
        sent[..],
        "freshell got every message, unchanged, in order"
    );

    let answers: Vec<String> = browser
        .seen
        .iter()
        .filter(|m| {
            [
                "settings.updated",
                "tabs.sync.snapshot",
                "tabs.sync.ack",
                "error",
            ]
            .contains(&m["type"].as_str().unwrap())
        })
        .map(|m| {
            format!(
                "{} {}",
                m["type"].as_str().unwrap(),
                m["requestId"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            "settings.updated ", // the handshake's
            "settings.updated ", // the answer to sessions.prefs
            "tabs.sync.snapshot q-1",
            "error probe-1",
            "tabs.sync.ack ",
            "tabs.sync.snapshot q-2",
            "tabs.sync.snapshot q-3",
        ],
        "freshell's answers, once each, in order"
    );

    let pushed = vec![
        json!({"type": "sessions.changed", "revision": 1}),
        json!({"type": "perf.logging", "enabled": true}),
        json!({"type": "ui.command", "command": "tab.create", "payload": {"title": "from freshell"}}),
        json!({"type": "session.status", "sessionId": "s-1", "status": "repaired", "orphansFixed": 2}),
        json!({"type": "extensions.registry", "extensions": []}),
        json!({"type": "config.fallback", "reason": "PARSE_ERROR", "backupExists": true}),
        json!({"type": "sessions.changed", "revision": 2}),
    ];
    for message in &pushed {
        fake.push(message.clone());
    }
    let from = browser.seen.len();
    browser
        .until("the last pushed message", |m| {
            *m == pushed[pushed.len() - 1]
        })
        .await;
    assert_eq!(
        browser.seen[from..],
        pushed[..],
        "freshell's messages, unchanged, in order"
    );
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_browser_socket_has_its_own_upstream_socket() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut first = Browser::open(&daemon).await;
    first.handshake().await;
    let mut second = Browser::open(&daemon).await;
    second.handshake().await;
    wait_until("freshell holds two authenticated sockets", PATIENCE, || {
        fake.authenticated_connections().len() == 2
    })
    .await;

    first
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-first"}))
        .await;
    second
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-second"}))
        .await;
    first
        .until("q-first's answer", |m| m["requestId"] == "q-first")
        .await;
    second
        .until("q-second's answer", |m| m["requestId"] == "q-second")
        .await;
    fake.push(json!({"type": "sessions.changed", "revision": 7}));
    first
        .until("the broadcast", |m| m["type"] == "sessions.changed")
        .await;
    second
        .until("the broadcast", |m| m["type"] == "sessions.changed")
        .await;

    let on = |id: &str| {
        fake.frames()
            .into_iter()
            .find(|f| f.message["requestId"] == id)
            .unwrap_or_else(|| panic!("{id} never reached freshell"))
            .connection
    };
    assert_ne!(
        on("q-first"),
        on("q-second"),
        "one upstream socket per browser socket"
    );
    assert!(
        !first.seen.iter().any(|m| m["requestId"] == "q-second"),
        "the first browser got only its own answers"
    );
    assert!(
        !second.seen.iter().any(|m| m["requestId"] == "q-first"),
        "the second browser got only its own answers"
    );

    drop(second);
    wait_until(
        "the second upstream socket is closed with its browser socket",
        PATIENCE,
        || fake.connections_open() == 1,
    )
    .await;
    first
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-still"}))
        .await;
    first
        .until("q-still's answer", |m| m["requestId"] == "q-still")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_refused_by_ptyhub_and_never_reaches_freshell() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut intruder = Client::connect(&daemon).await;

    intruder
        .send_json(
            &json!({"type": "hello", "protocolVersion": 7, "token": "wrong-token-0123456789"}),
        )
        .await;

    let (seen, code) = intruder.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4001), "{seen:#?}");
    assert!(
        seen.iter()
            .any(|m| m["type"] == "error" && m["code"] == "NOT_AUTHENTICATED"),
        "{seen:#?}"
    );
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    assert_eq!(
        fake.connections_opened(),
        1,
        "only the good hello opened an upstream socket"
    );
    assert!(
        !fake.frames().iter().any(|f| f.text.contains("wrong-token")),
        "the bad hello was not forwarded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_traffic_never_reaches_freshell_and_freshells_never_reaches_the_browser() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;

    let terminal_id = browser.create_shell().await;
    let attach = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &attach, "echo hello-$((6*7))", "hello-42")
        .await;
    browser
        .send(
            &json!({"type": "terminal.resize", "terminalId": terminal_id, "cols": 100, "rows": 30}),
        )
        .await;
    browser
        .run(&terminal_id, &attach, "stty size", "30 100")
        .await;
    browser
        .send(&json!({"type": "terminal.detach", "terminalId": terminal_id}))
        .await;
    browser
        .until("terminal.detached", |m| m["type"] == "terminal.detached")
        .await;
    let again = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &again, "echo again-$((7*7))", "again-49")
        .await;
    browser
        .send(&json!({"type": "terminal.kill", "terminalId": terminal_id}))
        .await;
    browser
        .until("terminal.exit", |m| {
            m["type"] == "terminal.exit" && m["terminalId"] == terminal_id.as_str()
        })
        .await;

    // freshell talks about its own terminals, between ordinary messages that must pass.
    for (revision, message) in (1..).zip(upstream_terminal_traffic()) {
        fake.push(message);
        fake.push(json!({"type": "sessions.changed", "revision": revision}));
    }
    let last = upstream_terminal_traffic().len() as u64;
    let from = browser.seen.len();
    browser
        .until("the last sessions.changed", |m| {
            m["type"] == "sessions.changed" && m["revision"] == last
        })
        .await;

    let revisions: Vec<u64> = browser.seen[from..]
        .iter()
        .filter(|m| m["type"] == "sessions.changed")
        .map(|m| m["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(
        revisions,
        (1..=last).collect::<Vec<u64>>(),
        "freshell's ordinary messages all pass, in order"
    );
    browser.assert_nothing_from_upstream_terminals();
    browser.sync_with_upstream().await;
    let forwarded: Vec<String> = fake
        .frames()
        .iter()
        .filter(|f| f.kind().starts_with("terminal."))
        .map(|f| f.text.clone())
        .collect();
    assert!(
        forwarded.is_empty(),
        "terminal messages that reached freshell: {forwarded:#?}"
    );
}

/// WS spec §1.4 and `docs/freshell-http-terminals.md` §6.1: freshell exempts
/// `ui.screenshot.result` from its 1 MiB message cap (screenshots travel as base64).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshot_result_over_one_mebibyte_reaches_freshell_whole() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let image = "iVBORw0KGgo".repeat(300_000); // about 3.3 MB of base64
    let screenshot = json!({"type": "ui.screenshot.result", "requestId": "shot-big", "ok": true, "imageBase64": image});

    browser.send(&screenshot).await;
    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-after-shot"}))
        .await;
    browser
        .until("the answer to q-after-shot", |m| {
            m["requestId"] == "q-after-shot"
        })
        .await;

    let errors: Vec<&Value> = browser
        .seen
        .iter()
        .filter(|m| m["type"] == "error")
        .collect();
    assert!(
        errors.is_empty(),
        "ptyhub refused the screenshot: {errors:#?}"
    );
    let arrived = fake
        .frames()
        .into_iter()
        .find(|f| f.kind() == "ui.screenshot.result")
        .expect("the screenshot reached freshell");
    assert_eq!(arrived.message, screenshot, "unchanged");
}

/// freshell's own cap on a message is 16 MiB; a large one (a tabs snapshot, an agent event)
/// reaches the browser whole and does not cost it its socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshell_message_over_two_mebibytes_reaches_the_browser_whole() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let big = json!({"type": "ui.command", "command": "stand-in.big", "payload": {"blob": "x".repeat(3 * 1024 * 1024)}});

    fake.push(big.clone());
    fake.push(json!({"type": "sessions.changed", "revision": 1}));

    let received = browser
        .until("the 3 MiB ui.command", |m| m["type"] == "ui.command")
        .await;
    assert!(received == big, "the message arrived changed");
    browser
        .until("the message after it", |m| m["type"] == "sessions.changed")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_lists_and_ping_are_answered_by_ptyhub_and_never_forwarded() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let providers = ["claude", "codex", "opencode", "amplifier"];

    for provider in providers {
        browser.send(&json!({"type": format!("{provider}.activity.list"), "requestId": format!("activity-{provider}")})).await;
    }
    browser.send(&json!({"type": "ping"})).await;
    for provider in providers {
        let reply = browser
            .until(&format!("{provider}'s activity list"), |m| {
                m["requestId"] == format!("activity-{provider}").as_str()
            })
            .await;
        assert_eq!(reply["type"], format!("{provider}.activity.list.response"));
        assert_eq!(reply["terminals"], json!([]), "{reply}");
    }
    browser.until("pong", |m| m["type"] == "pong").await;
    browser.sync_with_upstream().await;

    for provider in providers {
        let answers = browser
            .seen
            .iter()
            .filter(|m| m["requestId"] == format!("activity-{provider}").as_str())
            .count();
        assert_eq!(answers, 1, "{provider}: one answer");
    }
    assert_eq!(browser.count("pong"), 1);
    let forwarded: Vec<String> = fake
        .frames()
        .iter()
        .filter(|f| f.kind().ends_with(".activity.list") || f.kind() == "ping")
        .map(|f| f.text.clone())
        .collect();
    assert!(forwarded.is_empty(), "reached freshell: {forwarded:#?}");
    browser.assert_nothing_from_upstream_terminals();
}

// ---------------------------------------------------------------------------------------------
// The stand-in itself
// ---------------------------------------------------------------------------------------------

/// Everything the stand-in may send is a valid protocol-7 server message, so a leak through
/// ptyhub fails these tests on the leak, not on the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_in_speaks_valid_freshell() {
    use tokio_tungstenite::tungstenite::Message;
    let fake = FakeFreshell::start();
    let ws_url = format!("ws://127.0.0.1:{}/ws", fake.port());

    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "hello", "protocolVersion": 7, "token": "not-the-token-0123"})
                .to_string(),
        ))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(Ok(frame)) = socket.next().await {
        match frame {
            Message::Text(text) => seen.push(serde_json::from_str::<Value>(text.as_str()).unwrap()),
            Message::Close(close) => {
                assert_eq!(close.map(|c| u16::from(c.code)), Some(4001));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(seen[0]["code"], "NOT_AUTHENTICATED");

    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "hello", "protocolVersion": 7, "token": fake.token()}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "tabs.sync.query", "requestId": "q"}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(json!({"type": "sessions.prefs"}).to_string()))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "claude.activity.list", "requestId": "a"}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "unknown.kind", "requestId": "u"}).to_string(),
        ))
        .await
        .unwrap();
    let mut messages = Vec::new();
    while messages.len() < 10 {
        let frame = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = frame {
            messages.push(serde_json::from_str::<Value>(text.as_str()).unwrap());
        }
    }
    messages.extend(upstream_terminal_traffic());
    for message in &messages {
        if let Err(why) = schema::validate_server_message(message) {
            panic!("the stand-in sent an invalid message: {why}\n{message}");
        }
    }
    let kinds: Vec<&str> = messages[..10]
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ready",
            "settings.updated",
            "perf.logging",
            "terminal.inventory",
            "terminals.changed",
            "terminal.output",
            "tabs.sync.snapshot",
            "settings.updated",
            "claude.activity.list.response",
            "error"
        ]
    );
}
