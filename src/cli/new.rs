//! `ptyhub new`: start a session, like `tmux new -d` (or `tmux new` with `--attach`).

use anyhow::Context;
use clap::Args;

use super::attach::{self, AttachKeys};
use super::client_runtime;
use super::endpoint::DaemonArgs;
use super::protocol_client::ProtocolClient;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What to run: shell, claude, codex, opencode, or a provider from the daemon's config.
    #[arg(long, default_value = "shell")]
    pub mode: String,
    /// Working directory of the session [default: the current directory].
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<std::path::PathBuf>,
    /// Attach to the new session instead of printing its id.
    #[arg(long)]
    pub attach: bool,
    #[command(flatten)]
    pub keys: AttachKeys,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: NewArgs) -> anyhow::Result<()> {
    let endpoint = args.daemon.locate()?;
    if args.attach {
        // Before the session exists, not after.
        attach::require_terminal()?;
    }
    let cwd = match args.cwd {
        Some(dir) => Some(
            std::path::absolute(&dir)
                .with_context(|| format!("cannot resolve --cwd {}", dir.display()))?,
        ),
        None => std::env::current_dir().ok(),
    };
    let cwd = cwd
        .map(|dir| {
            dir.into_os_string()
                .into_string()
                .map_err(|dir| anyhow::anyhow!("the directory {dir:?} is not UTF-8"))
        })
        .transpose()?;
    client_runtime()?.block_on(async {
        let mut client = ProtocolClient::connect(&endpoint).await?;
        let terminal_id = client
            .create(&args.mode, cwd.as_deref())
            .await
            .with_context(|| format!("cannot start a {} session", args.mode))?;
        if args.attach {
            attach::attach(client, &terminal_id, &args.keys, false).await
        } else {
            println!("{terminal_id}");
            client.close().await;
            Ok(())
        }
    })
}
