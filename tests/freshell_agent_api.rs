//! freshell's agent API through the front (`ptyhub serve --freshell-upstream`): `run`, `tabs`,
//! `split`, `respawn`, `attach`, `send-keys`, `capture` and `wait-for` create and drive
//! ptyhub's terminals, in freshell's shapes; browsers are told to open the tab or pane with a
//! `ui.command` naming ptyhub's terminal; pane targets come from the layout browsers push;
//! whatever creates no terminal (browser panes, layout-only routes) is still freshell's.
//!
//! freshell here is the stand-in of `common::fake_freshell`: it records every request that
//! reaches it, and marks its responses, so a test can tell who answered.

mod common;

use common::fake_freshell::*;
use common::raw_http::{http, HttpReply};
use common::upstream_browser::{auth, start_in_front_of, Browser};
use common::*;
use serde_json::{json, Value};

const JSON: (&str, &[u8]) = ("content-type", b"application/json");

async fn call(daemon: &Daemon, method: &str, target: &str, body: Value) -> HttpReply {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    http(daemon, method, target, &[auth(daemon), JSON], body).await
}

/// An agent-API call ptyhub must answer itself with `status: ok`; returns `data`.
async fn ok(daemon: &Daemon, method: &str, target: &str, body: Value) -> Value {
    let reply = call(daemon, method, target, body).await;
    assert!(
        !reply.served_by_freshell(),
        "{method} {target} is ptyhub's to answer"
    );
    assert_eq!(reply.status, 200, "{method} {target}: {}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["status"], "ok", "{method} {target}: {answer}");
    answer["data"].clone()
}

fn parent_of(pid: u64) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process lives");
    let after_name = &stat[stat.rfind(')').expect("stat has a name") + 2..];
    after_name.split(' ').nth(1).unwrap().parse().unwrap()
}

/// The terminal is ptyhub's: listed once on its API, running, a child of the daemon.
fn assert_ptyhubs_child(daemon: &Daemon, terminal_id: &str) {
    let sessions = common::http::api_sessions(daemon);
    let listed: Vec<&Value> = sessions
        .iter()
        .filter(|s| s["terminalId"] == terminal_id)
        .collect();
    assert_eq!(listed.len(), 1, "{terminal_id} listed once: {sessions:#?}");
    let pid = listed[0]["pid"]
        .as_u64()
        .expect("a running terminal has a pid");
    assert_eq!(
        Some(parent_of(pid)),
        daemon.pid(),
        "the terminal's process is the daemon's child"
    );
}

/// The `ui.command` of this kind the browser got, naming `terminal_id` somewhere in it.
async fn told(browser: &mut Browser, command: &str, terminal_id: &str) -> Value {
    browser
        .until(&format!("ui.command {command} for {terminal_id}"), |m| {
            m["type"] == "ui.command"
                && m["command"] == command
                && m.to_string().contains(terminal_id)
        })
        .await
}

