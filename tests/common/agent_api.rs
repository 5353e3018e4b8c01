//! freshell's agent API (`/api/run`, `/api/tabs`, `/api/panes/…`) called on ptyhub in front of
//! a [`FakeFreshell`], for the `freshell_agent_*` tests: calls ptyhub must answer itself, and
//! checks that the terminals they made are ptyhub's and that nothing reached freshell.

use serde_json::Value;

use super::daemon::Daemon;
use super::fake_freshell::FakeFreshell;
use super::raw_http::{http, HttpReply};
use super::upstream_browser::auth;

/// The content type of every agent-API call with a body.
pub const JSON: (&str, &[u8]) = ("content-type", b"application/json");

/// An agent-API call with freshell's token; a `Value::Null` body sends none.
pub async fn call(daemon: &Daemon, method: &str, target: &str, body: Value) -> HttpReply {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    http(daemon, method, target, &[auth(daemon), JSON], body).await
}

/// An agent-API call ptyhub must answer itself with `status: ok`; returns `data`.
pub async fn ok(daemon: &Daemon, method: &str, target: &str, body: Value) -> Value {
    let reply = call(daemon, method, target, body).await;
    assert!(
        !reply.served_by_freshell(),
        "{method} {target} is ptyhub's to answer"
    );
    assert_eq!(reply.status, 200, "{method} {target}: {}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["status"], "ok", "{method} {target}: {answer}");
    answer["data"].clone()
}

/// The parent pid of the live process `pid`, from /proc.
fn parent_of(pid: u64) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process lives");
    let after_name = &stat[stat.rfind(')').expect("stat has a name") + 2..];
    after_name.split(' ').nth(1).unwrap().parse().unwrap()
}

/// The terminal is ptyhub's: listed once on its API, running, a child of the daemon.
pub fn assert_ptyhubs_child(daemon: &Daemon, terminal_id: &str) {
    let sessions = super::http::api_sessions(daemon);
    let listed: Vec<&Value> = sessions
        .iter()
        .filter(|s| s["terminalId"] == terminal_id)
        .collect();
    assert_eq!(listed.len(), 1, "{terminal_id} listed once: {sessions:#?}");
    let pid = listed[0]["pid"]
        .as_u64()
        .expect("a running terminal has a pid");
    assert_eq!(
        Some(parent_of(pid)),
        daemon.pid(),
        "the terminal's process is the daemon's child"
    );
}

/// Asserts that no request under any of `prefixes` reached freshell.
pub fn nothing_reached_freshell_under(fake: &FakeFreshell, prefixes: &[&str]) {
    let reached: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| prefixes.iter().any(|p| r.path.starts_with(p)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(reached.is_empty(), "reached freshell: {reached:?}");
}
