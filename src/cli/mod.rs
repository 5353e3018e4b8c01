//! The command line: `ptyhub serve` today; the attach client joins it later.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::server::{self, ServeOptions};
use crate::state_dir::default_state_dir;

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
    Serve {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = server::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where the daemon keeps its identity and records.
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            config,
            state_dir,
        } => {
            let config = match config {
                Some(path) => Config::load(&path)?,
                None => Config::default(),
            };
            let token = std::env::var("AUTH_TOKEN").ok().filter(|t| !t.is_empty());
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(server::serve(ServeOptions {
                listen,
                config,
                state_dir: state_dir.unwrap_or_else(default_state_dir),
                token,
            }))
        }
    }
}
