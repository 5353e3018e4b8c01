//! `ptyhub serve --freshell-upstream <url>`: ptyhub in front of an unchanged freshell server
//! (`docs/freshell-http-terminals.md` §0, §1, §5, §6).
//!
//! The browser talks only to ptyhub. ptyhub answers its own routes (`/ws`, `/api/terminals…`,
//! `POST /api/ai/terminals/{id}/summary`, `/healthz`, `/ptyhub/…`) and the whole terminal
//! family of the WebSocket protocol; everything else reaches freshell untouched, both ways.
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`.

mod common;

use std::time::Duration;

use axum::body::Body;
use common::fake_freshell::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use hyper::header::HeaderValue;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// HTTP: what is proxied arrives byte-identical, both ways
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_page_and_client_routes_are_freshells() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);

    for target in [
        "/",
        &format!("/?token={}", daemon.token),
        "/some/client/route",
    ] {
        let reply = http(&daemon, "GET", target, &[], Vec::new()).await;
        assert_eq!(reply.status, 200, "GET {target}");
        assert!(
            reply.served_by_freshell(),
            "GET {target} must be freshell's page"
        );
        assert_eq!(reply.body, INDEX_HTML.as_bytes(), "GET {target}: the body");
        assert_eq!(reply.values("content-type"), ["text/html; charset=utf-8"]);
        assert_eq!(reply.values("cache-control"), ["no-store"]);
    }
    let root = fake.requests_under("/");
    assert!(
        root.iter().any(
            |r| r.path == "/" && r.query.as_deref() == Some(&format!("token={}", daemon.token))
        ),
        "the query reaches freshell: {root:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_status_headers_cookies_and_binary_body_come_back_byte_identical() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);

    let reply = http(&daemon, "GET", "/teapot", &[], Vec::new()).await;

    assert_eq!(reply.status, TEAPOT_STATUS);
    assert!(reply.served_by_freshell());
    for name in [
        "content-type",
        "x-fake-freshell",
        "set-cookie",
        "cache-control",
        "retry-after",
        "x-latin1",
    ] {
        let sent: Vec<String> = TEAPOT_HEADERS
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| shown(v))
            .collect();
        assert_eq!(
            reply.values(name),
            sent,
            "header {name}: every value freshell sent, in order, unchanged"
        );
    }
    assert_eq!(reply.body, teapot_body(), "the binary body, byte for byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_reaches_freshell_with_method_path_query_headers_and_body_intact() {
    const BODY_BYTES: usize = 2_500_000; // over axum's 2 MiB default body limit
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let body: Vec<u8> = (0..BODY_BYTES).map(|i| (i * 7 % 256) as u8).collect();
    let cookie = format!("freshell-auth={}; other=x%20y", daemon.token);
    let headers: Vec<(&str, &[u8])> = vec![
        ("content-type", b"application/octet-stream"),
        ("x-auth-token", daemon.token.as_bytes()),
        ("cookie", cookie.as_bytes()),
        (
            "x-custom",
            b"value with  two spaces, \"quotes\" and a ; semicolon",
        ),
        ("x-latin1", b"caf\xe9"),
        ("x-repeated", b"one"),
        ("x-repeated", b"two"),
        ("accept", b"application/json"),
    ];
    let target = "/echo/some%20path/%2Fencoded?x=1&x=2&empty=&q=a%2Bb";

    let reply = http(&daemon, "POST", target, &headers, body.clone()).await;

    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.served_by_freshell());
    let seen = fake.requests_under("/echo/");
    assert_eq!(seen.len(), 1, "exactly one request reached freshell");
    let seen = &seen[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/echo/some%20path/%2Fencoded", "the raw path");
    assert_eq!(
        seen.query.as_deref(),
        Some("x=1&x=2&empty=&q=a%2Bb"),
        "the raw query"
    );
    for name in [
        "content-type",
        "x-auth-token",
        "cookie",
        "x-custom",
        "x-latin1",
        "x-repeated",
        "accept",
    ] {
        let sent: Vec<String> = headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| shown(v))
            .collect();
        let arrived: Vec<String> = seen.header_values(name).into_iter().map(shown).collect();
        assert_eq!(arrived, sent, "header {name} as freshell saw it");
    }
    assert!(
        seen.body.len() == body.len() && seen.body == body,
        "the body, byte for byte ({} of {} bytes arrived)",
        seen.body.len(),
        body.len()
    );

    for method in ["PUT", "PATCH", "DELETE", "OPTIONS"] {
        let body = format!("{{\"method\":\"{method}\"}}").into_bytes();
        let reply = http(
            &daemon,
            method,
            "/echo/methods",
            &[("content-type", b"application/json")],
            body.clone(),
        )
        .await;
        assert_eq!(reply.status, 200, "{method}: {}", reply.text());
        let seen = fake.requests_under("/echo/methods");
        let last = seen.last().expect("the request reached freshell");
        assert_eq!(last.method, method);
        assert_eq!(last.body, body, "{method}: the body");
    }
}

/// `docs/freshell-http-terminals.md` §5: freshell uses `Host` for its WS origin check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxied_request_keeps_the_browsers_host_header() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);

    http(&daemon, "GET", "/echo/host", &[], Vec::new()).await;

    let seen = fake.requests_under("/echo/host");
    let host: Vec<String> = seen[0]
        .header_values("host")
        .into_iter()
        .map(shown)
        .collect();
    assert_eq!(
        host,
        [format!("127.0.0.1:{}", daemon.port)],
        "Host as the browser sent it (ptyhub's address), not freshell's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_is_streamed_not_buffered() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);

    let response = open_http(&daemon, "GET", "/stream", &[], Vec::new())
        .await
        .unwrap_or_else(|e| panic!("{e}: is the proxy waiting for freshell's whole body?"));
    assert_eq!(response.status(), 200);
    let mut body = Body::new(response.into_body()).into_data_stream();
    let mut received = Vec::new();
    // freshell sends the second half only once the first has reached the browser.
    while received.len() < STREAM_FIRST_HALF.len() {
        let chunk = tokio::time::timeout(PATIENCE, body.next())
            .await
            .expect("the first half never arrived: is the proxy waiting for the whole body?")
            .expect("the body ended early")
            .expect("the body failed");
        received.extend_from_slice(&chunk);
    }
    assert_eq!(received, STREAM_FIRST_HALF);
    fake.release_stream();
    while let Some(chunk) = tokio::time::timeout(PATIENCE, body.next())
        .await
        .expect("the rest never came")
    {
        received.extend_from_slice(&chunk.expect("the body failed"));
    }
    assert_eq!(received, [STREAM_FIRST_HALF, STREAM_SECOND_HALF].concat());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshells_api_is_proxied_and_guarded_by_freshell_itself() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let cookie = format!("freshell-auth={}", daemon.token);

    let settings_reply = http(
        &daemon,
        "GET",
        "/api/settings",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(settings_reply.status, 200, "{}", settings_reply.text());
    assert!(settings_reply.served_by_freshell());
    assert_eq!(settings_reply.json(), settings());

    let bootstrap = http(
        &daemon,
        "GET",
        "/api/bootstrap",
        &[("cookie", cookie.as_bytes())],
        Vec::new(),
    )
    .await;
    assert_eq!(
        bootstrap.status,
        200,
        "cookie auth passes through: {}",
        bootstrap.text()
    );
    assert!(bootstrap.served_by_freshell());

    // ptyhub's own session list moved under /ptyhub/ in this mode: /api/sessions is freshell's.
    let sessions = http(
        &daemon,
        "GET",
        "/api/sessions",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert!(
        sessions.served_by_freshell(),
        "GET /api/sessions belongs to freshell"
    );

    let refused = http(&daemon, "GET", "/api/bootstrap", &[], Vec::new()).await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.served_by_freshell(),
        "freshell's own 401, passed through"
    );
    assert_eq!(refused.json(), json!({"error": "Unauthorized"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminals_api_is_answered_by_ptyhub_with_its_own_terminals() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let terminal_id = browser.create_shell().await;

    let listed = http(
        &daemon,
        "GET",
        "/api/terminals",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;

    assert_eq!(listed.status, 200, "{}", listed.text());
    assert!(
        !listed.served_by_freshell(),
        "ptyhub answers /api/terminals"
    );
    let items = listed.json();
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("a JSON array: {items}"));
    assert!(
        items
            .iter()
            .any(|t| t["terminalId"] == terminal_id.as_str()),
        "ptyhub's terminal is listed: {items:#?}"
    );
    assert!(
        !listed.text().contains(UPSTREAM_ONLY),
        "freshell's terminals are not: {}",
        listed.text()
    );

    for (case, headers) in [
        ("no token", Vec::new()),
        (
            "a wrong token",
            vec![("x-auth-token", b"wrong-token-0123456789".as_slice())],
        ),
    ] {
        let refused = http(&daemon, "GET", "/api/terminals", &headers, Vec::new()).await;
        assert_eq!(refused.status, 401, "{case}");
        assert!(!refused.served_by_freshell(), "{case}: ptyhub's own 401");
        assert_eq!(refused.json(), json!({"error": "Unauthorized"}), "{case}");
    }
    assert!(
        fake.requests_under("/api/terminals").is_empty(),
        "nothing reached freshell's /api/terminals"
    );
}

/// `docs/freshell-http-terminals.md` §2: the UI's fetches use the header, but the
/// `freshell-auth` cookie is accepted as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminals_api_accepts_the_freshell_auth_cookie() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let cookie = format!("theme=dark; freshell-auth={}", daemon.token);

    let listed = http(
        &daemon,
        "GET",
        "/api/terminals",
        &[("cookie", cookie.as_bytes())],
        Vec::new(),
    )
    .await;

    assert_eq!(listed.status, 200, "{}", listed.text());
    assert!(!listed.served_by_freshell());
    assert!(listed.json().is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ptyhubs_own_routes_never_reach_freshell_and_near_misses_do() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let terminal_id = browser.create_shell().await;
    let token = auth(&daemon);
    let json_type: (&str, &[u8]) = ("content-type", b"application/json");

    let own = [
        ("GET", "/healthz".to_owned(), Vec::new()),
        ("GET", "/ptyhub/".to_owned(), Vec::new()),
        ("GET", "/ptyhub/api/sessions".to_owned(), Vec::new()),
        (
            "GET",
            "/api/terminals?priority=visible".to_owned(),
            Vec::new(),
        ),
        (
            "GET",
            format!("/api/terminals/{terminal_id}/search?query=x"),
            Vec::new(),
        ),
        (
            "PATCH",
            format!("/api/terminals/{terminal_id}"),
            br#"{"titleOverride":"renamed"}"#.to_vec(),
        ),
        (
            "DELETE",
            "/api/terminals/no-such-terminal".to_owned(),
            Vec::new(),
        ),
        (
            "GET",
            format!("/api/terminals/{terminal_id}/viewport"),
            Vec::new(),
        ),
        ("GET", "/api/terminals/a/b/c/unknown".to_owned(), Vec::new()),
        (
            "POST",
            format!("/api/ai/terminals/{terminal_id}/summary"),
            b"{}".to_vec(),
        ),
    ];
    for (method, target, body) in own {
        let reply = http(&daemon, method, &target, &[token, json_type], body).await;
        assert!(
            !reply.served_by_freshell(),
            "{method} {target} is ptyhub's: {} {}",
            reply.status,
            reply.text()
        );
        assert!(
            !reply.text().contains(UPSTREAM_ONLY),
            "{method} {target}: {}",
            reply.text()
        );
    }
    let leaked: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .filter(|r| {
            r.contains("/healthz")
                || r.contains("/ptyhub")
                || r.contains("/api/terminals")
                || r.contains("/api/ai/")
        })
        .collect();
    assert!(
        leaked.is_empty(),
        "requests that reached freshell: {leaked:?}"
    );

    for target in ["/api/terminalsx", "/ptyhubx", "/healthzz"] {
        let reply = http(&daemon, "GET", target, &[token], Vec::new()).await;
        assert!(
            reply.served_by_freshell(),
            "GET {target} is not ptyhub's: it goes to freshell"
        );
    }
}

/// `docs/freshell-http-terminals.md` §5: the UI retries quietly on 502/503/504 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshell_being_down_is_a_gateway_error_and_ptyhubs_routes_keep_working() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    fake.stop();

    let reply = http(
        &daemon,
        "GET",
        "/api/settings",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert!(
        [502, 503, 504].contains(&reply.status),
        "status {} ({})",
        reply.status,
        reply.text()
    );

    let listed = http(
        &daemon,
        "GET",
        "/api/terminals",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let health = http(&daemon, "GET", "/healthz", &[], Vec::new()).await;
    assert_eq!(health.status, 200);
}

/// `docs/freshell-http-terminals.md` §1: freshell's browser-pane tunnels are WebSockets too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_websocket_upgrades_are_tunnelled_to_freshell() {
    use tokio_tungstenite::tungstenite::Message;
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let url = format!("ws://127.0.0.1:{}/tunnel/echo", daemon.port);

    let (mut tunnel, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_or_else(|e| panic!("the upgrade of /tunnel/echo failed: {e}"));
    for text in ["one", "two é", "three"] {
        tunnel.send(Message::text(text)).await.unwrap();
        let reply = tokio::time::timeout(PATIENCE, tunnel.next())
            .await
            .expect("no echo through the tunnel")
            .expect("the tunnel closed")
            .expect("the tunnel failed");
        assert_eq!(reply, Message::text(format!("echo: {text}")));
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket: ptyhub's terminals, freshell's everything else
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_is_ptyhubs_ready_and_inventory_and_freshells_settings_after_ready() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;

    let handshake = browser.handshake().await;

    assert_eq!(
        handshake[0]["type"], "ready",
        "ptyhub's ready comes first: {handshake:#?}"
    );
    let ready = &handshake[0];
    let inventory = handshake
        .iter()
        .find(|m| m["type"] == "terminal.inventory")
        .unwrap();
    assert_eq!(
        inventory["bootId"], ready["bootId"],
        "ptyhub's own inventory"
    );
    for kind in ["settings.updated", "perf.logging"] {
        let forwarded: Vec<&Value> = handshake.iter().filter(|m| m["type"] == kind).collect();
        assert_eq!(
            forwarded.len(),
            1,
            "freshell's {kind}, once: {handshake:#?}"
        );
    }
    let settings_updated = handshake
        .iter()
        .find(|m| m["type"] == "settings.updated")
        .unwrap();
    assert_eq!(settings_updated["settings"], settings(), "unchanged");
    assert_eq!(browser.count("ready"), 1);
    browser.assert_nothing_from_upstream_terminals();

    let hellos = fake.hellos();
    assert_eq!(hellos.len(), 1, "one upstream hello");
    assert_eq!(
        hellos[0].message, browser.hello,
        "the browser's hello, unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_terminal_messages_pass_both_ways_unchanged_and_in_order() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;

    let sent = vec![
        json!({"type": "sessions.prefs", "includeSubagents": true}),
        json!({"type": "tabs.sync.query", "requestId": "q-1", "deviceId": "device-1"}),
        json!({"type": "ui.layout.sync", "tabs": [{"id": "tab-1", "title": "one"}], "activeTabId": "tab-1"}),
        json!({"type": "x-stand-in.probe", "requestId": "probe-1", "payload": {"nested": [1, "two", {"three": 3.5}], "unicode": "é ✓"}}),
        json!({"type": "tabs.sync.push", "records": [], "deviceId": "device-1"}),
        json!({"type": "tabs.sync.query", "requestId": "q-2"}),
        json!({"type": "ui.screenshot.result", "requestId": "shot-1", "ok": true, "imageBase64": "iVBORw0KGgo="}),
        json!({"type": "tabs.sync.query", "requestId": "q-3"}),
    ];
    for message in &sent {
        browser.send(message).await;
    }
    browser
        .until("the answer to q-3", |m| {
            m["type"] == "tabs.sync.snapshot" && m["requestId"] == "q-3"
        })
        .await;

    let connection = fake.hellos()[0].connection;
    let upstream: Vec<Value> = fake
        .frames_on(connection)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(upstream[0], browser.hello);
    assert_eq!(
        upstream[1..],
        sent[..],
        "freshell got every message, unchanged, in order"
    );

    let answers: Vec<String> = browser
        .seen
        .iter()
        .filter(|m| {
            [
                "settings.updated",
                "tabs.sync.snapshot",
                "tabs.sync.ack",
                "error",
            ]
            .contains(&m["type"].as_str().unwrap())
        })
        .map(|m| {
            format!(
                "{} {}",
                m["type"].as_str().unwrap(),
                m["requestId"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            "settings.updated ", // the handshake's
            "settings.updated ", // the answer to sessions.prefs
            "tabs.sync.snapshot q-1",
            "error probe-1",
            "tabs.sync.ack ",
            "tabs.sync.snapshot q-2",
            "tabs.sync.snapshot q-3",
        ],
        "freshell's answers, once each, in order"
    );

    let pushed = vec![
        json!({"type": "sessions.changed", "revision": 1}),
        json!({"type": "perf.logging", "enabled": true}),
        json!({"type": "ui.command", "command": "tab.create", "payload": {"title": "from freshell"}}),
        json!({"type": "session.status", "sessionId": "s-1", "status": "repaired", "orphansFixed": 2}),
        json!({"type": "extensions.registry", "extensions": []}),
        json!({"type": "config.fallback", "reason": "PARSE_ERROR", "backupExists": true}),
        json!({"type": "sessions.changed", "revision": 2}),
    ];
    for message in &pushed {
        fake.push(message.clone());
    }
    let from = browser.seen.len();
    browser
        .until("the last pushed message", |m| {
            *m == pushed[pushed.len() - 1]
        })
        .await;
    assert_eq!(
        browser.seen[from..],
        pushed[..],
        "freshell's messages, unchanged, in order"
    );
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_browser_socket_has_its_own_upstream_socket() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut first = Browser::open(&daemon).await;
    first.handshake().await;
    let mut second = Browser::open(&daemon).await;
    second.handshake().await;
    wait_until("freshell holds two authenticated sockets", PATIENCE, || {
        fake.authenticated_connections().len() == 2
    })
    .await;

    first
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-first"}))
        .await;
    second
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-second"}))
        .await;
    first
        .until("q-first's answer", |m| m["requestId"] == "q-first")
        .await;
    second
        .until("q-second's answer", |m| m["requestId"] == "q-second")
        .await;
    fake.push(json!({"type": "sessions.changed", "revision": 7}));
    first
        .until("the broadcast", |m| m["type"] == "sessions.changed")
        .await;
    second
        .until("the broadcast", |m| m["type"] == "sessions.changed")
        .await;

    let on = |id: &str| {
        fake.frames()
            .into_iter()
            .find(|f| f.message["requestId"] == id)
            .unwrap_or_else(|| panic!("{id} never reached freshell"))
            .connection
    };
    assert_ne!(
        on("q-first"),
        on("q-second"),
        "one upstream socket per browser socket"
    );
    assert!(
        !first.seen.iter().any(|m| m["requestId"] == "q-second"),
        "the first browser got only its own answers"
    );
    assert!(
        !second.seen.iter().any(|m| m["requestId"] == "q-first"),
        "the second browser got only its own answers"
    );

    drop(second);
    wait_until(
        "the second upstream socket is closed with its browser socket",
        PATIENCE,
        || fake.connections_open() == 1,
    )
    .await;
    first
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-still"}))
        .await;
    first
        .until("q-still's answer", |m| m["requestId"] == "q-still")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_refused_by_ptyhub_and_never_reaches_freshell() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut intruder = Client::connect(&daemon).await;

    intruder
        .send_json(
            &json!({"type": "hello", "protocolVersion": 7, "token": "wrong-token-0123456789"}),
        )
        .await;

    let (seen, code) = intruder.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4001), "{seen:#?}");
    assert!(
        seen.iter()
            .any(|m| m["type"] == "error" && m["code"] == "NOT_AUTHENTICATED"),
        "{seen:#?}"
    );
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    assert_eq!(
        fake.connections_opened(),
        1,
        "only the good hello opened an upstream socket"
    );
    assert!(
        !fake.frames().iter().any(|f| f.text.contains("wrong-token")),
        "the bad hello was not forwarded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_traffic_never_reaches_freshell_and_freshells_never_reaches_the_browser() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;

    let terminal_id = browser.create_shell().await;
    let attach = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &attach, "echo hello-$((6*7))", "hello-42")
        .await;
    browser
        .send(
            &json!({"type": "terminal.resize", "terminalId": terminal_id, "cols": 100, "rows": 30}),
        )
        .await;
    browser
        .run(&terminal_id, &attach, "stty size", "30 100")
        .await;
    browser
        .send(&json!({"type": "terminal.detach", "terminalId": terminal_id}))
        .await;
    browser
        .until("terminal.detached", |m| m["type"] == "terminal.detached")
        .await;
    let again = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &again, "echo again-$((7*7))", "again-49")
        .await;
    browser
        .send(&json!({"type": "terminal.kill", "terminalId": terminal_id}))
        .await;
    browser
        .until("terminal.exit", |m| {
            m["type"] == "terminal.exit" && m["terminalId"] == terminal_id.as_str()
        })
        .await;

    // freshell talks about its own terminals, between ordinary messages that must pass.
    for (revision, message) in (1..).zip(upstream_terminal_traffic()) {
        fake.push(message);
        fake.push(json!({"type": "sessions.changed", "revision": revision}));
    }
    let last = upstream_terminal_traffic().len() as u64;
    let from = browser.seen.len();
    browser
        .until("the last sessions.changed", |m| {
            m["type"] == "sessions.changed" && m["revision"] == last
        })
        .await;

    let revisions: Vec<u64> = browser.seen[from..]
        .iter()
        .filter(|m| m["type"] == "sessions.changed")
        .map(|m| m["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(
        revisions,
        (1..=last).collect::<Vec<u64>>(),
        "freshell's ordinary messages all pass, in order"
    );
    browser.assert_nothing_from_upstream_terminals();
    browser.sync_with_upstream().await;
    let forwarded: Vec<String> = fake
        .frames()
        .iter()
        .filter(|f| f.kind().starts_with("terminal."))
        .map(|f| f.text.clone())
        .collect();
    assert!(
        forwarded.is_empty(),
        "terminal messages that reached freshell: {forwarded:#?}"
    );
}

/// WS spec §1.4 and `docs/freshell-http-terminals.md` §6.1: freshell exempts
/// `ui.screenshot.result` from its 1 MiB message cap (screenshots travel as base64).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshot_result_over_one_mebibyte_reaches_freshell_whole() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let image = "iVBORw0KGgo".repeat(300_000); // about 3.3 MB of base64
    let screenshot = json!({"type": "ui.screenshot.result", "requestId": "shot-big", "ok": true, "imageBase64": image});

    browser.send(&screenshot).await;
    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-after-shot"}))
        .await;
    browser
        .until("the answer to q-after-shot", |m| {
            m["requestId"] == "q-after-shot"
        })
        .await;

    let errors: Vec<&Value> = browser
        .seen
        .iter()
        .filter(|m| m["type"] == "error")
        .collect();
    assert!(
        errors.is_empty(),
        "ptyhub refused the screenshot: {errors:#?}"
    );
    let arrived = fake
        .frames()
        .into_iter()
        .find(|f| f.kind() == "ui.screenshot.result")
        .expect("the screenshot reached freshell");
    assert_eq!(arrived.message, screenshot, "unchanged");
}

/// freshell's own cap on a message is 16 MiB; a large one (a tabs snapshot, an agent event)
/// reaches the browser whole and does not cost it its socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshell_message_over_two_mebibytes_reaches_the_browser_whole() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let big = json!({"type": "ui.command", "command": "stand-in.big", "payload": {"blob": "x".repeat(3 * 1024 * 1024)}});

    fake.push(big.clone());
    fake.push(json!({"type": "sessions.changed", "revision": 1}));

    let received = browser
        .until("the 3 MiB ui.command", |m| m["type"] == "ui.command")
        .await;
    assert!(received == big, "the message arrived changed");
    browser
        .until("the message after it", |m| m["type"] == "sessions.changed")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_lists_and_ping_are_answered_by_ptyhub_and_never_forwarded() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let providers = ["claude", "codex", "opencode", "amplifier"];

    for provider in providers {
        browser.send(&json!({"type": format!("{provider}.activity.list"), "requestId": format!("activity-{provider}")})).await;
    }
    browser.send(&json!({"type": "ping"})).await;
    for provider in providers {
        let reply = browser
            .until(&format!("{provider}'s activity list"), |m| {
                m["requestId"] == format!("activity-{provider}").as_str()
            })
            .await;
        assert_eq!(reply["type"], format!("{provider}.activity.list.response"));
        assert_eq!(reply["terminals"], json!([]), "{reply}");
    }
    browser.until("pong", |m| m["type"] == "pong").await;
    browser.sync_with_upstream().await;

    for provider in providers {
        let answers = browser
            .seen
            .iter()
            .filter(|m| m["requestId"] == format!("activity-{provider}").as_str())
            .count();
        assert_eq!(answers, 1, "{provider}: one answer");
    }
    assert_eq!(browser.count("pong"), 1);
    let forwarded: Vec<String> = fake
        .frames()
        .iter()
        .filter(|f| f.kind().ends_with(".activity.list") || f.kind() == "ping")
        .map(|f| f.text.clone())
        .collect();
    assert!(forwarded.is_empty(), "reached freshell: {forwarded:#?}");
    browser.assert_nothing_from_upstream_terminals();
}

/// A browser may (re)connect while freshell restarts: ptyhub serves it at once and joins it
/// to freshell when freshell is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_arriving_while_freshell_is_down_is_served_and_joined_later() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    fake.stop();
    let mut browser = Browser::open(&daemon).await;

    let hello = browser.hello.clone();
    browser.send(&hello).await;
    browser.until("ready", |m| m["type"] == "ready").await;
    browser
        .until("terminal.inventory", |m| m["type"] == "terminal.inventory")
        .await;
    let terminal_id = browser.create_shell().await;
    let attach = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &attach, "echo early-$((8*8))", "early-64")
        .await;
    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-early"}))
        .await;

    fake.restart();
    browser
        .until("freshell's settings.updated", |m| {
            m["type"] == "settings.updated"
        })
        .await;
    browser
        .until("the answer to q-early", |m| m["requestId"] == "q-early")
        .await;
    let upstream: Vec<Value> = fake.frames().into_iter().map(|f| f.message).collect();
    assert_eq!(upstream.first(), Some(&hello), "the hello went first");
    assert_eq!(browser.count("ready"), 1);
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_and_restarting_freshell_keeps_the_browser_socket_and_every_terminal() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let terminal_id = browser.create_shell().await;
    let attach = browser.attach(&terminal_id).await;
    browser
        .run(&terminal_id, &attach, "echo before-$((20+1))", "before-21")
        .await;

    fake.stop();
    fake.refuse_connections();
    wait_until(
        "ptyhub notices freshell is gone and tries to reconnect",
        PATIENCE,
        || fake.refused_attempts() > 0,
    )
    .await;

    browser
        .run(&terminal_id, &attach, "echo during-$((30+1))", "during-31")
        .await;
    let queued = vec![
        json!({"type": "tabs.sync.query", "requestId": "q-outage"}),
        json!({"type": "ui.layout.sync", "tabs": [], "activeTabId": null}),
        json!({"type": "x-stand-in.probe", "requestId": "probe-outage"}),
    ];
    for message in &queued {
        browser.send(message).await;
    }
    browser
        .run(&terminal_id, &attach, "echo still-$((40+1))", "still-41")
        .await;

    fake.restart();
    settle_until(PATIENCE, || {
        fake.frames_of_incarnation(2).len() > queued.len()
    })
    .await;
    let upstream: Vec<Value> = fake
        .frames_of_incarnation(2)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        upstream.first(),
        Some(&browser.hello),
        "ptyhub re-sends the browser's hello (same token) first"
    );
    assert_eq!(
        upstream.iter().skip(1).cloned().collect::<Vec<Value>>(),
        queued,
        "then what the browser sent during the outage, in order"
    );
    browser
        .until("the restarted freshell's answer to q-outage", |m| {
            m["requestId"] == "q-outage"
        })
        .await;
    browser
        .until("the answer to probe-outage", |m| {
            m["requestId"] == "probe-outage"
        })
        .await;

    browser
        .run(&terminal_id, &attach, "echo after-$((50+1))", "after-51")
        .await;
    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-after"}))
        .await;
    browser
        .until("the answer to q-after", |m| m["requestId"] == "q-after")
        .await;
    assert_eq!(
        browser.count("ready"),
        1,
        "no second ready: same ptyhub, same bootId"
    );
    assert_eq!(browser.count("terminal.exit"), 0);
    let settings_reply = http(
        &daemon,
        "GET",
        "/api/settings",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(
        settings_reply.status,
        200,
        "HTTP reaches the restarted freshell: {}",
        settings_reply.text()
    );
    assert!(settings_reply.served_by_freshell());
    browser.assert_nothing_from_upstream_terminals();
    let listed = http(
        &daemon,
        "GET",
        "/api/terminals",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    let running = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["terminalId"] == terminal_id.as_str() && t["status"] == "running");
    assert!(
        running,
        "the shell is still listed as running: {}",
        listed.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshell_closing_with_4009_does_not_close_the_browser_socket() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let terminal_id = browser.create_shell().await;
    let attach = browser.attach(&terminal_id).await;

    fake.stop_gracefully(4009).await;
    browser
        .run(&terminal_id, &attach, "echo alone-$((2+3))", "alone-5")
        .await;
    fake.restart();
    wait_until(
        "ptyhub reconnects to the restarted freshell",
        PATIENCE,
        || !fake.frames_of_incarnation(2).is_empty(),
    )
    .await;

    browser
        .send(&json!({"type": "tabs.sync.query", "requestId": "q-reconnected"}))
        .await;
    browser
        .until("the answer to q-reconnected", |m| {
            m["requestId"] == "q-reconnected"
        })
        .await;
    browser
        .run(&terminal_id, &attach, "echo back-$((3+4))", "back-7")
        .await;
    assert_eq!(browser.count("ready"), 1, "no second ready");
    browser.assert_nothing_from_upstream_terminals();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_freshell_gets_the_browsers_latest_layout_again() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let mut browser = Browser::open(&daemon).await;
    browser.handshake().await;
    let old_layout =
        json!({"type": "ui.layout.sync", "tabs": [{"id": "old"}], "activeTabId": "old"});
    let layout = json!({"type": "ui.layout.sync", "tabs": [{"id": "t1"}], "activeTabId": "t1"});
    let prefs = json!({"type": "sessions.prefs", "includeSubagents": true});
    for message in [&old_layout, &layout, &prefs] {
        browser.send(message).await;
    }
    settle_until(PATIENCE, || fake.frames_of_incarnation(1).len() > 3).await;

    // freshell keeps layout and preferences per socket: a restart forgets them.
    fake.stop_gracefully(4009).await;
    fake.restart();
    settle_until(PATIENCE, || fake.frames_of_incarnation(2).len() >= 3).await;
    let upstream: Vec<Value> = fake
        .frames_of_incarnation(2)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        upstream.first(),
        Some(&browser.hello),
        "the hello comes first"
    );
    assert_eq!(
        upstream[1..3].to_vec(),
        vec![layout, prefs],
        "then the latest state the browser sent, once each"
    );
    assert!(
        !upstream.contains(&old_layout),
        "an outdated layout is not re-sent"
    );
}

// ---------------------------------------------------------------------------------------------
// The stand-in itself
// ---------------------------------------------------------------------------------------------

/// Everything the stand-in may send is a valid protocol-7 server message, so a leak through
/// ptyhub fails these tests on the leak, not on the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_in_speaks_valid_freshell() {
    use tokio_tungstenite::tungstenite::Message;
    let fake = FakeFreshell::start();
    let ws_url = format!("ws://127.0.0.1:{}/ws", fake.port());

    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "hello", "protocolVersion": 7, "token": "not-the-token-0123"})
                .to_string(),
        ))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(Ok(frame)) = socket.next().await {
        match frame {
            Message::Text(text) => seen.push(serde_json::from_str::<Value>(text.as_str()).unwrap()),
            Message::Close(close) => {
                assert_eq!(close.map(|c| u16::from(c.code)), Some(4001));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(seen[0]["code"], "NOT_AUTHENTICATED");

    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "hello", "protocolVersion": 7, "token": fake.token()}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "tabs.sync.query", "requestId": "q"}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(json!({"type": "sessions.prefs"}).to_string()))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "claude.activity.list", "requestId": "a"}).to_string(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"type": "unknown.kind", "requestId": "u"}).to_string(),
        ))
        .await
        .unwrap();
    let mut messages = Vec::new();
    while messages.len() < 10 {
        let frame = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = frame {
            messages.push(serde_json::from_str::<Value>(text.as_str()).unwrap());
        }
    }
    messages.extend(upstream_terminal_traffic());
    for message in &messages {
        if let Err(why) = schema::validate_server_message(message) {
            panic!("the stand-in sent an invalid message: {why}\n{message}");
        }
    }
    let kinds: Vec<&str> = messages[..10]
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ready",
            "settings.updated",
            "perf.logging",
            "terminal.inventory",
            "terminals.changed",
            "terminal.output",
            "tabs.sync.snapshot",
            "settings.updated",
            "claude.activity.list.response",
            "error"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Starts ptyhub in front of `fake`, with freshell's `AUTH_TOKEN` (the deployment shares one).
fn start_in_front_of(fake: &FakeFreshell) -> Daemon {
    let upstream = fake.url();
    Daemon::start_with_args_and_token("", &["--freshell-upstream", &upstream], &fake.token())
}

/// The header freshell's UI puts on every API call.
fn auth(daemon: &Daemon) -> (&'static str, &[u8]) {
    ("x-auth-token", daemon.token.as_bytes())
}

/// A browser tab on ptyhub's `/ws`: the harness client (which validates every message
/// against the schema) plus every message this tab read, for order and leak checks.
struct Browser {
    client: Client,
    /// The hello this tab sent (what freshell must receive, unchanged).
    hello: Value,
    seen: Vec<Value>,
}

impl Browser {
    async fn open(daemon: &Daemon) -> Browser {
        Browser {
            client: Client::connect(daemon).await,
            // Like freshell's UI, minus the capabilities ptyhub does not implement.
            hello: json!({
                "type": "hello",
                "protocolVersion": 7,
                "token": daemon.token,
                "capabilities": {"uiScreenshotV1": true, "terminalOutputBatchV1": false},
                "client": {"mobile": false},
                "sidebarOpenSessions": [{"provider": "claude", "sessionId": "5a3f0c1e-8b9d-4c2a-9e7f-1d2c3b4a5e6f"}],
                "sessions": {"active": "5a3f0c1e-8b9d-4c2a-9e7f-1d2c3b4a5e6f", "visible": [], "background": []},
            }),
            seen: Vec::new(),
        }
    }

    /// Sends the hello and reads until ptyhub's `ready` and `terminal.inventory` and freshell's
    /// `settings.updated` and `perf.logging` are in; returns everything read.
    async fn handshake(&mut self) -> Vec<Value> {
        let hello = self.hello.clone();
        self.send(&hello).await;
        let from = self.seen.len();
        for kind in [
            "ready",
            "terminal.inventory",
            "settings.updated",
            "perf.logging",
        ] {
            if !self.seen[from..].iter().any(|m| m["type"] == kind) {
                self.until(kind, |m| m["type"] == kind).await;
            }
        }
        self.seen[from..].to_vec()
    }

    async fn send(&mut self, message: &Value) {
        self.client.send_json(message).await;
    }

    /// Sends a `tabs.sync.query` and waits for freshell's answer. Both directions keep their
    /// order, so afterwards freshell has received everything this tab sent before, and this
    /// tab has read everything freshell sent before its answer.
    async fn sync_with_upstream(&mut self) {
        let request_id = fresh_id("sync");
        self.send(&json!({"type": "tabs.sync.query", "requestId": request_id}))
            .await;
        self.until("freshell's answer to a sync query", |m| {
            m["type"] == "tabs.sync.snapshot" && m["requestId"] == request_id.as_str()
        })
        .await;
    }

    /// Reads (and keeps) messages until one satisfies `predicate`; panics if the socket
    /// closes or nothing matching comes within [`PATIENCE`].
    async fn until(&mut self, what: &str, mut predicate: impl FnMut(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let message = self.next(what, deadline).await;
            if predicate(&message) {
                return message;
            }
        }
    }

    async fn next(&mut self, what: &str, deadline: tokio::time::Instant) -> Value {
        match self.client.next_event(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
            Some(Event::Message(message)) => {
                self.seen.push(message.clone());
                message
            }
            Some(Event::Closed(code)) => panic!("the browser socket closed ({code:?}) while waiting for {what}; last messages: {:#?}", self.tail()),
            None => panic!("timed out waiting for {what}; last messages: {:#?}", self.tail()),
        }
    }

    fn tail(&self) -> &[Value] {
        &self.seen[self.seen.len().saturating_sub(12)..]
    }

    async fn create_shell(&mut self) -> String {
        let request_id = fresh_id("req");
        self.send(&json!({"type": "terminal.create", "requestId": request_id, "mode": "shell"}))
            .await;
        let created = self
            .until("terminal.created", |m| {
                m["requestId"] == request_id.as_str()
                    && (m["type"] == "terminal.created" || m["type"] == "error")
            })
            .await;
        assert_eq!(created["type"], "terminal.created", "{created}");
        created["terminalId"].as_str().unwrap().to_owned()
    }

    async fn attach(&mut self, terminal_id: &str) -> String {
        let id = self
            .client
            .send_attach(terminal_id, Attach::default())
            .await;
        let ready = self
            .until("terminal.attach.ready", |m| {
                m["type"] == "terminal.attach.ready" && m["attachRequestId"] == id.as_str()
                    || m["type"] == "error" && m["requestId"] == id.as_str()
            })
            .await;
        assert_eq!(ready["type"], "terminal.attach.ready", "{ready}");
        id
    }

    /// Types `command` and reads until `expected` shows up in what the attach received since.
    async fn run(&mut self, terminal_id: &str, attach: &str, command: &str, expected: &str) {
        let from = self.client.stream(attach).data.len();
        self.client.type_line(terminal_id, command).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.client.stream(attach).data[from..].contains(expected) {
            self.next(
                &format!("{expected:?} in the output of {command:?}"),
                deadline,
            )
            .await;
        }
    }

    fn count(&self, kind: &str) -> usize {
        self.seen.iter().filter(|m| m["type"] == kind).count()
    }

    /// Nothing freshell said about its own terminals (its ready, inventory, terminal.* and
    /// terminals.changed, all marked) reached this tab.
    fn assert_nothing_from_upstream_terminals(&self) {
        let leaked: Vec<&Value> = self
            .seen
            .iter()
            .filter(|m| m.to_string().contains(UPSTREAM_ONLY))
            .collect();
        assert!(
            leaked.is_empty(),
            "freshell's terminal traffic reached the browser: {leaked:#?}"
        );
    }
}

/// One HTTP exchange as the browser saw it.
struct HttpReply {
    status: u16,
    headers: hyper::HeaderMap,
    body: Vec<u8>,
}

impl HttpReply {
    /// Every value of header `name`, in order (bytes shown with [`shown`]).
    fn values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| shown(v.as_bytes()))
            .collect()
    }

    /// True when freshell (the stand-in) produced this response.
    fn served_by_freshell(&self) -> bool {
        self.values(SERVED_BY) == [SERVED_BY_VALUE]
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request to ptyhub on a fresh connection and reads the whole reply.
async fn http(
    daemon: &Daemon,
    method: &str,
    target: &str,
    headers: &[(&str, &[u8])],
    body: Vec<u8>,
) -> HttpReply {
    let response = open_http(daemon, method, target, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (parts, incoming) = response.into_parts();
    let body = tokio::time::timeout(
        PATIENCE,
        axum::body::to_bytes(Body::new(incoming), usize::MAX),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} {target}: the body did not end within {PATIENCE:?}"))
    .unwrap_or_else(|e| panic!("{method} {target}: reading the body failed: {e}"));
    HttpReply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.to_vec(),
    }
}

/// Sends one request to ptyhub and returns as soon as the response head is in; `Err` says
/// why no response came.
async fn open_http(
    daemon: &Daemon,
    method: &str,
    target: &str,
    headers: &[(&str, &[u8])],
    body: Vec<u8>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", daemon.port))
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(target)
        .header("host", format!("127.0.0.1:{}", daemon.port));
    for (name, value) in headers {
        request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let request = request.body(Body::from(body)).unwrap();
    match tokio::time::timeout(PATIENCE, sender.send_request(request)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(format!("{method} {target}: the request failed: {e}")),
        Err(_) => Err(format!(
            "{method} {target}: no response within {PATIENCE:?}"
        )),
    }
}

/// Bytes as text, exactly: printable ASCII as is, everything else escaped (`\xe9`).
fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes, without failing: the
/// caller's assertions then say what is wrong.
async fn settle_until(timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
