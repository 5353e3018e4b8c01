//! `ptyhub serve --freshell-upstream URL`: ptyhub in front of a running,
//! unchanged freshell server.
//!
//! The browser talks only to ptyhub. Terminals live in ptyhub (so restarting
//! freshell no longer kills agents, and duplicate panes share one process);
//! everything else is freshell's:
//! - `http_proxy`: every HTTP request that is not ptyhub's own goes to
//!   freshell, streamed both ways, upgrades included;
//! - `terminals_api`: the terminal routes freshell's UI calls over HTTP,
//!   answered from ptyhub's sessions in freshell's shapes (`terminals_path`:
//!   whatever the spelling of their path);
//! - `agent_api`: freshell's agent API (`/api/run`, `/api/tabs`,
//!   `/api/panes/…`), creating and driving ptyhub's terminals, with the
//!   layout left to the browsers (`ui_commands`);
//! - `directory`: freshell's session directory and directory suggestions,
//!   amended with ptyhub's running terminals;
//! - `freshell_auth`: the one token layer over the routes ptyhub answers;
//! - the `/ws` bridge lives with the freshell adapter
//!   (`protocol::freshell::upstream_link`).

pub mod agent_api;
mod amend;
pub mod directory;
pub mod freshell_auth;
pub mod http_proxy;
pub mod provider_defaults;
pub mod terminals_api;
pub mod terminals_path;
pub mod ui_commands;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, Uri};

use crate::session::SessionRef;

/// Where freshell runs.
#[derive(Clone, Debug)]
pub struct UpstreamAddress {
    /// `http://host:port`, no path.
    pub http_base: String,
    /// `ws://host:port/ws`.
    pub ws_url: String,
}

impl UpstreamAddress {
    pub fn parse(url: &str) -> Result<UpstreamAddress, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("invalid --freshell-upstream URL {url:?}: {e}"))?;
        let scheme = uri.scheme_str().unwrap_or("http");
        if scheme != "http" {
            return Err(format!(
                "--freshell-upstream must be an http:// URL (freshell on this machine), got {url:?}"
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--freshell-upstream needs a host and port, got {url:?}"))?;
        Ok(UpstreamAddress {
            http_base: format!("http://{authority}"),
            ws_url: format!("ws://{authority}/ws"),
        })
    }
}

/// The running freshell behind ptyhub.
#[derive(Clone)]
pub struct Upstream {
    pub address: UpstreamAddress,
    pub proxy: http_proxy::HttpProxy,
    /// The browsers' layout, for the agent API's pane targets.
    pub layout: Arc<agent_api::layout::LayoutMirror>,
    /// Layout changes for every browser.
    pub ui_commands: ui_commands::UiCommands,
}

impl Upstream {
    pub fn new(address: UpstreamAddress) -> Upstream {
        let proxy = http_proxy::HttpProxy::new(&address.http_base);
        Upstream {
            address,
            proxy,
            layout: Arc::default(),
            ui_commands: ui_commands::UiCommands::default(),
        }
    }

    /// Tells freshell a session was renamed (its sidebar names sessions, not
    /// terminals), as freshell does itself when one of its terminals is
    /// renamed. Best effort, in the background.
    pub fn rename_session(&self, session_ref: &SessionRef, title: &str, token: &str) {
        let key = format!("{}:{}", session_ref.provider, session_ref.session_id);
        let path = format!(
            "/api/sessions/{}",
            percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC)
        );
        let body = serde_json::json!({ "titleOverride": title }).to_string();
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-auth-token", token)
            .body(Body::from(body));
        let Ok(request) = request else { return };
        let proxy = self.proxy.clone();
        tokio::spawn(async move {
            let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let response = proxy.forward(request, loopback).await;
            if !response.status().is_success() {
                tracing::info!(key, status = %response.status(), "freshell did not take the session rename");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_url_gives_its_http_and_websocket_addresses() {
        let address = UpstreamAddress::parse("http://127.0.0.1:3001/").expect("valid");
        assert_eq!(address.http_base, "http://127.0.0.1:3001");
        assert_eq!(address.ws_url, "ws://127.0.0.1:3001/ws");
        assert!(UpstreamAddress::parse("https://example.com").is_err());
        assert!(UpstreamAddress::parse("not a url").is_err());
    }
}
