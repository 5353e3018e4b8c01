//! `ptyhub attach`: a running session in this terminal, as `tmux attach`
//! (a session that can be resumed is resumed first: `live_target.rs`).
//!
//! The CLI is one more viewer of the session: it attaches with a tiny
//! replay budget so the daemon sends its screen repaint instead of history
//! (the screen appears at once, however long the session has run), writes
//! output straight to the terminal, and sends keystrokes back unchanged
//! apart from the detach key. Leaving — by the detach key, the session's
//! exit, the daemon closing, a signal — always goes through
//! [`LocalTerminal`]'s restore; the session's exit ends the command with
//! the session's exit code.

mod detach_key;
mod key_settings;
mod keyboard;
mod local_terminal;
mod screen_modes;
mod signals;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::session::Utf8Stream;
pub use detach_key::DetachKey;
use detach_key::DetachKeyFilter;
pub use key_settings::AttachKeys;
use keyboard::Keyboard;
use local_terminal::LocalTerminal;
use signals::{AttachSignal, AttachSignals};

use super::client_runtime;
use super::endpoint::{DaemonArgs, Endpoint};
use super::live_target::live_terminal;
use super::protocol_client::{ClientError, MessageWriter, ProtocolClient};
use super::wire::{AttachIntent, ClientMessage, ServerMessage};

/// `maxReplayBytes` of every attach: smaller than any frame, so any history
/// is replaced by one repaint of the current screen.
const ATTACH_REPLAY_BUDGET_BYTES: u64 = 1;
/// How long a detach waits for the daemon's acknowledgement.
const DETACH_ACK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The session: a terminal id, a session id (e.g. a claude session's), a name, or a
    /// unique prefix. A session that can be resumed (see `ptyhub ls`) is resumed.
    pub target: String,
    /// Watch only: keys are not sent and the window size is left alone
    /// (the detach key still works).
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub keys: AttachKeys,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: AttachArgs) -> anyhow::Result<ExitCode> {
    let endpoint = args.daemon.locate()?;
    let detach_key = args.keys.resolve()?;
    let terminal_id = live_terminal(&endpoint, &args.target)?;
    client_runtime()?.block_on(async {
        let client = ProtocolClient::connect(&endpoint).await?;
        attach(client, &endpoint, &terminal_id, &detach_key, args.read_only).await
    })
}

