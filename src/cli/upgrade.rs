//! `ptyhub upgrade`: the daemon executes the binary at its path in place
//! (after `cargo build --release`, a package update, …), keeping every
//! session, its process and every viewer's place (`crate::handover`). And
//! `ptyhub check-handover`, the question the daemon asks the new binary
//! first.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::endpoint::DaemonArgs;
use crate::server::daemon_api::{DaemonStatus, UpgradeAccepted};

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
    let endpoint = args.daemon.locate()?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let authorization = format!("Bearer {}", endpoint.token);
    let url = |path: &str| format!("{}ptyhub/api/{path}", endpoint.http_base);
    let mut response = agent
        .post(&url("upgrade"))
        .header("Authorization", &authorization)
        .send_empty()
        .with_context(|| format!("cannot reach the daemon at {}", endpoint.http_base))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    match status {
        202 => {}
        401 => anyhow::bail!("the daemon refused the token: check AUTH_TOKEN or --state-dir"),
        _ => anyhow::bail!("upgrade refused: {}", body.trim()),
    }
    let accepted: UpgradeAccepted =
        serde_json::from_str(&body).context("the daemon's answer does not read")?;
    println!("{}", accepted.verdict);
    let deadline = Instant::now() + SERVING_DEADLINE;
    loop {
        std::thread::sleep(POLL_INTERVAL);
        let now = agent
            .get(&url("daemon"))
            .header("Authorization", &authorization)
            .call()
            .ok()
            .filter(|r| r.status().as_u16() == 200)
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|text| serde_json::from_str::<DaemonStatus>(&text).ok());
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
