//! The upgrade itself: `ptyhub upgrade`, SIGUSR2 and the service's reload
//! all come here.
//!
//! 1. The binary at the daemon's path is asked whether it takes over this
//!    build's handover format (`ptyhub check-handover`); if it cannot even
//!    answer (broken, missing, another architecture) or says no, the
//!    upgrade is refused and nothing has changed.
//! 2. The state file is written (if the next image never comes up, the
//!    sessions are at least resumable), and every WebSocket is closed with
//!    4009, freshell's "server restarting, come back at once".
//! 3. Every session's reading stops (`Session::hand_over`), the state goes
//!    into the carrier, and the process executes the binary in place.
//!
//! Should the exec itself fail, every session reads again and the daemon
//! goes on serving: only the sockets were closed, and they come back.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::carrier::{self, HANDOVER_FD_VAR};
use super::held_signals;
use super::{DaemonHandover, FORMAT_VERSION};
use crate::daemon::Daemon;

/// How long the binary at the path has to answer `check-handover`.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long clients get to see their sockets close before the exec.
const SOCKETS_CLOSE_WAIT: Duration = Duration::from_millis(500);
/// Longest wait for queued keys to reach the PTYs before the exec: a child
/// that does not read its input must not hold an upgrade back.
const INPUT_FLUSH_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("an upgrade is already under way")]
    AlreadyUnderWay,
    #[error("the binary at {path} cannot take over: {reason}; the daemon keeps serving")]
    Refused { path: String, reason: String },
    #[error("the exec of {path} failed: {reason}; the daemon keeps serving")]
    ExecFailed { path: String, reason: String },
}

static UPGRADING: AtomicBool = AtomicBool::new(false);
static EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();

/// Notes the binary this daemon runs, by path, at start: once that file is
/// replaced by a newer build, `/proc/self/exe` names the deleted one.
pub fn remember_executable() {
    match std::env::current_exe() {
        Ok(path) => {
            let _ = EXECUTABLE.set(path);
        }
        Err(err) => tracing::warn!(%err, "cannot tell which binary runs; upgrades will be refused"),
    }
}

fn executable() -> Result<PathBuf, UpgradeError> {
    EXECUTABLE
        .get()
        .cloned()
        .ok_or_else(|| UpgradeError::Refused {
            path: "(unknown)".into(),
            reason: "the daemon could not tell its own binary at start".into(),
        })
}

/// Asks the binary at the daemon's path whether it takes over; its answer.
pub async fn check() -> Result<String, UpgradeError> {
    let path = executable()?;
    let asking = path.clone();
    tokio::task::spawn_blocking(move || ask(&asking, &[]))
        .await
        .unwrap_or_else(|err| Err(format!("the check did not run ({err})")))
        .map_err(|reason| UpgradeError::Refused {
            path: path.display().to_string(),
            reason,
        })
}

/// Claims the one upgrade that may run at a time.
pub struct UpgradeTurn(());

impl UpgradeTurn {
    pub fn claim() -> Result<Self, UpgradeError> {
        if UPGRADING.swap(true, Ordering::SeqCst) {
            return Err(UpgradeError::AlreadyUnderWay);
        }
        Ok(UpgradeTurn(()))
    }
}

impl Drop for UpgradeTurn {
    fn drop(&mut self) {
        UPGRADING.store(false, Ordering::SeqCst);
    }
}

/// Checks the binary, then hands over and executes it. Returns only if the
/// upgrade did not happen.
pub async fn upgrade(daemon: Arc<Daemon>) -> UpgradeError {
    let turn = match UpgradeTurn::claim() {
        Ok(turn) => turn,
        Err(err) => return err,
    };
    match check().await {
        Ok(verdict) => hand_over_and_exec(daemon, turn, verdict).await,
        Err(err) => {
            daemon.note_upgrade_failure(err.to_string());
            err
        }
    }
}

