//! `GET /ptyhub/api/info`: what the presented token may do here, and which
//! providers this daemon can start — so a client offers only what works
//! (no "New agent (claude)" where claude is not installed, no create
//! buttons for the read-only token).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::daemon::{Access, Daemon};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonInfo {
    /// `full` or `read-only`: the rights of the token this request presented.
    pub access: String,
    /// Providers whose program is there, in mode order.
    pub providers: Vec<StartableProvider>,
    /// Providers that cannot start here, each with the reason and its fix.
    pub unavailable: Vec<UnavailableProvider>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartableProvider {
    pub mode: String,
    pub title: String,
    /// Whether its sessions can be resumed by id.
    pub resumable: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnavailableProvider {
    pub mode: String,
    pub reason: String,
}

pub async fn info(
    State(daemon): State<Arc<Daemon>>,
    Extension(access): Extension<Access>,
) -> Response {
    let providers = daemon.registry.providers();
    let mut startable = Vec::new();
    let mut unavailable = Vec::new();
    for mode in providers.modes() {
        let Some(provider) = providers.get(mode) else {
            continue;
        };
        match provider.unavailable() {
            None => startable.push(StartableProvider {
                mode: mode.to_owned(),
                title: provider.title.clone(),
                resumable: provider.can_resume(),
            }),
            Some(reason) => unavailable.push(UnavailableProvider {
                mode: mode.to_owned(),
                reason,
            }),
        }
    }
    Json(DaemonInfo {
        access: match access {
            Access::Full => "full",
            Access::ReadOnly => "read-only",
        }
        .to_owned(),
        providers: startable,
        unavailable,
    })
    .into_response()
}
