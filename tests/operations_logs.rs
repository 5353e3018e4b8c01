//! The daemon's log is fit for a file and a collector: no colour when stderr is not a
//! terminal, one entry per line, values as values (`pid=31068`, not `pid=Some(31068)`), every
//! refused token or login code a WARN line naming the peer and never the secret, and with
//! `--log-format json` one JSON object per line.

mod common;

use std::time::{Duration, Instant};

use common::http::{get, post, Auth};
use common::*;
use serde_json::{json, Value};

/// Refuses one of each secret a client can present: a token in `hello`, a token over HTTP and
/// a login code. Returns the strings presented, which the log must never hold.
async fn present_wrong_secrets(daemon: &Daemon) -> Vec<String> {
    let wrong_hello = fresh_id("wrong-hello");
    let mut guesser = Client::connect(daemon).await;
    guesser
        .send_json(&json!({"type": "hello", "protocolVersion": 7, "token": wrong_hello}))
        .await;
    let (_, code) = guesser.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4001), "a wrong hello is closed with 4001");

    let wrong_http = fresh_id("wrong-http");
    let wrong_code = fresh_id("wrong-code");
    tokio::task::block_in_place(|| {
        let reply = get(daemon, "/ptyhub/api/sessions", Auth::Bearer(&wrong_http));
        assert_eq!(reply.status, 401);
        let reply = post(
            daemon,
            "/ptyhub/login",
            Auth::None,
            &json!({"code": wrong_code}),
        );
        assert_eq!(reply.status, 401);
    });
    vec![wrong_hello, wrong_http, wrong_code]
}

/// The log once it holds `wanted` lines for which `is_refusal` holds (the daemon logs after
/// answering, so a test may read before the line is written).
fn log_with_refusals(daemon: &Daemon, wanted: usize, is_refusal: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let log = daemon.log();
        if log.lines().filter(|l| is_refusal(l)).count() >= wanted || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `2026-04-14T09:30:00.123456Z …`: what tracing's text format begins every entry with.
fn starts_with_a_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_in_a_file_is_plain_one_entry_a_line_and_names_refused_peers_not_secrets() {
    let daemon = Daemon::start("");
    // A spawn logs its pid and sessionRef, which were once `Some(…)`.
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    owner.start_fake_agent().await;
    let presented = present_wrong_secrets(&daemon).await;

    let log = tokio::task::block_in_place(|| {
        log_with_refusals(&daemon, 3, |l| l.contains("authentication failed"))
    });
    assert!(!log.contains('\x1b'), "colour codes in a log file:\n{log}");
    for line in log.lines() {
        assert!(
            starts_with_a_timestamp(line),
            "a line that is not an entry of its own: {line:?}"
        );
    }
    assert!(
        !log.contains("Some("),
        "a value in Rust's debug form:\n{log}"
    );
    assert!(log.contains(" spawned "), "no spawn line:\n{log}");
    let refusals: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("authentication failed"))
        .collect();
    for route in ["ws_hello", "http", "login_code"] {
        assert!(
            refusals
                .iter()
                .any(|l| l.contains("peer=127.0.0.1") && l.contains(&format!("route=\"{route}\""))),
            "no WARN line naming the peer for a refusal on {route}:\n{log}"
        );
    }
    for secret in &presented {
        assert!(
            !log.contains(secret.as_str()),
            "a presented secret is in the log: {secret}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_log_format_writes_one_object_a_line() {
    let daemon = Daemon::start_with_args("", &["--log-format", "json"]);
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    owner.start_fake_agent().await;
    let presented = present_wrong_secrets(&daemon).await;

    let log = tokio::task::block_in_place(|| {
        log_with_refusals(&daemon, 3, |l| l.contains("authentication failed"))
    });
    let entries: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line:?}"))
        })
        .collect();
    for entry in &entries {
        assert!(
            entry["level"].is_string() && entry["fields"]["message"].is_string(),
            "a log entry without a level or a message: {entry}"
        );
    }
    let refusal = entries
        .iter()
        .find(|e| {
            e["level"] == "WARN"
                && e["fields"]["route"] == "http"
                && e["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("authentication failed"))
        })
        .unwrap_or_else(|| panic!("no WARN entry for the refused HTTP token:\n{log}"));
    assert_eq!(refusal["fields"]["peer"], "127.0.0.1");
    for secret in &presented {
        assert!(
            !log.contains(secret.as_str()),
            "a presented secret is in the log: {secret}"
        );
    }
}
