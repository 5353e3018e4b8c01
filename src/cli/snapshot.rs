//! `ptyhub snapshot`: print a session's current screen, like `tmux capture-pane -p`.

use std::io::Write;

use clap::Args;

use super::api_client::ApiClient;
use super::endpoint::DaemonArgs;
use super::live_target::is_remembered_only;
use super::target;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The session: a terminal id, a session id, a name, or a unique prefix.
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
    if is_remembered_only(record) {
        anyhow::bail!(
            "{id} is a {mode} session remembered from before the daemon restarted, with no screen until it runs again: `ptyhub attach {id}` resumes it",
            id = record.terminal_id,
            mode = record.mode
        );
    }
    let mut screen = api.screen(&record.terminal_id, args.ansi)?;
    if !args.ansi && !screen.ends_with('\n') {
        screen.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(screen.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
