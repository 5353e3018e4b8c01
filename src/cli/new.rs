//! `ptyhub new`: start a session, like `tmux new -d` (or `tmux new` with
//! `--attach`): a provider's program, or any command after `--`, with a
//! name (`-s`) usable wherever an id is. `--resume <sessionId>` resumes an
//! agent's session (or finds the terminal that already runs it).

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::server::api::NewSession;

use super::api_client::ApiClient;
use super::attach::{self, AttachKeys};
use super::client_runtime;
use super::endpoint::DaemonArgs;
use super::protocol_client::ProtocolClient;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What to run: shell, claude, codex, opencode, or a provider from the daemon's config.
    #[arg(long, default_value = "shell")]
    pub mode: String,
    /// Working directory of the session; must exist [default: the current directory].
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<std::path::PathBuf>,
    /// A name for the session, usable wherever an id is (as tmux's -s).
    #[arg(short = 's', long = "name", value_name = "NAME")]
    pub name: Option<String>,
    /// Resume this session of the mode's provider, e.g. `--mode claude --resume <uuid>`.
    #[arg(long, value_name = "SESSION_ID", conflicts_with = "command")]
    pub resume: Option<String>,
    /// Attach to the new session instead of printing its id.
    #[arg(long)]
    pub attach: bool,
    #[command(flatten)]
    pub keys: AttachKeys,
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// A command to run instead of the mode's program, as its words (never through a shell),
    /// e.g. `ptyhub new -- htop`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let endpoint = args.daemon.locate()?;
    if args.attach {
        // Before the session exists, not after.
        attach::require_terminal()?;
    }
    let detach_key = args.keys.resolve()?;
    let cwd = match &args.cwd {
        Some(dir) => Some(
            std::path::absolute(dir)
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
    let what = match args.command.first() {
        Some(program) => program.clone(),
        None => format!("a {} session", args.mode),
    };
    let command = (!args.command.is_empty()).then(|| args.command.clone());
    let record = ApiClient::new(&endpoint)
        .create(&NewSession {
            mode: Some(args.mode.clone()),
            cwd,
            command,
            title: args.name.clone(),
            session_id: args.resume.clone(),
        })
        .with_context(|| format!("cannot start {what}"))?;
    if !args.attach {
        println!("{}", record.terminal_id);
        return Ok(ExitCode::SUCCESS);
    }
    client_runtime()?.block_on(async {
        let client = ProtocolClient::connect(&endpoint).await?;
        attach::attach(client, &endpoint, &record.terminal_id, &detach_key, false).await
    })
}
