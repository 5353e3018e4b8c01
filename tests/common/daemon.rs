//! Starting and stopping one real `ptyhub serve` per test.
//!
//! Each daemon gets its own temporary directory holding its config file, its state dir, the
//! fake agent's ledger and the daemon's stderr log (printed when a test fails). Dropping a
//! [`Daemon`] sends SIGTERM (the daemon hangs up its children), SIGKILLs it if it lingers, and
//! then SIGKILLs every process still carrying this run's marker in its environment, so no
//! child outlives its test even when the daemon misbehaves.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::procs::{kill_hard, live_processes_matching, processes_with_env};
use super::{fresh_id, COLS, FAKE_AGENT, ROWS};

const STARTUP_DEADLINE: Duration = Duration::from_secs(20);
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// One line of the fake agent's ledger: a process it started as.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub pid: u32,
    /// Arguments after the program path.
    pub argv: Vec<String>,
    pub cwd: String,
}

impl LedgerEntry {
    /// The value following `flag` in argv, e.g. `arg_after("--resume")`.
    pub fn arg_after(&self, flag: &str) -> Option<&str> {
        let at = self.argv.iter().position(|a| a == flag)?;
        self.argv.get(at + 1).map(String::as_str)
    }
}

/// A running daemon, killed (with everything it started) on drop.
pub struct Daemon {
    child: Option<Child>,
    dir: Arc<TempDir>,
    config_extra: String,
    /// Extra `ptyhub serve` arguments, kept for `restart()`.
    extra_args: Vec<String>,
    /// Extra environment of `ptyhub serve` (over the harness's), kept for `restart()`.
    extra_env: Vec<(String, String)>,
    /// The ptyhub binary this daemon runs.
    binary: PathBuf,
    /// `PTYHUB_TEST_MARKER=<uuid>` given to this run only; finds its descendants in /proc.
    marker: String,
    pub port: u16,
    pub token: String,
    /// The full login link the daemon printed (`…/#login=<code>`), good once.
    pub login_link: String,
    /// The read-only login link it printed, good once.
    pub read_only_link: String,
    /// `ws://127.0.0.1:<port>/ws`
    pub ws_url: String,
    pub ledger_path: PathBuf,
    pub state_dir: PathBuf,
    log_path: PathBuf,
}

impl Daemon {
    /// Starts a daemon whose config is the harness's base config (fake agent for claude, codex
    /// and opencode; `bash --norc --noprofile` for shell; 80×24; short kill grace) with the
    /// TOML in `config_extra` merged over it, key by key.
    pub fn start(config_extra: &str) -> Daemon {
        Daemon::start_with_args(config_extra, &[])
    }

    /// Like [`Daemon::start`], with extra `ptyhub serve` arguments
    /// (e.g. `["--freshell-upstream", url]`).
    pub fn start_with_args(config_extra: &str, args: &[&str]) -> Daemon {
        Daemon::start_with_args_and_token(config_extra, args, &fresh_id("token"))
    }

    /// Like [`Daemon::start_with_args`], with a chosen token.
    pub fn start_with_args_and_token(config_extra: &str, args: &[&str], token: &str) -> Daemon {
        let dir = test_dir();
        let args = args.iter().map(|a| (*a).to_owned()).collect();
        Daemon::spawn(
            dir,
            config_extra.to_owned(),
            args,
            Vec::new(),
            token.to_owned(),
            PathBuf::from(env!("CARGO_BIN_EXE_ptyhub")),
        )
    }

    /// Like [`Daemon::start`], with extra environment for `ptyhub serve` (e.g.
    /// `PTYHUB_VIEW_TOKEN`, or `RUST_LOG`, which replaces the harness's).
    pub fn start_with_env(config_extra: &str, env: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(
            test_dir(),
            config_extra.to_owned(),
            Vec::new(),
            owned_env(env),
            fresh_id("token"),
            PathBuf::from(env!("CARGO_BIN_EXE_ptyhub")),
        )
    }