/// Steps 2 and 3 (after a successful check, under `turn`). Returns only if
/// the exec failed.
pub async fn hand_over_and_exec(
    daemon: Arc<Daemon>,
    turn: UpgradeTurn,
    verdict: String,
) -> UpgradeError {
    tracing::info!(%verdict, "upgrading in place");
    let registry = Arc::clone(&daemon.registry);
    let _ = tokio::task::spawn_blocking(move || registry.save_state()).await;
    daemon.begin_restart();
    let deadline = tokio::time::Instant::now() + SOCKETS_CLOSE_WAIT;
    while daemon.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let handing = Arc::clone(&daemon);
    let failure = tokio::task::spawn_blocking(move || exec_in_place(&handing))
        .await
        .unwrap_or_else(|err| UpgradeError::ExecFailed {
            path: "(unknown)".into(),
            reason: err.to_string(),
        });
    daemon.registry.resume_after_handover();
    daemon.end_restart();
    daemon.note_upgrade_failure(failure.to_string());
    drop(turn);
    tracing::error!(%failure, "upgrade failed");
    failure
}

/// Writes the handover and executes the binary in place. Returns only on
/// failure, with every descriptor closed on exec again.
fn exec_in_place(daemon: &Daemon) -> UpgradeError {
    let path = match executable() {
        Ok(path) => path,
        Err(err) => return err,
    };
    let failed = |reason: String| UpgradeError::ExecFailed {
        path: path.display().to_string(),
        reason,
    };
    let Some(listener_fd) = daemon.listener_fd() else {
        return failed("the daemon has no listening socket to pass on".into());
    };
    let Some(state_lock_fd) = daemon.state_lock_fd() else {
        return failed("the daemon holds no state dir lock to pass on".into());
    };
    // The sockets are closed: no key comes any more. Those typed in this
    // image's last moments reach the PTYs before the exec ends the writer
    // threads that hold them.
    let unwritten = daemon
        .registry
        .wait_for_input_written(std::time::Instant::now() + INPUT_FLUSH_WAIT);
    if unwritten > 0 {
        tracing::warn!(
            unwritten,
            "input the children did not read in time is lost across the upgrade"
        );
    }
    let paused_at_ms = crate::session::now_ms();
    let registry = daemon.registry.hand_over();
    if let Some(delay) = delay_for_tests() {
        std::thread::sleep(delay);
    }
    let masters: Vec<i32> = registry.sessions.iter().map(|s| s.master_fd).collect();
    let handover = DaemonHandover {
        format: FORMAT_VERSION,
        written_by: env!("CARGO_PKG_VERSION").into(),
        server_instance_id: daemon.server_instance_id.clone(),
        boot_id: daemon.boot_id.clone(),
        token: daemon.token().to_owned(),
        view_token: daemon.view_token().to_owned(),
        listener_fd,
        state_lock_fd,
        handovers: daemon.handovers() + 1,
        paused_at_ms,
        registry,
        layout: daemon.upstream.as_ref().map(|u| u.layout.hand_over()),
    };
    let handed_over_ms = crate::session::now_ms();
    let carrier = match carrier::write(&handover) {
        Ok(carrier) => carrier,
        Err(err) => return failed(format!("cannot write the handover state: {err}")),
    };
    // The new binary reads the very state it is to take over before this
    // image lets go of anything: a format that changed without a new version
    // number is refused here, not found out after the exec.
    let written_ms = crate::session::now_ms();
    let checked = check_state(&path, &carrier);
    tracing::info!(
        pause_ms = handed_over_ms - paused_at_ms,
        write_ms = written_ms - handed_over_ms,
        check_ms = crate::session::now_ms() - written_ms,
        "handover state written and checked"
    );
    if let Err(reason) = checked {
        carrier::close_on_exec(&carrier);
        return UpgradeError::Refused {
            path: path.display().to_string(),
            reason,
        };
    }
    let kept: Vec<i32> = [listener_fd, state_lock_fd, carrier.as_raw_fd()]
        .into_iter()
        .chain(masters)
        .collect();
    let mut error = None;
    for &fd in &kept {
        if let Err(err) = carrier::keep_open_across_exec(fd) {
            error = Some(format!("cannot keep descriptor {fd} open: {err}"));
            break;
        }
    }
    if error.is_none() {
        tracing::info!(
            sessions = kept.len() - 3,
            binary = %path.display(),
            "executing the new image"
        );
        // A reload or a stop sent before the next image listens again waits
        // for it (`held_signals.rs`).
        let previous = held_signals::hold();
        let mut next_image = std::process::Command::new(&path);
        next_image
            .args(std::env::args_os().skip(1))
            .env(HANDOVER_FD_VAR, carrier.as_raw_fd().to_string());
        // SAFETY: the hook only calls pthread_sigmask, which is
        // async-signal-safe. Blocking again right before the exec keeps the
        // signals held even if the standard library resets the mask on its
        // way there (as it does for the children it spawns).
        unsafe {
            next_image.pre_exec(|| {
                held_signals::hold();
                Ok(())
            });
        }
        let err = next_image.exec();
        held_signals::restore(&previous);
        error = Some(err.to_string());
    }
    for fd in &kept {
        carrier::close_on_exec(fd);
    }
    failed(error.unwrap_or_default())
}

