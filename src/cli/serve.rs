//! `ptyhub serve`: run the daemon.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::LogFormat;
use crate::config::Config;
use crate::server::{self, ServeOptions};
use crate::state_dir::default_state_dir;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = server::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where the daemon keeps its identity and records.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Put ptyhub in front of a running freshell server at this URL (e.g.
    /// http://127.0.0.1:3002): freshell's UI is proxied, its terminals run here.
    #[arg(long, value_name = "URL")]
    pub freshell_upstream: Option<String>,
    /// How stderr's log is written: `text` for a person, `json` (one object per line) for a
    /// log collector. `RUST_LOG` filters either.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The environment `ptyhub serve` reads, shown under `serve --help`: a setting that is not on
/// the command line is otherwise found only by reading the source.
pub const ENVIRONMENT_HELP: &str = "\
Environment:
  AUTH_TOKEN               the full token (at least 16 characters); unset: one is generated
  PTYHUB_VIEW_TOKEN        the read-only token; unset: one is kept in the state dir
  PTYHUB_STATE_DIR         the state dir when --state-dir is not given
  XDG_STATE_HOME           else the state dir is $XDG_STATE_HOME/ptyhub (or ~/.local/state/ptyhub)
  RUST_LOG                 what is logged, e.g. `debug` or `ptyhub=debug` (default `info`)
  NO_COLOR                 set and not empty: no colour in the log even at a terminal
  SHELL                    the `shell` mode's program (default /bin/bash)
  CLAUDE_CMD               the `claude` mode's program when the config names none (default `claude`)
  CODEX_CMD                the `codex` mode's program when the config names none (default `codex`)
  OPENCODE_CMD             the `opencode` mode's program when the config names none (default `opencode`)
  CODEX_HOME               where codex writes its sessions, to bind a fresh codex (default ~/.codex)
  OPENCODE_CONFIG_CONTENT  merged into the config opencode gets with freshell's MCP tool
  HOME                     a session's directory when the one asked for does not exist
  LANG                     passed on to sessions; unset: they get C.UTF-8
";

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = match args.config {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    // Before any thread starts: it takes a variable out of the environment.
    let handover = crate::handover::take_from_environment()
        .context("cannot take over from the previous image of the daemon")?;
    let token = std::env::var("AUTH_TOKEN").ok().filter(|t| !t.is_empty());
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(server::serve(ServeOptions {
        listen: args.listen,
        config,
        state_dir: args.state_dir.unwrap_or_else(default_state_dir),
        token,
        freshell_upstream: args.freshell_upstream,
        handover,
    }))
}
