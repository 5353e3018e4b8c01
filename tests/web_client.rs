//! The browser terminal, end to end: a real daemon, Debian's chromium and the web client's
//! own e2e script (`web-client/e2e/two_viewers.mjs`, driven by playwright-core).
//!
//! The script plays a person with several tabs — start a shell from the list, type in one
//! tab and read it in another, drop a connection, reload, open a read-only tab, start an
//! agent whose screen a new tab must get at once — and prints a JSON summary. This test
//! holds the script to its word and adds what only the host can see: however many viewers
//! came and went, the daemon ran exactly one process per session. A second script
//! (`web-client/e2e/queries.mjs`) holds three tabs on a child that asks its terminal
//! questions (a fixture, and codex's recorded startup): no tab ever answers them.
//!
//! Needs `node`, `/usr/bin/chromium` and `web-client/node_modules` (`npm ci` in web-client);
//! `.ci/run` installs them. Without them the test fails and says what is missing.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use common::chromium::{missing_prerequisite, run_node_script, CHROMIUM};
use common::driven_script::DrivenScript;
use common::recordings::{replay_config, Replay, ReplayMode, CODEX_ANSWERED};
use common::{process_is_alive, Daemon};

/// The whole browser run; each of its steps has its own 15 s limit inside the script.
const BROWSER_RUN_DEADLINE: Duration = Duration::from_secs(240);

/// `GET /ptyhub/api/sessions` with the token, over a plain socket (the tests have no HTTP client).
fn api_sessions(daemon: &Daemon) -> Vec<Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", daemon.port)).expect("connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /ptyhub/api/sessions HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        daemon.port, daemon.token
    )
    .unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the API response");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "GET /ptyhub/api/sessions: {head}"
    );
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "expected a Content-Length body: {head}"
    );
    serde_json::from_str::<Value>(body)
        .unwrap_or_else(|e| panic!("GET /ptyhub/api/sessions body is not JSON ({e}): {body}"))
        .as_array()
        .expect("GET /ptyhub/api/sessions answers a list")
        .clone()
}

/// Live (non-zombie) children of `parent`, from /proc.
fn live_children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // Fields after the parenthesised name: state, ppid, …
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .filter(|&pid| process_is_alive(pid))
        .collect()
}

/// Runs the e2e script; returns (success, stdout summary, stderr log).
fn run_browser_script(daemon: &Daemon, screenshot: &Path) -> (bool, Value, String) {
    let run = run_node_script(
        "e2e/two_viewers.mjs",
        &[screenshot.to_str().expect("a UTF-8 path")],
        &[
            ("PTYHUB_URL", format!("http://127.0.0.1:{}", daemon.port)),
            ("PTYHUB_TOKEN", daemon.token.clone()),
            // claude is the harness's fake agent
            ("PTYHUB_E2E_AGENT", "1".to_owned()),
        ],
        BROWSER_RUN_DEADLINE,
    );
    (run.success, run.summary, run.log)
}

#[test]
fn browser_tabs_share_one_process_per_session_and_read_only_tabs_cannot_type() {
    if let Some(why) = missing_prerequisite() {
        panic!("the browser test cannot run: {why} (.ci/run installs everything it needs)");
    }
    let daemon = Daemon::start("");
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("web-client-two-viewers.png");

    let (success, summary, log) = run_browser_script(&daemon, &screenshot);
    assert!(
        success && summary["ok"] == true,
        "the browser run failed.\nits checks:\n{log}\nsummary: {summary:#}"
    );
    assert_eq!(
        summary["servedBy"], "daemon",
        "the page must come from the daemon itself"
    );
    eprintln!("browser run checks:\n{log}");

    // Every check the script makes, by name, so that a check silently dropped from the
    // script shows up here.
    for check in [
        "token removed from the address bar",
        "typing in tab A shows in tab B",
        "two tabs are two viewers of one process",
        "reconnect resumes with transport_reconnect from the last seq",
        "the resumed screen is neither lost nor doubled",
        "a reloaded tab shows the previous screen at once",
        "read-only typing does not reach the session",
        "read-only tab does not resize the PTY",
        "three tabs, still one process",
        "an exited session says so with its code",
        "an unknown session says so",
        "a wrong token is refused with a clear message",
        "a new tab on a busy TUI gets its screen at once",
        "one pid for the shared session throughout",
    ] {
        assert_eq!(
            summary["checks"][check], true,
            "check {check:?} missing or failed: {summary:#}"
        );
    }
    assert!(
        screenshot.exists(),
        "no screenshot at {}",
        screenshot.display()
    );

    // The host's view: one live process per running session, the same shell pid the
    // browser tabs saw at every step, and nothing else under the daemon.
    let terminal_id = summary["terminalId"].as_str().expect("summary.terminalId");
    let sessions = api_sessions(&daemon);
    let shared = sessions
        .iter()
        .find(|s| s["terminalId"] == terminal_id)
        .unwrap_or_else(|| panic!("{terminal_id} not in /ptyhub/api/sessions: {sessions:?}"));
    let shell_pid = shared["pid"].as_u64().expect("the shared shell has a pid") as u32;
    assert!(
        summary["sessionPids"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p == shell_pid)),
        "the shared shell changed pid: {} vs {shell_pid}",
        summary["sessionPids"]
    );
    let mut running_pids: Vec<u32> = sessions
        .iter()
        .filter(|s| s["status"] == "running")
        .filter_map(|s| s["pid"].as_u64().map(|p| p as u32))
        .collect();
    running_pids.sort_unstable();
    assert_eq!(
        running_pids.len(),
        2,
        "running sessions: the shared shell and the agent: {sessions:?}"
    );
    let daemon_pid = daemon.pid().expect("the daemon runs");
    let mut children = live_children(daemon_pid);
    children.sort_unstable();
    assert_eq!(
        children, running_pids,
        "the daemon's live children must be exactly one process per running session"
    );
}

