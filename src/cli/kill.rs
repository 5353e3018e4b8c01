//! `ptyhub kill`: end a session's process, like `tmux kill-session`.
//!
//! `terminal.kill` has no reply, so the command asks the daemon to confirm
//! it handled the kill (a `ping` behind it), then watches the session list
//! until the process has exited — the daemon escalates from SIGHUP to
//! SIGKILL within its `kill_grace_ms`.

use std::time::{Duration, Instant};

use clap::Args;

use super::api_client::ApiClient;
use super::client_runtime;
use super::endpoint::DaemonArgs;
use super::protocol_client::ProtocolClient;
use super::target;
use super::wire::ClientMessage;

/// Longest wait for the process to exit (beyond any sane `kill_grace_ms`).
const EXIT_DEADLINE: Duration = Duration::from_secs(60);
const EXIT_POLL_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The terminal: its id, its session's id, or a unique prefix.
    pub target: String,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: KillArgs) -> anyhow::Result<()> {
    let endpoint = args.daemon.locate()?;
    let api = ApiClient::new(&endpoint);
    let records = api.sessions()?;
    let record = target::resolve(&records, &args.target)?;
    let terminal_id = record.terminal_id.clone();
    if record.status != "running" {
        println!(
            "{terminal_id} had already exited{}",
            exit_note(record.exit_code)
        );
        return Ok(());
    }
    client_runtime()?.block_on(async {
        let mut client = ProtocolClient::connect(&endpoint).await?;
        let killed = client
            .send_and_sync(
                &terminal_id,
                &[ClientMessage::Kill {
                    terminal_id: &terminal_id,
                }],
            )
            .await;
        client.close().await;
        killed
    })?;
    let deadline = Instant::now() + EXIT_DEADLINE;
    loop {
        let records = api.sessions()?;
        let exited = records
            .iter()
            .find(|r| r.terminal_id == terminal_id)
            .is_none_or(|r| r.status != "running");
        if exited {
            let code = records
                .iter()
                .find(|r| r.terminal_id == terminal_id)
                .and_then(|r| r.exit_code);
            println!("killed {terminal_id}{}", exit_note(code));
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{terminal_id} is still running {EXIT_DEADLINE:?} after the kill; its process may ignore signals"
        );
        std::thread::sleep(EXIT_POLL_INTERVAL);
    }
}

fn exit_note(code: Option<i32>) -> String {
    code.map(|code| format!(" (exit code {code})"))
        .unwrap_or_default()
}
