//! The tmux-style CLI against a real daemon: `attach` driven inside a real terminal (a tmux
//! pane, typed into with `send-keys` and read with `capture-pane`), and the one-shot commands
//! `new`, `ls`, `snapshot`, `send` and `kill` run as plain processes.
//!
//! Every test starts its own daemon (the shared harness) and, when it needs a terminal, its own
//! tmux server (`tests/common/cli.rs`). `tests/cli_habits.rs` holds what tmux users expect
//! beyond attaching: resume, names, key names, commands, completions and errors.

mod common;

use std::process::Command;

use common::cli::*;
use common::recordings::{replay_config, Replay, ReplayMode, CODEX_ANSWERED};
use common::{live_processes_matching, Daemon};
use serde_json::Value;

/// `C-\ d`, the default detach key, as tmux's send-keys names it.
const DEFAULT_DETACH: [&str; 2] = ["C-\\", "d"];
// ---------------------------------------------------------------------------------------------
// attach
// ---------------------------------------------------------------------------------------------

#[test]
fn attach_draws_the_current_screen_at_once_and_typing_reaches_the_session() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &["--mode", "claude"]);
    ptyhub_ok(&daemon, &["send", &id, "echo before-attach", "--enter"]);
    wait_for_snapshot(&daemon, &id, "ECHO:before-attach");

    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    // Drawn from the daemon's screen: nothing new was printed since the attach.
    pane.wait_for_text("ECHO:before-attach");

    pane.type_line("echo typed-in-the-pane");
    pane.wait_for_text("ECHO:typed-in-the-pane");
    wait_for_snapshot(&daemon, &id, "ECHO:typed-in-the-pane");
    assert_eq!(session(&daemon, &id)["viewers"], 1, "the CLI is one viewer");
}

