//! Which path goes where.
//!
//! ptyhub's own routes live under `/ptyhub/` (its web client and API), plus
//! `/ws`, `/healthz` and `POST /ptyhub/login` (a login link's code for its token).
//! Standalone, the web client is also served at `/`.
//! In front of freshell (`--freshell-upstream`), `/` and every path that is
//! not ptyhub's go to freshell, except freshell's terminal routes and its
//! agent API, which ptyhub answers from its own sessions (behind one token
//! layer, as its own API is).

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use axum::Router;

use axum::middleware;

use super::host_gate::{self, AllowedHosts};
use super::{api, auth, daemon_api, login, web_client, websocket};
use crate::daemon::{Access, Daemon};
use crate::upstream::{agent_api, directory, freshell_auth, terminals_api};

pub fn router(daemon: Arc<Daemon>, hosts: AllowedHosts) -> Router {
    let guarded = Router::new()
        .route(
            "/ptyhub/api/sessions",
            get(api::sessions).post(api::create_session),
        )
        .route(
            "/ptyhub/api/sessions/{terminal_id}",
            patch(api::change_session).delete(api::forget_session),
        )
        .route("/ptyhub/api/info", get(api::info))
        .route(
            "/ptyhub/api/sessions/{terminal_id}/screen",
            get(api::screen),
        )
        .route(
            "/ptyhub/api/sessions/{terminal_id}/size",
            get(api::session_size),
        )
        .route("/ptyhub/api/daemon", get(daemon_api::status))
        .route("/ptyhub/api/upgrade", post(daemon_api::upgrade))
        .route("/ptyhub/api/login-links", post(login::mint))
        .route("/metrics", get(api::metrics))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&daemon),
            auth::require_token,
        ));
    let own = Router::new()
        .route("/ws", get(websocket))
        .route("/healthz", get(|| async { "ok" }))
        // A login link's code is its own credential: no token layer.
        .route("/ptyhub/login", post(login::redeem))
        .route("/ptyhub/", get(web_client::index))
        .route("/ptyhub/app.js", get(web_client::app_js))
        .route("/ptyhub/app.css", get(web_client::app_css))
        .merge(guarded);
    let app = if daemon.upstream.is_some() {
        // freshell's terminal routes; anything else under them is answered
        // like freshell's catch-all, never passed to freshell.
        let terminals = Router::new()
            .route(
                "/",
                get(terminals_api::list).fallback(terminals_api::not_found),
            )
            .route(
                "/{terminal_id}",
                patch(terminals_api::patch)
                    .delete(terminals_api::hide)
                    .fallback(terminals_api::not_found),
            )
            .route(
                "/{terminal_id}/search",
                get(terminals_api::search).fallback(terminals_api::not_found),
            )
            .fallback(terminals_api::not_found);
        // freshell's routes that ptyhub answers, all behind one token layer.
        let freshells = Router::new()
            .nest("/api/terminals", terminals)
            .route(
                "/api/ai/terminals/{terminal_id}/summary",
                post(terminals_api::summary),
            )
            .route("/api/session-directory", get(directory::session_directory))
            .route("/api/files/candidate-dirs", get(directory::candidate_dirs))
            .merge(agent_api::routes())
            .route_layer(middleware::from_fn_with_state(
                Arc::clone(&daemon),
                freshell_auth::require_token,
            ));
        own.merge(freshells).fallback(to_upstream)
    } else {
        own.route("/", get(web_client::index))
            .route("/app.js", get(web_client::app_js))
            .route("/app.css", get(web_client::app_css))
    };
    // Outermost: a request for another host reaches no route, not even the fallback.
    app.layer(middleware::from_fn_with_state(
        Arc::new(hosts),
        host_gate::require_allowed_host,
    ))
    .with_state(daemon)
}

async fn to_upstream(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let Some(upstream) = &daemon.upstream else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(redirect) = view_link_to_own_client(&daemon, &request) {
        return redirect;
    }
    upstream.proxy.forward(request, peer).await
}

/// A read-only link opened on freshell's page (`/?token=<view token>`, an
/// old bookmark) goes to ptyhub's own client instead: freshell's page would
/// store the view token as its own, logging the whole browser profile out of
/// freshell.
fn view_link_to_own_client(daemon: &Daemon, request: &Request) -> Option<Response> {
    let query = request.uri().query()?;
    let token = auth::query_token(query)?;
    if daemon.access_for(&token) != Some(Access::ReadOnly) {
        return None;
    }
    Some(Redirect::to(&format!("/ptyhub/?{query}")).into_response())
}
