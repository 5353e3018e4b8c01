//! The standalone browser terminal (`web-client/`), embedded in the binary.
//!
//! The bundle is committed under `web-client/dist/` and CI checks it against
//! a fresh `npm run build`, so `cargo run --release -- serve` serves the
//! current client on a machine without Node.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &[u8] = include_bytes!("../../web-client/dist/index.html");
const APP_JS: &[u8] = include_bytes!("../../web-client/dist/app.js");
const APP_CSS: &[u8] = include_bytes!("../../web-client/dist/app.css");

/// Headers every page asset carries: no caching across daemon upgrades, no
/// framing by other sites, no content sniffing.
fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}
