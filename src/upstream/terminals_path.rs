//! Every spelling of freshell's terminal routes reaches ptyhub's answer.
//!
//! ptyhub answers `/api/terminals…` and `/api/ai/terminals…` from its own sessions; the
//! router matches paths literally, so `/api/terminals/`, `/api//terminals` or
//! `/api/%74erminals` fell through to freshell, which then answered from its own (empty)
//! registry. A path that names those routes in another spelling is rewritten to the
//! canonical one before routing: repeated slashes collapsed, a trailing slash dropped, and
//! percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2; `%2F` stays encoded,
//! so it never becomes a separator). Every other path goes to freshell untouched.

use axum::extract::Request;
use axum::http::uri::{PathAndQuery, Uri};

/// The prefixes ptyhub answers in front of freshell.
const TERMINAL_ROUTES: &[&str] = &["/api/terminals", "/api/ai/terminals"];

/// Rewrites `request`'s path to the canonical spelling when it names a terminal route.
pub fn canonical_terminal_route(mut request: Request) -> Request {
    let path = request.uri().path();
    let canonical = canonical_path(path);
    if canonical == path || !names_a_terminal_route(&canonical) {
        return request;
    }
    let with_query = match request.uri().query() {
        Some(query) => format!("{canonical}?{query}"),
        None => canonical,
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = with_query.parse::<PathAndQuery>() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

fn names_a_terminal_route(path: &str) -> bool {
    TERMINAL_ROUTES.iter().any(|route| {
        path.strip_prefix(route)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// `path` with unreserved characters decoded, repeated slashes collapsed and no trailing
/// slash (but `/` itself).
fn canonical_path(path: &str) -> String {
    let decoded = decode_unreserved(path);
    let mut canonical = String::with_capacity(decoded.len());
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        canonical.push('/');
        canonical.push_str(segment);
    }
    if canonical.is_empty() {
        canonical.push('/');
    }
    canonical
}

fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = path
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    out.push(char::from(byte));
                    i += 3;
                    continue;
                }
            }
        }
        let ch = path[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(target: &str) -> String {
        let request = Request::builder()
            .uri(target)
            .body(axum::body::Body::empty())
            .expect("request");
        canonical_terminal_route(request).uri().to_string()
    }

    #[test]
    fn other_spellings_of_the_terminal_routes_become_the_canonical_one() {
        assert_eq!(rewritten("/api/terminals/"), "/api/terminals");
        assert_eq!(rewritten("/api//terminals"), "/api/terminals");
        assert_eq!(rewritten("//api/terminals"), "/api/terminals");
        assert_eq!(rewritten("/api/%74erminals?x=1"), "/api/terminals?x=1");
        assert_eq!(rewritten("/api/%74ERMINALS"), "/api/%74ERMINALS");
        assert_eq!(
            rewritten("/api/terminals//abc/search/"),
            "/api/terminals/abc/search"
        );
        assert_eq!(
            rewritten("/api/ai//terminals/x/summary"),
            "/api/ai/terminals/x/summary"
        );
        assert_eq!(rewritten("/api/terminals%2Fabc"), "/api/terminals%2Fabc");
        // Not a terminal route: freshell's, byte for byte.
        assert_eq!(rewritten("/api//settings/"), "/api//settings/");
        assert_eq!(rewritten("/api/terminalsx"), "/api/terminalsx");
    }
}