/// tmux answers the terminal queries it is sent, as any terminal does: the attach CLI in a
/// tmux pane must never pass it one, so the child hears the daemon's answers alone.
#[test]
fn a_terminal_running_attach_never_answers_the_childs_queries() {
    let asker = toml::Value::String(common::QUERY_ASKER.to_owned());
    let daemon = Daemon::start(&format!(
        "[providers.cued-asker]\ncommand = {asker}\nargs = [\"--on-cue\"]\n"
    ));
    let id = new_session(&daemon, &["--mode", "cued-asker"]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for_text("WAITING");

    ptyhub_ok(&daemon, &["send", &id, "g"]);
    let answers = common::hex(&common::query_asker_answers(3));
    poll("the child is answered", || {
        let reported = common::answered_hex_on_screen(&snapshot(&daemon, &id));
        if reported.contains(&answers) {
            Ok(())
        } else {
            Err(reported)
        }
    });
    pane.press(&["y"]);
    let reported = poll("the keystroke from the pane arrives", || {
        let reported = common::answered_hex_on_screen(&snapshot(&daemon, &id));
        if reported.ends_with("79") {
            Ok(reported)
        } else {
            Err(reported)
        }
    });
    assert_eq!(
        reported,
        format!("{answers}79"),
        "the child read something besides the daemon's answers and the pane's keystroke"
    );
}

/// The same with codex's recorded startup (`tests/fixtures/recordings/`), replayed read by read
/// while `ptyhub attach` shows it in a tmux pane; then the pane detaches and attaches again,
/// drawing the screen codex left: codex hears one answer per query, the daemon's, and the
/// pane's key.
#[test]
fn a_terminal_running_attach_never_answers_a_recorded_agents_queries() {
    let logs = tempfile::tempdir().unwrap();
    let mode = ReplayMode::new(
        "codex",
        Replay::chunked_on_cue(&CODEX_ANSWERED),
        logs.path(),
    );
    let daemon = Daemon::start(&replay_config("", &[&mode]));
    let id = new_session(&daemon, &["--mode", "codex"]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    poll("the replay reads its input", || {
        if mode.is_reading() {
            Ok(())
        } else {
            Err("no input log yet".to_owned())
        }
    });
    poll("the pane is a viewer", || {
        match session(&daemon, &id)["viewers"].as_u64() {
            Some(1) => Ok(()),
            other => Err(format!("{other:?} viewers")),
        }
    });

    ptyhub_ok(&daemon, &["send", &id, "g"]);
    pane.wait_for_text("Sign in with ChatGPT");
    pane.press(&DEFAULT_DETACH);
    pane.wait_for_text(&detached_line(&id));
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for_text("Sign in with ChatGPT");
    pane.press(&["y"]);
    mode.poll_until_heard("the pane's key", |heard| heard.keys.ends_with('y'));
    mode.assert_heard_once("gy", "ptyhub attach in tmux, attached twice");
}

#[test]
fn the_detach_key_leaves_the_session_running_and_the_terminal_sane() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &["--mode", "claude"]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for_text("fake>");

    pane.press(&DEFAULT_DETACH);
    pane.wait_for_text(&detached_line(&id));
    assert!(
        daemon_reports_running(&daemon, &id),
        "detaching must not end the session"
    );
    poll("the daemon counts no viewer", || {
        let viewers = session(&daemon, &id)["viewers"].clone();
        if viewers == 0 {
            Ok(())
        } else {
            Err(viewers.to_string())
        }
    });
    pane.assert_outer_shell_is_sane();

    // The session still takes input after the viewer left.
    ptyhub_ok(&daemon, &["send", &id, "echo after-detach", "--enter"]);
    wait_for_snapshot(&daemon, &id, "ECHO:after-detach");
}

#[test]
fn reattaching_shows_the_same_full_screen_program() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &["--mode", "claude"]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for_text("fake>");
    // A TUI on the alternate screen with colours, mouse mode and bracketed paste.
    pane.type_line("screen");
    let drawn = pane.wait_for("the TUI", |s| {
        s.contains("SCREEN-READY") && s.contains("status: ready")
    });

    pane.press(&DEFAULT_DETACH);
    let outer = pane.wait_for_text(&detached_line(&id));
    assert!(
        !outer.contains("SCREEN-READY"),
        "detaching leaves the alternate screen:\n{outer}"
    );
    pane.assert_outer_shell_is_sane();

    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    let redrawn = pane.wait_for_text("SCREEN-READY");
    assert_eq!(redrawn, drawn, "re-attaching draws the same screen");
    assert!(
        pane.modes().starts_with("alt=1"),
        "the TUI is back on the alternate screen"
    );

    pane.press(&DEFAULT_DETACH);
    pane.wait_for_text(&detached_line(&id));
    pane.assert_outer_shell_is_sane();
}

#[test]
fn a_read_only_attach_sends_no_keys_but_its_detach_key_works() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &["--mode", "claude"]);
    let pane = Pane::start();
    pane.run_ptyhub(
        &daemon,
        &format!("attach {id} --read-only --detach-key C-a"),
    );
    pane.wait_for_text("fake>");

    pane.type_line("echo typed-while-read-only");
    // The default detach key is just keys here, and keys go nowhere.
    pane.press(&DEFAULT_DETACH);
    // A probe typed by someone else: once it shows, the keys above would have arrived first.
    ptyhub_ok(&daemon, &["send", &id, "echo probe", "--enter"]);
    let screen = pane.wait_for("the probe (or the keys)", |s| {
        s.contains("ECHO:probe") || s.contains("typed-while-read-only")
    });
    assert!(
        !screen.contains("typed-while-read-only"),
        "keys reached the session:\n{screen}"
    );
    assert!(!snapshot(&daemon, &id).contains("typed-while-read-only"));
    assert!(
        !screen.contains("[detached"),
        "C-\\ d detached although the key is C-a d"
    );

    pane.press(&["C-a", "d"]);
    pane.wait_for_text(&detached_line(&id));
    assert!(daemon_reports_running(&daemon, &id));
    pane.assert_outer_shell_is_sane();
}

/// Ctrl-Cs pressed in a row while attached.
const STORM_CTRL_CS: usize = 20;