fn nothing_reached_freshell_under(fake: &FakeFreshell, prefixes: &[&str]) {
    let reached: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| prefixes.iter().any(|p| r.path.starts_with(p)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(reached.is_empty(), "reached freshell: {reached:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_capture_returns_the_output_of_a_ptyhub_terminal_and_opens_its_tab() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;

    let data = ok(
        &daemon,
        "POST",
        "/api/run",
        json!({"command": "echo run-says-$((6*7))", "capture": true, "name": "calc"}),
    )
    .await;

    let output = data["output"].as_str().expect("output");
    assert!(
        output.lines().any(|l| l.trim() == "run-says-42"),
        "the command's output: {output:?}"
    );
    assert!(
        !output.contains("__FRESHELL_DONE_"),
        "the sentinel is removed: {output:?}"
    );
    let terminal_id = data["terminalId"].as_str().expect("terminalId");
    assert_ptyhubs_child(&daemon, terminal_id);
    let opened = told(&mut browser, "tab.create", terminal_id).await;
    assert_eq!(opened["payload"]["id"], data["tabId"], "{opened}");
    assert_eq!(opened["payload"]["title"], "calc", "{opened}");
    assert_eq!(opened["payload"]["paneId"], data["paneId"], "{opened}");
    assert_eq!(opened["payload"]["paneContent"]["terminalId"], terminal_id);
    assert_eq!(opened["payload"]["paneContent"]["kind"], "terminal");

    let refused = call(&daemon, "POST", "/api/run", json!({"capture": true})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"status": "error", "message": "command required"})
    );
    nothing_reached_freshell_under(&fake, &["/api/run"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_split_respawn_attach_send_keys_capture_and_wait_for_drive_ptyhub_terminals() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;

    let tab = ok(&daemon, "POST", "/api/tabs", json!({"name": "work"})).await;
    let (pane, first) = (
        tab["paneId"].as_str().unwrap().to_owned(),
        tab["terminalId"].as_str().unwrap().to_owned(),
    );
    assert_ptyhubs_child(&daemon, &first);
    told(&mut browser, "tab.create", &first).await;

    // Keys by name, joined into one write; the pane is found before any browser synced.
    let sent = ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/send-keys"),
        json!({"keys": ["echo keys-$((40+2))", "ENTER"]}),
    )
    .await;
    assert_eq!(sent["terminalId"], first.as_str());
    let matched = ok(
        &daemon,
        "GET",
        &format!("/api/panes/{pane}/wait-for?pattern=%2F%5Ekeys-42%24%2Fm&T=20"),
        Value::Null,
    )
    .await;
    assert_eq!(matched, json!({"matched": true, "reason": "pattern"}));
    let captured = call(
        &daemon,
        "GET",
        &format!("/api/panes/{pane}/capture"),
        Value::Null,
    )
    .await;
    assert_eq!(captured.status, 200);
    assert!(captured.values("content-type")[0].starts_with("text/plain"));
    assert!(
        captured.text().lines().any(|l| l == "keys-42"),
        "capture shows the output: {:?}",
        captured.text()
    );
    // By tab title (its active pane), the last line only.
    let last = call(&daemon, "GET", "/api/panes/work/capture?S=-1", Value::Null).await;
    assert_eq!(last.text().lines().count(), 1, "{:?}", last.text());

    let split = ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/split"),
        json!({"direction": "vertical"}),
    )
    .await;
    let second = split["terminalId"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_ptyhubs_child(&daemon, &second);
    let split_told = told(&mut browser, "pane.split", &second).await;
    assert_eq!(split_told["payload"]["paneId"], pane.as_str());
    assert_eq!(split_told["payload"]["newPaneId"], split["paneId"]);
    assert_eq!(split_told["payload"]["direction"], "vertical");
    assert_eq!(split_told["payload"]["tabId"], tab["tabId"]);

    let respawned = ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/respawn"),
        json!({}),
    )
    .await;
    let third = respawned["terminalId"].as_str().unwrap().to_owned();
    assert!(third != first && third != second);
    let attach_told = told(&mut browser, "pane.attach", &third).await;
    assert_eq!(attach_told["payload"]["paneId"], pane.as_str());
    // The pane now types into the respawned terminal; the old one still runs.
    ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/send-keys"),
        json!({"data": "echo third-$((1+2))\r"}),
    )
    .await;
    ok(
        &daemon,
        "GET",
        &format!("/api/panes/{pane}/wait-for?p=third-3&T=20"),
        Value::Null,
    )
    .await;
    assert_ptyhubs_child(&daemon, &first);

    // Back to the first terminal; `exit 3` there, and wait-for reports the code.
    let attached = ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/attach"),
        json!({"terminalId": first}),
    )
    .await;
    assert_eq!(attached["terminalId"], first.as_str());
    ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/send-keys"),
        json!({"text": "exit 3\r"}),
    )
    .await;
    let exited = ok(
        &daemon,
        "GET",
        &format!("/api/panes/{pane}/wait-for?exit=1&T=20"),
        Value::Null,
    )
    .await;
    assert_eq!(
        exited,
        json!({"matched": true, "reason": "exit", "exitCode": 3})
    );

    nothing_reached_freshell_under(&fake, &["/api/tabs", "/api/panes"]);
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_targets_come_from_the_layout_browsers_push() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (mut browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    browser
        .send(&json!({
            "type": "ui.layout.sync",
            "tabs": [{"id": "tab-a", "title": "main"}],
            "activeTabId": "tab-a",
            "layouts": {"tab-a": {"type": "split", "id": "split-a", "direction": "horizontal", "sizes": [50, 50], "children": [
                {"type": "leaf", "id": "pane-term", "content": {"kind": "terminal", "createRequestId": "c1", "status": "running", "mode": "shell", "terminalId": terminal_id}},
                {"type": "leaf", "id": "pane-web", "content": {"kind": "browser", "browserInstanceId": "b1", "url": "https://example.com", "devToolsOpen": false}}
            ]}},
            "activePane": {"tab-a": "pane-web"},
            "paneTitles": {"tab-a": {"pane-term": "builder"}},
            "timestamp": 1
        }))
        .await;
    // freshell has seen everything the browser sent before its answer, ptyhub too.
    browser.sync_with_upstream().await;

    for target in ["pane-term", "builder", "main.0", "0"] {
        let sent = ok(
            &daemon,
            "POST",
            &format!("/api/panes/{target}/send-keys"),
            json!({"data": format!("echo via-{}\r", target.replace('.', "-"))}),
        )
        .await;
        assert_eq!(sent["terminalId"], terminal_id.as_str(), "target {target}");
    }
    ok(
        &daemon,
        "GET",
        "/api/panes/builder/wait-for?pattern=%2F%5Evia-0%24%2Fm&T=20",
        Value::Null,
    )
    .await;
    let text = call(&daemon, "GET", "/api/panes/pane-term/capture", Value::Null)
        .await
        .text();
    for word in ["via-pane-term", "via-builder", "via-main-0", "via-0"] {
        assert!(
            text.lines().any(|l| l == word),
            "{word} typed once and echoed: {text:?}"
        );
    }

    // A browser pane is freshell's business: the request reaches it unchanged.
    let before = fake.requests_under("/api/panes").len();
    let web = call(
        &daemon,
        "POST",
        "/api/panes/pane-web/send-keys",
        json!({"text": "x"}),
    )
    .await;
    assert!(web.served_by_freshell(), "{}", web.text());
    assert_eq!(fake.requests_under("/api/panes").len(), before + 1);
    // So is a tab that opens a browser pane, and every layout-only route.
    for (method, target, body) in [
        (
            "POST",
            "/api/tabs",
            json!({"browser": "https://example.com"}),
        ),
        ("GET", "/api/tabs", Value::Null),
        ("POST", "/api/panes/pane-term/close", json!({})),
    ] {
        let reply = call(&daemon, method, target, body).await;
        assert!(
            reply.served_by_freshell(),
            "{method} {target} is freshell's"
        );
    }

    let unknown = call(
        &daemon,
        "POST",
        "/api/panes/no-such-pane/send-keys",
        json!({"text": "x"}),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json(),
        json!({"status": "error", "message": "terminal not found"})
    );
    let bad = call(
        &daemon,
        "GET",
        "/api/panes/pane-term/wait-for?pattern=(",
        Value::Null,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["message"], "invalid pattern");
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_api_needs_the_token_and_the_view_token_only_reads() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let tab = ok(&daemon, "POST", "/api/tabs", json!({})).await;
    let pane = tab["paneId"].as_str().unwrap();
    let view = daemon.view_token();
    let routes = [
        ("POST", "/api/run".to_owned()),
        ("POST", "/api/tabs".to_owned()),
        ("POST", format!("/api/panes/{pane}/split")),
        ("POST", format!("/api/panes/{pane}/respawn")),
        ("POST", format!("/api/panes/{pane}/attach")),
        ("POST", format!("/api/panes/{pane}/send-keys")),
        ("GET", format!("/api/panes/{pane}/capture")),
        ("GET", format!("/api/panes/{pane}/wait-for?stable=0")),
    ];
    for (method, target) in &routes {
        for (case, headers) in [
            ("no token", vec![JSON]),
            (
                "a wrong token",
                vec![JSON, ("x-auth-token", b"wrong-token-0123456789".as_slice())],
            ),
        ] {
            let refused = http(
                &daemon,
                method,
                target,
                &headers,
                b"{\"command\":\"true\"}".to_vec(),
            )
            .await;
            assert_eq!(refused.status, 401, "{method} {target}, {case}");
            assert_eq!(refused.json(), json!({"error": "Unauthorized"}));
        }
        let with_view = http(
            &daemon,
            method,
            target,
            &[JSON, ("x-auth-token", view.as_bytes())],
            b"{\"command\":\"true\"}".to_vec(),
        )
        .await;
        let expected = if *method == "GET" { 200 } else { 403 };
        assert_eq!(
            with_view.status,
            expected,
            "{method} {target} with the view token: {}",
            with_view.text()
        );
    }
    assert_eq!(
        common::http::api_sessions(&daemon).len(),
        1,
        "no refused request started a terminal"
    );
    nothing_reached_freshell_under(&fake, &["/api/run", "/api/tabs", "/api/panes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_terminals_survive_a_restart_of_freshell() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let tab = ok(&daemon, "POST", "/api/tabs", json!({"name": "durable"})).await;
    let pane = tab["paneId"].as_str().unwrap().to_owned();

    fake.stop();
    fake.restart();

    ok(
        &daemon,
        "POST",
        &format!("/api/panes/{pane}/send-keys"),
        json!({"keys": ["echo still-$((2*3))", "Enter"]}),
    )
    .await;
    ok(
        &daemon,
        "GET",
        &format!("/api/panes/{pane}/wait-for?pattern=%2F%5Estill-6%24%2Fm&T=20"),
        Value::Null,
    )
    .await;
    assert_ptyhubs_child(&daemon, tab["terminalId"].as_str().unwrap());
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

/// freshell's CLI resolves pane targets from `GET /api/tabs` and `GET /api/panes?tabId=`, which
/// freshell answers from the layout browsers showed it: the panes ptyhub opened are added
/// until a browser shows them, so the CLI can name them with no browser open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_listings_show_the_panes_ptyhub_opened_before_any_browser_does() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let tab = ok(&daemon, "POST", "/api/tabs", json!({"name": "cli-made"})).await;
    let split = ok(
        &daemon,
        "POST",
        &format!("/api/panes/{}/split", tab["paneId"].as_str().unwrap()),
        json!({}),
    )
    .await;

    let tabs = call(&daemon, "GET", "/api/tabs", Value::Null).await;
    assert!(tabs.served_by_freshell(), "freshell's answer, amended");
    let tabs = tabs.json();
    assert_eq!(
        tabs["data"]["tabs"],
        json!([
            {"id": "browser-tab", "title": "from a browser", "activePaneId": "browser-pane"},
            {"id": tab["tabId"], "title": "cli-made", "activePaneId": tab["paneId"]},
        ]),
        "{tabs}"
    );
    let panes = call(
        &daemon,
        "GET",
        &format!("/api/panes?tabId={}", tab["tabId"].as_str().unwrap()),
        Value::Null,
    )
    .await
    .json();
    assert_eq!(
        panes["data"]["panes"],
        json!([
            {"id": tab["paneId"], "index": 0, "kind": "terminal", "terminalId": tab["terminalId"], "title": null},
            {"id": split["paneId"], "index": 1, "kind": "terminal", "terminalId": split["terminalId"], "title": null},
        ]),
        "{panes}"
    );
    let other = call(&daemon, "GET", "/api/panes?tabId=browser-tab", Value::Null)
        .await
        .json();
    assert_eq!(
        other["data"]["panes"],
        json!([]),
        "other tabs are freshell's"
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
