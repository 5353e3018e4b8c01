//! The Host allow-list, against DNS rebinding.
//!
//! A page on `attacker.example` can make its name resolve to 127.0.0.1; the browser then
//! sends `Host: attacker.example:7373` and treats the daemon as the attacker's own site, so
//! the Origin check (same host) passes. Rebinding always goes through a name the attacker
//! controls, never through an IP literal or `localhost`, so every route and the socket
//! answer only requests whose Host is the daemon's own address, `localhost`, `127.0.0.1` or
//! `[::1]` with the daemon's port, or a name from `[server] allowed_hosts`. Bound to an
//! unspecified address (`0.0.0.0`), any IP literal with the port is the daemon's own.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The Host values the daemon answers to.
#[derive(Debug)]
pub struct AllowedHosts {
    port: u16,
    bound: IpAddr,
    /// `[server] allowed_hosts`, lowercased: `name` (with the daemon's port) or `name:port`.
    configured: Vec<String>,
}

impl AllowedHosts {
    pub fn new(bound: SocketAddr, configured: &[String]) -> AllowedHosts {
        AllowedHosts {
            port: bound.port(),
            bound: bound.ip(),
            configured: configured.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a request with this `Host` header is for this daemon.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.configured.contains(&host) {
            return true;
        }
        let Some((name, port)) = split_port(&host) else {
            return false;
        };
        if port != Some(self.port) && !(port.is_none() && self.port == 80) {
            return false;
        }
        if ["localhost", "127.0.0.1", "[::1]"].contains(&name)
            || self.configured.iter().any(|c| c == name)
        {
            return true;
        }
        match ip_literal(name) {
            Some(ip) => ip == self.bound || self.bound.is_unspecified(),
            None => false,
        }
    }
}

/// `name[:port]` → (name, port); `None` for a malformed port.
fn split_port(host: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let (name, rest) = host.split_at(end + 1);
        (name, rest.strip_prefix(':'))
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    match port {
        Some(port) => port.parse().ok().map(|p| (name, Some(p))),
        None => Some((name, None)),
    }
}

fn ip_literal(name: &str) -> Option<IpAddr> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse().ok()
}

/// Refuses, before any route, a request whose Host is not the daemon's (421 would let a
/// browser retry elsewhere; a 403 is final).
pub async fn require_allowed_host(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let allowed = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| hosts.allows(host));
    if allowed {
        return next.run(request).await;
    }
    tracing::debug!("refusing a request for another host");
    (
        StatusCode::FORBIDDEN,
        "Host not allowed: use this daemon's own address (or localhost), or add the name to [server] allowed_hosts\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_addresses_and_configured_names_pass_rebound_names_do_not() {
        let hosts = AllowedHosts::new(
            "127.0.0.1:7373".parse().expect("addr"),
            &["MyBox.lan".to_owned(), "proxy.lan:443".to_owned()],
        );
        for ok in [
            "127.0.0.1:7373",
            "localhost:7373",
            "LOCALHOST:7373",
            "[::1]:7373",
            "mybox.lan:7373",
            "proxy.lan:443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "attacker.example:7373",
            "attacker.example",
            "localhost.attacker.example:7373",
            "127.0.0.1:7374",
            "127.0.0.2:7373",
            "localhost",
            "localhost:",
            "proxy.lan:7373x",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        let anywhere = AllowedHosts::new("0.0.0.0:7373".parse().expect("addr"), &[]);
        assert!(anywhere.allows("192.168.1.5:7373"));
        assert!(!anywhere.allows("nas.lan:7373"));
    }
}