#[test]
fn a_ctrl_c_storm_is_input_and_the_session_exit_is_reported() {
    let daemon = Daemon::start("");
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, "new --attach");
    pane.wait_for("the new shell session's prompt", |s| s.contains("bash-"));

    // Ctrl-C is a key, not a signal to the CLI: every one reaches the session, in order. With
    // the session's own ISIG off they are plain bytes, so `cat -v` shows exactly how many
    // arrived (a shell interrupted twenty times in a row may drop typeahead on its own).
    pane.type_line("stty -isig; echo cat-$((1+1)); cat -v");
    pane.wait_for_text("cat-2");
    for _ in 0..STORM_CTRL_CS {
        pane.press(&["C-c"]);
    }
    pane.press(&["Enter"]);
    let storm = "^C".repeat(STORM_CTRL_CS);
    // One line echoed by the session's terminal, one printed by cat.
    let screen = pane.wait_for("cat's copy of the storm", |s| {
        s.lines().filter(|line| *line == storm).count() == 2
    });
    assert!(
        !screen.contains("[detached") && !screen.contains("ptyhub:"),
        "{screen}"
    );
    pane.press(&["C-d"]);
    pane.type_line("stty isig; echo still-$((6*7))");
    pane.wait_for_text("still-42");

    // Leave the terminal in a state a crashing TUI might: alternate screen, hidden cursor,
    // mouse reporting, application cursor keys.
    pane.type_line(r"printf '\e[?1049h\e[?25l\e[?1000h\e[?1h'; exit 3");
    pane.wait_for_text("[exited with code 3]");
    pane.assert_outer_shell_is_sane();
    let shells: Vec<Value> = sessions(&daemon)
        .into_iter()
        .filter(|s| s["mode"] == "shell")
        .collect();
    assert_eq!(shells.len(), 1, "{shells:?}");
    assert_eq!(shells[0]["status"], "exited");
    assert_eq!(shells[0]["exitCode"], 3);
}

#[test]
fn sigterm_to_the_cli_detaches_and_restores_the_terminal() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &[]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for("the shell session's prompt", |s| s.contains("bash-"));
    pane.type_line(r"printf '\e[?1049h\e[?25l\e[?1003h'; echo tui-$((1+1))");
    pane.wait_for_text("tui-2");

    let clients = live_processes_matching(&[PTYHUB, "attach", &id]);
    assert_eq!(clients.len(), 1, "one attach process: {clients:?}");
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(clients[0] as libc::pid_t, libc::SIGTERM) };

    pane.wait_for_text("received SIGTERM");
    pane.assert_outer_shell_is_sane();
    assert!(
        daemon_reports_running(&daemon, &id),
        "a signal to the viewer spares the session"
    );
}

#[test]
fn the_daemon_going_away_restores_the_terminal() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &[]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for("the shell session's prompt", |s| s.contains("bash-"));
    pane.type_line(r"printf '\e[?1049h\e[?25l\e[?1000h'; echo tui-$((1+1))");
    pane.wait_for_text("tui-2");

    drop(daemon);
    pane.wait_for_text("lost the daemon");
    pane.assert_outer_shell_is_sane();
}

// ---------------------------------------------------------------------------------------------
// new, ls, snapshot, send, kill
// ---------------------------------------------------------------------------------------------