    /// Like [`Daemon::start_with_env`], running a copy of the ptyhub binary made in the
    /// daemon's own directory (`binary_path()`), which a test may replace, as a package update
    /// replaces an installed binary.
    pub fn start_from_copied_binary(config_extra: &str, env: &[(&str, &str)]) -> Daemon {
        let dir = test_dir();
        let binary = dir.path().join("bin").join("ptyhub");
        std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_ptyhub"), &binary).unwrap();
        Daemon::spawn(
            dir,
            config_extra.to_owned(),
            Vec::new(),
            owned_env(env),
            fresh_id("token"),
            binary,
        )
    }

    /// The binary this daemon runs.
    pub fn binary_path(&self) -> &Path {
        &self.binary
    }

    /// Stops this daemon gracefully and starts a new one on the same state dir, config and
    /// token (a new port).
    pub fn restart(mut self) -> Daemon {
        self.stop();
        let (dir, extra, args, env, token, binary) = (
            self.dir.clone(),
            self.config_extra.clone(),
            self.extra_args.clone(),
            self.extra_env.clone(),
            self.token.clone(),
            self.binary.clone(),
        );
        drop(self);
        Daemon::spawn(dir, extra, args, env, token, binary)
    }

    /// Like [`Daemon::restart`], with `between(state_dir)` run while no daemon runs (after the
    /// old one has saved its state and exited, before the new one reads it), e.g. to damage
    /// the state file.
    pub fn restart_with(mut self, between: impl FnOnce(&Path)) -> Daemon {
        self.stop();
        between(&self.state_dir);
        let (dir, extra, args, env, token, binary) = (
            self.dir.clone(),
            self.config_extra.clone(),
            self.extra_args.clone(),
            self.extra_env.clone(),
            self.token.clone(),
            self.binary.clone(),
        );
        drop(self);
        Daemon::spawn(dir, extra, args, env, token, binary)
    }

