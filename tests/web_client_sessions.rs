//! ptyhub's own web client as a tmux or ttyd user would use it (issue 15), in Debian's
//! chromium against a real daemon: resume after a restart from the list and from a session's
//! address, the read-only link followed by the plain address, the terminal fitting the window
//! at 20 heights, a page that does not drive the PTY's size, managing sessions from the list,
//! and search, copy and paste.
//!
//! Each test prepares the daemon (sessions started, killed, a restart) with the CLI and the
//! harness, runs one script of `web-client/e2e/` and holds it to every check it must make, by
//! name; the host then checks what only it can see (how many processes resumed a session).
//! Browser runs take a lock: two chromiums at once on two shared cores only make both slow.
//!
//! Needs `node`, `/usr/bin/chromium` and `web-client/node_modules` (`npm ci` in web-client).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use common::chromium::{missing_prerequisite, run_node_script};
use common::cli::{new_session, ptyhub_ok, session, wait_for_snapshot};
use common::Daemon;
use serde_json::Value;

/// Each script's steps have their own 15 s limits; this bounds the whole run.
const BROWSER_RUN_DEADLINE: Duration = Duration::from_secs(240);

static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// Runs `web-client/e2e/<script>` against `daemon` with `env`, and asserts that it passed and
/// made every check in `checks`. Returns its summary.
fn run_script(daemon: &Daemon, script: &str, env: &[(&str, String)], checks: &[&str]) -> Value {
    if let Some(why) = missing_prerequisite() {
        panic!("the browser test cannot run: {why} (.ci/run installs everything it needs)");
    }
    let _one = ONE_BROWSER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut all_env = vec![
        ("PTYHUB_URL", format!("http://127.0.0.1:{}", daemon.port)),
        ("PTYHUB_TOKEN", daemon.token.clone()),
        ("PTYHUB_VIEW_TOKEN", daemon.view_token()),
        ("PTYHUB_ARTIFACTS", artifacts().display().to_string()),
    ];
    all_env.extend(env.iter().cloned());
    let run = run_node_script(
        &format!("e2e/{script}"),
        &[],
        &all_env,
        BROWSER_RUN_DEADLINE,
    );
    assert!(
        run.success && run.summary["ok"] == true,
        "{script} failed.\nits checks:\n{}\nsummary: {:#}",
        run.log,
        run.summary
    );
    for check in checks {
        assert_eq!(
            run.summary["checks"][check], true,
            "check {check:?} of {script} missing or failed: {:#}",
            run.summary
        );
    }
    eprintln!("{script}:\n{}", run.log);
    run.summary
}

