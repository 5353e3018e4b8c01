//! `ptyhub serve --freshell-upstream <url>`, the WebSocket side across freshell restarts
//! (`docs/freshell-http-terminals.md` §6).
//!
//! freshell's terminals die with its server, which is why ptyhub sits in front of it: a
//! freshell restart or outage must cost the browser neither its socket nor its terminals.
//! ptyhub serves a browser that arrives while freshell is down, reconnects when freshell is
//! back, replays the browser's hello and latest state, and forwards what was queued meanwhile.
//!
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`.

mod common;

use common::fake_freshell::*;
use common::upstream_browser::{authorized_get, start_in_front_of, Browser};
use common::*;
use serde_json::{json, Value};

/// A browser may (re)connect while freshell restarts: ptyhub serves it at once and joins it
/// to freshell when freshell is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_arriving_while_freshell_is_down_is_served_and_joined_later() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    fake.stop();
    let mut browser = Browser::open(&daemon).await;

    let hello = browser.hello.clone();
    browser.send(&hello).await;
    browser.until("ready", |m| m["type"] == "ready").await;
    browser
        .until("terminal.inventory", |m| m["type"] == "terminal.inventory")
        .await;
    let terminal_id = browser.create_shell().await;
    let attach = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &attach, "echo early-$((8*8))", "early-64")
        .await;
    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-early"}))
        .await;

    fake.restart();
    browser
        .until("freshell's settings.updated", |m| {
            m["type"] == "settings.updated"
        })
        .await;
    browser
        .until("the answer to q-early", |m| m["requestId"] == "q-early")
        .await;
    let upstream: Vec<Value> = fake.frames().into_iter().map(|f| f.message).collect();
    assert_eq!(upstream.first(), Some(&hello), "the hello went first");
    assert_eq!(browser.count("ready"), 1);
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_and_restarting_freshell_keeps_the_browser_socket_and_every_terminal() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (mut browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    let attach = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &attach, "echo before-$((20+1))", "before-21")
        .await;

    fake.stop();
    fake.refuse_connections();
    wait_until(
        "ptyhub notices freshell is gone and tries to reconnect",
        PATIENCE,
        || fake.refused_attempts() > 0,
    )
    .await;

    browser
        .run(&terminal_id, &attach, "echo during-$((30+1))", "during-31")
        .await;
    let queued = vec![
        json!({"type": "tabs.sync.query", "requestId": "q-outage"}),
        json!({"type": "ui.layout.sync", "tabs": [], "activeTabId": null}),
        json!({"type": "x-stand-in.probe", "requestId": "probe-outage"}),
    ];
    for message in &queued {
        browser.send(message).await;
    }
    browser
        .run(&terminal_id, &attach, "echo still-$((40+1))", "still-41")
        .await;

    fake.restart();
    settle_until(PATIENCE, || {
        fake.frames_of_incarnation(2).len() > queued.len()
    })
    .await;
    let upstream: Vec<Value> = fake
        .frames_of_incarnation(2)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        upstream.first(),
        Some(&browser.hello),
        "ptyhub re-sends the browser's hello (same token) first"
    );
    assert_eq!(
        upstream.iter().skip(1).cloned().collect::<Vec<Value>>(),
        queued,
        "then what the browser sent during the outage, in order"
    );
    browser
        .until("the restarted freshell's answer to q-outage", |m| {
            m["requestId"] == "q-outage"
        })
        .await;
    browser
        .until("the answer to probe-outage", |m| {
            m["requestId"] == "probe-outage"
        })
        .await;

    browser
        .run(&terminal_id, &attach, "echo after-$((50+1))", "after-51")
        .await;
    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-after"}))
        .await;
    browser
        .until("the answer to q-after", |m| m["requestId"] == "q-after")
        .await;
    assert_eq!(
        browser.count("ready"),
        1,
        "no second ready: same ptyhub, same bootId"
    );
    assert_eq!(browser.count("terminal.exit"), 0);
    let settings_reply = authorized_get(&daemon, "/api/settings").await;
    assert_eq!(
        settings_reply.status,
        200,
        "HTTP reaches the restarted freshell: {}",
        settings_reply.text()
    );
    assert!(settings_reply.served_by_freshell());
    browser.assert_nothing_from_upstream_terminals();
    let listed = authorized_get(&daemon, "/api/terminals").await;
    let running = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["terminalId"] == terminal_id.as_str() && t["status"] == "running");
    assert!(
        running,
        "the shell is still listed as running: {}",
        listed.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshell_closing_with_4009_does_not_close_the_browser_socket() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (mut browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    let attach = browser.attach(&terminal_id).await;

    fake.stop_gracefully(4009).await;
    browser
        .run(&terminal_id, &attach, "echo alone-$((2+3))", "alone-5")
        .await;
    fake.restart();
    wait_until(
        "ptyhub reconnects to the restarted freshell",
        PATIENCE,
        || !fake.frames_of_incarnation(2).is_empty(),
    )
    .await;

    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-reconnected"}))
        .await;
    browser
        .until("the answer to q-reconnected", |m| {
            m["requestId"] == "q-reconnected"
        })
        .await;
    browser
        .run(&terminal_id, &attach, "echo back-$((3+4))", "back-7")
        .await;
    assert_eq!(browser.count("ready"), 1, "no second ready");
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_freshell_gets_the_browsers_latest_layout_again() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let old_layout =
        json!({"type": "ui.layout.sync", "tabs": [{"id": "old"}], "activeTabId": "old"});
    let layout = json!({"type": "ui.layout.sync", "tabs": [{"id": "t1"}], "activeTabId": "t1"});
    let prefs = json!({"type": "sessions.prefs", "includeSubagents": true});
    for message in [&old_layout, &layout, &prefs] {
        browser.send(message).await;
    }
    settle_until(PATIENCE, || fake.frames_of_incarnation(1).len() > 3).await;

    // freshell keeps layout and preferences per socket: a restart forgets them.
    fake.stop_gracefully(4009).await;
    fake.restart();
    settle_until(PATIENCE, || fake.frames_of_incarnation(2).len() >= 3).await;
    let upstream: Vec<Value> = fake
        .frames_of_incarnation(2)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        upstream.first(),
        Some(&browser.hello),
        "the hello comes first"
    );
    assert_eq!(
        upstream[1..3].to_vec(),
        vec![layout, prefs],
        "then the latest state the browser sent, once each"
    );
    assert!(
        !upstream.contains(&old_layout),
        "an outdated layout is not re-sent"
    );
}
