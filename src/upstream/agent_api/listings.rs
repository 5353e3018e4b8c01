//! freshell's layout listings, `GET /api/tabs` and `GET /api/panes?tabId=`,
//! with the tabs and panes ptyhub placed that no browser has shown yet.
//! freshell's CLI resolves every pane target from these two (and freshell
//! learns a layout only from a browser), so without this a CLI could not
//! name a pane ptyhub just opened while no browser is connected.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::response::Response;
use serde_json::{json, Value};

use crate::daemon::Daemon;
use crate::upstream::amend::rewrite_json;

/// `GET /api/tabs`: freshell's tabs, then ptyhub's unseen ones.
pub async fn tabs(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let placed = daemon
        .upstream
        .as_ref()
        .map(|u| u.layout.placed_tabs())
        .unwrap_or_default();
    rewrite_json(&daemon, peer, request, move |answer| {
        let Some(tabs) = answer
            .pointer_mut("/data/tabs")
            .and_then(Value::as_array_mut)
        else {
            return;
        };
        for tab in placed {
            if tabs.iter().any(|t| t["id"] == tab.id.as_str()) {
                continue;
            }
            tabs.push(json!({
                "id": tab.id,
                "title": tab.title,
                "activePaneId": tab.panes.first().map(|p| p.id.clone()),
            }));
        }
    })
    .await
}

/// `GET /api/panes?tabId=`: freshell's panes of the tab, with the
/// terminals ptyhub put in them and the panes it added.
pub async fn panes(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let tab_id = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .ok()
        .and_then(|q| q.0.get("tabId").cloned());
    let placed = tab_id
        .and_then(|tab_id| {
            daemon
                .upstream
                .as_ref()?
                .layout
                .placed_tabs()
                .into_iter()
                .find(|t| t.id == tab_id)
        })
        .map(|t| t.panes)
        .unwrap_or_default();
    rewrite_json(&daemon, peer, request, move |answer| {
        let Some(panes) = answer
            .pointer_mut("/data/panes")
            .and_then(Value::as_array_mut)
        else {
            return;
        };
        for pane in placed {
            match panes.iter_mut().find(|p| p["id"] == pane.id.as_str()) {
                Some(known) => {
                    known["kind"] = json!("terminal");
                    known["terminalId"] = json!(pane.terminal_id);
                }
                None => {
                    let index = panes.len();
                    panes.push(json!({
                        "id": pane.id,
                        "index": index,
                        "kind": "terminal",
                        "terminalId": pane.terminal_id,
                        "title": Value::Null,
                    }));
                }
            }
        }
    })
    .await
}
