//! A browser tab in front of ptyhub in `--freshell-upstream` mode, for the
//! `freshell_upstream_*` tests.
//!
//! [`start_in_front_of`] starts ptyhub with a [`FakeFreshell`] as its upstream; [`Browser`] is
//! a tab on ptyhub's `/ws` that keeps every message it read, so a test can check order and
//! that nothing freshell says about its own terminals ([`UPSTREAM_ONLY`]) got through.

use serde_json::{json, Value};

use super::client::{Attach, Client, Event};
use super::daemon::Daemon;
use super::fake_freshell::{FakeFreshell, UPSTREAM_ONLY};
use super::raw_http::{http, HttpReply};
use super::{fresh_id, PATIENCE};

/// Starts ptyhub in front of `fake`, with freshell's `AUTH_TOKEN` (the deployment shares one).
pub fn start_in_front_of(fake: &FakeFreshell) -> Daemon {
    let upstream = fake.url();
    Daemon::start_with_args_and_token("", &["--freshell-upstream", &upstream], &fake.token())
}

/// The header freshell's UI puts on every API call.
pub fn auth(daemon: &Daemon) -> (&'static str, &[u8]) {
    ("x-auth-token", daemon.token.as_bytes())
}

/// A GET of `target` with that header, as freshell's UI reads its API.
pub async fn authorized_get(daemon: &Daemon, target: &str) -> HttpReply {
    http(daemon, "GET", target, &[auth(daemon)], Vec::new()).await
}

/// A browser tab on ptyhub's `/ws`: the harness client (which validates every message
/// against the schema) plus every message this tab read, for order and leak checks.
pub struct Browser {
    client: Client,
    /// The hello this tab sent (what freshell must receive, unchanged).
    pub hello: Value,
    pub seen: Vec<Value>,
}

impl Browser {
    pub async fn open(daemon: &Daemon) -> Browser {
        Browser {
            client: Client::connect(daemon).await,
            // Like freshell's UI, minus the capabilities ptyhub does not implement.
            hello: json!({
                "type": "hello",
                "protocolVersion": 7,
                "token": daemon.token,
                "capabilities": {"uiScreenshotV1": true, "terminalOutputBatchV1": false},
                "client": {"mobile": false},
                "sidebarOpenSessions": [{"provider": "claude", "sessionId": "5a3f0c1e-8b9d-4c2a-9e7f-1d2c3b4a5e6f"}],
                "sessions": {"active": "5a3f0c1e-8b9d-4c2a-9e7f-1d2c3b4a5e6f", "visible": [], "background": []},
            }),
            seen: Vec::new(),
        }
    }

    /// A tab that has made its handshake and created a shell; returns it and the shell's
    /// terminalId.
    pub async fn with_a_shell(daemon: &Daemon) -> (Browser, String) {
        let mut browser = Browser::open(daemon).await;
        browser.handshake().await;
        let terminal_id = browser.create_shell().await;
        (browser, terminal_id)
    }

    /// Sends the hello and reads until ptyhub's `ready` and `terminal.inventory` and freshell's
    /// `settings.updated` and `perf.logging` are in; returns everything read.
    pub async fn handshake(&mut self) -> Vec<Value> {
        let hello = self.hello.clone();
        self.send(&hello).await;
        let from = self.seen.len();
        for kind in [
            "ready",
            "terminal.inventory",
            "settings.updated",
            "perf.logging",
        ] {
            if !self.seen[from..].iter().any(|m| m["type"] == kind) {
                self.until(kind, |m| m["type"] == kind).await;
            }
        }
        self.seen[from..].to_vec()
    }

    pub async fn send(&mut self, message: &Value) {
        self.client.send_json(message).await;
    }

    /// Sends a `tabs.sync.query` and waits for freshell's answer. Both directions keep their
    /// order, so afterwards freshell has received everything this tab sent before, and this
    /// tab has read everything freshell sent before its answer.
    pub async fn sync_with_upstream(&mut self) {
        let request_id = fresh_id("sync");
        self.send(&json!({"type": "tabs.sync.query", "requestId": request_id}))
            .await;
        self.until("freshell's answer to a sync query", |m| {
            m["type"] == "tabs.sync.snapshot" && m["requestId"] == request_id.as_str()
        })
        .await;
    }

    /// Reads (and keeps) messages until one satisfies `predicate`; panics if the socket
    /// closes or nothing matching comes within [`PATIENCE`].
    pub async fn until(&mut self, what: &str, mut predicate: impl FnMut(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let message = self.next(what, deadline).await;
            if predicate(&message) {
                return message;
            }
        }
    }

    async fn next(&mut self, what: &str, deadline: tokio::time::Instant) -> Value {
        match self.client.next_event(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
            Some(Event::Message(message)) => {
                self.seen.push(message.clone());
                message
            }
            Some(Event::Closed(code)) => panic!("the browser socket closed ({code:?}) while waiting for {what}; last messages: {:#?}", self.tail()),
            None => panic!("timed out waiting for {what}; last messages: {:#?}", self.tail()),
        }
    }

    fn tail(&self) -> &[Value] {
        &self.seen[self.seen.len().saturating_sub(12)..]
    }

    pub async fn create_shell(&mut self) -> String {
        let request_id = fresh_id("req");
        self.send(&json!({"type": "terminal.create", "requestId": request_id, "mode": "shell"}))
            .await;
        let created = self
            .until("terminal.created", |m| {
                m["requestId"] == request_id.as_str()
                    && (m["type"] == "terminal.created" || m["type"] == "error")
            })
            .await;
        assert_eq!(created["type"], "terminal.created", "{created}");
        created["terminalId"].as_str().unwrap().to_owned()
    }

    pub async fn attach(&mut self, terminal_id: &str) -> String {
        let id = self
            .client
            .send_attach(terminal_id, Attach::default())
            .await;
        let ready = self
            .until("terminal.attach.ready", |m| {
                m["type"] == "terminal.attach.ready" && m["attachRequestId"] == id.as_str()
                    || m["type"] == "error" && m["requestId"] == id.as_str()
            })
            .await;
        assert_eq!(ready["type"], "terminal.attach.ready", "{ready}");
        id
    }

    /// Types `command` and reads until `expected` shows up in what the attach received since.
    pub async fn run(&mut self, terminal_id: &str, attach: &str, command: &str, expected: &str) {
        let from = self.client.stream(attach).data.len();
        self.client.type_line(terminal_id, command).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.client.stream(attach).data[from..].contains(expected) {
            self.next(
                &format!("{expected:?} in the output of {command:?}"),
                deadline,
            )
            .await;
        }
    }

    pub fn count(&self, kind: &str) -> usize {
        self.seen.iter().filter(|m| m["type"] == kind).count()
    }

    /// Nothing freshell said about its own terminals (its ready, inventory, terminal.* and
    /// terminals.changed, all marked) reached this tab.
    pub fn assert_nothing_from_upstream_terminals(&self) {
        let leaked: Vec<&Value> = self
            .seen
            .iter()
            .filter(|m| m.to_string().contains(UPSTREAM_ONLY))
            .collect();
        assert!(
            leaked.is_empty(),
            "freshell's terminal traffic reached the browser: {leaked:#?}"
        );
    }
}
