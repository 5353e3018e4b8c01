//! Who may do what: the full token does everything; the view token only
//! watches. A read-only socket can neither type, resize, create nor kill,
//! whatever its client sends.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_token_socket_watches_but_cannot_type_resize_create_or_kill() {
    let daemon = Daemon::start("");
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    let agent = owner.start_fake_agent().await;
    let terminal_id = agent.terminal_id.as_str();
    owner.type_line(terminal_id, "echo before-viewer").await;
    owner
        .wait_for_text(&agent.attach, "ECHO:before-viewer")
        .await;

    let mut viewer = Client::connect(&daemon)
        .await
        .with_token(&daemon.view_token());
    viewer.hello().await;
    // A resizing intent from a read-only socket must not change the PTY size.
    let watched = viewer
        .attach_with(
            terminal_id,
            Attach {
                intent: "viewport_hydrate",
                cols: 33,
                rows: 11,
                ..Default::default()
            },
        )
        .await;
    viewer.wait_for_text(&watched, "ECHO:before-viewer").await;

    for (message, field) in [
        (
            json!({"type": "terminal.input", "terminalId": terminal_id, "data": "echo sneaky\r"}),
            "terminalId",
        ),
        (
            json!({"type": "terminal.resize", "terminalId": terminal_id, "cols": 40, "rows": 12}),
            "terminalId",
        ),
        (
            json!({"type": "terminal.create", "requestId": "ro-create", "mode": "shell"}),
            "requestId",
        ),
        (
            json!({"type": "terminal.kill", "terminalId": terminal_id}),
            "terminalId",
        ),
    ] {
        viewer.send_json(&message).await;
        let error = viewer.expect_error().await;
        assert_eq!(error["code"], "UNAUTHORIZED", "{message} → {error}");
        assert!(
            error["message"].as_str().unwrap().contains("read-only"),
            "{error}"
        );
        assert_eq!(error[field], message[field], "{error}");
    }

    // Nothing the viewer sent reached the child, and the owner still can.
    owner.type_line(terminal_id, "echo after-viewer").await;
    owner
        .wait_for_text(&agent.attach, "ECHO:after-viewer")
        .await;
    viewer.wait_for_text(&watched, "ECHO:after-viewer").await;
    assert!(
        !owner.stream(&agent.attach).data.contains("sneaky"),
        "read-only input reached the child"
    );
    assert_eq!(
        daemon.live_agents_mentioning(&agent.session_id).len(),
        1,
        "the kill from the read-only socket did nothing"
    );
    assert_eq!(
        daemon.ledger().len(),
        1,
        "the read-only create spawned nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_attach_never_sets_the_pty_size() {
    let daemon = Daemon::start("");
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    let created = owner.create(json!({"mode": "shell"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap();
    let mine = owner.attach(terminal_id).await;

    let mut viewer = Client::connect(&daemon)
        .await
        .with_token(&daemon.view_token());
    viewer.hello().await;
    viewer
        .attach_with(
            terminal_id,
            Attach {
                intent: "viewport_hydrate",
                cols: 33,
                rows: 11,
                ..Default::default()
            },
        )
        .await;
    owner
        .type_line(terminal_id, "echo SIZE-$(stty size | tr ' ' x)-END")
        .await;
    owner
        .wait_for_text(&mine, &format!("SIZE-{ROWS}x{COLS}-END"))
        .await;
}

/// Every route that reads sessions wants a token; the static web client
/// (no data in it) and the health check do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_data_route_needs_a_token_and_the_view_token_only_reads() {
    use common::http::{get, Auth};
    let daemon = Daemon::start("");
    let (mut owner, _) = Client::connect_ready(&daemon).await;
    let agent = owner.start_fake_agent().await;
    let view = daemon.view_token();
    for route in [
        "/ptyhub/api/sessions".to_owned(),
        format!("/ptyhub/api/sessions/{}/screen", agent.terminal_id),
        "/metrics".to_owned(),
    ] {
        assert_eq!(
            get(&daemon, &route, Auth::None).status,
            401,
            "{route} without a token"
        );
        assert_eq!(
            get(&daemon, &route, Auth::Bearer("not-the-token-0000")).status,
            401,
            "{route} with a wrong token"
        );
        assert_eq!(
            get(&daemon, &route, Auth::Bearer(&daemon.token)).status,
            200,
            "{route}"
        );
        assert_eq!(
            get(&daemon, &route, Auth::Query(&view)).status,
            200,
            "{route} with the view token"
        );
    }
    for open in ["/", "/app.js", "/app.css", "/ptyhub/", "/healthz"] {
        assert_eq!(get(&daemon, open, Auth::None).status, 200, "{open}");
    }
}

/// A page from another site cannot open the socket: its Origin is refused
/// before the WebSocket handshake. The daemon's own page (same host) and
/// non-browser clients (no Origin) pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_refused_before_the_handshake() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let daemon = Daemon::start("");
    let with_origin = |origin: &str| {
        let mut request = daemon.ws_url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        request
    };
    let foreign = tokio_tungstenite::connect_async(with_origin("https://evil.example")).await;
    match foreign {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("a foreign origin must be refused with 403, got {other:?}"),
    }
    let same_host = format!("http://127.0.0.1:{}", daemon.port);
    assert!(
        tokio_tungstenite::connect_async(with_origin(&same_host))
            .await
            .is_ok(),
        "the daemon's own page may connect"
    );
    // And the daemon keeps serving.
    Client::connect_ready(&daemon).await;
}

/// Client strings reach children as single argv entries or environment
/// values, never through a shell: shell syntax in a cwd, a sessionId or a
/// tab id runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_strings_never_reach_a_shell() {
    let daemon = Daemon::start("");
    let marker_dir = daemon.scratch_dir("pwn");
    let marker = marker_dir.join("pwned");
    let injection = format!("$(touch {0}); touch {0}; `touch {0}`", marker.display());
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let created = client
        .create(
            json!({"mode": "claude", "cwd": injection, "tabId": injection, "paneId": injection}),
        )
        .await;
    let terminal_id = created["terminalId"].as_str().unwrap();
    let attach = client.attach(terminal_id).await;
    client.wait_for_text(&attach, "fake> ").await;
    let refused = client
        .try_create(json!({
            "mode": "claude",
            "restore": true,
            "sessionRef": {"provider": "claude", "sessionId": injection},
        }))
        .await
        .expect_err("a sessionId that is not a UUID is refused");
    assert_eq!(refused["code"], "INVALID_SESSION_ID", "{refused}");
    let spawned = daemon.ledger();
    assert_eq!(spawned.len(), 1, "{spawned:?}");
    assert!(
        !spawned[0].argv.iter().any(|a| a.contains("touch")),
        "no client string in argv: {:?}",
        spawned[0].argv
    );
    assert!(!marker.exists(), "a shell ran client text");
}

