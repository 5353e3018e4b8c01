//! The command line, in tmux's habits: `serve` runs the daemon; `new`,
//! `ls`, `attach`, `snapshot`, `send` and `kill` are its clients.
//!
//! Clients find the daemon through the record it leaves in its state dir
//! (`endpoint`), read the session list and screens over HTTP
//! (`api_client`), and speak freshell's protocol for everything live
//! (`wire` for the messages, `protocol_client` for the connection). Each
//! subcommand is one file; `attach` is a folder because a terminal client
//! has several parts.

mod api_client;
mod attach;
mod endpoint;
mod kill;
mod ls;
mod new;
mod protocol_client;
mod send;
mod serve;
mod snapshot;
mod target;
mod upgrade;
mod wire;

use anyhow::Context;
use clap::{Parser, Subcommand};

use endpoint::Endpoint;

#[derive(Debug, Parser)]
#[command(
    name = "ptyhub",
    version,
    about = "One PTY per session, any number of viewers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: serve freshell's WebSocket protocol on /ws.
    Serve(serve::ServeArgs),
    /// Start a session and print its terminal id (or attach with --attach).
    New(new::NewArgs),
    /// List the daemon's terminals.
    #[command(alias = "list")]
    Ls(ls::LsArgs),
    /// Show a running session in this terminal; detach with C-b d.
    #[command(alias = "a")]
    Attach(attach::AttachArgs),
    /// Print a session's current screen.
    Snapshot(snapshot::SnapshotArgs),
    /// Type text into a session (no newline is added; see --enter).
    Send(send::SendArgs),
    /// End a session's process.
    Kill(kill::KillArgs),
    /// Execute the binary at the daemon's path in its place (after a
    /// rebuild or an update): same pid, every session and its process kept.
    Upgrade(upgrade::UpgradeArgs),
    /// Whether this binary can take over a running daemon's state (asked by
    /// the daemon before an upgrade).
    #[command(hide = true)]
    CheckHandover(upgrade::CheckHandoverArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::New(args) => new::run(args),
        Command::Ls(args) => ls::run(args),
        Command::Attach(args) => attach::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Send(args) => send::run(args),
        Command::Kill(args) => kill::run(args),
        Command::Upgrade(args) => upgrade::run(args),
        Command::CheckHandover(args) => upgrade::check_handover(args),
    }
}

/// The runtime of a client command: one thread is plenty for one socket.
fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The id of the running terminal `target` names, or why there is none.
fn running_target(endpoint: &Endpoint, target: &str) -> anyhow::Result<String> {
    let records = api_client::ApiClient::new(endpoint).sessions()?;
    let record = target::resolve(&records, target)?;
    if record.status != "running" {
        let code = record
            .exit_code
            .map(|code| format!(" with code {code}"))
            .unwrap_or_default();
        anyhow::bail!(
            "{} has exited{code}: `ptyhub snapshot {}` shows its last screen",
            record.terminal_id,
            record.terminal_id
        );
    }
    Ok(record.terminal_id.clone())
}
