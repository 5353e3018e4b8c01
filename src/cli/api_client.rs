//! The daemon's HTTP API as the CLI uses it: the session list, screens, and
//! starting or resuming sessions.
//!
//! Plain blocking HTTP to a loopback daemon (ureq, no TLS): `ls`, `snapshot`
//! and the resolution of `<terminalId|sessionId|name>` run before any
//! WebSocket is opened, so they need no async runtime.

use std::time::Duration;

use crate::server::api::{NewSession, PtySize, SessionRecord};
use crate::server::daemon_api::{DaemonStatus, UpgradeAccepted};
use crate::server::login::{LoginLink, NewLoginLink};

use super::endpoint::Endpoint;

/// Longest wait for one API request; the daemon answers from memory, or
/// after one spawn.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Nothing answered; the text says why and what to do.
    #[error("{0}")]
    Unreachable(String),
    #[error("the daemon refused the token: check AUTH_TOKEN, --url or --state-dir")]
    Unauthorized,
    #[error("this token may only watch: the full token is needed (AUTH_TOKEN, or the daemon's record in --state-dir)")]
    ReadOnlyToken,
    #[error("no terminal {terminal_id}: `ptyhub ls` lists them")]
    UnknownTerminal { terminal_id: String },
    /// The daemon said no; its answer is one sentence for the user.
    #[error("{0}")]
    Refused(String),
    #[error("the daemon answered {status} to {url}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the daemon sent an unreadable answer ({0})")]
    BadJson(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct ApiClient {
    agent: ureq::Agent,
    endpoint: Endpoint,
}

/// What one request asks for.
enum Method<'a> {
    Get,
    Post(&'a str),
}

impl ApiClient {
    pub fn new(endpoint: &Endpoint) -> ApiClient {
        let config = ureq::Agent::config_builder()
            // The daemon is local: an HTTP_PROXY from the environment must not apply.
            .proxy(None)
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        ApiClient {
            agent: config.into(),
            endpoint: endpoint.clone(),
        }
    }

    /// `GET /ptyhub/api/sessions`: every terminal the daemon remembers, oldest first.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, ApiError> {
        Ok(serde_json::from_str(&self.sessions_json()?)?)
    }

    /// The same list as the daemon wrote it, for `ls --json`.
    pub fn sessions_json(&self) -> Result<String, ApiError> {
        self.request("ptyhub/api/sessions", Method::Get, None)
    }

    /// `GET /ptyhub/api/sessions/{id}/screen`: the visible screen as text, or with
    /// `ansi` as escape sequences that repaint it.
    pub fn screen(&self, terminal_id: &str, ansi: bool) -> Result<String, ApiError> {
        let query = if ansi { "?ansi=1" } else { "" };
        let path = format!(
            "ptyhub/api/sessions/{}/screen{query}",
            percent_encode(terminal_id)
        );
        self.request(&path, Method::Get, Some(terminal_id))
    }

    /// `GET /ptyhub/api/sessions/{id}/size`: the PTY's size now, or with
    /// `changed_from` once it is not that size (a long poll: at most 25 s,
    /// then the same size).
    pub fn pty_size(
        &self,
        terminal_id: &str,
        changed_from: Option<(u16, u16)>,
    ) -> Result<PtySize, ApiError> {
        let query = changed_from
            .map(|(cols, rows)| format!("?changedFrom={cols}x{rows}"))
            .unwrap_or_default();
        let path = format!(
            "ptyhub/api/sessions/{}/size{query}",
            percent_encode(terminal_id)
        );
        let answer = self.request(&path, Method::Get, Some(terminal_id))?;
        Ok(serde_json::from_str(&answer)?)
    }

    /// `POST /ptyhub/api/sessions`: starts a session, or resumes one (or
    /// finds the terminal that already runs it).
    pub fn create(&self, new: &NewSession) -> Result<SessionRecord, ApiError> {
        let body = serde_json::to_string(new)?;
        let answer = self.request("ptyhub/api/sessions", Method::Post(&body), None)?;
        Ok(serde_json::from_str(&answer)?)
    }

    /// `POST /ptyhub/api/upgrade`: the binary at the daemon's path agreed
    /// to take over; the exec follows.
    pub fn upgrade(&self) -> Result<UpgradeAccepted, ApiError> {
        let answer = self.request("ptyhub/api/upgrade", Method::Post("{}"), None)?;
        Ok(serde_json::from_str(&answer)?)
    }

    /// `POST /ptyhub/api/login-links`: a new login link (works once, for minutes).
    pub fn login_link(&self, asked: &NewLoginLink) -> Result<LoginLink, ApiError> {
        let body = serde_json::to_string(asked)?;
        let answer = self.request("ptyhub/api/login-links", Method::Post(&body), None)?;
        Ok(serde_json::from_str(&answer)?)
    }

    /// `GET /ptyhub/api/daemon`: what runs, since which upgrade.
    pub fn daemon_status(&self) -> Result<DaemonStatus, ApiError> {
        let answer = self.request("ptyhub/api/daemon", Method::Get, None)?;
        Ok(serde_json::from_str(&answer)?)
    }

    fn request(
        &self,
        path: &str,
        method: Method<'_>,
        terminal_id: Option<&str>,
    ) -> Result<String, ApiError> {
        let url = format!("{}{path}", self.endpoint.http_base);
        let unreachable =
            |err: ureq::Error| ApiError::Unreachable(self.endpoint.unreachable(&err.to_string()));
        let authorization = format!("Bearer {}", self.endpoint.token);
        let sent = match method {
            Method::Get => self
                .agent
                .get(&url)
                .header("Authorization", &authorization)
                .call(),
            Method::Post(body) => self
                .agent
                .post(&url)
                .header("Authorization", &authorization)
                .header("Content-Type", "application/json")
                .send(body),
        };
        let mut response = sent.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(unreachable)?;
        match (status, terminal_id) {
            (200..=299, _) => Ok(body),
            (401, _) => Err(ApiError::Unauthorized),
            (403, _) => Err(ApiError::ReadOnlyToken),
            (404, Some(id)) => Err(ApiError::UnknownTerminal {
                terminal_id: id.to_owned(),
            }),
            // The API's refusals are plain sentences written for people.
            (400..=599, _) if !body.trim().is_empty() && !body.trim_start().starts_with('{') => {
                Err(ApiError::Refused(body.trim().to_owned()))
            }
            _ => Err(ApiError::Status { url, status, body }),
        }
    }
}

/// Escapes a path segment; terminal ids are nanoid-like, but a user may type anything.
/// Everything but RFC 3986's unreserved characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn percent_encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(percent_encode("abc-_.~9"), "abc-_.~9");
        assert_eq!(percent_encode("a/b?c"), "a%2Fb%3Fc");
    }
}
