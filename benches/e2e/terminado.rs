//! Driving terminado (PyPI; Jupyter's terminal backend), installed by
//! `benches/compare/setup-terminado.sh` into its own virtualenv and served by
//! `benches/compare/terminado_app.py`, with a WebSocket client for its JSON-array protocol.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::procfs;
use crate::streams::{COLS, ROWS};

/// Which terminado manager serves the sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    /// One process per terminal name, shared by every socket naming it.
    Named,
    /// One process per socket, as ttyd and gotty do.
    Unique,
}

impl Manager {
    fn arg(self) -> &'static str {
        match self {
            Manager::Named => "named",
            Manager::Unique => "unique",
        }
    }
}

/// Installs terminado (once) and returns the virtualenv's python.
pub fn setup(venv: &Path) -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/compare/setup-terminado.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(venv)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run setup-terminado.sh: {e}"))?;
    if !out.status.success() {
        return Err("setup-terminado.sh failed (is PyPI reachable?)".into());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

pub struct Terminado {
    child: Child,
    pub port: u16,
    marker: String,
}

impl Terminado {
    pub fn start(python: &Path, manager: Manager, argv: &[String]) -> anyhow::Result<Terminado> {
        let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/compare/terminado_app.py");
        let (key, value) = procfs::fresh_marker();
        let mut child = Command::new(python)
            .arg(app)
            .arg(manager.arg())
            .arg(serde_json::to_string(argv)?)
            .env(&key, &value)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting terminado_app.py")?;
        let line = crate::ptyhub::first_line(
            child.stdout.take().context("stdout")?,
            Duration::from_secs(20),
        )
        .context("terminado printed no ready line")?;
        let port = line
            .trim()
            .strip_prefix("terminado ready: ")
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("unexpected terminado line {line:?}"))?;
        Ok(Terminado {
            child,
            port,
            marker: format!("{key}={value}"),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Opens a socket to terminal `name` (named: created by the first socket; unique: a new
    /// process per socket), sends the benchmark's size and waits for `setup`.
    pub async fn connect(&self, name: &str) -> anyhow::Result<TermClient> {
        let url = format!("ws://127.0.0.1:{}/ws/{name}", self.port);
        let (socket, _) = tokio::time::timeout(
            Duration::from_secs(60),
            tokio_tungstenite::connect_async(url),
        )
        .await
        .context("terminado connect timed out")??;
        let mut client = TermClient { socket };
        client.send(&json!(["set_size", ROWS, COLS])).await?;
        Ok(client)
    }
}

impl Drop for Terminado {
    fn drop(&mut self) {
        let children = procfs::descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in children {
            procfs::kill(pid, libc::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while !procfs::processes_with_env(&self.marker).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        procfs::kill_marked(&self.marker);
    }
}

pub struct TermClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl TermClient {
    pub async fn send(&mut self, message: &serde_json::Value) -> anyhow::Result<()> {
        self.socket.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    pub async fn input(&mut self, data: &str) -> anyhow::Result<()> {
        self.send(&json!(["stdin", data])).await
    }

    /// The next text message; `None` once closed.
    pub async fn next_text(&mut self) -> Option<String> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => return Some(text.as_str().to_owned()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}
