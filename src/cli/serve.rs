//! `ptyhub serve`: run the daemon.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

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
}

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
