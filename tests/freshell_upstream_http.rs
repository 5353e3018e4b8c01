//! `ptyhub serve --freshell-upstream <url>`, the HTTP side: ptyhub in front of an unchanged
//! freshell server (`docs/freshell-http-terminals.md` §0, §1, §2, §5).
//!
//! The browser talks only to ptyhub. ptyhub answers its own routes (`/ws`, `/api/terminals…`,
//! `POST /api/ai/terminals/{id}/summary`, `/healthz`, `/ptyhub/…`); every other request, and
//! every other WebSocket upgrade, reaches freshell untouched, both ways. When freshell is down
//! its routes are a gateway error and ptyhub's keep working. The WebSocket side of the bridge
//! is in `freshell_upstream_ws.rs`.
//!
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`; requests go
//! out through `common::raw_http`, which keeps headers and bodies byte-exact.

mod common;

use axum::body::Body;
use common::fake_freshell::*;
use common::raw_http::{http, open_http, shown};
use common::upstream_browser::{auth, start_in_front_of, Browser};
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;

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
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;

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
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;
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
// The front never harms freshell's page (issue 13)
// ---------------------------------------------------------------------------------------------

/// freshell's page stores whatever token its URL carries as its own: a read-only link opened
/// there would log the whole browser profile out of freshell. It goes to ptyhub's client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_link_on_freshells_page_opens_ptyhubs_own_client() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let view_token = daemon.view_token();

    let target = format!("/?token={view_token}&view=readonly");
    let reply = http(&daemon, "GET", &target, &[], Vec::new()).await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(
        reply.values("location"),
        [format!("/ptyhub/?token={view_token}&view=readonly")]
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.query.as_deref().unwrap_or("").contains(&view_token)),
        "the view token reached freshell"
    );
    let own = http(
        &daemon,
        "GET",
        &reply.values("location")[0],
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(own.status, 200);
    assert!(
        !own.served_by_freshell(),
        "ptyhub's client, not freshell's page"
    );

    // The full token still opens freshell's page, as freshell's own link does.
    let full = http(
        &daemon,
        "GET",
        &format!("/?token={}", daemon.token),
        &[],
        Vec::new(),
    )
    .await;
    assert!(full.served_by_freshell());
}

/// A page opened while freshell restarts must not be stuck on a raw 502: it gets a page that
/// says so and reloads itself; API calls keep freshell's JSON error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_opened_while_freshell_is_down_waits_for_it_and_apis_keep_their_502() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    fake.stop();

    let navigation: &[(&str, &[u8])] = &[
        ("sec-fetch-mode", b"navigate"),
        ("accept", b"text/html,application/xhtml+xml"),
    ];
    let page = http(&daemon, "GET", "/", navigation, Vec::new()).await;
    assert_eq!(page.status, 503, "{}", page.text());
    assert_eq!(page.values("content-type"), ["text/html; charset=utf-8"]);
    assert_eq!(page.values("retry-after"), ["2"]);
    let html = page.text();
    assert!(html.contains("freshell is restarting"), "{html}");
    assert!(
        html.contains(r#"<meta http-equiv="refresh" content="2">"#),
        "the page reloads itself: {html}"
    );
    // An older browser's navigation: a GET that accepts HTML.
    let old = http(&daemon, "GET", "/", &[("accept", b"text/html")], Vec::new()).await;
    assert_eq!(old.status, 503);

    let api = http(
        &daemon,
        "GET",
        "/api/settings",
        &[auth(&daemon), ("sec-fetch-mode", b"cors")],
        Vec::new(),
    )
    .await;
    assert_eq!(api.status, 502, "{}", api.text());
    assert!(api.json()["error"].is_string());

    fake.restart();
    let back = http(&daemon, "GET", "/", navigation, Vec::new()).await;
    assert_eq!(back.status, 200);
    assert!(back.served_by_freshell(), "the app once freshell is back");
}

/// The terminal's entry in `GET /api/terminals`, if listed.
async fn listed_terminal(daemon: &Daemon, terminal_id: &str) -> Option<serde_json::Value> {
    let listed = http(daemon, "GET", "/api/terminals", &[auth(daemon)], Vec::new()).await;
    listed
        .json()
        .as_array()?
        .iter()
        .find(|t| t["terminalId"] == terminal_id)
        .cloned()
}

/// Every freshell route ptyhub answers sits behind one token layer: no token or a wrong one is
/// freshell's 401, the view token reads but never changes, the full token changes and the
/// change reads back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshells_terminal_routes_share_one_token_layer_and_changes_read_back() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    let view = daemon.view_token();
    let json_type: (&str, &[u8]) = ("content-type", b"application/json");
    let routes = [
        ("GET", "/api/terminals".to_owned(), ""),
        ("GET", "/api/terminals?priority=visible".to_owned(), ""),
        (
            "GET",
            format!("/api/terminals/{terminal_id}/search?query=x"),
            "",
        ),
        (
            "PATCH",
            format!("/api/terminals/{terminal_id}"),
            r#"{"titleOverride":"sneaky"}"#,
        ),
        ("DELETE", format!("/api/terminals/{terminal_id}"), ""),
        (
            "POST",
            format!("/api/ai/terminals/{terminal_id}/summary"),
            "{}",
        ),
    ];
    for (method, target, body) in &routes {
        for (case, headers) in [
            ("no token", vec![json_type]),
            (
                "a wrong token",
                vec![
                    json_type,
                    ("x-auth-token", b"wrong-token-0123456789".as_slice()),
                ],
            ),
        ] {
            let refused = http(&daemon, method, target, &headers, body.as_bytes().to_vec()).await;
            assert_eq!(refused.status, 401, "{method} {target}, {case}");
            assert!(!refused.served_by_freshell(), "{method} {target}, {case}");
            assert_eq!(refused.json(), json!({"error": "Unauthorized"}));
        }
        let with_view = http(
            &daemon,
            method,
            target,
            &[json_type, ("x-auth-token", view.as_bytes())],
            body.as_bytes().to_vec(),
        )
        .await;
        let expected = if *method == "GET" { 200 } else { 403 };
        assert_eq!(
            with_view.status, expected,
            "{method} {target} with the view token"
        );
    }
    let item = listed_terminal(&daemon, &terminal_id)
        .await
        .expect("the terminal is still listed: nothing refused changed it");
    assert_ne!(item["title"], "sneaky");

    let patched = http(
        &daemon,
        "PATCH",
        &format!("/api/terminals/{terminal_id}"),
        &[auth(&daemon), json_type],
        br#"{"titleOverride":"build box","descriptionOverride":"runs the build"}"#.to_vec(),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(
        patched.json(),
        json!({"titleOverride": "build box", "descriptionOverride": "runs the build"})
    );
    let item = listed_terminal(&daemon, &terminal_id)
        .await
        .expect("listed");
    assert_eq!(item["title"], "build box");
    assert_eq!(item["description"], "runs the build");

    let hidden = http(
        &daemon,
        "DELETE",
        &format!("/api/terminals/{terminal_id}"),
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(hidden.json(), json!({"ok": true}));
    let listed = http(
        &daemon,
        "GET",
        "/api/terminals",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert!(
        !listed.text().contains(&terminal_id),
        "a hidden terminal is not listed: {}",
        listed.text()
    );
    assert!(
        common::http::api_session(&daemon, &terminal_id).is_some(),
        "hiding does not kill"
    );
    assert!(fake.requests_under("/api/terminals").is_empty());
}

/// freshell's session directory and directory suggestions come from freshell, with ptyhub's
/// terminals in them: an indexed session running in ptyhub is marked running, an agent
/// terminal freshell has not indexed is a live-only entry, running terminals' directories
/// are suggested first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_directory_and_candidate_dirs_show_ptyhubs_terminals() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let json_type: (&str, &[u8]) = ("content-type", b"application/json");
    let workdir = daemon.scratch_dir("codex-project");
    let workdir = workdir.to_str().unwrap();
    let create = |body: serde_json::Value| {
        let daemon = &daemon;
        async move {
            let reply = http(
                daemon,
                "POST",
                "/api/tabs",
                &[auth(daemon), json_type],
                body.to_string().into_bytes(),
            )
            .await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json()["data"]["terminalId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let claude = create(json!({"mode": "claude", "sessionRef": {"provider": "claude", "sessionId": INDEXED_CLAUDE_SESSION}})).await;
    let codex = create(json!({"mode": "codex", "cwd": workdir})).await;
    create(json!({"mode": "shell"})).await;

    let page = http(
        &daemon,
        "GET",
        "/api/session-directory?priority=visible",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.served_by_freshell(), "freshell's answer, amended");
    let page = page.json();
    let items = page["items"].as_array().expect("items");
    let find = |session_id: &str| {
        items
            .iter()
            .find(|i| i["sessionId"] == session_id)
            .unwrap_or_else(|| panic!("{session_id} listed: {items:#?}"))
    };
    assert_eq!(find(INDEXED_CLAUDE_SESSION)["isRunning"], true);
    assert_eq!(
        find(INDEXED_CLAUDE_SESSION)["runningTerminalId"],
        claude.as_str()
    );
    assert_eq!(find(INDEXED_IDLE_SESSION)["isRunning"], false);
    let live = find(&format!("terminal:{codex}"));
    assert_eq!(live["liveTerminalOnly"], true);
    assert_eq!(live["provider"], "codex");
    assert_eq!(live["runningTerminalId"], codex.as_str());
    assert_eq!(live["cwd"], workdir);
    assert_eq!(
        items.len(),
        3,
        "no entry for a shell, none twice: {items:#?}"
    );
    assert_eq!(page["revision"], 7, "freshell's other fields are kept");

    let later = http(
        &daemon,
        "GET",
        "/api/session-directory?priority=visible&cursor=c1",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(
        later.json()["items"].as_array().unwrap().len(),
        2,
        "live-only entries on the first page only"
    );

    let dirs = http(
        &daemon,
        "GET",
        "/api/files/candidate-dirs",
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(dirs.status, 200, "{}", dirs.text());
    let dirs: Vec<String> = serde_json::from_value(dirs.json()["directories"].clone()).unwrap();
    let at = |dir: &str| {
        dirs.iter()
            .position(|d| d == dir)
            .unwrap_or_else(|| panic!("{dir} in {dirs:?}"))
    };
    assert!(at(workdir) < at(INDEXED_PROJECT), "{dirs:?}");
    at("/srv/recent");
    let unique: std::collections::HashSet<&String> = dirs.iter().collect();
    assert_eq!(unique.len(), dirs.len(), "no directory twice: {dirs:?}");
}

/// Issue 16: a path that spells `/api/terminals` differently is still ptyhub's, answered as
/// the plain spelling is; freshell never sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_the_terminal_routes_is_answered_by_ptyhub() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;

    for spelling in [
        "/api/terminals/",
        "/api//terminals",
        "//api/terminals",
        "/api/%74erminals",
        "/api/terminals//",
        "/api/%74erminals/?priority=visible",
    ] {
        let listed = http(&daemon, "GET", spelling, &[auth(&daemon)], Vec::new()).await;
        assert_eq!(listed.status, 200, "{spelling}: {}", listed.text());
        assert!(!listed.served_by_freshell(), "{spelling} reached freshell");
        assert!(
            listed.text().contains(&terminal_id),
            "{spelling}: ptyhub's terminal is not listed: {}",
            listed.text()
        );
    }
    for (spelling, plain) in [
        ("/api/%74erminals/nope/x/y", "/api/terminals/nope/x/y"),
        (
            "/api//terminals/no-such/search/",
            "/api/terminals/no-such/search",
        ),
    ] {
        let answered = http(&daemon, "GET", spelling, &[auth(&daemon)], Vec::new()).await;
        let expected = http(&daemon, "GET", plain, &[auth(&daemon)], Vec::new()).await;
        assert_eq!(answered.status, expected.status, "{spelling}");
        assert_eq!(answered.body, expected.body, "{spelling}");
        assert!(
            !answered.served_by_freshell(),
            "{spelling} reached freshell"
        );
    }
    assert!(
        fake.requests().iter().all(|r| !r.path.contains("erminals")),
        "a terminal route reached freshell: {:?}",
        fake.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

/// Issue 16: a client cannot name another client to freshell; ptyhub names the real peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_supplied_forwarding_headers_are_replaced_by_the_peer() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);

    http(
        &daemon,
        "GET",
        "/echo/forwarded",
        &[
            ("x-forwarded-for", b"203.0.113.9".as_slice()),
            ("forwarded", b"for=203.0.113.9".as_slice()),
            ("x-real-ip", b"203.0.113.9".as_slice()),
        ],
        Vec::new(),
    )
    .await;

    let seen = fake.requests_under("/echo/forwarded").remove(0);
    let shown_values =
        |name: &str| -> Vec<String> { seen.header_values(name).into_iter().map(shown).collect() };
    assert_eq!(shown_values("x-forwarded-for"), ["127.0.0.1"]);
    assert!(
        shown_values("forwarded").is_empty(),
        "{:?}",
        shown_values("forwarded")
    );
    assert!(
        shown_values("x-real-ip").is_empty(),
        "{:?}",
        shown_values("x-real-ip")
    );
}
