//! Driving tmux (Debian's package) the way its users run it: a server holding the child in
//! a pane, and each viewer a `tmux attach` client on a terminal of its own.
//!
//! The clients run on PTYs this benchmark opens and reads (the issue suggested `script`;
//! reading the PTY directly measures the same bytes without a copying process per client).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use crate::procfs;
use crate::pty::Pty;

pub struct Tmux {
    socket: String,
    conf: PathBuf,
    marker: String,
    pub server_pid: u32,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts a server whose session `bench` runs `argv` in its first pane, 120×40, no status
    /// line, panes kept after their process exits, `history_lines` of scrollback.
    pub fn start(argv: &[String], history_lines: usize) -> anyhow::Result<Tmux> {
        let dir = tempfile::Builder::new()
            .prefix("ptyhub-bench-tmux-")
            .tempdir()?;
        let conf = dir.path().join("tmux.conf");
        std::fs::write(
            &conf,
            format!(
                "set -g status off\nset -g remain-on-exit on\nset -g history-limit {history_lines}\nset -g escape-time 0\n"
            ),
        )?;
        let (key, value) = procfs::fresh_marker();
        let socket = format!("ptyhub-bench-{}", &value[..12]);
        let mut tmux = Tmux {
            socket,
            conf,
            marker: format!("{key}={value}"),
            server_pid: 0,
            _dir: dir,
        };
        let status = tmux
            .command()
            .env(key, value)
            .args(["new-session", "-d", "-s", "bench", "-x"])
            .arg(crate::streams::COLS.to_string())
            .arg("-y")
            .arg(crate::streams::ROWS.to_string())
            .args(argv)
            .status()
            .context("running tmux")?;
        anyhow::ensure!(status.success(), "tmux new-session failed");
        let pid = tmux.query("#{pid}")?;
        tmux.server_pid = pid.trim().parse().context("tmux server pid")?;
        Ok(tmux)
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command
            .arg("-L")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.conf);
        command
    }

    fn query(&self, format: &str) -> anyhow::Result<String> {
        let out = self
            .command()
            .args(["display-message", "-p", "-t", "bench", format])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The pane's visible text.
    pub fn capture(&self) -> anyhow::Result<String> {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-t", "bench"])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs one tmux command line (e.g. a batch of `new-window`s joined with `;`).
    pub fn run(&self, args: &[String]) -> anyhow::Result<()> {
        let status = self.command().args(args).status()?;
        anyhow::ensure!(status.success(), "tmux {args:?} failed");
        Ok(())
    }

    /// Starts one `tmux attach` client on its own PTY.
    pub fn attach_client(&self) -> anyhow::Result<Pty> {
        let mut command = self.command();
        command
            .args(["attach", "-t", "bench"])
            .env("TERM", "xterm-256color");
        Pty::spawn(command)
    }

    /// Waits until `client` has drawn something (it is attached and painted the screen).
    pub async fn wait_drawn(client: &Pty) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while client.bytes() == 0 {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .command()
            .arg("kill-server")
            .stderr(std::process::Stdio::null())
            .status();
        std::thread::sleep(Duration::from_millis(50));
        procfs::kill(self.server_pid, libc::SIGKILL);
        procfs::kill_marked(&self.marker);
    }
}
