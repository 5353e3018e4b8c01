//! The bad-input catalogue: everything malformed, hostile or merely odd that a client can send,
//! each with its documented answer (freshell spec §1, §2, §5, §11; ptyhub's README), while the
//! daemon keeps serving another socket throughout.
//!
//! Every case is one row of [`catalogue`]: a name, the frame(s) a fresh probe socket sends, and
//! the answer. [`play`] runs every row the same way — a new probe socket (said hello or not),
//! the frames, the answer checked (error code, echoed `requestId`/`terminalId`), then, unless
//! the answer is a close, a round trip proving the probe is still served and was told nothing
//! else; an error answer must have spawned nothing; and after every case a bystander's terminal,
//! on its own socket, still echoes what it is sent. The test prints one summary line per case
//! and fails at the end with every case that did not get its answer.

mod common;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use common::http::api_sessions;
use common::*;
use futures_util::future::{BoxFuture, FutureExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

const INVALID: &str = "INVALID_MESSAGE";
/// freshell's rate limit (spec §11); the window is stretched so a slow machine cannot let a
/// second window's worth through during the burst.
const CREATES_PER_WINDOW: usize = 10;

// ---- the catalogue ----

#[rustfmt::skip] // one row per case
fn catalogue() -> Vec<Case> {
    use Answer::*;
    use Echo::*;
    vec![
        // -- transport and envelope (spec §1.1, §2) --
        case("binary frame of invalid UTF-8", |_| vec![Out::Binary(vec![0xff, 0xfe, 0xc3, 0x28, 0x80])], Error(INVALID, Neither)),
        case("binary frame carrying a valid JSON message", |_| vec![Out::Binary(br#"{"type":"ping"}"#.to_vec())], Error(INVALID, Neither)),
        case("text frame whose payload is not UTF-8 (RFC 6455 §8.1: fail the connection)", |_| vec![Out::TextBytes(b"{\"type\":\"ping\",\"x\":\"\xff\xfe\"}".to_vec())], Closed),
        case("lone surrogate \\ud800 escaped in input data", |f| vec![Out::Text(format!(r#"{{"type":"terminal.input","terminalId":"{}","data":"a\ud800b"}}"#, f.live))], Error(INVALID, Neither)),
        case("lone low surrogate \\udc00 escaped in a requestId", |_| vec![Out::Text(r#"{"type":"claude.activity.list","requestId":"\udc00"}"#.into())], Error(INVALID, Neither)),
        case("text that is not JSON", |_| vec![Out::Text("{this is not json".into())], Error(INVALID, Neither)),
        case("an empty text frame", |_| vec![Out::Text(String::new())], Error(INVALID, Neither)),
        case("an array instead of an object", |_| vec![Out::Text(r#"[{"type":"ping"}]"#.into())], Error(INVALID, Neither)),
        case("a bare JSON string", |_| vec![Out::Text(r#""hello""#.into())], Error(INVALID, Neither)),
        case("JSON null", |_| vec![Out::Text("null".into())], Error(INVALID, Neither)),
        case("type is null", |_| one(json!({"type": null})), Error(INVALID, Neither)),
        case("type is a number", |_| one(json!({"type": 7})), Error(INVALID, Neither)),
        case("no type, with a requestId", |_| one(json!({"requestId": fresh_id("req")})), Error(INVALID, RequestId)),
        case("unknown type, with a requestId", |_| one(json!({"type": "terminal.teleport", "requestId": fresh_id("req")})), Error(INVALID, RequestId)),
        case("10 000 nested arrays", |_| vec![Out::Text(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)))], Error(INVALID, Neither)),
        case("10 000 nested objects as input data", |f| vec![Out::Text(format!(r#"{{"type":"terminal.input","terminalId":"{}","data":{}1{}}}"#, f.live, r#"{"a":"#.repeat(10_000), "}".repeat(10_000)))], Error(INVALID, Neither)),
        case("a 2 MiB message (cap: 1 MiB)", |f| one(json!({"type": "terminal.input", "terminalId": f.live, "data": "a".repeat(2 << 20)})), Error(INVALID, Neither)),
        case("a 2 MiB ui.screenshot.result (exempt from the cap, tolerated)", |_| one(json!({"type": "ui.screenshot.result", "requestId": fresh_id("shot"), "ok": true, "imageBase64": "A".repeat(2 << 20)})), Silence),
        case("a WebSocket ping frame (answered by a pong frame only)", nothing, Check(websocket_ping)),
        case("application ping", |_| one(json!({"type": "ping"})), Replies(&["pong"])),
        // -- handshake (spec §1.2, §1.5, §2 item 4, §3.1) --
        // Issue 16: nothing, not even a ping, is answered before hello.
        before_hello("application ping before hello", |_| one(json!({"type": "ping"})), ErrorThenClose("NOT_AUTHENTICATED", 4001)),
        before_hello("a schema-invalid message before hello", |_| one(json!({"type": "terminal.input", "data": 5})), Error(INVALID, Neither)),
        before_hello("hello whose token is a number", |_| one(json!({"type": "hello", "protocolVersion": 7, "token": 12345})), Error(INVALID, Neither)),
        before_hello("hello with protocolVersion 6", |_| one(json!({"type": "hello", "protocolVersion": 6, "token": "x"})), ErrorThenClose("PROTOCOL_MISMATCH", 4010)),
        before_hello("hello with protocolVersion \"7\" (a string)", |_| one(json!({"type": "hello", "protocolVersion": "7", "token": "x"})), ErrorThenClose("PROTOCOL_MISMATCH", 4010)),
        before_hello("hello with a wrong token", |_| one(json!({"type": "hello", "protocolVersion": 7, "token": "not-the-token-at-all"})), ErrorThenClose("NOT_AUTHENTICATED", 4001)),
        before_hello("a valid terminal.kill before hello", |f| one(json!({"type": "terminal.kill", "terminalId": f.live})), ErrorThenClose("NOT_AUTHENTICATED", 4001)),
        case("hello twice (re-runs the handshake)", |f| one(json!({"type": "hello", "protocolVersion": 7, "token": f.token})), Replies(&["ready", "terminal.inventory"])),
        case("a second hello whose token is a number", |_| one(json!({"type": "hello", "protocolVersion": 7, "token": 12345})), Error(INVALID, Neither)),
        case("a second hello with a wrong token", |_| one(json!({"type": "hello", "protocolVersion": 7, "token": "not-the-token-at-all"})), ErrorThenClose("NOT_AUTHENTICATED", 4001)),
        // -- terminal.create (spec §5.1, §9.2, §11) --
        case("create without requestId", |_| one(json!({"type": "terminal.create", "mode": "shell"})), Error(INVALID, Neither)),
        case("create: requestId is a number", |_| one(json!({"type": "terminal.create", "requestId": 5, "mode": "shell"})), Error(INVALID, Neither)),
        case("create: requestId is empty", |_| one(create(json!({"requestId": "", "mode": "shell"}))), Error(INVALID, RequestId)),
        case("create: a 100 KiB requestId, unknown mode", |_| one(create(json!({"requestId": big_id(100 << 10), "mode": "teleporter"}))), Error(INVALID, RequestId)),
        case("create: a 100 KiB requestId (opaque: echoed whole)", |_| one(create(json!({"requestId": big_id(100 << 10), "mode": "shell"}))), Replies(&["terminal.created"])),
        case("create: mode is a number", |_| one(create(json!({"mode": 5}))), Error(INVALID, RequestId)),
        case("create: mode is empty", |_| one(create(json!({"mode": ""}))), Error(INVALID, RequestId)),
        case("create: unknown mode", |_| one(create(json!({"mode": "teleporter"}))), Error(INVALID, RequestId)),
        case("create: shell is not one of system|cmd|powershell|wsl", |_| one(create(json!({"mode": "shell", "shell": "fish"}))), Error(INVALID, RequestId)),
        case("create: cwd is a number", |_| one(create(json!({"mode": "shell", "cwd": 5}))), Error(INVALID, RequestId)),
        case("create: sessionRef is a string", |_| one(create(json!({"mode": "claude", "sessionRef": "abc"}))), Error(INVALID, RequestId)),
        case("create: sessionRef without sessionId", |_| one(create(json!({"mode": "claude", "sessionRef": {"provider": "claude"}}))), Error(INVALID, RequestId)),
        case("create: sessionRef with empty fields", |_| one(create(json!({"mode": "claude", "sessionRef": {"provider": "", "sessionId": ""}}))), Error(INVALID, RequestId)),
        case("create: restore is a string", |_| one(create(json!({"mode": "claude", "restore": "yes"}))), Error(INVALID, RequestId)),
        case("create: unknown recoveryIntent", |_| one(create(json!({"mode": "claude", "recoveryIntent": "later"}))), Error(INVALID, RequestId)),
        case("create: liveTerminal.terminalId is a number", |_| one(create(json!({"mode": "shell", "liveTerminal": {"terminalId": 5, "serverInstanceId": "x"}}))), Error(INVALID, RequestId)),
        case("create: tabId is a number, paneId an array", |_| one(create(json!({"mode": "shell", "tabId": 5, "paneId": []}))), Error(INVALID, RequestId)),
        case("create: an unknown key (strict object)", |_| one(create(json!({"mode": "shell", "colour": "blue"}))), Error(INVALID, RequestId)),
        case("create: legacy resumeSessionId, even null", |_| one(create(json!({"mode": "claude", "resumeSessionId": null}))), Error(INVALID, RequestId)),
        case("create: sessionRef of another provider (ignored: a fresh session)", nothing, Check(foreign_session_ref_is_ignored)),
        case("create: restore with a sessionRef of another provider", |_| one(create(json!({"mode": "claude", "restore": true, "sessionRef": {"provider": "codex", "sessionId": uuid()}}))), Error("RESTORE_UNAVAILABLE", RequestId)),
        case("create: restore:true without sessionRef (claude)", |_| one(create(json!({"mode": "claude", "restore": true}))), Error("RESTORE_UNAVAILABLE", RequestId)),
        case("create: recoveryIntent with restore", |_| one(create(json!({"mode": "claude", "restore": true, "recoveryIntent": "fresh_after_restore_unavailable"}))), Error("INVALID_CREATE_REQUEST", RequestId)),
        case("create: recoveryIntent with a sessionRef", |_| one(create(json!({"mode": "claude", "sessionRef": {"provider": "claude", "sessionId": uuid()}, "recoveryIntent": "fresh_after_restore_unavailable"}))), Error("INVALID_CREATE_REQUEST", RequestId)),
        case("10 000 creates in a burst on one socket", nothing, Check(burst_of_creates)),
        // -- terminal.attach (spec §5.2, §8.3, §15.11) --
        case("attach without terminalId", |f| one(without(attach(f, json!({})), "terminalId")), Error(INVALID, Neither)),
        case("attach: terminalId is a number", |f| one(attach(f, json!({"terminalId": 5}))), Error(INVALID, Neither)),
        case("attach: terminalId is empty", |f| one(attach(f, json!({"terminalId": ""}))), Error(INVALID, Neither)),
        case("attach without intent", |f| one(without(attach(f, json!({})), "intent")), Error(INVALID, Neither)),
        case("attach: unknown intent", |f| one(attach(f, json!({"intent": "teleport"}))), Error(INVALID, Neither)),
        case("attach: cols is a string", |f| one(attach(f, json!({"cols": "80"}))), Error(INVALID, Neither)),
        case("attach: cols is fractional", |f| one(attach(f, json!({"cols": 80.5}))), Error(INVALID, Neither)),
        case("attach: zero cols and rows", |f| one(attach(f, json!({"cols": 0, "rows": 0}))), Error(INVALID, Neither)),
        case("attach: 1001 cols", |f| one(attach(f, json!({"cols": 1001}))), Error(INVALID, Neither)),
        case("attach: 100 000 cols and rows", |f| one(attach(f, json!({"cols": 100_000, "rows": 100_000}))), Error(INVALID, Neither)),
        case("attach: negative rows", |f| one(attach(f, json!({"rows": -24}))), Error(INVALID, Neither)),
        case("attach: sinceSeq -1", |f| one(attach(f, json!({"sinceSeq": -1}))), Error(INVALID, Neither)),
        case("attach: sinceSeq 1e300", |f| vec![Out::Text(attach(f, json!({})).to_string().replacen(r#""sinceSeq":0"#, r#""sinceSeq":1e300"#, 1))], Error(INVALID, Neither)),
        case("attach: sinceSeq 2^64", |f| vec![Out::Text(attach(f, json!({})).to_string().replacen(r#""sinceSeq":0"#, r#""sinceSeq":18446744073709551616"#, 1))], Error(INVALID, Neither)),
        case("attach: sinceSeq is a string", |f| one(attach(f, json!({"sinceSeq": "5"}))), Error(INVALID, Neither)),
        case("attach: sinceSeq beyond the head (nothing to replay, then live)", nothing, Check(since_seq_beyond_the_head)),
        case("attach: sinceSeq 2^53-1 (the largest seq JavaScript holds)", nothing, Check(since_seq_max_safe_integer)),
        case("attach: attachRequestId is a number", |f| one(attach(f, json!({"attachRequestId": 5}))), Error(INVALID, Neither)),
        case("attach: a 600-character attachRequestId", |f| one(attach(f, json!({"attachRequestId": "p".repeat(600)}))), Error(INVALID, TerminalId)),
        case("attach: maxReplayBytes 0", |f| one(attach(f, json!({"maxReplayBytes": 0}))), Error(INVALID, Neither)),
        case("attach: maxReplayBytes -1", |f| one(attach(f, json!({"maxReplayBytes": -1}))), Error(INVALID, Neither)),
        case("attach: surfaceReset is a string", |f| one(attach(f, json!({"surfaceReset": "yes"}))), Error(INVALID, Neither)),
        case("attach: expectedSessionRef is a string", |f| one(attach(f, json!({"expectedSessionRef": "x"}))), Error(INVALID, Neither)),
        case("attach: expectedSessionRef of another session", |f| one(attach(f, json!({"expectedSessionRef": f.stranger}))), Error("SESSION_IDENTITY_MISMATCH", Attach)),
        case("attach to an exited terminal (its exit code)", |f| one(attach(f, json!({"terminalId": f.exited}))), Error("INVALID_TERMINAL_ID", Attach)),
        case("attach to an unknown terminal", |f| one(attach(f, json!({"terminalId": "no-such-terminal"}))), Error("INVALID_TERMINAL_ID", Attach)),
        // -- terminal.input (spec §5.3) --
        case("input without data", |f| one(without(input(f, json!({})), "data")), Error(INVALID, Neither)),
        case("input: data is a number", |f| one(input(f, json!({"data": 5}))), Error(INVALID, Neither)),
        case("input: data is null", |f| one(input(f, json!({"data": null}))), Error(INVALID, Neither)),
        case("input without terminalId", |f| one(without(input(f, json!({})), "terminalId")), Error(INVALID, Neither)),
        case("input: terminalId is an object", |f| one(input(f, json!({"terminalId": {}}))), Error(INVALID, Neither)),
        case("input: expectedSessionRef is a number", |f| one(input(f, json!({"expectedSessionRef": 1}))), Error(INVALID, Neither)),
        case("input: expectedSessionRef of another session", |f| one(input(f, json!({"expectedSessionRef": f.stranger}))), Error("SESSION_IDENTITY_MISMATCH", TerminalId)),
        case("input to an exited terminal", |f| one(input(f, json!({"terminalId": f.exited}))), Error("INVALID_TERMINAL_ID", TerminalId)),
        case("input: every control character and NUL (they reach the child)", nothing, Check(control_characters_reach_the_child)),
        // -- terminal.resize (spec §5.4) --
        case("resize: zero cols and rows", |f| one(resize(f, json!({"cols": 0, "rows": 0}))), Error(INVALID, Neither)),
        case("resize: 65 535 cols and rows", |f| one(resize(f, json!({"cols": 65_535, "rows": 65_535}))), Error(INVALID, Neither)),
        case("resize: cols is a string", |f| one(resize(f, json!({"cols": "80"}))), Error(INVALID, Neither)),
        case("resize: rows is null", |f| one(resize(f, json!({"rows": null}))), Error(INVALID, Neither)),
        case("resize without terminalId", |f| one(without(resize(f, json!({})), "terminalId")), Error(INVALID, Neither)),
        case("resize: expectedSessionRef of another session", |f| one(resize(f, json!({"expectedSessionRef": f.stranger}))), Error("SESSION_IDENTITY_MISMATCH", TerminalId)),
        case("resize of an exited terminal", |f| one(resize(f, json!({"terminalId": f.exited}))), Error("INVALID_TERMINAL_ID", TerminalId)),
        case("resize with an unknown key (stripped, like freshell)", |f| one(resize(f, json!({"colour": "blue"}))), Silence),
        // -- terminal.detach and terminal.kill (spec §5.5, §5.6, §15.12) --
        case("detach of a terminal this socket never attached", |f| one(json!({"type": "terminal.detach", "terminalId": f.live})), Replies(&["terminal.detached"])),
        case("detach of an exited terminal", |f| one(json!({"type": "terminal.detach", "terminalId": f.exited})), Replies(&["terminal.detached"])),
        case("detach: terminalId is a number", |_| one(json!({"type": "terminal.detach", "terminalId": 5})), Error(INVALID, Neither)),
        case("kill without terminalId", |_| one(json!({"type": "terminal.kill"})), Error(INVALID, Neither)),
        case("kill of an unknown terminal", |_| one(json!({"type": "terminal.kill", "terminalId": "no-such-terminal"})), Error("INVALID_TERMINAL_ID", TerminalId)),
        case("kill of an exited terminal (a no-op; the list is announced)", |f| one(json!({"type": "terminal.kill", "terminalId": f.exited})), Replies(&["terminals.changed"])),
        case("kill of another socket's terminal (no ownership: it dies)", nothing, Check(kill_of_another_sockets_terminal)),
    ]
}

// ---- what a row is made of ----

/// One frame a probe sends.
enum Out {
    Json(Value),
    /// A text frame with exactly this text, JSON or not.
    Text(String),
    Binary(Vec<u8>),
    /// A text frame whose payload is these bytes, UTF-8 or not.
    TextBytes(Vec<u8>),
}

/// Which request fields an error must echo (spec §2.1: the client routes errors by them).
#[derive(Clone, Copy, Debug)]
enum Echo {
    /// Neither `requestId` nor `terminalId`.
    Neither,
    /// `requestId` equal to the request's; no `terminalId`.
    RequestId,
    /// `terminalId` equal to the request's; no `requestId`.
    TerminalId,
    /// `requestId` equal to the attach's `attachRequestId`, and its `terminalId`.
    Attach,
}

/// A case-specific answer check; it may use the scene's other sockets, and returns what it
/// observed, for the summary.
type Check = for<'a> fn(&'a mut Scene, &'a mut Client) -> BoxFuture<'a, String>;

/// The documented answer to a row's frames.
enum Answer {
    /// One `error` with this code, echoing as told.
    Error(&'static str, Echo),
    /// An `error` with this code, then a close frame with this code.
    ErrorThenClose(&'static str, u16),
    /// These messages, in this order, and no error.
    Replies(&'static [&'static str]),
    /// No answer at all.
    Silence,
    /// The server ends the connection (with any close code, or none).
    Closed,
    Check(Check),
}

struct Case {
    name: &'static str,
    /// Whether the probe says hello before sending.
    hello: bool,
    send: fn(&Fixtures) -> Vec<Out>,
    answer: Answer,
}

fn case(name: &'static str, send: fn(&Fixtures) -> Vec<Out>, answer: Answer) -> Case {
    Case {
        name,
        hello: true,
        send,
        answer,
    }
}

/// A row played on a socket that has not said hello.
fn before_hello(name: &'static str, send: fn(&Fixtures) -> Vec<Out>, answer: Answer) -> Case {
    Case {
        hello: false,
        ..case(name, send, answer)
    }
}

fn one(message: Value) -> Vec<Out> {
    vec![Out::Json(message)]
}

fn nothing(_: &Fixtures) -> Vec<Out> {
    Vec::new()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A unique id `bytes` long.
fn big_id(bytes: usize) -> String {
    let mut id = fresh_id("big");
    id.extend(std::iter::repeat_n('x', bytes - id.len()));
    id
}

/// `base` with `overrides` set over it.
fn with(mut base: Value, overrides: Value) -> Value {
    for (key, value) in overrides.as_object().expect("overrides object") {
        base[key] = value.clone();
    }
    base
}

fn without(mut message: Value, key: &str) -> Value {
    message.as_object_mut().unwrap().remove(key);
    message
}

fn create(overrides: Value) -> Value {
    with(
        json!({"type": "terminal.create", "requestId": fresh_id("req")}),
        overrides,
    )
}

/// A well-formed attach to the live terminal that never resizes it, with `overrides`.
fn attach(f: &Fixtures, overrides: Value) -> Value {
    let base = json!({
        "type": "terminal.attach", "terminalId": f.live, "intent": "keepalive_delta",
        "cols": COLS, "rows": ROWS, "sinceSeq": 0, "attachRequestId": fresh_id("attach"),
    });
    with(base, overrides)
}

fn input(f: &Fixtures, overrides: Value) -> Value {
    with(
        json!({"type": "terminal.input", "terminalId": f.live, "data": "\r"}),
        overrides,
    )
}

fn resize(f: &Fixtures, overrides: Value) -> Value {
    with(
        json!({"type": "terminal.resize", "terminalId": f.live, "cols": COLS, "rows": ROWS}),
        overrides,
    )
}

// ---- the scene every case plays in ----

/// Terminals the rows refer to, made before the first case.
struct Fixtures {
    /// A running fake claude, owned and watched by the owner socket.
    live: String,
    live_ref: Value,
    /// A fake claude that exited with code 7 and is still remembered.
    exited: String,
    /// A claude session nobody runs.
    stranger: Value,
    /// The daemon's (full) token, for a second hello.
    token: String,
}

struct Scene {
    daemon: Daemon,
    /// Another socket, typing into its own terminal after every case.
    bystander: Client,
    bystander_terminal: String,
    bystander_attach: String,
    /// The socket that made the fixtures' terminals.
    owner: Client,
    fx: Fixtures,
}

impl Scene {
    async fn new() -> Scene {
        let config = format!(
            "[limits]\ncreate_window_ms = 600000\ncreates_per_window = {CREATES_PER_WINDOW}\n\n\
             [providers.rawdump]\ncommand = {}\n",
            toml::Value::String(RAW_INPUT_DUMP.to_owned())
        );
        let daemon = Daemon::start(&config);
        let (mut bystander, _) = Client::connect_ready(&daemon).await;
        let FakeAgent {
            terminal_id: bystander_terminal,
            attach: bystander_attach,
            ..
        } = bystander.start_fake_agent().await;

        let (mut owner, _) = Client::connect_ready(&daemon).await;
        let live = owner.start_fake_agent().await;
        let ended = owner.start_fake_agent().await;
        owner.type_line(&ended.terminal_id, "exit 7").await;
        assert_eq!(owner.wait_for_exit(&ended.terminal_id).await, 7);

        Scene {
            fx: Fixtures {
                live_ref: json!({"provider": "claude", "sessionId": live.session_id}),
                live: live.terminal_id,
                exited: ended.terminal_id,
                stranger: json!({"provider": "claude", "sessionId": uuid()}),
                token: daemon.token.clone(),
            },
            daemon,
            bystander,
            bystander_terminal,
            bystander_attach,
            owner,
        }
    }

    async fn assert_bystander_served(&mut self) {
        let word = fresh_id("alive");
        self.bystander
            .type_line(&self.bystander_terminal, &format!("echo {word}"))
            .await;
        self.bystander
            .wait_for_text(&self.bystander_attach, &format!("ECHO:{word}"))
            .await;
    }

    fn session_count(&self) -> usize {
        api_sessions(&self.daemon).len()
    }
}

// ---- playing a row ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_documented_answer_while_another_socket_is_served() {
    let mut scene = Scene::new().await;
    let cases = catalogue();
    let started = Instant::now();
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = AssertUnwindSafe(play(&mut scene, case))
            .catch_unwind()
            .await;
        match outcome {
            Ok(observed) => summary.push(format!("  ok    {:<74} {observed}", case.name)),
            Err(panic) => {
                let why = panic_text(&panic);
                summary.push(format!("  FAIL  {:<74} {}", case.name, first_line(&why)));
                failures.push(format!("{}: {why}", case.name));
            }
        }
    }
    println!(
        "bad-input catalogue: {} cases, {} answered as documented, {} not ({:.1} s)",
        cases.len(),
        cases.len() - failures.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    for line in &summary {
        println!("{line}");
    }
    assert!(cases.len() >= 30, "the catalogue keeps at least 30 cases");
    assert!(
        failures.is_empty(),
        "{} case(s) did not get their documented answer:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Plays one row; returns what was observed, for the summary.
async fn play(scene: &mut Scene, case: &Case) -> String {
    let sessions_before = scene.session_count();
    let mut probe = Client::connect(&scene.daemon).await;
    if case.hello {
        probe.hello().await;
    }
    let frames = (case.send)(&scene.fx);
    let request = frames
        .iter()
        .rev()
        .find_map(|out| match out {
            Out::Json(message) => Some(message.clone()),
            Out::Text(text) => serde_json::from_str(text).ok(),
            _ => None,
        })
        .unwrap_or(Value::Null);
    for out in frames {
        send(&mut probe, out).await;
    }

    let (observed, still_open) = match &case.answer {
        Answer::Error(code, echo) => {
            let error = probe.expect_error().await;
            check_error(&error, code, *echo, &request, &scene.fx);
            (format!("error {code}"), true)
        }
        Answer::ErrorThenClose(code, close_code) => {
            let (seen, closed_with) = probe.recv_until_closed(PATIENCE).await;
            let errors: Vec<&Value> = seen.iter().filter(|m| m["type"] == "error").collect();
            assert_eq!(errors.len(), 1, "one error, then the close: {seen:#?}");
            assert_eq!(errors[0]["code"], *code, "{}", short(errors[0]));
            assert_eq!(closed_with, Some(*close_code), "close code");
            (format!("error {code}, close {close_code}"), false)
        }
        Answer::Replies(kinds) => {
            for kind in *kinds {
                let reply = probe
                    .recv_until(kind, PATIENCE, |m| {
                        m["type"] == *kind || m["type"] == "error"
                    })
                    .await;
                assert_eq!(reply["type"], *kind, "instead: {}", short(&reply));
                for field in ["requestId", "terminalId"] {
                    if let (Some(echoed), Some(sent)) = (reply.get(field), request.get(field)) {
                        assert!(
                            echoed == sent,
                            "{kind} must echo {field}: {}",
                            short(&reply)
                        );
                    }
                }
            }
            (kinds.join(", "), true)
        }
        Answer::Silence => ("nothing".to_owned(), true),
        Answer::Closed => {
            let (seen, closed_with) = probe.recv_until_closed(PATIENCE).await;
            assert!(
                seen.iter().all(|m| m["type"] != "error"),
                "closed without an answer: {seen:#?}"
            );
            (
                format!("connection closed (close code {closed_with:?})"),
                false,
            )
        }
        Answer::Check(check) => (check(scene, &mut probe).await, true),
    };

    if still_open {
        if !case.hello {
            // The socket is as good as new: it can still authenticate.
            probe.hello().await;
        }
        assert_served_and_told_nothing_else(&mut probe).await;
    }
    if matches!(case.answer, Answer::Error(..) | Answer::ErrorThenClose(..)) {
        assert_eq!(
            scene.session_count(),
            sessions_before,
            "a refused request spawns nothing"
        );
    }
    scene.assert_bystander_served().await;
    observed
}

async fn send(probe: &mut Client, out: Out) {
    match out {
        Out::Json(message) => probe.send_json(&message).await,
        Out::Text(text) => probe.send_text(&text).await,
        Out::Binary(bytes) => probe.send_message(Message::Binary(bytes.into())).await,
        Out::TextBytes(bytes) => {
            let frame = Frame::message(bytes, OpCode::Data(Data::Text), true);
            probe.send_message(Message::Frame(frame)).await
        }
    }
}

fn check_error(error: &Value, code: &str, echo: Echo, request: &Value, fx: &Fixtures) {
    let shown = short(error);
    assert_eq!(error["code"], code, "error code: {shown}");
    let (request_id, terminal_id) = match echo {
        Echo::Neither => (None, None),
        Echo::RequestId => (request.get("requestId"), None),
        Echo::TerminalId => (None, request.get("terminalId")),
        Echo::Attach => (request.get("attachRequestId"), request.get("terminalId")),
    };
    assert!(
        error.get("requestId") == request_id,
        "requestId must be {:?} ({echo:?}): {shown}",
        request_id.map(short)
    );
    assert!(
        error.get("terminalId") == terminal_id,
        "terminalId must be {terminal_id:?} ({echo:?}): {shown}"
    );
    if code == "SESSION_IDENTITY_MISMATCH" {
        assert_eq!(
            error["expectedSessionRef"], request["expectedSessionRef"],
            "the expected session is echoed: {shown}"
        );
        if request["terminalId"] == fx.live {
            assert_eq!(
                error["actualSessionRef"], fx.live_ref,
                "the terminal's own session: {shown}"
            );
        }
    }
    if request["type"] == "terminal.attach" && request["terminalId"] == fx.exited {
        assert_eq!(
            error["terminalExitCode"], 7,
            "an exited terminal's attach error carries its exit code: {shown}"
        );
    }
}

/// An activity-list round trip: the socket is open and served, and nothing but broadcasts
/// arrived before the reply (a second answer to the case would be an `error` here).
async fn assert_served_and_told_nothing_else(probe: &mut Client) {
    let request_id = fresh_id("probe");
    probe
        .send_json(&json!({"type": "claude.activity.list", "requestId": request_id}))
        .await;
    let mut extra = Vec::new();
    probe
        .recv_until("the probe's round trip", PATIENCE, |m| {
            let done = m["type"] == "claude.activity.list.response" && m["requestId"] == request_id;
            if !done && m["type"] == "error" {
                extra.push(short(m));
            }
            done
        })
        .await;
    assert!(extra.is_empty(), "unexpected further answers: {extra:#?}");
}

fn short(message: &Value) -> String {
    let text = message.to_string();
    if text.len() <= 400 {
        return text;
    }
    let mut cut = 400;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(160).collect()
}

// ---- the case-specific checks ----

fn websocket_ping<'a>(_: &'a mut Scene, probe: &'a mut Client) -> BoxFuture<'a, String> {
    Box::pin(async move {
        let seen = probe.ping(b"ptyhub catalogue ping").await;
        let answers: Vec<&Value> = seen
            .iter()
            .filter(|m| m["type"] != "terminals.changed")
            .collect();
        assert!(
            answers.is_empty(),
            "a ping frame is answered by a pong frame, not by messages: {answers:#?}"
        );
        "pong frame with the payload, no message".to_owned()
    })
}

/// spec §9.2 item 3: a sessionRef is honoured only when its provider is the mode.
fn foreign_session_ref_is_ignored<'a>(
    scene: &'a mut Scene,
    probe: &'a mut Client,
) -> BoxFuture<'a, String> {
    Box::pin(async move {
        let foreign = uuid();
        let created = probe
            .create(json!({"mode": "claude", "sessionRef": {"provider": "codex", "sessionId": foreign}}))
            .await;
        assert_eq!(created["sessionRef"]["provider"], "claude", "{created}");
        assert_ne!(
            created["sessionRef"]["sessionId"],
            foreign.as_str(),
            "{created}"
        );
        assert!(
            scene.daemon.spawns_mentioning(&foreign).is_empty(),
            "nothing was started with the foreign session id"
        );
        "terminal.created, a fresh claude session of its own".to_owned()
    })
}

fn burst_of_creates<'a>(scene: &'a mut Scene, probe: &'a mut Client) -> BoxFuture<'a, String> {
    Box::pin(async move {
        const BURST: usize = 10_000;
        // How many answers the daemon may owe at once: the probe keeps reading, as a browser
        // would, instead of letting ten thousand replies pile up unread.
        const IN_FLIGHT: usize = 500;
        let before = scene.session_count();
        let tag = fresh_id("burst");
        let ids: Vec<String> = (0..BURST).map(|i| format!("{tag}-{i}")).collect();
        let mut answers: HashMap<String, Value> = HashMap::with_capacity(BURST);
        let mut sent = 0;
        while answers.len() < BURST {
            while sent < BURST && sent - answers.len() < IN_FLIGHT {
                probe
                    .send_json(&json!({"type": "terminal.create", "requestId": ids[sent], "mode": "shell"}))
                    .await;
                sent += 1;
            }
            let message = probe.recv().await;
            match message["type"].as_str() {
                Some("terminal.created" | "error") => {
                    let id = message["requestId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("an answer without requestId: {message}"))
                        .to_owned();
                    assert!(
                        answers.insert(id.clone(), message).is_none(),
                        "two answers to {id}"
                    );
                }
                Some("terminals.changed") => {}
                _ => panic!("unexpected during the burst: {message}"),
            }
        }
        let created: Vec<&String> = ids
            .iter()
            .filter(|id| answers[*id]["type"] == "terminal.created")
            .collect();
        let first: Vec<&String> = ids.iter().take(CREATES_PER_WINDOW).collect();
        assert_eq!(
            created, first,
            "the first {CREATES_PER_WINDOW} creates are served, no other"
        );
        for id in &ids[CREATES_PER_WINDOW..] {
            let answer = &answers[id];
            assert_eq!(answer["code"], "RATE_LIMITED", "{answer}");
            assert_eq!(
                answer["message"], "Too many terminal.create requests",
                "{answer}"
            );
        }
        assert_eq!(
            scene.session_count() - before,
            CREATES_PER_WINDOW,
            "nothing beyond the limit was spawned"
        );
        format!(
            "{CREATES_PER_WINDOW} terminal.created, {} RATE_LIMITED, {CREATES_PER_WINDOW} spawned",
            BURST - CREATES_PER_WINDOW
        )
    })
}

fn since_seq_beyond_the_head<'a>(_: &'a mut Scene, probe: &'a mut Client) -> BoxFuture<'a, String> {
    Box::pin(attach_beyond_the_head(probe, |head| head + 1_000))
}

fn since_seq_max_safe_integer<'a>(
    _: &'a mut Scene,
    probe: &'a mut Client,
) -> BoxFuture<'a, String> {
    Box::pin(attach_beyond_the_head(probe, |_| (1 << 53) - 1))
}

/// spec §15.11: a sinceSeq beyond the head is "nothing to replay": `attach.ready` has
/// `replayFromSeq = headSeq + 1`, `replayToSeq = headSeq`, and live output then flows.
///
/// The terminal is the probe's own: were another socket attached, the geometry authority
/// would be `multi_client_unknown` and any delta attach a full replay (spec §8.4 step 6).
async fn attach_beyond_the_head(probe: &mut Client, since: fn(u64) -> u64) -> String {
    let FakeAgent {
        terminal_id: live,
        attach: first,
        ..
    } = probe.start_fake_agent().await;
    let head = probe.stream(&first).last_seq();
    let since_seq = since(head);
    assert!(since_seq > head);
    let beyond = probe
        .attach_with(
            &live,
            Attach {
                intent: "keepalive_delta",
                since_seq,
                ..Attach::default()
            },
        )
        .await;
    let ready = probe.stream(&beyond).ready.clone();
    let head_now = ready["headSeq"].as_u64().expect("headSeq");
    assert!(head_now >= head && head_now < since_seq, "{ready}");
    assert_eq!(ready["geometryAuthority"], "single_client", "{ready}");
    assert_eq!(ready["requestedSinceSeq"], since_seq, "{ready}");
    assert_eq!(
        ready["effectiveSinceSeq"], since_seq,
        "no replay reset: {ready}"
    );
    assert_eq!(
        ready["replayFromSeq"],
        head_now + 1,
        "nothing to replay: {ready}"
    );
    assert_eq!(ready["replayToSeq"], head_now, "nothing to replay: {ready}");

    let word = fresh_id("beyond");
    probe.type_line(&live, &format!("echo {word}")).await;
    probe.wait_for_text(&beyond, &format!("ECHO:{word}")).await;
    format!(
        "attach.ready headSeq {head_now}, replayFromSeq {}, then live output",
        head_now + 1
    )
}

/// spec §5.3: input is written to the PTY as given. A child in raw mode reports every byte.
fn control_characters_reach_the_child<'a>(
    _: &'a mut Scene,
    probe: &'a mut Client,
) -> BoxFuture<'a, String> {
    Box::pin(async move {
        let created = probe.create(json!({"mode": "rawdump"})).await;
        let terminal = created["terminalId"].as_str().unwrap().to_owned();
        let attach = probe.attach(&terminal).await;
        probe.wait_for_text(&attach, "RAW-READY").await;

        let mut bytes: Vec<u8> = (0x00..0x20).collect();
        bytes.push(0x7f);
        bytes.extend("é\0€".as_bytes());
        let data = String::from_utf8(bytes.clone()).unwrap();
        probe
            .send_json(&json!({"type": "terminal.input", "terminalId": terminal, "data": data}))
            .await;
        let want = hex(&data);
        probe
            .wait_for_reported_hex(&attach, &want, |read| read.contains(&want))
            .await;
        format!("the child read all {} bytes intact", bytes.len())
    })
}

/// spec §5.6: freshell has no terminal ownership; any authenticated socket may kill.
fn kill_of_another_sockets_terminal<'a>(
    scene: &'a mut Scene,
    probe: &'a mut Client,
) -> BoxFuture<'a, String> {
    Box::pin(async move {
        let victim = scene.owner.start_fake_agent().await;
        let pid = scene.daemon.spawns_mentioning(&victim.session_id)[0].pid;
        probe
            .send_json(&json!({"type": "terminal.kill", "terminalId": victim.terminal_id}))
            .await;
        scene.owner.wait_for_exit(&victim.terminal_id).await;
        wait_until("the killed child is gone", PATIENCE, || {
            !process_is_alive(pid)
        })
        .await;
        "no reply; the owner got terminal.exit; the process is gone".to_owned()
    })
}