    /// A directory inside this test's temp dir (created), e.g. for distinct cwds.
    /// The read-only (view) token the daemon keeps in its state dir.
    pub fn view_token(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("view-token"))
            .expect("the daemon writes its view token at start")
            .trim()
            .to_owned()
    }

    pub fn scratch_dir(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// Every process the fake agent recorded starting, in order.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        let Ok(text) = std::fs::read_to_string(&self.ledger_path) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("ledger line {line:?} is not JSON: {e}"));
                LedgerEntry {
                    pid: v["pid"].as_u64().expect("ledger pid") as u32,
                    argv: v["argv"]
                        .as_array()
                        .expect("ledger argv")
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                    cwd: v["cwd"].as_str().expect("ledger cwd").to_owned(),
                }
            })
            .collect()
    }

    /// Ledger entries whose argv mentions `marker` (typically a session id).
    pub fn spawns_mentioning(&self, marker: &str) -> Vec<LedgerEntry> {
        self.ledger()
            .into_iter()
            .filter(|e| e.argv.iter().any(|a| a.contains(marker)))
            .collect()
    }

    /// Live fake-agent processes whose command line mentions `marker`, from /proc.
    pub fn live_agents_mentioning(&self, marker: &str) -> Vec<u32> {
        live_processes_matching(&[FAKE_AGENT, marker])
    }

    /// The daemon's stderr so far (its tracing log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The daemon's own pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(
        dir: Arc<TempDir>,
        config_extra: String,
        extra_args: Vec<String>,
        extra_env: Vec<(String, String)>,
        token: String,
        binary: PathBuf,
    ) -> Daemon {
        let root = dir.path().to_owned();
        let state_dir = root.join("state");
        let ledger_path = root.join("ledger.jsonl");
        let config_path = root.join("config.toml");
        let log_path = root.join(format!("{}.log", fresh_id("daemon")));
        // Private, as the daemon demands (whatever the umask).
        std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
            .create(&state_dir)
            .or_else(|e| if state_dir.is_dir() { Ok(()) } else { Err(e) })
            .unwrap();
        // Codex's session files (rollouts) of this daemon's terminals, kept apart from the
        // machine's own: the daemon looks there to bind a fresh codex to its session.
        let codex_home = root.join("codex-home");
        std::fs::create_dir_all(&codex_home).unwrap();
        std::fs::write(&config_path, merged_config(&config_extra)).unwrap();
        let marker = format!("PTYHUB_TEST_MARKER={}", uuid::Uuid::new_v4());

        let log = std::fs::File::create(&log_path).unwrap();
        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--config")
            .arg(&config_path)
            .arg("--state-dir")
            .arg(&state_dir)
            .args(&extra_args)
            .env("AUTH_TOKEN", &token)
            .env("PTYHUB_FAKE_LEDGER", &ledger_path)
            .env("CODEX_HOME", &codex_home)
            .env(
                marker.split_once('=').unwrap().0,
                marker.split_once('=').unwrap().1,
            )
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = spawn_when_not_busy(&mut command);

        let first_lines = read_first_lines(child.stdout.take().unwrap());
        let mut daemon = Daemon {
            child: Some(child),
            dir,
            config_extra,
            extra_args,
            extra_env,
            binary,
            marker,
            port: 0,
            token,
            login_link: String::new(),
            read_only_link: String::new(),
            ws_url: String::new(),
            ledger_path,
            state_dir,
            log_path,
        };
        let Some((line, second)) = first_lines else {
            daemon.stop();
            panic!(
                "ptyhub printed no ready line within {STARTUP_DEADLINE:?}; its log:\n{}",
                daemon.log()
            );
        };
        // The view token is in the state dir, unless the environment chose it.
        let view_token = std::fs::read_to_string(daemon.state_dir.join("view-token"))
            .map(|t| t.trim().to_owned())
            .ok()
            .or_else(|| {
                daemon
                    .extra_env
                    .iter()
                    .find(|(k, _)| k == "PTYHUB_VIEW_TOKEN")
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_else(|| daemon.token.clone());
        daemon.port = parse_ready_line(&line, &[&daemon.token, &view_token]);
        daemon.login_link = login_link_of(&line, "ptyhub ready: ");
        daemon.read_only_link =
            login_link_of(&second, "ptyhub read-only link (watch, never type): ");
        assert!(
            !second.contains(&daemon.token) && !second.contains(&view_token),
            "the read-only link line holds a token: {second:?}"
        );
        daemon.ws_url = format!("ws://127.0.0.1:{}/ws", daemon.port);
        daemon
    }

    /// SIGTERM, wait, SIGKILL if needed; then kill anything this run left behind. The
    /// state dir stays until the `Daemon` is dropped, for what a test asks after a stop.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + SHUTDOWN_DEADLINE;
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        for pid in processes_with_env(&self.marker) {
            kill_hard(pid);
        }
        // In case the daemon scrubbed the marker from its children's environment: the fake
        // agent recorded its pids (checked against /proc so a reused pid is left alone).
        let live_agents = live_processes_matching(&[FAKE_AGENT]);
        for entry in self.ledger() {
            if live_agents.contains(&entry.pid) {
                kill_hard(entry.pid);
            }
        }
    }
}

/// A fresh directory for one daemon's state, config and log.
fn test_dir() -> Arc<TempDir> {
    Arc::new(
        tempfile::Builder::new()
            .prefix("ptyhub-test-")
            .tempdir()
            .unwrap(),
    )
}

fn owned_env(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!(
                "---- last lines of the ptyhub log ({}) ----",
                self.log_path.display()
            );
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
            eprintln!("---- end of ptyhub log ----");
        }
    }
}

/// Reads stdout's first two lines on a thread (the daemon may never print them), then keeps
/// draining stdout so the daemon can never block on a full pipe.
fn read_first_lines(stdout: impl Read + Send + 'static) -> Option<(String, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let mut second = String::new();
        let _ = reader.read_line(&mut first);
        let _ = reader.read_line(&mut second);
        let _ = tx.send((first, second));
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(STARTUP_DEADLINE)
        .ok()
        .filter(|(first, _)| !first.is_empty())
}

/// The contract: the first stdout line is exactly
/// `ptyhub ready: http://127.0.0.1:<port>/#login=<code>` (`/ptyhub/#login=` in front of
/// freshell), and holds no token.
fn parse_ready_line(line: &str, tokens: &[&str]) -> u16 {
    let line = line.trim_end_matches('\n');
    for token in tokens {
        assert!(
            !line.contains(token),
            "the ready line prints a token: {line:?}"
        );
    }
    let port = line
        .strip_prefix("ptyhub ready: http://127.0.0.1:")
        .and_then(|rest| {
            rest.split_once("/ptyhub/#login=")
                .or_else(|| rest.split_once("/#login="))
        })
        .filter(|(_, code)| code.len() >= 32)
        .and_then(|(port, _)| port.parse::<u16>().ok())
        .unwrap_or_else(|| {
            panic!("first stdout line {line:?} is not `ptyhub ready: http://127.0.0.1:<port>/#login=<code>`")
        });
    assert_ne!(port, 0, "the ready line must name the port actually bound");
    port
}

