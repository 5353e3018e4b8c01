//! `ptyhub snapshot`: print a session's current screen, like `tmux capture-pane -p`.

use std::io::Write;

use clap::Args;

use super::api_client::ApiClient;
use super::endpoint::DaemonArgs;
use super::target;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The terminal: its id, its session's id, or a unique prefix.
    pub target: String,
    /// Keep colours, attributes and modes as escape sequences that repaint the screen.
    #[arg(long)]
    pub ansi: bool,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<()> {
    let api = ApiClient::new(&args.daemon.locate()?);
    let records = api.sessions()?;
    let record = target::resolve(&records, &args.target)?;
    let mut screen = api.screen(&record.terminal_id, args.ansi)?;
    if !args.ansi && !screen.ends_with('\n') {
        screen.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(screen.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
