//! Agents and terminals started through freshell's agent API, or by a browser, in front of
//! freshell get what freshell would give them: one process per agent session, `FRESHELL_URL`
//! and a token that reach the agent API from inside, freshell's MCP tool when it is configured,
//! and the model, permission mode and sandbox from the request or freshell's settings page. An
//! agent behaves the same whichever of the two started it.
//!
//! freshell here is the stand-in of `common::fake_freshell`; the fake agent's ledger shows
//! what each agent was started with.

mod common;

use common::agent_api::{assert_ptyhubs_child, call, nothing_reached_freshell_under, ok};
use common::fake_freshell::*;
use common::upstream_browser::{start_in_front_of, Browser};
use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_panes_of_one_session_share_one_process() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let session_id = "0b7e4c1a-2f3d-4e5a-8b9c-0d1e2f3a4b5c";
    let body =
        json!({"mode": "claude", "sessionRef": {"provider": "claude", "sessionId": session_id}});

    let first = ok(&daemon, "POST", "/api/tabs", body.clone()).await;
    let split = ok(
        &daemon,
        "POST",
        &format!("/api/panes/{}/split", first["paneId"].as_str().unwrap()),
        body.clone(),
    )
    .await;
    let again = ok(&daemon, "POST", "/api/tabs", body).await;

    assert_eq!(split["terminalId"], first["terminalId"]);
    assert_eq!(again["terminalId"], first["terminalId"]);
    // Every process was started before the last answer: once one has written its ledger
    // line, a second would be alive too.
    started_with(&daemon, session_id).await;
    assert_eq!(
        daemon.live_agents_mentioning(session_id).len(),
        1,
        "one claude for the session: {:#?}",
        daemon.ledger()
    );
}

/// Waits for the fake agent's ledger to show a start whose argv mentions `marker`.
async fn started_with(daemon: &Daemon, marker: &str) -> LedgerEntry {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(entry) = daemon.spawns_mentioning(marker).into_iter().next() {
            return entry;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no start mentioning {marker}: {:#?}",
            daemon.ledger()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminals_reach_the_agent_api_through_their_environment_as_in_freshell() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);

    // A shell started through the API finds the API in its environment and opens a tab with
    // it, as freshell's CLI and MCP tool do from inside a pane.
    let script = r#"import json, os, urllib.request
request = urllib.request.Request(os.environ["FRESHELL_URL"] + "/api/tabs", method="POST",
    data=json.dumps({"name": "from-inside"}).encode(),
    headers={"x-auth-token": os.environ["FRESHELL_TOKEN"], "content-type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print("inner-tab", json.load(opener.open(request))["data"]["terminalId"])"#;
    std::fs::write(daemon.scratch_dir("inside").join("open_tab.py"), script).unwrap();
    let command = format!(
        "echo \"fresh=$FRESHELL url=$FRESHELL_URL\"; python3 {}",
        daemon.scratch_dir("inside").join("open_tab.py").display()
    );
    let data = ok(
        &daemon,
        "POST",
        "/api/run",
        json!({"command": command, "capture": true}),
    )
    .await;
    let output = data["output"].as_str().unwrap();
    assert!(
        output.contains(&format!("fresh=1 url=http://127.0.0.1:{}", daemon.port)),
        "FRESHELL and FRESHELL_URL point at ptyhub: {output:?}"
    );
    let inner = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("inner-tab "))
        .unwrap_or_else(|| panic!("the inner call answered: {output:?}"));
    assert_ptyhubs_child(&daemon, inner);
    nothing_reached_freshell_under(&fake, &["/api/tabs", "/api/run"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_codex_and_opencode_get_freshells_mcp_tool_when_it_is_configured() {
    let fake = FakeFreshell::start();
    let config = r#"
[freshell]
mcp_server = "/opt/freshell/dist/server/mcp/server.js"
"#;
    let daemon = Daemon::start_with_args_and_token(
        config,
        &["--freshell-upstream", &fake.url()],
        &fake.token(),
    );

    let claude = ok(&daemon, "POST", "/api/tabs", json!({"mode": "claude"})).await;
    let claude_id = claude["terminalId"].as_str().unwrap();
    let started = started_with(&daemon, "--mcp-config").await;
    let flag = started
        .argv
        .iter()
        .position(|a| a == "--mcp-config")
        .unwrap();
    let config_file = std::path::PathBuf::from(&started.argv[flag + 1]);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_file).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"mcpServers": {"freshell": {"command": "node", "args": ["/opt/freshell/dist/server/mcp/server.js"]}}})
    );
    assert!(
        config_file.to_string_lossy().contains(claude_id),
        "one file per terminal: {config_file:?}"
    );

    ok(&daemon, "POST", "/api/tabs", json!({"mode": "codex"})).await;
    let codex = started_with(&daemon, "mcp_servers.freshell.args=").await;
    assert!(
        codex
            .argv
            .iter()
            .any(|a| a == "mcp_servers.freshell.args=[\"/opt/freshell/dist/server/mcp/server.js\"]"),
        "{:?}",
        codex.argv
    );

    // opencode reads it from its environment: no file in the user's project.
    let opencode = ok(&daemon, "POST", "/api/tabs", json!({"mode": "opencode"})).await;
    let opencode_id = opencode["terminalId"].as_str().unwrap();
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let attach = viewer.attach(opencode_id).await;
    viewer.wait_for_text(&attach, "fake> ").await;
    viewer
        .type_line(opencode_id, "env OPENCODE_CONFIG_CONTENT")
        .await;
    viewer
        .wait_for_text(&attach, "ENV:OPENCODE_CONFIG_CONTENT=")
        .await;
    viewer.wait_for_text(&attach, "}}}\r\n").await;
    let shown = viewer.stream(&attach).data.clone();
    let content = shown
        .split("ENV:OPENCODE_CONFIG_CONTENT=")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(content).unwrap(),
        json!({"mcp": {"freshell": {"type": "local", "enabled": true,
            "command": ["node", "/opt/freshell/dist/server/mcp/server.js"]}}})
    );

    // The file goes with the terminal.
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    browser
        .send(&json!({"type": "terminal.kill", "terminalId": claude_id}))
        .await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while config_file.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{config_file:?} outlived its terminal"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        common::http::api_session(&daemon, claude_id).is_none_or(|s| s["status"] == "exited"),
        "the terminal is gone"
    );
}

