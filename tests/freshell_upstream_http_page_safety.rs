//! `ptyhub serve --freshell-upstream <url>`: the front never harms freshell's page
//! (`docs/freshell-http-terminals.md` §5, issue 13).
//!
//! Putting ptyhub in front of freshell must not cost freshell's page anything. While freshell
//! is down its routes are a gateway error the page's UI retries on, a page opened meanwhile
//! says so and reloads itself, and ptyhub's own routes keep working; a read-only link opens
//! ptyhub's own client, because freshell's page would keep the view token as its own and log
//! the whole browser profile out of freshell.
//!
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`; requests go
//! out through `common::raw_http`, which keeps headers and bodies byte-exact.

mod common;

use common::fake_freshell::*;
use common::raw_http::http;
use common::upstream_browser::{auth, authorized_get, start_in_front_of};

/// `docs/freshell-http-terminals.md` §5: the UI retries quietly on 502/503/504 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshell_being_down_is_a_gateway_error_and_ptyhubs_routes_keep_working() {
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    fake.stop();

    let reply = authorized_get(&daemon, "/api/settings").await;
    assert!(
        [502, 503, 504].contains(&reply.status),
        "status {} ({})",
        reply.status,
        reply.text()
    );

    let listed = authorized_get(&daemon, "/api/terminals").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let health = http(&daemon, "GET", "/healthz", &[], Vec::new()).await;
    assert_eq!(health.status, 200);
}

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