/// Has the binary at `path` read the handover in `carrier` (without taking
/// anything over); its answer, or why it cannot. The carrier is rewound for
/// the exec afterwards.
fn check_state(path: &std::path::Path, carrier: &std::os::fd::OwnedFd) -> Result<String, String> {
    carrier::keep_open_across_exec(carrier.as_raw_fd())
        .map_err(|e| format!("cannot pass the handover state to it: {e}"))?;
    let fd = carrier.as_raw_fd().to_string();
    let outcome = ask(path, &["--state-fd", &fd]);
    carrier::rewind(carrier).map_err(|e| format!("cannot rewind the handover state: {e}"))?;
    outcome
}

/// Runs `<path> check-handover --format <this build's> <more…>`: its
/// answer, or why it cannot take over (it does not run, does not answer
/// within `CHECK_TIMEOUT`, or says no).
fn ask(path: &std::path::Path, more: &[&str]) -> Result<String, String> {
    let child = std::process::Command::new(path)
        .arg("check-handover")
        .arg("--format")
        .arg(FORMAT_VERSION.to_string())
        .args(more)
        .env_remove(HANDOVER_FD_VAR)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("it does not run ({e})"))?;
    wait_bounded(child, CHECK_TIMEOUT)
}

/// The child's answer (stdout when it succeeded, stderr when not), or a
/// refusal once `timeout` has passed (the child is killed).
fn wait_bounded(mut child: std::process::Child, timeout: Duration) -> Result<String, String> {
    use std::io::Read;
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it did not answer within {timeout:?}"));
            }
            Err(err) => return Err(format!("cannot wait for it: {err}")),
        }
    };
    let said = |pipe: Option<&mut dyn Read>| {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text.trim().to_owned()
    };
    let stdout = said(child.stdout.as_mut().map(|p| p as &mut dyn Read));
    let stderr = said(child.stderr.as_mut().map(|p| p as &mut dyn Read));
    if status.success() {
        Ok(stdout)
    } else if stderr.is_empty() {
        Err(format!("it exited with {status}"))
    } else {
        Err(stderr)
    }
}

/// A test hook: `PTYHUB_TEST_HANDOVER_DELAY_MS` makes the daemon wait that
/// long between stopping every session's reading and the exec, so a test can
/// show that output written meanwhile waits in the PTY for the next image
/// (`tests/upgrade.rs`). Unset, nothing waits.
fn delay_for_tests() -> Option<Duration> {
    crate::test_delays::from_env("PTYHUB_TEST_HANDOVER_DELAY_MS")
}