fn session_id_of(daemon: &Daemon, terminal_id: &str) -> String {
    session(daemon, terminal_id)["sessionRef"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{terminal_id} has a session id"))
        .to_owned()
}

/// Fake-agent processes started to resume `session_id`.
fn resumes_of(daemon: &Daemon, session_id: &str) -> usize {
    daemon
        .spawns_mentioning(session_id)
        .iter()
        .filter(|spawn| spawn.arg_after("--resume") == Some(session_id))
        .count()
}

#[test]
fn remembered_sessions_resume_from_the_list_and_from_their_address_once_each() {
    let daemon = Daemon::start("");
    let first = new_session(&daemon, &["--mode", "claude", "-s", "first"]);
    let second = new_session(&daemon, &["--mode", "claude", "-s", "second"]);
    for id in [&first, &second] {
        ptyhub_ok(&daemon, &["send", id, "echo before-restart", "Enter"]);
        wait_for_snapshot(&daemon, id, "ECHO:before-restart");
    }
    let (first_session, second_session) = (
        session_id_of(&daemon, &first),
        session_id_of(&daemon, &second),
    );
    let daemon = daemon.restart();

    let summary = run_script(
        &daemon,
        "resume.mjs",
        &[
            ("PTYHUB_FIRST", first.clone()),
            ("PTYHUB_SECOND", second.clone()),
        ],
        &[
            "the list shows both remembered sessions as resumable",
            "Resume in the list opens the resumed session, which continues the old one",
            "opening an old session address resumes it and moves to the new terminal",
            "an old address again leads to the running terminal",
            "the list then shows both running and nothing left to resume",
            "no uncaught page errors",
        ],
    );
    assert_eq!(resumes_of(&daemon, &first_session), 1, "{summary:#}");
    assert_eq!(resumes_of(&daemon, &second_session), 1, "{summary:#}");
    let resumed = summary["facts"]["first"]["new"].as_str().expect("an id");
    assert_eq!(
        session(&daemon, resumed)["title"],
        "first",
        "the name survives"
    );
}

#[test]
fn the_read_only_link_never_takes_the_full_tokens_place() {
    let daemon = Daemon::start("");
    run_script(
        &daemon,
        "read_only.mjs",
        &[],
        &[
            "full link: no badge",
            "read-only list: badge shown",
            "read-only list: no create, kill, rename or clear buttons",
            "the full token is still stored",
            "the read-only token is stored apart",
            "read-only terminal: badge shown",
            "read-only typing does not reach the shell",
            "plain address: the full token is used",
            "plain address: no badge on the list",
            "plain address: create buttons are back",
            "plain address: no badge on the terminal",
            "plain address: typing reaches the shell",
            "an old view-token bookmark: badge shown",
            "an old view-token bookmark does not replace the full token",
            "the plain address still has full rights",
            "no uncaught page errors",
        ],
    );
}

#[test]
fn the_terminal_fits_the_window_at_twenty_heights_and_a_phones_width() {
    let daemon = Daemon::start("");
    let shell = new_session(&daemon, &[]);
    ptyhub_ok(&daemon, &["send", &shell, "seq 1 200", "Enter"]);
    let summary = run_script(
        &daemon,
        "sizing.mjs",
        &[("PTYHUB_TERMINAL", shell)],
        &[
            "the terminal fits exactly at 20 heights",
            "every height gave its own grid, not one stuck size",
            "at 390 px wide the terminal fits and the page does not scroll sideways",
            "no uncaught page errors",
        ],
    );
    assert!(
        summary["facts"]["rowCounts"]
            .as_array()
            .is_some_and(|rows| rows.len() >= 10),
        "{summary:#}"
    );
}

/// Pages of different sizes on one PTY (issues 12 and 15): a watching page draws at the PTY's
/// size and says so, reloads resize nothing, "Use this window's size" resizes once, typing in
/// the other page takes it back, and a read-only page only follows.
#[test]
fn a_page_that_does_not_drive_the_size_draws_at_the_ptys_and_can_take_it() {
    let daemon = Daemon::start(&format!(
        "[providers.winch]\ncommand = {}\n",
        toml::Value::String(common::WINCH_COUNTER.to_owned())
    ));
    let counter = new_session(&daemon, &["--mode", "winch"]);
    run_script(
        &daemon,
        "size_driver.mjs",
        &[("PTYHUB_TERMINAL", counter)],
        &[
            "the page that typed drives the size and shows no note",
            "a smaller page that only watches draws the terminal at the PTY’s size",
            "it says the size is set elsewhere and offers to take it",
            "5 reloads of the watching page resize the PTY 0 times",
            "a read-only page follows the PTY’s size and offers no button",
            "“Use this window’s size” gives the PTY the watcher’s window, and its note goes",
            "the former typist now draws at the new size and is offered to take it back",
            "taking the size resized the PTY exactly once",
            "typing in the first page takes its size back",
            "and that is one more resize",
            "no uncaught page errors",
        ],
    );
}

#[test]
fn the_list_kills_renames_clears_and_filters_and_offers_only_startable_providers() {
    let daemon = Daemon::start(
        "[providers.codex]\ncommand = \"codex-not-installed-here\"\n\
         [providers.opencode]\ncommand = \"/nonexistent/opencode\"\n",
    );
    let keep = new_session(&daemon, &["-s", "keep"]);
    let victim = new_session(&daemon, &["-s", "victim"]);
    let exited = new_session(&daemon, &["-s", "exits"]);
    ptyhub_ok(&daemon, &["send", &exited, "exit 3", "Enter"]);
    let resumable = new_session(&daemon, &["--mode", "claude", "-s", "agent"]);
    ptyhub_ok(&daemon, &["kill", &resumable]);
    common::cli::poll("the shell has exited with 3", || {
        let record = session(&daemon, &exited);
        if record["exitCode"] == 3 {
            Ok(())
        } else {
            Err(record.to_string())
        }
    });
    assert_eq!(session(&daemon, &resumable)["resumable"], true);

    run_script(
        &daemon,
        "manage.mjs",
        &[
            ("PTYHUB_KEEP", keep),
            ("PTYHUB_VICTIM", victim),
            ("PTYHUB_EXITED", exited),
            ("PTYHUB_RESUMABLE", resumable),
        ],
        &[
            "only the providers the daemon can start are offered",
            "the resumable session says so and offers Resume",
            "an exited session shows its code",
            "the filter keeps the matching row alone",
            "the filter reads the status",
            "rename: the daemon and the list have the new title",
            "kill asks for a second click",
            "one click kills nothing",
            "kill: the session has exited and the list shows it",
            "kill ends only its target",
            "clear exited forgets the exited sessions and keeps the resumable one",
            "remove forgets a resumable session",
            "at 390 px the list fits the window: nothing cut, no sideways scroll",
            "no uncaught page errors",
        ],
    );
}

#[test]
fn search_finds_text_in_the_scrollback_copy_paste_use_ctrl_shift_and_shift_enter_types_a_newline() {
    let daemon = Daemon::start("");
    let shell = new_session(&daemon, &[]);
    run_script(
        &daemon,
        "search.mjs",
        &[("PTYHUB_TERMINAL", shell.clone())],
        &[
            "the early line has scrolled out of view",
            "the search counts one match",
            "the match is selected",
            "the view scrolled to the match",
            "no key typed into the search bar reached the shell",
            "Ctrl+Shift+C copies the selection",
            "Ctrl+Shift+V pastes into the session",
            "Shift+Enter types a newline (0a), not a carriage return (0d)",
            "no uncaught page errors",
        ],
    );
    let screen = common::cli::snapshot(&daemon, &shell);
    assert!(screen.contains("pasted-5"), "{screen}");
}

/// The web client across an in-place upgrade (issue 14): the page resumes by itself, from the
/// seq it had, typing reaches the same process (`web-client/e2e/upgrade.mjs`).
#[test]
fn the_web_client_comes_back_by_itself_after_an_upgrade() {
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let id = new_session(&daemon, &["--mode", "claude"]);
    ptyhub_ok(&daemon, &["send", &id, "echo before-upgrade", "Enter"]);
    wait_for_snapshot(&daemon, &id, "ECHO:before-upgrade");
    let pid = session(&daemon, &id)["pid"]
        .as_u64()
        .expect("a running pid");
    // A new build at the daemon's path, as a package update installs one.
    let staged = daemon.binary_path().with_extension("staged");
    std::fs::copy(env!("CARGO_BIN_EXE_ptyhub"), &staged).unwrap();
    std::fs::rename(&staged, daemon.binary_path()).unwrap();

    let summary = run_script(
        &daemon,
        "upgrade.mjs",
        &[("PTYHUB_TERMINAL", id.clone())],
        &[
            "the daemon accepts the upgrade",
            "the same daemon process and bootId",
            "keys typed while the socket was down reach the session once it is back",
            "typing after the upgrade reaches the session",
            "nothing from before the upgrade is shown twice",
            "the page did not reload",
            "no uncaught page errors",
        ],
    );
    assert_eq!(
        session(&daemon, &id)["pid"].as_u64(),
        Some(pid),
        "the agent kept its process: {summary:#}"
    );
    assert_eq!(daemon.ledger().len(), 1, "no agent was started again");
}
