//! The token gate for freshell's routes that ptyhub answers in front of
//! freshell (its terminal routes and its agent API): one layer over all of
//! them, so no route can forget it. The token is read where freshell reads
//! it — the `x-auth-token` header or the `freshell-auth` cookie — and a
//! refusal has freshell's shape (`401 {"error":"Unauthorized"}`).
//!
//! The read-only token may read (GET: lists, search, capture, wait-for) and
//! nothing else, as on ptyhub's own API. A wrong token is counted and
//! slowed down as everywhere else.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::daemon::{Access, Daemon};

/// The token from `x-auth-token`, else from the `freshell-auth` cookie.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers.get("x-auth-token").and_then(|v| v.to_str().ok()) {
        return Some(token.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("freshell-auth="))
        .map(crate::server::auth::percent_decoded)
        .next()
}

pub async fn require_token(
    State(daemon): State<Arc<Daemon>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = presented_token(request.headers());
    let access = presented.as_deref().and_then(|t| daemon.access_for(t));
    if access.is_none() && presented.is_some() {
        // Counted, logged and slowed down like any wrong token (`auth_failures.rs`).
        let delay = crate::server::auth::record_wrong_token(&daemon, &request);
        tokio::time::sleep(delay).await;
    }
    let reads = matches!(*request.method(), Method::GET | Method::HEAD);
    match access {
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "Unauthorized" })),
        )
            .into_response(),
        Some(Access::ReadOnly) if !reads => (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "Forbidden: the read-only token can only read" })),
        )
            .into_response(),
        Some(_) => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_header_or_the_freshell_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; freshell-auth=tok%2Ben; b=2".parse().expect("header"),
        );
        assert_eq!(presented_token(&headers).as_deref(), Some("tok+en"));
        headers.insert("x-auth-token", "direct".parse().expect("header"));
        assert_eq!(presented_token(&headers).as_deref(), Some("direct"));
    }
}
