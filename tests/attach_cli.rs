//! The tmux-style CLI against a real daemon: `attach` driven inside a real terminal (a tmux
//! pane, typed into with `send-keys` and read with `capture-pane`), and the one-shot commands
//! `new`, `ls`, `snapshot`, `send` and `kill` run as plain processes.
//!
//! Every test starts its own daemon (the shared harness) and, when it needs a terminal, its own
//! tmux server on a private socket (`-L`, no config file), killed when the test ends. The pane
//! runs `bash --norc --noprofile` with the prompt `outer$ `; the CLI finds the daemon through
//! the `daemon.json` in the harness's state dir, as it would on a user's machine.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{live_processes_matching, Client, Daemon, PATIENCE};
use serde_json::Value;

const PTYHUB: &str = env!("CARGO_BIN_EXE_ptyhub");
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const OUTER_PROMPT: &str = "outer$ ";
/// The prompt as `capture-pane` shows it (trailing blanks trimmed).
const OUTER_PROMPT_SHOWN: &str = "outer$";
/// The size of every test pane (and so of every attached session).
const PANE_COLS: u16 = 100;
const PANE_ROWS: u16 = 30;

// ---------------------------------------------------------------------------------------------
// The CLI as a process
// ---------------------------------------------------------------------------------------------

/// Runs `ptyhub <args> --state-dir <the daemon's>` with no token or URL in the environment.
fn ptyhub(daemon: &Daemon, args: &[&str]) -> Output {
    ptyhub_in(&daemon.state_dir, args)
}

fn ptyhub_in(state_dir: &Path, args: &[&str]) -> Output {
    Command::new(PTYHUB)
        .args(args)
        .arg("--state-dir")
        .arg(state_dir)
        .env_remove("AUTH_TOKEN")
        .env_remove("PTYHUB_URL")
        .env_remove("PTYHUB_STATE_DIR")
        .output()
        .expect("run the ptyhub binary")
}

/// Runs the CLI, asserts it succeeded, and returns its stdout.
fn ptyhub_ok(daemon: &Daemon, args: &[&str]) -> String {
    let output = ptyhub(daemon, args);
    assert!(
        output.status.success(),
        "`ptyhub {}` failed ({}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// `ptyhub new` with `args`; returns the printed terminal id.
fn new_session(daemon: &Daemon, args: &[&str]) -> String {
    let mut all = vec!["new"];
    all.extend_from_slice(args);
    let id = ptyhub_ok(daemon, &all).trim().to_owned();
    assert!(
        !id.is_empty() && !id.contains(char::is_whitespace),
        "new printed {id:?}"
    );
    id
}

fn sessions(daemon: &Daemon) -> Vec<Value> {
    let json = ptyhub_ok(daemon, &["ls", "--json"]);
    serde_json::from_str::<Value>(&json)
        .unwrap_or_else(|e| panic!("ls --json printed {json:?}: {e}"))
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("ls --json is not an array: {json}"))
}

fn session(daemon: &Daemon, terminal_id: &str) -> Value {
    sessions(daemon)
        .into_iter()
        .find(|s| s["terminalId"] == terminal_id)
        .unwrap_or_else(|| panic!("{terminal_id} is not in ls --json"))
}

fn snapshot(daemon: &Daemon, target: &str) -> String {
    ptyhub_ok(daemon, &["snapshot", target])
}

/// Polls `probe` until it returns `Some`, or panics with `what` and the last value seen.
fn poll<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) => {
                assert!(
                    Instant::now() < deadline,
                    "timed out after {PATIENCE:?} waiting until {what}; last seen:\n{last}"
                );
                std::thread::sleep(POLL_INTERVAL);
            }
        }
    }
}

fn wait_for_snapshot(daemon: &Daemon, target: &str, text: &str) -> String {
    poll(&format!("the screen of {target} shows {text:?}"), || {
        let screen = snapshot(daemon, target);
        if screen.contains(text) {
            Ok(screen)
        } else {
            Err(screen)
        }
    })
}

/// Whether the daemon still runs `terminal_id`, asked through the harness's own client
/// (an independent witness: the protocol's inventory, not the CLI).
fn daemon_reports_running(daemon: &Daemon, terminal_id: &str) -> bool {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (_client, handshake) = Client::connect_ready(daemon).await;
        handshake
            .terminal(terminal_id)
            .is_some_and(|t| t["status"] == "running")
    })
}

// ---------------------------------------------------------------------------------------------
// A real terminal: one tmux pane
// ---------------------------------------------------------------------------------------------

/// A private tmux server with one pane running an outer shell; killed on drop.
struct Pane {
    socket: String,
    /// Where tmux put the socket (`-L` names it; tmux leaves the file behind on exit).
    socket_path: Option<String>,
}

