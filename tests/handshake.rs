//! The hello gate: identities in `ready`, the inventory, and every way a socket is refused
//! (freshell spec §1.4, §1.5, §2 item 4, §3).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_carries_a_stable_server_instance_id_and_a_new_boot_id_per_start() {
    let daemon = Daemon::start("");
    let (_, first) = Client::connect_ready(&daemon).await;
    let instance = first.ready["serverInstanceId"]
        .as_str()
        .expect("ready.serverInstanceId")
        .to_owned();
    let boot = first.ready["bootId"]
        .as_str()
        .expect("ready.bootId")
        .to_owned();
    assert!(!instance.is_empty() && !boot.is_empty(), "{}", first.ready);
    assert_eq!(
        first.inventory["bootId"],
        boot.as_str(),
        "the inventory names the same boot"
    );

    let (_, same_boot) = Client::connect_ready(&daemon).await;
    assert_eq!(
        same_boot.ready["bootId"],
        boot.as_str(),
        "one process, one bootId"
    );

    let daemon = daemon.restart();
    let (_, after_restart) = Client::connect_ready(&daemon).await;
    assert_eq!(
        after_restart.ready["serverInstanceId"],
        instance.as_str(),
        "the installation identity survives a restart on the same state dir"
    );
    assert_ne!(
        after_restart.ready["bootId"],
        boot.as_str(),
        "a restart is a new boot"
    );

    let elsewhere = Daemon::start("");
    let (_, other_install) = Client::connect_ready(&elsewhere).await;
    assert_ne!(
        other_install.ready["serverInstanceId"],
        instance.as_str(),
        "another state dir is another installation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_lists_running_and_exited_terminals_with_their_session_ref() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let running = client.create(json!({"mode": "claude"})).await;
    let finished = client.create(json!({"mode": "claude"})).await;
    let shell = client.create(json!({"mode": "shell"})).await;
    let finished_id = finished["terminalId"].as_str().unwrap();
    let attach = client.attach(finished_id).await;
    client.wait_for_text(&attach, "fake> ").await;
    client.type_line(finished_id, "exit 0").await;
    client.wait_for_exit(finished_id).await;

    let (_, handshake) = Client::connect_ready(&daemon).await;
    let listed = handshake
        .terminal(running["terminalId"].as_str().unwrap())
        .expect("running terminal listed");
    assert_eq!(listed["status"], "running", "{listed}");
    assert_eq!(listed["mode"], "claude", "{listed}");
    assert_eq!(listed["sessionRef"], running["sessionRef"], "{listed}");
    let listed = handshake
        .terminal(finished_id)
        .expect("exited terminal still listed");
    assert_eq!(listed["status"], "exited", "{listed}");
    let listed = handshake
        .terminal(shell["terminalId"].as_str().unwrap())
        .expect("shell listed");
    assert_eq!(listed["status"], "running", "{listed}");
    assert_eq!(listed["mode"], "shell", "{listed}");
    assert!(
        listed.get("sessionRef").is_none(),
        "shells have no session: {listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_message_before_hello_is_not_authenticated_and_closes_4001() {
    let daemon = Daemon::start("");
    let mut client = Client::connect(&daemon).await;
    client
        .send_json(&json!({"type": "terminal.input", "terminalId": "t", "data": "x"}))
        .await;
    let (messages, code) = client.recv_until_closed(PATIENCE).await;
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "error" && m["code"] == "NOT_AUTHENTICATED"),
        "{messages:?}"
    );
    assert_eq!(code, Some(4001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_not_authenticated_and_closes_4001() {
    let daemon = Daemon::start("");
    let mut client = Client::connect(&daemon).await;
    client
        .send_json(
            &json!({"type": "hello", "protocolVersion": 7, "token": "not-the-right-token-at-all"}),
        )
        .await;
    let (messages, code) = client.recv_until_closed(PATIENCE).await;
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "error" && m["code"] == "NOT_AUTHENTICATED"),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m["type"] == "ready"),
        "no ready for a wrong token: {messages:?}"
    );
    assert_eq!(code, Some(4001));

    let mut client = Client::connect(&daemon).await;
    client
        .send_json(&json!({"type": "hello", "protocolVersion": 7}))
        .await;
    let (messages, code) = client.recv_until_closed(PATIENCE).await;
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "error" && m["code"] == "NOT_AUTHENTICATED"),
        "{messages:?}"
    );
    assert_eq!(code, Some(4001), "a missing token is a wrong token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_protocol_version_is_protocol_mismatch_and_closes_4010() {
    let daemon = Daemon::start("");
    let mut client = Client::connect(&daemon).await;
    client
        .send_json(&json!({"type": "hello", "protocolVersion": 6, "token": daemon.token}))
        .await;
    let (messages, code) = client.recv_until_closed(PATIENCE).await;
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "error" && m["code"] == "PROTOCOL_MISMATCH"),
        "{messages:?}"
    );
    assert_eq!(code, Some(4010));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_socket_is_closed_4002_after_the_hello_timeout() {
    let daemon = Daemon::start("[server]\nhello_timeout_ms = 500\n");
    let mut silent = Client::connect(&daemon).await;
    let (greeted, _) = Client::connect_ready(&daemon).await;
    let (messages, code) = silent.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4002), "messages before the close: {messages:?}");

    // A socket that said hello in time is not affected by the deadline.
    let mut greeted = greeted;
    tokio::time::sleep(Duration::from_millis(800)).await;
    greeted.assert_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_beyond_max_connections_is_closed_4003() {
    let daemon = Daemon::start("[server]\nmax_connections = 3\n");
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Client::connect_ready(&daemon).await.0);
    }
    // Places are taken by a good hello (a socket that never says hello holds none).
    let mut one_too_many = Client::connect(&daemon).await;
    one_too_many
        .send_json(&json!({"type": "hello", "protocolVersion": 7, "token": daemon.token}))
        .await;
    let (messages, code) = one_too_many.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4003), "messages before the close: {messages:?}");
    for client in open.iter_mut() {
        client.assert_served().await;
    }

    // A closed socket frees its place (the daemon may notice the close a little later).
    drop(open.pop());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut client = Client::connect(&daemon).await;
        client
            .send_json(&json!({"type": "hello", "protocolVersion": 7, "token": daemon.token}))
            .await;
        match client.next_event(PATIENCE).await {
            Some(Event::Message(m)) if m["type"] == "ready" => break,
            Some(Event::Closed(Some(4003))) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("expected ready once a place was free, got {other:?}"),
        }
    }
}

/// Issue 16: a socket that sends nothing at all is given up on long before the hello
/// deadline (`silent_hello_timeout_ms`), so silent sockets cannot pile up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_sends_nothing_is_closed_at_the_silent_deadline() {
    // The hello deadline is far beyond PATIENCE: only the silent deadline can close it in time.
    let daemon =
        Daemon::start("[server]\nhello_timeout_ms = 600000\nsilent_hello_timeout_ms = 300\n");
    let mut silent = Client::connect(&daemon).await;
    let (messages, code) = silent.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4002), "messages before the close: {messages:?}");
    assert!(messages.is_empty(), "{messages:?}");
    Client::connect_ready(&daemon).await.0.assert_served().await;
}
