//! Raw HTTP/1.1 exchanges with the daemon, for the `freshell_upstream_*` tests: any method,
//! header values as bytes (repeated and non-UTF-8 ones included), a binary body, and the reply
//! read without interpretation, so a test can check that what the reverse proxy passes on is
//! byte-identical. (`super::http` is the simpler, text-only GET for ptyhub's own routes.)
//! [`raw_status`] sends a request head written by hand (any `Host`, or none) and reads only
//! the status line.

use axum::body::Body;
use hyper::header::HeaderValue;
use serde_json::Value;

use super::daemon::Daemon;
use super::fake_freshell::{SERVED_BY, SERVED_BY_VALUE};
use super::PATIENCE;

/// One HTTP exchange as the browser saw it.
pub struct HttpReply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl HttpReply {
    /// Every value of header `name`, in order (bytes shown with [`shown`]).
    pub fn values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| shown(v.as_bytes()))
            .collect()
    }

    /// True when freshell (the stand-in) produced this response.
    pub fn served_by_freshell(&self) -> bool {
        self.values(SERVED_BY) == [SERVED_BY_VALUE]
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request to ptyhub on a fresh connection and reads the whole reply.
pub async fn http(
    daemon: &Daemon,
    method: &str,
    target: &str,
    headers: &[(&str, &[u8])],
    body: Vec<u8>,
) -> HttpReply {
    let response = open_http(daemon, method, target, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (parts, incoming) = response.into_parts();
    let body = tokio::time::timeout(
        PATIENCE,
        axum::body::to_bytes(Body::new(incoming), usize::MAX),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} {target}: the body did not end within {PATIENCE:?}"))
    .unwrap_or_else(|e| panic!("{method} {target}: reading the body failed: {e}"));
    HttpReply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.to_vec(),
    }
}

/// Sends one request to ptyhub and returns as soon as the response head is in; `Err` says
/// why no response came.
pub async fn open_http(
    daemon: &Daemon,
    method: &str,
    target: &str,
    headers: &[(&str, &[u8])],
    body: Vec<u8>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", daemon.port))
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(target)
        .header("host", format!("127.0.0.1:{}", daemon.port));
    for (name, value) in headers {
        request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let request = request.body(Body::from(body)).unwrap();
    match tokio::time::timeout(PATIENCE, sender.send_request(request)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(format!("{method} {target}: the request failed: {e}")),
        Err(_) => Err(format!(
            "{method} {target}: no response within {PATIENCE:?}"
        )),
    }
}

/// Bytes as text, exactly: printable ASCII as is, everything else escaped (`\xe9`).
pub fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Sends `head` (a whole request head, ending in an empty line) on a fresh connection to
/// 127.0.0.1:`port` and returns the status code of the reply; `None` if the connection ended
/// (or stayed silent for [`PATIENCE`]) without one.
pub async fn raw_status(port: u16, head: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(head.as_bytes()).await.ok()?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 1024];
    while !reply.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(PATIENCE, tcp.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => reply.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    let line = String::from_utf8_lossy(&reply);
    line.split(' ').nth(1)?.parse().ok()
}