/// A session id that begins with `-` would be read as an option by the provider
/// (`opencode --session --print-logs`): refused for every provider, built-in or
/// configured, before anything is spawned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_id_beginning_with_a_dash_is_refused() {
    let agent = toml::Value::String(FAKE_AGENT.to_owned()).to_string();
    let daemon = Daemon::start(&format!(
        "[providers.mytool]\ncommand = {agent}\nresume_args = [\"--resume\", \"{{session_id}}\"]\n"
    ));
    let (mut client, _) = Client::connect_ready(&daemon).await;
    for mode in ["opencode", "mytool"] {
        for session_id in ["--print-logs", "-x"] {
            let refused = client
                .try_create(json!({
                    "mode": mode,
                    "restore": true,
                    "sessionRef": {"provider": mode, "sessionId": session_id},
                }))
                .await
                .expect_err("a session id beginning with '-' is refused");
            assert_eq!(refused["code"], "INVALID_SESSION_ID", "{refused}");
            assert!(
                refused["message"]
                    .as_str()
                    .unwrap()
                    .contains("must not begin with '-'"),
                "{refused}"
            );
        }
    }
    assert!(daemon.ledger().is_empty(), "{:?}", daemon.ledger());
    // An id with a dash elsewhere still resumes.
    let resumed = client
        .create(json!({
            "mode": "opencode",
            "restore": true,
            "sessionRef": {"provider": "opencode", "sessionId": "ses_a-1"},
        }))
        .await;
    assert!(resumed["terminalId"].is_string(), "{resumed}");
    wait_until("the resumed provider is spawned", PATIENCE, || {
        !daemon.spawns_mentioning("ses_a-1").is_empty()
    })
    .await;
}

/// Each built-in provider's resume argv, as the fake agent records it: `--` ends the options
/// where the provider reads the id as a positional (codex, `resume -- <id>`), and nowhere
/// else — before an option's value it would change the meaning (claude's `--resume -- <id>`
/// resumes nothing and sends the id as a prompt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_argv_ends_options_only_where_the_provider_reads_the_id_as_a_positional() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let uuid = || uuid::Uuid::new_v4().to_string();
    let expected_tails = [
        ("codex", uuid(), &["resume", "--"][..]),
        ("claude", uuid(), &["--resume"][..]),
        ("opencode", "ses_argv-1".to_owned(), &["--session"][..]),
    ];
    for (mode, session_id, before_id) in &expected_tails {
        let created = client
            .create(json!({
                "mode": mode,
                "restore": true,
                "sessionRef": {"provider": mode, "sessionId": session_id},
            }))
            .await;
        assert!(created["terminalId"].is_string(), "{created}");
        wait_until("the resumed provider is spawned", PATIENCE, || {
            !daemon.spawns_mentioning(session_id).is_empty()
        })
        .await;
        let argv = daemon.spawns_mentioning(session_id)[0].argv.clone();
        let mut tail: Vec<String> = before_id.iter().map(|a| (*a).to_owned()).collect();
        tail.push(session_id.clone());
        assert!(
            argv.ends_with(&tail),
            "{mode} resumes with {tail:?} at the end: {argv:?}"
        );
        assert_eq!(
            argv.iter().filter(|a| *a == "--").count(),
            usize::from(*mode == "codex"),
            "{mode}: a `--` only where the id is a positional: {argv:?}"
        );
    }
}
