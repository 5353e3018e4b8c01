//! What a test that drives Debian's chromium through the web client's playwright-core needs,
//! and a clear reason when something is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn web_client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web-client")
}

/// Why a browser run cannot happen here, if it cannot.
pub fn missing_prerequisite() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} is not installed (apt-get install chromium)"
        ));
    }
    if !web_client_dir()
        .join("node_modules/playwright-core")
        .exists()
    {
        return Some("web-client/node_modules is missing (npm ci in web-client/)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("node is not on PATH".into()),
    }
}

/// What a browser script said: whether it exited 0, its JSON summary (its last JSON line on
/// stdout), and its check log (stderr).
pub struct ScriptRun {
    pub success: bool,
    pub summary: serde_json::Value,
    pub log: String,
}

/// Runs `node <script> [args]` in `web-client/` with `env`, killing it after `deadline`.
pub fn run_node_script(
    script: &str,
    args: &[&str],
    env: &[(&str, String)],
    deadline: std::time::Duration,
) -> ScriptRun {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::Instant;

    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(web_client_dir())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PTYHUB_CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let until = Instant::now() + deadline;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = out_reader.join().unwrap_or_default();
    let log = err_reader.join().unwrap_or_default();
    let summary = out
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .unwrap_or(serde_json::Value::Null);
    let Some(status) = status else {
        panic!("{script} took longer than {deadline:?}; its log:\n{log}");
    };
    ScriptRun {
        success: status.success(),
        summary,
        log,
    }
}
