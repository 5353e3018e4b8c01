//! The Origin gate for WebSocket upgrades.
//!
//! Browsers send `Origin` on every WebSocket; a page from another site that
//! tries to reach the daemon carries its own origin and is refused before the
//! handshake. Non-browser clients (the CLI, tests) send none and pass; the
//! token is what authenticates them.

use axum::http::{header, HeaderMap};

pub fn check(headers: &HeaderMap, allowed_origins: &[String]) -> Result<(), &'static str> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| "malformed Origin")?;
    if allowed_origins.iter().any(|allowed| allowed == origin) {
        return Ok(());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or("no Host header")?;
    let same_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| rest == host);
    if same_host {
        Ok(())
    } else {
        Err("Origin is neither this host nor configured")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().expect("header"));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().expect("header"));
        }
        headers
    }

    #[test]
    fn same_host_and_configured_origins_pass_others_do_not() {
        assert!(check(&headers(None, "127.0.0.1:7373"), &[]).is_ok());
        assert!(check(
            &headers(Some("http://127.0.0.1:7373"), "127.0.0.1:7373"),
            &[]
        )
        .is_ok());
        assert!(check(
            &headers(Some("https://evil.example"), "127.0.0.1:7373"),
            &[]
        )
        .is_err());
        assert!(check(&headers(Some("null"), "127.0.0.1:7373"), &[]).is_err());
        let allowed = vec!["http://localhost:5173".to_owned()];
        assert!(check(
            &headers(Some("http://localhost:5173"), "127.0.0.1:7373"),
            &allowed
        )
        .is_ok());
    }
}