/// How an attach ended.
enum Ending {
    Detached,
    Exited(i32),
    Signal(&'static str),
    KeyboardClosed,
    LocalTerminalGone(std::io::Error),
    DaemonLost(ClientError),
    Refused { code: String, message: String },
}

/// Attaches `client` to `terminal_id` until the user detaches or the session
/// ends; a session's exit ends the command with the session's exit code.
/// When the daemon closes the socket because it is upgrading in place
/// (close 4009, "Server restarting"), the attach comes back to the same
/// session by itself and goes on from the last frame it wrote.
pub async fn attach(
    mut client: ProtocolClient,
    endpoint: &Endpoint,
    terminal_id: &str,
    detach_key: &DetachKey,
    read_only: bool,
) -> anyhow::Result<ExitCode> {
    let mut signals = AttachSignals::install().context("cannot watch signals")?;
    let mut local = LocalTerminal::enter()?;
    let mut keyboard = None;
    let mut session = AttachedSession {
        terminal_id,
        attach_request_id: String::new(),
        read_only,
        local: &mut local,
        last_seq: 0,
        keys: DetachKeyFilter::new(detach_key.clone()),
        text: Utf8Stream::new(),
    };
    let mut attempt = 0u32;
    let ending = loop {
        attempt += 1;
        session.attach_request_id =
            format!("ptyhub-cli-{}:{attempt}", uuid::Uuid::new_v4().simple());
        let (cols, rows) = session.local.size();
        let intent = match (attempt, read_only) {
            (1, false) => AttachIntent::ViewportHydrate,
            (1, true) => AttachIntent::KeepaliveDelta,
            _ => AttachIntent::TransportReconnect,
        };
        let attached = client
            .writer
            .send(&ClientMessage::Attach {
                terminal_id,
                intent,
                cols,
                rows,
                since_seq: session.last_seq,
                attach_request_id: &session.attach_request_id,
                max_replay_bytes: ATTACH_REPLAY_BUDGET_BYTES,
            })
            .await;
        let ending = match attached {
            Err(err) => Ending::DaemonLost(err),
            Ok(()) => {
                let keyboard = match &mut keyboard {
                    Some(keyboard) => keyboard,
                    None => keyboard.insert(Keyboard::start().context("cannot read the keyboard")?),
                };
                session.run(&mut client, keyboard, &mut signals).await
            }
        };
        if !ending.is_daemon_restart() {
            break ending;
        }
        match reconnect(endpoint).await {
            Ok(again) => client = again,
            Err(err) => break Ending::DaemonLost(err),
        }
    };
    drop(session);
    if matches!(
        ending,
        Ending::Detached
            | Ending::Signal(_)
            | Ending::KeyboardClosed
            | Ending::LocalTerminalGone(_)
    ) {
        detach(&mut client, terminal_id).await;
    }
    client.close().await;
    drop(local);
    match ending {
        Ending::Detached => say(&format!("[detached (from terminal {terminal_id})]")),
        Ending::Exited(code) => {
            say(&format!("[exited with code {code}]"))?;
            // Codes outside 0..=255 (none from a Unix child) read as a failure.
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Ending::KeyboardClosed => say("[detached (the keyboard closed)]"),
        Ending::Signal(name) => anyhow::bail!("detached: received {name}"),
        Ending::LocalTerminalGone(err) => {
            anyhow::bail!("detached: cannot write to the terminal: {err}")
        }
        Ending::DaemonLost(err) => {
            Err(anyhow::Error::new(err).context("detached: lost the daemon"))
        }
        Ending::Refused { code, message } => {
            anyhow::bail!("cannot attach to {terminal_id}: {message} ({code})")
        }
    }
}

/// How long an attach waits for a daemon that is upgrading in place to
/// serve again (it takes well under a second).
const RESTART_WAIT: Duration = Duration::from_secs(10);

/// Connects again to a daemon that closed the socket to upgrade in place.
async fn reconnect(endpoint: &Endpoint) -> Result<ProtocolClient, ClientError> {
    let deadline = tokio::time::Instant::now() + RESTART_WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match ProtocolClient::connect(endpoint).await {
            Ok(client) => return Ok(client),
            Err(err) if tokio::time::Instant::now() >= deadline => return Err(err),
            Err(_) => {}
        }
    }
}

impl Ending {
    /// The daemon closed the socket to upgrade in place and comes back at once.
    fn is_daemon_restart(&self) -> bool {
        matches!(
            self,
            Ending::DaemonLost(ClientError::Closed { code: Some(4009), reason })
                if reason.contains("restarting")
        )
    }
}

/// Prints the closing line; the terminal may be gone already (SIGHUP), so
/// a failed write is not an error.
fn say(line: &str) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    Ok(ExitCode::SUCCESS)
}

/// Fails unless stdin and stdout are a terminal, before anything is started.
pub fn require_terminal() -> anyhow::Result<()> {
    Ok(LocalTerminal::check()?)
}

/// Sends `terminal.detach` and waits briefly for the acknowledgement; the
/// session runs on either way.
async fn detach(client: &mut ProtocolClient, terminal_id: &str) {
    let acknowledged = async {
        client
            .writer
            .send(&ClientMessage::Detach { terminal_id })
            .await?;
        loop {
            if let ServerMessage::Detached { terminal_id: done } = client.reader.next().await? {
                if done == terminal_id {
                    return Ok::<(), ClientError>(());
                }
            }
        }
    };
    let _ = tokio::time::timeout(DETACH_ACK_TIMEOUT, acknowledged).await;
}

