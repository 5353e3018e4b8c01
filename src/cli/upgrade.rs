//! `ptyhub upgrade`: the daemon executes the binary at its path in place
//! (after `cargo build --release`, a package update, …), keeping every
//! session, its process and every viewer's place (`crate::handover`). And
//! `ptyhub check-handover`, the question the daemon asks the new binary
//! first.

use std::time::{Duration, Instant};

use clap::Args;

use super::api_client::{ApiClient, ApiError};
use super::endpoint::DaemonArgs;

/// Longest wait for the new image to serve (it answers within a second).
const SERVING_DEADLINE: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

#[derive(Debug, Args)]
pub struct CheckHandoverArgs {
    /// The handover format the running daemon writes.
    #[arg(long)]
    pub format: u32,
    /// A descriptor holding the handover itself, read in full (nothing is
    /// taken over): the daemon's last check before it executes this binary.
    #[arg(long)]
    pub state_fd: Option<i32>,
}

pub fn run(args: UpgradeArgs) -> anyhow::Result<()> {
    let api = ApiClient::new(&args.daemon.locate()?);
    let accepted = api.upgrade().map_err(|err| match err {
        ApiError::Refused(why) => anyhow::anyhow!("upgrade refused: {why}"),
        other => anyhow::Error::new(other),
    })?;
    println!("{}", accepted.verdict);
    let deadline = Instant::now() + SERVING_DEADLINE;
    loop {
        std::thread::sleep(POLL_INTERVAL);
        // Unanswered while the daemon executes its new image.
        let now = api.daemon_status().ok();
        if let Some(now) = now
            .as_ref()
            .filter(|now| now.handovers > accepted.before.handovers)
        {
            println!(
                "upgraded in place: ptyhub {} → {}, pid {} kept, {} running sessions kept; output waited {} ms (sessions paused to serving again)",
                accepted.before.version,
                now.version,
                now.pid,
                now.running_sessions,
                now.last_handover_ms
            );
            if now.pid != accepted.before.pid {
                anyhow::bail!(
                    "the daemon now runs as pid {} (was {}): it restarted instead of upgrading in place",
                    now.pid,
                    accepted.before.pid
                );
            }
            return Ok(());
        }
        if let Some(failure) = now.as_ref().and_then(|now| {
            (now.upgrade_failures > accepted.before.upgrade_failures)
                .then(|| now.last_upgrade_failure.clone().unwrap_or_default())
        }) {
            anyhow::bail!("upgrade refused: {failure}");
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "the daemon did not come back within {SERVING_DEADLINE:?}: its log says why; \
                 sessions it remembered are resumable after `ptyhub serve`"
            );
        }
    }
}

pub fn check_handover(args: CheckHandoverArgs) -> anyhow::Result<()> {
    let verdict = crate::handover::check_format(args.format).map_err(anyhow::Error::msg)?;
    match args.state_fd {
        None => println!("{verdict}"),
        Some(fd) => {
            let handover = crate::handover::read_carrier(fd, false)?;
            println!(
                "{verdict}: read {} sessions written by ptyhub {}",
                handover.registry.sessions.len(),
                handover.written_by
            );
        }
    }
    Ok(())
}
