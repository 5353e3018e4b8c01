//! DNS rebinding: a request whose `Host` is not the daemon's own address, `localhost` or a
//! configured name is refused on every route and on the socket, standalone and in front of
//! freshell (where nothing reaches freshell).

mod common;

use common::fake_freshell::FakeFreshell;
use common::raw_http::raw_status;
use common::upstream_browser::start_in_front_of;
use common::*;

/// A WebSocket upgrade as a page on `host` would send it (its Origin is that host).
fn upgrade(host: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
}

fn get(target: &str, host: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

fn requests(host: &str, token: &str) -> Vec<(String, String)> {
    vec![
        ("/healthz".into(), get("/healthz", host)),
        ("/ptyhub/".into(), get("/ptyhub/", host)),
        (
            "/ptyhub/api/sessions".into(),
            get(&format!("/ptyhub/api/sessions?token={token}"), host),
        ),
        (
            "/metrics".into(),
            get(&format!("/metrics?token={token}"), host),
        ),
        ("/ws".into(), upgrade(host)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_daemons_own_hosts_and_configured_names_are_served() {
    let daemon = Daemon::start("[server]\nallowed_hosts = [\"ptyhub.test\"]\n");
    let port = daemon.port;
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        format!("ptyhub.test:{port}"),
    ] {
        for (route, request) in requests(&host, &daemon.token) {
            let status = raw_status(port, &request).await;
            assert!(
                matches!(status, Some(200 | 101)),
                "Host {host} on {route}: {status:?}"
            );
        }
    }
    for host in [
        format!("attacker.example:{port}"),
        "attacker.example".to_owned(),
        format!("localhost.attacker.example:{port}"),
        format!("127.0.0.1.attacker.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("ptyhub.test.attacker.example:{port}"),
    ] {
        for (route, request) in requests(&host, &daemon.token) {
            let status = raw_status(port, &request).await;
            assert_eq!(status, Some(403), "Host {host} on {route}");
        }
    }
    let no_host = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_status(port, no_host).await, Some(403), "no Host");
    // The owner's own client is unaffected.
    Client::connect_ready(&daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_front_of_freshell_a_rebound_host_reaches_neither_daemon() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let port = daemon.port;
    let host = format!("attacker.example:{port}");
    for target in ["/", "/api/settings", "/api/terminals", "/ptyhub/"] {
        assert_eq!(
            raw_status(port, &get(target, &host)).await,
            Some(403),
            "{target}"
        );
    }
    assert_eq!(raw_status(port, &upgrade(&host)).await, Some(403), "/ws");
    assert!(
        fake.requests().is_empty() && fake.connections_opened() == 0,
        "a request for another host reached freshell"
    );
    let own = format!("127.0.0.1:{port}");
    assert_eq!(raw_status(port, &get("/", &own)).await, Some(200));
    assert_eq!(fake.requests().len(), 1, "the daemon's own host is proxied");
}
