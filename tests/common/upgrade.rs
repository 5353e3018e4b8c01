//! Upgrading a test's daemon in place, for the `upgrade*` tests.
//!
//! The daemon runs a copy of the ptyhub binary in its own directory
//! ([`Daemon::start_from_copied_binary`]); the "newer build" is a fresh copy renamed over it (a
//! new file, as a package update installs one), so the daemon's own image is gone from the path
//! and what runs afterwards is the new file.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use super::daemon::Daemon;
use super::{wait_until, PATIENCE};

/// Installs a new build at the daemon's binary path: a copy renamed over it.
pub fn install_new_build(daemon: &Daemon) {
    install_file(
        daemon.binary_path(),
        &std::fs::read(env!("CARGO_BIN_EXE_ptyhub")).unwrap(),
    );
}

/// Puts `contents` at `path` as a new executable file, renamed into place.
pub fn install_file(path: &Path, contents: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let staged = path.with_extension("staged");
    std::fs::write(&staged, contents).unwrap();
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

/// Runs a ptyhub client command against `daemon` with the given binary.
pub fn ptyhub(binary: &Path, daemon: &Daemon, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .arg("--state-dir")
        .arg(&daemon.state_dir)
        .output()
        .expect("run ptyhub")
}

/// `GET /ptyhub/api/daemon`, or `None` while the daemon does not answer (mid-exec).
pub fn daemon_status(daemon: &Daemon) -> Option<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut response = agent
        .get(&format!(
            "http://127.0.0.1:{}/ptyhub/api/daemon",
            daemon.port
        ))
        .header("Authorization", format!("Bearer {}", daemon.token))
        .call()
        .ok()?;
    if response.status().as_u16() != 200 {
        return None;
    }
    serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()
}

/// Waits until the daemon has handed over `count` times in all; returns its status then.
pub async fn wait_for_handovers(daemon: &Daemon, count: u64) -> Value {
    let mut last = None;
    wait_until(&format!("handover number {count}"), PATIENCE, || {
        last = daemon_status(daemon);
        last.as_ref()
            .is_some_and(|status| status["handovers"].as_u64() == Some(count))
    })
    .await;
    last.unwrap()
}
