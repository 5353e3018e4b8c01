//! Tokens: a weak one is refused at start, no ptyhub secret reaches a child's environment,
//! and no token appears in the log, even at `RUST_LOG=trace`.

mod common;

use common::daemon::serve_refused;
use common::http::{get, Auth};
use common::*;
use serde_json::json;

#[test]
fn weak_tokens_are_refused_at_start_with_a_way_to_make_a_good_one() {
    let good = fresh_id("token");
    for weak in [
        "short",
        "aaaaaaaaaaaaaaaa",
        "abcdabcdabcdabcdabcd",
        "aaaaaaaaaaaaaaaaaaab",
    ] {
        let state = tempfile::tempdir().unwrap();
        let stderr = serve_refused(state.path(), &[("AUTH_TOKEN", weak)]);
        assert!(stderr.contains("AUTH_TOKEN"), "{weak}: {stderr}");
        assert!(stderr.contains("openssl rand"), "{weak}: {stderr}");
        assert!(
            !stderr.contains(weak),
            "the refusal repeats the token: {stderr}"
        );
    }
    for weak in ["a", "vvvvvvvvvvvvvvvvvvvv"] {
        let state = tempfile::tempdir().unwrap();
        let stderr = serve_refused(
            state.path(),
            &[("AUTH_TOKEN", &good), ("PTYHUB_VIEW_TOKEN", weak)],
        );
        assert!(stderr.contains("PTYHUB_VIEW_TOKEN"), "{weak}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ptyhub_secret_reaches_a_child() {
    let view_token = fresh_id("view");
    let daemon = Daemon::start_with_env("", &[("PTYHUB_VIEW_TOKEN", &view_token)]);
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let agent = client.start_fake_agent().await;
    let child = daemon.spawns_mentioning(&agent.session_id)[0].pid;
    let environ = std::fs::read(format!("/proc/{child}/environ")).expect("the child runs");
    for var in environ.split(|&b| b == 0) {
        let var = String::from_utf8_lossy(var);
        let (name, value) = var.split_once('=').unwrap_or((&var, ""));
        assert!(
            !["AUTH_TOKEN", "PTYHUB_VIEW_TOKEN"].contains(&name),
            "the child inherited {name}"
        );
        assert!(
            !value.contains(&daemon.token) && !value.contains(&view_token),
            "the child's {name} holds a ptyhub token"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_is_logged_even_at_trace_level() {
    let daemon = Daemon::start_with_env("", &[("RUST_LOG", "trace")]);
    let view_token = daemon.view_token();
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    owner.start_fake_agent().await;
    let mut viewer = Client::connect(&daemon).await.with_token(&view_token);
    viewer.hello().await;
    let mut wrong = Client::connect(&daemon).await;
    let wrong_token = fresh_id("wrong");
    wrong
        .send_json(&json!({"type": "hello", "protocolVersion": 7, "token": wrong_token}))
        .await;
    wrong.recv_until_closed(PATIENCE).await;
    for token in [
        daemon.token.as_str(),
        view_token.as_str(),
        wrong_token.as_str(),
    ] {
        for auth in [Auth::Bearer(token), Auth::Query(token)] {
            get(&daemon, "/ptyhub/api/sessions", auth);
            get(&daemon, "/metrics", auth);
        }
    }
    owner.close().await;
    viewer.close().await;

    let log = daemon.log();
    assert!(
        log.contains("TRACE"),
        "the daemon did not log at trace level"
    );
    for token in [
        daemon.token.as_str(),
        view_token.as_str(),
        wrong_token.as_str(),
    ] {
        let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
        let spaced: String = token.bytes().map(|b| format!("{b:02x} ")).collect();
        assert!(
            !log.contains(token) && !log.contains(&hex) && !log.contains(spaced.trim_end()),
            "a token is in the trace log"
        );
    }
}
