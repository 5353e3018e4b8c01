//! `ptyhub serve --freshell-upstream <url>`, the HTTP side: ptyhub in front of an unchanged
//! freshell server (`docs/freshell-http-terminals.md` §0, §1, §5).
//!
//! The browser talks only to ptyhub, so every request ptyhub does not answer itself, and every
//! WebSocket upgrade other than `/ws`, must reach freshell and come back as if ptyhub were not
//! there: method, path, query, headers (`Host` included), status and body byte for byte,
//! streamed as they come, with freshell's own auth deciding. Only the forwarding headers
//! change: ptyhub names the real peer. ptyhub's own routes are in
//! `freshell_upstream_http_terminals.rs`, what the front does while freshell is down or for a
//! read-only link in `freshell_upstream_http_page_safety.rs`, and the WebSocket side of the
//! bridge in `freshell_upstream_ws.rs`.
//!
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`; requests go
//! out through `common::raw_http`, which keeps headers and bodies byte-exact.

mod common;

use axum::body::Body;
use common::fake_freshell::*;
use common::raw_http::{http, open_http, shown};
use common::upstream_browser::{authorized_get, start_in_front_of};
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

    let settings_reply = authorized_get(&daemon, "/api/settings").await;
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
    let sessions = authorized_get(&daemon, "/api/sessions").await;
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
