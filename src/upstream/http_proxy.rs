//! The reverse proxy to freshell: method, path, query, headers, cookies,
//! status codes and bodies pass through unchanged and streamed. Only the
//! hop-by-hop headers of each connection are not forwarded (RFC 9110 §7.6.1).
//! Protocol upgrades other than ptyhub's own `/ws` (freshell's browser-pane
//! tunnels) are spliced through byte for byte.

use axum::body::Body;
use axum::extract::Request;
use std::net::SocketAddr;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Headers that describe one hop, not the message.
const HOP_BY_HOP: &[HeaderName] = &[
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
];

#[derive(Clone)]
pub struct HttpProxy {
    base: String,
    client: Client<HttpConnector, Body>,
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get(header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"))
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named in Connection are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(named.iter()) {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

impl HttpProxy {
    pub fn new(http_base: &str) -> HttpProxy {
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        HttpProxy {
            base: http_base.trim_end_matches('/').to_owned(),
            client,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// ptyhub's own request to freshell's API (`GET path` with the shared
    /// token), for what ptyhub must know of freshell: its JSON answer, or why
    /// there is none. Bounded in time and size: freshell may be restarting.
    pub async fn get_json(
        &self,
        path: &str,
        token: &str,
        wait: std::time::Duration,
    ) -> Result<serde_json::Value, String> {
        /// freshell's settings are a few KiB.
        const MAX_ANSWER_BYTES: usize = 1024 * 1024;
        let target = format!("{}{path}", self.base);
        let request = Request::get(&target)
            .header("x-auth-token", token)
            .body(Body::empty())
            .map_err(|err| format!("cannot ask {target}: {err}"))?;
        let answer = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| format!("freshell did not answer {path}: {err}"))?;
            if !response.status().is_success() {
                return Err(format!(
                    "freshell answered {path} with {}",
                    response.status()
                ));
            }
            axum::body::to_bytes(Body::new(response.into_body()), MAX_ANSWER_BYTES)
                .await
                .map_err(|err| format!("freshell's answer to {path} broke off: {err}"))
        };
        let bytes = tokio::time::timeout(wait, answer)
            .await
            .map_err(|_| format!("freshell did not answer {path} within {wait:?}"))??;
        serde_json::from_slice(&bytes)
            .map_err(|err| format!("freshell's {path} is not JSON: {err}"))
    }

    /// Sends `request` to freshell and streams its answer back. `peer` is
    /// the client, named in `X-Forwarded-For` (in place of anything the
    /// client put there) so freshell's per-client rate limit and logs still
    /// tell browsers apart (freshell trusts a loopback proxy).
    pub async fn forward(&self, mut request: Request, peer: SocketAddr) -> Response {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let target: Uri = match format!("{}{path}", self.base).parse() {
            Ok(uri) => uri,
            Err(err) => return bad_gateway(format!("cannot address {path} upstream: {err}")),
        };
        let navigation = is_page_navigation(&request, &path);
        *request.uri_mut() = target;
        add_forwarded_for(request.headers_mut(), peer);
        let upgrade = is_upgrade(request.headers());
        if upgrade {
            return self.forward_upgrade(request).await;
        }
        strip_hop_by_hop(request.headers_mut());
        match self.client.request(request).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, Body::new(body))
            }
            Err(err) if navigation => {
                tracing::warn!(upstream = %self.base, %err, "freshell is unreachable; a page waits for it");
                restarting_page()
            }
            Err(err) => bad_gateway(format!(
                "freshell upstream {} is unreachable: {err}",
                self.base
            )),
        }
    }

    /// Forwards an upgrade request and, once freshell switches protocols,
    /// splices the two connections together.
    async fn forward_upgrade(&self, mut request: Request) -> Response {
        let client_side = hyper::upgrade::on(&mut request);
        let mut response = match self.client.request(request).await {
            Ok(response) => response,
            Err(err) => {
                return bad_gateway(format!(
                    "freshell upstream {} is unreachable: {err}",
                    self.base
                ))
            }
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            let upstream_side = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                let (Ok(client), Ok(upstream)) = tokio::join!(client_side, upstream_side) else {
                    tracing::debug!("an upgraded connection ended before it began");
                    return;
                };
                let mut client = TokioIo::new(client);
                let mut upstream = TokioIo::new(upstream);
                if let Err(err) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                    tracing::debug!(%err, "an upgraded connection to freshell ended");
                }
            });
        }
        let (parts, body) = response.into_parts();
        Response::from_parts(parts, Body::new(body))
    }
}

/// Headers in which a client could name another client: freshell would
/// trust them from its loopback proxy.
const CLIENT_CLAIMS: &[&str] = &[X_FORWARDED_FOR, "forwarded", "x-real-ip"];

/// Names the client in `X-Forwarded-For`, replacing whatever the client
/// claimed there (ptyhub is the first proxy: nothing before it is trusted).
fn add_forwarded_for(headers: &mut HeaderMap, peer: SocketAddr) {
    for claim in CLIENT_CLAIMS {
        headers.remove(*claim);
    }
    if let Ok(value) = HeaderValue::from_str(&peer.ip().to_string()) {
        headers.insert(X_FORWARDED_FOR, value);
    }
}

/// Whether the browser is opening a page (rather than its script calling an
/// API): a navigation, by `Sec-Fetch-Mode` or, from older clients, a GET
/// that accepts HTML outside `/api/`.
fn is_page_navigation(request: &Request, path: &str) -> bool {
    let headers = request.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(mode) = header("sec-fetch-mode") {
        return mode == "navigate";
    }
    request.method() == axum::http::Method::GET
        && !path.starts_with("/api/")
        && header("accept").is_some_and(|accept| accept.contains("text/html"))
}

/// How often the restarting page tries again.
const RESTARTING_PAGE_RETRY_SECONDS: u32 = 2;

/// What a page opened while freshell is down shows: a note that freshell is
/// restarting, which reloads itself until freshell answers (a page that got
/// a raw 502 would stay on it).
fn restarting_page() -> Response {
    let retry = RESTARTING_PAGE_RETRY_SECONDS;
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{retry}\">\
         <title>freshell is restarting</title></head>\
         <body style=\"font-family:sans-serif;background:#101318;color:#d7dce2;padding:2em\">\
         <h1>freshell is restarting</h1>\
         <p>Your terminals are safe with ptyhub. This page reloads by itself when freshell is back.</p>\
         </body></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::RETRY_AFTER, retry.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        page,
    )
        .into_response()
}

/// freshell's error shape, so its UI shows the reason.
fn bad_gateway(message: String) -> Response {
    tracing::warn!("{message}");
    (StatusCode::BAD_GATEWAY, Json(json!({ "error": message }))).into_response()
}
