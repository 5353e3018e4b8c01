//! The command line, in tmux's habits: `serve` runs the daemon; `new`,
//! `ls`, `attach`, `snapshot`, `send`, `kill`, `url`, `upgrade` and `status`
//! are its clients; `service` installs it as a systemd user service;
//! `completions` and `man` describe the CLI itself.
//!
//! Clients find the daemon through the record it leaves in its state dir
//! (`endpoint`), read the session list and screens and start sessions over
//! HTTP (`api_client`), and speak freshell's protocol for everything live
//! (`wire` for the messages, `protocol_client` for the connection). Each
//! subcommand is one file; `attach` is a folder because a terminal client
//! has several parts.

mod api_client;
mod attach;
mod completions;
mod endpoint;
mod error_text;
mod key_names;
mod kill;
mod live_target;
mod log_output;
mod ls;
mod man_page;
mod new;
mod protocol_client;
mod send;
mod serve;
mod service;
mod snapshot;
mod status;
mod target;
mod upgrade;
mod url;
mod wire;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

pub use error_text::error_text;
pub use log_output::{init as init_logging, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "ptyhub",
    version = crate::build_info::LONG_VERSION,
    about = "One PTY per session, any number of viewers",
    long_about = "One PTY per session, any number of viewers.\n\n\
        `ptyhub serve` runs the daemon; the other commands are its clients, in tmux's habits. \
        Wherever a command takes a session, it takes a terminal id, a provider's session id, \
        a name given with `new -s`, or a unique prefix of an id."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: serve freshell's WebSocket protocol on /ws.
    #[command(after_help = serve::ENVIRONMENT_HELP)]
    Serve(serve::ServeArgs),
    /// Start a session (or resume one with --resume) and print its terminal id.
    New(new::NewArgs),
    /// List the daemon's terminals.
    #[command(alias = "list")]
    Ls(ls::LsArgs),
    /// Show a session in this terminal (resuming it if it can be); detach with C-\ d,
    /// take the PTY's size with C-\ s.
    #[command(alias = "a")]
    Attach(attach::AttachArgs),
    /// Print a session's current screen.
    Snapshot(snapshot::SnapshotArgs),
    /// Type keys into a session, as `tmux send-keys` (resuming it if it can be).
    Send(send::SendArgs),
    /// End a session's process.
    Kill(kill::KillArgs),
    /// Print a new link that opens the web client (links work once, for minutes).
    Url(url::UrlArgs),
    /// Execute the binary at the daemon's path in its place (after a
    /// rebuild or an update): same pid, every session and its process kept.
    Upgrade(upgrade::UpgradeArgs),
    /// Whether the daemon runs, which build, since when, and what it holds
    /// (exit 0 when it runs, 1 when not).
    Status(status::StatusArgs),
    /// Run the daemon as a systemd user service: install, uninstall, status.
    Service(service::ServiceArgs),
    /// Whether this binary can take over a running daemon's state (asked by
    /// the daemon before an upgrade).
    #[command(hide = true)]
    CheckHandover(upgrade::CheckHandoverArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), e.g. `ptyhub man | man -l -`.
    Man(man_page::ManArgs),
}

impl Cli {
    /// How this command logs: `serve` says; the clients log little, as text.
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            Command::Serve(args) => args.log_format,
            _ => LogFormat::Text,
        }
    }
}

/// Runs one command; the exit code is the command's answer (`attach` ends
/// with its session's exit code, as tmux's client does not but `docker
/// attach` does).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let done = |()| ExitCode::SUCCESS;
    match cli.command {
        Command::Serve(args) => serve::run(args).map(done),
        Command::New(args) => new::run(args),
        Command::Ls(args) => ls::run(args).map(done),
        Command::Attach(args) => attach::run(args),
        Command::Snapshot(args) => snapshot::run(args).map(done),
        Command::Send(args) => send::run(args).map(done),
        Command::Kill(args) => kill::run(args).map(done),
        Command::Url(args) => url::run(args).map(done),
        Command::Upgrade(args) => upgrade::run(args).map(done),
        Command::Status(args) => status::run(args),
        Command::Service(args) => service::run(args),
        Command::CheckHandover(args) => upgrade::check_handover(args).map(done),
        Command::Completions(args) => completions::run(args).map(done),
        Command::Man(args) => man_page::run(args).map(done),
    }
}

/// The runtime of a client command: one thread is plenty for one socket.
fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
