//! The daemon is the terminal its children talk to: the queries a child
//! writes are taken out of what viewers get and answered by the daemon, once
//! each, from the screen at that point of the stream (issue 12) — with no
//! viewer, with two, with a hundred, and with one attached after.

mod common;

use common::*;
use serde_json::json;

/// The queries the query-asker fixture writes, as a viewer would see them.
const QUERIES: [&str; 10] = [
    "\x1b[>0q",
    "\x1b[c",
    "\x1b[?u",
    "\x1b[?1007$p",
    "\x1b[c",
    "\x1b[6n",
    "\x1b]10;?\x1b\\",
    "\x1b]11;?\x07",
    "\x1bP$qm\x1b\\",
    "\x1bP+q544e\x1b\\",
];

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
    let answers = hex(&query_asker_answers(2));
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
    let answers = hex(&query_asker_answers(3));
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
    let answers = hex(&query_asker_answers(3));
    assert_eq!(
        reported_hex(&typist.stream(&typed).data),
        format!("{answers}7a")
    );
    for (viewer, attach) in &mut viewers {
        viewer.wait_for_text(attach, "HEX:7a").await;
        assert_no_query_in(&viewer.stream(attach).data, "one of a hundred viewers");
    }
}

/// Every way a viewer comes back — a reconnect resuming with `sinceSeq`, a replay from the
/// start, an attach whose replay budget is too small (a repaint) — neither shows it a query
/// nor makes anything else reach the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_resumes_and_repaints_never_replay_a_query() {
    let daemon = daemon();
    let (mut typist, _) = Client::connect_ready(&daemon).await;
    let created = typist.create(json!({"mode": "cued-asker"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let typed = typist.attach(&terminal_id).await;
    typist.wait_for_text(&typed, "WAITING").await;
    let seq_before_the_queries = typist.stream(&typed).next_seq;
    type_cue_then_keystroke(&mut typist, &terminal_id, &typed).await;
    typist.close().await;

    let comebacks = [
        (
            "a reconnect resuming from before the queries",
            Attach {
                intent: "transport_reconnect",
                since_seq: seq_before_the_queries - 1,
                ..Attach::default()
            },
        ),
        ("a replay from the start", Attach::default()),
        (
            "an attach repainted for want of budget",
            Attach {
                max_replay_bytes: Some(16),
                ..Attach::default()
            },
        ),
    ];
    for (who, attach) in comebacks {
        let (mut viewer, _) = Client::connect_ready(&daemon).await;
        let attach = viewer.attach_with(&terminal_id, attach).await;
        viewer.wait_for_text(&attach, "HEX:7a").await;
        assert_no_query_in(&viewer.stream(&attach).data, who);
        viewer.close().await;
    }

    // The child heard the answers and the keystroke, and nothing since.
    let (mut last, _) = Client::connect_ready(&daemon).await;
    let replayed = last.attach(&terminal_id).await;
    last.send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "q"}))
        .await;
    last.wait_for_text(&replayed, "HEX:71").await;
    assert_eq!(
        reported_hex(&last.stream(&replayed).data),
        format!("{}7a71", hex(&query_asker_answers(3)))
    );
}

/// Sends the cue, waits for the answers, then types "z" and waits for it.
async fn type_cue_then_keystroke(client: &mut Client, terminal_id: &str, attach: &str) {
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "g"}))
        .await;
    let answers = hex(&query_asker_answers(3));
    client
        .wait_for_reported_hex(attach, "the answers", |read| read.contains(&answers))
        .await;
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": "z"}))
        .await;
    client.wait_for_text(attach, "HEX:7a").await;
}
