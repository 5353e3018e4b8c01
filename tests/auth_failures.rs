//! Failed authentication is logged (peer, route, count; never the token), counted in
//! `/metrics` and slowed down per peer after a few failures; the right token never waits.

mod common;

use std::time::{Duration, Instant};

use common::http::{get, scrape, Auth};
use common::*;
use serde_json::json;

/// ptyhub's `FREE_FAILURES` and `FIRST_DELAY`: the 6th failure waits 100 ms, each next one
/// twice as long.
const FREE_FAILURES: usize = 5;
const FIRST_DELAY: Duration = Duration::from_millis(100);

fn failure_lines(daemon: &Daemon) -> Vec<String> {
    strip_ansi_escapes::strip_str(daemon.log())
        .lines()
        .filter(|l| l.contains("authentication failed"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn wrong_http_tokens_are_logged_counted_and_slowed_but_the_owner_is_not() {
    let daemon = Daemon::start("");
    let wrong = fresh_id("wrong");
    for _ in 0..FREE_FAILURES + 2 {
        let reply = get(&daemon, "/ptyhub/api/sessions", Auth::Bearer(&wrong));
        assert_eq!(reply.status, 401);
    }
    // The 8th failure waits for the delay doubled twice (a lower bound: a sleep never ends early).
    let started = Instant::now();
    let reply = get(&daemon, "/ptyhub/api/sessions", Auth::Query(&wrong));
    assert_eq!(reply.status, 401);
    assert!(
        started.elapsed() >= FIRST_DELAY * 4,
        "the 8th wrong token was answered without the backoff"
    );
    // The owner, from the same address, is served at once: never locked out.
    assert_eq!(
        get(&daemon, "/ptyhub/api/sessions", Auth::Bearer(&daemon.token)).status,
        200
    );

    let counted = scrape(&daemon).value("ptyhub_auth_failures_total", &[("route", "http")]);
    assert_eq!(counted, Some(8.0));
    let lines = failure_lines(&daemon);
    assert!(
        lines.iter().any(|l| l.contains("peer=127.0.0.1")
            && l.contains("route=\"http\"")
            && l.contains("count=8")),
        "no log line for the 8th failure: {lines:#?}"
    );
    assert!(
        !daemon.log().contains(&wrong),
        "a presented token is in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_hellos_are_logged_and_counted() {
    let daemon = Daemon::start("");
    let wrong = fresh_id("wrong");
    for _ in 0..3 {
        let mut guesser = Client::connect(&daemon).await;
        guesser
            .send_json(&json!({"type": "hello", "protocolVersion": 7, "token": wrong}))
            .await;
        let (_, code) = guesser.recv_until_closed(PATIENCE).await;
        assert_eq!(code, Some(4001));
    }
    Client::connect_ready(&daemon).await;
    let scrape = tokio::task::block_in_place(|| scrape(&daemon));
    assert_eq!(
        scrape.value("ptyhub_auth_failures_total", &[("route", "ws_hello")]),
        Some(3.0)
    );
    let lines = failure_lines(&daemon);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"ws_hello\"") && l.contains("count=3")),
        "{lines:#?}"
    );
    assert!(
        !daemon.log().contains(&wrong),
        "a presented token is in the log"
    );
}