#[test]
fn one_shot_commands_drive_a_running_daemon() {
    let daemon = Daemon::start("");
    let cwd = daemon.scratch_dir("work");
    let shell = new_session(&daemon, &["--cwd", cwd.to_str().expect("utf-8 path")]);
    let agent = new_session(&daemon, &["--mode", "claude"]);

    let records = sessions(&daemon);
    let ids: Vec<&str> = records
        .iter()
        .filter_map(|r| r["terminalId"].as_str())
        .collect();
    assert_eq!(
        ids,
        [shell.as_str(), agent.as_str()],
        "ls --json lists both, oldest first"
    );
    let shell_record = session(&daemon, &shell);
    assert_eq!(shell_record["mode"], "shell");
    assert_eq!(shell_record["cwd"], cwd.to_str().expect("utf-8 path"));
    let agent_record = session(&daemon, &agent);
    let session_id = agent_record["sessionRef"]["sessionId"]
        .as_str()
        .expect("claude has a sessionRef")
        .to_owned();

    let table = ptyhub_ok(&daemon, &["ls"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two rows:\n{table}");
    for column in [
        "ID", "NAME", "MODE", "SESSION", "STATUS", "VIEWERS", "PID", "PROCS", "RSS", "AGE", "CWD",
    ] {
        assert!(lines[0].contains(column), "no {column} column:\n{table}");
    }
    let status_at = lines[0].find("STATUS").expect("STATUS column");
    for (line, id) in lines[1..].iter().zip([&shell, &agent]) {
        assert!(line.starts_with(id.as_str()), "{line}");
        assert_eq!(
            &line[status_at..status_at + "running".len()],
            "running",
            "aligned:\n{table}"
        );
    }
    assert!(lines[2].contains(&session_id), "{table}");

    // send types exactly what it is given; --enter presses Enter.
    ptyhub_ok(&daemon, &["send", &agent, "echo one"]);
    ptyhub_ok(&daemon, &["send", &agent, " two", "--enter"]);
    wait_for_snapshot(&daemon, &agent, "ECHO:one two");
    // A session id names its terminal.
    assert!(snapshot(&daemon, &session_id).contains("ECHO:one two"));
    let ansi = ptyhub_ok(&daemon, &["snapshot", &agent, "--ansi"]);
    assert!(
        ansi.contains("\x1b[") && ansi.contains("ECHO:one two"),
        "{ansi:?}"
    );

    let killed = ptyhub_ok(&daemon, &["kill", &agent]);
    assert!(killed.starts_with(&format!("killed {agent}")), "{killed}");
    assert_eq!(session(&daemon, &agent)["status"], "exited");
    assert!(
        daemon_reports_running(&daemon, &shell),
        "kill ends only its target"
    );

    // The killed agent can be resumed, and the table says so, with no dead pid.
    let table = ptyhub_ok(&daemon, &["ls"]);
    let agent_line = table
        .lines()
        .find(|l| l.starts_with(agent.as_str()))
        .unwrap_or_else(|| panic!("{agent} listed:\n{table}"));
    let header = table.lines().next().expect("a header");
    let cell = |column: &str| {
        let at = header.find(column).expect("column");
        agent_line[at..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(cell("STATUS"), "resumable", "{table}");
    assert_eq!(cell("PID"), "-", "{table}");

    // A shell cannot be resumed: the refusal names a command that works.
    ptyhub_ok(&daemon, &["kill", &shell]);
    let refused = ptyhub(&daemon, &["send", &shell, "x"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("has exited") && stderr.contains(&format!("`ptyhub snapshot {shell}`")),
        "{stderr}"
    );
    ptyhub_ok(&daemon, &["snapshot", &shell]);
    let unknown = ptyhub(&daemon, &["snapshot", "no-such-terminal"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("ptyhub ls"),
        "{unknown:?}"
    );
}

#[test]
fn the_daemon_is_found_by_url_and_token_and_its_absence_is_explained() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &[]);
    let empty = tempfile::tempdir().expect("tempdir");
    let url = format!("http://127.0.0.1:{}/", daemon.port);

    let listed = Command::new(PTYHUB)
        .args(["ls", "--json", "--url", &url, "--state-dir"])
        .arg(empty.path())
        .env("AUTH_TOKEN", &daemon.token)
        .output()
        .expect("run ptyhub");
    assert!(listed.status.success(), "{listed:?}");
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&id));

    let wrong = Command::new(PTYHUB)
        .args(["send", &id, "x", "--url", &url, "--state-dir"])
        .arg(empty.path())
        .env("AUTH_TOKEN", "not-the-token-at-all")
        .output()
        .expect("run ptyhub");
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("token"),
        "{wrong:?}"
    );

    let nothing = ptyhub_in(empty.path(), &["ls"]);
    assert!(!nothing.status.success());
    let stderr = String::from_utf8_lossy(&nothing.stderr);
    assert!(
        stderr.contains("no daemon found") && stderr.contains("run `ptyhub serve`"),
        "{stderr}"
    );
}