/// The agent API's provider settings reach the agent as freshell passes them: claude
/// `--permission-mode`, codex `--model` and `--sandbox`; a value that would be a flag of its
/// own, or an unknown sandbox, is refused with 400 and starts nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_permission_mode_and_sandbox_reach_the_agent_as_freshell_passes_them() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let after = |argv: &[String], flag: &str| -> Option<String> {
        let at = argv.iter().position(|a| a == flag)?;
        argv.get(at + 1).cloned()
    };

    let claude = ok(
        &daemon,
        "POST",
        "/api/tabs",
        json!({"mode": "claude", "permissionMode": "plan", "model": "opus"}),
    )
    .await;
    let argv = spawned_with(&daemon, claude["terminalId"].as_str().unwrap()).await;
    assert_eq!(
        after(&argv, "--permission-mode").as_deref(),
        Some("plan"),
        "{argv:?}"
    );
    assert!(
        !argv.contains(&"--model".to_owned()),
        "claude takes no --model here: {argv:?}"
    );

    let codex = ok(
        &daemon,
        "POST",
        "/api/tabs",
        json!({"mode": "codex", "model": "o3", "sandbox": "read-only", "permissionMode": "plan"}),
    )
    .await;
    let codex = codex["terminalId"].as_str().unwrap().to_owned();
    let started = spawned_with(&daemon, &codex).await;
    assert_eq!(
        after(&started, "--model").as_deref(),
        Some("o3"),
        "{started:?}"
    );
    assert_eq!(
        after(&started, "--sandbox").as_deref(),
        Some("read-only"),
        "{started:?}"
    );
    assert!(
        !started.contains(&"--permission-mode".to_owned()),
        "{started:?}"
    );

    let before = daemon.ledger().len();
    for body in [
        json!({"mode": "claude", "permissionMode": "--dangerously-skip-permissions"}),
        json!({"mode": "codex", "sandbox": "everything"}),
    ] {
        let reply = call(&daemon, "POST", "/api/tabs", body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
        assert!(!reply.served_by_freshell());
    }
    assert_eq!(
        daemon.ledger().len(),
        before,
        "a refused launch started nothing"
    );
}

/// The argv of the fake agent a terminal started (codex picks its own session id: found by
/// the terminal id the daemon puts in its environment and the ledger's pid).
async fn spawned_with(daemon: &Daemon, terminal_id: &str) -> Vec<String> {
    let mut argv = Vec::new();
    wait_until("the terminal's agent started", PATIENCE, || {
        let pid = common::http::api_sessions(daemon)
            .iter()
            .find(|s| s["terminalId"] == terminal_id)
            .and_then(|s| s["pid"].as_u64());
        argv = daemon
            .ledger()
            .into_iter()
            .find(|entry| Some(u64::from(entry.pid)) == pid)
            .map(|entry| entry.argv)
            .unwrap_or_default();
        !argv.is_empty()
    })
    .await;
    argv
}

/// What freshell's settings page sets for each coding CLI (`settings.codingCli.providers`)
/// reaches every agent launched in front of it that names none, as freshell applies it: a
/// browser's `terminal.create` (which carries no settings) and the agent API, where the
/// request's own values win.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_pages_defaults_reach_agents_that_name_none() {
    let fake = FakeFreshell::start();
    fake.set_coding_cli_providers(json!({
        "claude": {"permissionMode": "acceptEdits"},
        "codex": {"model": "o3", "sandbox": "read-only"},
    }));
    let daemon = start_in_front_of(&fake);
    let after = |argv: &[String], flag: &str| -> Option<String> {
        let at = argv.iter().position(|a| a == flag)?;
        argv.get(at + 1).cloned()
    };

    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    browser
        .send(&json!({"type": "terminal.create", "requestId": "claude-from-the-ui", "mode": "claude"}))
        .await;
    let created = browser
        .until("the claude terminal is created", |m| {
            m["type"] == "terminal.created" && m["requestId"] == "claude-from-the-ui"
        })
        .await;
    let argv = spawned_with(&daemon, created["terminalId"].as_str().unwrap()).await;
    assert_eq!(
        after(&argv, "--permission-mode").as_deref(),
        Some("acceptEdits"),
        "{argv:?}"
    );

    let codex = ok(
        &daemon,
        "POST",
        "/api/tabs",
        json!({"mode": "codex", "model": "gpt-5"}),
    )
    .await;
    let started = spawned_with(&daemon, codex["terminalId"].as_str().unwrap()).await;
    assert_eq!(
        after(&started, "--model").as_deref(),
        Some("gpt-5"),
        "{started:?}"
    );
    assert_eq!(
        after(&started, "--sandbox").as_deref(),
        Some("read-only"),
        "{started:?}"
    );
}
