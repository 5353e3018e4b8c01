//! One terminal, many viewers (issue 12): the PTY takes the size of the
//! viewer that typed last (a viewer that only watches, attaches or reloads
//! never resizes it), and focus reaches the child as one signal.

mod common;

use common::*;
use serde_json::json;

fn daemon() -> Daemon {
    let value = |path: &str| toml::Value::String(path.to_owned());
    Daemon::start(&format!(
        "[providers.winch]\ncommand = {}\n\n\
         [providers.focus]\ncommand = {}\nargs = [\"--focus-reporting\"]\n",
        value(WINCH_COUNTER),
        value(RAW_INPUT_DUMP)
    ))
}

async fn type_into(client: &mut Client, terminal_id: &str, data: &str) {
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": data}))
        .await;
}

async fn resize(client: &mut Client, terminal_id: &str, cols: u16, rows: u16) {
    client
        .send_json(&json!({"type": "terminal.resize", "terminalId": terminal_id, "cols": cols, "rows": rows}))
        .await;
}

fn sized(cols: u16, rows: u16) -> Attach {
    Attach {
        cols,
        rows,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_reloading_never_resizes_the_typists_pty_until_it_types() {
    let daemon = daemon();
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let created = typist.create(json!({"mode": "winch"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    // Alone, the typist's window is the size.
    let typed = typist.attach(&terminal_id).await;
    typist
        .wait_for_text(&typed, &format!("SIZE:{COLS}x{ROWS}"))
        .await;
    resize(&mut typist, &terminal_id, 100, 30).await;
    typist.wait_for_text(&typed, "WINCH:1:100x30").await;
    type_into(&mut typist, &terminal_id, "a").await;

    // A smaller page reloads ten times: each load attaches at its size and
    // fits its window again, as freshell's frontend does.
    for _ in 0..10 {
        let (mut watcher, _) = Client::connect_ready(&daemon).await;
        let watched = watcher.attach_with(&terminal_id, sized(60, 20)).await;
        watcher.wait_for_text(&watched, "WINCH:1:100x30").await;
        resize(&mut watcher, &terminal_id, 60, 20).await;
        resize(&mut watcher, &terminal_id, 61, 20).await;
        watcher.ping(b"handled").await;
        watcher.close().await;
    }
    let (mut watcher, _) = Client::connect_ready(&daemon).await;
    let watched = watcher.attach_with(&terminal_id, sized(60, 20)).await;
    watcher.wait_for_text(&watched, "WINCH:1:100x30").await;
    watcher.ping(b"handled").await;
    type_into(&mut typist, &terminal_id, "b").await;
    typist.ping(b"handled").await;
    assert_eq!(
        typist.stream(&typed).data.matches("WINCH:").count(),
        1,
        "the watcher resized the PTY: {:?}",
        typist.stream(&typed).data
    );

    // The watcher types: the PTY takes its size, once.
    type_into(&mut watcher, &terminal_id, "w").await;
    typist.wait_for_text(&typed, "WINCH:2:60x20").await;
    type_into(&mut watcher, &terminal_id, "w").await;
    watcher.ping(b"handled").await;
    typist.ping(b"handled").await;
    let output = &typist.stream(&typed).data;
    assert_eq!(output.matches("WINCH:").count(), 2, "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn focus_reaches_the_child_as_one_signal() {
    let daemon = daemon();
    let (mut first, _) = Client::connect_ready(&daemon).await;
    let (mut second, _) = Client::connect_ready(&daemon).await;
    let created = first.create(json!({"mode": "focus"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let seen = first.attach(&terminal_id).await;
    first.wait_for_text(&seen, "RAW-READY").await;
    second.attach(&terminal_id).await;

    // Attaching is not focusing; the first focus-in is the session's.
    type_into(&mut first, &terminal_id, "\x1b[I").await;
    first.ping(b"handled").await;
    type_into(&mut second, &terminal_id, "\x1b[I").await;
    second.ping(b"handled").await;
    type_into(&mut first, &terminal_id, "\x1b[O").await;
    first.ping(b"handled").await;
    // The last one to lose it takes it from the session.
    type_into(&mut second, &terminal_id, "\x1b[O").await;
    second.ping(b"handled").await;
    type_into(&mut first, &terminal_id, "\x1b[I").await;
    first.ping(b"handled").await;
    // Leaving with the focus is losing it.
    first.close().await;
    let (mut marker, _) = Client::connect_ready(&daemon).await;
    let watched = marker.attach(&terminal_id).await;
    let want = "1b5b49".to_owned() + "1b5b4f" + "1b5b49" + "1b5b4f" + "7a";
    // The focus-out of the socket that closed comes before this keystroke.
    let reports = "1b5b491b5b4f1b5b491b5b4f";
    marker
        .wait_for_reported_hex(&watched, reports, |read| read.contains(reports))
        .await;
    type_into(&mut marker, &terminal_id, "z").await;
    marker.wait_for_text(&watched, "HEX:7a").await;
    assert_eq!(reported_hex(&marker.stream(&watched).data), want);
}

/// `PATCH /ptyhub/api/sessions/{terminal_id}` with `body`, as the bearer of `token`.
async fn patch_session(
    daemon: &Daemon,
    terminal_id: &str,
    token: &str,
    body: &str,
) -> common::raw_http::HttpReply {
    let bearer = format!("Bearer {token}");
    common::raw_http::http(
        daemon,
        "PATCH",
        &format!("/ptyhub/api/sessions/{terminal_id}"),
        &[("authorization", bearer.as_bytes())],
        body.as_bytes().to_vec(),
    )
    .await
}

/// A session's size policy changes over the API (full token only) and picks at once among
/// the attached viewers; the session list shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_size_policy_changes_over_the_api() {
    let daemon = daemon();
    let (mut large, _) = Client::connect_ready(&daemon).await;
    let created = large.create(json!({"mode": "winch"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let seen = large.attach_with(&terminal_id, sized(100, 30)).await;
    large.wait_for_text(&seen, "100x30").await;
    let (mut small, _) = Client::connect_ready(&daemon).await;
    small.attach_with(&terminal_id, sized(60, 20)).await;
    small.ping(b"handled").await;
    assert_eq!(
        http::api_session(&daemon, &terminal_id).unwrap()["sizePolicy"],
        "latest"
    );

    let full = daemon.token.clone();
    let changed = patch_session(&daemon, &terminal_id, &full, r#"{"sizePolicy":"smallest"}"#).await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["sizePolicy"], "smallest");
    large.wait_for_text(&seen, ":60x20").await;
    let resizes = large.stream(&seen).data.matches("WINCH:").count();

    let view = daemon.view_token();
    let refused = patch_session(&daemon, &terminal_id, &view, r#"{"sizePolicy":"largest"}"#).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    let bad = patch_session(&daemon, &terminal_id, &full, r#"{"sizePolicy":"huge"}"#).await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    let unknown = patch_session(
        &daemon,
        "no-such-terminal",
        &full,
        r#"{"sizePolicy":"manual"}"#,
    )
    .await;
    assert_eq!(unknown.status, 404);

    // Neither the refused nor the bad change took effect.
    large.ping(b"handled").await;
    assert_eq!(large.stream(&seen).data.matches("WINCH:").count(), resizes);
    assert_eq!(
        http::api_session(&daemon, &terminal_id).unwrap()["sizePolicy"],
        "smallest"
    );
}

/// `GET /ptyhub/api/sessions/{terminal_id}/size{query}` as the bearer of `token`.
async fn get_size(
    daemon: &Daemon,
    terminal_id: &str,
    token: &str,
    query: &str,
) -> common::raw_http::HttpReply {
    let bearer = format!("Bearer {token}");
    common::raw_http::http(
        daemon,
        "GET",
        &format!("/ptyhub/api/sessions/{terminal_id}/size{query}"),
        &[("authorization", bearer.as_bytes())],
        Vec::new(),
    )
    .await
}

/// A viewer that does not drive the size learns the PTY's (a long poll answers when it
/// changes, read-only token enough) and can take it without typing ("use my size"): the
/// child is resized exactly once, and typing in the other viewer takes it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_learns_the_ptys_size_and_takes_it_without_typing() {
    let daemon = daemon();
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let created = typist.create(json!({"mode": "winch"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let typed = typist.attach_with(&terminal_id, sized(100, 30)).await;
    typist.wait_for_text(&typed, "SIZE:100x30").await;
    type_into(&mut typist, &terminal_id, "a").await;
    let (mut watcher, _) = Client::connect_ready(&daemon).await;
    watcher.attach_with(&terminal_id, sized(60, 20)).await;
    watcher.ping(b"handled").await;

    let view = daemon.view_token();
    let now = get_size(&daemon, &terminal_id, &view, "").await;
    assert_eq!(
        now.json(),
        json!({"cols": 100, "rows": 30, "sizePolicy": "latest"}),
        "{}",
        now.text()
    );
    // Asked "unlike 60x20", it answers at once: the PTY is not at the watcher's size.
    let unlike_mine = get_size(&daemon, &terminal_id, &view, "?changedFrom=60x20").await;
    assert_eq!(unlike_mine.json()["cols"], 100);

    // A long poll from the PTY's present size waits for the change the watcher makes.
    let long_poll = get_size(&daemon, &terminal_id, &view, "?changedFrom=100x30");
    tokio::pin!(long_poll);
    tokio::select! {
        early = &mut long_poll => panic!("the long poll answered before any change: {}", early.text()),
        _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
    }
    watcher
        .send_json(
            &json!({"type": "terminal.resize", "terminalId": terminal_id,
            "cols": 60, "rows": 20, "takeSize": true}),
        )
        .await;
    let changed = tokio::time::timeout(std::time::Duration::from_secs(20), long_poll)
        .await
        .expect("the long poll never answered the change");
    assert_eq!(
        changed.json(),
        json!({"cols": 60, "rows": 20, "sizePolicy": "latest"})
    );
    typist.wait_for_text(&typed, "WINCH:1:60x20").await;

    // The typist types: its size comes back, once.
    type_into(&mut typist, &terminal_id, "b").await;
    typist.wait_for_text(&typed, "WINCH:2:100x30").await;
    watcher.ping(b"handled").await;
    typist.ping(b"handled").await;
    let output = &typist.stream(&typed).data;
    assert_eq!(output.matches("WINCH:").count(), 2, "{output:?}");

    let bad = get_size(&daemon, &terminal_id, &view, "?changedFrom=wide").await;
    assert_eq!(bad.status, 400, "{}", bad.text());
}
