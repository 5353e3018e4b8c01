//! Login links: the links the daemon prints and `ptyhub url` asks for, and the trade of
//! their code for a token (`crate::login_codes` says why links carry no token).
//!
//! - `POST /ptyhub/login` with `{"code": "…"}`, no token: the code's token and its rights
//!   (`{"token", "access", "freshellFront"}`), once; 401 for a code that is unknown, spent or
//!   expired (counted and slowed down like a wrong token). Never cached.
//! - `POST /ptyhub/api/login-links` with `{"access": "full"|"read-only"}`, behind the token
//!   layer (full token): a new link, `{"url", "access", "expiresInSeconds"}`.
//!
//! A link is `<the page>#login=<code>`: in the fragment, which the browser never sends in a
//! request, so the code stays out of the HTTP cache and of any proxy's log, and a link
//! preview that fetches the page cannot spend it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::origin;
use crate::daemon::{Access, Daemon};
use crate::login_codes::REQUESTED_CODE_LIFETIME;

/// A body of `POST /ptyhub/login` is one short code; anything longer is not one.
const MAX_LOGIN_BODY_BYTES: usize = 1024;

/// The page a link opens: the web client at `/`, or at `/ptyhub/` in front of freshell,
/// whose page owns `/` (and must never see the read-only token).
pub fn own_client_path(freshell_front: bool) -> &'static str {
    if freshell_front {
        "/ptyhub/"
    } else {
        "/"
    }
}

/// `http://<authority><page>#login=<code>`; a read-only link says so in its query too
/// (`?view=readonly`), so that even spent it opens a watching page.
pub fn login_link(authority: &str, freshell_front: bool, access: Access, code: &str) -> String {
    let view = match access {
        Access::Full => "",
        Access::ReadOnly => "?view=readonly",
    };
    format!(
        "http://{authority}{}{view}#login={code}",
        own_client_path(freshell_front)
    )
}

/// What a page sends to trade its code.
#[derive(Debug, Deserialize)]
struct Redeem {
    code: String,
}

/// What the page gets for a good code.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redeemed {
    pub token: String,
    /// `full` or `read-only`.
    pub access: String,
    /// ptyhub runs in front of freshell (`--freshell-upstream`), whose page at `/` takes
    /// the same full token.
    pub freshell_front: bool,
}

/// `POST /ptyhub/login`.
pub async fn redeem(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if let Err(reason) = origin::check(request.headers(), &daemon.config.server.allowed_origins) {
        tracing::warn!(reason, "refusing a login from another origin");
        return (StatusCode::FORBIDDEN, "Origin not allowed").into_response();
    }
    let body = match axum::body::to_bytes(request.into_body(), MAX_LOGIN_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "expected {\"code\"}").into_response(),
    };
    let Ok(Redeem { code }) = serde_json::from_slice::<Redeem>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected {\"code\"}").into_response();
    };
    let Some(access) = daemon.login_codes.redeem(&code) else {
        // Logged without the code, as a wrong token is.
        let delay = daemon
            .auth_failures
            .record(peer.ip(), "login_code", "/ptyhub/login");
        tokio::time::sleep(delay).await;
        return no_store(
            StatusCode::UNAUTHORIZED,
            "this login link was used already or has expired: `ptyhub url` prints a new one",
        );
    };
    daemon.connections.authenticated(peer);
    tracing::info!(%peer, access = access_name(access), "a login link was opened");
    let token = match access {
        Access::Full => daemon.token(),
        Access::ReadOnly => daemon.view_token(),
    };
    let answer = Redeemed {
        token: token.to_owned(),
        access: access_name(access).to_owned(),
        freshell_front: daemon.upstream.is_some(),
    };
    ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response()
}

/// What `ptyhub url` asks for.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLoginLink {
    /// `full` (the default) or `read-only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// A new link.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginLink {
    pub url: String,
    pub access: String,
    pub expires_in_seconds: u64,
}

/// `POST /ptyhub/api/login-links` (full token, as every change).
pub async fn mint(
    State(daemon): State<Arc<Daemon>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let asked: NewLoginLink = if body.is_empty() {
        NewLoginLink::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(asked) => asked,
            Err(err) => {
                return no_store(
                    StatusCode::BAD_REQUEST,
                    format!("expected {{\"access\": \"full\"|\"read-only\"}}: {err}"),
                )
            }
        }
    };
    let access = match asked.access.as_deref() {
        None | Some("full") => Access::Full,
        Some("read-only") => Access::ReadOnly,
        Some(_) => {
            return no_store(
                StatusCode::BAD_REQUEST,
                "access is \"full\" or \"read-only\"",
            )
        }
    };
    // The Host this request came by has passed the allow-list: the name the asker reaches
    // the daemon by.
    let Some(authority) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return no_store(StatusCode::BAD_REQUEST, "no Host header");
    };
    let code = daemon.login_codes.mint(access, REQUESTED_CODE_LIFETIME);
    let link = LoginLink {
        url: login_link(authority, daemon.upstream.is_some(), access, &code),
        access: access_name(access).to_owned(),
        expires_in_seconds: REQUESTED_CODE_LIFETIME.as_secs(),
    };
    (
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(link),
    )
        .into_response()
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Full => "full",
        Access::ReadOnly => "read-only",
    }
}

fn no_store(status: StatusCode, message: impl Into<String>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(message.into()))
        .unwrap_or_else(|_| status.into_response())
}

/// How long a printed link works, in words for the log.
pub fn lifetime_words(lifetime: Duration) -> String {
    let minutes = lifetime.as_secs() / 60;
    if minutes >= 60 && minutes.is_multiple_of(60) {
        let hours = minutes / 60;
        format!("{hours} hour{}", if hours == 1 { "" } else { "s" })
    } else {
        format!("{minutes} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_open_the_own_client_with_the_code_in_the_fragment() {
        assert_eq!(
            login_link("127.0.0.1:7373", false, Access::Full, "abc"),
            "http://127.0.0.1:7373/#login=abc"
        );
        assert_eq!(
            login_link("127.0.0.1:3001", true, Access::ReadOnly, "abc"),
            "http://127.0.0.1:3001/ptyhub/?view=readonly#login=abc"
        );
    }

    #[test]
    fn lifetimes_read_as_words() {
        assert_eq!(lifetime_words(Duration::from_secs(3600)), "1 hour");
        assert_eq!(lifetime_words(Duration::from_secs(600)), "10 minutes");
    }
}
