//! A config value outside its range stops `ptyhub serve` at start with one line naming the
//! key, the value and what is allowed, as an unknown key does.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXIT_DEADLINE: Duration = Duration::from_secs(20);

#[test]
fn a_share_out_of_range_stops_the_daemon_naming_key_value_and_range() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[limits]\nmemory_budget_share = 7.5\n").expect("write config");
    let state_dir = dir.path().join("state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ptyhub"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(&state_dir)
        .env("AUTH_TOKEN", uuid::Uuid::new_v4().simple().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ptyhub starts");
    let deadline = Instant::now() + EXIT_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ptyhub served with memory_budget_share = 7.5 instead of refusing it");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "it printed a ready line");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("ptyhub: invalid config file "))
        .unwrap_or_else(|| panic!("no config error on stderr: {stderr}"));
    assert!(
        line.ends_with(
            "limits.memory_budget_share = 7.5 is out of range: a share in (0, 1], e.g. 0.75"
        ),
        "{line}"
    );
}
