//! The token gate for ptyhub's own HTTP routes: `Authorization: Bearer` or
//! `?token=`. One layer guards every API route, so none can forget it:
//! reads pass with the read-only token too, changes need the full token.
//! (`/ws` checks the token in `hello`, as freshell does; the web client's
//! static files carry no data and load before the page has a token.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::daemon::{Access, Daemon};

/// The `token` parameter of a query string, decoded.
pub fn query_token(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("token="))
        .map(percent_decoded)
        .next()
}

/// A percent-encoded value (a query parameter, a cookie) as text.
pub fn percent_decoded(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

pub async fn require_token(
    State(daemon): State<Arc<Daemon>>,
    mut request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let presented = bearer.or_else(|| request.uri().query().and_then(query_token));
    let access = presented
        .as_deref()
        .and_then(|token| daemon.access_for(token));
    if access.is_none() && presented.is_some() {
        let delay = record_wrong_token(&daemon, &request);
        tokio::time::sleep(delay).await;
    }
    match access {
        None => (StatusCode::UNAUTHORIZED, "missing or wrong token").into_response(),
        Some(Access::ReadOnly) if !is_read(&request) => (
            StatusCode::FORBIDDEN,
            "the read-only token can only read; this needs the full token",
        )
            .into_response(),
        Some(access) => {
            if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
                daemon.connections.authenticated(*peer);
            }
            // For routes whose answer depends on the rights (`/ptyhub/api/info`).
            request.extensions_mut().insert(access);
            next.run(request).await
        }
    }
}

/// Counts and logs a wrong token; returns how long to wait before the 401.
pub fn record_wrong_token(daemon: &Daemon, request: &Request) -> Duration {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return Duration::ZERO;
    };
    // The path only (the query may hold the token), and short; the log escapes it.
    let path: String = request.uri().path().chars().take(100).collect();
    daemon.auth_failures.record(peer.ip(), "http", &path)
}

fn is_read(request: &Request) -> bool {
    matches!(*request.method(), Method::GET | Method::HEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_among_other_query_parameters_and_decoded() {
        assert_eq!(query_token("ansi=1&token=a%2Bb").as_deref(), Some("a+b"));
        assert_eq!(query_token("ansi=1"), None);
    }
}