/// The state of one attach while it runs.
struct AttachedSession<'a> {
    terminal_id: &'a str,
    /// This attach's id (a new one for each reconnect).
    attach_request_id: String,
    read_only: bool,
    local: &'a mut LocalTerminal,
    /// Highest seq written; frames at or below it are not written twice.
    last_seq: u64,
    keys: DetachKeyFilter,
    /// Typed bytes as text: `terminal.input` carries a JSON string, and a
    /// read can end inside a multi-byte character (a large paste).
    text: Utf8Stream,
}

impl AttachedSession<'_> {
    async fn run(
        &mut self,
        client: &mut ProtocolClient,
        keyboard: &mut Keyboard,
        signals: &mut AttachSignals,
    ) -> Ending {
        loop {
            let step = tokio::select! {
                message = client.reader.next() => match message {
                    Ok(message) => self.on_message(message),
                    Err(err) => Err(Ending::DaemonLost(err)),
                },
                read = keyboard.next() => match read {
                    Some(bytes) => self.on_keys(&bytes, &mut client.writer).await,
                    None => Err(Ending::KeyboardClosed),
                },
                signal = signals.next() => match signal {
                    AttachSignal::WindowChanged => self.on_window_change(&mut client.writer).await,
                    AttachSignal::End(name) => Err(Ending::Signal(name)),
                },
            };
            if let Err(ending) = step {
                return ending;
            }
        }
    }

    fn is_mine(&self, terminal_id: &str, attach_request_id: Option<&str>) -> bool {
        terminal_id == self.terminal_id
            && attach_request_id == Some(self.attach_request_id.as_str())
    }

    fn on_message(&mut self, message: ServerMessage) -> Result<(), Ending> {
        match message {
            ServerMessage::AttachReady {
                terminal_id,
                head_seq,
                attach_request_id,
            } if self.is_mine(&terminal_id, attach_request_id.as_deref()) && head_seq == 0 => {
                // With output, a repaint follows (and clears); without, nothing would.
                self.local.clear().map_err(Ending::LocalTerminalGone)?;
            }
            ServerMessage::Output {
                terminal_id,
                seq_end,
                data,
                attach_request_id,
                ..
            } if self.is_mine(&terminal_id, attach_request_id.as_deref())
                && seq_end > self.last_seq =>
            {
                self.last_seq = seq_end;
                self.local.write(&data).map_err(Ending::LocalTerminalGone)?;
            }
            ServerMessage::Exit {
                terminal_id,
                exit_code,
            } if terminal_id == self.terminal_id => return Err(Ending::Exited(exit_code)),
            // The attach itself failed (the terminal exited or vanished meanwhile).
            ServerMessage::Error {
                code,
                message,
                request_id: Some(request_id),
                ..
            } if request_id == self.attach_request_id.as_str() => {
                return Err(Ending::Refused { code, message });
            }
            // Other errors answer keys or a resize sent while the session was
            // exiting; its `terminal.exit` follows and ends the attach. Gaps
            // are followed by a repaint. The rest concerns other terminals.
            _ => {}
        }
        Ok(())
    }

    async fn on_keys(&mut self, bytes: &[u8], writer: &mut MessageWriter) -> Result<(), Ending> {
        let filtered = self.keys.feed(bytes);
        if !self.read_only && !filtered.forward.is_empty() {
            let data = self.text.decode(&filtered.forward);
            if !data.is_empty() {
                writer
                    .send(&ClientMessage::Input {
                        terminal_id: self.terminal_id,
                        data: &data,
                    })
                    .await
                    .map_err(Ending::DaemonLost)?;
            }
        }
        if filtered.detach {
            return Err(Ending::Detached);
        }
        Ok(())
    }

    async fn on_window_change(&mut self, writer: &mut MessageWriter) -> Result<(), Ending> {
        if self.read_only {
            return Ok(());
        }
        let (cols, rows) = self.local.size();
        writer
            .send(&ClientMessage::Resize {
                terminal_id: self.terminal_id,
                cols,
                rows,
            })
            .await
            .map_err(Ending::DaemonLost)
    }
}
