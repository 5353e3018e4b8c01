//! Plain HTTP GETs and POSTs to the daemon's own routes (`/metrics`, `/ptyhub/api/…`), for
//! tests.
//!
//! Blocking and short: the daemon is on loopback. `ureq` is already one of the daemon's
//! dependencies (its CLI speaks to the API with it), so the tests need no HTTP client of
//! their own.

use std::time::Duration;

use serde_json::Value;

use super::daemon::Daemon;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How a request proves it knows the token.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    None,
    /// `Authorization: Bearer <token>`
    Bearer(&'a str),
    /// `?token=<token>` appended to the target.
    Query(&'a str),
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub cache_control: String,
    pub body: String,
}

/// `GET http://127.0.0.1:<port><target>` with `auth`; any status is returned, not an error.
pub fn get(daemon: &Daemon, target: &str, auth: Auth<'_>) -> Reply {
    request(daemon, target, auth, None)
}

/// `POST http://127.0.0.1:<port><target>` with `auth` and a JSON `body`; any status is
/// returned, not an error.
pub fn post(daemon: &Daemon, target: &str, auth: Auth<'_>, body: &Value) -> Reply {
    request(daemon, target, auth, Some(body))
}

fn request(daemon: &Daemon, target: &str, auth: Auth<'_>, body: Option<&Value>) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        // The daemon is local: an HTTP_PROXY from the environment must not apply.
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .into();
    let mut url = format!("http://127.0.0.1:{}{target}", daemon.port);
    if let Auth::Query(token) = auth {
        let separator = if target.contains('?') { '&' } else { '?' };
        url.push_str(&format!("{separator}token={token}"));
    }
    let authorization = match auth {
        Auth::Bearer(token) => Some(format!("Bearer {token}")),
        _ => None,
    };
    let sent = match body {
        None => {
            let mut request = agent.get(&url);
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            request.call()
        }
        Some(body) => {
            let mut request = agent.post(&url).header("Content-Type", "application/json");
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            request.send(body.to_string())
        }
    };
    let mut response = sent.unwrap_or_else(|e| panic!("{url} failed: {e}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let content_type = header("content-type");
    let cache_control = header("cache-control");
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{url}: reading the body failed: {e}"));
    Reply {
        status: response.status().as_u16(),
        content_type,
        cache_control,
        body,
    }
}

/// `GET /ptyhub/api/sessions` with the token: every record, oldest first.
pub fn api_sessions(daemon: &Daemon) -> Vec<Value> {
    let reply = get(daemon, "/ptyhub/api/sessions", Auth::Bearer(&daemon.token));
    assert_eq!(
        reply.status, 200,
        "GET /ptyhub/api/sessions: {}",
        reply.body
    );
    match serde_json::from_str::<Value>(&reply.body) {
        Ok(Value::Array(records)) => records,
        other => panic!(
            "GET /ptyhub/api/sessions must answer a JSON array, got {other:?}: {}",
            reply.body
        ),
    }
}

/// The API record of `terminal_id`, if listed.
pub fn api_session(daemon: &Daemon, terminal_id: &str) -> Option<Value> {
    api_sessions(daemon)
        .into_iter()
        .find(|r| r["terminalId"] == terminal_id)
}

/// `GET /metrics` with the token, parsed (panics if it is not valid exposition text).
pub fn scrape(daemon: &Daemon) -> super::prometheus::Scrape {
    let reply = get(daemon, "/metrics", Auth::Bearer(&daemon.token));
    assert_eq!(reply.status, 200, "GET /metrics: {}", reply.body);
    super::prometheus::Scrape::parse(&reply.body).unwrap_or_else(|why| {
        panic!(
            "GET /metrics is not valid Prometheus text: {why}\n{}",
            reply.body
        )
    })
}
