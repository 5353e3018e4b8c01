//! `ptyhub status` and `ptyhub --version`, run as a user runs them: the real binary against a
//! real daemon found through its state dir. Up is exit 0 with the daemon's pid, build and
//! sessions; no daemon is exit 1 with a line that says so, as `systemctl status` and
//! `tmux has-session` answer scripts.

mod common;

use common::cli::{new_session, ptyhub, ptyhub_in, PTYHUB};
use common::procs::kill_hard;
use common::Daemon;
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_names_the_git_revision() {
    let output = std::process::Command::new(PTYHUB)
        .arg("--version")
        .output()
        .expect("run ptyhub --version");
    assert!(output.status.success());
    let printed = text(&output.stdout);
    let expected_start = format!("ptyhub {} (", env!("CARGO_PKG_VERSION"));
    assert!(
        printed.starts_with(&expected_start) && printed.trim_end().ends_with(')'),
        "`ptyhub --version` printed {printed:?}"
    );
    // A short hash, `-dirty` after it when the tree had changes; `unknown` only outside git.
    let revision = printed.trim_end()[expected_start.len()..].trim_end_matches(')');
    let hash = revision.trim_end_matches("-dirty");
    assert!(
        hash == "unknown" || (hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit())),
        "not a revision: {revision:?}"
    );
}

#[test]
fn status_shows_the_running_daemon_and_its_sessions() {
    let daemon = Daemon::start("");
    new_session(&daemon, &["--mode", "shell"]);

    let output = ptyhub(&daemon, &["status"]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "status failed ({}): {stdout}{}",
        output.status,
        text(&output.stderr)
    );
    let pid = daemon.pid().expect("the daemon runs");
    assert!(stdout.contains("ptyhub is running at "), "{stdout}");
    assert!(stdout.contains(&format!("pid:      {pid}\n")), "{stdout}");
    assert!(
        stdout.contains(&format!("version:  {} (", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(stdout.contains("sessions: 1 running\n"), "{stdout}");
    assert!(stdout.contains("viewers:  0\n"), "{stdout}");
    assert!(stdout.contains("memory:   daemon "), "{stdout}");

    let output = ptyhub(&daemon, &["status", "--json"]);
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).expect("status --json is JSON");
    assert_eq!(json["running"], true, "{json}");
    assert_eq!(json["pid"], pid, "{json}");
    assert_eq!(json["runningSessions"], 1, "{json}");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"), "{json}");
    assert!(
        json["revision"].as_str().is_some_and(|r| !r.is_empty()),
        "{json}"
    );
    assert!(
        json["memoryBytes"].as_u64().is_some_and(|b| b > 0),
        "{json}"
    );
    assert!(json["uptimeSeconds"].as_u64().is_some(), "{json}");
}

#[test]
fn status_exits_1_with_a_clear_line_once_the_daemon_has_stopped() {
    let mut daemon = Daemon::start("");
    let state_dir = daemon.state_dir.clone();
    assert!(ptyhub(&daemon, &["status"]).status.success());
    daemon.stop();

    let stdout = status_of_a_daemon_that_is_down(&state_dir);
    assert!(
        stdout.starts_with("ptyhub is not running: no daemon found"),
        "{stdout}"
    );

    let output = ptyhub_in(&state_dir, &["status", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).expect("status --json is JSON");
    assert_eq!(json["running"], false, "{json}");
}

#[test]
fn status_exits_1_when_the_recorded_daemon_was_killed() {
    let mut daemon = Daemon::start("");
    let pid = daemon.pid().expect("the daemon runs");
    // SIGKILL: no shutdown, so daemon.json still names the dead pid.
    kill_hard(pid);
    let state_dir = daemon.state_dir.clone();
    common::cli::poll("the killed daemon is gone", || {
        if common::process_is_alive(pid) {
            Err(format!("pid {pid} alive"))
        } else {
            Ok(())
        }
    });
    let stdout = status_of_a_daemon_that_is_down(&state_dir);
    assert!(
        // Not reaped yet, the killed daemon is a zombie: "not answering" then, "not
        // running" once it is gone; either way exit 1 and its pid named.
        stdout.starts_with("ptyhub is not ") && stdout.contains(&format!("pid {pid}")),
        "{stdout}"
    );
    daemon.stop();
}

/// What `ptyhub status` prints for a state dir whose daemon is down, after checking it
/// exits 1.
fn status_of_a_daemon_that_is_down(state_dir: &std::path::Path) -> String {
    let output = ptyhub_in(state_dir, &["status"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        text(&output.stderr)
    );
    stdout
}
