//! The tmux-style CLI as tests drive it: the `ptyhub` binary run as a process against a test's
//! daemon, and a real terminal for `attach` — a pane of a private tmux server (`-L`, no config
//! file), typed into with `send-keys` and read with `capture-pane`, killed when the test ends.
//! The pane runs `bash --norc --noprofile` with the prompt `outer$ `; the CLI finds the daemon
//! through the `daemon.json` in the harness's state dir, as it would on a user's machine.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Client, Daemon, PATIENCE};

pub const PTYHUB: &str = env!("CARGO_BIN_EXE_ptyhub");
const POLL_INTERVAL: Duration = Duration::from_millis(50);
pub const OUTER_PROMPT: &str = "outer$ ";
/// The prompt as `capture-pane` shows it (trailing blanks trimmed).
pub const OUTER_PROMPT_SHOWN: &str = "outer$";
/// The size of every test pane (and so of every attached session).
pub const PANE_COLS: u16 = 100;
pub const PANE_ROWS: u16 = 30;

// ---------------------------------------------------------------------------------------------
// The CLI as a process
// ---------------------------------------------------------------------------------------------

/// Runs `ptyhub <args> --state-dir <the daemon's>` with no token or URL in the environment.
pub fn ptyhub(daemon: &Daemon, args: &[&str]) -> Output {
    ptyhub_in(&daemon.state_dir, args)
}

pub fn ptyhub_in(state_dir: &Path, args: &[&str]) -> Output {
    // Before a `--`: what follows it is a command's words (`new -- htop`).
    let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
    Command::new(PTYHUB)
        .args(&args[..split])
        .arg("--state-dir")
        .arg(state_dir)
        .args(&args[split..])
        .env_remove("AUTH_TOKEN")
        .env_remove("PTYHUB_URL")
        .env_remove("PTYHUB_STATE_DIR")
        .output()
        .expect("run the ptyhub binary")
}

/// Runs the CLI, asserts it succeeded, and returns its stdout.
pub fn ptyhub_ok(daemon: &Daemon, args: &[&str]) -> String {
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
pub fn new_session(daemon: &Daemon, args: &[&str]) -> String {
    let mut all = vec!["new"];
    all.extend_from_slice(args);
    let id = ptyhub_ok(daemon, &all).trim().to_owned();
    assert!(
        !id.is_empty() && !id.contains(char::is_whitespace),
        "new printed {id:?}"
    );
    id
}

pub fn sessions(daemon: &Daemon) -> Vec<Value> {
    let json = ptyhub_ok(daemon, &["ls", "--json"]);
    serde_json::from_str::<Value>(&json)
        .unwrap_or_else(|e| panic!("ls --json printed {json:?}: {e}"))
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("ls --json is not an array: {json}"))
}

pub fn session(daemon: &Daemon, terminal_id: &str) -> Value {
    sessions(daemon)
        .into_iter()
        .find(|s| s["terminalId"] == terminal_id)
        .unwrap_or_else(|| panic!("{terminal_id} is not in ls --json"))
}

pub fn snapshot(daemon: &Daemon, target: &str) -> String {
    ptyhub_ok(daemon, &["snapshot", target])
}

/// Polls `probe` until it returns `Some`, or panics with `what` and the last value seen.
pub fn poll<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
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

pub fn wait_for_snapshot(daemon: &Daemon, target: &str, text: &str) -> String {
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
pub fn daemon_reports_running(daemon: &Daemon, terminal_id: &str) -> bool {
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
pub struct Pane {
    socket: String,
    /// Where tmux put the socket (`-L` names it; tmux leaves the file behind on exit).
    socket_path: Option<String>,
}

impl Pane {
    pub fn start() -> Pane {
        Pane::start_sized(PANE_COLS, PANE_ROWS)
    }

    /// A pane of `cols`×`rows`.
    pub fn start_sized(cols: u16, rows: u16) -> Pane {
        let socket = format!("ptyhub-test-{}", uuid::Uuid::new_v4().simple());
        let mut pane = Pane {
            socket,
            socket_path: None,
        };
        let started = pane
            .tmux_command()
            .args(["new-session", "-d", "-s", "main"])
            .args(["-x", &cols.to_string(), "-y", &rows.to_string()])
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

    /// Resizes the pane's window, as a user dragging the terminal's edge would.
    pub fn resize(&self, cols: u16, rows: u16) {
        self.tmux(&[
            "resize-window",
            "-t",
            "main",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
    }

    pub fn tmux_command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    pub fn tmux(&self, args: &[&str]) -> String {
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
    pub fn type_line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
        self.tmux(&["send-keys", "-t", "main", "Enter"]);
    }

    /// Presses keys by tmux name (`C-b`, `d`, `C-c`).
    pub fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The visible screen of the pane, as text.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "main"])
    }

    pub fn wait_for(&self, what: &str, mut condition: impl FnMut(&str) -> bool) -> String {
        poll(&format!("the pane shows {what}"), || {
            let screen = self.screen();
            if condition(&screen) {
                Ok(screen)
            } else {
                Err(screen)
            }
        })
    }

    pub fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Runs `ptyhub attach` (or any subcommand) in the pane, against `daemon`.
    pub fn run_ptyhub(&self, daemon: &Daemon, args: &str) {
        self.run_ptyhub_with_env(daemon, "", args);
    }

    /// Like [`Pane::run_ptyhub`], with `env` (`NAME=value …`, shell words) before the command;
    /// once the command ends, the pane shows `[ptyhub exit <code>]`.
    pub fn run_ptyhub_with_env(&self, daemon: &Daemon, env: &str, args: &str) {
        // Before a ` -- `: what follows it is a command's words (`new -- htop`).
        let (options, command) = args.split_once(" -- ").unwrap_or((args, ""));
        let command = if command.is_empty() {
            String::new()
        } else {
            format!(" -- {command}")
        };
        self.type_line(&format!(
            "clear; {env} {PTYHUB} {options} --state-dir {}{command}; echo \"[ptyhub exit $((0+$?))]\"",
            daemon.state_dir.display()
        ));
    }

    /// Terminal modes the session may have changed, as tmux sees them:
    /// alternate screen, cursor visible, any mouse mode, application cursor keys, autowrap.
    pub fn modes(&self) -> String {
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
    pub fn assert_outer_shell_is_sane(&self) {
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

pub fn detached_line(terminal_id: &str) -> String {
    format!("[detached (from terminal {terminal_id})]")
}
