//! freshell's agent API through the front (`ptyhub serve --freshell-upstream`): `run`, `tabs`,
//! `split`, `respawn`, `attach`, `send-keys`, `capture` and `wait-for` create and drive
//! ptyhub's terminals, in freshell's shapes; browsers are told to open the tab or pane with a
//! `ui.command` naming ptyhub's terminal; pane targets come from the layout browsers push;
//! whatever creates no terminal (browser panes, layout-only routes) is still freshell's. What
//! the agents it starts are given is in `freshell_agent_launch.rs`.
//!
//! freshell here is the stand-in of `common::fake_freshell`: it records every request that
//! reaches it, and marks its responses, so a test can tell who answered.

mod common;

use common::agent_api::{assert_ptyhubs_child, call, nothing_reached_freshell_under, ok, JSON};
use common::fake_freshell::*;
use common::raw_http::http;
use common::upstream_browser::{start_in_front_of, Browser};
use serde_json::{json, Value};

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