/// Three tabs of the web client on `terminal_id` (`e2e/queries.mjs`), once each shows the
/// session live and `shown_text`.
fn three_tabs(daemon: &Daemon, terminal_id: &str, shown_text: &str) -> DrivenScript {
    if let Some(why) = missing_prerequisite() {
        panic!("the browser test cannot run: {why} (.ci/run installs everything it needs)");
    }
    let tabs = DrivenScript::start(
        "e2e/queries.mjs",
        &[],
        &[
            ("PTYHUB_URL", format!("http://127.0.0.1:{}", daemon.port)),
            ("PTYHUB_TOKEN", daemon.token.clone()),
            ("PTYHUB_TERMINAL", terminal_id.to_owned()),
            ("PTYHUB_SHOWN_TEXT", shown_text.to_owned()),
            ("PTYHUB_CHROMIUM", CHROMIUM.to_owned()),
        ],
    );
    tabs.expect("READY");
    tabs
}

/// Three xterm.js tabs in chromium watch a child that asks its terminal what coding agents
/// ask at startup, and one of them reloads: the child hears exactly one answer per query (the
/// daemon's), and nothing from any tab but the keystroke each types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_tabs_never_answer_a_childs_queries() {
    let asker = toml::Value::String(common::QUERY_ASKER.to_owned());
    let daemon = Daemon::start(&format!(
        "[providers.cued-asker]\ncommand = {asker}\nargs = [\"--on-cue\"]\n"
    ));
    let (mut client, _) = common::Client::connect_ready(&daemon).await;
    let created = client
        .create(serde_json::json!({"mode": "cued-asker"}))
        .await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let watched = client.attach(&terminal_id).await;
    client.wait_for_text(&watched, "WAITING").await;
    let mut tabs = three_tabs(&daemon, &terminal_id, "WAITING");

    // The cue: the child asks while three tabs watch.
    client
        .send_json(
            &serde_json::json!({"type": "terminal.input", "terminalId": terminal_id, "data": "g"}),
        )
        .await;
    let answers = common::hex(&common::query_asker_answers(3));
    client
        .wait_for_reported_hex(&watched, "the answers", |read| read.ends_with(&answers))
        .await;

    tabs.step("reload WAITING", "RELOADED");
    tabs.step("type", "TYPED");
    client
        .wait_for_reported_hex(&watched, "a keystroke from each tab", |read| {
            read.ends_with("797979")
        })
        .await;
    tabs.close();

    assert_eq!(
        common::reported_hex(&client.stream(&watched).data),
        format!("{answers}797979"),
        "the child read something besides the daemon's answers and one keystroke per tab"
    );
}

/// The same with codex's recorded startup (`tests/fixtures/recordings/`), replayed read by read
/// while three tabs watch, one reloading after it asked. codex turns focus reporting on, so a
/// click in a tab reaches it as a focus report (one signal for all tabs), never as an answer.
/// The tabs report their theme, which is what codex is told its colours are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_tabs_never_answer_a_recorded_agents_queries() {
    let logs = tempfile::tempdir().unwrap();
    let mode = ReplayMode::new(
        "codex",
        Replay::chunked_on_cue(&CODEX_ANSWERED),
        logs.path(),
    );
    let daemon = Daemon::start(&replay_config("", &[&mode]));
    let (mut client, _) = common::Client::connect_ready(&daemon).await;
    let created = client.create(serde_json::json!({"mode": "codex"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    mode.wait_until_reading().await;
    let mut tabs = three_tabs(&daemon, &terminal_id, "");
    // Each tab reports the theme it shows; the daemon answers colour queries with it.
    assert!(
        daemon.log().contains("learned the viewers' theme"),
        "no tab reported its theme: {}",
        daemon.log()
    );

    client
        .send_json(
            &serde_json::json!({"type": "terminal.input", "terminalId": terminal_id, "data": "g"}),
        )
        .await;
    let answers = mode.replay.answers().len();
    mode.wait_until_heard("its answers", |heard| heard.replies.len() >= answers)
        .await;
    tabs.step("reload Sign in with ChatGPT", "RELOADED");
    tabs.step("type", "TYPED");
    mode.wait_until_heard("a key from each tab", |heard| heard.keys.ends_with("yyy"))
        .await;
    tabs.close();
    mode.assert_heard_once("gyyy", "three browser tabs, one reloaded");
}
