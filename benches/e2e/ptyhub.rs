//! Driving a real `ptyhub serve`: the release binary on 127.0.0.1 port 0 with its own state
//! directory and config, and a freshell v7 WebSocket client (hello, create, attach, input)
//! that counts what each viewer receives.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::procfs;
use crate::streams::{COLS, ROWS};
use crate::wire::{self, Ptyhub};

/// A provider the daemon is configured with: `mode` runs `program args…`.
pub struct Provider {
    pub mode: &'static str,
    pub program: String,
    pub args: Vec<String>,
}

impl Provider {
    /// The provider `mode` that runs `argv` (program, then its arguments).
    pub fn from_argv(mode: &'static str, argv: &[String]) -> Provider {
        Provider {
            mode,
            program: argv[0].clone(),
            args: argv[1..].to_vec(),
        }
    }
}

pub struct Daemon {
    child: Child,
    pub port: u16,
    pub token: String,
    marker: String,
    _dir: tempfile::TempDir,
}

/// The `[server]` table of every measure but the flood: room for every viewer a run opens,
/// and time for a busy machine to send hello.
const ROOMY_SERVER: &str = "[server]\nmax_connections = 5000\nhello_timeout_ms = 120000\n";

impl Daemon {
    pub fn start(providers: &[Provider]) -> anyhow::Result<Daemon> {
        Daemon::start_with_server(providers, ROOMY_SERVER)
    }

    /// Like [`Daemon::start`], with `server` as the config's `[server]` table (`""`: the
    /// defaults a user gets).
    pub fn start_with_server(providers: &[Provider], server: &str) -> anyhow::Result<Daemon> {
        let dir = tempfile::Builder::new().prefix("ptyhub-bench-").tempdir()?;
        let mut config = format!(
            r#"
{server}
[sessions]
initial_cols = {COLS}
initial_rows = {ROWS}
kill_grace_ms = 500

[limits]
max_sessions = 2000
creates_per_window = 1000000
memory_budget_mib = 100000

[reaper]
idle_timeout_ms = 0
"#
        );
        for provider in providers {
            config.push_str(&format!(
                "\n[providers.{}]\ncommand = {}\nargs = {}\n",
                provider.mode,
                toml_string(&provider.program),
                toml_array(&provider.args)
            ));
        }
        let config = with_overrides(&config)?;
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config)?;
        let state_dir = dir.path().join("state");
        std::fs::create_dir_all(&state_dir)?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        let (marker_key, marker_value) = procfs::fresh_marker();
        let log = std::fs::File::create(dir.path().join("ptyhub.log"))?;
        let mut child = Command::new(ptyhub_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config_path)
            .arg("--state-dir")
            .arg(&state_dir)
            .env("AUTH_TOKEN", &token)
            .env("RUST_LOG", "warn")
            .env(&marker_key, &marker_value)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting target/release/ptyhub")?;
        let line = first_line(
            child.stdout.take().context("stdout")?,
            Duration::from_secs(20),
        )
        .context("ptyhub printed no ready line")?;
        let port = line
            .trim()
            .strip_prefix("ptyhub ready: http://127.0.0.1:")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(port, _)| port.parse().ok())
            .with_context(|| format!("unexpected ready line {line:?}"))?;
        Ok(Daemon {
            child,
            port,
            token,
            marker: format!("{marker_key}={marker_value}"),
            _dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn connect(&self) -> anyhow::Result<Client> {
        Client::connect(self.port, &self.token).await
    }

    /// The screen as text, through the HTTP API (which also makes the model catch up).
    pub async fn screen_text(&self, terminal_id: &str) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
        let request = format!(
            "GET /ptyhub/api/sessions/{terminal_id}/screen HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.port, self.token
        );
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok(String::from_utf8_lossy(&response).into_owned())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        procfs::kill(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        procfs::kill_marked(&self.marker);
    }
}

/// The release binary cargo built beside this benchmark, or `$PTYHUB_BIN` (to measure a
/// prototype built elsewhere against the same clients).
pub fn ptyhub_binary() -> PathBuf {
    std::env::var_os("PTYHUB_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_ptyhub")),
        PathBuf::from,
    )
}

/// `config` with the TOML in `$PTYHUB_BENCH_CONFIG` merged over it, table by table (e.g.
/// `[sessions] viewer_queue_bytes = 8388608` to try a setting against the same clients).
fn with_overrides(config: &str) -> anyhow::Result<String> {
    let Ok(extra) = std::env::var("PTYHUB_BENCH_CONFIG") else {
        return Ok(config.to_owned());
    };
    fn merge(into: &mut toml::Table, from: toml::Table) {
        for (key, value) in from {
            match (into.get_mut(&key), value) {
                (Some(toml::Value::Table(table)), toml::Value::Table(more)) => merge(table, more),
                (_, value) => {
                    into.insert(key, value);
                }
            }
        }
    }
    let mut base: toml::Table = config.parse()?;
    merge(
        &mut base,
        extra.parse().context("PTYHUB_BENCH_CONFIG is not TOML")?,
    );
    Ok(toml::to_string(&base)?)
}

fn toml_string(text: &str) -> String {
    format!("{:?}", text)
}

