//! `ptyhub attach`: a running session in this terminal, as `tmux attach`
//! (a session that can be resumed is resumed first: `live_target.rs`).
//!
//! The CLI is one more viewer of the session: it attaches with a tiny
//! replay budget so the daemon sends its screen repaint instead of history
//! (the screen appears at once, however long the session has run), writes
//! output straight to the terminal while the PTY has this terminal's size,
//! and draws it clipped with a status line while it has another
//! (`view.rs`), and sends keystrokes back unchanged apart from the keys
//! after the prefix (detach, take the size). Leaving — by the detach key,
//! the session's exit, the daemon closing, a signal — always goes through
//! [`LocalTerminal`]'s restore; the session's exit ends the command with
//! the session's exit code.

mod attached_session;
mod detach_key;
mod key_settings;
mod keyboard;
mod local_terminal;
mod pty_size;
mod screen_modes;
mod signals;
mod status_line;
mod view;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use attached_session::AttachedSession;
pub use detach_key::DetachKey;
pub use key_settings::AttachKeys;
use keyboard::Keyboard;
use local_terminal::LocalTerminal;
use pty_size::PtySizes;
use signals::AttachSignals;

use super::client_runtime;
use super::endpoint::{DaemonArgs, Endpoint};
use super::live_target::live_terminal;
use super::protocol_client::{ClientError, ProtocolClient};
use super::wire::{AttachIntent, ClientMessage, ServerMessage};

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
/// session by itself and goes on after the last frame it wrote (the
/// daemon's repaint first, which is written only if output was missed).
pub async fn attach(
    mut client: ProtocolClient,
    endpoint: &Endpoint,
    terminal_id: &str,
    detach_key: &DetachKey,
    read_only: bool,
) -> anyhow::Result<ExitCode> {
    let mut signals = AttachSignals::install().context("cannot watch signals")?;
    let sizes = PtySizes::follow(endpoint, terminal_id).context("cannot follow the PTY's size")?;
    let mut local = LocalTerminal::enter()?;
    let mut keyboard = None;
    let mut session = AttachedSession::new(terminal_id, &mut local, detach_key, read_only, sizes);
    let mut attempt = 0u32;
    let ending = loop {
        attempt += 1;
        let intent = match (attempt, read_only) {
            (1, false) => AttachIntent::ViewportHydrate,
            (1, true) => AttachIntent::KeepaliveDelta,
            _ => AttachIntent::TransportReconnect,
        };
        let attached = session.send_attach(&mut client.writer, intent, false).await;
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
    session.finish();
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