impl Pane {
    fn start() -> Pane {
        let socket = format!("ptyhub-test-{}", uuid::Uuid::new_v4().simple());
        let mut pane = Pane {
            socket,
            socket_path: None,
        };
        let started = pane
            .tmux_command()
            .args(["new-session", "-d", "-s", "main"])
            .args(["-x", &PANE_COLS.to_string(), "-y", &PANE_ROWS.to_string()])
            .args([
                "env",
                &format!("PS1={OUTER_PROMPT}"),
                "bash",
                "--norc",
                "--noprofile",
            ])
            .env_remove("AUTH_TOKEN")
            .env_remove("PTYHUB_URL")
            .env_remove("PTYHUB_STATE_DIR")
            .env_remove("TMUX")
            .output()
            .unwrap_or_else(|e| {
                panic!("tmux is needed for these tests (apt-get install -y tmux): {e}")
            });
        assert!(
            started.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        pane.socket_path = Some(
            pane.tmux(&["display-message", "-p", "#{socket_path}"])
                .trim()
                .to_owned(),
        );
        pane.wait_for("the outer shell's prompt", |screen| {
            screen.contains(OUTER_PROMPT_SHOWN)
        });
        pane
    }

    fn tmux_command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = self.tmux_command().args(args).output().expect("run tmux");
        assert!(
            output.status.success(),
            "tmux {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types `text` literally, then Enter.
    fn type_line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
        self.tmux(&["send-keys", "-t", "main", "Enter"]);
    }

    /// Presses keys by tmux name (`C-b`, `d`, `C-c`).
    fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The visible screen of the pane, as text.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "main"])
    }

    fn wait_for(&self, what: &str, mut condition: impl FnMut(&str) -> bool) -> String {
        poll(&format!("the pane shows {what}"), || {
            let screen = self.screen();
            if condition(&screen) {
                Ok(screen)
            } else {
                Err(screen)
            }
        })
    }

    fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Runs `ptyhub attach` (or any subcommand) in the pane, against `daemon`.
    fn run_ptyhub(&self, daemon: &Daemon, args: &str) {
        self.type_line(&format!(
            "clear; {PTYHUB} {args} --state-dir {}",
            daemon.state_dir.display()
        ));
    }

    /// Terminal modes the session may have changed, as tmux sees them:
    /// alternate screen, cursor visible, any mouse mode, application cursor keys, autowrap.
    fn modes(&self) -> String {
        self.tmux(&[
            "display-message",
            "-p",
            "-t",
            "main",
            "alt=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag} appkeys=#{keypad_cursor_flag} wrap=#{wrap_flag}",
        ])
        .trim()
        .to_owned()
    }

    /// The outer shell is usable again: canonical mode and echo are back (as `stty -a` says),
    /// a typed command runs and its output shows, and nothing the session switched on is left.
    fn assert_outer_shell_is_sane(&self) {
        self.tmux(&["send-keys", "-t", "main", "-l", "clear"]);
        self.tmux(&["send-keys", "-t", "main", "Enter"]);
        self.wait_for("a cleared outer shell", |s| {
            s.trim_start().starts_with(OUTER_PROMPT_SHOWN)
        });
        // The command line says `$((2+3))`; only its output says `5`.
        self.type_line(
            r#"echo "$(stty -a | tr -s ' ;' '\n\n' | grep -E -x -e '-?(icanon|echo)' | tr '\n' ' ')stty-$((2+3))""#,
        );
        let screen = self.wait_for_text("stty-5");
        assert!(
            screen.contains("\nicanon echo stty-5"),
            "the outer terminal is not back in canonical mode with echo:\n{screen}"
        );
        assert_eq!(self.modes(), "alt=0 cursor=1 mouse=0 appkeys=0 wrap=1");
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- the tmux pane ----\n{}\n---- end of pane ----",
                self.screen()
            );
        }
        let _ = self.tmux_command().arg("kill-server").output();
        if let Some(path) = self.socket_path.as_deref().filter(|p| !p.is_empty()) {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn detached_line(terminal_id: &str) -> String {
    format!("[detached (from terminal {terminal_id})]")
}

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

#[test]
fn the_detach_key_leaves_the_session_running_and_the_terminal_sane() {
    let daemon = Daemon::start("");
    let id = new_session(&daemon, &["--mode", "claude"]);
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {id}"));
    pane.wait_for_text("fake>");

    pane.press(&["C-b", "d"]);
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

    pane.press(&["C-b", "d"]);
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

    pane.press(&["C-b", "d"]);
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
    pane.press(&["C-b", "d"]);
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
        "C-b d detached although the key is C-a d"
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
        "ID", "MODE", "SESSION", "STATUS", "VIEWERS", "PID", "AGE", "CWD",
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

    let refused = ptyhub(&daemon, &["send", &agent, "x"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("has exited"),
        "{refused:?}"
    );
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
