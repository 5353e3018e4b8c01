//! Answers ptyhub amends: the request goes to freshell unchanged and, when
//! freshell answers 200 with JSON, ptyhub adds what freshell cannot know
//! (its terminals, the panes it placed) before the browser or CLI sees it.
//! Any other answer is returned as freshell sent it.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::daemon::Daemon;

/// The answers amended are small (a directory page, a tab list); a larger
/// one is passed on unread.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Passes the request to freshell and edits a 200 JSON answer.
pub async fn rewrite_json(
    daemon: &Daemon,
    peer: SocketAddr,
    mut request: Request,
    edit: impl FnOnce(&mut Value),
) -> Response {
    let Some(upstream) = &daemon.upstream else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap_or_default();
    };
    // An answer to edit must come uncompressed.
    request.headers_mut().remove(header::ACCEPT_ENCODING);
    let response = upstream.proxy.forward(request, peer).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    edit(&mut answer);
    let edited = answer.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    Response::from_parts(parts, Body::from(edited))
}