/// The link after `prefix` on a line the daemon printed.
fn login_link_of(line: &str, prefix: &str) -> String {
    let line = line.trim_end_matches('\n');
    line.strip_prefix(prefix)
        .filter(|link| link.contains("#login="))
        .unwrap_or_else(|| panic!("{line:?} is not `{prefix}<link with #login=>`"))
        .to_owned()
}

fn base_config() -> String {
    let agent = toml_string(FAKE_AGENT);
    format!(
        r#"
[sessions]
kill_grace_ms = 1000
initial_cols = {COLS}
initial_rows = {ROWS}

[providers.claude]
command = {agent}

[providers.codex]
command = {agent}

[providers.opencode]
command = {agent}

[providers.shell]
command = "/bin/bash"
args = ["--norc", "--noprofile"]
"#
    )
}

/// Spawns `command`, again while its binary is "busy": a binary just copied for a test
/// (`start_from_copied_binary`) can still be open for writing in a child another test forked
/// meanwhile, until that child execs (ETXTBSY, for a moment).
fn spawn_when_not_busy(command: &mut Command) -> std::process::Child {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Ok(child) => return child,
            Err(err) if err.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(err) => panic!("start the ptyhub binary: {err}"),
        }
    }
}

/// `s` as a TOML string literal, quoted and escaped (for a path in a test's config).
pub fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The base config with `extra` merged over it (tables merge recursively, values replace).
fn merged_config(extra: &str) -> String {
    let mut base: toml::Table = base_config().parse().expect("base config is TOML");
    let extra: toml::Table = extra
        .parse()
        .unwrap_or_else(|e| panic!("config_extra is not TOML: {e}\n{extra}"));
    merge(&mut base, extra);
    toml::to_string(&base).unwrap()
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(table)) => {
                merge(existing, table)
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Reads a JSON file some fixture wrote (e.g. the flooder's report), waiting for it to appear.
pub fn read_json_file(path: &Path, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(value) = serde_json::from_str(&text) {
                return value;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Daemon {
    /// Live processes of this run other than the daemon itself: everything it started that
    /// kept the environment it was given (its children, their children, …), from /proc.
    pub fn live_descendants(&self) -> Vec<u32> {
        let daemon = self.pid();
        processes_with_env(&self.marker)
            .into_iter()
            .filter(|&pid| Some(pid) != daemon && super::procs::process_is_alive(pid))
            .collect()
    }

    /// Sends `signal` to the daemon process (e.g. `libc::SIGTERM` to test shutdown).
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.pid().expect("the daemon runs") as libc::pid_t;
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Runs `ptyhub serve` on 127.0.0.1 port 0 with `state_dir`, expecting it to refuse to start;
/// returns what it wrote to stderr. `env` is its whole ptyhub environment (`AUTH_TOKEN`,
/// `PTYHUB_VIEW_TOKEN`, … are unset unless given). Panics, after stopping it, if it served.
/// `ptyhub serve` on `state_dir` (any port) with no token nor state dir from this
/// process's environment: the daemon chooses, as on a fresh machine.
pub fn serve_on_own_tokens(state_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ptyhub"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
        .arg(state_dir)
        .env_remove("AUTH_TOKEN")
        .env_remove("PTYHUB_VIEW_TOKEN")
        .env_remove("PTYHUB_STATE_DIR");
    command
}

pub fn serve_refused(state_dir: &Path, env: &[(&str, &str)]) -> String {
    let mut child = serve_on_own_tokens(state_dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the ptyhub binary");
    let deadline = Instant::now() + STARTUP_DEADLINE;
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let still_running = child.try_wait().ok().flatten().is_none();
    if still_running {
        let _ = child.kill();
    }
    let output = child.wait_with_output().expect("collect ptyhub's output");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !still_running && !output.status.success(),
        "ptyhub served when it should have refused to start ({env:?});\nstdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}
