//! The daemon is the terminal its children talk to: the queries a child
//! writes are taken out of what viewers get and answered by the daemon, once
//! each, from the screen at that point of the stream (issue 12) — with no
//! viewer, with two, with a hundred, and with one attached after.

mod common;

use common::*;
use serde_json::json;

/// The queries the query-asker fixture writes, as a viewer would see them.
const QUERIES: [&str; 8] = [
    "\x1b[>0q",
    "\x1b[c",
    "\x1b[?u",
    "\x1b[?1007$p",
    "\x1b[c",
    "\x1b[6n",
    "\x1b]10;?\x1b\\",
    "\x1b]11;?\x07",
];

/// One answer per query, in order; `row` is where the cursor stood.
fn answers(row: u16) -> String {
    [
        format!("\x1bP>|ptyhub {}\x1b\\", env!("CARGO_PKG_VERSION")),
        "\x1b[?1;2c".to_owned(),
        "\x1b[?0u".to_owned(),
        // Alternate scroll is on by default in the model.
        "\x1b[?1007;1$y".to_owned(),
        "\x1b[?1;2c".to_owned(),
        format!("\x1b[{row};1R"),
        "\x1b]10;rgb:d7d7/dcdc/e2e2\x1b\\".to_owned(),
        "\x1b]11;rgb:1010/1313/1818\x07".to_owned(),
    ]
    .concat()
}

/// What the fixture reported from the screen's text, whose rows cut long `HEX:` lines.
fn answered_hex_on_screen(screen: &str) -> String {
    screen
        .replace('\n', "")
        .split("HEX:")
        .skip(1)
        .flat_map(|rest| rest.chars().take_while(char::is_ascii_hexdigit))
        .collect()
}

fn daemon() -> Daemon {
    let asker = toml::Value::String(QUERY_ASKER.to_owned());
    Daemon::start(&format!(
        "[providers.asker]\ncommand = {asker}\n\n\
         [providers.cued-asker]\ncommand = {asker}\nargs = [\"--on-cue\"]\n"
    ))
}

fn assert_no_query_in(output: &str, who: &str) {
    for query in QUERIES {
        assert!(
            !output.contains(query),
            "{who} was sent the query {query:?}: {output:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_nobody_watches_gets_one_answer_per_query() {
    let daemon = daemon();
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

    // The cursor after "ASKING\r\n".
    let answers = hex(&answers(2));
    wait_until("the child is answered", PATIENCE, || {
        answered_hex_on_screen(&screen()).contains(&answers)
    })
    .await;

    // Input queues in order: anything else the child was sent before this
    // keystroke shows before it.
    let attach = client.attach(&terminal_id).await;
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "z"}))
        .await;
    client.wait_for_text(&attach, "HEX:7a").await;
    let output = &client.stream(&attach).data;
    assert_eq!(reported_hex(output), format!("{answers}7a"));
    assert_no_query_in(output, "a viewer attached after the queries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_never_see_the_queries_and_the_child_hears_one_answer_each() {
    let daemon = daemon();
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let (mut watcher, _) = Client::connect_ready(&daemon).await;
    let created = typist.create(json!({"mode": "cued-asker"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let typed = typist.attach(&terminal_id).await;
    let watched = watcher.attach(&terminal_id).await;
    typist.wait_for_text(&typed, "WAITING").await;
    watcher.wait_for_text(&watched, "WAITING").await;

    // The cue, then a keystroke after the answers; the cursor after
    // "WAITING\r\nASKING\r\n".
    type_cue_then_keystroke(&mut typist, &terminal_id, &typed).await;
    let answers = hex(&answers(3));
    watcher.wait_for_text(&watched, "HEX:7a").await;

    for (client, attach, who) in [
        (&typist, &typed, "the typist"),
        (&watcher, &watched, "the watcher"),
    ] {
        let output = &client.stream(attach).data;
        assert_eq!(reported_hex(output), format!("{answers}7a"), "{who}");
        assert_no_query_in(output, who);
    }

    // A viewer that arrives later replays the output without them too.
    let (mut late, _) = Client::connect_ready(&daemon).await;
    let replayed = late.attach(&terminal_id).await;
    late.wait_for_text(&replayed, "HEX:7a").await;
    assert_no_query_in(&late.stream(&replayed).data, "a late viewer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_viewers_change_nothing_the_child_hears() {
    let asker = toml::Value::String(QUERY_ASKER.to_owned());
    let daemon = Daemon::start(&format!(
        "[server]\nmax_connections = 128\n\n\
         [providers.cued-asker]\ncommand = {asker}\nargs = [\"--on-cue\"]\n"
    ));
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let created = typist.create(json!({"mode": "cued-asker"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let typed = typist.attach(&terminal_id).await;
    typist.wait_for_text(&typed, "WAITING").await;
    let mut viewers = Vec::new();
    for _ in 0..99 {
        let (mut viewer, _) = Client::connect_ready(&daemon).await;
        let attach = viewer.attach(&terminal_id).await;
        viewer.wait_for_text(&attach, "WAITING").await;
        viewers.push((viewer, attach));
    }

    type_cue_then_keystroke(&mut typist, &terminal_id, &typed).await;
    let answers = hex(&answers(3));
    assert_eq!(
        reported_hex(&typist.stream(&typed).data),
        format!("{answers}7a")
    );
    for (viewer, attach) in &mut viewers {
        viewer.wait_for_text(attach, "HEX:7a").await;
        assert_no_query_in(&viewer.stream(attach).data, "one of a hundred viewers");
    }
}

/// Sends the cue, waits for the answers, then types "z" and waits for it.
async fn type_cue_then_keystroke(client: &mut Client, terminal_id: &str, attach: &str) {
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "g"}))
        .await;
    let answers = hex(&answers(3));
    client
        .wait_for_reported_hex(attach, "the answers", |read| read.contains(&answers))
        .await;
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "z"}))
        .await;
    client.wait_for_text(attach, "HEX:7a").await;
}