fn toml_array(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|a| toml_string(a))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Reads the first stdout line on a thread, then keeps draining so the child never blocks.
pub fn first_line(
    stdout: impl std::io::Read + Send + 'static,
    timeout: Duration,
) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(timeout).ok().filter(|l| !l.is_empty())
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One socket that has passed hello.
pub struct Client {
    socket: Socket,
    /// Bytes of every text message received (the wire cost, envelopes included).
    pub wire_bytes: u64,
}

/// How long any single protocol step may take before the run is abandoned.
pub const STEP: Duration = Duration::from_secs(60);

impl Client {
    pub async fn connect(port: u16, token: &str) -> anyhow::Result<Client> {
        let url = format!("ws://127.0.0.1:{port}/ws");
        let (socket, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
            .await
            .context("connect timed out")??;
        let mut client = Client {
            socket,
            wire_bytes: 0,
        };
        client
            .send(&json!({
                "type": "hello",
                "protocolVersion": 7,
                "token": token,
                "capabilities": {"terminalOutputBatchV1": false},
            }))
            .await?;
        client.until_type("terminal.inventory").await?;
        Ok(client)
    }

    pub async fn send(&mut self, message: &Value) -> anyhow::Result<()> {
        self.socket.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    /// The next text message; `None` once the socket is closed.
    pub async fn next_text(&mut self) -> Option<String> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => {
                    self.wire_bytes += text.len() as u64;
                    return Some(text.as_str().to_owned());
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads until a message of type `kind`, which is returned parsed.
    pub async fn until_type(&mut self, kind: &str) -> anyhow::Result<Value> {
        self.until(kind, |m| m["type"] == kind).await
    }

    pub async fn until(
        &mut self,
        what: &str,
        mut wanted: impl FnMut(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let text = tokio::time::timeout_at(deadline, self.next_text())
                .await
                .with_context(|| format!("waiting for {what}"))?
                .with_context(|| format!("socket closed waiting for {what}"))?;
            if let Ptyhub::Other(value) = wire::ptyhub(&text) {
                if value["type"] == "error" {
                    anyhow::bail!("ptyhub error while waiting for {what}: {value}");
                }
                if wanted(&value) {
                    return Ok(value);
                }
            }
        }
    }

    /// Creates a terminal of `mode`; returns its terminalId.
    pub async fn create(&mut self, mode: &str) -> anyhow::Result<String> {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        self.send(&json!({"type": "terminal.create", "requestId": request_id, "mode": mode}))
            .await?;
        let created = self
            .until("terminal.created", |m| {
                m["type"] == "terminal.created" && m["requestId"] == request_id.as_str()
            })
            .await?;
        created["terminalId"]
            .as_str()
            .map(str::to_owned)
            .context("terminal.created without terminalId")
    }

    /// Sends `terminal.attach` (viewport hydrate from seq 0); returns the attachRequestId.
    pub async fn send_attach(&mut self, terminal_id: &str) -> anyhow::Result<String> {
        let id = format!("pane{}:bench", uuid::Uuid::new_v4().simple());
        self.send(&json!({
            "type": "terminal.attach",
            "terminalId": terminal_id,
            "intent": "viewport_hydrate",
            "sinceSeq": 0,
            "cols": COLS,
            "rows": ROWS,
            "attachRequestId": id,
        }))
        .await?;
        Ok(id)
    }

    /// Attaches and waits for `terminal.attach.ready`, which is returned.
    pub async fn attach(&mut self, terminal_id: &str) -> anyhow::Result<Value> {
        self.send_attach(terminal_id).await?;
        self.until_type("terminal.attach.ready").await
    }

    pub async fn input(&mut self, terminal_id: &str, data: &str) -> anyhow::Result<()> {
        self.send(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": data}))
            .await
    }
}

/// What one viewer received during a throughput run.
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewerTally {
    /// Output bytes delivered as the child wrote them.
    pub raw_bytes: u64,
    /// Bytes of screen repaints that stood in for skipped output.
    pub repaint_bytes: u64,
    pub gaps: u64,
    pub wire_bytes: u64,
    /// Seconds from the go signal to the last output message.
    pub seconds: f64,
    pub exited: bool,
}

/// Reads one viewer's messages until `terminal.exit` (or the socket closes), counting.
pub async fn tally_until_exit(mut client: Client, go: Instant) -> ViewerTally {
    let mut tally = ViewerTally::default();
    let mut repaint_next = false;
    let mut last_output = go;
    while let Some(text) = client.next_text().await {
        match wire::ptyhub(&text) {
            Ptyhub::Output { escaped, .. } => {
                let len = wire::unescaped_len(escaped) as u64;
                if std::mem::take(&mut repaint_next) {
                    tally.repaint_bytes += len;
                } else {
                    tally.raw_bytes += len;
                }
                last_output = Instant::now();
            }
            Ptyhub::Gap => {
                tally.gaps += 1;
                repaint_next = true;
            }
            Ptyhub::Exit => {
                tally.exited = true;
                break;
            }
            Ptyhub::Other(_) => {}
        }
    }
    tally.wire_bytes = client.wire_bytes;
    tally.seconds = last_output.saturating_duration_since(go).as_secs_f64();
    tally
}

/// A temporary directory's path joined with `name`, as a string for argv.
pub fn path_arg(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}
